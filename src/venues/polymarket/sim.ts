/**
 * A simulated Polymarket CLOB on loopback (`tapedeck sim-venue polymarket`), speaking the real routes and
 * message shapes, checking the real authentication, matching with the kernel's simulated venue.
 *
 *   L1 (EIP-712 ClobAuth)   POST /auth/api-key, GET /auth/derive-api-key → {apiKey, secret, passphrase}
 *   public                  GET /book?token_id= (names the token's market), GET /markets/{condition_id} (its tokens)
 *   L2 (HMAC) on every other route (the headers of auth.ts; a wrong key, passphrase, signature or a
 *   timestamp more than 60 s off is 401 "Unauthorized/Invalid api key"):
 *     POST   /order            {order, owner, orderType GTC|GTD|FOK|FAK, postOnly?} → {success, errorMsg, orderID, status, ...}
 *     DELETE /order            {orderID} → {canceled: [...], not_canceled: {id: reason}}
 *     DELETE /cancel-all       → the same shape, for every open order of the account
 *     GET    /data/order/{hash}
 *     GET    /data/orders      ?id=&market=&asset_id=&next_cursor=   open orders, pages of PAGE, last cursor "LTE="
 *     GET    /data/trades      ?id=&market=&asset_id=&maker_address=&next_cursor=   the account's trades, same paging
 *   WS /ws/market  {assets_ids, type: "market"} → book messages (a full book per token at each step; with a
 *                  capture, a book per token on subscribing, then the recorded frames as recorded)
 *   WS /ws/user    {auth: {apiKey, secret, passphrase}, markets, type: "user"} → order (PLACEMENT, UPDATE,
 *                  CANCELLATION) and trade messages; a trade is sent again at each status: MATCHED, then
 *                  MINED, then CONFIRMED (or FAILED with the `fail-trade` fault)
 *   GET /_sim/orders, /_sim/fills, /_sim/stats (the venue's truth, for tests); POST /_sim/faults {spec?, once?}
 *
 * Every posted order is checked as the exchange would (wire.ts): its struct is the version this exchange
 * takes, its signer is the API key's address, and the signer recovered with ethers from the signature under
 * this exchange's EIP-712 domain is that signer. A refused order gets 400 {error: reason} with the venue's
 * words, and is recorded in /_sim/orders with the reason. The hash is the order's id: posting the same
 * signed order twice is refused ("order already exists") and marked `duplicate` in /_sim/orders.
 *
 * Without a capture the market is synthetic (common/synthetic-binary.ts): one binary market, its YES and NO
 * tokens, books moving every `stepMs`; both books feed the kernel's simulated venue (fills of resting
 * orders when the book moves through them, taker fills against displayed liquidity). The counterparties
 * are the simulator's own (owner "sim-counterparty").
 *
 * With a capture (`capture`, read and checked line by line by capture.ts): its market and its two tokens
 * (first to appear = YES) replace the synthetic ones; one recorded frame per step, played once (the book then
 * stays as the recording left it): book and price_change set the token's levels, which go into the kernel's
 * simulated venue as a book snapshot; tick_size_change sets the market's tick (orders and /markets follow it);
 * last_trade_price is a trade print for the kernel (it fills resting orders at or through its price, after the
 * displayed queue ahead). Every frame goes to the market subscribers of its tokens as recorded.
 *
 * Faults (`--faults name:p[:ms]`): lose-ack (a POST/DELETE order is done, its answer lost), 5xx (refused,
 * not done), drop (every WebSocket dropped, drawn once per step), fail-trade (a trade goes MATCHED → FAILED
 * on chain: the simulator's fill is marked FAILED and no longer counts).
 */
import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal } from '../../../domain/core/fixed.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, step, stepMarket, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { wallClockNs } from '../common/clock.js';
import { Faults, SimServer, type SimRequest, type SimResponse } from '../common/sim-server.js';
import { SyntheticBinaryMarket, type BinaryBook } from '../common/synthetic-binary.js';
import { recoverClobAuthSigner, verifyL2, type ApiCreds, type L1Headers, type L2Headers } from './auth.js';
import { PolymarketCredentials } from './credentials.js';
import { POLYMARKET, PRICE_SCALE, QTY_SCALE, polymarketInstrumentId } from './parse.js';
import { exchangeDomain, orderHash, type OrderVersion } from './signing.js';
import { checkWireOrder } from './wire.js';
import { loadPolymarketCapture, type CaptureFrame, type PolymarketCapture } from './capture.js';

const FAULTS = { 'lose-ack': 0, '5xx': 0, drop: 0, 'fail-trade': 0 } as const;
const PAGE = 50;
const END_CURSOR = 'LTE=';
const ONE = 10 ** PRICE_SCALE;
const TICK = 100; // 0.01
const MAX_RECORDS = 1_000_000;

export interface SimPolymarketOptions {
  /** The account: its key signs orders; its API creds are derived from it unless given. */
  credentials: PolymarketCredentials;
  port?: number;
  chainId?: 137 | 80002;
  /** The order version this exchange takes (1: CTF Exchange v1; 2 or 3: CLOB v2 exchanges). */
  orderVersion?: OrderVersion;
  negRisk?: boolean;
  seed?: number;
  /** Wall ms between steps of the synthetic market (default 100). */
  stepMs?: number;
  /** Wall ms between a trade's statuses (MATCHED → MINED → CONFIRMED; default 150). */
  settleMs?: number;
  faults?: string;
  /** Level sizes of the synthetic book: 1 to 4 times this many shares (default 4). */
  levelShares?: number;
  /** Recorded market-channel frames (capture.ts) that replace the synthetic market: one played per step, once. */
  capture?: string;
  /** With a capture: hold it at its start until the first market-channel subscription. */
  startOnSubscribe?: boolean;
}

export interface SimOrderRecord {
  orderID: string;
  tokenId: string;
  side: 'BUY' | 'SELL';
  price: string;
  original_size: string;
  size_matched: string;
  status: 'LIVE' | 'MATCHED' | 'CANCELED' | 'REFUSED';
  version: number;
  signer: string;
  /** The venue's reason when refused. */
  error?: string;
  duplicate?: boolean;
}

export interface SimFillRecord {
  tradeId: string;
  orderID: string;
  tokenId: string;
  side: 'BUY' | 'SELL';
  price: string;
  size: string;
  liquidity: 'maker' | 'taker';
  status: 'MATCHED' | 'MINED' | 'CONFIRMED' | 'FAILED';
}

interface POrder {
  hash: string;
  token: string;
  instrument: string;
  outcome: 'Yes' | 'No';
  side: 'BUY' | 'SELL';
  priceTicks: number;
  originalLots: number;
  matchedLots: number;
  status: 'LIVE' | 'MATCHED' | 'CANCELED';
  orderType: string;
  createdS: number;
  trades: string[];
  record: SimOrderRecord;
}

interface PTrade {
  id: string;
  order: POrder;
  priceTicks: number;
  qtyLots: number;
  liquidity: 'maker' | 'taker';
  status: SimFillRecord['status'];
  matchS: number;
  lastUpdateS: number;
  counterparty: string;
  record: SimFillRecord;
}

class PmError extends Error {
  constructor(readonly status: number, msg: string) {
    super(msg);
  }
}

const dec = (m: number | bigint, scale: number): string => {
  const t = formatDecimal(m, scale);
  return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
};
const hex32 = (text: string): string => `0x${createHash('sha256').update(text).digest('hex')}`;
/** A decimal token id (Polymarket's are 256-bit integers written in decimal). */
const tokenIdOf = (text: string): string => BigInt(hex32(text)).toString();

export class SimPolymarket {
  readonly market: string;
  readonly tokens: { yes: string; no: string };
  readonly orderLog: SimOrderRecord[] = [];
  readonly fillLog: SimFillRecord[] = [];
  readonly counters = { requests: 0, authFailures: 0, refusedOrders: 0, steps: 0 };
  private readonly venue: SimVenueState;
  private readonly walk: SyntheticBinaryMarket;
  private readonly capture: PolymarketCapture | null;
  private captureAt = 0;
  /** With a capture: each token's levels (price ticks → lots), as the recording left them. */
  private readonly levels = new Map<string, { bids: Map<number, number>; asks: Map<number, number> }>();
  private tickTicks = TICK;
  private readonly orders = new Map<string, POrder>();
  private readonly trades: PTrade[] = [];
  private readonly api: ApiCreds;
  private readonly address: string;
  private readonly faults: Faults;
  private readonly out: VenueReport[] = [];
  private readonly marketSockets = new Map<WebSocket, Set<string>>();
  private readonly userSockets = new Set<WebSocket>();
  private books: { yes: BinaryBook; no: BinaryBook } = { yes: { bids: [], asks: [] }, no: { bids: [], asks: [] } };
  private server: SimServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextTrade = 1;
  private closed = false;

  private constructor(private readonly o: SimPolymarketOptions) {
    const seed = o.seed ?? 1;
    this.capture = o.capture !== undefined ? loadPolymarketCapture(o.capture) : null;
    this.market = this.capture?.market ?? hex32(`tapedeck-sim-polymarket/market/${seed}`);
    this.tokens = this.capture?.tokens ?? { yes: tokenIdOf(`${this.market}/YES`), no: tokenIdOf(`${this.market}/NO`) };
    for (const t of [this.tokens.yes, this.tokens.no]) this.levels.set(t, { bids: new Map(), asks: new Map() });
    this.address = o.credentials.address;
    this.api = o.credentials.apiCreds() ?? deriveApiCreds(o.credentials);
    this.faults = new Faults(FAULTS, o.faults, seed);
    const instruments: NonNullable<SimVenueConfigInput['instruments']> = {};
    for (const t of [this.tokens.yes, this.tokens.no]) instruments[polymarketInstrumentId(t)] = { tickSizeTicks: TICK, lotSizeLots: 10_000, quoteCurrency: 'USDC' };
    this.venue = initialState({ venue: POLYMARKET, latency: { submitNs: 0n, ackNs: 0n, cancelNs: 0n }, fees: { makerBps: '0', takerBps: '0' }, instruments, fillOnBookCross: true, seed } satisfies SimVenueConfigInput);
    this.walk = new SyntheticBinaryMarket({ seed, payoutTicks: ONE, tickTicks: TICK, sizeLots: (o.levelShares ?? 4) * 10 ** QTY_SCALE });
  }

  static async start(o: SimPolymarketOptions): Promise<SimPolymarket> {
    const sim = new SimPolymarket(o);
    if (!(sim.capture !== null && o.startOnSubscribe === true)) sim.stepMarket();
    sim.server = await SimServer.start({ port: o.port ?? 0, http: (req) => sim.onHttp(req), ws: (ws, url) => sim.onWs(ws, url) });
    if (!(sim.capture !== null && o.startOnSubscribe === true)) sim.schedule();
    return sim;
  }

  get port(): number {
    return this.server!.port;
  }

  /** The first JSON line of `tapedeck sim-venue polymarket`: where it listens and what it trades. */
  get info(): { rest: string; ws: string; marketWs: string; userWs: string; market: string; tokens: { yes: string; no: string }; chainId: number; orderVersion: number } {
    const u = this.server!.urls;
    return { ...u, marketWs: `${u.ws}/ws/market`, userWs: `${u.ws}/ws/user`, market: this.market, tokens: this.tokens, chainId: this.chainId, orderVersion: this.version };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.server?.close();
  }

  private get chainId(): 137 | 80002 {
    return this.o.chainId ?? 137;
  }

  private get version(): OrderVersion {
    return this.o.orderVersion ?? 1;
  }

  private nowS(): number {
    return Math.floor(Date.now() / 1000);
  }

  // ---------- the synthetic market ----------

  private schedule(): void {
    if (this.closed || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.capture !== null && this.captureAt >= this.capture.frames.length) return;
      this.stepMarket();
      if (this.faults.hit('drop') !== null) this.server?.dropWebsockets();
      this.schedule();
    }, this.o.stepMs ?? 100);
  }

  private stepMarket(): void {
    if (this.capture !== null) return this.playFrame();
    this.counters.steps++;
    const s = this.walk.step();
    this.books = { yes: s.yes, no: s.no };
    const now = wallClockNs();
    for (const [token, book] of [[this.tokens.yes, s.yes], [this.tokens.no, s.no]] as const) {
      const ev = {
        type: 'BookSnapshotted', eventTimeNs: now,
        data: { venue: POLYMARKET, instrument: polymarketInstrumentId(token), bids: book.bids, asks: book.asks, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE },
      } as unknown as TimedEvent;
      this.out.length = 0;
      stepMarket(this.venue, ev, this.out);
      this.applyReports(this.out.splice(0));
      this.broadcastBook(token, book);
    }
  }

  // ---------- a recorded market (capture.ts) ----------

  /** Plays the next recorded frame: its books into the kernel's simulated venue, its messages re-sent as recorded. */
  private playFrame(): void {
    const frame = this.capture!.frames[this.captureAt++];
    if (frame === undefined) return;
    this.counters.steps++;
    const touched = new Set<string>();
    for (const m of frame.messages) {
      if (m.kind === 'book') {
        this.levels.set(m.token, { bids: new Map(m.bids), asks: new Map(m.asks) });
        touched.add(m.token);
      } else if (m.kind === 'changes') {
        for (const c of m.changes) {
          const l = this.levels.get(c.token)!;
          const side = c.side === 'BUY' ? l.bids : l.asks;
          if (c.lots === 0) side.delete(c.priceTicks);
          else side.set(c.priceTicks, c.lots);
          touched.add(c.token);
        }
      } else if (m.kind === 'tick') {
        this.tickTicks = m.tickTicks;
        for (const t of [this.tokens.yes, this.tokens.no]) {
          const id = polymarketInstrumentId(t);
          const rules = this.venue.config.instruments.get(id);
          if (rules !== undefined) this.venue.config.instruments.set(id, { ...rules, tickSizeTicks: m.tickTicks });
        }
      }
    }
    const now = wallClockNs();
    for (const token of touched) {
      const l = this.levels.get(token)!;
      const book: BinaryBook = { bids: [...l.bids].sort((a, b) => b[0] - a[0]), asks: [...l.asks].sort((a, b) => a[0] - b[0]) };
      if (token === this.tokens.yes) this.books.yes = book;
      else this.books.no = book;
      const ev = {
        type: 'BookSnapshotted', eventTimeNs: now,
        data: { venue: POLYMARKET, instrument: polymarketInstrumentId(token), bids: book.bids, asks: book.asks, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE },
      } as unknown as TimedEvent;
      this.out.length = 0;
      stepMarket(this.venue, ev, this.out);
      this.applyReports(this.out.splice(0));
    }
    // A recorded print fills resting orders at its price (after the displayed queue ahead) or through it.
    frame.messages.forEach((m, k) => {
      if (m.kind !== 'trade') return;
      const ev = {
        type: 'TradeReported', eventTimeNs: now,
        data: {
          venue: POLYMARKET, instrument: polymarketInstrumentId(m.token), tradeId: `${m.timestamp}:${this.captureAt}:${k}`, priceTicks: m.priceTicks, qtyLots: m.lots,
          priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, aggressor: m.aggressor,
        },
      } as unknown as TimedEvent;
      this.out.length = 0;
      stepMarket(this.venue, ev, this.out);
      this.applyReports(this.out.splice(0));
    });
    this.republish(frame);
  }

  /** The recorded frame to each market subscriber, as recorded: the messages about the tokens it follows. */
  private republish(frame: CaptureFrame): void {
    for (const [ws, assets] of this.marketSockets) {
      const mine = frame.messages.filter((m) => (m.kind === 'changes' ? m.tokens : [m.token]).some((t) => assets.has(t))).map((m) => m.raw);
      if (mine.length === 0) continue;
      ws.send(JSON.stringify(frame.array ? mine : mine[0]));
    }
  }

  private bookMessage(token: string, book: BinaryBook): string {
    // Polymarket sends each side worst → best (the recorded message): the best level is the last element.
    const side = (levels: BinaryBook['bids']) => [...levels].reverse().map(([p, q]) => ({ price: dec(p, PRICE_SCALE), size: dec(q, QTY_SCALE) }));
    return JSON.stringify({
      event_type: 'book', asset_id: token, market: this.market, bids: side(book.bids), asks: side(book.asks),
      timestamp: String(Date.now()), hash: hex32(`${token}/${Date.now()}`).slice(0, 42),
    });
  }

  private broadcastBook(token: string, book: BinaryBook): void {
    let text: string | null = null;
    for (const [ws, assets] of this.marketSockets) {
      if (!assets.has(token)) continue;
      text ??= this.bookMessage(token, book);
      ws.send(text);
    }
  }

  // ---------- WebSocket ----------

  private onWs(ws: WebSocket, url: URL): void {
    if (url.pathname === '/ws/market') {
      ws.on('message', (m) => {
        const text = m.toString();
        if (text === 'PING') return ws.send('PONG');
        let msg: { assets_ids?: unknown; type?: unknown; operation?: unknown };
        try {
          msg = JSON.parse(text) as typeof msg;
        } catch {
          return ws.close(1003, 'invalid json');
        }
        if (!Array.isArray(msg.assets_ids)) return ws.close(1008, 'assets_ids required');
        const set = this.marketSockets.get(ws) ?? new Set<string>();
        for (const a of msg.assets_ids) {
          if (typeof a !== 'string') continue;
          if (msg.operation === 'unsubscribe') set.delete(a);
          else set.add(a);
        }
        this.marketSockets.set(ws, set);
        if (this.capture !== null && this.o.startOnSubscribe === true && this.captureAt === 0 && this.timer === null && !this.closed) {
          setImmediate(() => {
            if (this.captureAt === 0 && !this.closed) {
              this.stepMarket();
              this.schedule();
            }
          });
        }
        for (const t of msg.assets_ids) {
          if (t === this.tokens.yes) ws.send(this.bookMessage(t, this.books.yes));
          if (t === this.tokens.no) ws.send(this.bookMessage(t, this.books.no));
        }
      });
      ws.on('close', () => this.marketSockets.delete(ws));
      return;
    }
    if (url.pathname === '/ws/user') {
      ws.on('message', (m) => {
        const text = m.toString();
        if (text === 'PING') return ws.send('PONG');
        let msg: { auth?: { apiKey?: unknown; secret?: unknown; passphrase?: unknown }; type?: unknown };
        try {
          msg = JSON.parse(text) as typeof msg;
        } catch {
          return ws.close(1003, 'invalid json');
        }
        const a = msg.auth;
        if (a?.apiKey !== this.api.key || a.secret !== this.api.secret || a.passphrase !== this.api.passphrase) {
          this.counters.authFailures++;
          return ws.close(1008, 'Unauthorized/Invalid api key');
        }
        this.userSockets.add(ws);
      });
      ws.on('close', () => this.userSockets.delete(ws));
      return;
    }
    ws.close(1008, `no channel at ${url.pathname}`);
  }

  private pushUser(message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    for (const ws of this.userSockets) ws.send(text);
  }

  // ---------- HTTP ----------

  private async onHttp(req: SimRequest): Promise<SimResponse> {
    this.counters.requests++;
    try {
      if (req.path.startsWith('/_sim/')) return this.simRoute(req);
      if (req.path === '/auth/api-key' || req.path === '/auth/derive-api-key') return { status: 200, body: this.authRoute(req) };
      if (req.path === '/' || req.path === '/time') return { status: 200, body: req.path === '/time' ? this.nowS() : 'OK' };
      if (req.method === 'GET' && (req.path === '/book' || req.path.startsWith('/markets/'))) return { status: 200, body: this.publicRoute(req) };
      this.checkL2(req);
      if (this.faults.hit('5xx') !== null) return { status: 503, body: { error: 'service unavailable' } };
      const result = this.route(req);
      const mutating = (req.method === 'POST' && req.path === '/order') || (req.method === 'DELETE' && (req.path === '/order' || req.path === '/cancel-all'));
      if (mutating && this.faults.hit('lose-ack') !== null) return { destroy: true };
      return { status: 200, body: result };
    } catch (e) {
      if (e instanceof PmError) return { status: e.status, body: { error: e.message } };
      if (e instanceof TapedeckError) return { status: 400, body: { error: e.message } };
      throw e;
    }
  }

  private authRoute(req: SimRequest): unknown {
    if (!((req.method === 'POST' && req.path === '/auth/api-key') || (req.method === 'GET' && req.path === '/auth/derive-api-key'))) throw new PmError(405, 'method not allowed');
    const h = (n: string): string => String(req.headers[n.toLowerCase()] ?? '');
    const headers: L1Headers = { POLY_ADDRESS: h('POLY_ADDRESS'), POLY_SIGNATURE: h('POLY_SIGNATURE'), POLY_TIMESTAMP: h('POLY_TIMESTAMP'), POLY_NONCE: h('POLY_NONCE') || '0' };
    const signer = recoverClobAuthSigner(this.chainId, headers);
    if (signer === null || signer.toLowerCase() !== headers.POLY_ADDRESS.toLowerCase() || signer.toLowerCase() !== this.address.toLowerCase()) {
      this.counters.authFailures++;
      throw new PmError(401, 'Invalid L1 Request headers');
    }
    return { apiKey: this.api.key, secret: this.api.secret, passphrase: this.api.passphrase };
  }

  /** Public market routes: a token's book (which names its market) and a market's tokens. */
  private publicRoute(req: SimRequest): unknown {
    if (req.path === '/book') {
      const token = req.query.get('token_id') ?? '';
      const book = token === this.tokens.yes ? this.books.yes : token === this.tokens.no ? this.books.no : null;
      if (book === null) throw new PmError(404, 'No orderbook exists for the requested token id');
      return JSON.parse(this.bookMessage(token, book)) as unknown;
    }
    if (req.path.slice('/markets/'.length).toLowerCase() !== this.market) throw new PmError(404, 'market not found');
    return {
      condition_id: this.market, active: true, closed: false, accepting_orders: true, minimum_tick_size: this.tickTicks / ONE, minimum_order_size: 5, neg_risk: this.o.negRisk ?? false,
      tokens: [{ token_id: this.tokens.yes, outcome: 'Yes' }, { token_id: this.tokens.no, outcome: 'No' }],
    };
  }

  private checkL2(req: SimRequest): void {
    const h = (n: string): string => String(req.headers[n.toLowerCase()] ?? '');
    const headers: L2Headers = { POLY_ADDRESS: h('POLY_ADDRESS'), POLY_SIGNATURE: h('POLY_SIGNATURE'), POLY_TIMESTAMP: h('POLY_TIMESTAMP'), POLY_API_KEY: h('POLY_API_KEY'), POLY_PASSPHRASE: h('POLY_PASSPHRASE') };
    const ts = Number(headers.POLY_TIMESTAMP);
    const ok = headers.POLY_ADDRESS.toLowerCase() === this.address.toLowerCase() && Number.isInteger(ts) && Math.abs(ts - this.nowS()) <= 60
      && verifyL2(headers, this.api, req.method, req.path, req.body === '' ? undefined : req.body);
    if (!ok) {
      this.counters.authFailures++;
      throw new PmError(401, 'Unauthorized/Invalid api key');
    }
  }

  private route(req: SimRequest): unknown {
    const key = `${req.method} ${req.path}`;
    if (key === 'POST /order') return this.postOrder(req.body);
    if (key === 'DELETE /order') {
      const id = (parseBody(req.body) as { orderID?: unknown }).orderID;
      if (typeof id !== 'string') throw new PmError(400, 'invalid orderID');
      return this.cancel([id.toLowerCase()]);
    }
    if (key === 'DELETE /cancel-all') return this.cancel([...this.orders.values()].filter((o) => o.status === 'LIVE').map((o) => o.hash));
    if (req.method === 'GET' && req.path.startsWith('/data/order/')) {
      const o = this.orders.get(req.path.slice('/data/order/'.length).toLowerCase());
      if (o === undefined) throw new PmError(404, 'order not found');
      return this.orderJson(o);
    }
    if (key === 'GET /data/orders') {
      const q = req.query;
      const list = [...this.orders.values()].filter((o) => o.status === 'LIVE' && match(q, 'id', o.hash) && match(q, 'market', this.market) && match(q, 'asset_id', o.token));
      return page(list.map((o) => this.orderJson(o)), q.get('next_cursor'));
    }
    if (key === 'GET /data/trades') {
      const q = req.query;
      const list = this.trades.filter((t) => match(q, 'id', t.id) && match(q, 'market', this.market) && match(q, 'asset_id', t.order.token) && match(q, 'maker_address', this.address));
      return page(list.map((t) => this.tradeJson(t)), q.get('next_cursor'));
    }
    throw new PmError(404, `the simulated Polymarket has no ${req.method} ${req.path}`);
  }

  private simRoute(req: SimRequest): SimResponse {
    if (req.method === 'GET' && req.path === '/_sim/orders') return { status: 200, body: this.orderLog };
    if (req.method === 'GET' && req.path === '/_sim/fills') return { status: 200, body: this.fillLog };
    if (req.method === 'GET' && req.path === '/_sim/stats') return { status: 200, body: { ...this.counters, faults: this.faults.counts, open: [...this.orders.values()].filter((o) => o.status === 'LIVE').length } };
    if (req.method === 'POST' && req.path === '/_sim/faults') {
      const j = parseBody(req.body || '{}') as { spec?: string; once?: string[] };
      this.faults.set(j.spec, j.once ?? []);
      return { status: 200, body: { ok: true } };
    }
    throw new PmError(404, `no route ${req.method} ${req.path}`);
  }

  // ---------- orders ----------

  private postOrder(body: string): unknown {
    const b = parseBody(body) as { order?: unknown; owner?: unknown; orderType?: unknown; postOnly?: unknown };
    if (b.owner !== this.api.key) throw new PmError(400, 'the order owner has to be the owner of the API KEY');
    const orderType = b.orderType ?? 'GTC';
    if (orderType !== 'GTC' && orderType !== 'GTD' && orderType !== 'FOK' && orderType !== 'FAK') throw new PmError(400, `invalid order type ${JSON.stringify(orderType)}`);
    const raw = b.order as Record<string, unknown> | undefined;
    const domain = exchangeDomain(this.chainId, this.version, this.o.negRisk ?? false);
    const check = checkWireOrder(raw, domain, this.address);
    const token = typeof raw?.tokenId === 'string' ? raw.tokenId : '';
    const side = raw?.side === 'SELL' ? 'SELL' : 'BUY';
    const refuse = (reason: string, hash = ''): never => {
      this.counters.refusedOrders++;
      this.remember({ orderID: hash, tokenId: token, side, price: '0', original_size: '0', size_matched: '0', status: 'REFUSED', version: Number(domain.version), signer: String(raw?.signer ?? ''), error: reason });
      throw new PmError(400, reason);
    };
    if (!check.ok) return refuse(check.reason);
    const hash = orderHash(domain, check.struct).toLowerCase();
    if (this.orders.has(hash)) {
      this.remember({ ...this.orders.get(hash)!.record, duplicate: true });
      return refuse('order already exists', hash);
    }
    const outcome = token === this.tokens.yes ? 'Yes' : token === this.tokens.no ? 'No' : null;
    if (outcome === null) return refuse('invalid token id', hash);
    const maker = BigInt(check.struct.order.makerAmount);
    const taker = BigInt(check.struct.order.takerAmount);
    const [usdc, shares] = side === 'BUY' ? [maker, taker] : [taker, maker];
    if (shares <= 0n || (usdc * BigInt(ONE)) % shares !== 0n) return refuse('invalid amounts: the price is not on the tick size', hash);
    const priceTicks = Number((usdc * BigInt(ONE)) / shares);
    const tick = this.tickTicks;
    if (priceTicks % tick !== 0 || priceTicks < tick || priceTicks > ONE - tick) return refuse(`invalid price (${dec(priceTicks, PRICE_SCALE)}), min: ${dec(tick, PRICE_SCALE)} - max: ${dec(ONE - tick, PRICE_SCALE)}`, hash);
    if (shares > BigInt(Number.MAX_SAFE_INTEGER)) return refuse('invalid amounts', hash);
    const qtyLots = Number(shares);
    const record: SimOrderRecord = {
      orderID: hash, tokenId: token, side, price: dec(priceTicks, PRICE_SCALE), original_size: dec(qtyLots, QTY_SCALE), size_matched: '0', status: 'LIVE',
      version: check.version, signer: check.signer,
    };
    this.remember(record);
    const o: POrder = {
      hash, token, instrument: polymarketInstrumentId(token), outcome, side, priceTicks, originalLots: qtyLots, matchedLots: 0,
      status: 'LIVE', orderType: String(orderType), createdS: this.nowS(), trades: [], record,
    };
    this.orders.set(hash, o);
    const command: VenueCommand = {
      kind: 'SubmitOrder', orderId: hash, venue: POLYMARKET, instrument: o.instrument, side: side === 'BUY' ? 'buy' : 'sell', orderType: 'limit',
      priceTicks, qtyLots, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE,
      timeInForce: orderType === 'FOK' ? 'FOK' : orderType === 'FAK' ? 'IOC' : 'GTC', postOnly: b.postOnly === true, reduceOnly: false,
    };
    this.out.length = 0;
    step(this.venue, { kind: 'command', command, sentNs: wallClockNs() }, this.out);
    const reports = this.out.splice(0);
    const rejected = reports.find((r) => r.type === 'OrderRejected' && r.data.orderId === hash);
    if (rejected) {
      this.orders.delete(hash);
      record.status = 'REFUSED';
      record.error = b.postOnly === true ? 'invalid post-only order: order crosses book' : `order couldn't be fully filled`;
      this.counters.refusedOrders++;
      this.applyReports(reports.filter((r) => r !== rejected));
      throw new PmError(400, record.error);
    }
    this.applyReports(reports);
    return {
      success: true, errorMsg: '', orderID: hash, transactionsHashes: [], status: o.status === 'MATCHED' ? 'matched' : o.status === 'CANCELED' ? 'unmatched' : 'live',
      takingAmount: '', makingAmount: '',
    };
  }

  private cancel(ids: string[]): { canceled: string[]; not_canceled: Record<string, string> } {
    const canceled: string[] = [];
    const notCanceled: Record<string, string> = {};
    for (const id of ids) {
      const o = this.orders.get(id);
      if (o === undefined || o.status !== 'LIVE') {
        notCanceled[id] = o === undefined ? 'order not found' : "order can't be found - already canceled or matched";
        continue;
      }
      this.out.length = 0;
      step(this.venue, { kind: 'command', command: { kind: 'CancelOrder', orderId: id, venue: POLYMARKET, instrument: o.instrument }, sentNs: wallClockNs() }, this.out);
      this.applyReports(this.out.splice(0));
      if ((o.status as string) === 'CANCELED') canceled.push(id);
      else notCanceled[id] = "order can't be found - already canceled or matched";
    }
    return { canceled, not_canceled: notCanceled };
  }

  private remember(r: SimOrderRecord): void {
    if (this.orderLog.length < MAX_RECORDS) this.orderLog.push(r);
  }

  // ---------- the simulated venue's reports → Polymarket state and messages ----------

  private applyReports(reports: VenueReport[]): void {
    for (const r of reports) {
      const o = this.orders.get(r.data.orderId);
      if (o === undefined) continue;
      switch (r.type) {
        case 'OrderAccepted':
          this.pushOrder(o, 'PLACEMENT');
          break;
        case 'OrderFilled':
          this.fill(o, r.data.priceTicks, r.data.qtyLots, r.data.liquidity === 'maker' ? 'maker' : 'taker');
          break;
        case 'OrderCanceled':
        case 'OrderExpired':
          o.status = o.matchedLots >= o.originalLots ? 'MATCHED' : 'CANCELED';
          o.record.status = o.status;
          this.pushOrder(o, 'CANCELLATION');
          break;
        default:
          break;
      }
    }
  }

  private fill(o: POrder, priceTicks: number, qtyLots: number, liquidity: 'maker' | 'taker'): void {
    o.matchedLots += qtyLots;
    if (o.matchedLots >= o.originalLots) o.status = 'MATCHED';
    o.record.size_matched = dec(o.matchedLots, QTY_SCALE);
    o.record.status = o.status;
    const n = this.nextTrade++;
    const id = `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
    const record: SimFillRecord = { tradeId: id, orderID: o.hash, tokenId: o.token, side: o.side, price: dec(priceTicks, PRICE_SCALE), size: dec(qtyLots, QTY_SCALE), liquidity, status: 'MATCHED' };
    if (this.fillLog.length < MAX_RECORDS) this.fillLog.push(record);
    const t: PTrade = { id, order: o, priceTicks, qtyLots, liquidity, status: 'MATCHED', matchS: this.nowS(), lastUpdateS: this.nowS(), counterparty: hex32(`counterparty/${n}`), record };
    this.trades.push(t);
    o.trades.push(id);
    this.pushOrder(o, 'UPDATE');
    this.pushTrade(t);
    const fails = this.faults.hit('fail-trade') !== null;
    const settle = this.o.settleMs ?? 150;
    const next = (status: PTrade['status'], after: number, then?: () => void): void => {
      setTimeout(() => {
        if (this.closed) return;
        t.status = status;
        t.record.status = status;
        t.lastUpdateS = this.nowS();
        this.pushTrade(t);
        then?.();
      }, after).unref();
    };
    if (fails) next('FAILED', settle);
    else next('MINED', settle, () => next('CONFIRMED', settle));
  }

  private pushOrder(o: POrder, type: 'PLACEMENT' | 'UPDATE' | 'CANCELLATION'): void {
    this.pushUser({ ...this.orderJson(o), event_type: 'order', type, timestamp: String(Date.now()) });
  }

  private pushTrade(t: PTrade): void {
    this.pushUser({ ...this.tradeJson(t), event_type: 'trade', type: 'TRADE', timestamp: String(Date.now()) });
  }

  private orderJson(o: POrder): Record<string, unknown> {
    return {
      id: o.hash, status: o.status, owner: this.api.key, order_owner: this.api.key, maker_address: this.address, market: this.market, asset_id: o.token,
      side: o.side, original_size: dec(o.originalLots, QTY_SCALE), size_matched: dec(o.matchedLots, QTY_SCALE), price: dec(o.priceTicks, PRICE_SCALE),
      associate_trades: o.trades.length === 0 ? null : [...o.trades], outcome: o.outcome, created_at: String(o.createdS), expiration: '0', order_type: o.orderType,
    };
  }

  /** Our trade, as Polymarket lists it to us: as maker our fill is in maker_orders; as taker it is the top level. */
  private tradeJson(t: PTrade): Record<string, unknown> {
    const o = t.order;
    const ours = { order_id: o.hash, owner: this.api.key, maker_address: this.address, matched_amount: dec(t.qtyLots, QTY_SCALE), price: dec(t.priceTicks, PRICE_SCALE), fee_rate_bps: '0', asset_id: o.token, outcome: o.outcome, side: o.side };
    const other = { order_id: t.counterparty, owner: 'sim-counterparty', maker_address: `0x${t.counterparty.slice(2, 42)}`, matched_amount: dec(t.qtyLots, QTY_SCALE), price: dec(t.priceTicks, PRICE_SCALE), fee_rate_bps: '0', asset_id: o.token, outcome: o.outcome, side: o.side === 'BUY' ? 'SELL' : 'BUY' };
    const asMaker = t.liquidity === 'maker';
    return {
      id: t.id, taker_order_id: asMaker ? t.counterparty : o.hash, market: this.market, asset_id: o.token,
      side: asMaker ? other.side : o.side, size: dec(t.qtyLots, QTY_SCALE), fee_rate_bps: '0', price: dec(t.priceTicks, PRICE_SCALE),
      status: t.status, match_time: String(t.matchS), last_update: String(t.lastUpdateS), outcome: o.outcome, bucket_index: 0,
      owner: this.api.key, trade_owner: this.api.key, maker_address: asMaker ? this.address : other.maker_address,
      maker_orders: asMaker ? [ours] : [other], transaction_hash: hex32(`tx/${t.id}`), trader_side: asMaker ? 'MAKER' : 'TAKER',
    };
  }
}

/** API creds derived from the account key (what /auth/derive-api-key answers when none are configured). */
export function deriveApiCreds(c: PolymarketCredentials): ApiCreds {
  const h = createHash('sha256').update(`tapedeck-sim-polymarket/api/${c.privateKey()}`).digest();
  const hexs = h.toString('hex');
  return {
    key: `${hexs.slice(0, 8)}-${hexs.slice(8, 12)}-${hexs.slice(12, 16)}-${hexs.slice(16, 20)}-${hexs.slice(20, 32)}`,
    secret: createHash('sha256').update(h).digest('base64url'),
    passphrase: createHash('sha256').update(Buffer.concat([h, h])).digest('hex').slice(0, 64),
  };
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new PmError(400, 'invalid json body');
  }
}

function match(q: URLSearchParams, key: string, value: string): boolean {
  const want = q.get(key);
  return want === null || want === '' || want.toLowerCase() === value.toLowerCase();
}

/** Cursor pagination as the CLOB does it: base64 offsets, the last page's cursor is "LTE=". */
function page(items: unknown[], cursor: string | null): { data: unknown[]; next_cursor: string; limit: number; count: number } {
  let offset = 0;
  if (cursor !== null && cursor !== '' && cursor !== 'MA==') {
    if (cursor === END_CURSOR) return { data: [], next_cursor: END_CURSOR, limit: PAGE, count: 0 };
    offset = Number(Buffer.from(cursor, 'base64').toString('utf8'));
    if (!Number.isSafeInteger(offset) || offset < 0) throw new PmError(400, 'invalid next_cursor');
  }
  const data = items.slice(offset, offset + PAGE);
  const next = offset + PAGE >= items.length ? END_CURSOR : Buffer.from(String(offset + PAGE)).toString('base64');
  return { data, next_cursor: next, limit: PAGE, count: data.length };
}
