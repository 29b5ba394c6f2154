/**
 * The ccxt execution client: one ExecutionClient (src/venues/port.ts) for any ccxt exchange id.
 *
 * Commands go out through ccxt's REST methods (createOrder, cancelOrder, editOrder, or cancel-then-new where
 * the exchange has no edit, recorded as such); the venue's answers, its user stream (ccxt's WebSocket client,
 * which authenticates and subscribes; the raw execution reports are taken as they arrive, none merged) and
 * queries after a gap become order-lifecycle events, each fact once:
 * - OrderAccepted once per order; a fill once per venue trade id (fill id `<VENUE>:<symbol>:<trade id>`, the
 *   event id derived from it); a terminal event once, and only for the order's current venue order (a replace
 *   cancels the previous one, which is not a cancel of ours);
 * - acks are not states (normalize.ts): an ids-only answer is followed by a query, never read as "open";
 * - an outcome that cannot be known (timeout, dropped connection, 5xx, 429) is OrderStatusUnknown, and the
 *   engine asks `queryOrder` before trading on; creates are never retried (the venue would see a second order);
 * - 429/418 put the client in back-off (doubling, up to a minute), recorded in the unknown's reason; our own
 *   budget (requests per second) sits on top of ccxt's rate limiter;
 * - a user-stream gap reconnects with back-off and resynchronises every working order over REST.
 * Every request is recorded as VenueMessageSent with its bytes (method, URL, body; credentials redacted), and
 * every report carries the venue's JSON as its raw bytes. Errors are redacted before they leave this module.
 */
import { drainInflight, ReportOutlets, runCommand } from '../common/execution-outlets.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import ccxt from 'ccxt';
import { TapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import { formatDecimal, parseDecimal } from '../../../domain/core/fixed.js';
import type { ReportedFill, VenueOrderStatus } from '../../../domain/orders/lifecycle.js';
import { wallClockNs } from '../common/clock.js';
import type { ExecutionClient, OrderStatusReport } from '../port.js';
import type { CcxtExchange } from './exchange.js';
import { clientOrderIdFor, decimalText, fillIdFor, normalizeOrder, normalizeTrade, orderIdFromClientId, toLots, venueEventId, type NormalizedFill, type NormalizedOrder } from './normalize.js';

export interface InstrumentInfo {
  instrument: string;
  /** ccxt's unified symbol (NKN/USDT) and the venue's id (NKNUSDT). */
  symbol: string;
  marketId: string;
  priceScale: number;
  qtyScale: number;
  base: string;
  quote: string;
}

export interface CcxtExecutionOptions {
  exchange: CcxtExchange;
  exchangeId: string;
  venue: string;
  instruments: Map<string, InstrumentInfo>;
  redact: (text: string) => string;
  /** Receive clock, ns (default: the wall clock). */
  clockNs?: () => bigint;
  /**
   * Event time for what the venue did not timestamp (an unknown outcome, a refusal made here): the latest
   * venue time seen (the market data's), so event time stays venue time. Default: the receive clock.
   */
  eventClockNs?: () => bigint;
  /** Our own request budget on top of ccxt's limiter. */
  requestsPerSecond?: number;
  /** Fill ids already in the log: never reported again. */
  knownFillIds?: Iterable<string>;
  /** Diagnostics, already redacted (back-offs, stream gaps). */
  onLog?: (line: string) => void;
}

interface Tracked {
  orderId: string;
  info: InstrumentInfo;
  side: 'buy' | 'sell';
  orderType: 'limit' | 'market';
  priceTicks: number | null;
  qtyLots: number;
  filledLots: number;
  postOnly: boolean;
  timeInForce: string;
  replaceCount: number;
  venueOrderId: string | null;
  /** Filled lots per venue order id (a replaced order has several). */
  filledByVenueOrder: Map<string, number>;
  accepted: boolean;
  done: boolean;
  pendingReplace: { n: number; priceTicks: number | null; qtyLots: number } | null;
  /** Reports about the replacement's venue order that came before the replace's answer. */
  held: Array<() => void>;
}

interface RequestContext {
  orderId: string;
  messageType: string;
  written: () => void;
}

const STREAM = 'venue';
const noop = (): void => undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CcxtExecutionClient implements ExecutionClient {
  readonly venue: string;
  private readonly ex: CcxtExchange;
  private readonly orders = new Map<string, Tracked>();
  private readonly seenFills = new Set<string>();
  private readonly outlets = new ReportOutlets();
  private readonly als = new AsyncLocalStorage<RequestContext>();
  private readonly clock: () => bigint;
  private readonly eventClock: () => bigint;
  private readonly redact: (t: string) => string;
  private closed = false;
  private backoffUntilMs = 0;
  private backoffMs = 0;
  private readonly budget: { tokens: number; atMs: number; perSecond: number };
  private streamTask: Promise<void> | null = null;
  private sentSeq = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Counters for tests and the run summary. */
  readonly stats = { requests: 0, rateLimited: 0, unknown: 0, streamGaps: 0, resyncs: 0, duplicateReports: 0 };

  constructor(private readonly o: CcxtExecutionOptions) {
    this.venue = o.venue;
    this.ex = o.exchange;
    this.clock = o.clockNs ?? wallClockNs;
    this.eventClock = o.eventClockNs ?? this.clock;
    this.redact = o.redact;
    for (const f of o.knownFillIds ?? []) this.seenFills.add(f);
    const rps = o.requestsPerSecond ?? 20;
    this.budget = { tokens: rps, atMs: Date.now(), perSecond: rps };
    // Every HTTP request, as it goes out, is recorded (bytes, credentials redacted).
    const origFetch = this.ex.fetch.bind(this.ex);
    this.ex.fetch = async (url: string, method: string, headers: unknown, body: unknown) => {
      const ctx = this.als.getStore();
      this.stats.requests++;
      if (ctx) {
        this.sent(ctx.orderId, ctx.messageType, `${method} ${url}${typeof body === 'string' && body !== '' ? `\n${body}` : ''}`);
        ctx.written();
      }
      return origFetch(url, method, headers, body);
    };
    // Every user-stream message, as it arrives (ccxt handles it afterwards as usual).
    const origHandle = this.ex.handleMessage.bind(this.ex);
    this.ex.handleMessage = (client: unknown, message: unknown) => {
      try {
        this.onStreamMessage(message);
      } catch (e) {
        this.log(`user stream message not understood: ${this.describe(e)}`);
      }
      return origHandle(client, message);
    };
  }

  async connect(): Promise<void> {
    if (this.ex.has?.watchOrders && typeof this.ex.authenticate === 'function') {
      // Subscribed before the first order goes out, so no execution report can be missed.
      await this.ex.authenticate({ type: 'spot' });
    }
    this.streamTask = this.streamLoop();
  }

  onReport(listener: (event: AnyEnvelope) => void): void {
    this.outlets.onReport(listener);
  }

  onSent(listener: (event: AnyEnvelope) => void): void {
    this.outlets.onSent(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await drainInflight(this.inflight);
    try {
      await this.ex.close();
    } catch {
      // closing sockets that are already gone
    }
    await this.streamTask?.catch(() => undefined);
  }

  /** Orders this client has sent and not seen finish. */
  workingOrderIds(): string[] {
    return [...this.orders.values()].filter((t) => !t.done).map((t) => t.orderId);
  }

  // ---------- commands ----------

  send(command: VenueCommand): Promise<void> {
    if (this.closed) return Promise.reject(new TapedeckError('CLIENT_CLOSED', `${this.venue} execution client is closed`));
    return runCommand(this.inflight, (written) => this.run(command, written), (e) => this.log(`${command.kind} ${command.orderId}: ${this.describe(e)}`));
  }

  private async run(c: VenueCommand, written: () => void): Promise<void> {
    if (c.kind === 'SubmitOrder') return this.submit(c, written);
    const t = this.orders.get(c.orderId);
    if (t === undefined) {
      written();
      if (c.kind === 'CancelOrder') this.report('CancelRejected', { orderId: c.orderId, reason: 'not an order of this session' }, `cancel-rejected:${c.orderId}:${this.sentSeq++}`);
      else this.report('ReplaceRejected', { orderId: c.orderId, reason: 'not an order of this session' }, `replace-rejected:${c.orderId}:${this.sentSeq++}`);
      return;
    }
    if (c.kind === 'CancelOrder') return this.cancel(t, written);
    return this.replace(t, c.priceTicks, c.qtyLots, written);
  }

  private instrument(instrument: string): InstrumentInfo {
    const info = this.o.instruments.get(instrument);
    if (info === undefined) throw new TapedeckError('UNKNOWN_INSTRUMENT', `${instrument} is not a market of ${this.venue} in this session`, { field: 'instrument' });
    return info;
  }

  private async submit(c: Extract<VenueCommand, { kind: 'SubmitOrder' }>, written: () => void): Promise<void> {
    const info = this.instrument(c.instrument);
    const t: Tracked = {
      orderId: c.orderId, info, side: c.side, orderType: c.orderType, priceTicks: c.priceTicks, qtyLots: c.qtyLots, filledLots: 0,
      postOnly: c.postOnly, timeInForce: c.timeInForce, replaceCount: 0, venueOrderId: null, filledByVenueOrder: new Map(),
      accepted: false, done: false, pendingReplace: null, held: [],
    };
    this.orders.set(c.orderId, t);
    const amount = formatDecimal(c.qtyLots, c.qtyScale);
    const price = c.priceTicks === null ? undefined : formatDecimal(c.priceTicks, c.priceScale);
    // Rounding follows ccxt (amounts truncated to precision, prices to the tick): an order it would change
    // is not the order the kernel decided, so it is refused here, never silently altered.
    const roundProblem = this.precisionProblem(info, amount, price);
    if (roundProblem !== null) {
      written();
      t.done = true;
      this.report('OrderRejected', { orderId: c.orderId, reason: roundProblem, venueCode: 'PRECISION' }, `rejected:${c.orderId}`);
      return;
    }
    const params: Record<string, unknown> = { clientOrderId: clientOrderIdFor(this.o.exchangeId, c.orderId, 0) };
    if (c.postOnly) params.postOnly = true;
    else if (c.orderType === 'limit' && c.timeInForce !== 'GTC') params.timeInForce = c.timeInForce;
    let answer: unknown;
    try {
      await this.waitBudget();
      answer = await this.request(c.orderId, 'CreateOrder', written, () =>
        this.ex.createOrder(info.symbol, c.orderType, c.side, Number(amount), price === undefined ? undefined : Number(price), params));
    } catch (e) {
      return this.failed(t, 'create', e);
    }
    const norm = normalizeOrder(this.o.exchangeId, answer);
    if (norm.kind === 'rejected') {
      t.done = true;
      this.report('OrderRejected', { orderId: t.orderId, reason: this.redact(norm.reason ?? 'rejected'), ...(norm.venueCode ? { venueCode: norm.venueCode } : {}) }, `rejected:${t.orderId}`, answer);
      return;
    }
    if (norm.venueOrderId !== null) t.venueOrderId ??= norm.venueOrderId;
    if (norm.kind === 'ack') {
      // Ids only: the state comes from the stream, or from a query now.
      await this.refresh(t);
      return;
    }
    await this.applyOrderState(t, 0, norm, answer);
  }

  private precisionProblem(info: InstrumentInfo, amount: string, price: string | undefined): string | null {
    try {
      const a = this.ex.amountToPrecision(info.symbol, amount) as string;
      if (parseDecimal(a, info.qtyScale) !== parseDecimal(amount, info.qtyScale)) return `amount ${amount} is not a multiple of ${info.symbol}'s amount precision (ccxt truncates it to ${a})`;
      if (price !== undefined) {
        const p = this.ex.priceToPrecision(info.symbol, price) as string;
        if (parseDecimal(p, info.priceScale) !== parseDecimal(price, info.priceScale)) return `price ${price} is not on ${info.symbol}'s tick (ccxt rounds it to ${p})`;
      }
      return null;
    } catch (e) {
      return this.describe(e);
    }
  }

  private async cancel(t: Tracked, written: () => void): Promise<void> {
    const cid = clientOrderIdFor(this.o.exchangeId, t.orderId, t.replaceCount);
    let answer: unknown;
    try {
      await this.waitBudget();
      answer = await this.request(t.orderId, 'CancelOrder', written, () => this.ex.cancelOrder(t.venueOrderId ?? undefined, t.info.symbol, { origClientOrderId: cid, clientOrderId: cid }));
    } catch (e) {
      if (e instanceof ccxt.OrderNotFound || (e instanceof ccxt.ExchangeError && !(e instanceof ccxt.NetworkError))) {
        if (!t.done) this.report('CancelRejected', { orderId: t.orderId, reason: this.redact(this.describe(e)) }, `cancel-rejected:${t.orderId}:${this.sentSeq++}`);
        await this.refresh(t);
        return;
      }
      this.noteRateLimit(e);
      await this.refresh(t, true);
      return;
    }
    const norm = normalizeOrder(this.o.exchangeId, answer);
    if (norm.kind === 'state') await this.applyOrderState(t, t.replaceCount, norm, answer);
    else await this.refresh(t);
  }

  private async replace(t: Tracked, priceTicks: number | null, qtyLots: number, written: () => void): Promise<void> {
    const n = t.replaceCount + 1;
    t.pendingReplace = { n, priceTicks, qtyLots };
    const oldCid = clientOrderIdFor(this.o.exchangeId, t.orderId, t.replaceCount);
    const newCid = clientOrderIdFor(this.o.exchangeId, t.orderId, n);
    const amount = formatDecimal(qtyLots - t.filledLots, t.info.qtyScale);
    const price = priceTicks === null ? undefined : formatDecimal(priceTicks, t.info.priceScale);
    const problem = this.precisionProblem(t.info, amount, price);
    if (problem !== null || qtyLots <= t.filledLots) {
      written();
      t.pendingReplace = null;
      this.report('ReplaceRejected', { orderId: t.orderId, reason: problem ?? `new total ${qtyLots} lots does not exceed the ${t.filledLots} lots filled` }, `replace-rejected:${t.orderId}:${n}`);
      return;
    }
    const params: Record<string, unknown> = { clientOrderId: newCid };
    if (t.postOnly) params.postOnly = true;
    if (t.venueOrderId === null) params.cancelOrigClientOrderId = oldCid;
    let answer: unknown;
    let totalLots: number | null = null;
    try {
      await this.waitBudget();
      if (this.o.exchangeId === 'binance') {
        // Binance's cancelReplace, called directly (ccxt's editOrder builds the same request but returns only the
        // new order): the cancel half says how much the old order had filled, so the order's new total is exact
        // even when a fill raced the replace.
        const payload = this.ex.editSpotOrderRequest(t.venueOrderId ?? '', t.info.symbol, t.orderType, t.side, Number(amount), price === undefined ? undefined : Number(price), params);
        const raw = (await this.request(t.orderId, 'EditOrder', written, () => this.ex.privatePostOrderCancelReplace(payload))) as { newOrderResponse?: unknown; cancelResponse?: { executedQty?: string } };
        answer = this.ex.parseOrder(raw.newOrderResponse ?? {}, this.ex.market(t.info.symbol));
        const oldFilled = raw.cancelResponse?.executedQty;
        const newAmount = decimalText((answer as { amount?: unknown }).amount);
        if (oldFilled !== undefined && newAmount !== null) {
          const old = t.venueOrderId;
          const prior = t.filledLots - (old === null ? 0 : t.filledByVenueOrder.get(old) ?? 0);
          totalLots = prior + toLots(oldFilled, t.info.qtyScale, 'cancelResponse.executedQty') + toLots(newAmount, t.info.qtyScale, 'amount');
        }
      } else if (this.ex.has?.editOrder) {
        answer = await this.request(t.orderId, 'EditOrder', written, () =>
          this.ex.editOrder(t.venueOrderId ?? '', t.info.symbol, t.orderType, t.side, Number(amount), price === undefined ? undefined : Number(price), params));
      } else {
        // No edit at this venue: cancel, then a new order under the next client id; recorded as such.
        await this.request(t.orderId, 'CancelThenNew:Cancel', written, () => this.ex.cancelOrder(t.venueOrderId ?? undefined, t.info.symbol, { clientOrderId: oldCid }));
        answer = await this.request(t.orderId, 'CancelThenNew:New', () => undefined, () =>
          this.ex.createOrder(t.info.symbol, t.orderType, t.side, Number(amount), price === undefined ? undefined : Number(price), params));
      }
    } catch (e) {
      const code = /"code":\s*(-?\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
      if (e instanceof ccxt.ExchangeError && !(e instanceof ccxt.NetworkError) && code !== '-2021') {
        // The cancel part failed: nothing changed (the order is probably done; a query tells).
        this.replaceRejected(t, n, this.describe(e));
        await this.refresh(t);
        return;
      }
      this.noteRateLimit(e);
      await this.resolveReplace(t, n);
      return;
    }
    const norm = normalizeOrder(this.o.exchangeId, answer);
    this.replaced(t, n, norm.venueOrderId, answer, totalLots);
    if (norm.kind === 'state') await this.applyOrderState(t, n, norm, answer);
    else await this.refresh(t);
  }

  /** `totalLots`: the order's total at the venue after the replace (filled so far + the new order), when known. */
  private replaced(t: Tracked, n: number, venueOrderId: string | null, raw: unknown, totalLots: number | null = null): void {
    const p = t.pendingReplace;
    if (p === null || p.n !== n) return;
    t.pendingReplace = null;
    t.replaceCount = n;
    t.priceTicks = p.priceTicks;
    t.qtyLots = totalLots !== null && totalLots > t.filledLots ? totalLots : p.qtyLots;
    if (venueOrderId !== null) t.venueOrderId = venueOrderId;
    this.report('OrderReplaced', { orderId: t.orderId, priceTicks: p.priceTicks, qtyLots: t.qtyLots, ...(venueOrderId !== null ? { venueOrderId } : {}) }, `replaced:${t.orderId}:${n}`, raw);
    for (const h of t.held.splice(0)) h();
  }

  private replaceRejected(t: Tracked, n: number, reason: string): void {
    if (t.pendingReplace === null || t.pendingReplace.n !== n) return;
    t.pendingReplace = null;
    t.held.length = 0;
    this.report('ReplaceRejected', { orderId: t.orderId, reason: this.redact(reason) }, `replace-rejected:${t.orderId}:${n}`);
  }

  /** A replace whose outcome is unknown: the new venue order exists (replaced) or not (then the old one tells). */
  private async resolveReplace(t: Tracked, n: number): Promise<void> {
    const fresh = await this.fetchState(t, n);
    if (fresh !== null && fresh.kind !== 'rejected') {
      this.replaced(t, n, fresh.venueOrderId, fresh);
      if (fresh.kind === 'state') await this.applyOrderState(t, n, fresh, fresh);
      return;
    }
    this.replaceRejected(t, n, 'the replace did not reach the venue');
    await this.refresh(t);
  }

  /** Runs a ccxt call with the request context (so its bytes are recorded against the order). */
  private request<T>(orderId: string, messageType: string, written: () => void, call: () => Promise<T>): Promise<T> {
    return this.als.run({ orderId, messageType, written }, call);
  }

  private failed(t: Tracked, what: string, e: unknown): void {
    const rateLimited = this.noteRateLimit(e);
    if (e instanceof ccxt.ExchangeError && !(e instanceof ccxt.NetworkError)) {
      t.done = true;
      const code = /"code":\s*(-?\d+)/.exec(e.message)?.[1];
      this.report('OrderRejected', { orderId: t.orderId, reason: this.redact(this.describe(e)), ...(code ? { venueCode: code } : {}) }, `rejected:${t.orderId}`);
      return;
    }
    this.stats.unknown++;
    const why = rateLimited ? `rate limited (${this.describe(e)}); backing off ${this.backoffMs} ms` : `${what} outcome unknown: ${this.describe(e)}`;
    this.report('OrderStatusUnknown', { orderId: t.orderId, reason: this.redact(why) }, `unknown:${t.orderId}:${this.sentSeq++}`);
  }

  /** 429 (and Binance's 418 ban): back off, doubling up to a minute. Returns true when it was one. */
  private noteRateLimit(e: unknown): boolean {
    if (!(e instanceof ccxt.RateLimitExceeded || e instanceof ccxt.DDoSProtection)) return false;
    this.stats.rateLimited++;
    this.backoffMs = Math.min(60_000, this.backoffMs === 0 ? 1000 : this.backoffMs * 2);
    this.backoffUntilMs = Date.now() + this.backoffMs;
    this.log(`${this.venue} rate limited: backing off ${this.backoffMs} ms`);
    return true;
  }

  private async waitBudget(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now < this.backoffUntilMs) {
        await sleep(this.backoffUntilMs - now);
        continue;
      }
      const b = this.budget;
      b.tokens = Math.min(b.perSecond, b.tokens + ((now - b.atMs) / 1000) * b.perSecond);
      b.atMs = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        if (this.backoffMs > 0 && now > this.backoffUntilMs + 10_000) this.backoffMs = 0;
        return;
      }
      await sleep(Math.ceil(((1 - b.tokens) / b.perSecond) * 1000));
    }
  }

  // ---------- what the venue says ----------

  /** An order's state as the venue reported it (REST answer or query), applied to what we know. */
  private async applyOrderState(t: Tracked, n: number, norm: NormalizedOrder, raw: unknown): Promise<void> {
    const vid = norm.venueOrderId;
    if (n === t.replaceCount && vid !== null) t.venueOrderId ??= vid;
    const at = norm.timestampMs;
    if (norm.state === 'open' || norm.state === 'filled' || (norm.filled !== null && parseDecimal(norm.filled, t.info.qtyScale) > 0n)) this.accepted(t, vid, at, raw);
    for (const f of norm.fills) this.fill(t, { ...f, venueOrderId: f.venueOrderId ?? vid }, raw);
    // The venue counts more filled than the fills it listed: fetch that order's trades before a terminal event.
    if (vid !== null && norm.filled !== null) {
      const venueFilled = toLots(norm.filled, t.info.qtyScale, 'filled');
      if (venueFilled > (t.filledByVenueOrder.get(vid) ?? 0)) await this.fetchFills(t, vid);
    }
    if (n !== t.replaceCount || t.pendingReplace !== null) return; // a replaced order's cancel is not ours
    if (norm.state === 'canceled' || norm.state === 'expired' || norm.state === 'rejected') this.terminal(t, norm.state, at, raw);
  }

  private accepted(t: Tracked, venueOrderId: string | null, atMs: number | null, raw: unknown): void {
    if (t.accepted || t.done) return;
    t.accepted = true;
    this.report('OrderAccepted', { orderId: t.orderId, venueOrderId: venueOrderId ?? t.venueOrderId ?? `unknown:${t.orderId}` }, `accepted:${t.orderId}`, raw, atMs);
  }

  private fill(t: Tracked, f: NormalizedFill, raw: unknown): void {
    const fillId = fillIdFor(this.venue, t.info.marketId, f.tradeId);
    if (this.seenFills.has(fillId)) {
      this.stats.duplicateReports++;
      return;
    }
    const qty = toLots(f.qty, t.info.qtyScale, 'fill.qty');
    if (qty <= 0 || qty > t.qtyLots - t.filledLots) {
      this.log(`fill ${fillId} of ${f.qty} does not fit order ${t.orderId} (${t.qtyLots - t.filledLots} lots left): left to reconciliation`);
      return;
    }
    this.seenFills.add(fillId);
    this.accepted(t, f.venueOrderId, f.timestampMs, raw);
    t.filledLots += qty;
    if (f.venueOrderId !== null) t.filledByVenueOrder.set(f.venueOrderId, (t.filledByVenueOrder.get(f.venueOrderId) ?? 0) + qty);
    const leaves = t.qtyLots - t.filledLots;
    const { fee, feeScale } = feeMantissa(f.fee);
    this.report('OrderFilled', {
      orderId: t.orderId, venue: this.venue, instrument: t.info.instrument, fillId, side: t.side,
      priceTicks: toLots(f.price, t.info.priceScale, 'fill.price'), qtyLots: qty, priceScale: t.info.priceScale, qtyScale: t.info.qtyScale,
      fee, feeScale, feeCurrency: f.feeCurrency ?? t.info.quote, liquidity: f.liquidity, leavesLots: leaves,
    }, `fill:${fillId}`, raw, f.timestampMs);
    if (leaves === 0) t.done = true;
  }

  private terminal(t: Tracked, state: 'canceled' | 'expired' | 'rejected', atMs: number | null, raw: unknown): void {
    if (t.done) return;
    t.done = true;
    const leaves = t.qtyLots - t.filledLots;
    if (state === 'canceled') this.report('OrderCanceled', { orderId: t.orderId, canceledLots: leaves, reason: 'venue: canceled' }, `canceled:${t.orderId}`, raw, atMs);
    else if (state === 'expired') this.report('OrderExpired', { orderId: t.orderId }, `expired:${t.orderId}`, raw, atMs);
    else if (!t.accepted && t.filledLots === 0) this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: rejected' }, `rejected:${t.orderId}`, raw, atMs);
    else this.report('OrderCanceled', { orderId: t.orderId, canceledLots: leaves, reason: 'venue: rejected after acceptance' }, `canceled:${t.orderId}`, raw, atMs);
  }

  /** Binance's execution reports, from the user stream (ws-api wraps them in {subscriptionId, event}). */
  private onStreamMessage(message: unknown): void {
    const m = message as Record<string, unknown> | null;
    const ev = (m && typeof m.event === 'object' ? m.event : m) as Record<string, unknown> | null;
    if (ev === null || ev.e !== 'executionReport') return;
    const x = String(ev.x);
    const cid = x === 'CANCELED' && typeof ev.C === 'string' && ev.C !== '' ? ev.C : String(ev.c);
    const ours = orderIdFromClientId(cid);
    if (ours === null) return;
    const t = this.orders.get(ours.orderId);
    if (t === undefined) return; // an order of an earlier session: reconciliation's business
    const apply = (): void => this.onExecutionReport(t, ours.replaceCount, x, ev);
    if (t.pendingReplace !== null && ours.replaceCount === t.pendingReplace.n) {
      t.held.push(apply);
      return;
    }
    apply();
  }

  private readonly reportKeys = new Set<string>();

  private onExecutionReport(t: Tracked, n: number, x: string, ev: Record<string, unknown>): void {
    // The same execution report twice (a venue or network duplicate) is one report.
    const key = `${String(ev.i)}:${x}:${String(ev.X)}:${String(ev.z)}:${String(ev.t)}`;
    if (this.reportKeys.has(key)) {
      this.stats.duplicateReports++;
      return;
    }
    if (this.reportKeys.size > 100_000) this.reportKeys.clear();
    this.reportKeys.add(key);
    const vid = ev.i === undefined ? null : String(ev.i);
    const atMs = typeof ev.E === 'number' ? ev.E : null;
    if (n > t.replaceCount) return; // a replacement we never heard of: left to queries
    if (n === t.replaceCount && vid !== null) t.venueOrderId ??= vid;
    switch (x) {
      case 'NEW':
        if (n === t.replaceCount) this.accepted(t, vid, atMs, ev);
        return;
      case 'TRADE':
        this.fill(t, {
          tradeId: String(ev.t), venueOrderId: vid, price: String(ev.L), qty: String(ev.l), fee: String(ev.n ?? '0'),
          feeCurrency: typeof ev.N === 'string' ? ev.N : null, liquidity: ev.m === true ? 'maker' : 'taker', timestampMs: typeof ev.T === 'number' ? ev.T : atMs,
        }, ev);
        return;
      case 'CANCELED':
      case 'EXPIRED':
      case 'REJECTED':
        if (n !== t.replaceCount || t.pendingReplace !== null) return;
        if (vid !== null && toLots(String(ev.z ?? '0'), t.info.qtyScale, 'z') > (t.filledByVenueOrder.get(vid) ?? 0)) {
          // Fills we have not seen: fetch them, then close the order.
          void this.fetchFills(t, vid).then(() => this.terminal(t, x === 'CANCELED' ? 'canceled' : x === 'EXPIRED' ? 'expired' : 'rejected', atMs, ev));
          return;
        }
        this.terminal(t, x === 'CANCELED' ? 'canceled' : x === 'EXPIRED' ? 'expired' : 'rejected', atMs, ev);
        return;
      default:
        return;
    }
  }

  /** The venue's trades of one of its orders that we have not seen. */
  private async fetchFills(t: Tracked, venueOrderId: string): Promise<void> {
    try {
      await this.waitBudget();
      const trades = await this.request(t.orderId, 'FetchMyTrades', noop, () => this.ex.fetchMyTrades(t.info.symbol, undefined, undefined, { orderId: venueOrderId }));
      for (const tr of trades as unknown[]) {
        const f = normalizeTrade(tr);
        if ((f.venueOrderId ?? venueOrderId) === venueOrderId) this.fill(t, { ...f, venueOrderId }, tr);
      }
    } catch (e) {
      this.noteRateLimit(e);
      this.log(`fetching the trades of ${venueOrderId}: ${this.describe(e)}`);
    }
  }

  /** The venue's state of the n-th venue order of t (null: not found). */
  private async fetchState(t: Tracked, n: number): Promise<NormalizedOrder | null> {
    const cid = clientOrderIdFor(this.o.exchangeId, t.orderId, n);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.waitBudget();
        const o = await this.request(t.orderId, 'FetchOrder', noop, () => this.ex.fetchOrder(undefined, t.info.symbol, { origClientOrderId: cid, clientOrderId: cid }));
        return normalizeOrder(this.o.exchangeId, o);
      } catch (e) {
        if (e instanceof ccxt.OrderNotFound) return null;
        this.noteRateLimit(e);
        if (attempt >= 8 || this.closed) throw e;
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  /** Asks the venue where the order stands and applies the answer (after an unclear outcome, or a gap). */
  private async refresh(t: Tracked, cancelWasSent = false): Promise<void> {
    if (t.done) return;
    let st: NormalizedOrder | null;
    try {
      st = await this.fetchState(t, t.replaceCount);
    } catch (e) {
      this.stats.unknown++;
      this.report('OrderStatusUnknown', { orderId: t.orderId, reason: this.redact(`the venue could not be asked: ${this.describe(e)}`) }, `unknown:${t.orderId}:${this.sentSeq++}`);
      return;
    }
    if (st === null) {
      if (!t.accepted && t.filledLots === 0) {
        t.done = true;
        this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: no such order (it never reached the venue)' }, `rejected:${t.orderId}`);
      }
      return;
    }
    await this.applyOrderState(t, t.replaceCount, st, st);
    if (cancelWasSent && !t.done) this.report('CancelRejected', { orderId: t.orderId, reason: 'the cancel did not take: the order is still open' }, `cancel-rejected:${t.orderId}:${this.sentSeq++}`);
  }

  /** After a gap in the user stream: every working order's state and trades over REST. */
  async resync(): Promise<void> {
    this.stats.resyncs++;
    for (const t of [...this.orders.values()]) {
      if (t.done || t.pendingReplace !== null) continue;
      try {
        await this.refresh(t);
        if (t.venueOrderId !== null && !t.done) await this.fetchFills(t, t.venueOrderId);
      } catch (e) {
        this.log(`resync of ${t.orderId}: ${this.describe(e)}`);
      }
    }
  }

  private async streamLoop(): Promise<void> {
    if (!this.ex.has?.watchOrders) return;
    let failures = 0;
    while (!this.closed) {
      try {
        await this.ex.watchOrders();
        failures = 0;
      } catch (e) {
        if (this.closed) return;
        failures++;
        this.stats.streamGaps++;
        this.log(`user stream gap (${this.describe(e)}): reconnecting, then resynchronising over REST`);
        await sleep(Math.min(2000, 50 * 2 ** failures));
        if (this.closed) return;
        try {
          if (typeof this.ex.authenticate === 'function') await this.ex.authenticate({ type: 'spot' });
        } catch (err) {
          this.log(`user stream resubscribe failed: ${this.describe(err)}`);
          continue;
        }
        await this.resync();
      }
    }
  }

  // ---------- queries (the engine's resolveUnknown) ----------

  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    const t = this.orders.get(orderId);
    if (t === undefined) throw new TapedeckError('UNKNOWN_ORDER', `${orderId} was not sent by this session`, { field: 'orderId' });
    let st: NormalizedOrder | null;
    try {
      st = await this.fetchState(t, t.replaceCount);
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY', this.redact(this.describe(e)));
    }
    if (st === null) {
      if (!t.accepted && t.filledLots === 0) t.done = true;
      return { orderId, state: 'not-found', filledLots: t.filledLots, leavesLots: 0 };
    }
    const vid = st.venueOrderId;
    const fills: ReportedFill[] = [];
    let filledLots = 0;
    // All the order's trades (over every venue order it had); the lifecycle keeps the ones it lacks.
    for (const v of new Set([...t.filledByVenueOrder.keys(), ...(vid !== null ? [vid] : [])])) {
      const trades = (await this.request(orderId, 'FetchMyTrades', noop, () => this.ex.fetchMyTrades(t.info.symbol, undefined, undefined, { orderId: v }))) as unknown[];
      for (const tr of trades) {
        const f = normalizeTrade(tr);
        const fillId = fillIdFor(this.venue, t.info.marketId, f.tradeId);
        const qty = toLots(f.qty, t.info.qtyScale, 'fill.qty');
        filledLots += qty;
        const { fee, feeScale } = feeMantissa(f.fee);
        fills.push({ fillId, priceTicks: toLots(f.price, t.info.priceScale, 'fill.price'), qtyLots: qty, fee, feeScale, feeCurrency: f.feeCurrency ?? t.info.quote, liquidity: f.liquidity });
        if (!this.seenFills.has(fillId)) {
          this.seenFills.add(fillId);
          t.filledByVenueOrder.set(v, (t.filledByVenueOrder.get(v) ?? 0) + qty);
        }
      }
    }
    t.filledLots = Math.max(t.filledLots, filledLots);
    const state = st.state ?? 'open';
    if (state === 'open') t.accepted = true;
    else t.done = true;
    if (vid !== null) t.venueOrderId = vid;
    const status: VenueOrderStatus & { orderId: string } = { orderId, state, filledLots, leavesLots: state === 'open' ? t.qtyLots - filledLots : 0, ...(vid !== null ? { venueOrderId: vid } : {}), fills };
    return status as OrderStatusReport;
  }

  // ---------- events ----------

  private report(type: string, data: Record<string, unknown>, key: string, raw?: unknown, atMs?: number | null): void {
    const now = this.clock();
    const env = {
      id: venueEventId(this.venue, key), type, schemaVersion: 1, stream: STREAM,
      eventTimeNs: atMs !== null && atMs !== undefined ? BigInt(Math.trunc(atMs)) * 1_000_000n : this.eventClock(), receiveTimeNs: now,
      causationId: null, correlationId: null, data,
      ...(raw !== undefined ? { raw: { format: 'json' as const, bytes: new TextEncoder().encode(this.redact(safeJson(raw))) } } : {}),
    } as unknown as AnyEnvelope;
    this.outlets.report(env);
  }

  private sent(orderId: string, messageType: string, text: string): void {
    const now = this.clock();
    const env = {
      id: venueEventId(this.venue, `sent:${orderId}:${messageType}:${this.sentSeq++}:${now}`), type: 'VenueMessageSent', schemaVersion: 1, stream: STREAM,
      eventTimeNs: this.eventClock(), receiveTimeNs: now, causationId: null, correlationId: null,
      data: { orderId, venue: this.venue, messageType },
      raw: { format: 'text' as const, bytes: new TextEncoder().encode(this.redact(text)) },
    } as unknown as AnyEnvelope;
    this.outlets.sent(env);
  }

  private log(line: string): void {
    this.o.onLog?.(this.redact(line));
  }

  private describe(e: unknown): string {
    const name = e instanceof Error ? e.constructor.name : 'Error';
    return this.redact(`${name}: ${e instanceof Error ? e.message : String(e)}`).slice(0, 500);
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
  } catch {
    return '"(unserialisable)"';
  }
}

/** A fee as ccxt printed it → mantissa and scale (exact). */
function feeMantissa(text: string): { fee: bigint; feeScale: number } {
  const t = decimalText(text) ?? '0';
  const dot = t.indexOf('.');
  const scale = dot < 0 ? 0 : Math.min(18, t.length - dot - 1);
  return { fee: parseDecimal(t, scale, 'fee'), feeScale: scale };
}

