/**
 * A simulated Alpaca (trading API v2, paper) on loopback, for live sessions against its real routes and
 * message shapes:
 *
 *   REST (every /v2 route checks APCA-API-KEY-ID and APCA-API-SECRET-KEY: missing → 401
 *   {code: 40110000, message: "request is not authorized"}, wrong → 403 {code: 40310000, message: "forbidden"})
 *     GET    /v2/account                               cash, equity, status
 *     POST   /v2/orders                                limit and market orders; client_order_id unique (422 on reuse)
 *     GET    /v2/orders?status=open|closed|all&limit&after&until&direction&symbols
 *     GET    /v2/orders:by_client_order_id?client_order_id=   404 {code: 40410000} when never placed
 *     GET    /v2/orders/{id}      DELETE /v2/orders/{id} (204; the final state comes as a `canceled` trade update)
 *     PATCH  /v2/orders/{id}                           replace: a new order (new id, our client_order_id), the old
 *                                                      one `replaced` (replaced_by), in one step
 *     DELETE /v2/orders                                cancel all (207)
 *     GET    /v2/positions, /v2/positions/{symbol}     signed quantity, side long|short, average entry price
 *     GET    /v2/account/activities/FILL (and /v2/account/activities?activity_types=FILL)
 *                                                      after, until, direction, page_size (≤ 100), page_token
 *   WS /stream     trade_updates: {action: auth} → authorization, {action: listen} → listening, then updates
 *                  (new, partial_fill, fill, canceled, expired, replaced, rejected), all in BINARY frames as paper
 *   WS /v2/iex (/v2/sip, /v2/test)  market data: [{T: success, msg: connected}] → auth → authenticated →
 *                  subscribe {trades, quotes, bars} → subscription; then arrays of t, q and b messages (numbers
 *                  written as exact decimals); errors 401 not authenticated, 402 auth failed, 400 invalid syntax
 *   GET /_sim/orders, /_sim/fills, /_sim/positions   the simulator's truth; POST /_sim/faults {spec?, once?}
 *
 * Matching is the kernel's simulated venue (domain/venue/simulated.ts). Without a capture the market is
 * common/sim-venue.ts's seeded SyntheticMarket over a few equities; with one (`capture`: recorded market-data
 * frames, one JSON array a line, as the stream sent them) the recording is played and re-sent as recorded.
 * A replaced order's fills stay with it; its replacement is a new order for the quantity given. Commission-free.
 *
 * Faults (`faults`, `name:probability[:ms]`): lose-ack (an order request is processed, its answer lost),
 * delay-ack (ms), 429 (refused, not processed), 5xx (503, not processed), dup-update (a trade update sent twice),
 * drop (every websocket dropped), restart (connections dropped and refused for ms; state kept).
 */
import fs from 'node:fs';
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { divRound, formatDecimal, parseDecimal } from '../../../domain/core/fixed.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { VenueReport } from '../../../domain/venue/simulated.js';
import { wallClockNs } from '../common/clock.js';
import { Faults, SimServer, type SimRequest, type SimResponse } from '../common/sim-server.js';
import { SimMatcher, SyntheticMarket, type SyntheticInstrument } from '../common/synthetic-market.js';
import type { AlpacaCredentials } from './credentials.js';
import { ALPACA } from './config.js';
import { AlpacaParser, alpacaInstrumentId } from './parse.js';

const FAULTS = { 'lose-ack': 0, 'delay-ack': 500, '429': 0, '5xx': 0, 'dup-update': 0, drop: 0, restart: 300 } as const;
const MAX_RECORDS = 1_000_000;
const NOT_AUTHORIZED = { code: 40110000, message: 'request is not authorized' };
const FORBIDDEN = { code: 40310000, message: 'forbidden' };

export interface SimAlpacaOptions {
  credentials: AlpacaCredentials;
  port?: number;
  /** Recorded market-data frames (JSONL of arrays); without it, a seeded synthetic market. */
  capture?: string;
  /** Market time per wall time (synthetic: steps per second scale with it; capture: replay speed). */
  speed?: number;
  seed?: number;
  faults?: string;
  /** Synthetic market: symbol → starting price (default AAPL 187.45, MSFT 402.10, SPY 512.30). */
  symbols?: Record<string, string>;
  /** Wall ms between two synthetic market steps (default 25). */
  stepMs?: number;
  priceScale?: number;
  /** Starting cash, USD. */
  cash?: string;
}

export interface SimAlpacaOrderRecord {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  qty: string;
  filledQty: string;
  limitPrice: string | null;
  status: string;
  /** The order this one replaced (its id). */
  replaces?: string;
  /** Set when this client_order_id had been used before (refused with 422). */
  duplicate?: boolean;
}

export interface SimAlpacaFillRecord {
  activityId: string;
  executionId: string;
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: string;
  qty: string;
  time: string;
}

interface AOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  instrument: string;
  side: 'buy' | 'sell';
  type: 'limit' | 'market';
  tif: string;
  priceTicks: number | null;
  qtyLots: number;
  filledLots: number;
  /** Σ price × qty at scale priceScale + qtyScale. */
  notional: bigint;
  status: string;
  createdNs: bigint;
  updatedNs: bigint;
  filledNs: bigint | null;
  canceledNs: bigint | null;
  replacedNs: bigint | null;
  replacedBy: string | null;
  replaces: string | null;
  record: SimAlpacaOrderRecord;
}

const dec = z.string().regex(/^\d+(\.\d+)?$/);
const NewOrder = z.object({
  symbol: z.string().min(1),
  qty: z.union([dec, z.number()]).transform(String),
  side: z.enum(['buy', 'sell']),
  type: z.enum(['market', 'limit']),
  time_in_force: z.enum(['day', 'gtc', 'ioc', 'fok', 'opg', 'cls']),
  limit_price: z.union([dec, z.number()]).transform(String).optional(),
  client_order_id: z.string().max(128).optional(),
  extended_hours: z.boolean().optional(),
}).loose();
const Replace = z.object({
  qty: z.union([dec, z.number()]).transform(String).optional(),
  limit_price: z.union([dec, z.number()]).transform(String).optional(),
  time_in_force: z.enum(['day', 'gtc', 'ioc', 'fok', 'opg', 'cls']).optional(),
  client_order_id: z.string().max(128).optional(),
}).loose();

/** ns since the epoch → RFC-3339 with ns digits. */
export function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${base}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

/** A decimal without trailing zeros ("187.4500" → "187.45", "100.0" → "100"). */
function plain(mantissa: bigint | number, scale: number): string {
  const s = formatDecimal(mantissa, scale);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export class SimAlpaca {
  private server!: SimServer;
  private readonly matcher: SimMatcher;
  private readonly faults: Faults;
  private readonly priceScale: number;
  private readonly qtyScale = 0;
  private readonly tickTicks: number;
  private readonly symbols: Map<string, string>;
  private readonly orders = new Map<string, AOrder>();
  private readonly byClientId = new Map<string, AOrder>();
  readonly orderLog: SimAlpacaOrderRecord[] = [];
  readonly fillLog: SimAlpacaFillRecord[] = [];
  /** Signed position per symbol (lots) and its cost (price × qty at priceScale + qtyScale). */
  private readonly positions = new Map<string, { lots: number; cost: bigint }>();
  private cash: bigint;
  private readonly tradeSockets = new Set<WebSocket>();
  private readonly dataSockets = new Map<WebSocket, { trades: Set<string>; quotes: Set<string>; bars: Set<string> }>();
  private readonly bars = new Map<string, { startNs: bigint; o: number; h: number; l: number; c: number; v: number; n: number }>();
  private synthetic: SyntheticMarket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastNs = 0n;
  private seq = 0;

  private constructor(private readonly o: SimAlpacaOptions) {
    this.priceScale = o.priceScale ?? 2;
    this.tickTicks = Number(parseDecimal('0.01', this.priceScale));
    this.symbols = new Map(Object.entries(o.symbols ?? { AAPL: '187.45', MSFT: '402.10', SPY: '512.30' }));
    this.cash = parseDecimal(o.cash ?? '1000000', this.priceScale + this.qtyScale);
    this.faults = new Faults(FAULTS, o.faults, (o.seed ?? 7) ^ 0x5eed);
    const instruments: Record<string, { tickSizeTicks: number; lotSizeLots: number; quoteCurrency: string }> = {};
    for (const s of this.symbols.keys()) instruments[alpacaInstrumentId(s)] = { tickSizeTicks: this.tickTicks, lotSizeLots: 1, quoteCurrency: 'USD' };
    this.matcher = new SimMatcher({ venue: ALPACA, fillOnBookCross: true, fees: { makerBps: '0', takerBps: '0' }, instruments });
  }

  static async start(o: SimAlpacaOptions): Promise<SimAlpaca> {
    const speed = o.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new TapedeckError('USAGE', `--speed must be a number > 0, got ${String(o.speed)}`, { field: '--speed' });
    const sim = new SimAlpaca(o);
    sim.server = await SimServer.start({ port: o.port ?? 0, http: (req) => sim.onHttp(req), ws: (ws, url) => sim.onWs(ws, url) });
    if (o.capture !== undefined) await sim.playCapture(o.capture, speed);
    else sim.startSynthetic(speed);
    return sim;
  }

  get port(): number {
    return this.server.port;
  }

  get urls(): { rest: string; ws: string } {
    return this.server.urls;
  }

  setFaults(spec: string | undefined, once: string[] = []): void {
    this.faults.set(spec, once);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.server.close();
  }

  private nowNs(): bigint {
    // Strictly increasing, so every venue event has its own time.
    const n = wallClockNs();
    this.lastNs = n > this.lastNs ? n : this.lastNs + 1n;
    return this.lastNs;
  }

  // ---------------------------------------------------------------- market

  private startSynthetic(speed: number): void {
    const instruments: SyntheticInstrument[] = [...this.symbols].map(([symbol, price]) => ({
      venue: ALPACA, instrument: alpacaInstrumentId(symbol), priceScale: this.priceScale, qtyScale: this.qtyScale,
      startTicks: Number(parseDecimal(price, this.priceScale, `symbols.${symbol}`)), tickTicks: this.tickTicks, halfSpread: 2, minLots: 1, maxLots: 300,
    }));
    this.synthetic = new SyntheticMarket(instruments, this.o.seed ?? 7, 0.6);
    const every = Math.max(1, Math.round((this.o.stepMs ?? 25) / speed));
    const tick = (): void => {
      if (this.closed) return;
      this.marketFaults();
      for (const e of this.synthetic!.step(this.nowNs())) this.onMarket(e, null);
      this.timer = setTimeout(tick, every);
    };
    this.timer = setTimeout(tick, every);
  }

  private async playCapture(file: string, speed: number): Promise<void> {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new TapedeckError('CAPTURE_READ', 'cannot read the capture', { file });
    }
    const parser = new AlpacaParser({ priceScale: this.priceScale, qtyScale: this.qtyScale, tickSizeTicks: this.tickTicks });
    const frames: Array<{ line: string; events: TimedEvent[] }> = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const events = parser.parseFrame(new TextEncoder().encode(line), { file, line: i + 1, receiveTimeNs: 0n }) as TimedEvent[];
      frames.push({ line, events: events.filter((e) => e.type !== 'InstrumentDefined') });
    });
    if (frames.length === 0) throw new TapedeckError('CAPTURE_EMPTY', 'the capture holds no market-data frames', { file });
    const firstNs = frames.find((f) => f.events.length > 0)?.events[0]?.eventTimeNs ?? 0n;
    const wall0 = Date.now();
    let at = 0;
    const tick = (): void => {
      if (this.closed) return;
      this.marketFaults();
      const due = BigInt(Math.floor((Date.now() - wall0) * speed)) * 1_000_000n + firstNs;
      while (at < frames.length && (frames[at]!.events[0]?.eventTimeNs ?? 0n) <= due) {
        const f = frames[at++]!;
        for (const e of f.events) this.onMarket(e, f.line);
      }
      if (at < frames.length) this.timer = setTimeout(tick, 10);
    };
    this.timer = setTimeout(tick, 0);
  }

  private marketFaults(): void {
    const r = this.faults.hit('restart');
    if (r !== null) this.server.restart(r);
    else if (this.faults.hit('drop') !== null) this.server.dropWebsockets();
  }

  /** A market event: matched against resting orders, then sent to subscribers (as recorded when `line` is given). */
  private onMarket(e: TimedEvent, line: string | null): void {
    this.applyReports(this.matcher.market(e));
    if (e.type !== 'TradeReported' && e.type !== 'QuoteUpdated' && e.type !== 'BarClosed') return;
    const symbol = e.data.instrument.slice(ALPACA.length + 1);
    if (line !== null) {
      for (const [ws, sub] of this.dataSockets) if (sub.trades.has(symbol) || sub.quotes.has(symbol) || sub.bars.has(symbol) || sub.trades.has('*')) ws.send(line);
      return;
    }
    const p = (t: number | null): string => (t === null ? '0' : plain(t, this.priceScale));
    const q = (l: number): string => plain(l, this.qtyScale);
    const t = isoNs(e.eventTimeNs);
    let msg: string;
    let kind: 'trades' | 'quotes';
    if (e.type === 'TradeReported') {
      const d = e.data;
      msg = `{"T":"t","S":${JSON.stringify(symbol)},"i":${d.tradeId},"x":"V","p":${p(d.priceTicks)},"s":${q(d.qtyLots)},"c":["@"],"t":"${t}","z":"C"}`;
      kind = 'trades';
      this.barTrade(symbol, e.eventTimeNs, d.priceTicks, d.qtyLots);
    } else if (e.type === 'QuoteUpdated') {
      const d = e.data;
      msg = `{"T":"q","S":${JSON.stringify(symbol)},"bx":"V","bp":${p(d.bidPriceTicks)},"bs":${q(d.bidQtyLots)},"ax":"V","ap":${p(d.askPriceTicks)},"as":${q(d.askQtyLots)},"c":["R"],"t":"${t}","z":"C"}`;
      kind = 'quotes';
    } else return;
    for (const [ws, sub] of this.dataSockets) if (sub[kind].has(symbol) || sub[kind].has('*')) ws.send(`[${msg}]`);
  }

  /** Minute bars from the synthetic trades: a bar is sent when a trade falls in a later minute. */
  private barTrade(symbol: string, ns: bigint, price: number, lots: number): void {
    const start = ns - (ns % 60_000_000_000n);
    const b = this.bars.get(symbol);
    if (b !== undefined && b.startNs !== start) {
      const p = (t: number): string => plain(t, this.priceScale);
      const msg = `[{"T":"b","S":${JSON.stringify(symbol)},"o":${p(b.o)},"h":${p(b.h)},"l":${p(b.l)},"c":${p(b.c)},"v":${plain(b.v, this.qtyScale)},"t":"${isoNs(b.startNs).replace(/\.\d+Z$/, 'Z')}","n":${b.n},"vw":${p(b.c)}}]`;
      for (const [ws, sub] of this.dataSockets) if (sub.bars.has(symbol) || sub.bars.has('*')) ws.send(msg);
    }
    if (b === undefined || b.startNs !== start) this.bars.set(symbol, { startNs: start, o: price, h: price, l: price, c: price, v: lots, n: 1 });
    else {
      b.h = Math.max(b.h, price);
      b.l = Math.min(b.l, price);
      b.c = price;
      b.v += lots;
      b.n++;
    }
  }

  // ---------------------------------------------------------------- websockets

  private onWs(ws: WebSocket, url: URL): void {
    if (url.pathname === '/stream') this.tradeStream(ws);
    else if (/^\/v2\/(iex|sip|test|delayed_sip)$/.test(url.pathname)) this.dataStream(ws);
    else ws.close(1008, 'no such stream');
  }

  private tradeStream(ws: WebSocket): void {
    let authorized = false;
    const send = (m: unknown): void => ws.send(Buffer.from(JSON.stringify(m)), { binary: true });
    ws.on('close', () => this.tradeSockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      let m: { action?: string; key?: string; secret?: string; data?: { key_id?: string; secret_key?: string; streams?: string[] } };
      try {
        m = JSON.parse(data.toString('utf8')) as typeof m;
      } catch {
        send({ stream: 'error', data: { error_message: 'invalid syntax' } });
        return;
      }
      if (m.action === 'auth' || m.action === 'authenticate') {
        const key = m.action === 'auth' ? m.key : m.data?.key_id;
        const secret = m.action === 'auth' ? m.secret : m.data?.secret_key;
        authorized = this.o.credentials.matches(key, secret) === 'ok';
        send({ stream: 'authorization', data: { action: 'authenticate', status: authorized ? 'authorized' : 'unauthorized' } });
        if (!authorized) ws.close(1008, 'unauthorized');
        return;
      }
      if (m.action === 'listen') {
        if (!authorized) {
          send({ stream: 'authorization', data: { action: 'listen', status: 'unauthorized' } });
          ws.close(1008, 'unauthorized');
          return;
        }
        const streams = (m.data?.streams ?? []).filter((s) => s === 'trade_updates');
        if (streams.length > 0) this.tradeSockets.add(ws);
        else this.tradeSockets.delete(ws);
        send({ stream: 'listening', data: { streams } });
        return;
      }
      send({ stream: 'error', data: { error_message: `unknown action ${String(m.action)}` } });
    });
  }

  private dataStream(ws: WebSocket): void {
    let authenticated = false;
    const sub = { trades: new Set<string>(), quotes: new Set<string>(), bars: new Set<string>() };
    ws.send('[{"T":"success","msg":"connected"}]');
    ws.on('close', () => this.dataSockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      let m: { action?: string; key?: string; secret?: string; trades?: string[]; quotes?: string[]; bars?: string[] };
      try {
        m = JSON.parse(data.toString('utf8')) as typeof m;
      } catch {
        ws.send('[{"T":"error","code":400,"msg":"invalid syntax"}]');
        return;
      }
      if (m.action === 'auth') {
        if (this.o.credentials.matches(m.key, m.secret) !== 'ok') {
          ws.send('[{"T":"error","code":402,"msg":"auth failed"}]');
          ws.close(1008, 'auth failed');
          return;
        }
        authenticated = true;
        ws.send('[{"T":"success","msg":"authenticated"}]');
        return;
      }
      if (m.action === 'subscribe' || m.action === 'unsubscribe') {
        if (!authenticated) {
          ws.send('[{"T":"error","code":401,"msg":"not authenticated"}]');
          return;
        }
        for (const k of ['trades', 'quotes', 'bars'] as const) for (const s of m[k] ?? []) {
          if (m.action === 'subscribe') sub[k].add(s);
          else sub[k].delete(s);
        }
        this.dataSockets.set(ws, sub);
        ws.send(JSON.stringify([{ T: 'subscription', trades: [...sub.trades], quotes: [...sub.quotes], bars: [...sub.bars], updatedBars: [], dailyBars: [], statuses: [], lulds: [], corrections: [], cancelErrors: [] }]));
        return;
      }
      ws.send('[{"T":"error","code":400,"msg":"invalid syntax"}]');
    });
  }

  private pushUpdate(event: string, o: AOrder, atNs: bigint, fill?: SimAlpacaFillRecord): void {
    const data: Record<string, unknown> = { event, timestamp: isoNs(atNs), order: this.orderJson(o) };
    if (fill) {
      data.execution_id = fill.executionId;
      data.price = fill.price;
      data.qty = fill.qty;
      data.position_qty = plain(this.positions.get(o.symbol)?.lots ?? 0, this.qtyScale);
    }
    const bytes = Buffer.from(JSON.stringify({ stream: 'trade_updates', data }));
    const times = this.faults.hit('dup-update') !== null ? 2 : 1;
    for (const ws of this.tradeSockets) for (let i = 0; i < times; i++) ws.send(bytes, { binary: true });
  }

  // ---------------------------------------------------------------- REST

  private async onHttp(req: SimRequest): Promise<SimResponse> {
    try {
      return await this.route(req);
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: e.body };
      throw e;
    }
  }

  private async route(req: SimRequest): Promise<SimResponse> {
    const { method, path, query, body } = req;
    if (method === 'GET' && path.startsWith('/_sim/')) {
      const truth: Record<string, () => unknown> = { orders: () => this.orderLog, fills: () => this.fillLog, positions: () => this.positionList() };
      const get = truth[path.slice('/_sim/'.length)];
      if (get === undefined) throw new HttpError(404, { message: 'not found' });
      return { status: 200, body: get() };
    }
    if (method === 'POST' && path === '/_sim/faults') {
      const b = (body === '' ? {} : JSON.parse(body)) as { spec?: string; once?: string[] };
      this.faults.set(b.spec, b.once ?? []);
      return { status: 200, body: { ok: true } };
    }
    if (!path.startsWith('/v2/')) throw new HttpError(404, { code: 40410000, message: 'endpoint not found' });
    const auth = this.o.credentials.matches(header(req.headers, 'apca-api-key-id'), header(req.headers, 'apca-api-secret-key'));
    if (auth === 'missing') throw new HttpError(401, NOT_AUTHORIZED);
    if (auth === 'wrong') throw new HttpError(403, FORBIDDEN);
    if (this.faults.hit('429') !== null) throw new HttpError(429, { code: 42910000, message: 'rate limit exceeded' });
    if (this.faults.hit('5xx') !== null) throw new HttpError(503, { message: 'service unavailable' });
    const orderRequest = (method === 'POST' && path === '/v2/orders') || (method === 'PATCH' && path.startsWith('/v2/orders/'));
    let status = 200;
    let answer: unknown;
    if (method === 'GET' && path === '/v2/account') answer = this.account();
    else if (method === 'POST' && path === '/v2/orders') answer = this.orderJson(this.newOrder(parseBody(NewOrder, body), null));
    else if (method === 'GET' && path === '/v2/orders') answer = this.listOrders(query);
    else if (method === 'DELETE' && path === '/v2/orders') {
      status = 207;
      answer = [...this.orders.values()].filter((o) => isOpen(o.status)).map((o) => {
        this.cancel(o);
        return { id: o.id, status: 200 };
      });
    } else if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const o = this.byClientId.get(query.get('client_order_id') ?? '');
      if (o === undefined) throw new HttpError(404, { code: 40410000, message: 'order not found' });
      answer = this.orderJson(o);
    } else if (path.startsWith('/v2/orders/')) {
      const o = this.orders.get(decodeURIComponent(path.slice('/v2/orders/'.length)));
      if (o === undefined) throw new HttpError(404, { code: 40410000, message: 'order not found' });
      if (method === 'GET') answer = this.orderJson(o);
      else if (method === 'DELETE') {
        this.cancel(o);
        status = 204;
      } else if (method === 'PATCH') answer = this.orderJson(this.replace(o, parseBody(Replace, body)));
      else throw new HttpError(405, { message: 'method not allowed' });
    } else if (method === 'GET' && path === '/v2/positions') answer = this.positionList();
    else if (method === 'GET' && path.startsWith('/v2/positions/')) {
      const p = this.positionList().find((x) => x.symbol === decodeURIComponent(path.slice('/v2/positions/'.length)));
      if (p === undefined) throw new HttpError(404, { code: 40410000, message: 'position does not exist' });
      answer = p;
    } else if (method === 'GET' && (path === '/v2/account/activities/FILL' || (path === '/v2/account/activities' && query.get('activity_types') === 'FILL'))) {
      answer = this.activities(query);
    } else throw new HttpError(404, { code: 40410000, message: 'endpoint not found' });
    if (orderRequest) {
      if (this.faults.hit('lose-ack') !== null) return { destroy: true };
      const delay = this.faults.hit('delay-ack');
      if (delay !== null) await new Promise((r) => setTimeout(r, delay));
    }
    // 204 has no body: the shared server writes JSON, so the answer is an empty body under 204 either way.
    return { status, body: status === 204 ? '' : answer };
  }

  private account(): unknown {
    const scale = this.priceScale + this.qtyScale;
    let equity = this.cash;
    for (const [symbol, p] of this.positions) equity += BigInt(p.lots) * BigInt(this.lastPrice(symbol));
    return {
      id: '5f2f4b8e-0000-4000-8000-00000000a1a1', account_number: 'PA0000SIM', status: 'ACTIVE', currency: 'USD',
      cash: formatDecimal(this.cash, scale), equity: formatDecimal(equity, scale), portfolio_value: formatDecimal(equity, scale), buying_power: formatDecimal(this.cash, scale),
      pattern_day_trader: false, trading_blocked: false, transfers_blocked: false, account_blocked: false, shorting_enabled: true, multiplier: '1',
      created_at: '2026-01-02T14:30:00Z',
    };
  }

  private lastPrice(symbol: string): number {
    const book = this.matcher.state.market.books.get(alpacaInstrumentId(symbol));
    const bid = book?.bids.prices.at(-1);
    return bid ?? 0;
  }

  private instrumentOf(symbol: string): string {
    if (!this.symbols.has(symbol)) throw new HttpError(422, { code: 40010001, message: `asset "${symbol}" not found` });
    return alpacaInstrumentId(symbol);
  }

  private lots(text: string, field: string): number {
    let m: bigint;
    try {
      m = parseDecimal(text, this.qtyScale, field);
    } catch {
      throw new HttpError(422, { code: 40010001, message: `${field} must be a whole number of shares` });
    }
    if (m <= 0n || m > 1_000_000_000n) throw new HttpError(422, { code: 40010001, message: `${field} must be > 0` });
    return Number(m);
  }

  private priceTicks(text: string): number {
    let m: bigint;
    try {
      m = parseDecimal(text, this.priceScale, 'limit_price');
    } catch {
      throw new HttpError(422, { code: 42210000, message: `invalid limit_price ${text}. sub-penny increment does not fulfill minimum pricing criteria` });
    }
    if (m <= 0n || m % BigInt(this.tickTicks) !== 0n) throw new HttpError(422, { code: 42210000, message: `invalid limit_price ${text}. sub-penny increment does not fulfill minimum pricing criteria` });
    return Number(m);
  }

  private newOrder(b: z.output<typeof NewOrder>, replaces: AOrder | null): AOrder {
    const instrument = this.instrumentOf(b.symbol);
    const qty = this.lots(b.qty, 'qty');
    if (b.type === 'limit' && b.limit_price === undefined) throw new HttpError(422, { code: 40010001, message: 'limit_price is required for limit orders' });
    const price = b.type === 'limit' ? this.priceTicks(b.limit_price!) : null;
    const clientOrderId = b.client_order_id ?? randomUUID();
    const now = this.nowNs();
    const id = randomUUID();
    const record: SimAlpacaOrderRecord = {
      id, clientOrderId, symbol: b.symbol, side: b.side, type: b.type, qty: b.qty, filledQty: '0', limitPrice: b.limit_price ?? null, status: 'rejected',
      ...(replaces ? { replaces: replaces.id } : {}),
    };
    if (this.orderLog.length < MAX_RECORDS) this.orderLog.push(record);
    if (this.byClientId.has(clientOrderId)) {
      record.duplicate = true;
      throw new HttpError(422, { code: 40010001, message: 'client_order_id must be unique' });
    }
    const o: AOrder = {
      id, clientOrderId, symbol: b.symbol, instrument, side: b.side, type: b.type, tif: b.time_in_force, priceTicks: price, qtyLots: qty, filledLots: 0, notional: 0n,
      status: 'new', createdNs: now, updatedNs: now, filledNs: null, canceledNs: null, replacedNs: null, replacedBy: null, replaces: replaces?.id ?? null, record,
    };
    record.status = 'new';
    this.orders.set(id, o);
    this.byClientId.set(clientOrderId, o);
    if (replaces !== null) {
      // The old order is replaced in the same step (its fills stay with it).
      this.command({ kind: 'CancelOrder', orderId: replaces.clientOrderId, venue: ALPACA, instrument: replaces.instrument }, now, true);
      replaces.status = 'replaced';
      replaces.replacedBy = id;
      replaces.replacedNs = now;
      replaces.updatedNs = now;
      replaces.record.status = 'replaced';
      this.pushUpdate('replaced', replaces, now);
    }
    const tif = b.time_in_force === 'ioc' ? 'IOC' : b.time_in_force === 'fok' ? 'FOK' : b.time_in_force === 'day' ? 'DAY' : 'GTC';
    this.command({
      kind: 'SubmitOrder', orderId: clientOrderId, venue: ALPACA, instrument, side: b.side, orderType: b.type, priceTicks: price, qtyLots: qty,
      priceScale: this.priceScale, qtyScale: this.qtyScale, timeInForce: tif, postOnly: false, reduceOnly: false,
    }, now, false);
    return o;
  }

  private cancel(o: AOrder): void {
    if (!isOpen(o.status)) throw new HttpError(422, { code: 42210000, message: `order is not cancelable (status ${o.status})` });
    this.command({ kind: 'CancelOrder', orderId: o.clientOrderId, venue: ALPACA, instrument: o.instrument }, this.nowNs(), false);
  }

  private replace(o: AOrder, b: z.output<typeof Replace>): AOrder {
    if (!isOpen(o.status)) throw new HttpError(422, { code: 42210000, message: `order is not replaceable (status ${o.status})` });
    if (o.type !== 'limit' && b.limit_price !== undefined) throw new HttpError(422, { code: 40010001, message: 'limit_price applies to limit orders only' });
    return this.newOrder({
      symbol: o.symbol, side: o.side, type: o.type, qty: b.qty ?? plain(o.qtyLots - o.filledLots, this.qtyScale),
      time_in_force: b.time_in_force ?? (o.tif as 'gtc'), ...(o.priceTicks !== null ? { limit_price: b.limit_price ?? plain(o.priceTicks, this.priceScale) } : {}),
      ...(b.client_order_id !== undefined ? { client_order_id: b.client_order_id } : {}),
    }, o);
  }

  private command(c: VenueCommand, now: bigint, silent: boolean): void {
    const reports = this.matcher.command(c, now);
    const rejected = c.kind === 'SubmitOrder' ? reports.find((r) => r.type === 'OrderRejected' && r.data.orderId === c.orderId) : undefined;
    if (rejected !== undefined && rejected.type === 'OrderRejected' && c.kind === 'SubmitOrder') {
      const o = this.byClientId.get(c.orderId)!;
      o.status = 'rejected';
      o.record.status = 'rejected';
      this.pushUpdate('rejected', o, now);
      this.applyReports(reports.filter((r) => r !== rejected));
      return;
    }
    this.applyReports(silent ? reports.filter((r) => r.data.orderId !== (c as { orderId: string }).orderId || r.type !== 'OrderCanceled') : reports);
  }

  private applyReports(reports: VenueReport[]): void {
    for (const r of reports) {
      const o = this.byClientId.get(r.data.orderId);
      if (o === undefined || o.status === 'replaced') continue;
      const now = r.eventTimeNs > this.lastNs ? r.eventTimeNs : this.nowNs();
      o.updatedNs = now;
      switch (r.type) {
        case 'OrderAccepted':
          this.pushUpdate('new', o, now);
          break;
        case 'OrderFilled': {
          const d = r.data;
          o.filledLots += d.qtyLots;
          o.notional += BigInt(d.priceTicks) * BigInt(d.qtyLots);
          o.status = o.filledLots >= o.qtyLots ? 'filled' : 'partially_filled';
          if (o.status === 'filled') o.filledNs = now;
          const signed = o.side === 'buy' ? d.qtyLots : -d.qtyLots;
          const pos = this.positions.get(o.symbol) ?? { lots: 0, cost: 0n };
          pos.lots += signed;
          pos.cost += BigInt(signed) * BigInt(d.priceTicks);
          this.positions.set(o.symbol, pos);
          this.cash -= BigInt(signed) * BigInt(d.priceTicks);
          const executionId = randomUUID();
          const time = isoNs(now);
          const stamp = time.slice(0, 23).replace(/[-T:.]/g, '');
          const fill: SimAlpacaFillRecord = {
            activityId: `${stamp}::${executionId}`, executionId, orderId: o.id, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side,
            price: plain(d.priceTicks, this.priceScale), qty: plain(d.qtyLots, this.qtyScale), time,
          };
          if (this.fillLog.length < MAX_RECORDS) this.fillLog.push(fill);
          (fill as SimAlpacaFillRecord & { cumLots?: number; leavesLots?: number }).cumLots = o.filledLots;
          (fill as SimAlpacaFillRecord & { cumLots?: number; leavesLots?: number }).leavesLots = o.qtyLots - o.filledLots;
          this.pushUpdate(o.status === 'filled' ? 'fill' : 'partial_fill', o, now, fill);
          break;
        }
        case 'OrderCanceled':
          o.status = 'canceled';
          o.canceledNs = now;
          this.pushUpdate('canceled', o, now);
          break;
        case 'OrderExpired':
          o.status = 'expired';
          this.pushUpdate('expired', o, now);
          break;
        default:
          break;
      }
      o.record.status = o.status;
      o.record.filledQty = plain(o.filledLots, this.qtyScale);
    }
  }

  private listOrders(p: URLSearchParams): unknown {
    const status = p.get('status') ?? 'open';
    const limit = Math.min(500, Math.max(1, Number(p.get('limit') ?? '50') || 50));
    const asc = p.get('direction') === 'asc';
    const after = p.get('after');
    const until = p.get('until');
    const symbols = p.get('symbols')?.split(',');
    let list = [...this.orders.values()].filter((o) => status === 'all' || (status === 'open') === isOpen(o.status));
    if (symbols) list = list.filter((o) => symbols.includes(o.symbol));
    if (after !== null) list = list.filter((o) => isoNs(o.createdNs) > after);
    if (until !== null) list = list.filter((o) => isoNs(o.createdNs) < until);
    list.sort((a, b) => (a.createdNs < b.createdNs ? -1 : 1));
    if (!asc) list.reverse();
    return list.slice(0, limit).map((o) => this.orderJson(o));
  }

  private activities(p: URLSearchParams): unknown {
    const asc = p.get('direction') === 'asc';
    const size = Math.min(100, Math.max(1, Number(p.get('page_size') ?? '100') || 100));
    const token = p.get('page_token');
    const after = p.get('after');
    let list = [...this.fillLog];
    if (!asc) list.reverse();
    if (after !== null) list = list.filter((f) => f.time > after);
    if (token !== null) {
      const i = list.findIndex((f) => f.activityId === token);
      list = i < 0 ? [] : list.slice(i + 1);
    }
    return list.slice(0, size).map((f) => {
      const x = f as SimAlpacaFillRecord & { cumLots?: number; leavesLots?: number };
      return {
        activity_type: 'FILL', id: f.activityId, transaction_time: f.time, type: (x.leavesLots ?? 0) > 0 ? 'partial_fill' : 'fill', price: f.price, qty: f.qty, side: f.side,
        symbol: f.symbol, leaves_qty: plain(x.leavesLots ?? 0, this.qtyScale), order_id: f.orderId, cum_qty: plain(x.cumLots ?? 0, this.qtyScale), order_status: (x.leavesLots ?? 0) > 0 ? 'partially_filled' : 'filled',
      };
    });
  }

  private positionList(): Array<Record<string, string> & { symbol: string }> {
    const out: Array<Record<string, string> & { symbol: string }> = [];
    for (const [symbol, p] of this.positions) {
      if (p.lots === 0) continue;
      const avg = divRound(p.cost < 0n ? -p.cost : p.cost, BigInt(Math.abs(p.lots)), 'half-even');
      out.push({
        asset_id: `00000000-0000-4000-8000-${symbol.padEnd(12, '0').slice(0, 12).replace(/[^0-9A-Za-z]/g, '0')}`, symbol, exchange: 'NASDAQ', asset_class: 'us_equity',
        avg_entry_price: plain(avg, this.priceScale), qty: plain(p.lots, this.qtyScale), side: p.lots > 0 ? 'long' : 'short',
        market_value: plain(BigInt(p.lots) * BigInt(this.lastPrice(symbol)), this.priceScale + this.qtyScale),
        cost_basis: plain(p.cost, this.priceScale + this.qtyScale), current_price: plain(this.lastPrice(symbol), this.priceScale),
      });
    }
    return out;
  }

  private orderJson(o: AOrder): Record<string, unknown> {
    const ts = (n: bigint | null): string | null => (n === null ? null : isoNs(n));
    const avg = o.filledLots === 0 ? null : plain(divRound(o.notional, BigInt(o.filledLots), 'half-even'), this.priceScale);
    return {
      id: o.id, client_order_id: o.clientOrderId, created_at: ts(o.createdNs), updated_at: ts(o.updatedNs), submitted_at: ts(o.createdNs), filled_at: ts(o.filledNs),
      expired_at: null, canceled_at: ts(o.canceledNs), failed_at: null, replaced_at: ts(o.replacedNs), replaced_by: o.replacedBy, replaces: o.replaces,
      asset_id: '00000000-0000-4000-8000-000000000000', symbol: o.symbol, asset_class: 'us_equity', notional: null, qty: plain(o.qtyLots, this.qtyScale),
      filled_qty: plain(o.filledLots, this.qtyScale), filled_avg_price: avg, order_class: '', order_type: o.type, type: o.type, side: o.side,
      position_intent: o.side === 'buy' ? 'buy_to_open' : 'sell_to_open', time_in_force: o.tif, limit_price: o.priceTicks === null ? null : plain(o.priceTicks, this.priceScale),
      stop_price: null, status: o.status, extended_hours: false, legs: null, trail_percent: null, trail_price: null, hwm: null, subtag: null, source: null,
    };
  }
}

function isOpen(status: string): boolean {
  return status === 'new' || status === 'partially_filled' || status === 'accepted' || status === 'pending_new';
}

/** An HTTP error answer (status and Alpaca's JSON body). */
class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`HTTP ${status}`);
  }
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseBody<T extends z.ZodType>(schema: T, body: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new HttpError(400, { code: 40010000, message: 'request body format is invalid' });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new HttpError(422, { code: 40010001, message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
  }
  return r.data;
}
