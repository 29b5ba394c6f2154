/**
 * The NASDAQ execution client: VenueCommands out as OUCH 4.2 over SoupBinTCP, OUCH answers back as
 * catalogue order events, each carrying the OUCH message in `raw: { format: 'ouch42', bytes }`.
 *
 * Identity: an order's OUCH token is derived from its orderId (12 base-62 characters of its SHA-256)
 * plus two characters counting replacements, so a token is at most 14 characters, the same every run,
 * and each replacement gets a fresh day-unique token. Event ids are name-based UUIDs of
 * (venue, session day, session, sequence number), so a replayed venue message always gives the same id.
 *
 * Quantities: OUCH shares are whole; qtyLots at qtyScale must be whole shares. Prices are rescaled
 * exactly to OUCH's 4 decimals (an inexact price is refused before sending). The shares of Replace and
 * Cancel are the order's new OPEN quantity, so total = filled + open (see sim-nasdaq.ts on this reading).
 * Mapping: IOC → TIF 0; FOK → TIF 0 with minimum quantity = shares; DAY → 99998 (market hours);
 * GTC → 99999 (system hours: OUCH has no good-till-cancel, the order ends with the system day);
 * a market order → an IOC at the extreme price ($199,999.99 to buy, $0.0001 to sell); post-only → display 'P'.
 *
 * Fail closed: when the connection drops, every order with a command the venue has not answered is
 * reported OrderStatusUnknown at once. The client reconnects and resumes at the next expected
 * sequence number, so the venue's answers (if it got the commands) arrive afterwards, in order, once.
 * `queryOrder` waits until the replay is read (the first server heartbeat after login) and answers from
 * the venue's messages; an order the venue never mentioned is 'not-found'. OUCH has no status query:
 * a command still queued unprocessed inside the venue at that moment would also read 'not-found'.
 *
 * A new session (the SoupBinTCP client saw another session id, or numbering that went back): the venue's
 * answers to what was in flight are lost with the old session. The client reports VenueSessionReset (the engine
 * halts trading, marks every working order unknown and queries it), and refuses new orders and replaces with
 * VENUE_NOT_SENT until the engine calls `reconciled()`. Orders of an earlier session are answered from the
 * drop copy (`dropCopy`, the venue's own record of the account, see drop-copy.ts); without one their queries
 * fail (VENUE_QUERY_UNAVAILABLE) and reconciliation cannot be ok, so trading stays halted.
 *
 * Not mapped to events (no catalogue type): Broken Trade, Trade Correction; they are passed to
 * `onStatus` as `unmapped`. System Event, Cancel Pending, Order Priority Update and Order Modified
 * carry no state change the catalogue knows and are skipped. Fees are not in OUCH: fills carry fee 0.
 */
import { TapedeckError, isTapedeckError } from '../../../domain/core/errors.js';
import { pow10, rescale } from '../../../domain/core/fixed.js';
import { sha256, uuidFromName } from '../../../domain/core/sha256.js';
import type { EventType, PayloadOf } from '../../../domain/events/catalog.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { VenueFill, VenueOrderReport, VenueReport } from '../../../domain/reconcile/reconcile.js';
import type { ExecutionClient, OrderStatusReport, ReconciliationRequest } from '../port.js';
import type { OuchDropCopy } from './drop-copy.js';
import { decodeVenueMessage, encodeOuch } from './ouch42/codec.js';
import {
  OUCH_MAX_PRICE_TICKS,
  OUCH_PRICE_SCALE,
  TIF_IMMEDIATE_OR_CANCEL,
  TIF_MARKET_HOURS,
  TIF_SYSTEM_HOURS,
  type EnterOrder,
  type OuchVenueMessage,
} from './ouch42/messages.js';
import { BROKEN_TRADE_REASONS, CANCEL_REASONS, REJECT_REASONS, describeCode } from './ouch42/validate.js';
import { SoupBinTcpClient, type SoupClientStatus } from './soupbintcp/client.js';

const NS_PER_DAY = 86_400_000_000_000n;
const EVENT_NAMESPACE = 'tapedeck/ouch42';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MAX_GENERATION = 62 * 62 - 1;

const MAKER_FLAGS = new Set(['A', 'J', 'k', '7', '8', 'e', 'f', 'j', 'W', 'g', '4', '5']);
const TAKER_FLAGS = new Set(['R', 'm', 'd', 'r', 't', '6']);

/** The OUCH token of an order's `generation`-th version (0 = as entered): ≤ 14 characters, deterministic. */
export function orderToken(orderId: string, generation = 0): string {
  if (!Number.isInteger(generation) || generation < 0 || generation > MAX_GENERATION) {
    throw new TapedeckError('OUCH_TOKEN', `order ${orderId}: replacement ${generation} exceeds the ${MAX_GENERATION} a token can count`, { field: 'generation' });
  }
  const h = sha256(orderId);
  let n = 0n;
  for (let i = 0; i < 9; i++) n = (n << 8n) | BigInt(h[i]!);
  let base = '';
  for (let i = 0; i < 12; i++) {
    base = BASE62[Number(n % 62n)]! + base;
    n /= 62n;
  }
  return base + BASE62[Math.floor(generation / 62)]! + BASE62[generation % 62]!;
}

export type OuchAdapterStatus =
  | SoupClientStatus
  | { kind: 'unmapped'; message: OuchVenueMessage; sequenceNumber: number; why: string }
  | { kind: 'protocolError'; error: TapedeckError; sequenceNumber: number };

export interface OuchAdapterOptions {
  venue?: string;
  host?: string;
  port: number;
  username: string;
  password: string;
  session?: string;
  /** Firm identifier in Enter Order; blank uses the account's default firm. */
  firm?: string;
  capacity?: string;
  /** Display for ordinary (not post-only) orders; default 'Y' (anonymous). */
  display?: string;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  loginTimeoutMs?: number;
  reconnect?: { delayMs: number; maxAttempts: number };
  /** How long send() waits for a reconnect in progress before refusing the command. */
  sendTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Receive clock, ns since the Unix epoch; default the wall clock. */
  clockNs?: () => bigint;
  /** Unix-epoch ns of the midnight OUCH timestamps count from; default UTC midnight of the clock at connect. */
  sessionMidnightNs?: bigint;
  /** Stream of an order's events; default `order-<orderId>`. */
  streamFor?: (orderId: string) => string;
  onStatus?: (status: OuchAdapterStatus) => void;
  /** The venue's record of the account (drop copy): answers for orders of earlier sessions, and positions. */
  dropCopy?: () => Promise<OuchDropCopy>;
}

type Awaiting = 'submit' | 'cancel' | 'replace';

interface TrackedOrder {
  orderId: string;
  command: Extract<VenueCommand, { kind: 'SubmitOrder' }>;
  enter: EnterOrder;
  generation: number;
  /** The token of the order as the venue last confirmed it. */
  token: string;
  pendingReplace: { token: string; priceTicks: number | null; qtyLots: number; ouchPrice: number } | null;
  awaiting: Awaiting[];
  /** Connection epoch in which OrderStatusUnknown was last reported. */
  unknownEpoch: number;
  state: 'pending' | 'open' | 'filled' | 'canceled' | 'rejected' | 'expired';
  venueSeen: boolean;
  venueOrderId: string | null;
  totalLots: number;
  filledLots: number;
  priceTicks: number | null;
  /** Session resets seen when it was entered: an order of an earlier session is answered from the drop copy. */
  resetEpoch: number;
}

export class OuchExecutionClient implements ExecutionClient {
  readonly venue: string;
  private readonly client: SoupBinTcpClient;
  private readonly listeners: Array<(event: AnyEnvelope) => void> = [];
  private readonly sentListeners: Array<(event: AnyEnvelope) => void> = [];
  private sentCount = 0;
  private readonly orders = new Map<string, TrackedOrder>();
  private readonly tokens = new Map<string, TrackedOrder>();
  private readonly qtyFactor = new Map<number, number>();
  private epoch = 0;
  private midnightNs: bigint | null;
  /** Session resets seen; new orders are refused while one is not reconciled. */
  private resets = 0;
  private reconciling = false;
  /** `resets` when the last reconciliation report was made: `reconciled()` after an older report changes nothing. */
  private reportResets = -1;

  constructor(private readonly options: OuchAdapterOptions) {
    this.venue = options.venue ?? 'NASDAQ';
    this.midnightNs = options.sessionMidnightNs ?? null;
    this.client = new SoupBinTcpClient(
      {
        host: options.host,
        port: options.port,
        username: options.username,
        password: options.password,
        session: options.session ?? '',
        sequenceNumber: 1,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs,
        loginTimeoutMs: options.loginTimeoutMs,
        reconnect: options.reconnect ?? { delayMs: 500, maxAttempts: 20 },
      },
      {
        onSequenced: (payload, seq) => this.venueMessage(payload, seq),
        onStatus: (s) => this.clientStatus(s),
      },
    );
  }

  /** Sequence number of the next venue message expected (for logs and tests). */
  get nextSequenceNumber(): number {
    return this.client.nextSequenceNumber;
  }

  async connect(): Promise<void> {
    if (this.midnightNs === null) {
      const now = this.now();
      this.midnightNs = now - (now % NS_PER_DAY);
    }
    await this.client.connect();
  }

  onReport(listener: (event: AnyEnvelope) => void): void {
    this.listeners.push(listener);
  }

  onSent(listener: (event: AnyEnvelope) => void): void {
    this.sentListeners.push(listener);
  }

  /** Fault injection for tests: cut the connection as the network would. */
  dropConnection(): void {
    this.client.dropConnection();
  }

  async send(command: VenueCommand): Promise<void> {
    if (command.venue !== this.venue) {
      throw new TapedeckError('VENUE_MISMATCH', `${command.kind} for venue ${command.venue} sent to the ${this.venue} OUCH client`, { field: 'venue' });
    }
    switch (command.kind) {
      case 'SubmitOrder':
        return this.submit(command);
      case 'CancelOrder': {
        const o = this.tracked(command.orderId, command.kind);
        await this.transmit({ kind: 'CancelOrder', orderToken: o.token, shares: 0 }, o, 'cancel');
        return;
      }
      case 'ReplaceOrder':
        return this.replace(command);
    }
  }

  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    const timeoutMs = this.options.queryTimeoutMs ?? 5000;
    try {
      await this.client.whenLoggedIn(timeoutMs);
      await this.client.whenCaughtUp(timeoutMs);
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY_TIMEOUT', `cannot answer for order ${orderId}: ${isTapedeckError(e) ? e.message : String(e)}; ask again later`, { field: 'orderId' });
    }
    const o = this.orders.get(orderId);
    if (o && o.resetEpoch < this.resets) {
      // Entered in an earlier session: what the venue did with it is only in its own record.
      const report = this.dropCopyReport(await this.fetchDropCopy(`order ${orderId}`));
      const r = report.orders.find((x) => x.orderId === orderId)!;
      const fills = report.fills.filter((f) => f.orderId === orderId).map((f) => ({
        fillId: f.fillId, priceTicks: f.priceTicks, qtyLots: f.qtyLots, fee: f.fee, feeScale: f.feeScale, feeCurrency: f.feeCurrency, liquidity: f.liquidity,
      }));
      return { orderId, state: r.state, filledLots: r.filledLots, leavesLots: r.leavesLots, ...(r.venueOrderId ? { venueOrderId: r.venueOrderId } : {}), fills };
    }
    if (!o || !o.venueSeen) return { orderId, state: 'not-found', filledLots: o?.filledLots ?? 0, leavesLots: 0 };
    const state = o.state === 'pending' ? 'open' : o.state;
    const leavesLots = state === 'open' ? o.totalLots - o.filledLots : 0;
    const report: OrderStatusReport & { venueOrderId?: string } = { orderId, state, filledLots: o.filledLots, leavesLots };
    if (o.venueOrderId !== null) report.venueOrderId = o.venueOrderId;
    return report;
  }

  /**
   * What the venue can report: with a drop copy, every order, execution and position of the account; without
   * one, only what this session's OUCH messages said, and no positions (reconciliation then cannot be ok).
   */
  async reconciliationReport(_request: ReconciliationRequest): Promise<VenueReport> {
    this.reportResets = this.resets;
    if (this.options.dropCopy) return this.dropCopyReport(await this.fetchDropCopy('reconciliation'));
    const orders: VenueOrderReport[] = [];
    for (const o of this.orders.values()) {
      if (o.resetEpoch < this.resets || !o.venueSeen) continue; // OUCH cannot say: leave it unreported
      const state = o.state === 'pending' ? 'open' : o.state;
      orders.push({ orderId: o.orderId, state, filledLots: o.filledLots, leavesLots: state === 'open' ? o.totalLots - o.filledLots : 0, ...(o.venueOrderId ? { venueOrderId: o.venueOrderId } : {}) });
    }
    return { venue: this.venue, orders, openOrdersComplete: false, fills: [], positions: null, positionsComplete: false };
  }

  /** The engine found the books in agreement: new orders may go out again (unless the session reset since the report). */
  reconciled(): void {
    if (this.reportResets === this.resets) this.reconciling = false;
  }

  private async fetchDropCopy(what: string): Promise<OuchDropCopy> {
    if (!this.options.dropCopy) {
      throw new TapedeckError('VENUE_QUERY_UNAVAILABLE', `${what}: the ${this.venue} session was reset and OUCH cannot report an earlier session's orders; no drop copy is configured`, { field: 'dropCopy' });
    }
    try {
      return await this.options.dropCopy();
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY_UNAVAILABLE', `${what}: the ${this.venue} drop copy could not be read: ${e instanceof Error ? e.message : String(e)}`, { field: 'dropCopy' });
    }
  }

  /** The drop copy in the ledger's terms: orders by our order id, fills with the same ids as live fills. */
  private dropCopyReport(copy: OuchDropCopy): VenueReport {
    const orders: VenueOrderReport[] = [];
    const fills: VenueFill[] = [];
    const listed = new Set<string>();
    const ours = (token: string): TrackedOrder | undefined => {
      const o = this.tokens.get(token);
      return o && o.enter.orderToken === token ? o : undefined;
    };
    for (const d of copy.orders) {
      const o = ours(d.token);
      const qs = o?.command.qtyScale ?? 0;
      const orderId = o?.orderId ?? `ouch-token:${d.token}`;
      listed.add(orderId);
      orders.push({
        orderId, state: d.state, filledLots: this.lotsFromShares(d.filledShares, qs), leavesLots: d.state === 'open' ? this.lotsFromShares(d.openShares, qs) : 0,
        ...(d.orderReferenceNumber !== null ? { venueOrderId: d.orderReferenceNumber.toString() } : {}),
      });
    }
    // The record is complete: an order it does not hold never reached the venue.
    for (const o of this.orders.values()) if (!listed.has(o.orderId)) orders.push({ orderId: o.orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
    for (const x of copy.executions) {
      const o = ours(x.token);
      const price = this.fromOuchPrice(x.priceTicks, o?.command.priceScale ?? OUCH_PRICE_SCALE);
      const qs = o?.command.qtyScale ?? 0;
      fills.push({
        fillId: `${this.venue}-${x.matchNumber}-${x.side === 'B' ? 'B' : 'S'}`, orderId: o?.orderId ?? `ouch-token:${x.token}`,
        instrument: o?.command.instrument ?? `${this.venue}:${x.stock}`, side: x.side === 'B' ? 'buy' : 'sell',
        priceTicks: price.priceTicks, priceScale: price.priceScale, qtyLots: this.lotsFromShares(x.shares, qs), qtyScale: qs,
        fee: 0n, feeScale: OUCH_PRICE_SCALE, feeCurrency: 'USD',
        liquidity: MAKER_FLAGS.has(x.liquidityFlag) ? 'maker' : TAKER_FLAGS.has(x.liquidityFlag) ? 'taker' : 'unknown',
      });
    }
    return {
      venue: this.venue, orders, openOrdersComplete: true, fills,
      positions: copy.positions.map((p) => ({ instrument: `${this.venue}:${p.stock}`, qtyLots: p.shares, qtyScale: 0 })), positionsComplete: true,
    };
  }

  async close(): Promise<void> {
    if (this.client.loggedIn) await this.client.logout();
    else await this.client.close();
  }

  // ---------- commands → OUCH ----------

  private async submit(c: Extract<VenueCommand, { kind: 'SubmitOrder' }>): Promise<void> {
    const existing = this.orders.get(c.orderId);
    if (existing) {
      // Same token again: Nasdaq ignores a token it has seen, so a resend of an unanswered order is safe.
      if (existing.state !== 'pending' || existing.venueSeen) {
        throw new TapedeckError('OUCH_DUPLICATE_ORDER', `order ${c.orderId} was already sent and answered (${existing.state})`, { field: 'orderId' });
      }
      await this.transmit(existing.enter, existing, 'submit');
      return;
    }
    const shares = this.toShares(c.qtyLots, c.qtyScale, c.orderId);
    const isMarket = c.orderType === 'market';
    const priceTicks = isMarket ? (c.side === 'buy' ? OUCH_MAX_PRICE_TICKS : 1) : this.toOuchPrice(c.priceTicks, c.priceScale, c.orderId);
    const tif = isMarket || c.timeInForce === 'IOC' || c.timeInForce === 'FOK'
      ? TIF_IMMEDIATE_OR_CANCEL
      : c.timeInForce === 'DAY' ? TIF_MARKET_HOURS : TIF_SYSTEM_HOURS;
    const token = orderToken(c.orderId, 0);
    const stock = c.instrument.slice(c.instrument.indexOf(':') + 1);
    if (stock.length === 0 || stock.length > 8) {
      throw new TapedeckError('OUCH_INSTRUMENT', `order ${c.orderId}: "${c.instrument}" does not name a NASDAQ stock of 1 to 8 characters`, { field: 'instrument' });
    }
    const enter: EnterOrder = {
      kind: 'EnterOrder', orderToken: token, side: c.side === 'buy' ? 'B' : 'S', shares, stock, priceTicks,
      timeInForceSeconds: tif, firm: this.options.firm ?? '', display: c.postOnly ? 'P' : (this.options.display ?? 'Y'),
      capacity: this.options.capacity ?? 'A', intermarketSweepEligibility: 'N',
      minimumQuantity: c.timeInForce === 'FOK' && !isMarket ? shares : 0, crossType: 'N', customerType: ' ',
    };
    const o: TrackedOrder = {
      orderId: c.orderId, command: c, enter, generation: 0, token, pendingReplace: null, awaiting: [], unknownEpoch: -1,
      state: 'pending', venueSeen: false, venueOrderId: null, totalLots: c.qtyLots, filledLots: 0, priceTicks: c.priceTicks, resetEpoch: this.resets,
    };
    this.orders.set(c.orderId, o);
    this.tokens.set(token, o);
    try {
      await this.transmit(enter, o, 'submit');
    } catch (e) {
      this.orders.delete(c.orderId);
      this.tokens.delete(token);
      throw e;
    }
  }

  private async replace(c: Extract<VenueCommand, { kind: 'ReplaceOrder' }>): Promise<void> {
    const o = this.tracked(c.orderId, c.kind);
    if (o.pendingReplace) throw new TapedeckError('OUCH_REPLACE_IN_FLIGHT', `order ${c.orderId}: a replace is already waiting for the venue`, { field: 'orderId' });
    const spec = o.command;
    if ((spec.orderType === 'market') !== (c.priceTicks === null)) {
      throw new TapedeckError('OUCH_REPLACE', `order ${c.orderId}: a ${spec.orderType} order is replaced ${spec.orderType === 'market' ? 'without' : 'with'} a price`, { field: 'priceTicks' });
    }
    // The venue's answers can be ahead of the ledger: a fill or cancel it has not folded in yet. Not sent.
    if (o.state !== 'pending' && o.state !== 'open') {
      throw new TapedeckError('VENUE_NOT_SENT', `ReplaceOrder for order ${c.orderId} not sent: the venue already reported it ${o.state}`, { field: 'orderId' });
    }
    const openLots = c.qtyLots - o.filledLots;
    if (openLots <= 0) throw new TapedeckError('VENUE_NOT_SENT', `ReplaceOrder for order ${c.orderId} not sent: new total ${c.qtyLots} lots does not exceed the ${o.filledLots} the venue reports filled`, { field: 'qtyLots' });
    const shares = this.toShares(openLots, spec.qtyScale, c.orderId);
    const ouchPrice = c.priceTicks === null ? o.enter.priceTicks : this.toOuchPrice(c.priceTicks, spec.priceScale, c.orderId);
    const generation = o.generation + 1;
    const token = orderToken(c.orderId, generation);
    o.generation = generation;
    o.pendingReplace = { token, priceTicks: c.priceTicks, qtyLots: c.qtyLots, ouchPrice };
    this.tokens.set(token, o);
    try {
      await this.transmit({
        kind: 'ReplaceOrder', existingOrderToken: o.token, replacementOrderToken: token, shares, priceTicks: ouchPrice,
        timeInForceSeconds: o.enter.timeInForceSeconds, display: o.enter.display, intermarketSweepEligibility: o.enter.intermarketSweepEligibility,
        minimumQuantity: 0,
      }, o, 'replace');
    } catch (e) {
      o.pendingReplace = null;
      this.tokens.delete(token);
      throw e;
    }
  }

  private tracked(orderId: string, what: string): TrackedOrder {
    const o = this.orders.get(orderId);
    if (!o) throw new TapedeckError('OUCH_UNKNOWN_ORDER', `${what}: order ${orderId} was never sent through this OUCH client`, { field: 'orderId' });
    return o;
  }

  /** Sends one OUCH message once logged in (waiting, bounded, for a reconnect in progress). */
  private async transmit(msg: Parameters<typeof encodeOuch>[0], o: TrackedOrder, awaiting: Awaiting): Promise<void> {
    const bytes = encodeOuch(msg);
    const timeoutMs = this.options.sendTimeoutMs ?? 5000;
    try {
      await this.client.whenLoggedIn(timeoutMs);
    } catch (e) {
      throw new TapedeckError('VENUE_DISCONNECTED', `${msg.kind} for order ${o.orderId} not sent: ${isTapedeckError(e) ? e.message : String(e)}`, { field: 'orderId' });
    }
    // After a session reset, nothing new goes out until the books are reconciled (cancels may: they only reduce risk).
    if (this.reconciling && awaiting !== 'cancel') {
      throw new TapedeckError('VENUE_NOT_SENT', `${msg.kind} for order ${o.orderId} not sent: the ${this.venue} session was reset and ledger and venue are not reconciled yet`, { field: 'orderId' });
    }
    try {
      this.client.send(bytes);
    } catch (e) {
      throw new TapedeckError('VENUE_DISCONNECTED', `${msg.kind} for order ${o.orderId} not sent: ${isTapedeckError(e) ? e.message : String(e)}`, { field: 'orderId' });
    }
    o.awaiting.push(awaiting);
    if (this.sentListeners.length > 0) {
      const now = this.now();
      const event = makeEvent({
        id: uuidFromName(EVENT_NAMESPACE, `sent:${this.options.session ?? ''}:${o.orderId}:${msg.kind}:${++this.sentCount}`),
        type: 'VenueMessageSent',
        stream: this.options.streamFor ? this.options.streamFor(o.orderId) : `order-${o.orderId}`,
        eventTimeNs: now,
        receiveTimeNs: now,
        data: { orderId: o.orderId, venue: this.venue, messageType: msg.kind },
        raw: { format: 'ouch42', bytes },
      });
      for (const l of this.sentListeners) l(event as AnyEnvelope);
    }
  }

  private toShares(qtyLots: number, qtyScale: number, orderId: string): number {
    let factor = this.qtyFactor.get(qtyScale);
    if (factor === undefined) {
      factor = Number(pow10(qtyScale));
      this.qtyFactor.set(qtyScale, factor);
    }
    if (!Number.isSafeInteger(qtyLots) || qtyLots <= 0 || qtyLots % factor !== 0) {
      throw new TapedeckError('OUCH_QTY', `order ${orderId}: ${qtyLots} lots at qty scale ${qtyScale} is not a positive whole number of shares`, { field: 'qtyLots' });
    }
    const shares = qtyLots / factor;
    if (shares > 0xffffffff) throw new TapedeckError('OUCH_QTY', `order ${orderId}: ${shares} shares do not fit OUCH's u32`, { field: 'qtyLots' });
    return shares;
  }

  private toOuchPrice(priceTicks: number | null, priceScale: number, orderId: string): number {
    if (priceTicks === null) throw new TapedeckError('OUCH_PRICE', `order ${orderId}: a limit order needs a price`, { field: 'priceTicks' });
    let p: bigint;
    try {
      p = rescale(BigInt(priceTicks), priceScale, OUCH_PRICE_SCALE, 'exact');
    } catch {
      throw new TapedeckError('OUCH_PRICE', `order ${orderId}: price ${priceTicks} at scale ${priceScale} has more than ${OUCH_PRICE_SCALE} decimals`, { field: 'priceTicks' });
    }
    if (p <= 0n || p > BigInt(OUCH_MAX_PRICE_TICKS)) {
      throw new TapedeckError('OUCH_PRICE', `order ${orderId}: price ${priceTicks} at scale ${priceScale} is outside OUCH's 0.0001..199999.99`, { field: 'priceTicks' });
    }
    return Number(p);
  }

  private lotsFromShares(shares: number, qtyScale: number): number {
    return shares * Number(pow10(qtyScale));
  }

  /** An OUCH price in the order's scale when exact, else in OUCH's own scale 4. */
  private fromOuchPrice(ticks4: number, priceScale: number): { priceTicks: number; priceScale: number } {
    if (priceScale >= OUCH_PRICE_SCALE) return { priceTicks: Number(rescale(BigInt(ticks4), OUCH_PRICE_SCALE, priceScale)), priceScale };
    const div = Number(pow10(OUCH_PRICE_SCALE - priceScale));
    return ticks4 % div === 0 ? { priceTicks: ticks4 / div, priceScale } : { priceTicks: ticks4, priceScale: OUCH_PRICE_SCALE };
  }

  // ---------- OUCH → events ----------

  private venueMessage(payload: Uint8Array, seq: number): void {
    let msg: OuchVenueMessage;
    try {
      msg = decodeVenueMessage(payload, { stream: `ouch ${this.client.session}`, seq });
    } catch (e) {
      if (!isTapedeckError(e)) throw e;
      this.options.onStatus?.({ kind: 'protocolError', error: e, sequenceNumber: seq });
      return;
    }
    const raw = payload.slice();
    const unmapped = (why: string): void => this.options.onStatus?.({ kind: 'unmapped', message: msg, sequenceNumber: seq, why });
    if (msg.kind === 'SystemEvent') return;
    const token = msg.kind === 'Replaced' ? msg.previousOrderToken : msg.orderToken;
    const o = this.tokens.get(token);
    if (!o) return unmapped(`token "${token}" belongs to no order sent by this client`);
    o.venueSeen = true;
    const at = this.venueTime(msg.timestampNs);
    const emit = <T extends EventType>(type: T, data: PayloadOf<T>): void => this.emit(type, o.orderId, data, at, seq, raw);
    const qs = o.command.qtyScale;
    switch (msg.kind) {
      case 'Accepted':
        done(o, 'submit');
        o.state = 'open';
        o.venueOrderId = msg.orderReferenceNumber.toString();
        emit('OrderAccepted', { orderId: o.orderId, venueOrderId: o.venueOrderId });
        return;
      case 'Rejected': {
        const reason = describeCode(REJECT_REASONS, msg.reason);
        if (o.pendingReplace && o.pendingReplace.token === msg.orderToken) {
          this.tokens.delete(msg.orderToken);
          o.pendingReplace = null;
          done(o, 'replace');
          emit('ReplaceRejected', { orderId: o.orderId, reason: `${reason} (OUCH reject code ${msg.reason})` });
          return;
        }
        finish(o, 'rejected');
        emit('OrderRejected', { orderId: o.orderId, reason, venueCode: msg.reason });
        return;
      }
      case 'Executed':
      case 'ExecutedWithReferencePrice': {
        const lots = this.lotsFromShares(msg.executedShares, qs);
        o.filledLots += lots;
        const leaves = Math.max(0, o.totalLots - o.filledLots);
        if (leaves === 0) finish(o, 'filled');
        const price = this.fromOuchPrice(msg.executionPriceTicks, o.command.priceScale);
        const flag = msg.liquidityFlag;
        emit('OrderFilled', {
          orderId: o.orderId, venue: this.venue, instrument: o.command.instrument,
          fillId: `${this.venue}-${msg.matchNumber}-${o.enter.side === 'B' ? 'B' : 'S'}`,
          side: o.command.side, priceTicks: price.priceTicks, qtyLots: lots, priceScale: price.priceScale, qtyScale: qs,
          fee: 0n, feeScale: OUCH_PRICE_SCALE, feeCurrency: 'USD',
          liquidity: MAKER_FLAGS.has(flag) ? 'maker' : TAKER_FLAGS.has(flag) ? 'taker' : 'unknown', leavesLots: leaves,
        });
        return;
      }
      case 'Canceled':
      case 'AiqCanceled': {
        const dec = this.lotsFromShares(msg.decrementShares, qs);
        const leaves = o.totalLots - o.filledLots;
        const reason = describeCode(CANCEL_REASONS, msg.reason);
        if (dec >= leaves) {
          if (msg.reason === 'T') {
            finish(o, 'expired');
            emit('OrderExpired', { orderId: o.orderId });
          } else {
            finish(o, 'canceled');
            emit('OrderCanceled', { orderId: o.orderId, canceledLots: leaves, reason });
          }
          return;
        }
        // Part of the order canceled: the catalogue's OrderCanceled ends an order, so this is a smaller order.
        o.totalLots -= dec;
        emit('OrderReplaced', { orderId: o.orderId, priceTicks: o.priceTicks, qtyLots: o.totalLots, ...(o.venueOrderId ? { venueOrderId: o.venueOrderId } : {}) });
        return;
      }
      case 'Replaced': {
        const pr = o.pendingReplace;
        o.token = msg.replacementOrderToken;
        this.tokens.set(msg.replacementOrderToken, o);
        o.totalLots = o.filledLots + this.lotsFromShares(msg.shares, qs);
        o.priceTicks = pr && pr.ouchPrice === msg.priceTicks ? pr.priceTicks : (o.command.orderType === 'market' ? null : this.fromOuchPrice(msg.priceTicks, o.command.priceScale).priceTicks);
        o.venueOrderId = msg.orderReferenceNumber.toString();
        o.pendingReplace = null;
        done(o, 'replace');
        emit('OrderReplaced', { orderId: o.orderId, priceTicks: o.priceTicks, qtyLots: o.totalLots, venueOrderId: o.venueOrderId });
        return;
      }
      case 'CancelReject':
        done(o, 'cancel');
        emit('CancelRejected', { orderId: o.orderId, reason: 'the venue refused the cancel (OUCH Cancel Reject)' });
        return;
      case 'BrokenTrade':
        return unmapped(`broken trade, match ${msg.matchNumber}: ${describeCode(BROKEN_TRADE_REASONS, msg.reason)}; no catalogue event for it`);
      case 'TradeCorrection':
        return unmapped(`trade correction, match ${msg.matchNumber}; no catalogue event for it`);
      default:
        return; // Cancel Pending, Order Priority Update, Order Modified: no change the catalogue tracks
    }

    function done(order: TrackedOrder, what: Awaiting): void {
      const i = order.awaiting.indexOf(what);
      if (i >= 0) order.awaiting.splice(i, 1);
    }
    function finish(order: TrackedOrder, state: TrackedOrder['state']): void {
      order.state = state;
      order.awaiting.length = 0;
      order.pendingReplace = null;
    }
  }

  private clientStatus(s: SoupClientStatus): void {
    if (s.kind === 'disconnected') this.reportUnknown(s.reason);
    if (s.kind === 'loggedIn') this.epoch++;
    if (s.kind === 'sessionReset') this.sessionReset(s);
    this.options.onStatus?.(s);
  }

  /** A new session: answers to what was in flight will never come; the engine halts, queries and reconciles. */
  private sessionReset(s: Extract<SoupClientStatus, { kind: 'sessionReset' }>): void {
    this.resets++;
    this.reconciling = true;
    for (const o of this.orders.values()) o.awaiting.length = 0;
    const now = this.now();
    const day = (this.midnightNs ?? 0n).toString();
    const why = s.session !== s.previousSession
      ? `the server is in session ${s.session}, was ${s.previousSession}`
      : `the server resumed at message ${s.serverSequenceNumber} of session ${s.session}, ${s.expectedSequenceNumber} was expected`;
    const event = makeEvent({
      id: uuidFromName(EVENT_NAMESPACE, `${this.venue}:${day}:reset:${this.resets}:${s.previousSession}:${s.session}`),
      type: 'VenueSessionReset',
      stream: `venue-${this.venue}`,
      eventTimeNs: now,
      receiveTimeNs: now,
      data: { venue: this.venue, previousSession: s.previousSession, session: s.session, reason: `new SoupBinTCP session: ${why}` },
    }) as unknown as AnyEnvelope;
    for (const l of this.listeners) l(event);
  }

  /** Every order with an unanswered command: its outcome is unknown until the venue says more. */
  private reportUnknown(reason: string): void {
    for (const o of this.orders.values()) {
      if (o.awaiting.length === 0 || o.unknownEpoch === this.epoch) continue;
      o.unknownEpoch = this.epoch;
      this.emit('OrderStatusUnknown', o.orderId, {
        orderId: o.orderId,
        reason: `connection to ${this.venue} lost with ${o.awaiting.join(', ')} unanswered: ${reason}`,
      }, this.now(), null, null);
    }
  }

  private emit<T extends EventType>(type: T, orderId: string, data: PayloadOf<T>, eventTimeNs: bigint, seq: number | null, raw: Uint8Array | null): void {
    // Session names and sequence numbers repeat from day to day: the session's midnight keeps ids apart.
    const day = (this.midnightNs ?? 0n).toString();
    // A session name can come back after a reset with its numbering restarted: the reset count keeps ids apart.
    const session = this.resets === 0 ? this.client.session : `${this.client.session}#${this.resets}`;
    const key = seq === null ? `${this.venue}:${day}:unknown:${orderId}:${this.epoch}` : `${this.venue}:${day}:${session}:${seq}`;
    const event = makeEvent({
      id: uuidFromName(EVENT_NAMESPACE, key),
      type,
      stream: this.options.streamFor ? this.options.streamFor(orderId) : `order-${orderId}`,
      eventTimeNs,
      receiveTimeNs: this.now(),
      data,
      ...(raw ? { raw: { format: 'ouch42' as const, bytes: raw } } : {}),
    }) as unknown as AnyEnvelope;
    for (const l of this.listeners) l(event);
  }

  private venueTime(timestampNs: bigint): bigint {
    return (this.midnightNs ?? 0n) + timestampNs;
  }

  private now(): bigint {
    return this.options.clockNs ? this.options.clockNs() : BigInt(Date.now()) * 1_000_000n;
  }
}
