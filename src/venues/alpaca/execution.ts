/**
 * The Alpaca execution client (trading API v2): the ExecutionClient of src/venues/port.ts.
 *
 * - Orders go out as POST /v2/orders with OUR client_order_id, derived from the kernel's order id (and the
 *   replace count: `t<base64url uuid>[r<n>]`, ccxt/normalize.ts) and decoded back, so a restart finds every
 *   order it sent; an unknown outcome is GET /v2/orders:by_client_order_id (404: never placed); creates are
 *   never retried. Cancel is DELETE /v2/orders/{id} (204: the final state arrives as a `canceled` update);
 *   replace is PATCH /v2/orders/{id} with the next client id: Alpaca makes a new order for the quantity given
 *   (what is left to fill) and marks the old one `replaced`; the new total is the fills of the earlier venue
 *   orders plus the old one's final filled_qty plus the new quantity.
 * - The trade_updates stream (auth, then listen; paper frames are binary, live frames text: both read) reports
 *   new, partial_fill, fill, canceled, expired, rejected: each fact once (a fill by its execution_id, fill id
 *   `ALPACA:<execution_id>`); reports about a replacement that arrive before the PATCH answer wait for it. A
 *   stream gap reconnects with back-off and resynchronises every working order over REST.
 * - Reconciliation: every order of ours (GET /v2/orders?status=all, paged), every FILL activity (paged by the
 *   last activity id; an activity's id ends with its execution id), and positions (GET /v2/positions: complete).
 * - Every request is recorded as VenueMessageSent with its bytes (method, path, body; the key headers are never
 *   part of it); every report carries the venue's JSON. Errors and logs pass through the credentials' redactor.
 * - Prices and quantities: decimal strings to exact mantissas at the config's scales; post-only orders do not
 *   exist at Alpaca: they are refused here unless `postOnlyAsLimit` says to send them as plain limit orders.
 */
import { drainInflight, ReportOutlets, runCommand } from '../common/execution-outlets.js';
import type WebSocket from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal, parseDecimal } from '../../../domain/core/fixed.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { ReportedFill } from '../../../domain/orders/lifecycle.js';
import type { VenueFill, VenueOrderReport, VenuePosition, VenueReport } from '../../../domain/reconcile/reconcile.js';
import { wallClockNs } from '../common/clock.js';
import { isoToNs, type FrameContext } from '../common/frame.js';
import { closeSocket } from '../common/socket.js';
import { loadWs } from '../common/ws.js';
import { clientOrderIdFor, orderIdFromClientId, venueEventId } from '../ccxt/normalize.js';
import type { ExecutionClient, OrderStatusReport, ReconciliationRequest } from '../port.js';
import { ALPACA, type AlpacaConfig } from './config.js';
import type { AlpacaCredentials } from './credentials.js';
import {
  AlpacaFillActivity, AlpacaOrder, AlpacaPosition, alpacaInstrumentId, executionIdOfActivity, parseTradeStreamFrame, type TradeUpdate,
} from './parse.js';

export interface AlpacaExecutionOptions {
  config: AlpacaConfig;
  credentials: AlpacaCredentials;
  clockNs?: () => bigint;
  /** Event time for what the venue did not timestamp: the latest venue time seen (default: the receive clock). */
  eventClockNs?: () => bigint;
  knownFillIds?: Iterable<string>;
  onLog?: (line: string) => void;
  requestTimeoutMs?: number;
}

interface Tracked {
  orderId: string;
  symbol: string;
  instrument: string;
  side: 'buy' | 'sell';
  orderType: 'limit' | 'market';
  priceTicks: number | null;
  qtyLots: number;
  filledLots: number;
  replaceCount: number;
  venueOrderId: string | null;
  filledByVenueOrder: Map<string, number>;
  accepted: boolean;
  done: boolean;
  pendingReplace: { n: number; priceTicks: number | null; qtyLots: number } | null;
  held: Array<() => void>;
}

/** A request whose answer says the venue refused it (4xx other than 429): the command certainly did nothing. */
class Refused extends Error {
  constructor(readonly status: number, readonly code: string | null, message: string) {
    super(message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function alpacaFillId(executionId: string): string {
  return `${ALPACA}:${executionId}`;
}

export class AlpacaExecutionClient implements ExecutionClient {
  readonly venue = ALPACA;
  private readonly orders = new Map<string, Tracked>();
  private readonly seenFills = new Set<string>();
  private readonly outlets = new ReportOutlets();
  private readonly clock: () => bigint;
  private readonly eventClock: () => bigint;
  private readonly rest: string;
  private readonly inflight = new Set<Promise<unknown>>();
  private ws: WebSocket | null = null;
  private closed = false;
  private seq = 0;
  private frameNo = 0;
  private streamTask: Promise<void> | null = null;
  private readonly updateKeys = new Set<string>();
  readonly stats = { requests: 0, rateLimited: 0, unknown: 0, streamGaps: 0, resyncs: 0, duplicateReports: 0, binaryFrames: 0, textFrames: 0 };

  constructor(private readonly o: AlpacaExecutionOptions) {
    this.clock = o.clockNs ?? wallClockNs;
    this.eventClock = o.eventClockNs ?? this.clock;
    this.rest = o.config.restUrl.replace(/\/+$/, '');
    for (const f of o.knownFillIds ?? []) this.seenFills.add(f);
  }

  // ---------------------------------------------------------------- connection

  async connect(): Promise<void> {
    // Listening before the first order goes out, so no update can be missed.
    await this.openStream();
    this.streamTask = this.keepStream();
  }

  private async openStream(): Promise<void> {
    const { default: Socket } = await loadWs();
    return new Promise<void>((resolve, reject) => {
      const ws = new Socket(this.o.config.tradeStreamUrl, { perMessageDeflate: false });
      this.ws = ws;
      let phase: 'auth' | 'listen' | 'live' = 'auth';
      const timer = setTimeout(() => fail(new TapedeckError('VENUE_UNAVAILABLE', 'Alpaca trade stream: no authorization within 10 s')), 10_000);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      ws.on('open', () => ws.send(this.o.credentials.authMessage()));
      ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (isBinary) this.stats.binaryFrames++;
        else this.stats.textFrames++;
        const body = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        const ctx: FrameContext = { file: this.o.config.tradeStreamUrl, line: ++this.frameNo, receiveTimeNs: this.clock() };
        let m: ReturnType<typeof parseTradeStreamFrame>;
        try {
          m = parseTradeStreamFrame(new Uint8Array(body), ctx);
        } catch (e) {
          this.log(`trade stream frame not understood: ${describe(e)}`);
          return;
        }
        if (phase === 'auth') {
          if (m.kind !== 'authorization') return;
          if (!m.authorized) return fail(new TapedeckError('CREDENTIALS', 'Alpaca trade stream: unauthorized (check ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY)'));
          phase = 'listen';
          ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
          return;
        }
        if (phase === 'listen') {
          if (m.kind !== 'listening') return;
          if (!m.streams.includes('trade_updates')) return fail(new TapedeckError('VENUE_UNAVAILABLE', 'Alpaca trade stream: listen was not acknowledged for trade_updates'));
          phase = 'live';
          clearTimeout(timer);
          resolve();
          return;
        }
        if (m.kind === 'trade_update') {
          try {
            this.onUpdate(m.update, body);
          } catch (e) {
            this.log(`trade update not applied: ${describe(e)}`);
          }
        }
      });
      ws.on('error', (e) => {
        if (phase !== 'live') fail(new TapedeckError('VENUE_UNAVAILABLE', this.redact(`Alpaca trade stream: ${e.message}`)));
      });
      ws.on('close', () => {
        if (phase !== 'live') fail(new TapedeckError('VENUE_UNAVAILABLE', 'Alpaca trade stream closed during its handshake'));
      });
    });
  }

  /** Reconnects a dropped trade stream with back-off, then asks REST about every working order. */
  private async keepStream(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const ws = this.ws;
      if (ws !== null && ws.readyState !== ws.CLOSED) {
        await new Promise<void>((r) => ws.once('close', () => r()));
        if (this.closed) return;
        this.stats.streamGaps++;
        this.log('trade stream gap: reconnecting, then resynchronising over REST');
      }
      await sleep(Math.min(2000, 50 * 2 ** failures));
      if (this.closed) return;
      try {
        await this.openStream();
        failures = 0;
        await this.resync();
      } catch (e) {
        failures++;
        this.log(`trade stream reconnect failed: ${describe(e)}`);
      }
    }
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
    if (this.ws !== null) await closeSocket(this.ws).catch(() => undefined);
    await this.streamTask?.catch(() => undefined);
  }

  // ---------------------------------------------------------------- REST

  /**
   * One request. Resolves with the JSON answer (null for 204); throws Refused for a definite refusal (4xx but
   * 429), anything else (network, timeout, 429, 5xx) is an unknown outcome.
   */
  private async request(orderId: string | null, messageType: string, method: string, path: string, body?: unknown, written?: () => void): Promise<unknown> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (orderId !== null) this.sent(orderId, messageType, `${method} ${path}${text !== undefined ? `\n${text}` : ''}`);
    written?.();
    this.stats.requests++;
    const res = await fetch(`${this.rest}${path}`, {
      method, headers: { ...this.o.credentials.headers(), ...(text !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(text !== undefined ? { body: text } : {}),
      signal: AbortSignal.timeout(this.o.requestTimeoutMs ?? 10_000),
    });
    const answer = await res.text();
    if (res.status === 204) return null;
    if (res.ok) return JSON.parse(answer) as unknown;
    let code: string | null = null;
    let message = answer.slice(0, 300);
    try {
      const j = JSON.parse(answer) as { code?: unknown; message?: unknown };
      if (j.code !== undefined) code = String(j.code);
      if (typeof j.message === 'string') message = j.message;
    } catch {
      // not JSON: the text itself
    }
    if (res.status === 429) this.stats.rateLimited++;
    if (res.status >= 400 && res.status < 500 && res.status !== 429) throw new Refused(res.status, code, `HTTP ${res.status}${code ? ` ${code}` : ''}: ${this.redact(message)}`);
    throw new TapedeckError('VENUE_UNAVAILABLE', `HTTP ${res.status}: ${this.redact(message)}`);
  }

  /** The n-th venue order of an order, by our client id (null: Alpaca has none). */
  private async byClientId(orderId: string, n: number): Promise<AlpacaOrder | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        const cid = clientOrderIdFor(ALPACA, orderId, n);
        return AlpacaOrder.parse(await this.request(orderId, 'GetOrderByClientOrderId', 'GET', `/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(cid)}`));
      } catch (e) {
        if (e instanceof Refused && e.status === 404) return null;
        if (attempt >= 6 || this.closed) throw e;
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  // ---------------------------------------------------------------- commands

  send(command: VenueCommand): Promise<void> {
    if (this.closed) return Promise.reject(new TapedeckError('CLIENT_CLOSED', 'Alpaca execution client is closed'));
    return runCommand(this.inflight, (written) => this.run(command, written), (e) => this.log(`${command.kind} ${command.orderId}: ${describe(e)}`));
  }

  private async run(c: VenueCommand, written: () => void): Promise<void> {
    if (c.kind === 'SubmitOrder') return this.submit(c, written);
    const t = this.orders.get(c.orderId);
    if (t === undefined) {
      written();
      const type = c.kind === 'CancelOrder' ? 'CancelRejected' : 'ReplaceRejected';
      this.report(type, { orderId: c.orderId, reason: 'not an order of this session' }, `${type}:${c.orderId}:${this.seq++}`);
      return;
    }
    if (c.kind === 'CancelOrder') return this.cancel(t, written);
    return this.replace(t, c.priceTicks, c.qtyLots, written);
  }

  private symbolOf(instrument: string): string {
    const symbol = instrument.startsWith(`${ALPACA}:`) ? instrument.slice(ALPACA.length + 1) : '';
    if (!this.o.config.symbols.includes(symbol)) throw new TapedeckError('UNKNOWN_INSTRUMENT', `${instrument} is not among the configured Alpaca symbols (${this.o.config.symbols.join(', ')})`, { field: 'instrument' });
    return symbol;
  }

  private async submit(c: Extract<VenueCommand, { kind: 'SubmitOrder' }>, written: () => void): Promise<void> {
    const cfg = this.o.config;
    let symbol: string;
    try {
      symbol = this.symbolOf(c.instrument);
    } catch (e) {
      written();
      this.report('OrderRejected', { orderId: c.orderId, reason: describe(e), venueCode: 'INSTRUMENT' }, `rejected:${c.orderId}`);
      return;
    }
    const t: Tracked = {
      orderId: c.orderId, symbol, instrument: c.instrument, side: c.side, orderType: c.orderType, priceTicks: c.priceTicks, qtyLots: c.qtyLots, filledLots: 0,
      replaceCount: 0, venueOrderId: null, filledByVenueOrder: new Map(), accepted: false, done: false, pendingReplace: null, held: [],
    };
    this.orders.set(c.orderId, t);
    const problem = c.priceScale !== cfg.priceScale || c.qtyScale !== cfg.qtyScale ? `scales ${c.priceScale}/${c.qtyScale} differ from the venue's ${cfg.priceScale}/${cfg.qtyScale}`
      : c.postOnly && !cfg.postOnlyAsLimit ? 'Alpaca has no post-only orders (set postOnlyAsLimit in the venue config to send them as plain limit orders)' : null;
    if (problem !== null) {
      written();
      t.done = true;
      this.report('OrderRejected', { orderId: c.orderId, reason: problem, venueCode: 'UNSUPPORTED' }, `rejected:${c.orderId}`);
      return;
    }
    const body = {
      symbol, qty: plain(c.qtyLots, cfg.qtyScale), side: c.side, type: c.orderType, time_in_force: c.timeInForce.toLowerCase(),
      ...(c.priceTicks !== null ? { limit_price: plain(c.priceTicks, cfg.priceScale) } : {}), client_order_id: clientOrderIdFor(ALPACA, c.orderId, 0),
    };
    let answer: unknown;
    try {
      answer = await this.request(c.orderId, 'CreateOrder', 'POST', '/v2/orders', body, written);
    } catch (e) {
      if (e instanceof Refused) {
        t.done = true;
        this.report('OrderRejected', { orderId: c.orderId, reason: `venue: ${e.message}`, ...(e.code ? { venueCode: e.code } : {}) }, `rejected:${c.orderId}`);
        return;
      }
      this.stats.unknown++;
      this.report('OrderStatusUnknown', { orderId: c.orderId, reason: this.redact(`create outcome unknown: ${describe(e)}`) }, `unknown:${c.orderId}:${this.seq++}`);
      return;
    }
    this.applyOrder(t, 0, AlpacaOrder.parse(answer), answer);
  }

  private async cancel(t: Tracked, written: () => void): Promise<void> {
    try {
      const vid = t.venueOrderId ?? (await this.byClientId(t.orderId, t.replaceCount))?.id;
      if (vid === undefined) {
        written();
        this.report('CancelRejected', { orderId: t.orderId, reason: 'venue: no such order' }, `cancel-rejected:${t.orderId}:${this.seq++}`);
        return;
      }
      await this.request(t.orderId, 'CancelOrder', 'DELETE', `/v2/orders/${encodeURIComponent(vid)}`, undefined, written);
      // 204: accepted for cancellation; the canceled update (or a fill) says what became of it.
    } catch (e) {
      if (e instanceof Refused) {
        if (!t.done) this.report('CancelRejected', { orderId: t.orderId, reason: `venue: ${e.message}` }, `cancel-rejected:${t.orderId}:${this.seq++}`);
        await this.refresh(t);
        return;
      }
      this.log(`cancel of ${t.orderId}: outcome unknown (${describe(e)}): asking the venue`);
      await this.refresh(t, true);
    }
  }

  private async replace(t: Tracked, priceTicks: number | null, qtyLots: number, written: () => void): Promise<void> {
    const cfg = this.o.config;
    const n = t.replaceCount + 1;
    if (qtyLots <= t.filledLots || t.venueOrderId === null) {
      written();
      this.report('ReplaceRejected', { orderId: t.orderId, reason: t.venueOrderId === null ? 'the order is not acknowledged yet' : `new total ${qtyLots} lots does not exceed the ${t.filledLots} lots filled` }, `replace-rejected:${t.orderId}:${n}`);
      return;
    }
    t.pendingReplace = { n, priceTicks, qtyLots };
    const old = t.venueOrderId;
    const body = {
      qty: plain(qtyLots - t.filledLots, cfg.qtyScale), ...(priceTicks !== null ? { limit_price: plain(priceTicks, cfg.priceScale) } : {}),
      client_order_id: clientOrderIdFor(ALPACA, t.orderId, n),
    };
    let answer: unknown;
    try {
      answer = await this.request(t.orderId, 'ReplaceOrder', 'PATCH', `/v2/orders/${encodeURIComponent(old)}`, body, written);
    } catch (e) {
      if (e instanceof Refused) {
        this.replaceRejected(t, n, `venue: ${e.message}`);
        await this.refresh(t);
        return;
      }
      await this.resolveReplace(t, n);
      return;
    }
    const fresh = AlpacaOrder.parse(answer);
    await this.replaced(t, n, old, fresh, answer);
  }

  /** The replace took: the new total is what every earlier venue order filled plus the new order's quantity. */
  private async replaced(t: Tracked, n: number, oldVenueOrderId: string, fresh: AlpacaOrder, raw: unknown): Promise<void> {
    const p = t.pendingReplace;
    if (p === null || p.n !== n) return;
    let oldFilled = t.filledByVenueOrder.get(oldVenueOrderId) ?? 0;
    try {
      const o = AlpacaOrder.parse(await this.request(t.orderId, 'GetOrder', 'GET', `/v2/orders/${encodeURIComponent(oldVenueOrderId)}`));
      oldFilled = Math.max(oldFilled, this.lots(o.filled_qty));
      if (oldFilled > (t.filledByVenueOrder.get(oldVenueOrderId) ?? 0)) await this.fetchFills(t, oldVenueOrderId);
    } catch (e) {
      this.log(`replace of ${t.orderId}: the old order's final fill could not be read (${describe(e)})`);
    }
    const prior = [...t.filledByVenueOrder].filter(([v]) => v !== oldVenueOrderId).reduce((a, [, l]) => a + l, 0);
    const total = prior + oldFilled + this.lots(fresh.qty ?? '0');
    t.pendingReplace = null;
    t.replaceCount = n;
    t.priceTicks = p.priceTicks;
    t.qtyLots = total > t.filledLots ? total : p.qtyLots;
    t.venueOrderId = fresh.id;
    this.report('OrderReplaced', { orderId: t.orderId, priceTicks: p.priceTicks, qtyLots: t.qtyLots, venueOrderId: fresh.id }, `replaced:${t.orderId}:${n}`, raw);
    for (const h of t.held.splice(0)) h();
    this.applyOrder(t, n, fresh, raw);
  }

  private replaceRejected(t: Tracked, n: number, reason: string): void {
    if (t.pendingReplace === null || t.pendingReplace.n !== n) return;
    t.pendingReplace = null;
    t.held.length = 0;
    this.report('ReplaceRejected', { orderId: t.orderId, reason: this.redact(reason) }, `replace-rejected:${t.orderId}:${n}`);
  }

  /** A replace whose answer was lost: the replacement exists (replaced) or not (then the old order tells). */
  private async resolveReplace(t: Tracked, n: number): Promise<void> {
    let fresh: AlpacaOrder | null;
    try {
      fresh = await this.byClientId(t.orderId, n);
    } catch (e) {
      this.replaceRejected(t, n, `the replace's outcome could not be learnt: ${describe(e)}`);
      this.stats.unknown++;
      this.report('OrderStatusUnknown', { orderId: t.orderId, reason: this.redact(`replace outcome unknown: ${describe(e)}`) }, `unknown:${t.orderId}:${this.seq++}`);
      return;
    }
    if (fresh !== null) return this.replaced(t, n, t.venueOrderId!, fresh, fresh);
    this.replaceRejected(t, n, 'the replace did not reach the venue');
    await this.refresh(t);
  }

  // ---------------------------------------------------------------- what the venue says

  private lots(text: string): number {
    return Number(parseDecimal(text, this.o.config.qtyScale, 'qty'));
  }

  private ticks(text: string): number {
    return Number(parseDecimal(text, this.o.config.priceScale, 'price'));
  }

  /** An order object (REST answer) applied to what we know of the n-th venue order. */
  private applyOrder(t: Tracked, n: number, o: AlpacaOrder, raw: unknown): void {
    if (n === t.replaceCount) t.venueOrderId ??= o.id;
    const st = stateOf(o.status);
    if (n === t.replaceCount && (st === 'open' || st === 'filled' || this.lots(o.filled_qty) > 0)) this.accepted(t, o.id, raw, o.updated_at ?? o.created_at);
    if (this.lots(o.filled_qty) > (t.filledByVenueOrder.get(o.id) ?? 0)) void this.fetchFills(t, o.id);
    if (n !== t.replaceCount || t.pendingReplace !== null) return;
    if (st === 'canceled' || st === 'expired' || st === 'rejected') this.terminal(t, st, raw, o.updated_at ?? null);
  }

  private accepted(t: Tracked, venueOrderId: string, raw: unknown, at: string | null): void {
    if (t.accepted || t.done) return;
    t.accepted = true;
    this.report('OrderAccepted', { orderId: t.orderId, venueOrderId }, `accepted:${t.orderId}`, raw, at);
  }

  private fill(t: Tracked, executionId: string, venueOrderId: string, price: string, qty: string, at: string | null, raw: unknown): void {
    const fillId = alpacaFillId(executionId);
    if (this.seenFills.has(fillId)) {
      this.stats.duplicateReports++;
      return;
    }
    const lots = this.lots(qty);
    if (lots <= 0 || lots > t.qtyLots - t.filledLots) {
      this.log(`fill ${fillId} of ${qty} does not fit order ${t.orderId} (${t.qtyLots - t.filledLots} lots left): left to reconciliation`);
      return;
    }
    this.seenFills.add(fillId);
    this.accepted(t, venueOrderId, raw, at);
    t.filledLots += lots;
    t.filledByVenueOrder.set(venueOrderId, (t.filledByVenueOrder.get(venueOrderId) ?? 0) + lots);
    const leaves = t.qtyLots - t.filledLots;
    this.report('OrderFilled', {
      orderId: t.orderId, venue: ALPACA, instrument: t.instrument, fillId, side: t.side, priceTicks: this.ticks(price), qtyLots: lots,
      priceScale: this.o.config.priceScale, qtyScale: this.o.config.qtyScale, fee: 0n, feeScale: 0, feeCurrency: 'USD', liquidity: 'unknown', leavesLots: leaves,
    }, `fill:${fillId}`, raw, at);
    if (leaves === 0) t.done = true;
  }

  private terminal(t: Tracked, state: 'canceled' | 'expired' | 'rejected', raw: unknown, at: string | null): void {
    if (t.done) return;
    t.done = true;
    const leaves = t.qtyLots - t.filledLots;
    if (state === 'canceled') this.report('OrderCanceled', { orderId: t.orderId, canceledLots: leaves, reason: 'venue: canceled' }, `canceled:${t.orderId}`, raw, at);
    else if (state === 'expired') this.report('OrderExpired', { orderId: t.orderId }, `expired:${t.orderId}`, raw, at);
    else if (!t.accepted && t.filledLots === 0) this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: rejected' }, `rejected:${t.orderId}`, raw, at);
    else this.report('OrderCanceled', { orderId: t.orderId, canceledLots: leaves, reason: 'venue: rejected after acceptance' }, `canceled:${t.orderId}`, raw, at);
  }

  private onUpdate(u: TradeUpdate, body: Buffer): void {
    const ours = orderIdFromClientId(u.order.client_order_id);
    if (ours === null) return;
    const t = this.orders.get(ours.orderId);
    if (t === undefined) return; // an order of an earlier session: reconciliation's business
    const key = `${u.order.id}:${u.event}:${u.execution_id ?? ''}:${u.order.filled_qty}:${u.order.status}`;
    if (this.updateKeys.has(key)) {
      this.stats.duplicateReports++;
      return;
    }
    if (this.updateKeys.size > 100_000) this.updateKeys.clear();
    this.updateKeys.add(key);
    const raw = JSON.parse(body.toString('utf8')) as unknown;
    const apply = (): void => this.onOrderUpdate(t, ours.replaceCount, u, raw);
    if (t.pendingReplace !== null && ours.replaceCount === t.pendingReplace.n) {
      t.held.push(apply);
      return;
    }
    apply();
  }

  private onOrderUpdate(t: Tracked, n: number, u: TradeUpdate, raw: unknown): void {
    if (n > t.replaceCount) return; // a replacement we never heard of: left to queries
    const vid = u.order.id;
    if (n === t.replaceCount) t.venueOrderId ??= vid;
    switch (u.event) {
      case 'new':
      case 'accepted':
        if (n === t.replaceCount) this.accepted(t, vid, raw, u.timestamp ?? null);
        return;
      case 'fill':
      case 'partial_fill':
        if (u.execution_id === undefined || u.price === undefined || u.qty === undefined) {
          void this.fetchFills(t, vid);
          return;
        }
        this.fill(t, u.execution_id, vid, u.price, u.qty, u.timestamp ?? null, raw);
        return;
      case 'canceled':
      case 'expired':
      case 'done_for_day':
      case 'rejected': {
        if (n !== t.replaceCount || t.pendingReplace !== null) return;
        const st = u.event === 'canceled' ? 'canceled' : u.event === 'rejected' ? 'rejected' : 'expired';
        if (this.lots(u.order.filled_qty) > (t.filledByVenueOrder.get(vid) ?? 0)) {
          void this.fetchFills(t, vid).then(() => this.terminal(t, st, raw, u.timestamp ?? null));
          return;
        }
        this.terminal(t, st, raw, u.timestamp ?? null);
        return;
      }
      default:
        return; // replaced (the PATCH answer speaks for it), pending_*, *_rejected (the REST answer speaks)
    }
  }

  /** Every FILL activity, oldest first (paged by the last activity id), optionally only those after an ISO time. */
  private async activities(orderId: string | null): Promise<AlpacaFillActivity[]> {
    const out: AlpacaFillActivity[] = [];
    let token: string | null = null;
    for (let page = 0; page < 10_000; page++) {
      const q = `direction=asc&page_size=100${token !== null ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const list = (await this.request(orderId, 'GetFillActivities', 'GET', `/v2/account/activities/FILL?${q}`)) as unknown[];
      for (const a of list) out.push(AlpacaFillActivity.parse(a));
      if (list.length < 100) break;
      token = out.at(-1)!.id;
    }
    return out;
  }

  /** The venue's fills of one of its orders that we have not seen. */
  private async fetchFills(t: Tracked, venueOrderId: string): Promise<void> {
    try {
      for (const a of await this.activities(t.orderId)) {
        if (a.order_id === venueOrderId) this.fill(t, executionIdOfActivity(a.id), venueOrderId, a.price, a.qty, a.transaction_time, a);
      }
    } catch (e) {
      this.log(`fetching the fills of ${venueOrderId}: ${describe(e)}`);
    }
  }

  /** Asks the venue where the order stands and applies the answer (after an unclear outcome, or a gap). */
  private async refresh(t: Tracked, cancelWasSent = false): Promise<void> {
    if (t.done) return;
    // The venue order asked about: a replace may complete while the answer is on its way.
    const n = t.replaceCount;
    let o: AlpacaOrder | null;
    try {
      o = await this.byClientId(t.orderId, n);
    } catch (e) {
      this.stats.unknown++;
      this.report('OrderStatusUnknown', { orderId: t.orderId, reason: this.redact(`the venue could not be asked: ${describe(e)}`) }, `unknown:${t.orderId}:${this.seq++}`);
      return;
    }
    if (o === null) {
      if (n === t.replaceCount && !t.accepted && t.filledLots === 0) {
        t.done = true;
        this.report('OrderRejected', { orderId: t.orderId, reason: 'venue: no such order (it never reached the venue)' }, `rejected:${t.orderId}`);
      }
      return;
    }
    this.applyOrder(t, n, o, o);
    if (this.lots(o.filled_qty) > (t.filledByVenueOrder.get(o.id) ?? 0)) await this.fetchFills(t, o.id);
    if (n !== t.replaceCount) return;
    if (cancelWasSent && !t.done && stateOf(o.status) === 'open') this.report('CancelRejected', { orderId: t.orderId, reason: 'the cancel did not take: the order is still open' }, `cancel-rejected:${t.orderId}:${this.seq++}`);
  }

  /** After a gap in the trade stream: every working order's state and fills over REST. */
  async resync(): Promise<void> {
    this.stats.resyncs++;
    for (const t of [...this.orders.values()]) {
      if (t.done || t.pendingReplace !== null) continue;
      await this.refresh(t).catch((e) => this.log(`resync of ${t.orderId}: ${describe(e)}`));
    }
  }

  // ---------------------------------------------------------------- queries and reconciliation

  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    const t = this.orders.get(orderId);
    if (t === undefined) throw new TapedeckError('UNKNOWN_ORDER', `${orderId} was not sent by this session`, { field: 'orderId' });
    let o: AlpacaOrder | null;
    try {
      o = await this.byClientId(orderId, t.replaceCount);
    } catch (e) {
      throw new TapedeckError('VENUE_QUERY', this.redact(describe(e)));
    }
    if (o === null) {
      if (!t.accepted && t.filledLots === 0) t.done = true;
      return { orderId, state: 'not-found', filledLots: t.filledLots, leavesLots: 0 };
    }
    const vids = new Set([...t.filledByVenueOrder.keys(), o.id]);
    const fills: ReportedFill[] = [];
    let filledLots = 0;
    for (const a of await this.activities(orderId)) {
      if (!vids.has(a.order_id)) continue;
      const fillId = alpacaFillId(executionIdOfActivity(a.id));
      const lots = this.lots(a.qty);
      filledLots += lots;
      fills.push({ fillId, priceTicks: this.ticks(a.price), qtyLots: lots, fee: 0n, feeScale: 0, feeCurrency: 'USD', liquidity: 'unknown' });
      if (!this.seenFills.has(fillId)) {
        this.seenFills.add(fillId);
        t.filledByVenueOrder.set(a.order_id, (t.filledByVenueOrder.get(a.order_id) ?? 0) + lots);
      }
    }
    t.filledLots = Math.max(t.filledLots, filledLots);
    const state = stateOf(o.status) ?? 'open';
    if (state === 'open') t.accepted = true;
    else t.done = true;
    t.venueOrderId = o.id;
    const leaves = state === 'open' ? this.lots(o.qty ?? '0') - this.lots(o.filled_qty) : 0;
    return { orderId, state, filledLots, leavesLots: leaves, venueOrderId: o.id, fills };
  }

  /** Every order of ours the venue has (all statuses, paged by creation time), oldest first. */
  private async allOrders(): Promise<AlpacaOrder[]> {
    const out: AlpacaOrder[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10_000; page++) {
      const q = `status=all&direction=asc&limit=500${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`;
      const list = (await this.request(null, 'ListOrders', 'GET', `/v2/orders?${q}`)) as unknown[];
      for (const x of list) out.push(AlpacaOrder.parse(x));
      if (list.length < 500) break;
      after = out.at(-1)!.created_at;
    }
    return out;
  }

  /**
   * The venue's side for domain/reconcile: our orders by client order id (the current venue order of each, the
   * fills of all of them), every fill, every position. Open orders and positions are complete listings.
   */
  async reconciliationReport(request: ReconciliationRequest): Promise<VenueReport & { replaced: ReadonlyMap<string, { replaceCount: number; priceTicks: number; qtyLots: number; venueOrderId: string }> }> {
    const cfg = this.o.config;
    const all = await this.allOrders();
    const mine = new Map<string, Array<{ n: number; o: AlpacaOrder }>>();
    const byVenueId = new Map<string, { orderId: string; o: AlpacaOrder }>();
    for (const o of all) {
      const ours = orderIdFromClientId(o.client_order_id);
      if (ours === null) continue;
      byVenueId.set(o.id, { orderId: ours.orderId, o });
      const list = mine.get(ours.orderId) ?? [];
      list.push({ n: ours.replaceCount, o });
      mine.set(ours.orderId, list);
    }
    const orders: VenueOrderReport[] = [];
    const replaced = new Map<string, { replaceCount: number; priceTicks: number; qtyLots: number; venueOrderId: string }>();
    for (const [orderId, list] of mine) {
      const current = list.reduce((a, b) => (b.n > a.n ? b : a));
      const state = stateOf(current.o.status) ?? 'open';
      const filledLots = list.reduce((a, v) => a + this.lots(v.o.filled_qty), 0);
      orders.push({ orderId, state, filledLots, leavesLots: state === 'open' ? this.lots(current.o.qty ?? '0') - this.lots(current.o.filled_qty) : 0, venueOrderId: current.o.id });
      // The order's total now: what its earlier venue orders filled plus the current one's quantity.
      const earlier = list.filter((v) => v !== current).reduce((a, v) => a + this.lots(v.o.filled_qty), 0);
      const limit = current.o.limit_price;
      if (limit !== null && limit !== undefined) replaced.set(orderId, { replaceCount: current.n, venueOrderId: current.o.id, qtyLots: earlier + this.lots(current.o.qty ?? '0'), priceTicks: this.ticks(limit) });
    }
    for (const orderId of request.orderIds) if (!mine.has(orderId)) orders.push({ orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
    const fills: VenueFill[] = [];
    for (const a of await this.activities(null)) {
      const owner = byVenueId.get(a.order_id);
      if (owner === undefined) continue;
      fills.push({
        fillId: alpacaFillId(executionIdOfActivity(a.id)), orderId: owner.orderId, instrument: alpacaInstrumentId(a.symbol), side: a.side,
        priceTicks: this.ticks(a.price), priceScale: cfg.priceScale, qtyLots: this.lots(a.qty), qtyScale: cfg.qtyScale,
        fee: 0n, feeScale: 0, feeCurrency: 'USD', liquidity: 'unknown',
      });
    }
    const positions: VenuePosition[] = ((await this.request(null, 'ListPositions', 'GET', '/v2/positions')) as unknown[]).map((x) => {
      const p = AlpacaPosition.parse(x);
      // Alpaca writes a short's qty negative; side says so too.
      const lots = this.lots(p.qty.replace(/^-/, ''));
      return { instrument: alpacaInstrumentId(p.symbol), qtyLots: p.qty.startsWith('-') || p.side === 'short' ? -lots : lots, qtyScale: cfg.qtyScale };
    });
    return { venue: ALPACA, orders, openOrdersComplete: true, fills, positions, positionsComplete: true, replaced };
  }

  /** GET /v2/account: the keys work and the account answers. */
  async account(): Promise<unknown> {
    return this.request(null, 'GetAccount', 'GET', '/v2/account');
  }

  /** Cancels an order of an earlier session (by our client id and replace count); done or unknown orders are left to reconciliation. */
  async cancelLeftover(orderId: string, replaceCount: number): Promise<boolean> {
    try {
      const o = await this.byClientId(orderId, replaceCount);
      if (o === null || stateOf(o.status) !== 'open') return false;
      await this.request(orderId, 'CancelOrder', 'DELETE', `/v2/orders/${encodeURIComponent(o.id)}`);
      return true;
    } catch (e) {
      this.log(`cancel of leftover ${orderId}: ${describe(e)}`);
      return false;
    }
  }

  // ---------------------------------------------------------------- events

  private report(type: string, data: Record<string, unknown>, key: string, raw?: unknown, at?: string | null): void {
    const now = this.clock();
    let eventTimeNs = this.eventClock();
    if (at !== undefined && at !== null) {
      try {
        eventTimeNs = isoToNs(at, { file: 'alpaca', line: 0, receiveTimeNs: now }, 'timestamp');
      } catch {
        // a time we cannot read: the latest venue time stays
      }
    }
    const env = {
      id: venueEventId(ALPACA, key), type, schemaVersion: 1, stream: 'venue', eventTimeNs, receiveTimeNs: now, causationId: null, correlationId: null, data,
      ...(raw !== undefined ? { raw: { format: 'json' as const, bytes: new TextEncoder().encode(this.redact(JSON.stringify(raw))) } } : {}),
    } as unknown as AnyEnvelope;
    this.outlets.report(env);
  }

  private sent(orderId: string, messageType: string, text: string): void {
    const now = this.clock();
    const env = {
      id: venueEventId(ALPACA, `sent:${orderId}:${messageType}:${this.seq++}:${now}`), type: 'VenueMessageSent', schemaVersion: 1, stream: 'venue',
      eventTimeNs: this.eventClock(), receiveTimeNs: now, causationId: null, correlationId: null, data: { orderId, venue: ALPACA, messageType },
      raw: { format: 'text' as const, bytes: new TextEncoder().encode(this.redact(text)) },
    } as unknown as AnyEnvelope;
    this.outlets.sent(env);
  }

  private redact(text: string): string {
    return this.o.credentials.redact(text);
  }

  private log(line: string): void {
    this.o.onLog?.(this.redact(line));
  }
}

function stateOf(status: string): 'open' | 'filled' | 'canceled' | 'expired' | 'rejected' | null {
  switch (status) {
    case 'new': case 'partially_filled': case 'accepted': case 'pending_new': case 'pending_cancel': case 'pending_replace': case 'accepted_for_bidding': case 'calculated': case 'held':
      return 'open';
    case 'filled':
      return 'filled';
    case 'canceled': case 'replaced': case 'done_for_day':
      return status === 'done_for_day' ? 'expired' : 'canceled';
    case 'expired':
      return 'expired';
    case 'rejected': case 'stopped': case 'suspended':
      return status === 'rejected' ? 'rejected' : 'open';
    default:
      return null;
  }
}

function plain(mantissa: number, scale: number): string {
  const s = formatDecimal(mantissa, scale);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function describe(e: unknown): string {
  return `${e instanceof Error ? e.constructor.name : 'Error'}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500);
}
