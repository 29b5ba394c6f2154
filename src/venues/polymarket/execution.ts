/**
 * The Polymarket execution client (src/venues/port.ts): REST for orders, the user channel for what
 * happens to them.
 *
 * Polymarket has no client order id; the order hash (the EIP-712 digest) is the order's id at the venue
 * and is known before sending. The signed order is a function of the stored intent alone (v1: salt from
 * the order id, fixed fields; see order.ts), so the hash of every order the log holds can be computed
 * again after a crash, and an order whose outcome is unknown is asked for by hash
 * (`GET /data/order/{hash}`) instead of being sent again. The signed order also goes into the log as
 * VenueMessageSent (a signature is not a credential; no key, secret or passphrase is ever in it). v2/v3
 * orders carry a `timestamp` field: the client signs the current time into it, so their hash is
 * reproducible only from that VenueMessageSent.
 *
 *   SubmitOrder   POST /order (GTC, post-only as asked); a refusal → OrderRejected with the venue's reason
 *   CancelOrder   DELETE /order; "not canceled" → CancelRejected with the venue's reason
 *   ReplaceOrder  Polymarket has no replace: ReplaceRejected, nothing sent (cancel and place anew)
 *
 * The user channel re-sends a trade at each status (MATCHED, MINED, CONFIRMED, or FAILED): a fill is
 * booked once, by (trade id, our order hash), at the first status that is not FAILED; a FAILED trade
 * whose fills were booked is reversed (FillReversed) and books nothing again. When we are the maker our
 * fill is our entry in `maker_orders` (user.ts).
 */
import { ReportOutlets } from '../common/execution-outlets.js';
import WebSocket from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal } from '../../../domain/core/fixed.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import type { PayloadOf } from '../../../domain/events/catalog.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { ReportedFill } from '../../../domain/orders/lifecycle.js';
import type { VenueFill, VenueOrderReport, VenueReport } from '../../../domain/reconcile/reconcile.js';
import { wallClockNs } from '../common/clock.js';
import type { ExecutionClient, OrderStatusReport, ReconciliationRequest } from '../port.js';
import type { ApiCreds } from './auth.js';
import { limitOrderAmounts } from './amounts.js';
import type { PolymarketConfig } from './config.js';
import type { PolymarketCredentials } from './credentials.js';
import { buildAndSign, buildOrder, saltFor } from './order.js';
import { POLYMARKET, PRICE_SCALE, QTY_SCALE } from './parse.js';
import { PolymarketRest, PolymarketRefusal } from './rest.js';
import { orderHash } from './signing.js';
import { PolymarketUserParser, type OurFill } from './user.js';
import { toWireOrder } from './wire.js';

const STREAM = 'venue-POLYMARKET';
const TICK_SIZE = '0.01';
const TICK_TICKS = 100;

/** What the client must know of an order to find it at the venue (an OrderState has it). */
export interface OrderIdentity {
  orderId: string;
  instrument: string;
  side: 'buy' | 'sell';
  priceTicks: number | null;
  qtyLots: number;
  priceScale: number;
  qtyScale: number;
  postOnly?: boolean;
}

interface Tracked extends OrderIdentity {
  hash: string;
  token: string;
  filledLots: number;
  accepted: boolean;
  done: boolean;
}

export interface PolymarketClientOptions {
  config: PolymarketConfig;
  credentials: PolymarketCredentials;
  clockNs?: () => bigint;
  onLog?: (line: string) => void;
  /** Fill ids the log already holds (a restarted session must not book them again). */
  knownFillIds?: Iterable<string>;
}

/** The fill id of (trade id, our order hash): the same for the user channel, queries and reconciliation. */
export function polymarketFillId(tradeId: string, orderHash: string): string {
  return uuidFromName(`venue:${POLYMARKET}`, `fill:${tradeId}:${orderHash.toLowerCase()}`);
}

export class PolymarketExecutionClient implements ExecutionClient {
  readonly venue = POLYMARKET;
  readonly stats = { sent: 0, refused: 0, unknown: 0, fills: 0, reversed: 0, duplicateReports: 0, streamGaps: 0 };
  private readonly rest: PolymarketRest;
  private readonly byOrderId = new Map<string, Tracked>();
  private readonly byHash = new Map<string, Tracked>();
  private readonly booked = new Map<string, { fill: OurFill; t: Tracked }>();
  private readonly failedTrades = new Set<string>();
  private readonly seenFills: Set<string>;
  private readonly outlets = new ReportOutlets();
  private readonly clock: () => bigint;
  private api: ApiCreds | null = null;
  private parser: PolymarketUserParser | null = null;
  private ws: WebSocket | null = null;
  private closed = false;
  private seq = 0;
  private frames = 0;

  constructor(private readonly o: PolymarketClientOptions) {
    this.rest = new PolymarketRest({ baseUrl: o.config.restUrl, chainId: o.config.chainId, credentials: o.credentials });
    this.clock = o.clockNs ?? wallClockNs;
    this.seenFills = new Set(o.knownFillIds ?? []);
  }

  async connect(): Promise<void> {
    this.api = await this.rest.apiCreds();
    this.parser = new PolymarketUserParser(this.api.key);
    await this.openStream();
  }

  onReport(listener: (event: AnyEnvelope) => void): void {
    this.outlets.onReport(listener);
  }

  onSent(listener: (event: AnyEnvelope) => void): void {
    this.outlets.onSent(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) {
      await new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.terminate();
      });
    }
  }

  // ---------- identity: the signed order of an intent ----------

  /** The order a stored intent signs to, and its hash (what the venue knows it by). */
  signedOrderOf(o: OrderIdentity): { hash: string; token: string; body: Record<string, unknown> } {
    const c = this.o.config;
    if (o.priceTicks === null) throw new TapedeckError('POLYMARKET_PRICE', `${o.orderId}: Polymarket takes limit orders only here`, { field: 'priceTicks' });
    if (o.priceScale !== PRICE_SCALE || o.qtyScale !== QTY_SCALE) {
      throw new TapedeckError('POLYMARKET_AMOUNT', `${o.orderId}: Polymarket prices are at scale ${PRICE_SCALE} and sizes at ${QTY_SCALE} (got ${o.priceScale}, ${o.qtyScale})`, { field: 'priceScale' });
    }
    if (o.priceTicks % TICK_TICKS !== 0) throw new TapedeckError('POLYMARKET_TICK', `${o.orderId}: price ${formatDecimal(o.priceTicks, PRICE_SCALE)} is not on the tick size ${TICK_SIZE}`, { field: 'priceTicks' });
    const token = o.instrument.slice(`${POLYMARKET}:`.length);
    const amounts = limitOrderAmounts(o.side === 'buy' ? 'BUY' : 'SELL', formatDecimal(o.priceTicks, PRICE_SCALE), formatDecimal(o.qtyLots, QTY_SCALE), TICK_SIZE);
    const shares = o.side === 'buy' ? amounts.takerAmount : amounts.makerAmount;
    if (shares !== BigInt(o.qtyLots)) throw new TapedeckError('POLYMARKET_AMOUNT', `${o.orderId}: size ${formatDecimal(o.qtyLots, QTY_SCALE)} is not a multiple of 0.01 shares`, { field: 'qtyLots' });
    const fields = {
      version: c.orderVersion, chainId: c.chainId, negRisk: false, tokenId: token, amounts, salt: saltFor(o.orderId),
      maker: c.funder ?? this.o.credentials.address, signer: this.o.credentials.address, signatureType: c.signatureType,
      ...(c.orderVersion !== 1 ? { timestampMs: String(Date.now()) } : {}),
    };
    const signed = buildAndSign(this.o.credentials.privateKey(), fields);
    return { hash: signed.hash.toLowerCase(), token, body: { order: toWireOrder(signed), owner: this.api?.key ?? '', orderType: 'GTC', postOnly: o.postOnly === true } };
  }

  /** The hash of a stored intent without signing (v1: reproducible from the intent alone). */
  hashOf(o: OrderIdentity): string | null {
    const t = this.byOrderId.get(o.orderId);
    if (t !== undefined) return t.hash;
    if (this.o.config.orderVersion !== 1 || o.priceTicks === null) return null;
    try {
      const amounts = limitOrderAmounts(o.side === 'buy' ? 'BUY' : 'SELL', formatDecimal(o.priceTicks, PRICE_SCALE), formatDecimal(o.qtyLots, QTY_SCALE), TICK_SIZE);
      const c = this.o.config;
      const { domain, struct } = buildOrder({
        version: 1, chainId: c.chainId, negRisk: false, tokenId: o.instrument.slice(`${POLYMARKET}:`.length), amounts, salt: saltFor(o.orderId),
        maker: c.funder ?? this.o.credentials.address, signer: this.o.credentials.address, signatureType: c.signatureType,
      });
      return orderHash(domain, struct).toLowerCase();
    } catch {
      return null;
    }
  }

  /** Orders of the log this session did not send (an earlier session's), so their reports and queries are understood. */
  adopt(orders: Iterable<OrderIdentity & { filledLots?: number }>): void {
    for (const o of orders) {
      if (this.byOrderId.has(o.orderId)) continue;
      const hash = this.hashOf(o);
      if (hash === null) continue;
      const t: Tracked = { ...o, hash, token: o.instrument.slice(`${POLYMARKET}:`.length), filledLots: o.filledLots ?? 0, accepted: true, done: false };
      this.byOrderId.set(o.orderId, t);
      this.byHash.set(hash, t);
    }
  }

  // ---------- commands ----------

  async send(c: VenueCommand): Promise<void> {
    if (c.kind === 'ReplaceOrder') {
      this.report('ReplaceRejected', { orderId: c.orderId, reason: 'Polymarket has no replace: cancel the order and place a new one' }, `replace-rejected:${c.orderId}:${this.seq++}`);
      return;
    }
    if (c.kind === 'CancelOrder') return this.cancel(c.orderId);
    let signed: ReturnType<PolymarketExecutionClient['signedOrderOf']>;
    try {
      signed = this.signedOrderOf(c);
    } catch (e) {
      this.report('OrderRejected', { orderId: c.orderId, reason: `not sent: ${e instanceof Error ? e.message : String(e)}` }, `rejected:${c.orderId}`);
      return;
    }
    const t: Tracked = {
      orderId: c.orderId, instrument: c.instrument, side: c.side, priceTicks: c.priceTicks, qtyLots: c.qtyLots, priceScale: c.priceScale, qtyScale: c.qtyScale,
      postOnly: c.postOnly, hash: signed.hash, token: signed.token, filledLots: 0, accepted: false, done: false,
    };
    this.byOrderId.set(c.orderId, t);
    this.byHash.set(t.hash, t);
    this.sent(c.orderId, 'PostOrder', JSON.stringify(signed.body));
    this.stats.sent++;
    void this.postOrder(t, signed.body);
  }

  private async postOrder(t: Tracked, body: Record<string, unknown>): Promise<void> {
    try {
      const r = (await this.rest.private('POST', '/order', { body })) as { success?: unknown; errorMsg?: unknown; orderID?: unknown };
      if (r.success === false) {
        this.refused(t, String(r.errorMsg ?? 'refused'));
        return;
      }
      this.accepted(t);
    } catch (e) {
      if (e instanceof PolymarketRefusal) return this.refused(t, e.reason);
      if (e instanceof TapedeckError && e.code === 'VENUE_NOT_SENT') {
        if (!t.done) {
          t.done = true;
          this.report('OrderRejected', { orderId: t.orderId, reason: `not sent: ${e.message}` }, `rejected:${t.orderId}`);
        }
        return;
      }
      this.stats.unknown++;
      this.report('OrderStatusUnknown', { orderId: t.orderId, reason: `POST /order: ${e instanceof Error ? e.message : String(e)}` }, `unknown:${t.orderId}:${this.seq++}`);
    }
  }

  private refused(t: Tracked, reason: string): void {
    this.stats.refused++;
    if (t.done || t.accepted) return;
    t.done = true;
    this.report('OrderRejected', { orderId: t.orderId, reason: `venue: ${reason}` }, `rejected:${t.orderId}`);
  }

  private async cancel(orderId: string): Promise<void> {
    const t = this.byOrderId.get(orderId);
    if (t === undefined) {
      this.report('CancelRejected', { orderId, reason: 'not an order of this session or the log' }, `cancel-rejected:${orderId}:${this.seq++}`);
      return;
    }
    const body = { orderID: t.hash };
    this.sent(orderId, 'CancelOrder', JSON.stringify(body));
    try {
      const r = (await this.rest.private('DELETE', '/order', { body })) as { canceled?: unknown; not_canceled?: Record<string, unknown> };
      if (Array.isArray(r.canceled) && r.canceled.map((x) => String(x).toLowerCase()).includes(t.hash)) {
        this.canceled(t, 'canceled');
        return;
      }
      const why = r.not_canceled?.[t.hash] ?? r.not_canceled?.[Object.keys(r.not_canceled ?? {})[0] ?? ''] ?? 'not canceled';
      await this.refresh(t);
      if (!t.done) this.report('CancelRejected', { orderId, reason: `venue: ${String(why)}` }, `cancel-rejected:${orderId}:${this.seq++}`);
    } catch (e) {
      if (e instanceof PolymarketRefusal) {
        this.report('CancelRejected', { orderId, reason: `venue: ${e.reason}` }, `cancel-rejected:${orderId}:${this.seq++}`);
        return;
      }
      if (e instanceof TapedeckError && e.code === 'VENUE_NOT_SENT') {
        this.report('CancelRejected', { orderId, reason: `not sent: ${e.message}` }, `cancel-rejected:${orderId}:${this.seq++}`);
        return;
      }
      await this.refresh(t);
      if (!t.done) this.report('CancelRejected', { orderId, reason: `the cancel's outcome is unknown and the order is still open` }, `cancel-rejected:${orderId}:${this.seq++}`);
    }
  }

  // ---------- what the venue says ----------

  private accepted(t: Tracked): void {
    if (t.accepted || t.done) return;
    t.accepted = true;
    this.report('OrderAccepted', { orderId: t.orderId, venueOrderId: t.hash }, `accepted:${t.orderId}`);
  }

  private canceled(t: Tracked, why: string): void {
    if (t.done) return;
    t.done = true;
    this.report('OrderCanceled', { orderId: t.orderId, canceledLots: t.qtyLots - t.filledLots, reason: `venue: ${why}` }, `canceled:${t.orderId}`);
  }

  private book(t: Tracked, f: { fillId: string; priceTicks: number; qtyLots: number; liquidity: 'maker' | 'taker' }, raw?: string): boolean {
    if (this.seenFills.has(f.fillId)) {
      this.stats.duplicateReports++;
      return false;
    }
    if (f.qtyLots <= 0 || f.qtyLots > t.qtyLots - t.filledLots) {
      this.log(`fill ${f.fillId} of ${f.qtyLots} lots does not fit order ${t.orderId} (${t.qtyLots - t.filledLots} left): left to reconciliation`);
      return false;
    }
    this.seenFills.add(f.fillId);
    this.accepted(t);
    t.filledLots += f.qtyLots;
    const leaves = t.qtyLots - t.filledLots;
    this.stats.fills++;
    this.report('OrderFilled', {
      orderId: t.orderId, venue: POLYMARKET, instrument: t.instrument, fillId: f.fillId, side: t.side, priceTicks: f.priceTicks, qtyLots: f.qtyLots,
      priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, fee: 0n, feeScale: 0, feeCurrency: 'USDC', liquidity: f.liquidity, leavesLots: leaves,
    }, `fill:${f.fillId}`, raw);
    if (leaves === 0) t.done = true;
    return true;
  }

  private onUserFrame(data: WebSocket.RawData): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    let messages;
    try {
      messages = this.parser!.parseFrame(bytes, { file: 'polymarket-user-ws', line: ++this.frames, receiveTimeNs: this.clock() });
    } catch (e) {
      this.log(`user channel: a frame was refused: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const raw = bytes.toString('utf8');
    for (const m of messages) {
      if (m.kind === 'order') {
        const t = this.byHash.get(m.venueOrderId);
        if (t === undefined) continue;
        if (m.update === 'PLACEMENT' || m.update === 'UPDATE') this.accepted(t);
        else if (m.update === 'CANCELLATION' && m.matchedLots < m.originalLots) {
          // Fills the trade messages have not brought yet are fetched before the order closes.
          if (m.matchedLots > t.filledLots) void this.refresh(t);
          else this.canceled(t, 'canceled');
        }
        continue;
      }
      if (this.failedTrades.has(m.tradeId)) continue;
      if (m.status === 'FAILED') {
        this.failedTrades.add(m.tradeId);
        for (const [fillId, b] of this.booked) {
          if (b.fill.tradeId !== m.tradeId) continue;
          this.booked.delete(fillId);
          this.stats.reversed++;
          const f = b.fill;
          this.report('FillReversed', {
            orderId: b.t.orderId, venue: POLYMARKET, instrument: b.t.instrument, fillId, side: b.t.side, priceTicks: f.priceTicks, qtyLots: f.qtyLots,
            priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, fee: 0n, feeScale: 0, feeCurrency: 'USDC', reason: `trade ${m.tradeId} FAILED on chain after MATCHED`,
          }, `reversed:${fillId}`, raw);
        }
        continue;
      }
      for (const f of m.fills) {
        const t = this.byHash.get(f.venueOrderId);
        if (t === undefined) continue;
        const fillId = polymarketFillId(f.tradeId, f.venueOrderId);
        if (this.book(t, { fillId, priceTicks: f.priceTicks, qtyLots: f.qtyLots, liquidity: f.liquidity }, raw)) this.booked.set(fillId, { fill: f, t });
        // Final on chain: it can no longer fail, so nothing of it needs keeping for a reversal.
        if (m.status === 'CONFIRMED') this.booked.delete(fillId);
      }
    }
  }

  private async openStream(): Promise<void> {
    const ws = new WebSocket(this.o.config.userWsUrl, { perMessageDeflate: false });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new TapedeckError('VENUE_UNAVAILABLE', `Polymarket user channel: ${e.message}`)));
    });
    ws.send(JSON.stringify({ auth: { apiKey: this.api!.key, secret: this.api!.secret, passphrase: this.api!.passphrase }, markets: this.o.config.markets, type: 'user' }));
    ws.on('message', (d) => this.onUserFrame(d));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.closed || this.ws !== ws) return;
      this.stats.streamGaps++;
      this.log('user channel lost: reconnecting, then asking the venue about every working order');
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      if (this.closed) return;
      try {
        await this.openStream();
        for (const t of [...this.byOrderId.values()]) if (!t.done) await this.refresh(t);
        return;
      } catch (e) {
        this.log(`user channel reconnect failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // ---------- queries ----------

  private async venueOrder(hash: string): Promise<Record<string, unknown> | null> {
    try {
      return (await this.rest.private('GET', `/data/order/${hash}`)) as Record<string, unknown> | null;
    } catch (e) {
      if (e instanceof PolymarketRefusal && e.status === 404) return null;
      throw e;
    }
  }

  /** Our fills of one order at the venue (trades that did not fail), from /data/trades. */
  private async venueFills(t: Tracked): Promise<Array<{ fillId: string; tradeId: string; priceTicks: number; qtyLots: number; liquidity: 'maker' | 'taker' }>> {
    const trades = await this.rest.all('/data/trades', { asset_id: t.token });
    const out: Array<{ fillId: string; tradeId: string; priceTicks: number; qtyLots: number; liquidity: 'maker' | 'taker' }> = [];
    for (const tr of trades) {
      let parsed;
      try {
        parsed = this.parser!.parseMessage({ ...(tr as object), event_type: 'trade', timestamp: String((tr as { match_time?: unknown }).match_time ?? '0') }, { file: '/data/trades', line: 0, receiveTimeNs: this.clock() });
      } catch {
        continue;
      }
      if (parsed.kind !== 'trade' || parsed.status === 'FAILED') continue;
      for (const f of parsed.fills) if (f.venueOrderId === t.hash) out.push({ fillId: polymarketFillId(f.tradeId, f.venueOrderId), tradeId: f.tradeId, priceTicks: f.priceTicks, qtyLots: f.qtyLots, liquidity: f.liquidity });
    }
    return out;
  }

  /** Asks the venue where an order stands and applies the answer (after an unclear outcome or a gap). */
  private async refresh(t: Tracked): Promise<void> {
    try {
      const o = await this.venueOrder(t.hash);
      if (o === null) {
        if (!t.accepted && t.filledLots === 0 && !t.done) {
          t.done = true;
          this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: no such order (it never reached the venue)' }, `rejected:${t.orderId}`);
        }
        return;
      }
      this.accepted(t);
      for (const f of await this.venueFills(t)) {
        if (this.book(t, f)) {
          this.booked.set(f.fillId, { t, fill: { fillKey: `${f.tradeId}:${t.hash}`, tradeId: f.tradeId, venueOrderId: t.hash, instrument: t.instrument, side: t.side, priceTicks: f.priceTicks, qtyLots: f.qtyLots, liquidity: f.liquidity } });
        }
      }
      if (o.status === 'CANCELED') this.canceled(t, 'canceled');
    } catch (e) {
      this.log(`asking about ${t.orderId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    const t = this.byOrderId.get(orderId);
    if (t === undefined) throw new TapedeckError('UNKNOWN_ORDER', `${orderId} is not an order this client knows`, { field: 'orderId' });
    let o: Record<string, unknown> | null;
    let fills;
    try {
      o = await this.venueOrder(t.hash);
      fills = o === null ? [] : await this.venueFills(t);
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY', e instanceof Error ? e.message : String(e));
    }
    if (o === null) {
      if (!t.accepted && t.filledLots === 0) t.done = true;
      return { orderId, state: 'not-found', filledLots: 0, leavesLots: 0 };
    }
    const reported: ReportedFill[] = fills.map((f) => ({ fillId: f.fillId, priceTicks: f.priceTicks, qtyLots: f.qtyLots, fee: 0n, feeScale: 0, feeCurrency: 'USDC', liquidity: f.liquidity }));
    const filledLots = fills.reduce((a, f) => a + f.qtyLots, 0);
    for (const f of fills) this.seenFills.add(f.fillId);
    t.filledLots = Math.max(t.filledLots, filledLots);
    const state = o.status === 'LIVE' ? 'open' : o.status === 'MATCHED' ? 'filled' : 'canceled';
    t.accepted = true;
    if (state !== 'open') t.done = true;
    return { orderId, state, filledLots, leavesLots: state === 'open' ? t.qtyLots - filledLots : 0, venueOrderId: t.hash, fills: reported };
  }

  /**
   * Everything the venue says about the log's orders: each order by its hash, and every trade of ours on the
   * tokens they traded (FAILED ones left out, and listed as fills to reverse), and the positions those trades make per token (token balances
   * on chain are not read).
   */
  async reconciliationReport(request: ReconciliationRequest & { orders?: Iterable<OrderIdentity & { filledLots?: number }> }): Promise<VenueReport & { reversedFills: Array<PayloadOf<'FillReversed'>> }> {
    if (request.orders !== undefined) this.adopt(request.orders);
    const orders: VenueOrderReport[] = [];
    const fills: VenueFill[] = [];
    const tokens = new Set<string>();
    for (const orderId of request.orderIds) {
      const t = this.byOrderId.get(orderId);
      if (t === undefined) continue;
      tokens.add(t.token);
      const o = await this.venueOrder(t.hash);
      if (o === null) {
        orders.push({ orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
        continue;
      }
      const matched = Math.round(Number(o.size_matched) * 10 ** QTY_SCALE);
      const original = Math.round(Number(o.original_size) * 10 ** QTY_SCALE);
      const state = o.status === 'LIVE' ? 'open' : o.status === 'MATCHED' ? 'filled' : 'canceled';
      orders.push({ orderId, state, filledLots: matched, leavesLots: state === 'open' ? original - matched : 0, venueOrderId: t.hash });
    }
    const positions = new Map<string, number>();
    const reversedFills: Array<PayloadOf<'FillReversed'>> = [];
    const ledgerFillIds = new Set<string>();
    for (const o of request.orders ?? []) for (const id of (o as { fillIds?: readonly string[] }).fillIds ?? []) ledgerFillIds.add(id);
    for (const token of tokens) {
      positions.set(token, 0);
      for (const tr of await this.rest.all('/data/trades', { asset_id: token })) {
        let parsed;
        try {
          parsed = this.parser!.parseMessage({ ...(tr as object), event_type: 'trade', timestamp: String((tr as { match_time?: unknown }).match_time ?? '0') }, { file: '/data/trades', line: 0, receiveTimeNs: this.clock() });
        } catch {
          continue;
        }
        if (parsed.kind !== 'trade') continue;
        const failed = parsed.status === 'FAILED';
        for (const f of parsed.fills) {
          if (failed) {
            const t = this.byHash.get(f.venueOrderId);
            if (t === undefined) continue;
            const fillId = polymarketFillId(f.tradeId, f.venueOrderId);
            reversedFills.push({
              orderId: t.orderId, venue: POLYMARKET, instrument: t.instrument, fillId, side: t.side, priceTicks: f.priceTicks,
              qtyLots: f.qtyLots, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, fee: 0n, feeScale: 0, feeCurrency: 'USDC', reason: `trade ${f.tradeId} FAILED on chain after MATCHED`,
            });
            // A failed trade the log never booked still counts in the order's matched size: it is reported as a
            // fill (and in the position) so the log books it, and then reverses it like the others.
            if (ledgerFillIds.has(fillId)) continue;
          }
          const held = f.instrument.slice(`${POLYMARKET}:`.length);
          if (positions.has(held)) positions.set(held, positions.get(held)! + (f.side === 'buy' ? f.qtyLots : -f.qtyLots));
          const t = this.byHash.get(f.venueOrderId);
          if (t === undefined) continue;
          fills.push({
            fillId: polymarketFillId(f.tradeId, f.venueOrderId), orderId: t.orderId, instrument: t.instrument, side: t.side, priceTicks: f.priceTicks,
            priceScale: PRICE_SCALE, qtyLots: f.qtyLots, qtyScale: QTY_SCALE, fee: 0n, feeScale: 0, feeCurrency: 'USDC', liquidity: f.liquidity,
          });
        }
      }
    }
    // Positions: our trades that did not fail, netted per token we traded (the chain's balances are not read).
    const reportedPositions = [...positions].map(([token, qtyLots]) => ({ instrument: `${POLYMARKET}:${token}`, qtyLots, qtyScale: QTY_SCALE }));
    return { venue: POLYMARKET, orders, openOrdersComplete: true, fills, positions: reportedPositions, positionsComplete: false, reversedFills };
  }

  /** Cancels every open order of the account at the venue (DELETE /cancel-all). */
  async cancelAll(): Promise<{ canceled: string[] }> {
    const r = (await this.rest.private('DELETE', '/cancel-all')) as { canceled?: unknown };
    return { canceled: Array.isArray(r.canceled) ? r.canceled.map(String) : [] };
  }

  /** Cancels an order of the log this client knows (adopted from a report); true when the venue canceled it. */
  async cancelAdopted(orderId: string): Promise<boolean> {
    const t = this.byOrderId.get(orderId);
    if (t === undefined) return false;
    try {
      const r = (await this.rest.private('DELETE', '/order', { body: { orderID: t.hash } })) as { canceled?: unknown };
      return Array.isArray(r.canceled) && r.canceled.map((x) => String(x).toLowerCase()).includes(t.hash);
    } catch {
      return false;
    }
  }

  // ---------- events ----------

  private report(type: string, data: Record<string, unknown>, key: string, raw?: string): void {
    const now = this.clock();
    const env = {
      id: uuidFromName(`venue:${POLYMARKET}`, key), type, schemaVersion: 1, stream: STREAM, eventTimeNs: now, receiveTimeNs: now,
      causationId: null, correlationId: null, data,
      ...(raw !== undefined ? { raw: { format: 'json' as const, bytes: new TextEncoder().encode(raw) } } : {}),
    } as unknown as AnyEnvelope;
    this.outlets.report(env);
  }

  private sent(orderId: string, messageType: string, text: string): void {
    const now = this.clock();
    const env = {
      id: uuidFromName(`venue:${POLYMARKET}`, `sent:${orderId}:${messageType}:${this.seq++}:${now}`), type: 'VenueMessageSent', schemaVersion: 1, stream: STREAM,
      eventTimeNs: now, receiveTimeNs: now, causationId: null, correlationId: null, data: { orderId, venue: POLYMARKET, messageType },
      raw: { format: 'text' as const, bytes: new TextEncoder().encode(text) },
    } as unknown as AnyEnvelope;
    this.outlets.sent(env);
  }

  private log(line: string): void {
    this.o.onLog?.(line);
  }
}
