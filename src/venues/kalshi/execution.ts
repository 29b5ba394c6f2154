/**
 * The Kalshi execution client (ExecutionClient, src/venues/port.ts) over the Trade API v2 order routes.
 *
 *   SubmitOrder   POST /portfolio/events/orders {ticker, client_order_id, side bid|ask, count, price, post_only,
 *                 time_in_force}: buy = bid, sell = ask on the market's one (YES) book
 *   CancelOrder   DELETE /portfolio/events/orders/{order_id}
 *   ReplaceOrder  POST /portfolio/events/orders/{order_id}/amend (price, count = the new total; the order keeps
 *                 its id and takes the next client order id)
 * The client order id comes from the intent id and the amend count (wire.ts), so an order whose outcome is
 * unknown is found again by listing the market's orders; a retry would be refused as a duplicate. Creates are
 * never retried. Fills come from the `fill` channel (and GET /portfolio/fills?order_id when a notice carries
 * no fee or we lag); order states from `user_orders` and the REST answers; every fact is reported once (a
 * fill once per fill_id). A request with no answer is OrderStatusUnknown, then `queryOrder`. A dropped user
 * stream reconnects and re-reads every working order over REST.
 *
 * Every request goes in the log as VenueMessageSent (method, URL, body; never a header, so never a
 * signature); every report carries the venue's JSON as raw bytes.
 */
import { drainInflight, ReportOutlets, runCommand } from '../common/execution-outlets.js';
import WebSocket from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { ReportedFill } from '../../../domain/orders/lifecycle.js';
import type { VenueReport } from '../../../domain/reconcile/reconcile.js';
import { wallClockNs } from '../common/clock.js';
import { venueEventId } from '../ccxt/normalize.js';
import type { ExecutionClient, OrderStatusReport, ReconciliationRequest } from '../port.js';
import type { KalshiCredentials } from './credentials.js';
import { kalshiVenueReport } from './reconcile.js';
import { errorCode, errorText, KalshiNoAnswer, KalshiRest, type KalshiAnswer } from './rest.js';
import {
  contractLots, countToLots, dollarsToMicros, dollarsToTicks, KALSHI, kalshiClientOrderId, kalshiFillId, lotsToCount, orderIdFromKalshiClientId, QTY_SCALE,
  tickerOf, ticksToDollars, WS_PATH,
} from './wire.js';

export interface KalshiExecutionOptions {
  restUrl: string;
  wsUrl: string;
  credentials: KalshiCredentials;
  priceScale: number;
  /** Decimals of a quantity (default 2, Kalshi's own). */
  qtyScale?: number;
  /** Markets whose fills and orders to follow. */
  tickers: string[];
  clockNs?: () => bigint;
  /** Event time for what the venue did not timestamp: the latest venue time seen. */
  eventClockNs?: () => bigint;
  knownFillIds?: Iterable<string>;
  onLog?: (line: string) => void;
  requestTimeoutMs?: number;
}

interface Tracked {
  orderId: string;
  instrument: string;
  ticker: string;
  side: 'buy' | 'sell';
  priceTicks: number;
  qtyLots: number;
  filledLots: number;
  amends: number;
  venueOrderId: string | null;
  accepted: boolean;
  done: boolean;
  pendingAmend: number | null;
}

interface FillFact {
  fillId: string;
  priceTicks: number;
  qtyLots: number;
  feeMicros: bigint | null;
  taker: boolean | null;
  atMs: number | null;
}

const STREAM = 'venue';

export class KalshiExecutionClient implements ExecutionClient {
  readonly venue = KALSHI;
  readonly stats = { requests: 0, unknown: 0, streamGaps: 0, resyncs: 0, duplicateReports: 0 };
  private readonly rest: KalshiRest;
  private readonly orders = new Map<string, Tracked>();
  private readonly byVenueId = new Map<string, Tracked>();
  private readonly seenFills = new Set<string>();
  private readonly outlets = new ReportOutlets();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly clock: () => bigint;
  private readonly eventClock: () => bigint;
  private ws: WebSocket | null = null;
  private closed = false;
  private seq = 0;
  private reconnecting: Promise<void> | null = null;
  private readonly qtyScale: number;
  private readonly contract: number;

  constructor(private readonly o: KalshiExecutionOptions) {
    this.rest = new KalshiRest(o.restUrl, o.credentials, o.requestTimeoutMs ?? 5000);
    this.qtyScale = o.qtyScale ?? QTY_SCALE;
    this.contract = contractLots(this.qtyScale);
    this.clock = o.clockNs ?? wallClockNs;
    this.eventClock = o.eventClockNs ?? this.clock;
    for (const f of o.knownFillIds ?? []) this.seenFills.add(f);
  }

  async connect(): Promise<void> {
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
    await drainInflight(this.inflight);
    this.ws?.terminate();
  }

  // ---------------------------------------------------------------- the user stream

  private openStream(): Promise<void> {
    const headers = this.o.credentials.sign(Date.now(), 'GET', WS_PATH);
    const ws = new WebSocket(this.o.wsUrl, { headers: { ...headers } });
    this.ws = ws;
    return new Promise<void>((resolve, reject) => {
      let open = false;
      ws.once('open', () => {
        open = true;
        ws.send(JSON.stringify({ id: 1, cmd: 'subscribe', params: { channels: ['fill', 'user_orders'], ...(this.o.tickers.length > 0 ? { market_tickers: this.o.tickers } : {}) } }));
      });
      let acks = 0;
      ws.on('message', (m) => {
        const text = m.toString();
        let j: { type?: string; msg?: Record<string, unknown> };
        try {
          j = JSON.parse(text) as typeof j;
        } catch {
          return;
        }
        if (j.type === 'subscribed' && ++acks === 2) resolve();
        else if (j.type === 'error' && !open) reject(new TapedeckError('VENUE_UNAVAILABLE', `Kalshi user stream: ${JSON.stringify(j.msg)}`));
        else if (j.type === 'fill' && j.msg) this.track(this.onFill(j.msg));
        else if (j.type === 'user_order' && j.msg) this.track(this.onUserOrder(j.msg));
      });
      ws.once('unexpected-response', (_req, res) => reject(new TapedeckError('VENUE_UNAVAILABLE', `Kalshi user stream refused: HTTP ${res.statusCode}`)));
      ws.once('error', (e) => {
        if (!open) reject(new TapedeckError('VENUE_UNAVAILABLE', `Kalshi user stream: ${e.message}`));
      });
      ws.once('close', () => {
        if (this.closed || this.ws !== ws) return;
        this.stats.streamGaps++;
        this.log('user stream lost: reconnecting, then re-reading working orders over REST');
        this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = null));
      });
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      if (this.closed) return;
      try {
        await this.openStream();
        await this.resync();
        return;
      } catch (e) {
        this.log(`user stream reconnect failed: ${describe(e)}`);
      }
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e) => this.log(describe(e))).finally(() => this.inflight.delete(t));
    this.inflight.add(t);
  }

  private find(msg: Record<string, unknown>): Tracked | undefined {
    const ours = orderIdFromKalshiClientId(typeof msg.client_order_id === 'string' ? msg.client_order_id : null);
    const byCid = ours === null ? undefined : this.orders.get(ours.orderId);
    if (byCid !== undefined) return byCid;
    return typeof msg.order_id === 'string' ? this.byVenueId.get(msg.order_id) : undefined;
  }

  private async onFill(msg: Record<string, unknown>): Promise<void> {
    const t = this.find(msg);
    if (t === undefined) return; // an order of another session: reconciliation's business
    if (typeof msg.order_id === 'string') this.venueId(t, msg.order_id);
    const fillId = typeof msg.trade_id === 'string' ? msg.trade_id : typeof msg.fill_id === 'string' ? msg.fill_id : null;
    if (fillId === null || typeof msg.yes_price_dollars !== 'string' || typeof msg.count_fp !== 'string' || typeof msg.fee_cost !== 'string') {
      // A notice without what a fill needs (the doc's fill has no fee): the REST fills are the record.
      if (t.venueOrderId !== null) await this.fetchFills(t);
      return;
    }
    this.fill(t, {
      fillId, priceTicks: dollarsToTicks(msg.yes_price_dollars, this.o.priceScale, 'yes_price_dollars'), qtyLots: countToLots(msg.count_fp, 'count_fp', this.qtyScale),
      feeMicros: dollarsToMicros(msg.fee_cost, 'fee_cost'), taker: typeof msg.is_taker === 'boolean' ? msg.is_taker : null, atMs: typeof msg.ts_ms === 'number' ? msg.ts_ms : null,
    }, msg);
  }

  private async onUserOrder(msg: Record<string, unknown>): Promise<void> {
    const t = this.find(msg);
    if (t === undefined) return;
    const ours = orderIdFromKalshiClientId(typeof msg.client_order_id === 'string' ? msg.client_order_id : null);
    const n = ours?.amends ?? t.amends;
    if (typeof msg.order_id === 'string') this.venueId(t, msg.order_id);
    const atMs = typeof msg.created_ts_ms === 'number' ? msg.created_ts_ms : null;
    const status = msg.status;
    if (status === 'resting') this.accepted(t, msg, atMs);
    const filled = typeof msg.fill_count_fp === 'string' ? countToLots(msg.fill_count_fp, 'fill_count_fp', this.qtyScale) : 0;
    if (filled > t.filledLots) await this.fetchFills(t);
    if (status === 'canceled' && n === t.amends && t.pendingAmend === null) this.terminal(t, msg, null);
  }

  // ---------------------------------------------------------------- commands

  send(command: VenueCommand): Promise<void> {
    if (this.closed) return Promise.reject(new TapedeckError('CLIENT_CLOSED', 'Kalshi execution client is closed'));
    return runCommand(this.inflight, (written) => this.run(command, written), (e) => this.log(`${command.kind} ${command.orderId}: ${describe(e)}`));
  }

  private async run(c: VenueCommand, written: () => void): Promise<void> {
    if (c.kind === 'SubmitOrder') return this.submit(c, written);
    const t = this.orders.get(c.orderId);
    if (t === undefined || t.venueOrderId === null) {
      written();
      const reason = t === undefined ? 'not an order of this session' : 'the venue has not acknowledged the order yet';
      if (c.kind === 'CancelOrder') this.report('CancelRejected', { orderId: c.orderId, reason }, `cancel-rejected:${c.orderId}:${this.seq++}`);
      else this.report('ReplaceRejected', { orderId: c.orderId, reason }, `replace-rejected:${c.orderId}:${this.seq++}`);
      return;
    }
    if (c.kind === 'CancelOrder') return this.cancel(t, written);
    return this.amend(t, c.priceTicks, c.qtyLots, written);
  }

  /** Sends one request, recorded first (VenueMessageSent: method, URL, body). */
  private async request(orderId: string, messageType: string, written: () => void, method: 'GET' | 'POST' | 'DELETE', route: string, body?: unknown): Promise<KalshiAnswer> {
    this.stats.requests++;
    this.sent(orderId, messageType, `${method} ${this.rest.url(route)}${body !== undefined ? `\n${JSON.stringify(body)}` : ''}`);
    written();
    return this.rest.request(method, route, body !== undefined ? { body } : {});
  }

  private async submit(c: Extract<VenueCommand, { kind: 'SubmitOrder' }>, written: () => void): Promise<void> {
    let ticker: string;
    try {
      ticker = tickerOf(c.instrument);
    } catch (e) {
      written();
      this.report('OrderRejected', { orderId: c.orderId, reason: describe(e), venueCode: 'INSTRUMENT' }, `rejected:${c.orderId}`);
      return;
    }
    const t: Tracked = {
      orderId: c.orderId, instrument: c.instrument, ticker, side: c.side, priceTicks: c.priceTicks ?? 0, qtyLots: c.qtyLots, filledLots: 0, amends: 0,
      venueOrderId: null, accepted: false, done: false, pendingAmend: null,
    };
    this.orders.set(c.orderId, t);
    const problem = c.orderType !== 'limit' || c.priceTicks === null ? 'Kalshi takes limit orders only (a price is required)'
      : c.priceScale !== this.o.priceScale ? `price scale ${c.priceScale} is not the market's (${this.o.priceScale})`
        : c.qtyScale !== this.qtyScale || c.qtyLots % this.contract !== 0 ? `quantity must be whole contracts at qty scale ${this.qtyScale}` : null;
    if (problem !== null) {
      written();
      t.done = true;
      this.report('OrderRejected', { orderId: c.orderId, reason: problem, venueCode: 'PRECISION' }, `rejected:${c.orderId}`);
      return;
    }
    const body = {
      ticker, client_order_id: kalshiClientOrderId(c.orderId, 0), side: c.side === 'buy' ? 'bid' : 'ask', count: lotsToCount(c.qtyLots, this.qtyScale),
      price: ticksToDollars(c.priceTicks!, this.o.priceScale), post_only: c.postOnly,
      time_in_force: c.timeInForce === 'IOC' ? 'immediate_or_cancel' : c.timeInForce === 'FOK' ? 'fill_or_kill' : 'good_till_canceled',
    };
    let a: KalshiAnswer;
    try {
      a = await this.request(c.orderId, 'CreateOrder', written, 'POST', '/portfolio/events/orders', body);
    } catch (e) {
      return this.unknown(t, e);
    }
    if (a.status >= 500 || a.status === 429) return this.unknown(t, new Error(`HTTP ${a.status} ${errorText(a)}`));
    if (a.status >= 400) {
      if (t.accepted) return; // refused, yet the stream said it rests: the queries will tell
      t.done = true;
      const code = errorCode(a);
      this.report('OrderRejected', { orderId: t.orderId, reason: `venue: ${errorText(a)}`, ...(code ? { venueCode: code } : {}) }, `rejected:${t.orderId}`, a.json);
      return;
    }
    const vid = typeof a.json.order_id === 'string' ? a.json.order_id : null;
    if (vid === null) return this.unknown(t, new Error('the answer has no order_id'));
    this.venueId(t, vid);
    this.accepted(t, a.json, typeof a.json.ts_ms === 'number' ? a.json.ts_ms : null);
    const filled = typeof a.json.fill_count === 'string' ? countToLots(a.json.fill_count, 'fill_count', this.qtyScale) : 0;
    if (filled > t.filledLots) await this.fetchFills(t);
    const remaining = typeof a.json.remaining_count === 'string' ? countToLots(a.json.remaining_count, 'remaining_count', this.qtyScale) : null;
    // IOC/FOK leftovers, or a post-only the venue pulled: not resting and not all filled.
    if (remaining === 0 && t.filledLots < t.qtyLots) await this.refresh(t);
  }

  private async cancel(t: Tracked, written: () => void): Promise<void> {
    let a: KalshiAnswer;
    try {
      a = await this.request(t.orderId, 'CancelOrder', written, 'DELETE', `/portfolio/events/orders/${encodeURIComponent(t.venueOrderId!)}`);
    } catch {
      await this.refresh(t, true);
      return;
    }
    if (a.status === 200) {
      const reduced = typeof a.json.reduced_by === 'string' ? countToLots(a.json.reduced_by, 'reduced_by', this.qtyScale) : 0;
      if (t.filledLots + reduced < t.qtyLots) await this.fetchFills(t);
      this.terminal(t, a.json, typeof a.json.ts_ms === 'number' ? a.json.ts_ms : null);
      return;
    }
    if (a.status < 500 && !t.done) this.report('CancelRejected', { orderId: t.orderId, reason: `venue: ${errorText(a)}` }, `cancel-rejected:${t.orderId}:${this.seq++}`);
    await this.refresh(t);
  }

  private async amend(t: Tracked, priceTicks: number | null, qtyLots: number, written: () => void): Promise<void> {
    const n = t.amends + 1;
    if (priceTicks === null || qtyLots <= t.filledLots || qtyLots % this.contract !== 0) {
      written();
      this.report('ReplaceRejected', { orderId: t.orderId, reason: priceTicks === null ? 'Kalshi amends need a price' : `new total ${qtyLots} lots must be whole contracts above the ${t.filledLots} lots filled` }, `replace-rejected:${t.orderId}:${n}`);
      return;
    }
    t.pendingAmend = n;
    const body = {
      ticker: t.ticker, side: t.side === 'buy' ? 'bid' : 'ask', price: ticksToDollars(priceTicks, this.o.priceScale), count: lotsToCount(qtyLots, this.qtyScale),
      client_order_id: kalshiClientOrderId(t.orderId, t.amends), updated_client_order_id: kalshiClientOrderId(t.orderId, n),
    };
    let a: KalshiAnswer | null = null;
    try {
      a = await this.request(t.orderId, 'AmendOrder', written, 'POST', `/portfolio/events/orders/${encodeURIComponent(t.venueOrderId!)}/amend`, body);
    } catch {
      a = null;
    }
    if (a !== null && a.status === 200) {
      this.amended(t, n, priceTicks, qtyLots, a.json);
      return;
    }
    if (a !== null && a.status < 500 && a.status !== 429) {
      t.pendingAmend = null;
      this.report('ReplaceRejected', { orderId: t.orderId, reason: `venue: ${errorText(a)}` }, `replace-rejected:${t.orderId}:${n}`);
      await this.refresh(t);
      return;
    }
    // No answer: the order's client order id says whether the amend took.
    try {
      const j = await this.rest.get(`/portfolio/orders/${encodeURIComponent(t.venueOrderId!)}`);
      const ord = j.order as Record<string, unknown>;
      if (ord.client_order_id === kalshiClientOrderId(t.orderId, n)) {
        this.amended(t, n, priceTicks, qtyLots, j);
        return;
      }
      t.pendingAmend = null;
      this.report('ReplaceRejected', { orderId: t.orderId, reason: 'the amend got no answer and did not take' }, `replace-rejected:${t.orderId}:${n}`);
      await this.refresh(t);
    } catch (e) {
      t.pendingAmend = null;
      this.unknown(t, e);
    }
  }

  private amended(t: Tracked, n: number, priceTicks: number, qtyLots: number, raw: unknown): void {
    t.pendingAmend = null;
    t.amends = n;
    t.priceTicks = priceTicks;
    t.qtyLots = qtyLots;
    this.report('OrderReplaced', { orderId: t.orderId, priceTicks, qtyLots, venueOrderId: t.venueOrderId! }, `replaced:${t.orderId}:${n}`, raw);
  }

  // ---------------------------------------------------------------- facts, once each

  private venueId(t: Tracked, vid: string): void {
    if (t.venueOrderId === null) {
      t.venueOrderId = vid;
      this.byVenueId.set(vid, t);
    }
  }

  private accepted(t: Tracked, raw: unknown, atMs: number | null): void {
    if (t.accepted || t.done || t.venueOrderId === null) return;
    t.accepted = true;
    this.report('OrderAccepted', { orderId: t.orderId, venueOrderId: t.venueOrderId }, `accepted:${t.orderId}`, raw, atMs);
  }

  private fill(t: Tracked, f: FillFact, raw: unknown): void {
    const fillId = kalshiFillId(f.fillId);
    if (this.seenFills.has(fillId)) {
      this.stats.duplicateReports++;
      return;
    }
    if (f.qtyLots <= 0 || f.qtyLots > t.qtyLots - t.filledLots) {
      this.log(`fill ${fillId} of ${f.qtyLots} lots does not fit order ${t.orderId} (${t.qtyLots - t.filledLots} left): left to reconciliation`);
      return;
    }
    this.seenFills.add(fillId);
    this.accepted(t, raw, f.atMs);
    t.filledLots += f.qtyLots;
    const leaves = t.qtyLots - t.filledLots;
    this.report('OrderFilled', {
      orderId: t.orderId, venue: KALSHI, instrument: t.instrument, fillId, side: t.side, priceTicks: f.priceTicks, qtyLots: f.qtyLots,
      priceScale: this.o.priceScale, qtyScale: this.qtyScale, fee: f.feeMicros ?? 0n, feeScale: 6, feeCurrency: 'USD',
      liquidity: f.taker === null ? 'unknown' : f.taker ? 'taker' : 'maker', leavesLots: leaves,
    }, `fill:${fillId}`, raw, f.atMs);
    if (leaves === 0) t.done = true;
  }

  private terminal(t: Tracked, raw: unknown, atMs: number | null): void {
    if (t.done) return;
    t.done = true;
    this.report('OrderCanceled', { orderId: t.orderId, canceledLots: t.qtyLots - t.filledLots, reason: 'venue: canceled' }, `canceled:${t.orderId}`, raw, atMs);
  }

  private unknown(t: Tracked, e: unknown): void {
    this.stats.unknown++;
    this.report('OrderStatusUnknown', { orderId: t.orderId, reason: `the venue's answer is unknown: ${describe(e)}` }, `unknown:${t.orderId}:${this.seq++}`);
  }

  /** The venue's fills of one order (GET /portfolio/fills?order_id), the ones not yet reported. */
  private async fetchFills(t: Tracked): Promise<ReportedFill[]> {
    if (t.venueOrderId === null) return [];
    const all: ReportedFill[] = [];
    try {
      const fills = await this.rest.pages('/portfolio/fills', 'fills', { order_id: t.venueOrderId, ticker: t.ticker });
      for (const raw of fills) {
        const f = parseRestFill(raw, this.o.priceScale, this.qtyScale);
        if (f === null) continue;
        all.push({ fillId: kalshiFillId(f.fillId), priceTicks: f.priceTicks, qtyLots: f.qtyLots, fee: f.feeMicros ?? 0n, feeScale: 6, feeCurrency: 'USD', liquidity: f.taker ? 'taker' : 'maker' });
        this.fill(t, f, raw);
      }
    } catch (e) {
      this.log(`fills of ${t.orderId}: ${describe(e)}`);
    }
    return all;
  }

  /** Asks the venue where an order stands and applies it. */
  private async refresh(t: Tracked, cancelWasSent = false): Promise<void> {
    if (t.done) return;
    let ord: Record<string, unknown> | null;
    try {
      ord = await this.lookup(t);
    } catch (e) {
      this.unknown(t, e);
      return;
    }
    if (ord === null) {
      if (!t.accepted && t.filledLots === 0) {
        t.done = true;
        this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: no such order (it never reached the venue)' }, `rejected:${t.orderId}`);
      }
      return;
    }
    if (typeof ord.order_id === 'string') this.venueId(t, ord.order_id);
    if (ord.status === 'resting') this.accepted(t, ord, null);
    await this.fetchFills(t);
    if (ord.status === 'canceled') this.terminal(t, ord, null);
    else if (cancelWasSent && ord.status === 'resting') this.report('CancelRejected', { orderId: t.orderId, reason: 'the cancel did not take: the order is still resting' }, `cancel-rejected:${t.orderId}:${this.seq++}`);
  }

  /** The venue's record of an order: by its id, or (never acknowledged) by our client order id among the market's orders. */
  private async lookup(t: Tracked): Promise<Record<string, unknown> | null> {
    if (t.venueOrderId !== null) {
      const a = await this.rest.request('GET', `/portfolio/orders/${encodeURIComponent(t.venueOrderId)}`);
      if (a.status === 404) return null;
      if (a.status !== 200) throw new TapedeckError('VENUE_QUERY', `Kalshi GET order: ${a.status} ${errorText(a)}`);
      return a.json.order as Record<string, unknown>;
    }
    const list = await this.rest.pages('/portfolio/orders', 'orders', { ticker: t.ticker });
    for (const raw of list) {
      const o = raw as Record<string, unknown>;
      if (orderIdFromKalshiClientId(typeof o.client_order_id === 'string' ? o.client_order_id : null)?.orderId === t.orderId) return o;
    }
    return null;
  }

  /** After a gap in the user stream: every working order's state and fills over REST. */
  async resync(): Promise<void> {
    this.stats.resyncs++;
    for (const t of [...this.orders.values()]) {
      if (t.done || t.pendingAmend !== null) continue;
      await this.refresh(t);
    }
  }

  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    const t = this.orders.get(orderId);
    if (t === undefined) throw new TapedeckError('UNKNOWN_ORDER', `${orderId} was not sent by this session`, { field: 'orderId' });
    let ord: Record<string, unknown> | null;
    try {
      ord = await this.lookup(t);
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY', describe(e));
    }
    if (ord === null) {
      if (!t.accepted && t.filledLots === 0) t.done = true;
      return { orderId, state: 'not-found', filledLots: t.filledLots, leavesLots: 0 };
    }
    const vid = String(ord.order_id);
    this.venueId(t, vid);
    const fills = await this.fetchFills(t);
    const filledLots = countToLots(String(ord.fill_count_fp ?? '0'), 'fill_count_fp', this.qtyScale);
    const initial = countToLots(String(ord.initial_count_fp ?? '0'), 'initial_count_fp', this.qtyScale);
    const state = ord.status === 'resting' ? 'open' : ord.status === 'executed' || filledLots >= initial ? 'filled' : 'canceled';
    if (state === 'open') t.accepted = true;
    else t.done = true;
    return { orderId, state, filledLots, leavesLots: state === 'open' ? initial - filledLots : 0, venueOrderId: vid, fills };
  }

  async reconciliationReport(request: ReconciliationRequest): Promise<VenueReport> {
    const instruments = new Set(request.instruments);
    for (const id of request.orderIds) {
      const t = this.orders.get(id);
      if (t) instruments.add(t.instrument);
    }
    return kalshiVenueReport(this.rest, { instruments: [...instruments], priceScale: this.o.priceScale, qtyScale: this.qtyScale, sides: new Map([...this.orders.values()].map((t) => [t.orderId, t.side])) });
  }

  // ---------------------------------------------------------------- events

  private report(type: string, data: Record<string, unknown>, key: string, raw?: unknown, atMs?: number | null): void {
    const env = {
      id: venueEventId(KALSHI, key), type, schemaVersion: 1, stream: STREAM,
      eventTimeNs: atMs !== null && atMs !== undefined ? BigInt(Math.trunc(atMs)) * 1_000_000n : this.eventClock(), receiveTimeNs: this.clock(),
      causationId: null, correlationId: null, data,
      ...(raw !== undefined ? { raw: { format: 'json' as const, bytes: new TextEncoder().encode(safeJson(raw)) } } : {}),
    } as unknown as AnyEnvelope;
    this.outlets.report(env);
  }

  private sent(orderId: string, messageType: string, text: string): void {
    const now = this.clock();
    const env = {
      id: venueEventId(KALSHI, `sent:${orderId}:${messageType}:${this.seq++}:${now}`), type: 'VenueMessageSent', schemaVersion: 1, stream: STREAM,
      eventTimeNs: this.eventClock(), receiveTimeNs: now, causationId: null, correlationId: null,
      data: { orderId, venue: KALSHI, messageType },
      raw: { format: 'text' as const, bytes: new TextEncoder().encode(text) },
    } as unknown as AnyEnvelope;
    this.outlets.sent(env);
  }

  private log(line: string): void {
    this.o.onLog?.(line);
  }
}

/** A REST fill (GetFills) as a fill fact; null when it is not one. */
export function parseRestFill(raw: unknown, priceScale: number, qtyScale = QTY_SCALE): (FillFact & { orderId: string; clientOrderId: string | null; ticker: string }) | null {
  const f = raw as Record<string, unknown>;
  if (typeof f !== 'object' || f === null || typeof f.order_id !== 'string') return null;
  const fillId = typeof f.fill_id === 'string' ? f.fill_id : typeof f.trade_id === 'string' ? f.trade_id : null;
  if (fillId === null) return null;
  const price = typeof f.yes_price_dollars === 'string' ? dollarsToTicks(f.yes_price_dollars, priceScale, 'yes_price_dollars')
    : typeof f.yes_price_fixed === 'string' ? dollarsToTicks(f.yes_price_fixed, priceScale, 'yes_price_fixed')
      : typeof f.yes_price === 'number' ? f.yes_price * 10 ** (priceScale - 2) : null;
  const qty = typeof f.count_fp === 'string' ? countToLots(f.count_fp, 'count_fp', qtyScale) : typeof f.count === 'number' ? f.count * contractLots(qtyScale) : null;
  if (price === null || qty === null) return null;
  const createdMs = typeof f.created_time === 'string' ? Date.parse(f.created_time) : typeof f.ts === 'number' ? f.ts * 1000 : NaN;
  return {
    fillId, orderId: f.order_id, clientOrderId: typeof f.client_order_id === 'string' ? f.client_order_id : null, ticker: String(f.ticker ?? f.market_ticker ?? ''),
    priceTicks: price, qtyLots: qty, feeMicros: typeof f.fee_cost === 'string' ? dollarsToMicros(f.fee_cost, 'fee_cost') : 0n,
    taker: f.is_taker === true, atMs: Number.isFinite(createdMs) ? createdMs : null,
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
  } catch {
    return '"(unserialisable)"';
  }
}

function describe(e: unknown): string {
  return `${e instanceof KalshiNoAnswer ? 'no answer' : e instanceof Error ? e.constructor.name : 'Error'}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500);
}
