/**
 * A simulated NASDAQ on loopback: OUCH 4.2 over SoupBinTCP 3.0 in front of the kernel's pure
 * simulated venue (domain/venue/simulated.ts). It decodes the client's OUCH messages into
 * VenueCommands, steps the simulated venue with them and with market data (`feed`), and turns the
 * venue's reports into OUCH messages in the SoupBinTCP session, so a reconnecting client replays them.
 *
 * OUCH semantics kept here (OUCH 4.2 / 5.0 text as transcribed by Atomic Wire's Orchestra):
 * - the order token is the order's identity; a duplicate token, or a replace/cancel of a token that is
 *   not live, is ignored; a replacement gets a new token and a new order reference number;
 * - the shares of Replace Order and Cancel Order are the order's new OPEN quantity (shares already
 *   executed are not counted), and Replaced's shares likewise; this reading is flagged in the README;
 * - a replace the venue refuses is answered with Rejected carrying the replacement token (no change).
 * Mapping to the venue: TIF 0 → IOC (FOK when minimum quantity = shares), 99998 → DAY, else GTC;
 * display 'P'/'L' → post-only; price 0x7FFFFFFF (market cross price) → a market order.
 * Timestamps are ns since UTC midnight of the venue clock (Nasdaq uses US Eastern midnight).
 *
 * Faults: `hold` queues client messages unprocessed; `restart` kills the venue and brings it back with a fresh
 * SoupBinTCP session (new numbering, optionally a new session id) on the same port: connections drop, messages
 * not yet read are lost, resting orders are canceled (the restarted matching engine is empty), and only the
 * venue's own record survives: `dropCopy()` (orders, executions, positions), as a real drop copy would.
 *
 * Market data: `feed()` takes catalogue market events (e.g. from itch/to-events.ts) for `NASDAQ:<stock>` at price
 * scale 4 and quantity scale 0 (what an ITCH reader produces). Time is the wall clock in ns,
 * or `clockNs` when given; with latency configured, due reports are released by a timer.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, nextDueNs, step, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { decodeClientMessage, encodeOuch } from './ouch42/codec.js';
import {
  OUCH_MARKET_CROSS_PRICE_TICKS,
  OUCH_MAX_PRICE_TICKS,
  OUCH_PRICE_SCALE,
  TIF_IMMEDIATE_OR_CANCEL,
  TIF_MARKET_HOURS,
  type CancelOrder,
  type EnterOrder,
  type ModifyOrder,
  type OuchVenueMessage,
  type ReplaceOrder,
} from './ouch42/messages.js';
import { validateOuch } from './ouch42/validate.js';
import type { OuchDropCopy, OuchDropCopyExecution } from './drop-copy.js';
import { SoupBinTcpServer, type SoupServerEvent } from './soupbintcp/server.js';

const NS_PER_DAY = 86_400_000_000_000n;
/** OUCH caps an order at 1,000,000 shares (Replace case 2 in the spec text). */
const MAX_SHARES = 999_999;
const MAX_ERRORS = 1000;
/** Bound on messages queued while held (fault injection). */
const MAX_HELD = 100_000;

export interface SimNasdaqOptions {
  host?: string;
  port?: number;
  session?: string;
  credentials: Record<string, string>;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Venue code in instruments and the simulated venue; default NASDAQ. */
  venue?: string;
  /** The simulated venue's settings (latency, fees, instrument rules); `venue` is set from above. */
  sim?: Omit<SimVenueConfigInput, 'venue'>;
  /** Venue clock, ns since the Unix epoch; default the wall clock. */
  clockNs?: () => bigint;
  onServerEvent?(event: SoupServerEvent): void;
  /** Every OUCH message a client sent, as it arrives (before hold or processing): what the venue received. */
  onClientMessage?(payload: Uint8Array): void;
}

/** What the simulator tracks per order, beyond the simulated venue: OUCH's view of it. */
interface OuchOrder {
  orderId: string;
  token: string;
  enter: EnterOrder;
  priceTicks: number;
  /** Open shares. */
  openShares: number;
  filledShares: number;
  orderReferenceNumber: bigint;
  /** Replaces and reductions sent to the venue, answered in order. */
  pending: Array<{ kind: 'replace'; msg: ReplaceOrder; filledAtSend: number } | { kind: 'reduce'; fromOpen: number; toOpen: number; filledAtSend: number }>;
  done: boolean;
  /** The venue's record (drop copy). */
  state: 'open' | 'filled' | 'canceled' | 'rejected' | 'expired';
}

export class SimNasdaq {
  private readonly state: SimVenueState;
  private readonly venue: string;
  private readonly orders = new Map<string, OuchOrder>();
  /** Every token ever used (live or not): OUCH tokens are day-unique. */
  private readonly tokens = new Map<string, OuchOrder>();
  private nextOrderReference = 1n;
  private nextMatchNumber = 1n;
  private lastNs = 0n;
  private held: Uint8Array[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly out: VenueReport[] = [];
  /** The venue's record: orders rejected on entry (never in `orders`), executions, net shares per stock. */
  private readonly rejectedOnEntry: EnterOrder[] = [];
  private readonly executions: OuchDropCopyExecution[] = [];
  private readonly positions = new Map<string, number>();
  /** Killed, not yet restarted: reports update the record, nothing is published. */
  private down = false;
  private server: SoupBinTcpServer;
  /** Client messages that could not be decoded or kept, for tests and logs (the latest MAX_ERRORS). */
  readonly protocolErrors: TapedeckError[] = [];

  private constructor(soup: SoupBinTcpServer, private readonly options: SimNasdaqOptions) {
    this.server = soup;
    this.venue = options.venue ?? 'NASDAQ';
    this.state = initialState({ ...(options.sim ?? {}), venue: this.venue });
  }

  static async start(options: SimNasdaqOptions): Promise<SimNasdaq> {
    const holder: { sim: SimNasdaq | null } = { sim: null };
    const soup = await SimNasdaq.listen(options, options.port ?? 0, options.session ?? 'SIMNASDAQ', holder);
    holder.sim = new SimNasdaq(soup, options);
    return holder.sim;
  }

  private static listen(options: SimNasdaqOptions, port: number, session: string, holder: { sim: SimNasdaq | null }): Promise<SoupBinTcpServer> {
    return SoupBinTcpServer.listen({
      host: options.host,
      port,
      session,
      credentials: options.credentials,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      onUnsequenced: (payload) => holder.sim?.receive(payload),
      onEvent: (e) => options.onServerEvent?.(e),
    });
  }

  /** The SoupBinTCP server of the current session. */
  get soup(): SoupBinTcpServer {
    return this.server;
  }

  get port(): number {
    return this.server.port;
  }

  /**
   * Fault injection: the venue dies and comes back on the same port, `downMs` later, with a fresh session
   * (numbering from 1; `session` names it, default the same name). Connections drop; client messages not yet processed are lost;
   * resting orders are canceled on record, with no session to say so. Only the drop copy remembers.
   */
  async restart(options: { session?: string; downMs?: number } = {}): Promise<void> {
    const port = this.server.port;
    const session = options.session ?? this.server.session;
    this.down = true;
    this.held = null;
    await this.server.close();
    for (const o of this.orders.values()) {
      o.pending = [];
      if (!o.done) this.command({ kind: 'CancelOrder', orderId: o.orderId, venue: this.venue, instrument: `${this.venue}:${o.enter.stock}` });
    }
    for (let due = nextDueNs(this.state); due !== null; due = nextDueNs(this.state)) this.stepWith({ kind: 'advance', nowNs: due > this.now() ? due : this.now() });
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    const holder: { sim: SimNasdaq | null } = { sim: this };
    this.server = await SimNasdaq.listen(this.options, port, session, holder);
    this.down = false;
  }

  /** The venue's own record of the account, as a drop copy would deliver it. */
  dropCopy(): OuchDropCopy {
    const orders: OuchDropCopy['orders'] = [];
    for (const m of this.rejectedOnEntry) {
      orders.push({ token: m.orderToken, stock: m.stock, side: m.side, state: 'rejected', filledShares: 0, openShares: 0, orderReferenceNumber: null });
    }
    for (const o of this.orders.values()) {
      orders.push({
        token: o.orderId, stock: o.enter.stock, side: o.enter.side, state: o.state,
        filledShares: o.filledShares, openShares: o.state === 'open' ? o.openShares : 0, orderReferenceNumber: o.orderReferenceNumber === 0n ? null : o.orderReferenceNumber,
      });
    }
    return {
      orders,
      executions: this.executions.map((x) => ({ ...x })),
      positions: [...this.positions].map(([stock, shares]) => ({ stock, shares })),
    };
  }

  /** Market data for the simulated venue (instruments `NASDAQ:<stock>`, price scale 4, qty scale 0). */
  feed(event: TimedEvent): void {
    this.stepWith({ kind: 'market', event });
  }

  /**
   * Fault injection: while held, client messages are queued unprocessed (the venue is slow); on
   * release they are processed in arrival order.
   */
  hold(held: boolean, options: { discard?: boolean } = {}): void {
    if (held) {
      this.held ??= [];
      return;
    }
    const queue = this.held ?? [];
    this.held = null;
    // Discarding plays a network that lost them: the venue never sees these messages.
    if (!options.discard) for (const p of queue) this.process(p);
  }

  /** Client messages received while held, not yet processed. */
  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.server.close();
  }

  // ---------- client → venue ----------

  private receive(payload: Uint8Array): void {
    this.options.onClientMessage?.(payload);
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(payload.slice());
      else this.error(new TapedeckError('SIM_HELD_FULL', `more than ${MAX_HELD} client messages held; this one is dropped`));
      return;
    }
    this.process(payload);
  }

  private error(e: TapedeckError): void {
    if (this.protocolErrors.length >= MAX_ERRORS) this.protocolErrors.shift();
    this.protocolErrors.push(e);
  }

  private process(payload: Uint8Array): void {
    let msg;
    try {
      msg = decodeClientMessage(payload, { stream: 'sim-nasdaq client' });
    } catch (e) {
      // Nasdaq would end the session; the simulator keeps it and records why (tests look here).
      if (e instanceof TapedeckError) this.error(e);
      else throw e;
      return;
    }
    switch (msg.kind) {
      case 'EnterOrder':
        return this.enter(msg);
      case 'ReplaceOrder':
        return this.replace(msg);
      case 'CancelOrder':
        return this.cancel(msg);
      case 'ModifyOrder':
        return this.modify(msg);
      case 'TradeNow':
        return; // no crossing to trigger in the simulation
    }
  }

  private enter(m: EnterOrder): void {
    if (this.tokens.has(m.orderToken)) return; // duplicate token: ignored, as Nasdaq does
    const invalid = validateOuch(m);
    const reject = (reason: string): void => {
      this.rejectedOnEntry.push(m);
      this.publish({ kind: 'Rejected', timestampNs: this.ouchTime(this.now()), orderToken: m.orderToken, reason });
    };
    if (invalid) {
      const field = String(invalid.where?.field ?? '');
      return reject(field.endsWith('stock') ? 'S' : field.endsWith('display') ? 'D' : 'O');
    }
    if (m.shares === 0 || m.shares > MAX_SHARES) return reject('Z');
    const market = m.priceTicks === OUCH_MARKET_CROSS_PRICE_TICKS;
    if (!market && (m.priceTicks === 0 || m.priceTicks > OUCH_MAX_PRICE_TICKS)) return reject('X');
    if (m.minimumQuantity > m.shares) return reject('N');
    const o: OuchOrder = {
      orderId: m.orderToken, token: m.orderToken, enter: m, priceTicks: m.priceTicks, openShares: m.shares, filledShares: 0,
      orderReferenceNumber: 0n, pending: [], done: false, state: 'open',
    };
    this.orders.set(o.orderId, o);
    this.tokens.set(m.orderToken, o);
    const ioc = m.timeInForceSeconds === TIF_IMMEDIATE_OR_CANCEL;
    this.command({
      kind: 'SubmitOrder', orderId: o.orderId, venue: this.venue, instrument: `${this.venue}:${m.stock}`,
      side: m.side === 'B' ? 'buy' : 'sell', orderType: market ? 'market' : 'limit', priceTicks: market ? null : m.priceTicks,
      qtyLots: m.shares, priceScale: OUCH_PRICE_SCALE, qtyScale: 0,
      timeInForce: ioc ? (m.minimumQuantity === m.shares ? 'FOK' : 'IOC') : m.timeInForceSeconds === TIF_MARKET_HOURS ? 'DAY' : 'GTC',
      postOnly: m.display === 'P' || m.display === 'L', reduceOnly: false,
    });
  }

  private liveByToken(token: string): OuchOrder | undefined {
    const o = this.tokens.get(token);
    return o && !o.done && o.token === token ? o : undefined;
  }

  private replace(m: ReplaceOrder): void {
    const o = this.liveByToken(m.existingOrderToken);
    if (!o || this.tokens.has(m.replacementOrderToken)) return; // not live, or token reused: silently ignored
    this.tokens.set(m.replacementOrderToken, o);
    o.pending.push({ kind: 'replace', msg: m, filledAtSend: o.filledShares });
    this.command({
      kind: 'ReplaceOrder', orderId: o.orderId, venue: this.venue, instrument: `${this.venue}:${o.enter.stock}`,
      priceTicks: m.priceTicks === OUCH_MARKET_CROSS_PRICE_TICKS ? null : m.priceTicks, qtyLots: o.filledShares + m.shares,
    });
  }

  private cancel(m: CancelOrder): void {
    const o = this.liveByToken(m.orderToken);
    if (!o) {
      this.publish({ kind: 'CancelReject', timestampNs: this.ouchTime(this.now()), orderToken: m.orderToken });
      return;
    }
    const instrument = `${this.venue}:${o.enter.stock}`;
    if (m.shares === 0) {
      this.command({ kind: 'CancelOrder', orderId: o.orderId, venue: this.venue, instrument });
      return;
    }
    if (m.shares >= o.openShares) return; // nothing to reduce
    // A partial cancel keeps priority: the simulated venue does that for a same-price, smaller replace.
    o.pending.push({ kind: 'reduce', fromOpen: o.openShares, toOpen: m.shares, filledAtSend: o.filledShares });
    this.command({ kind: 'ReplaceOrder', orderId: o.orderId, venue: this.venue, instrument, priceTicks: o.priceTicks, qtyLots: o.filledShares + m.shares });
  }

  private modify(m: ModifyOrder): void {
    const o = this.liveByToken(m.orderToken);
    const sellFamily = (s: string) => s === 'S' || s === 'T' || s === 'E';
    // Modify only moves between sell, short and short exempt; anything else is ignored.
    if (!o || !sellFamily(o.enter.side) || !sellFamily(m.side)) return;
    o.enter = { ...o.enter, side: m.side };
    this.publish({ kind: 'OrderModified', timestampNs: this.ouchTime(this.now()), orderToken: o.token, side: m.side, shares: o.openShares });
  }

  // ---------- the simulated venue ----------

  private command(command: VenueCommand): void {
    this.stepWith({ kind: 'command', command, sentNs: this.now() });
  }

  private stepWith(input: Parameters<typeof step>[1]): void {
    this.out.length = 0;
    step(this.state, input, this.out);
    for (const r of this.out) this.report(r);
    this.scheduleDue();
  }

  /** With latency configured, reports fall due later: wake up then. */
  private scheduleDue(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const due = nextDueNs(this.state);
    if (due === null) return;
    const waitMs = Math.max(0, Number((due - this.now()) / 1_000_000n) + 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stepWith({ kind: 'advance', nowNs: this.now() });
    }, waitMs);
    this.timer.unref();
  }

  private report(r: VenueReport): void {
    const o = this.orders.get(r.data.orderId);
    if (!o) return;
    const ts = this.ouchTime(r.eventTimeNs);
    switch (r.type) {
      case 'OrderAccepted': {
        o.orderReferenceNumber = this.nextOrderReference++;
        const e = o.enter;
        this.publish({
          kind: 'Accepted', timestampNs: ts, orderToken: o.token, side: e.side, shares: e.shares, stock: e.stock, priceTicks: e.priceTicks,
          timeInForceSeconds: e.timeInForceSeconds, firm: e.firm, display: e.display, orderReferenceNumber: o.orderReferenceNumber,
          capacity: e.capacity, intermarketSweepEligibility: e.intermarketSweepEligibility, minimumQuantity: e.minimumQuantity,
          crossType: e.crossType, orderState: 'L', bboWeightIndicator: ' ',
        });
        return;
      }
      case 'OrderRejected': {
        o.done = true;
        o.state = 'rejected';
        const why = r.data.reason;
        const code = /instrument/.test(why) ? 'S' : /price|tick/.test(why) ? 'X' : /quantity|lot/.test(why) ? 'Z' : 'O';
        this.publish({ kind: 'Rejected', timestampNs: ts, orderToken: o.token, reason: code });
        return;
      }
      case 'OrderFilled': {
        o.filledShares += r.data.qtyLots;
        o.openShares -= r.data.qtyLots;
        if (o.openShares <= 0) {
          o.done = true;
          o.state = 'filled';
        }
        const liquidityFlag = r.data.liquidity === 'maker' ? 'A' : 'R';
        const matchNumber = this.nextMatchNumber++;
        const e = o.enter;
        this.executions.push({ token: o.orderId, stock: e.stock, side: e.side, matchNumber, shares: r.data.qtyLots, priceTicks: r.data.priceTicks, liquidityFlag });
        this.positions.set(e.stock, (this.positions.get(e.stock) ?? 0) + (e.side === 'B' ? r.data.qtyLots : -r.data.qtyLots));
        this.publish({ kind: 'Executed', timestampNs: ts, orderToken: o.token, executedShares: r.data.qtyLots, executionPriceTicks: r.data.priceTicks, liquidityFlag, matchNumber });
        return;
      }
      case 'OrderCanceled':
      case 'OrderExpired': {
        const decrement = r.type === 'OrderCanceled' ? r.data.canceledLots : o.openShares;
        const reason = r.type === 'OrderExpired' ? 'T' : /IOC|FOK|market/.test(r.data.reason ?? '') ? 'I' : 'U';
        o.openShares = 0;
        o.done = true;
        o.state = r.type === 'OrderExpired' ? 'expired' : 'canceled';
        this.publish({ kind: 'Canceled', timestampNs: ts, orderToken: o.token, decrementShares: decrement, reason });
        return;
      }
      case 'OrderReplaced': {
        const p = o.pending.shift();
        if (!p) return;
        if (p.kind === 'reduce') {
          // Fills between the request and now came out of the shares that stay open.
          o.openShares = p.filledAtSend + p.toOpen - o.filledShares;
          this.publish({ kind: 'Canceled', timestampNs: ts, orderToken: o.token, decrementShares: p.fromOpen - p.toOpen, reason: 'U' });
          return;
        }
        const m = p.msg;
        const previous = o.token;
        o.token = m.replacementOrderToken;
        o.priceTicks = m.priceTicks;
        o.openShares = p.filledAtSend + m.shares - o.filledShares;
        o.orderReferenceNumber = this.nextOrderReference++;
        o.enter = { ...o.enter, priceTicks: m.priceTicks, shares: m.shares, timeInForceSeconds: m.timeInForceSeconds, display: m.display,
          intermarketSweepEligibility: m.intermarketSweepEligibility, minimumQuantity: m.minimumQuantity };
        const e = o.enter;
        this.publish({
          kind: 'Replaced', timestampNs: ts, replacementOrderToken: o.token, side: e.side, shares: o.openShares, stock: e.stock, priceTicks: m.priceTicks,
          timeInForceSeconds: e.timeInForceSeconds, firm: e.firm, display: e.display, orderReferenceNumber: o.orderReferenceNumber,
          capacity: e.capacity, intermarketSweepEligibility: e.intermarketSweepEligibility, minimumQuantity: e.minimumQuantity,
          crossType: e.crossType, orderState: 'L', previousOrderToken: previous, bboWeightIndicator: ' ',
        });
        return;
      }
      case 'ReplaceRejected': {
        const p = o.pending.shift();
        if (!p || p.kind === 'reduce') return; // a refused reduction leaves the order as it was
        this.tokens.delete(p.msg.replacementOrderToken); // not consumed: the client may use it again
        this.publish({ kind: 'Rejected', timestampNs: ts, orderToken: p.msg.replacementOrderToken, reason: 'O' });
        return;
      }
      case 'CancelRejected':
        this.publish({ kind: 'CancelReject', timestampNs: ts, orderToken: o.token });
        return;
    }
  }

  private publish(msg: OuchVenueMessage): void {
    if (this.down) return; // no session: the drop copy has it, the client never will
    this.server.publish(encodeOuch(msg));
  }

  /** Venue clock in ns, never going backwards. */
  private now(): bigint {
    const t = this.options.clockNs ? this.options.clockNs() : BigInt(Date.now()) * 1_000_000n;
    if (t > this.lastNs) this.lastNs = t;
    return this.lastNs;
  }

  private ouchTime(eventTimeNs: bigint): bigint {
    const t = eventTimeNs % NS_PER_DAY;
    return t < 0n ? t + NS_PER_DAY : t;
  }
}
