/**
 * A simulated Binance spot exchange on loopback, for live trading tests through ccxt.
 *
 * It serves enough of Binance's REST API and WebSocket streams for ccxt's binance class:
 *   GET  /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo, /api/v3/depth
 *   GET  /sapi/v1/margin/allPairs, /sapi/v1/margin/isolated/allPairs, /sapi/v1/capital/config/getall (empty)
 *   POST /api/v3/order, DELETE /api/v3/order, GET /api/v3/order, GET /api/v3/openOrders,
 *   DELETE /api/v3/openOrders, POST /api/v3/order/cancelReplace, GET /api/v3/myTrades, GET /api/v3/account
 *   WS   /stream?streams=a/b (combined market streams), /ws (SUBSCRIBE), /ws-api/v3 (user data stream through
 *        `userDataStream.subscribe.signature`, the way ccxt 4.5 subscribes on spot: executionReport and
 *        outboundAccountPosition wrapped in {subscriptionId, event})
 *   GET  /_sim/orders, /_sim/fills, /_sim/balances (the simulator's own truth, for tests); POST /_sim/faults
 *
 * Matching is the kernel's pure simulated venue (domain/venue/simulated.ts) fed by the recorded capture on
 * the simulator's clock: capture time advances with the wall clock times `speed`; with `loop` the capture
 * plays again, its times shifted by the capture's length and its update and trade ids shifted past the
 * previous pass, so a client's book procedure sees a sequence gap and takes a fresh snapshot (of the
 * simulator's current book). The first pass sends the recorded frames byte for byte.
 *
 * Signed requests are checked as Binance does: X-MBX-APIKEY must be the account's key, the HMAC-SHA256 of
 * the query string followed by the body (without `signature`) must match, and the timestamp must lie within
 * recvWindow (default 5000 ms) of the server time. Errors use Binance's codes and JSON ({code, msg}).
 *
 * Client order ids are unique for the simulator's lifetime (stricter than Binance, which checks open orders
 * only): a repeated one is refused with -2010 and recorded in /_sim/orders as a duplicate, so tests can
 * prove a client never sent an order twice. Fees are charged in the quote asset.
 *
 * Faults (`faults` spec, or POST /_sim/faults {spec?, once?}): `name:probability[:ms]` items, comma separated,
 * drawn from a seeded PRNG; `once` names faults that hit the next eligible request or report exactly once.
 *   lose-ack   the order is processed but the HTTP answer is lost (the socket is destroyed)
 *   delay-ack  the HTTP answer of an order request waits `ms` (default 500)
 *   dup-exec   an execution report is sent twice
 *   429        a request is refused with 429 and -1003 (not processed)
 *   5xx        a request is refused with 503 (not processed)
 *   drop       every websocket connection is dropped (checked once per market frame)
 *   restart    the server drops every connection and refuses new ones for `ms` (default 300); state is kept
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal, parseDecimal } from '../../../domain/core/fixed.js';
import { nextFloat, seedPrng, type PrngState } from '../../../domain/core/prng.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, liveOrders, step, stepMarket, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { wallClockNs } from '../common/clock.js';
import { captureEventSource, findRestCompanions, readCapture } from '../cryptofeed/capture.js';

/** Binance spot writes every price and quantity with 8 decimals. */
const SCALE = 8;
const VENUE = 'BINANCE';
/** Update ids and trade ids move this far on each pass of a looped capture. */
const LOOP_ID_SHIFT = 10_000_000;
const QUOTES = ['USDT', 'BUSD', 'USDC', 'TUSD', 'FDUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'GBP', 'TRY', 'AUD', 'BRL'];
const MAX_RECORDS = 1_000_000;

export interface SimBinanceRules {
  tickSize?: string;
  stepSize?: string;
  minQty?: string;
  minNotional?: string;
}

export interface SimBinanceOptions {
  capture: string;
  host?: string;
  port?: number;
  /** 1 = recorded speed, N = N times faster. */
  speed?: number;
  loop?: boolean;
  faults?: string;
  apiKey: string;
  apiSecret: string;
  /** Starting balances, asset → decimal string. Default: 1,000,000 of every asset in the capture. */
  balances?: Record<string, string>;
  /** Per-symbol instrument rules (default: the wire format's finest step, 0.00000001). */
  rules?: Record<string, SimBinanceRules>;
  /** Hold the capture at its start until the first market-stream client connects (a session then sees it all). */
  startOnSubscribe?: boolean;
  /** Fees of the simulated venue (bps of notional, charged in the quote asset). */
  fees?: { makerBps?: string; takerBps?: string };
  seed?: number;
}

export interface SimOrderRecord {
  clientOrderId: string;
  orderId: number | null;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  price: string;
  origQty: string;
  executedQty: string;
  status: string;
  time: number;
  /** Set when this client order id had been used before (the order was refused). */
  duplicate?: boolean;
  /** Set on the new order of a cancelReplace. */
  replaces?: string;
}

export interface SimFillRecord {
  tradeId: number;
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  isMaker: boolean;
  time: number;
}

interface BOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string;
  priceTicks: number;
  origLots: number;
  executedLots: number;
  /** Sum of price × qty at scale 16. */
  cumQuote: bigint;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  time: number;
  updateTime: number;
  record: SimOrderRecord;
}

interface SymbolInfo {
  symbol: string;
  instrument: string;
  base: string;
  quote: string;
  rules: Required<SimBinanceRules>;
}

interface Frame {
  timeNs: bigint;
  text: string;
  stream: string | null;
}

interface FaultSpec {
  p: Map<string, { prob: number; ms: number }>;
  once: Set<string>;
}

class BinanceError extends Error {
  constructor(readonly status: number, readonly code: number, msg: string, readonly data?: unknown) {
    super(msg);
  }
}

export function parseFaultSpec(spec: string | undefined): Map<string, { prob: number; ms: number }> {
  const out = new Map<string, { prob: number; ms: number }>();
  if (spec === undefined || spec.trim() === '') return out;
  const known = new Set(['lose-ack', 'delay-ack', 'dup-exec', '429', '5xx', 'drop', 'restart']);
  for (const item of spec.split(',')) {
    const [name, probText, msText] = item.trim().split(':');
    if (name === undefined || !known.has(name)) throw new TapedeckError('USAGE', `--faults: unknown fault "${name ?? ''}" (known: ${[...known].join(', ')})`, { field: '--faults' });
    const prob = Number(probText ?? '1');
    if (!(prob >= 0 && prob <= 1)) throw new TapedeckError('USAGE', `--faults: ${name} needs a probability in [0, 1], got "${probText}"`, { field: '--faults' });
    const ms = msText === undefined ? (name === 'restart' ? 300 : 500) : Number(msText);
    if (!(Number.isInteger(ms) && ms >= 0 && ms <= 60_000)) throw new TapedeckError('USAGE', `--faults: ${name} needs a delay in ms 0..60000, got "${msText}"`, { field: '--faults' });
    out.set(name, { prob, ms });
  }
  return out;
}

function splitSymbol(symbol: string): { base: string; quote: string } {
  for (const q of QUOTES) if (symbol.endsWith(q) && symbol.length > q.length) return { base: symbol.slice(0, -q.length), quote: q };
  return { base: symbol.slice(0, -3), quote: symbol.slice(-3) };
}

const lots = (text: string, field: string): number => {
  const m = parseDecimal(text, SCALE, field);
  if (m <= 0n || m > BigInt(Number.MAX_SAFE_INTEGER)) throw new BinanceError(400, -1100, `Illegal characters found in parameter '${field}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`);
  return Number(m);
};
const dec8 = (m: number | bigint): string => formatDecimal(m, SCALE);

export class SimBinance {
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  private readonly venue: SimVenueState;
  private readonly symbols = new Map<string, SymbolInfo>();
  private readonly byInstrument = new Map<string, SymbolInfo>();
  private readonly orders = new Map<number, BOrder>();
  private readonly byClientId = new Map<string, BOrder>();
  private readonly usedClientIds = new Set<string>();
  readonly orderLog: SimOrderRecord[] = [];
  readonly fillLog: SimFillRecord[] = [];
  /** Balances at scale 8. */
  private readonly balances = new Map<string, bigint>();
  private nextOrderId = 1_000_001;
  private nextTradeId = 5_000_001;
  private readonly frames: Frame[] = [];
  private readonly events: AnyEnvelope[] = [];
  private firstNs = 0n;
  private periodNs = 1n;
  private loopNo = 0;
  private frameAt = 0;
  private eventAt = 0;
  private wallStartNs = 0n;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private refuseUntilMs = 0;
  private readonly lastSeq = new Map<string, number>();
  /** The capture's own REST depth snapshots, served to the first client of a held capture (see depth()). */
  private readonly recordedDepth = new Map<string, unknown>();
  private readonly userSockets = new Set<WebSocket>();
  private readonly marketSockets = new Map<WebSocket, Set<string> & { raw?: boolean }>();
  private readonly sockets = new Set<Socket>();
  private readonly rng: PrngState;
  private readonly faults: FaultSpec;
  private readonly out: VenueReport[] = [];
  readonly counters = { requests: 0, signatureFailures: 0, faults: {} as Record<string, number> };

  private constructor(private readonly o: SimBinanceOptions & { speed: number }) {
    this.rng = seedPrng(o.seed ?? 7);
    this.faults = { p: parseFaultSpec(o.faults), once: new Set() };
    const instruments: Record<string, { tickSizeTicks: number; lotSizeLots: number; minQtyLots: number }> = {};
    this.venue = initialState({
      venue: VENUE,
      latency: { submitNs: 0n, ackNs: 0n, cancelNs: 0n },
      fees: { makerBps: o.fees?.makerBps ?? '1', takerBps: o.fees?.takerBps ?? '5' },
      instruments,
    } satisfies SimVenueConfigInput);
    this.server = http.createServer((req, res) => void this.onHttp(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ server: this.server, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => this.onWs(ws, req));
  }

  static async start(options: SimBinanceOptions): Promise<SimBinance> {
    const speed = options.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new TapedeckError('USAGE', `--speed must be a number > 0, got ${String(options.speed)}`, { field: '--speed' });
    const sim = new SimBinance({ ...options, speed });
    await sim.load();
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    if (!options.startOnSubscribe) sim.startClock();
    return sim;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get urls(): { rest: string; ws: string } {
    return { rest: `http://127.0.0.1:${this.port}`, ws: `ws://127.0.0.1:${this.port}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Injects faults: a new probabilistic spec, and faults that hit the next eligible moment once. */
  setFaults(spec: string | undefined, once: string[] = []): void {
    if (spec !== undefined) {
      this.faults.p.clear();
      for (const [k, v] of parseFaultSpec(spec)) this.faults.p.set(k, v);
    }
    parseFaultSpec(once.join(','));
    for (const f of once) this.faults.once.add(f);
  }

  /** Drops every connection and refuses new ones for `ms`; orders, fills, balances and the book stay. */
  restart(ms: number): void {
    this.refuseUntilMs = Date.now() + ms;
    for (const c of this.wss.clients) c.terminate();
    for (const s of this.sockets) s.destroy();
  }

  // ---------- capture and clock ----------

  private async load(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const r of readCapture(this.o.capture)) {
      if (r.kind !== 'received' || r.timeNs === null) continue;
      const text = decoder.decode(r.payload);
      this.frames.push({ timeNs: r.timeNs, text, stream: /^\{"stream":"([^"]+)"/.exec(text)?.[1] ?? null });
    }
    for await (const e of captureEventSource(this.o.capture)) {
      if (e.type === 'InstrumentDefined') {
        const sym = e.data.symbol;
        const { base, quote } = splitSymbol(sym);
        const r = this.o.rules?.[sym] ?? {};
        const info: SymbolInfo = {
          symbol: sym, instrument: e.data.instrument, base, quote,
          rules: { tickSize: r.tickSize ?? '0.00000001', stepSize: r.stepSize ?? '0.00000001', minQty: r.minQty ?? r.stepSize ?? '0.00000001', minNotional: r.minNotional ?? '0.00000001' },
        };
        this.symbols.set(sym, info);
        this.byInstrument.set(info.instrument, info);
        this.venue.config.instruments.set(info.instrument, {
          ...this.venue.config.defaultRules,
          tickSizeTicks: Number(parseDecimal(info.rules.tickSize, SCALE)),
          lotSizeLots: Number(parseDecimal(info.rules.stepSize, SCALE)),
          minQtyLots: Number(parseDecimal(info.rules.minQty, SCALE)),
          quoteCurrency: quote,
        });
      }
      this.events.push(e);
    }
    if (this.o.startOnSubscribe) {
      for (const f of findRestCompanions(this.o.capture, VENUE)) {
        for await (const r of readCapture(f)) {
          if (r.kind !== 'http' || r.url === null || !r.url.includes('/api/v3/depth')) continue;
          const sym = new URL(r.url).searchParams.get('symbol');
          if (sym !== null && !this.recordedDepth.has(sym)) this.recordedDepth.set(sym, JSON.parse(decoder.decode(r.payload)) as unknown);
        }
      }
    }
    if (this.frames.length === 0) throw new TapedeckError('CAPTURE_EMPTY', 'the capture holds no received frames', { file: this.o.capture });
    const times = [...this.frames.map((f) => f.timeNs), ...this.events.filter((e) => e.type !== 'InstrumentDefined').map((e) => e.eventTimeNs)];
    this.firstNs = times.reduce((a, b) => (b < a ? b : a));
    const lastNs = times.reduce((a, b) => (b > a ? b : a));
    this.periodNs = lastNs - this.firstNs + 1_000_000_000n;
    for (const s of this.symbols.values()) {
      for (const a of [s.base, s.quote]) if (!this.balances.has(a)) this.balances.set(a, parseDecimal(this.o.balances?.[a] ?? '1000000', SCALE));
    }
    for (const [a, v] of Object.entries(this.o.balances ?? {})) this.balances.set(a, parseDecimal(v, SCALE));
  }

  private started = false;

  private startClock(): void {
    if (this.started) return;
    this.started = true;
    this.wallStartNs = wallClockNs();
    this.schedule();
  }

  /** Capture time now (shifted by the passes already played). */
  nowNs(): bigint {
    if (!this.started) return this.firstNs;
    const elapsed = wallClockNs() - this.wallStartNs;
    return this.firstNs + BigInt(Math.floor(Number(elapsed) * this.o.speed));
  }

  private nowMs(): number {
    return Number(this.nowNs() / 1_000_000n);
  }

  private shiftNs(): bigint {
    return BigInt(this.loopNo) * this.periodNs;
  }

  private schedule(): void {
    if (this.closed) return;
    const f = this.frames[this.frameAt];
    const e = this.events[this.eventAt];
    if (f === undefined && e === undefined) {
      if (!this.o.loop) return;
      this.loopNo++;
      this.frameAt = 0;
      this.eventAt = 0;
      this.schedule();
      return;
    }
    const shift = this.shiftNs();
    const nextNs = (f === undefined ? e!.eventTimeNs : e === undefined ? f.timeNs : f.timeNs < e.eventTimeNs ? f.timeNs : e.eventTimeNs) + shift;
    const waitMs = Number(nextNs - this.nowNs()) / 1e6 / this.o.speed;
    this.timer = setTimeout(() => this.tick(), Math.max(0, Math.min(waitMs, 1000)));
  }

  private tick(): void {
    this.timer = null;
    if (this.closed) return;
    const now = this.nowNs();
    const shift = this.shiftNs();
    for (let guard = 0; guard < 100_000; guard++) {
      const f = this.frames[this.frameAt];
      const e = this.events[this.eventAt];
      const fNs = f === undefined ? null : f.timeNs + shift;
      const eNs = e === undefined ? null : e.eventTimeNs + shift;
      if (eNs !== null && eNs <= now && (fNs === null || eNs <= fNs)) {
        this.eventAt++;
        this.feedMarket(e!, shift);
      } else if (fNs !== null && fNs <= now) {
        this.frameAt++;
        this.broadcast(f!);
      } else break;
    }
    this.maybeFault('drop', () => this.dropWebsockets());
    this.maybeFault('restart', (ms) => this.restart(ms));
    this.schedule();
  }

  private feedMarket(e: AnyEnvelope, shift: bigint): void {
    if (e.type === 'InstrumentDefined' && this.loopNo > 0) return;
    const ev = (shift === 0n ? e : { ...e, eventTimeNs: e.eventTimeNs + shift, receiveTimeNs: e.receiveTimeNs + shift }) as unknown as TimedEvent;
    const d = e.data as { instrument?: string; sequence?: number };
    if (d.instrument !== undefined && d.sequence !== undefined && (e.type === 'BookDeltaApplied' || e.type === 'BookSnapshotted')) {
      this.lastSeq.set(d.instrument, d.sequence + this.loopNo * LOOP_ID_SHIFT);
    }
    this.out.length = 0;
    stepMarket(this.venue, ev, this.out);
    this.applyReports(this.out.splice(0));
  }

  private shiftFrame(f: Frame): string {
    if (this.loopNo === 0) return f.text;
    const j = JSON.parse(f.text) as { stream?: string; data?: Record<string, unknown> } & Record<string, unknown>;
    const d = (j.data ?? j) as Record<string, unknown>;
    const ms = Number(this.shiftNs() / 1_000_000n);
    const ids = this.loopNo * LOOP_ID_SHIFT;
    for (const k of ['E', 'T']) if (typeof d[k] === 'number') d[k] = (d[k] as number) + ms;
    for (const k of ['U', 'u', 'a', 'f', 'l', 't']) if (typeof d[k] === 'number') d[k] = (d[k] as number) + ids;
    const k = d.k as Record<string, unknown> | undefined;
    if (k) for (const key of ['t', 'T']) if (typeof k[key] === 'number') k[key] = (k[key] as number) + ms;
    return JSON.stringify(j);
  }

  private broadcast(f: Frame): void {
    if (this.marketSockets.size === 0) return;
    const text = this.shiftFrame(f);
    let inner: string | null = null;
    for (const [ws, streams] of this.marketSockets) {
      if (f.stream === null || !streams.has(f.stream)) continue;
      if (streams.raw) {
        inner ??= JSON.stringify((JSON.parse(text) as { data: unknown }).data);
        ws.send(inner);
      } else ws.send(text);
    }
  }

  private dropWebsockets(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  private maybeFault(name: string, act: (ms: number) => void): boolean {
    let hit = false;
    if (this.faults.once.has(name)) {
      this.faults.once.delete(name);
      hit = true;
    } else {
      const f = this.faults.p.get(name);
      if (f !== undefined && f.prob > 0 && nextFloat(this.rng) < f.prob) hit = true;
    }
    if (!hit) return false;
    this.counters.faults[name] = (this.counters.faults[name] ?? 0) + 1;
    act(this.faults.p.get(name)?.ms ?? (name === 'restart' ? 300 : 500));
    return true;
  }

  // ---------- websocket ----------

  private onWs(ws: WebSocket, req: http.IncomingMessage): void {
    if (Date.now() < this.refuseUntilMs) {
      ws.terminate();
      return;
    }
    const u = new URL(req.url ?? '/', 'ws://x');
    if (u.pathname === '/stream') {
      this.startClock();
      const streams = new Set((u.searchParams.get('streams') ?? '').split('/').filter((s) => s !== ''));
      this.marketSockets.set(ws, streams);
      ws.on('close', () => this.marketSockets.delete(ws));
      ws.on('message', (m) => this.onMarketMessage(ws, m.toString()));
      return;
    }
    if (u.pathname === '/ws' || u.pathname.startsWith('/ws/')) {
      const streams: Set<string> & { raw?: boolean } = new Set();
      streams.raw = true;
      this.marketSockets.set(ws, streams);
      ws.on('close', () => this.marketSockets.delete(ws));
      ws.on('message', (m) => this.onMarketMessage(ws, m.toString()));
      return;
    }
    if (u.pathname.startsWith('/ws-api/')) {
      ws.on('message', (m) => this.onWsApi(ws, m.toString()));
      ws.on('close', () => this.userSockets.delete(ws));
      return;
    }
    ws.close(1008, `no stream at ${u.pathname}`);
  }

  private onMarketMessage(ws: WebSocket, text: string): void {
    let msg: { method?: string; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' }, id: null }));
      return;
    }
    const set = this.marketSockets.get(ws);
    if (set === undefined) return;
    if ((msg.method === 'SUBSCRIBE' || msg.method === 'UNSUBSCRIBE') && Array.isArray(msg.params)) {
      for (const p of msg.params) {
        if (typeof p !== 'string') continue;
        if (msg.method === 'SUBSCRIBE') set.add(p);
        else set.delete(p);
      }
      ws.send(JSON.stringify({ result: null, id: msg.id ?? null }));
    } else ws.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request' }, id: msg.id ?? null }));
  }

  private onWsApi(ws: WebSocket, text: string): void {
    let msg: { id?: unknown; method?: string; params?: Record<string, unknown> };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      ws.send(JSON.stringify({ id: null, status: 400, error: { code: -1100, msg: 'Invalid JSON' } }));
      return;
    }
    const id = msg.id ?? null;
    if (msg.method === 'ping') {
      ws.send(JSON.stringify({ id, status: 200, result: {} }));
      return;
    }
    if (msg.method !== 'userDataStream.subscribe.signature') {
      ws.send(JSON.stringify({ id, status: 400, error: { code: -1020, msg: 'This operation is not supported.' } }));
      return;
    }
    const params = Object.fromEntries(Object.entries(msg.params ?? {}).map(([k, v]) => [k, String(v)]));
    try {
      if (params.apiKey !== this.o.apiKey) throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
      const { signature, ...rest } = params;
      const payload = Object.keys(rest).sort().map((k) => `${k}=${rest[k]}`).join('&');
      this.checkSignature(payload, signature, rest);
    } catch (e) {
      const be = e instanceof BinanceError ? e : new BinanceError(400, -1000, String(e));
      ws.send(JSON.stringify({ id, status: be.status, error: { code: be.code, msg: be.message } }));
      return;
    }
    this.userSockets.add(ws);
    ws.send(JSON.stringify({ id, status: 200, result: { subscriptionId: 0 } }));
  }

  private pushUser(event: Record<string, unknown>): void {
    const text = JSON.stringify({ subscriptionId: 0, event });
    let n = 1;
    if (event.e === 'executionReport' && this.maybeFault('dup-exec', () => undefined)) n = 2;
    for (const ws of this.userSockets) for (let i = 0; i < n; i++) ws.send(text);
  }

  // ---------- HTTP ----------

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (Date.now() < this.refuseUntilMs) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = u.pathname;
    this.counters.requests++;
    const send = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(value));
    };
    try {
      if (path.startsWith('/_sim/')) return this.simRoute(method, path, body, send);
      const isOrder = path === '/api/v3/order' || path === '/api/v3/order/cancelReplace';
      if (!path.startsWith('/_sim') && this.maybeFault('429', () => undefined)) {
        return send(429, { code: -1003, msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.' }, { 'retry-after': '1' });
      }
      if (this.maybeFault('5xx', () => undefined)) return send(503, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
      const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
      const params = new URLSearchParams(rawQuery);
      const bodyParams = new URLSearchParams(body);
      for (const [k, v] of bodyParams) params.set(k, v);
      const signed = this.isSigned(path);
      if (signed) this.verify(req, rawQuery, body, params);
      const result = this.route(method, path, params);
      if (isOrder && method !== 'GET' && this.maybeFault('lose-ack', () => undefined)) {
        req.socket.destroy();
        return;
      }
      const delay = isOrder && method !== 'GET' && this.faults.p.has('delay-ack') ? this.faults.p.get('delay-ack')!.ms : 0;
      if (isOrder && method !== 'GET' && delay > 0 && this.maybeFault('delay-ack', () => undefined)) await new Promise((r) => setTimeout(r, delay));
      send(200, result, { 'x-mbx-used-weight-1m': String(this.counters.requests % 6000) });
    } catch (e) {
      if (e instanceof BinanceError) return send(e.status, { code: e.code, msg: e.message, ...(e.data !== undefined ? { data: e.data } : {}) });
      if (e instanceof TapedeckError) return send(400, { code: -1100, msg: e.message });
      send(500, { code: -1000, msg: 'An unknown error occurred while processing the request.' });
    }
  }

  private isSigned(path: string): boolean {
    return ['/api/v3/order', '/api/v3/order/cancelReplace', '/api/v3/openOrders', '/api/v3/allOrders', '/api/v3/myTrades', '/api/v3/account', '/sapi/v1/margin/isolated/allPairs', '/sapi/v1/capital/config/getall'].includes(path);
  }

  private verify(req: http.IncomingMessage, rawQuery: string, body: string, params: URLSearchParams): void {
    const key = req.headers['x-mbx-apikey'];
    if (key === undefined) throw new BinanceError(401, -2014, 'API-key format invalid.');
    if (key !== this.o.apiKey) throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    const strip = (s: string): { text: string; sig: string | null } => {
      const m = /(^|&)signature=([^&]*)/.exec(s);
      if (!m) return { text: s, sig: null };
      return { text: s.slice(0, m.index) + s.slice(m.index + m[0].length), sig: decodeURIComponent(m[2]!) };
    };
    const q = strip(rawQuery);
    const b = strip(body);
    const sig = q.sig ?? b.sig;
    if (sig === null) throw new BinanceError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    const rest: Record<string, string> = {};
    for (const [k, v] of params) if (k !== 'signature') rest[k] = v;
    this.checkSignature(q.text + b.text, sig, rest);
  }

  private checkSignature(payload: string, sig: string | undefined, params: Record<string, string>): void {
    const want = crypto.createHmac('sha256', this.o.apiSecret).update(payload).digest('hex');
    if (sig === undefined || sig.length !== want.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(want))) {
      this.counters.signatureFailures++;
      throw new BinanceError(400, -1022, 'Signature for this request is not valid.');
    }
    const ts = Number(params.timestamp);
    const recv = params.recvWindow === undefined ? 5000 : Number(params.recvWindow);
    if (!Number.isFinite(ts)) throw new BinanceError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    if (!(recv > 0 && recv <= 60_000)) throw new BinanceError(400, -1131, 'recvWindow must be less than 60000');
    const server = Date.now();
    if (ts >= server + 1000 || server - ts > recv) throw new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  }

  private simRoute(method: string, path: string, body: string, send: (s: number, v: unknown) => void): void {
    if (method === 'GET' && path === '/_sim/orders') return send(200, this.orderLog);
    if (method === 'GET' && path === '/_sim/fills') return send(200, this.fillLog);
    if (method === 'GET' && path === '/_sim/balances') return send(200, Object.fromEntries([...this.balances].map(([a, v]) => [a, dec8(v)])));
    if (method === 'GET' && path === '/_sim/stats') return send(200, { ...this.counters, loop: this.loopNo, nowNs: this.nowNs().toString() });
    if (method === 'POST' && path === '/_sim/faults') {
      const j = JSON.parse(body || '{}') as { spec?: string; once?: string[] };
      this.setFaults(j.spec, j.once ?? []);
      return send(200, { ok: true });
    }
    if (method === 'POST' && path === '/_sim/restart') {
      const j = JSON.parse(body || '{}') as { ms?: number };
      send(200, { ok: true });
      setTimeout(() => this.restart(j.ms ?? 300), 10);
      return;
    }
    throw new BinanceError(404, -1000, `no route ${method} ${path}`);
  }

  private route(method: string, path: string, p: URLSearchParams): unknown {
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: Date.now() };
      case 'GET /api/v3/exchangeInfo':
        return this.exchangeInfo();
      case 'GET /api/v3/depth':
        return this.depth(p);
      case 'GET /sapi/v1/margin/allPairs':
      case 'GET /sapi/v1/margin/isolated/allPairs':
      case 'GET /sapi/v1/capital/config/getall':
        return [];
      case 'POST /api/v3/order':
        return this.newOrder(p, null);
      case 'POST /api/v3/order/cancelReplace':
        return this.cancelReplace(p);
      case 'DELETE /api/v3/order':
        return this.orderJson(this.cancel(this.find(p, 'orig')));
      case 'GET /api/v3/order':
        return this.orderJson(this.find(p, 'orig'));
      case 'GET /api/v3/openOrders': {
        const sym = p.get('symbol');
        return [...this.orders.values()].filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (sym === null || o.symbol === sym)).map((o) => this.orderJson(o));
      }
      case 'DELETE /api/v3/openOrders': {
        const sym = this.symbol(p);
        return [...this.orders.values()].filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && o.symbol === sym.symbol).map((o) => this.orderJson(this.cancel(o)));
      }
      case 'GET /api/v3/allOrders': {
        const sym = this.symbol(p);
        return [...this.orders.values()].filter((o) => o.symbol === sym.symbol).map((o) => this.orderJson(o));
      }
      case 'GET /api/v3/myTrades':
        return this.myTrades(p);
      case 'GET /api/v3/account':
        return this.account();
    }
    throw new BinanceError(404, -1000, `the simulated Binance has no ${method} ${path}`);
  }

  private exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: Date.now(),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      ],
      exchangeFilters: [],
      symbols: [...this.symbols.values()].map((s) => ({
        symbol: s.symbol, status: 'TRADING', baseAsset: s.base, baseAssetPrecision: 8, quoteAsset: s.quote, quotePrecision: 8, quoteAssetPrecision: 8,
        baseCommissionPrecision: 8, quoteCommissionPrecision: 8,
        orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
        icebergAllowed: true, ocoAllowed: true, otoAllowed: true, quoteOrderQtyMarketAllowed: true, allowTrailingStop: true, cancelReplaceAllowed: true,
        isSpotTradingAllowed: true, isMarginTradingAllowed: false,
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: s.rules.tickSize, maxPrice: '1000000.00000000', tickSize: s.rules.tickSize },
          { filterType: 'LOT_SIZE', minQty: s.rules.minQty, maxQty: '90000000.00000000', stepSize: s.rules.stepSize },
          { filterType: 'NOTIONAL', minNotional: s.rules.minNotional, applyMinToMarket: true, maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5 },
          { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
        ],
        permissions: [], permissionSets: [['SPOT']], defaultSelfTradePreventionMode: 'EXPIRE_MAKER', allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
      })),
    };
  }

  private symbol(p: URLSearchParams): SymbolInfo {
    const sym = p.get('symbol');
    if (sym === null) throw new BinanceError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const s = this.symbols.get(sym);
    if (s === undefined) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return s;
  }

  private depth(p: URLSearchParams): unknown {
    const s = this.symbol(p);
    // A held capture's first subscriber has every diff since the start, so the snapshot recorded with the
    // capture is valid for it, and its event ids match a backtest of the same capture. Served once; a stale
    // answer would only make the client's book procedure see a gap and ask again.
    const recorded = this.loopNo === 0 ? this.recordedDepth.get(s.symbol) : undefined;
    if (recorded !== undefined) {
      this.recordedDepth.delete(s.symbol);
      return recorded;
    }
    const limit = Math.min(5000, Number(p.get('limit') ?? '100') || 100);
    const book = this.venue.market.books.get(s.instrument);
    const side = (l: { prices: number[]; qtys: number[] } | undefined): string[][] => {
      const out: string[][] = [];
      if (!l) return out;
      for (let i = l.prices.length - 1; i >= 0 && out.length < limit; i--) if (l.qtys[i]! > 0) out.push([dec8(l.prices[i]!), dec8(l.qtys[i]!)]);
      return out;
    };
    return { lastUpdateId: this.lastSeq.get(s.instrument) ?? 0, bids: side(book?.bids), asks: side(book?.asks) };
  }

  private find(p: URLSearchParams, prefix: 'orig' | 'cancel'): BOrder {
    const s = this.symbol(p);
    const id = p.get(prefix === 'orig' ? 'orderId' : 'cancelOrderId');
    const cid = p.get(prefix === 'orig' ? 'origClientOrderId' : 'cancelOrigClientOrderId');
    const o = id !== null ? this.orders.get(Number(id)) : cid !== null ? this.byClientId.get(cid) : undefined;
    if (id === null && cid === null) throw new BinanceError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    if (o === undefined || o.symbol !== s.symbol) throw new BinanceError(400, -2013, 'Order does not exist.');
    return o;
  }

  private newOrder(p: URLSearchParams, replaces: string | null): Record<string, unknown> {
    const s = this.symbol(p);
    const side = p.get('side');
    const type = p.get('type');
    if (side !== 'BUY' && side !== 'SELL') throw new BinanceError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    if (type !== 'LIMIT' && type !== 'LIMIT_MAKER' && type !== 'MARKET') throw new BinanceError(400, -1116, 'Invalid orderType.');
    const clientOrderId = p.get('newClientOrderId') ?? `sim${this.nextOrderId}`;
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientOrderId)) throw new BinanceError(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
    const qtyText = p.get('quantity');
    if (qtyText === null) throw new BinanceError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    const qty = lots(qtyText, 'quantity');
    const priceText = p.get('price');
    if (type !== 'MARKET' && priceText === null) throw new BinanceError(400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
    const price = priceText === null ? null : lots(priceText, 'price');
    const tif = type === 'LIMIT' ? p.get('timeInForce') ?? 'GTC' : type === 'MARKET' ? 'IOC' : 'GTC';
    const now = this.nowMs();
    const record: SimOrderRecord = { clientOrderId, orderId: null, symbol: s.symbol, side, type, price: priceText ?? '0', origQty: qtyText, executedQty: '0.00000000', status: 'REJECTED', time: now, ...(replaces ? { replaces } : {}) };
    this.remember(record);
    if (this.usedClientIds.has(clientOrderId)) {
      record.duplicate = true;
      throw new BinanceError(400, -2010, 'Duplicate order sent.');
    }
    this.usedClientIds.add(clientOrderId);
    const rules = this.venue.config.instruments.get(s.instrument)!;
    if (price !== null && price % rules.tickSizeTicks !== 0) throw new BinanceError(400, -1013, 'Filter failure: PRICE_FILTER');
    if (qty % rules.lotSizeLots !== 0 || qty < rules.minQtyLots) throw new BinanceError(400, -1013, 'Filter failure: LOT_SIZE');
    if (price !== null && BigInt(price) * BigInt(qty) < parseDecimal(s.rules.minNotional, SCALE) * 10n ** BigInt(SCALE)) throw new BinanceError(400, -1013, 'Filter failure: NOTIONAL');
    const o: BOrder = {
      orderId: this.nextOrderId++, clientOrderId, symbol: s.symbol, instrument: s.instrument, side, type, timeInForce: tif,
      priceTicks: price ?? 0, origLots: qty, executedLots: 0, cumQuote: 0n, status: 'NEW', time: now, updateTime: now, record,
    };
    record.orderId = o.orderId;
    const command: VenueCommand = {
      kind: 'SubmitOrder', orderId: clientOrderId, venue: VENUE, instrument: s.instrument, side: side === 'BUY' ? 'buy' : 'sell',
      orderType: type === 'MARKET' ? 'market' : 'limit', priceTicks: price, qtyLots: qty, priceScale: SCALE, qtyScale: SCALE,
      timeInForce: tif === 'IOC' ? 'IOC' : tif === 'FOK' ? 'FOK' : 'GTC', postOnly: type === 'LIMIT_MAKER', reduceOnly: false,
    };
    this.orders.set(o.orderId, o);
    this.byClientId.set(clientOrderId, o);
    const fills: Array<Record<string, unknown>> = [];
    this.out.length = 0;
    step(this.venue, { kind: 'command', command, sentNs: this.nowNs() }, this.out);
    const reports = this.out.splice(0);
    const rejected = reports.find((r) => r.type === 'OrderRejected' && r.data.orderId === clientOrderId);
    if (rejected) {
      this.orders.delete(o.orderId);
      this.byClientId.delete(clientOrderId);
      record.orderId = null;
      this.applyReports(reports.filter((r) => r !== rejected));
      if (type === 'LIMIT_MAKER') throw new BinanceError(400, -2010, 'Order would immediately match and take.');
      throw new BinanceError(400, -2010, `Order rejected: ${rejected.type === 'OrderRejected' ? rejected.data.reason : ''}`);
    }
    this.applyReports(reports, (f) => {
      if (f.orderId === o.orderId) fills.push({ price: f.price, qty: f.qty, commission: f.commission, commissionAsset: f.commissionAsset, tradeId: f.tradeId });
    });
    return { ...this.orderJson(o), transactTime: now, workingTime: now, fills };
  }

  private cancel(o: BOrder): BOrder {
    if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') throw new BinanceError(400, -2011, 'Unknown order sent.');
    this.out.length = 0;
    step(this.venue, { kind: 'command', command: { kind: 'CancelOrder', orderId: o.clientOrderId, venue: VENUE, instrument: o.instrument }, sentNs: this.nowNs() }, this.out);
    const reports = this.out.splice(0);
    this.applyReports(reports);
    if ((o.status as string) !== 'CANCELED') throw new BinanceError(400, -2011, 'Unknown order sent.');
    return o;
  }

  private cancelReplace(p: URLSearchParams): unknown {
    const mode = p.get('cancelReplaceMode');
    if (mode !== 'STOP_ON_FAILURE' && mode !== 'ALLOW_FAILURE') throw new BinanceError(400, -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.");
    let old: BOrder;
    let cancelResponse: unknown;
    try {
      old = this.find(p, 'cancel');
      cancelResponse = this.orderJson(this.cancel(old));
    } catch (e) {
      if (!(e instanceof BinanceError)) throw e;
      throw new BinanceError(400, -2022, 'Order cancel-replace failed.', {
        cancelResult: 'FAILURE', newOrderResult: 'NOT_ATTEMPTED', cancelResponse: { code: e.code, msg: e.message }, newOrderResponse: null,
      });
    }
    try {
      const newOrderResponse = this.newOrder(p, old.clientOrderId);
      return { cancelResult: 'SUCCESS', newOrderResult: 'SUCCESS', cancelResponse, newOrderResponse };
    } catch (e) {
      if (!(e instanceof BinanceError)) throw e;
      throw new BinanceError(409, -2021, 'Order cancel-replace partially failed.', {
        cancelResult: 'SUCCESS', newOrderResult: 'FAILURE', cancelResponse, newOrderResponse: { code: e.code, msg: e.message },
      });
    }
  }

  private remember(r: SimOrderRecord): void {
    if (this.orderLog.length < MAX_RECORDS) this.orderLog.push(r);
  }

  private myTrades(p: URLSearchParams): unknown {
    const s = this.symbol(p);
    const fromId = p.get('fromId');
    const orderId = p.get('orderId');
    const limit = Math.min(1000, Number(p.get('limit') ?? '500') || 500);
    const startTime = p.get('startTime');
    let list = this.fillLog.filter((f) => f.symbol === s.symbol);
    if (orderId !== null) list = list.filter((f) => f.orderId === Number(orderId));
    if (fromId !== null) list = list.filter((f) => f.tradeId >= Number(fromId));
    else if (startTime !== null) list = list.filter((f) => f.time >= Number(startTime));
    return list.slice(0, limit).map((f) => ({
      symbol: f.symbol, id: f.tradeId, orderId: f.orderId, orderListId: -1, price: f.price, qty: f.qty, quoteQty: f.quoteQty,
      commission: f.commission, commissionAsset: f.commissionAsset, time: f.time, isBuyer: f.side === 'BUY', isMaker: f.isMaker, isBestMatch: true,
    }));
  }

  private account(): unknown {
    return {
      makerCommission: 10, takerCommission: 50, buyerCommission: 0, sellerCommission: 0,
      commissionRates: { maker: '0.00010000', taker: '0.00050000', buyer: '0.00000000', seller: '0.00000000' },
      canTrade: true, canWithdraw: true, canDeposit: true, brokered: false, requireSelfTradePrevention: false, preventSor: false,
      updateTime: this.nowMs(), accountType: 'SPOT',
      balances: [...this.balances].map(([asset, v]) => ({ asset, free: dec8(v), locked: '0.00000000' })),
      permissions: ['SPOT'], uid: 1,
    };
  }

  // ---------- venue reports → Binance state, user stream ----------

  private applyReports(reports: VenueReport[], onFill?: (f: SimFillRecord) => void): void {
    for (const r of reports) {
      const o = this.byClientId.get(r.data.orderId);
      if (o === undefined) continue;
      const now = Number(r.eventTimeNs / 1_000_000n);
      o.updateTime = now;
      switch (r.type) {
        case 'OrderAccepted':
          this.exec(o, 'NEW', now);
          break;
        case 'OrderFilled': {
          const d = r.data;
          const s = this.byInstrument.get(o.instrument)!;
          o.executedLots += d.qtyLots;
          const quote = BigInt(d.priceTicks) * BigInt(d.qtyLots);
          o.cumQuote += quote;
          o.status = o.executedLots >= o.origLots ? 'FILLED' : 'PARTIALLY_FILLED';
          // Fee in the quote asset at scale 8, from the venue's fee mantissa at its own scale.
          const fee8 = d.feeScale >= SCALE ? d.fee / 10n ** BigInt(d.feeScale - SCALE) : d.fee * 10n ** BigInt(SCALE - d.feeScale);
          const quote8 = quote / 10n ** BigInt(SCALE);
          const buy = o.side === 'BUY';
          this.balances.set(s.base, (this.balances.get(s.base) ?? 0n) + (buy ? 1n : -1n) * BigInt(d.qtyLots));
          this.balances.set(s.quote, (this.balances.get(s.quote) ?? 0n) + (buy ? -quote8 : quote8) - fee8);
          const f: SimFillRecord = {
            tradeId: this.nextTradeId++, orderId: o.orderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side,
            price: dec8(d.priceTicks), qty: dec8(d.qtyLots), quoteQty: dec8(quote8), commission: dec8(fee8), commissionAsset: s.quote,
            isMaker: d.liquidity === 'maker', time: now,
          };
          if (this.fillLog.length < MAX_RECORDS) this.fillLog.push(f);
          o.record.executedQty = dec8(o.executedLots);
          o.record.status = o.status;
          onFill?.(f);
          this.exec(o, 'TRADE', now, f);
          this.pushUser({
            e: 'outboundAccountPosition', E: now, u: now,
            B: [s.base, s.quote].map((a) => ({ a, f: dec8(this.balances.get(a) ?? 0n), l: '0.00000000' })),
          });
          break;
        }
        case 'OrderCanceled':
          o.status = 'CANCELED';
          this.exec(o, 'CANCELED', now);
          break;
        case 'OrderExpired':
          o.status = 'EXPIRED';
          this.exec(o, 'EXPIRED', now);
          break;
        default:
          break;
      }
      o.record.status = o.status;
      o.record.executedQty = dec8(o.executedLots);
    }
  }

  private exec(o: BOrder, x: 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED', now: number, f?: SimFillRecord): void {
    this.pushUser({
      e: 'executionReport', E: now, s: o.symbol, c: o.clientOrderId, S: o.side, o: o.type, f: o.timeInForce,
      q: dec8(o.origLots), p: dec8(o.priceTicks), P: '0.00000000', F: '0.00000000', g: -1, C: x === 'CANCELED' ? o.clientOrderId : '',
      x, X: o.status, r: 'NONE', i: o.orderId,
      l: f ? f.qty : '0.00000000', z: dec8(o.executedLots), L: f ? f.price : '0.00000000',
      n: f ? f.commission : '0', N: f ? f.commissionAsset : null, T: now, t: f ? f.tradeId : -1, v: 0, I: o.orderId * 10 + (f ? 1 : 0),
      w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED', m: f ? f.isMaker : false, M: false, O: o.time,
      Z: dec8(o.cumQuote / 10n ** BigInt(SCALE)), Y: f ? f.quoteQty : '0.00000000', Q: '0.00000000', W: o.time, V: 'EXPIRE_MAKER',
    });
  }

  private orderJson(o: BOrder): Record<string, unknown> {
    return {
      symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, price: dec8(o.priceTicks), origQty: dec8(o.origLots),
      executedQty: dec8(o.executedLots), cummulativeQuoteQty: dec8(o.cumQuote / 10n ** BigInt(SCALE)), status: o.status, timeInForce: o.timeInForce,
      type: o.type, side: o.side, stopPrice: '0.00000000', icebergQty: '0.00000000', time: o.time, updateTime: o.updateTime,
      isWorking: true, workingTime: o.time, origQuoteOrderQty: '0.00000000', selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  /** Live orders in the simulated venue (for tests). */
  liveOrderCount(): number {
    return liveOrders(this.venue).length;
  }
}
