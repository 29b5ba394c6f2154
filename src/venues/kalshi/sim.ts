/**
 * A simulated Kalshi exchange on loopback (Trade API v2), for live trading tests and rehearsals.
 *
 * REST, under /trade-api/v2, every portfolio route signed and checked as Kalshi does (RSA-PSS SHA-256 over
 * timestamp + METHOD + path without query, headers KALSHI-ACCESS-KEY/-TIMESTAMP/-SIGNATURE, verified with the
 * account's public key; a wrong key, a bad signature or a stale timestamp is 401):
 *   GET    /exchange/status, /markets/{ticker}, /markets/{ticker}/orderbook (bids only: orderbook_fp
 *          {yes_dollars, no_dollars}, ascending), /historical/cutoff
 *   POST   /portfolio/events/orders                 (V2 create: ticker, client_order_id, side bid|ask,
 *                                                    count "10.00", price "0.5600", post_only, time_in_force)
 *   DELETE /portfolio/events/orders/{order_id}      (V2 cancel: {order_id, client_order_id, reduced_by, ts_ms})
 *   POST   /portfolio/events/orders/{order_id}/amend (price and count = the order's new total; the order keeps
 *                                                    its id and takes updated_client_order_id: {old_order, order})
 *   POST   /portfolio/events/orders/{order_id}/decrease (reduce_by or reduce_to)
 *   GET    /portfolio/orders/{order_id}, /portfolio/orders?ticker&status&min_ts&limit&cursor
 *   GET    /portfolio/fills?ticker&order_id&min_ts&max_ts&limit&cursor   (fills since the historical cutoff)
 *   GET    /historical/fills?ticker&max_ts&limit&cursor                  (fills before it)
 *   GET    /portfolio/positions?ticker, /portfolio/balance (integer cents)
 * WebSocket /trade-api/ws/v2 (the upgrade request signed over GET/trade-api/ws/v2): subscribe /
 * unsubscribe commands; channels orderbook_delta (orderbook_snapshot, then deltas, seq +1 per subscription),
 * trade, ticker (acknowledged only), fill, user_orders. Errors are Kalshi's {id, type:'error', msg:{code,msg}}.
 * Simulator's truth (no auth): GET /_sim/orders, /_sim/fills, /_sim/stats; POST /_sim/faults {spec?, once?},
 * POST /_sim/cutoff {ms?} (moves the historical-fills cutoff to now, or to a time), POST /_sim/pause {paused?}
 * (holds the market still: no steps, no fills).
 *
 * The market: without a capture, a seeded synthetic one per ticker (common/prediction-market.ts), one step per
 * `stepMs` of wall time; with one, the recorded Kalshi WebSocket messages (one JSON message a line) played one
 * per step. Either way, the frames go through the Kalshi parser into the kernel's simulated venue
 * (domain/venue/simulated.ts), which matches our orders: one matching engine for backtest, paper and this.
 *
 * Client order ids are unique for the simulator's lifetime: a repeat is refused (409, order_already_exists) and
 * marked `duplicate` in /_sim/orders, so tests prove nothing was sent twice.
 *
 * Faults (`name:probability[:ms]`, comma separated, seeded): lose-ack (processed, answer lost), delay-ack,
 * 5xx (refused, not processed), gap (one orderbook_delta seq skipped for every subscriber), drop (every
 * websocket dropped).
 */
import http from 'node:http';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal, rescale } from '../../../domain/core/fixed.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, step, stepMarket, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { wallClockNs } from '../common/clock.js';
import { Faults, parseFaults } from '../common/sim-server.js';
import { SyntheticBinaryMarket } from '../common/synthetic-binary.js';
import { KalshiParser } from './parse.js';
import { verifyKalshiRequest } from './signing.js';
import {
  CONTRACT_LOTS, countToLots, DEFAULT_PRICE_SCALE, dollarsToTicks, KALSHI, kalshiInstrumentId, lotsToCount, QTY_SCALE, REST_PREFIX, ticksToDollars, WS_PATH,
} from './wire.js';

const MAX_RECORDS = 1_000_000;
/** The faults it knows, with their default delay in ms. */
const FAULTS: Readonly<Record<string, number>> = { 'lose-ack': 0, 'delay-ack': 500, '5xx': 0, gap: 0, drop: 0 };

export interface SimKalshiOptions {
  /** The account: its key id and public key (the private key stays with the client). */
  keyId: string;
  publicKey: KeyObject;
  host?: string;
  port?: number;
  /** Markets of the synthetic generator (ignored with a capture: its tickers are used). */
  markets?: string[];
  seed?: number;
  /** Wall ms per market step. */
  stepMs?: number;
  /** Recorded Kalshi WebSocket messages, one JSON message per line. */
  capture?: string;
  faults?: string;
  priceScale?: number;
  /** Fees of the simulated venue, bps of notional (Kalshi's own fee is a formula; this is an approximation). */
  fees?: { makerBps?: string; takerBps?: string };
  /** Hold the market still until the first websocket subscribes. */
  startOnSubscribe?: boolean;
}

export interface KalshiSimOrder {
  order_id: string;
  client_order_id: string;
  ticker: string;
  book_side: 'bid' | 'ask';
  price: string;
  initial_count: string;
  fill_count: string;
  status: string;
  created_ts_ms: number;
  /** Client order ids this order had before amends. */
  previous_client_order_ids: string[];
  amends: number;
  duplicate?: boolean;
  rejected?: string;
}

export interface KalshiSimFill {
  fill_id: string;
  order_id: string;
  client_order_id: string;
  ticker: string;
  book_side: 'bid' | 'ask';
  yes_price_dollars: string;
  count_fp: string;
  fee_cost: string;
  is_taker: boolean;
  ts_ms: number;
}

interface KOrder {
  id: string;
  clientOrderId: string;
  /** The kernel-side order id the domain simulator knows it by (stable across amends). */
  simId: string;
  ticker: string;
  instrument: string;
  bookSide: 'bid' | 'ask';
  priceTicks: number;
  initialLots: number;
  filledLots: number;
  status: 'resting' | 'canceled' | 'executed';
  takerCostMicros: bigint;
  makerCostMicros: bigint;
  takerFeesMicros: bigint;
  makerFeesMicros: bigint;
  createdMs: number;
  updatedMs: number;
  record: KalshiSimOrder;
}

interface Sub {
  sid: number;
  channels: Set<string>;
  tickers: Set<string> | null;
  seq: number;
}

interface Conn {
  ws: WebSocket;
  subs: Map<number, Sub>;
}

interface Book {
  yes: Map<number, number>;
  no: Map<number, number>;
}

class KalshiHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Checks a --faults spec against the simulated Kalshi's faults. */
export function parseKalshiFaults(spec: string | undefined): Map<string, { prob: number; ms: number }> {
  return parseFaults(spec, FAULTS);
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class SimKalshi {
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  readonly orderLog: KalshiSimOrder[] = [];
  readonly fillLog: Array<KalshiSimFill & { fill: Record<string, unknown> }> = [];
  readonly counters = { requests: 0, signatureFailures: 0, gapsInjected: 0, steps: 0, faults: {} as Record<string, number> };
  private readonly venue: SimVenueState;
  private readonly priceScale: number;
  private readonly one: number;
  private readonly keys: Map<string, KeyObject>;
  private readonly markets = new Map<string, SyntheticBinaryMarket>();
  private readonly books = new Map<string, Book>();
  private readonly capture: string[] = [];
  private captureAt = 0;
  private readonly parser: KalshiParser;
  private readonly orders = new Map<string, KOrder>();
  private readonly bySimId = new Map<string, KOrder>();
  private readonly usedClientIds = new Set<string>();
  private readonly conns = new Set<Conn>();
  private readonly sockets = new Set<Socket>();
  private readonly positions = new Map<string, { lots: number; costMicros: bigint; feesMicros: bigint; realizedMicros: bigint }>();
  private balanceMicros = 1_000_000n * 1_000_000n;
  private readonly faults: Faults;
  private readonly out: VenueReport[] = [];
  private nextSid = 1;
  /** The sequence of the kernel venue's own feed (never skipped). */
  private internalSeq = 1;
  private nextOrderNo = 1;
  private nextFillNo = 1;
  private cutoffMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private paused = false;
  private closed = false;

  private constructor(private readonly o: SimKalshiOptions) {
    this.priceScale = o.priceScale ?? DEFAULT_PRICE_SCALE;
    this.one = 10 ** this.priceScale;
    this.keys = new Map([[o.keyId, o.publicKey]]);
    this.faults = new Faults(FAULTS, o.faults, o.seed ?? 11);
    this.parser = new KalshiParser({ priceScale: this.priceScale });
    this.venue = initialState({
      venue: KALSHI,
      latency: { submitNs: 0n, ackNs: 0n, cancelNs: 0n },
      fees: { makerBps: o.fees?.makerBps ?? '0', takerBps: o.fees?.takerBps ?? '70', feeCurrency: 'USD', feeScale: 6 },
      instruments: {},
    } satisfies SimVenueConfigInput);
    this.server = http.createServer((req, res) => void this.onHttp(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  static async start(options: SimKalshiOptions): Promise<SimKalshi> {
    const sim = new SimKalshi(options);
    sim.load();
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
    return { rest: `http://127.0.0.1:${this.port}${REST_PREFIX}`, ws: `ws://127.0.0.1:${this.port}${WS_PATH}` };
  }

  /** Tickers the simulator trades. */
  tickers(): string[] {
    return [...this.books.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  setFaults(spec: string | undefined, once: string[] = []): void {
    this.faults.set(spec, once);
  }

  /** The YES book of a market as the simulator holds it (bids; asks = 1 − NO bids). */
  yesBook(ticker: string): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const b = this.books.get(ticker) ?? { yes: new Map(), no: new Map() };
    return {
      bids: [...b.yes].sort((x, y) => y[0] - x[0]),
      asks: [...b.no].map(([p, q]): [number, number] => [this.one - p, q]).sort((x, y) => x[0] - y[0]),
    };
  }

  // ---------------------------------------------------------------- market

  private load(): void {
    if (this.o.capture !== undefined) {
      let text: string;
      try {
        text = fs.readFileSync(this.o.capture, 'utf8');
      } catch {
        throw new TapedeckError('CAPTURE_EMPTY', `cannot read the capture ${this.o.capture}`, { file: this.o.capture });
      }
      this.capture.push(...text.split('\n').filter((l) => l.trim() !== ''));
      if (this.capture.length === 0) throw new TapedeckError('CAPTURE_EMPTY', 'the capture holds no messages', { file: this.o.capture });
      // The first pass defines the markets and their starting books.
      for (const line of this.capture) {
        const m = /"market_ticker"\s*:\s*"([^"]+)"/.exec(line);
        if (m && !this.books.has(m[1]!)) this.addMarket(m[1]!);
      }
      return;
    }
    const tickers = this.o.markets ?? ['KXSIM-26DEC31-T50'];
    tickers.forEach((t, i) => {
      // Two grid steps each side of the walk: room for a market maker to quote inside the touch.
      this.markets.set(t, new SyntheticBinaryMarket({
        seed: (this.o.seed ?? 11) * 1000 + i, payoutTicks: this.one, tickTicks: 1, sizeLots: 4 * CONTRACT_LOTS, halfSpreadSteps: 2,
        startTicks: Math.round(this.one * (0.3 + (0.4 * ((i * 7) % 10)) / 10)), tradeProbability: 0.5,
      }));
      this.addMarket(t);
      this.applySteps(t, this.markets.get(t)!.step().yes, Date.now(), false);
    });
    // The kernel's venue starts from the same books.
    for (const t of tickers) this.feed(this.frame({ type: 'orderbook_snapshot', sid: 0, seq: this.internalSeq, msg: this.snapshotMsg(t) }));
  }

  /** Moves a market's two bid ladders to a new YES book (NO bids = 1 − YES asks), as deltas. */
  private applySteps(ticker: string, yes: { bids: Array<[number, number]>; asks: Array<[number, number]> }, nowMs: number, publish: boolean): void {
    const b = this.books.get(ticker)!;
    const next = { yes: new Map(yes.bids), no: new Map(yes.asks.map(([p, q]): [number, number] => [this.one - p, q])) };
    for (const side of ['yes', 'no'] as const) {
      const was = b[side];
      const now = next[side];
      const prices = [...new Set([...was.keys(), ...now.keys()])].sort((x, y) => x - y);
      for (const p of prices) {
        const d = (now.get(p) ?? 0) - (was.get(p) ?? 0);
        if (d === 0) continue;
        if (publish) this.publishDelta(ticker, side, p, d, nowMs);
        else if (now.has(p)) was.set(p, now.get(p)!);
        else was.delete(p);
      }
    }
  }

  private addMarket(ticker: string): void {
    this.books.set(ticker, { yes: new Map(), no: new Map() });
    this.venue.config.instruments.set(kalshiInstrumentId(ticker), {
      ...this.venue.config.defaultRules, tickSizeTicks: 1, lotSizeLots: CONTRACT_LOTS, minQtyLots: CONTRACT_LOTS, quoteCurrency: 'USD',
    });
  }

  private startClock(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.timer = setInterval(() => this.tick(), this.o.stepMs ?? 100);
  }

  /** Holds the market still (no steps, so no fills) until `resume`: a test reads a quiet venue. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  private tick(): void {
    if (this.closed || this.paused) return;
    this.counters.steps++;
    const nowMs = Date.now();
    if (this.capture.length > 0) {
      const line = this.capture[this.captureAt++ % this.capture.length]!;
      this.playRecorded(line, nowMs);
    } else {
      for (const [ticker, m] of this.markets) {
        const st = m.step();
        this.applySteps(ticker, st.yes, nowMs, true);
        if (st.trade !== null) {
          this.publishTrade(ticker, `${ticker}-${st.n}`, st.trade.priceTicks, st.trade.qtyLots, st.trade.aggressor === 'buy' ? 'yes' : 'no', nowMs);
        }
      }
    }
    this.maybeFault('drop', () => {
      for (const c of this.wss.clients) c.terminate();
    });
  }

  private playRecorded(line: string, nowMs: number): void {
    let j: { type?: string; msg?: Record<string, unknown> };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      return;
    }
    const msg = j.msg ?? {};
    const ticker = typeof msg.market_ticker === 'string' ? msg.market_ticker : null;
    if (ticker === null || !this.books.has(ticker)) return;
    if (j.type === 'orderbook_snapshot') {
      const b: Book = { yes: new Map(), no: new Map() };
      const put = (into: Map<number, number>, v: unknown): void => {
        if (Array.isArray(v)) for (const [p, c] of v as Array<[string, string]>) into.set(dollarsToTicks(p, this.priceScale, 'price'), countToLots(c, 'count'));
      };
      put(b.yes, msg.yes_dollars_fp);
      put(b.no, msg.no_dollars_fp);
      this.books.set(ticker, b);
      this.feed(this.frame({ type: 'orderbook_snapshot', sid: 0, seq: this.internalSeq, msg: this.snapshotMsg(ticker) }));
      for (const c of this.conns) for (const s of c.subs.values()) if (s.channels.has('orderbook_delta') && (s.tickers === null || s.tickers.has(ticker))) this.sendSnapshot(c, s, ticker);
    } else if (j.type === 'orderbook_delta' && typeof msg.price_dollars === 'string' && typeof msg.delta_fp === 'string' && (msg.side === 'yes' || msg.side === 'no')) {
      this.publishDelta(ticker, msg.side, dollarsToTicks(msg.price_dollars, this.priceScale, 'price_dollars'), countToLots(msg.delta_fp, 'delta_fp'), nowMs);
    } else if (j.type === 'trade' && typeof msg.yes_price_dollars === 'string' && typeof msg.count_fp === 'string') {
      this.publishTrade(ticker, `${String(msg.trade_id ?? this.counters.steps)}-${Math.floor(this.captureAt / this.capture.length)}`, dollarsToTicks(msg.yes_price_dollars, this.priceScale, 'yes_price_dollars'), countToLots(msg.count_fp, 'count_fp'), msg.taker_side === 'no' ? 'no' : 'yes', nowMs);
    }
  }

  private frame(v: unknown): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(v));
  }

  /** A frame into the kernel's simulated venue, through the same parser a client runs. */
  private feed(body: Uint8Array): void {
    const evs = this.parser.parseFrame(body, { file: 'sim-kalshi', line: 0, receiveTimeNs: wallClockNs() });
    for (const e of evs) this.market(e);
  }

  private market(e: AnyEnvelope): void {
    this.out.length = 0;
    stepMarket(this.venue, e as unknown as TimedEvent, this.out);
    this.applyReports(this.out.splice(0));
  }

  private snapshotMsg(ticker: string): Record<string, unknown> {
    const b = this.books.get(ticker)!;
    const ladder = (m: Map<number, number>): string[][] => [...m].sort((x, y) => x[0] - y[0]).map(([p, q]) => [ticksToDollars(p, this.priceScale), lotsToCount(q)]);
    return { market_ticker: ticker, market_id: uuidFromName('sim-kalshi', `market:${ticker}`), yes_dollars_fp: ladder(b.yes), no_dollars_fp: ladder(b.no) };
  }

  private publishDelta(ticker: string, side: 'yes' | 'no', priceTicks: number, deltaLots: number, nowMs: number): void {
    const b = this.books.get(ticker)!;
    const m = side === 'yes' ? b.yes : b.no;
    const total = (m.get(priceTicks) ?? 0) + deltaLots;
    if (total <= 0) m.delete(priceTicks);
    else m.set(priceTicks, total);
    const msg = {
      market_ticker: ticker, market_id: uuidFromName('sim-kalshi', `market:${ticker}`), price_dollars: ticksToDollars(priceTicks, this.priceScale),
      delta_fp: lotsToCount(deltaLots), side, ts: iso(nowMs), ts_ms: nowMs,
    };
    // The kernel's venue sees every delta in order (its own sequence, never skipped).
    this.internalSeq++;
    this.feed(this.frame({ type: 'orderbook_delta', sid: 0, seq: this.internalSeq, msg }));
    const gap = this.maybeFault('gap', () => undefined);
    for (const c of this.conns) {
      for (const s of c.subs.values()) {
        if (!s.channels.has('orderbook_delta') || (s.tickers !== null && !s.tickers.has(ticker))) continue;
        s.seq += gap ? 2 : 1;
        if (gap) this.counters.gapsInjected++;
        c.ws.send(JSON.stringify({ type: 'orderbook_delta', sid: s.sid, seq: s.seq, msg }));
      }
    }
  }

  private publishTrade(ticker: string, tradeId: string, yesPriceTicks: number, qtyLots: number, taker: 'yes' | 'no', nowMs: number): void {
    const msg = {
      trade_id: uuidFromName('sim-kalshi', `trade:${tradeId}`), market_ticker: ticker, yes_price_dollars: ticksToDollars(yesPriceTicks, this.priceScale),
      no_price_dollars: ticksToDollars(this.one - yesPriceTicks, this.priceScale), count_fp: lotsToCount(qtyLots), taker_side: taker,
      ts: Math.floor(nowMs / 1000), ts_ms: nowMs,
    };
    this.feed(this.frame({ type: 'trade', sid: 0, msg }));
    this.push('trade', ticker, { type: 'trade', msg });
  }

  private push(channel: string, ticker: string | null, message: { type: string; msg: unknown }): void {
    for (const c of this.conns) {
      for (const s of c.subs.values()) {
        if (!s.channels.has(channel) || (ticker !== null && s.tickers !== null && !s.tickers.has(ticker))) continue;
        c.ws.send(JSON.stringify({ type: message.type, sid: s.sid, msg: message.msg }));
      }
    }
  }

  private maybeFault(name: string, act: (ms: number) => void = () => undefined): boolean {
    const ms = this.faults.hit(name);
    if (ms === null) return false;
    this.counters.faults[name] = (this.counters.faults[name] ?? 0) + 1;
    act(ms);
    return true;
  }

  // ---------------------------------------------------------------- websocket

  private onUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const u = new URL(req.url ?? '/', 'ws://x');
    const refuse = (status: number, text: string): void => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ error: { code: status === 401 ? 'authentication_error' : 'not_found', message: text } })}`);
      socket.destroy();
    };
    if (u.pathname !== WS_PATH) return refuse(404, 'Not Found');
    const verdict = verifyKalshiRequest(req.headers, 'GET', u.pathname, this.keys, BigInt(Date.now()));
    if (!verdict.ok) {
      this.counters.signatureFailures++;
      return refuse(401, `Unauthorized (${verdict.reason})`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Conn = { ws, subs: new Map() };
      this.conns.add(conn);
      ws.on('close', () => this.conns.delete(conn));
      ws.on('message', (m) => this.onCommand(conn, m.toString()));
    });
  }

  private onCommand(c: Conn, text: string): void {
    let cmd: { id?: unknown; cmd?: unknown; params?: Record<string, unknown> };
    try {
      cmd = JSON.parse(text) as typeof cmd;
    } catch {
      c.ws.send(JSON.stringify({ id: null, type: 'error', msg: { code: 1, msg: 'Unable to process message' } }));
      return;
    }
    const id = typeof cmd.id === 'number' ? cmd.id : null;
    const err = (code: number, msg: string): void => c.ws.send(JSON.stringify({ id, type: 'error', msg: { code, msg } }));
    if (cmd.cmd === 'unsubscribe') {
      const sids = cmd.params?.sids;
      if (!Array.isArray(sids) || sids.length === 0) return err(4, 'Subscription IDs required');
      for (const sid of sids) {
        const s = c.subs.get(Number(sid));
        if (s === undefined) continue;
        c.subs.delete(s.sid);
        c.ws.send(JSON.stringify({ id, sid: s.sid, seq: s.seq, type: 'unsubscribed' }));
      }
      return;
    }
    if (cmd.cmd !== 'subscribe') return err(5, 'Unknown command');
    const p = cmd.params;
    if (p === undefined || typeof p !== 'object') return err(2, 'Params required');
    const channels = p.channels;
    if (!Array.isArray(channels) || channels.length === 0) return err(3, 'Channels required');
    const known = new Set(['orderbook_delta', 'trade', 'ticker', 'fill', 'user_orders', 'market_positions']);
    for (const ch of channels) if (typeof ch !== 'string' || !known.has(ch)) return err(8, 'Unknown channel name');
    const list = Array.isArray(p.market_tickers) ? p.market_tickers.map(String) : typeof p.market_ticker === 'string' ? [p.market_ticker] : null;
    if (list !== null) for (const t of list) if (!this.books.has(t)) return c.ws.send(JSON.stringify({ id, type: 'error', msg: { code: 16, msg: 'Market not found', market_ticker: t } }));
    this.startClock();
    // One subscription per channel, as Kalshi acknowledges them.
    for (const ch of channels as string[]) {
      const s: Sub = { sid: this.nextSid++, channels: new Set([ch]), tickers: list === null ? null : new Set(list), seq: 0 };
      c.subs.set(s.sid, s);
      c.ws.send(JSON.stringify({ id, type: 'subscribed', msg: { channel: ch, sid: s.sid } }));
      if (ch === 'orderbook_delta') for (const t of list ?? this.tickers()) this.sendSnapshot(c, s, t);
    }
  }

  private sendSnapshot(c: Conn, s: Sub, ticker: string): void {
    s.seq++;
    c.ws.send(JSON.stringify({ type: 'orderbook_snapshot', sid: s.sid, seq: s.seq, msg: this.snapshotMsg(ticker) }));
  }

  // ---------------------------------------------------------------- HTTP

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.counters.requests++;
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    try {
      if (u.pathname.startsWith('/_sim/')) return this.simRoute(method, u.pathname, body, send);
      if (!u.pathname.startsWith(`${REST_PREFIX}/`)) throw new KalshiHttpError(404, 'not_found', `no route ${method} ${u.pathname}`);
      const route = u.pathname.slice(REST_PREFIX.length);
      const isPublic = method === 'GET' && (route === '/exchange/status' || route.startsWith('/markets'));
      if (!isPublic) {
        const verdict = verifyKalshiRequest(req.headers, method, u.pathname, this.keys, BigInt(Date.now()));
        if (!verdict.ok) {
          this.counters.signatureFailures++;
          throw new KalshiHttpError(401, 'authentication_error', `authentication failed: ${verdict.reason}`);
        }
      }
      const isWrite = method !== 'GET';
      if (this.maybeFault('5xx', () => undefined)) throw new KalshiHttpError(503, 'service_unavailable', 'service unavailable');
      let json: Record<string, unknown> = {};
      if (body !== '') {
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          throw new KalshiHttpError(400, 'invalid_parameters', 'body is not JSON');
        }
      }
      const [status, result] = this.route(method, route, u.searchParams, json);
      if (isWrite && this.maybeFault('lose-ack', () => undefined)) {
        req.socket.destroy();
        return;
      }
      const delayMs = isWrite ? this.faults.hit('delay-ack') : null;
      if (delayMs !== null) await new Promise((r) => setTimeout(r, delayMs));
      send(status, result);
    } catch (e) {
      if (e instanceof KalshiHttpError) return send(e.status, { error: { code: e.code, message: e.message } });
      if (e instanceof TapedeckError) return send(400, { error: { code: 'invalid_parameters', message: e.message } });
      send(500, { error: { code: 'internal_server_error', message: 'internal error' } });
    }
  }

  private simRoute(method: string, path: string, body: string, send: (s: number, v: unknown) => void): void {
    if (method === 'GET' && path === '/_sim/orders') return send(200, this.orderLog);
    if (method === 'GET' && path === '/_sim/fills') return send(200, this.fillLog.map(({ fill: _f, ...f }) => f));
    if (method === 'GET' && path === '/_sim/stats') return send(200, { ...this.counters, cutoffMs: this.cutoffMs });
    if (method === 'GET' && path === '/_sim/book') {
      const out: Record<string, unknown> = {};
      for (const t of this.tickers()) out[t] = this.yesBook(t);
      return send(200, out);
    }
    if (method === 'POST' && path === '/_sim/faults') {
      const j = JSON.parse(body || '{}') as { spec?: string; once?: string[] };
      this.setFaults(j.spec, j.once ?? []);
      return send(200, { ok: true });
    }
    if (method === 'POST' && path === '/_sim/pause') {
      const j = JSON.parse(body || '{}') as { paused?: boolean };
      if (j.paused === false) this.resume();
      else this.pause();
      return send(200, { ok: true, paused: this.paused });
    }
    if (method === 'POST' && path === '/_sim/cutoff') {
      const j = JSON.parse(body || '{}') as { ms?: number };
      this.cutoffMs = j.ms ?? Date.now();
      return send(200, { ok: true, cutoffMs: this.cutoffMs });
    }
    throw new KalshiHttpError(404, 'not_found', `no route ${method} ${path}`);
  }

  private route(method: string, route: string, q: URLSearchParams, j: Record<string, unknown>): [number, unknown] {
    if (method === 'GET' && route === '/exchange/status') return [200, { exchange_active: true, trading_active: true }];
    if (method === 'GET' && route === '/historical/cutoff') {
      return [200, { market_settled_ts: iso(this.cutoffMs), trades_created_ts: iso(this.cutoffMs), orders_updated_ts: iso(this.cutoffMs) }];
    }
    let m = /^\/markets\/([^/]+)(\/orderbook)?$/.exec(route);
    if (method === 'GET' && m) {
      const ticker = decodeURIComponent(m[1]!);
      if (!this.books.has(ticker)) throw new KalshiHttpError(404, 'not_found', 'market not found');
      if (m[2]) {
        const s = this.snapshotMsg(ticker);
        return [200, { orderbook_fp: { yes_dollars: s.yes_dollars_fp, no_dollars: s.no_dollars_fp } }];
      }
      const bk = this.yesBook(ticker);
      return [200, { market: {
        ticker, event_ticker: ticker.split('-').slice(0, 2).join('-'), market_type: 'binary', status: 'active', price_level_structure: this.priceScale === 2 ? 'linear_cent' : 'deci_cent',
        yes_bid_dollars: bk.bids[0] ? ticksToDollars(bk.bids[0][0], this.priceScale) : null, yes_ask_dollars: bk.asks[0] ? ticksToDollars(bk.asks[0][0], this.priceScale) : null,
      } }];
    }
    if (method === 'POST' && route === '/portfolio/events/orders') return [201, this.create(j)];
    m = /^\/portfolio\/events\/orders\/([^/]+)(\/amend|\/decrease)?$/.exec(route);
    if (m) {
      const o = this.orders.get(decodeURIComponent(m[1]!));
      if (o === undefined) throw new KalshiHttpError(404, 'not_found', 'order not found');
      if (method === 'DELETE' && m[2] === undefined) return [200, this.cancel(o)];
      if (method === 'POST' && m[2] === '/amend') return [200, this.amend(o, j)];
      if (method === 'POST' && m[2] === '/decrease') return [200, this.decrease(o, j)];
    }
    m = /^\/portfolio\/orders\/([^/]+)$/.exec(route);
    if (method === 'GET' && m) {
      const o = this.orders.get(decodeURIComponent(m[1]!));
      if (o === undefined) throw new KalshiHttpError(404, 'not_found', 'order not found');
      return [200, { order: this.orderJson(o) }];
    }
    if (method === 'GET' && route === '/portfolio/orders') return [200, this.listOrders(q)];
    if (method === 'GET' && route === '/portfolio/fills') return [200, this.listFills(q, false)];
    if (method === 'GET' && route === '/historical/fills') return [200, this.listFills(q, true)];
    if (method === 'GET' && route === '/portfolio/positions') return [200, this.listPositions(q)];
    if (method === 'GET' && route === '/portfolio/balance') {
      return [200, { balance: Number(this.balanceMicros / 10_000n), portfolio_value: Number(this.balanceMicros / 10_000n), updated_ts: Math.floor(Date.now() / 1000) }];
    }
    throw new KalshiHttpError(404, 'not_found', `the simulated Kalshi has no ${method} ${route}`);
  }

  private str(j: Record<string, unknown>, k: string, required = true): string | undefined {
    const v = j[k];
    if (v === undefined || v === null) {
      if (required) throw new KalshiHttpError(400, 'invalid_parameters', `${k} is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw new KalshiHttpError(400, 'invalid_parameters', `${k} must be a string`);
    return v;
  }

  private priceOf(text: string, field: string): number {
    let t: number;
    try {
      t = dollarsToTicks(text, this.priceScale, field);
    } catch {
      throw new KalshiHttpError(400, 'invalid_price', `${field} "${text}" is not a valid price for this market`);
    }
    if (t <= 0 || t >= this.one) throw new KalshiHttpError(400, 'invalid_price', `${field} must be between 0 and 1`);
    return t;
  }

  private countOf(text: string, field: string): number {
    let lots: number;
    try {
      lots = countToLots(text, field);
    } catch {
      throw new KalshiHttpError(400, 'invalid_parameters', `${field} "${text}" is not a count`);
    }
    if (lots <= 0 || lots % CONTRACT_LOTS !== 0) throw new KalshiHttpError(400, 'invalid_parameters', `${field} must be a positive whole number of contracts`);
    return lots;
  }

  private create(j: Record<string, unknown>): Record<string, unknown> {
    const ticker = this.str(j, 'ticker')!;
    if (!this.books.has(ticker)) throw new KalshiHttpError(404, 'market_not_found', 'market not found');
    const clientOrderId = this.str(j, 'client_order_id')!;
    const side = this.str(j, 'side')!;
    if (side !== 'bid' && side !== 'ask') throw new KalshiHttpError(400, 'invalid_parameters', 'side must be bid or ask');
    const priceTicks = this.priceOf(this.str(j, 'price')!, 'price');
    const lots = this.countOf(this.str(j, 'count')!, 'count');
    const tif = this.str(j, 'time_in_force', false) ?? 'good_till_canceled';
    if (!['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'].includes(tif)) throw new KalshiHttpError(400, 'invalid_parameters', `time_in_force "${tif}" is not supported`);
    const postOnly = j.post_only === true;
    const now = Date.now();
    const record: KalshiSimOrder = {
      order_id: '', client_order_id: clientOrderId, ticker, book_side: side, price: ticksToDollars(priceTicks, this.priceScale), initial_count: lotsToCount(lots),
      fill_count: '0.00', status: 'rejected', created_ts_ms: now, previous_client_order_ids: [], amends: 0,
    };
    if (this.orderLog.length < MAX_RECORDS) this.orderLog.push(record);
    if (this.usedClientIds.has(clientOrderId)) {
      record.duplicate = true;
      throw new KalshiHttpError(409, 'order_already_exists', 'an order with this client_order_id already exists');
    }
    this.usedClientIds.add(clientOrderId);
    const id = uuidFromName('sim-kalshi', `order:${this.o.seed ?? 11}:${this.nextOrderNo++}`);
    const o: KOrder = {
      id, clientOrderId, simId: id, ticker, instrument: kalshiInstrumentId(ticker), bookSide: side, priceTicks, initialLots: lots, filledLots: 0, status: 'resting',
      takerCostMicros: 0n, makerCostMicros: 0n, takerFeesMicros: 0n, makerFeesMicros: 0n, createdMs: now, updatedMs: now, record,
    };
    record.order_id = id;
    this.orders.set(id, o);
    this.bySimId.set(id, o);
    const command: VenueCommand = {
      kind: 'SubmitOrder', orderId: id, venue: KALSHI, instrument: o.instrument, side: side === 'bid' ? 'buy' : 'sell', orderType: 'limit',
      priceTicks, qtyLots: lots, priceScale: this.priceScale, qtyScale: QTY_SCALE,
      timeInForce: tif === 'immediate_or_cancel' ? 'IOC' : tif === 'fill_or_kill' ? 'FOK' : 'GTC', postOnly, reduceOnly: false,
    };
    this.out.length = 0;
    step(this.venue, { kind: 'command', command, sentNs: wallClockNs() }, this.out);
    const reports = this.out.splice(0);
    const rejected = reports.find((r) => r.type === 'OrderRejected' && r.data.orderId === id);
    if (rejected !== undefined && rejected.type === 'OrderRejected') {
      this.orders.delete(id);
      this.bySimId.delete(id);
      record.order_id = '';
      record.rejected = rejected.data.reason;
      this.applyReports(reports.filter((r) => r !== rejected));
      throw new KalshiHttpError(400, postOnly ? 'post_only_cross' : 'order_rejected', `order rejected: ${rejected.data.reason}`);
    }
    this.applyReports(reports);
    this.userOrder(o);
    const filled = o.filledLots;
    const cost = o.takerCostMicros + o.makerCostMicros;
    return {
      order_id: id, client_order_id: clientOrderId, fill_count: lotsToCount(filled), remaining_count: lotsToCount(o.status === 'resting' ? o.initialLots - filled : 0),
      average_fill_price: filled > 0 ? formatDecimal((cost * 100n) / BigInt(filled), 6) : '0.000000',
      average_fee_paid: filled > 0 ? formatDecimal(((o.takerFeesMicros + o.makerFeesMicros) * 100n) / BigInt(filled), 6) : '0.000000',
      ts_ms: now,
    };
  }

  private cancel(o: KOrder): Record<string, unknown> {
    if (o.status !== 'resting') throw new KalshiHttpError(404, 'not_found', 'order is not resting');
    const leaves = o.initialLots - o.filledLots;
    this.out.length = 0;
    step(this.venue, { kind: 'command', command: { kind: 'CancelOrder', orderId: o.simId, venue: KALSHI, instrument: o.instrument }, sentNs: wallClockNs() }, this.out);
    this.applyReports(this.out.splice(0));
    if ((o.status as string) !== 'canceled') throw new KalshiHttpError(404, 'not_found', 'order is not resting');
    return { order_id: o.id, client_order_id: o.clientOrderId, reduced_by: lotsToCount(leaves), ts_ms: Date.now() };
  }

  private amend(o: KOrder, j: Record<string, unknown>): Record<string, unknown> {
    if (o.status !== 'resting') throw new KalshiHttpError(400, 'order_not_resting', 'only a resting order can be amended');
    const ticker = this.str(j, 'ticker')!;
    const side = this.str(j, 'side')!;
    if (ticker !== o.ticker || side !== o.bookSide) throw new KalshiHttpError(400, 'invalid_parameters', 'ticker and side must be the order\'s');
    const priceTicks = this.priceOf(this.str(j, 'price')!, 'price');
    const lots = this.countOf(this.str(j, 'count')!, 'count');
    const updated = this.str(j, 'updated_client_order_id', false);
    const given = this.str(j, 'client_order_id', false);
    if (given !== undefined && given !== o.clientOrderId) throw new KalshiHttpError(400, 'invalid_parameters', 'client_order_id is not the order\'s');
    if (lots <= o.filledLots) throw new KalshiHttpError(400, 'invalid_parameters', 'count must exceed what is filled');
    if (updated !== undefined && updated !== o.clientOrderId) {
      if (this.usedClientIds.has(updated)) throw new KalshiHttpError(409, 'order_already_exists', 'an order with this client_order_id already exists');
    }
    const old = this.orderJson(o);
    this.out.length = 0;
    step(this.venue, { kind: 'command', command: { kind: 'ReplaceOrder', orderId: o.simId, venue: KALSHI, instrument: o.instrument, priceTicks, qtyLots: lots }, sentNs: wallClockNs() }, this.out);
    const reports = this.out.splice(0);
    const refused = reports.find((r) => r.type === 'ReplaceRejected');
    if (refused !== undefined && refused.type === 'ReplaceRejected') {
      this.applyReports(reports.filter((r) => r !== refused));
      throw new KalshiHttpError(400, 'amend_rejected', `amend rejected: ${refused.data.reason}`);
    }
    if (updated !== undefined && updated !== o.clientOrderId) {
      this.usedClientIds.add(updated);
      o.record.previous_client_order_ids.push(o.clientOrderId);
      o.clientOrderId = updated;
      o.record.client_order_id = updated;
    }
    o.priceTicks = priceTicks;
    o.initialLots = lots;
    o.record.amends++;
    o.record.price = ticksToDollars(priceTicks, this.priceScale);
    o.record.initial_count = lotsToCount(lots);
    o.updatedMs = Date.now();
    this.applyReports(reports);
    this.userOrder(o);
    return { old_order: old, order: this.orderJson(o) };
  }

  private decrease(o: KOrder, j: Record<string, unknown>): Record<string, unknown> {
    if (o.status !== 'resting') throw new KalshiHttpError(400, 'order_not_resting', 'only a resting order can be decreased');
    const by = this.str(j, 'reduce_by', false);
    const to = this.str(j, 'reduce_to', false);
    const leaves = o.initialLots - o.filledLots;
    const newLeaves = by !== undefined ? leaves - this.countOf(by, 'reduce_by') : to !== undefined ? countToLots(to, 'reduce_to') : -1;
    if (newLeaves < 0 || newLeaves > leaves) throw new KalshiHttpError(400, 'invalid_parameters', 'reduce_by or reduce_to must leave between 0 and the resting count');
    if (newLeaves === 0) {
      this.cancel(o);
      return { order: this.orderJson(o) };
    }
    this.out.length = 0;
    step(this.venue, { kind: 'command', command: { kind: 'ReplaceOrder', orderId: o.simId, venue: KALSHI, instrument: o.instrument, priceTicks: o.priceTicks, qtyLots: o.filledLots + newLeaves }, sentNs: wallClockNs() }, this.out);
    o.initialLots = o.filledLots + newLeaves;
    o.record.initial_count = lotsToCount(o.initialLots);
    this.applyReports(this.out.splice(0));
    this.userOrder(o);
    return { order: this.orderJson(o) };
  }

  private page<T>(list: T[], q: URLSearchParams): { items: T[]; cursor: string } {
    const limit = Math.max(1, Math.min(200, Number(q.get('limit') ?? '100') || 100));
    const start = q.get('cursor') ? Number(Buffer.from(q.get('cursor')!, 'base64url').toString('utf8')) || 0 : 0;
    const items = list.slice(start, start + limit);
    const next = start + limit < list.length ? Buffer.from(String(start + limit)).toString('base64url') : '';
    return { items, cursor: next };
  }

  private listOrders(q: URLSearchParams): unknown {
    const ticker = q.get('ticker');
    const status = q.get('status');
    const minTs = q.get('min_ts');
    let list = [...this.orders.values()];
    if (ticker !== null) list = list.filter((o) => o.ticker === ticker);
    if (status !== null) list = list.filter((o) => o.status === status);
    if (minTs !== null) list = list.filter((o) => o.updatedMs >= Number(minTs) * 1000);
    const p = this.page(list, q);
    return { orders: p.items.map((o) => this.orderJson(o)), cursor: p.cursor };
  }

  private listFills(q: URLSearchParams, historical: boolean): unknown {
    const ticker = q.get('ticker');
    const orderId = q.get('order_id');
    const minTs = q.get('min_ts');
    const maxTs = q.get('max_ts');
    let list = this.fillLog.filter((f) => (historical ? f.ts_ms < this.cutoffMs : f.ts_ms >= this.cutoffMs));
    if (ticker !== null) list = list.filter((f) => f.ticker === ticker);
    if (orderId !== null && !historical) list = list.filter((f) => f.order_id === orderId);
    if (minTs !== null && !historical) list = list.filter((f) => f.ts_ms >= Number(minTs) * 1000);
    if (maxTs !== null) list = list.filter((f) => f.ts_ms < Number(maxTs) * 1000);
    const p = this.page(list, q);
    return { fills: p.items.map((f) => f.fill), cursor: p.cursor };
  }

  private listPositions(q: URLSearchParams): unknown {
    const ticker = q.get('ticker');
    const list = [...this.positions].filter(([t]) => ticker === null || t === ticker);
    const p = this.page(list, q);
    return {
      market_positions: p.items.map(([t, v]) => ({
        ticker: t, total_traded_dollars: formatDecimal(v.costMicros, 6), position_fp: lotsToCount(v.lots), market_exposure_dollars: formatDecimal(v.costMicros, 6),
        realized_pnl_dollars: formatDecimal(v.realizedMicros, 6), resting_orders_count: [...this.orders.values()].filter((o) => o.ticker === t && o.status === 'resting').length,
        fees_paid_dollars: formatDecimal(v.feesMicros, 6), last_updated_ts: iso(Date.now()),
      })),
      event_positions: [],
      cursor: p.cursor,
    };
  }

  // ---------------------------------------------------------------- the venue's reports → Kalshi's state

  private applyReports(reports: VenueReport[]): void {
    for (const r of reports) {
      const o = this.bySimId.get(r.data.orderId);
      if (o === undefined) continue;
      const now = Number(r.eventTimeNs / 1_000_000n);
      o.updatedMs = now;
      switch (r.type) {
        case 'OrderFilled': {
          const d = r.data;
          o.filledLots += d.qtyLots;
          const fee = rescale(d.fee, d.feeScale, 6, 'ceil');
          // Cost in micro-dollars: price (ticks at priceScale) × contracts.
          const cost = (BigInt(d.priceTicks) * BigInt(d.qtyLots) * 10n ** BigInt(6 - this.priceScale)) / BigInt(CONTRACT_LOTS);
          const taker = d.liquidity === 'taker';
          if (taker) {
            o.takerCostMicros += cost;
            o.takerFeesMicros += fee;
          } else {
            o.makerCostMicros += cost;
            o.makerFeesMicros += fee;
          }
          if (o.filledLots >= o.initialLots) o.status = 'executed';
          const pos = this.positions.get(o.ticker) ?? { lots: 0, costMicros: 0n, feesMicros: 0n, realizedMicros: 0n };
          pos.lots += o.bookSide === 'bid' ? d.qtyLots : -d.qtyLots;
          pos.costMicros += cost;
          pos.feesMicros += fee;
          this.positions.set(o.ticker, pos);
          this.balanceMicros += (o.bookSide === 'bid' ? -cost : cost) - fee;
          const fillId = uuidFromName('sim-kalshi', `fill:${this.o.seed ?? 11}:${this.nextFillNo++}`);
          const yes = ticksToDollars(d.priceTicks, this.priceScale);
          const no = ticksToDollars(this.one - d.priceTicks, this.priceScale);
          const fill = {
            fill_id: fillId, trade_id: fillId, order_id: o.id, client_order_id: o.clientOrderId, ticker: o.ticker, market_ticker: o.ticker,
            side: 'yes', action: o.bookSide === 'bid' ? 'buy' : 'sell', outcome_side: 'yes', book_side: o.bookSide,
            count_fp: lotsToCount(d.qtyLots), yes_price_dollars: yes, no_price_dollars: no, is_taker: taker,
            created_time: iso(now), fee_cost: formatDecimal(fee, 6), ts: Math.floor(now / 1000),
          };
          if (this.fillLog.length < MAX_RECORDS) {
            this.fillLog.push({
              fill_id: fillId, order_id: o.id, client_order_id: o.clientOrderId, ticker: o.ticker, book_side: o.bookSide, yes_price_dollars: yes,
              count_fp: fill.count_fp, fee_cost: fill.fee_cost, is_taker: taker, ts_ms: now, fill,
            });
          }
          this.push('fill', o.ticker, {
            type: 'fill',
            msg: {
              trade_id: fillId, order_id: o.id, client_order_id: o.clientOrderId, market_ticker: o.ticker, is_taker: taker, side: 'yes', yes_price_dollars: yes,
              count_fp: fill.count_fp, action: fill.action, ts: Math.floor(now / 1000), ts_ms: now, post_position_fp: lotsToCount(pos.lots), purchased_side: o.bookSide === 'bid' ? 'yes' : 'no',
              fee_cost: fill.fee_cost,
            },
          });
          this.userOrder(o);
          break;
        }
        case 'OrderCanceled':
        case 'OrderExpired':
          o.status = 'canceled';
          this.userOrder(o);
          break;
        default:
          break;
      }
      o.record.status = o.status;
      o.record.fill_count = lotsToCount(o.filledLots);
    }
  }

  private userOrder(o: KOrder): void {
    this.push('user_orders', o.ticker, { type: 'user_order', msg: this.orderJson(o) });
  }

  private orderJson(o: KOrder): Record<string, unknown> {
    return {
      order_id: o.id, user_id: uuidFromName('sim-kalshi', `user:${this.o.keyId}`), client_order_id: o.clientOrderId, ticker: o.ticker,
      side: 'yes', action: o.bookSide === 'bid' ? 'buy' : 'sell', outcome_side: 'yes', book_side: o.bookSide, is_yes: true, type: 'limit', status: o.status,
      yes_price_dollars: ticksToDollars(o.priceTicks, this.priceScale), no_price_dollars: ticksToDollars(this.one - o.priceTicks, this.priceScale),
      fill_count_fp: lotsToCount(o.filledLots), remaining_count_fp: lotsToCount(o.status === 'resting' ? o.initialLots - o.filledLots : 0), initial_count_fp: lotsToCount(o.initialLots),
      taker_fill_cost_dollars: formatDecimal(o.takerCostMicros, 6), maker_fill_cost_dollars: formatDecimal(o.makerCostMicros, 6),
      taker_fees_dollars: formatDecimal(o.takerFeesMicros, 6), maker_fees_dollars: formatDecimal(o.makerFeesMicros, 6),
      expiration_time: null, created_time: iso(o.createdMs), created_ts_ms: o.createdMs, last_update_time: iso(o.updatedMs),
      self_trade_prevention_type: 'taker_at_cross', order_group_id: null, cancel_order_on_pause: false, subaccount_number: 0,
    };
  }
}
