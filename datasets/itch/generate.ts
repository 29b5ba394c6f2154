/**
 * A seeded generator of realistic synthetic ITCH 5.0 days, for benchmarks and large tests. Same seed and
 * options → the same bytes, on every machine (domain/core/prng.ts; no Math.random).
 *
 * Realism, from the real per-type counts of 20191230.BX_ITCH_50 (BX_20191230_COUNTS, from
 * test/fixtures/datasets/itch/real_message_snippets.json): the message mix of the trading phase follows
 * those counts; the day opens with the system event 'O', the stock directory, trading actions, Reg SHO and
 * market-participant messages, one MWCB decline level, then 'S', 'Q' at 09:30, 'M' at 16:00, 'E', 'C'.
 * Orders live like real ones: most adds are deleted soon after (cancels pick recent orders first), some
 * are partly cancelled, replaced (a new ref on the same side) or executed; executions hit the oldest
 * order at the best price of a side; activity is skewed to a few busy symbols.
 *
 * Valid book states: every execute/cancel/delete/replace names a live order with enough shares, and no
 * add or replace crosses the other side (bids stay below the best ask), unless `unknownRefRate` asks for
 * anomalies (executes/cancels/deletes of refs that never existed).
 *
 * Output: BinaryFILE with true length prefixes (as the real Nasdaq files), optionally gzip.
 * Run: node dist/datasets/itch/generate.js --seed 1 --messages 1000000 --out day.itch[.gz]
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { TapedeckError } from '../../domain/core/errors.js';
import { nextFloat, nextInt, nextU32, seedPrng, type PrngState } from '../../domain/core/prng.js';
import { encodeMessageInto } from '../../src/venues/nasdaq/itch/codec.js';
import type { ItchMessage, ItchMessageOf, ItchMessageType } from '../../src/venues/nasdaq/itch/messages.js';

/** Per-type counts of the whole 20191230.BX_ITCH_50 file (RITCH debug/README.md, via real_message_snippets.json). */
export const BX_20191230_COUNTS: Readonly<Record<ItchMessageType, number>> = {
  S: 6, R: 8906, H: 8961, Y: 9013, L: 6171, V: 1, W: 0, K: 0, J: 0, h: 0,
  A: 12210139, F: 45058, E: 578839, C: 2686, X: 348198, D: 11821540, U: 1741672, P: 134385, Q: 0, B: 0, I: 0, N: 2241182, O: 0,
};

/** The types drawn during the trading phase, weighted by BX_20191230_COUNTS unless `mix` overrides. */
const MAIN_TYPES = ['A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'N'] as const;
type MainType = (typeof MAIN_TYPES)[number];

export interface ItchDayOptions {
  seed: number;
  /** Exactly this many messages are written. */
  messages: number;
  /** Distinct stocks (locates 1..symbols). Default 100. */
  symbols?: number;
  /** Fraction (0..1) of trading-phase messages that target an order ref that never existed. Default 0. */
  unknownRefRate?: number;
  /** Add an opening and a closing cross ('Q') per symbol; BX has none, so default false. */
  crossTrades?: boolean;
  /** Override trading-phase weights (relative, any scale). */
  mix?: Partial<Record<MainType, number>>;
}

const NS_PER_SECOND = 1_000_000_000;
const at = (h: number, m: number, s = 0): number => ((h * 60 + m) * 60 + s) * NS_PER_SECOND;
const T_START_OF_MESSAGES = at(3, 5);
const T_DIRECTORY = at(3, 10);
const T_SYSTEM_HOURS = at(4, 0);
const T_MARKET_OPEN = at(9, 30);
const T_MARKET_CLOSE = at(16, 0);
const T_END_OF_SYSTEM_HOURS = at(20, 0);
const T_END_OF_MESSAGES = at(20, 5);

/** One cent at 4 implied decimals. */
const TICK = 100;
const MIN_MID_TICKS = 20;
const MPIDS = ['NITE', 'GSCO', 'MSCO', 'VIRT', 'UBSS', 'CDRG', 'JPMS', 'SUSQ'];
const MAX_FRAMED = 2 + 50;

interface Order {
  ref: number;
  sym: Sym;
  side: 0 | 1;
  price: number;
  shares: number;
  /** Index in the live array (for O(1) random removal). */
  live: number;
}

interface SideBook {
  isBid: boolean;
  /** Distinct prices, best LAST (bids ascending, asks descending). */
  prices: number[];
  /** FIFO of orders per price. */
  levels: Map<number, Order[]>;
}

interface Sym {
  locate: number;
  stock: string;
  midTicks: number;
  books: [SideBook, SideBook];
}

function mutable<T extends ItchMessageType>(messageType: T, fields: Omit<ItchMessageOf<T>, 'messageType' | 'stockLocate' | 'trackingNumber' | 'timestamp'>): ItchMessageOf<T> {
  return { messageType, stockLocate: 0, trackingNumber: 0, timestamp: 0, ...fields } as ItchMessageOf<T>;
}

export class ItchDayGenerator {
  private readonly rng: PrngState;
  private readonly symbols: Sym[] = [];
  private readonly orders = new Map<number, Order>();
  private readonly live: Order[] = [];
  private readonly cumulative: number[] = [];
  private nextRef = 1;
  private nextMatch = 1;
  private nextUnknownRef = 2 ** 40;
  private timestampNs = 0;
  private chunk = new Uint8Array(1 << 20);
  private pos = 0;
  /** Full chunks waiting for the consumer of chunks(). */
  private readonly ready: Uint8Array[] = [];
  private emitted = 0;
  /** Per-type counts of what was written. */
  readonly counts: Record<string, number> = {};

  // One reusable record per type: encoding a day allocates nothing per message.
  private readonly mS = mutable('S', { eventCode: 'O' });
  private readonly mR = mutable('R', {
    stock: '', marketCategory: 'Q', financialStatusIndicator: 'N', roundLotSize: 100, roundLotsOnly: 'N', issueClassification: 'C',
    issueSubType: 'Z ', authenticity: 'P', shortSaleThresholdIndicator: 'N', ipoFlag: ' ', luldReferencePriceTier: '1', etpFlag: 'N',
    etpLeverageFactor: 0, inverseIndicator: 'N',
  });
  private readonly mH = mutable('H', { stock: '', tradingState: 'T', reserved: ' ', reason: '    ' });
  private readonly mY = mutable('Y', { stock: '', regShoAction: '0' });
  private readonly mL = mutable('L', { mpid: 'NITE', stock: '', primaryMarketMaker: 'N', marketMakerMode: 'N', marketParticipantState: 'A' });
  private readonly mV = mutable('V', { level1: 0n, level2: 0n, level3: 0n });
  private readonly mA = mutable('A', { orderReferenceNumber: 0n, buySellIndicator: 'B', shares: 0, stock: '', price: 0 });
  private readonly mF = mutable('F', { orderReferenceNumber: 0n, buySellIndicator: 'B', shares: 0, stock: '', price: 0, attribution: 'NITE' });
  private readonly mE = mutable('E', { orderReferenceNumber: 0n, executedShares: 0, matchNumber: 0n });
  private readonly mC = mutable('C', { orderReferenceNumber: 0n, executedShares: 0, matchNumber: 0n, printable: 'Y', executionPrice: 0 });
  private readonly mX = mutable('X', { orderReferenceNumber: 0n, cancelledShares: 0 });
  private readonly mD = mutable('D', { orderReferenceNumber: 0n });
  private readonly mU = mutable('U', { originalOrderReferenceNumber: 0n, newOrderReferenceNumber: 0n, shares: 0, price: 0 });
  private readonly mP = mutable('P', { orderReferenceNumber: 0n, buySellIndicator: 'B', shares: 0, stock: '', price: 0, matchNumber: 0n });
  private readonly mQ = mutable('Q', { shares: 0n, stock: '', crossPrice: 0, matchNumber: 0n, crossType: 'O' });
  private readonly mN = mutable('N', { stock: '', interestFlag: 'N' });

  constructor(private readonly options: ItchDayOptions) {
    const { seed, messages } = options;
    if (!Number.isSafeInteger(seed)) throw new TapedeckError('GEN_OPTION', `seed must be a safe integer, got ${seed}`, { field: 'seed' });
    const n = options.symbols ?? 100;
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TapedeckError('GEN_OPTION', `symbols must be 1..65535, got ${n}`, { field: 'symbols' });
    if (!Number.isSafeInteger(messages) || messages < this.fixedMessages(n)) {
      throw new TapedeckError('GEN_OPTION', `messages must be an integer ≥ ${this.fixedMessages(n)} for ${n} symbols (directory and system events), got ${messages}`, { field: 'messages' });
    }
    const rate = options.unknownRefRate ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new TapedeckError('GEN_OPTION', `unknownRefRate must be in 0..1, got ${rate}`, { field: 'unknownRefRate' });
    this.rng = seedPrng(seed);
    let total = 0;
    for (const t of MAIN_TYPES) {
      total += options.mix?.[t] ?? BX_20191230_COUNTS[t];
      this.cumulative.push(total);
    }
    if (!(total > 0)) throw new TapedeckError('GEN_OPTION', 'the message mix has no positive weight', { field: 'mix' });
    this.makeSymbols(n);
  }

  /** Messages outside the trading-phase draw: S×6, R/H/Y per symbol, L for ~70%, one V, crosses. */
  private fixedMessages(n: number): number {
    return 6 + 3 * n + Math.ceil(n * 0.7) + 1 + (this.options.crossTrades ? 2 * n : 0);
  }

  private rand(): number {
    return nextFloat(this.rng);
  }

  private makeSymbols(n: number): void {
    const seen = new Set<string>();
    for (let locate = 1; locate <= n; locate++) {
      let name = '';
      do {
        const len = 1 + nextInt(this.rng, 4) + (this.rand() < 0.1 ? 1 : 0);
        name = '';
        for (let i = 0; i < len; i++) name += String.fromCharCode(65 + nextInt(this.rng, 26));
      } while (seen.has(name));
      seen.add(name);
      // Log-uniform $2..$400, in whole cents.
      const dollars = 2 * Math.pow(200, this.rand());
      const midTicks = Math.max(MIN_MID_TICKS, Math.round(dollars * 100)) * TICK;
      this.symbols.push({
        locate, stock: name.padEnd(8, ' '), midTicks,
        books: [{ isBid: true, prices: [], levels: new Map() }, { isBid: false, prices: [], levels: new Map() }],
      });
    }
  }

  /** The whole day as chunks (fresh copies, about 1 MiB each). */
  *chunks(): Generator<Uint8Array> {
    const n = this.symbols.length;
    const mainCount = this.options.messages - this.fixedMessages(n);
    // Pre-open: start of messages, stock directory and friends.
    this.timestampNs = T_START_OF_MESSAGES;
    this.systemEvent('O');
    this.timestampNs = T_DIRECTORY;
    for (const s of this.symbols) {
      this.step(1000);
      this.header(this.mR, s.locate);
      this.mR.stock = s.stock;
      this.mR.marketCategory = 'QGSNPAZ'[nextInt(this.rng, 7)]!;
      this.mR.luldReferencePriceTier = s.midTicks >= 300 * TICK ? '1' : '2';
      this.mR.roundLotSize = 100;
      this.emit(this.mR);
    }
    for (const s of this.symbols) {
      this.step(1000);
      this.header(this.mH, s.locate);
      this.mH.stock = s.stock;
      this.emit(this.mH);
    }
    for (const s of this.symbols) {
      this.step(1000);
      this.header(this.mY, s.locate);
      this.mY.stock = s.stock;
      this.mY.regShoAction = this.rand() < 0.02 ? '1' : '0';
      this.emit(this.mY);
    }
    const withMakers = Math.ceil(n * 0.7);
    for (let i = 0; i < withMakers; i++) {
      const s = this.symbols[i]!;
      this.step(1000);
      this.header(this.mL, s.locate);
      this.mL.stock = s.stock;
      this.mL.mpid = MPIDS[nextInt(this.rng, MPIDS.length)]!;
      this.emit(this.mL);
    }
    this.step(1000);
    this.header(this.mV, 0);
    // MWCB levels, Price(8): 8 implied decimals.
    this.mV.level1 = 302_416_700_000_00n;
    this.mV.level2 = 279_666_000_000_00n;
    this.mV.level3 = 260_121_200_000_00n;
    this.emit(this.mV);

    this.timestampNs = T_SYSTEM_HOURS;
    this.systemEvent('S');
    yield* this.drain();
    const meanStepNs = (T_END_OF_SYSTEM_HOURS - T_SYSTEM_HOURS - NS_PER_SECOND) / Math.max(1, mainCount);
    let open = false;
    let closed = false;
    for (let i = 0; i < mainCount; i++) {
      this.step(meanStepNs);
      if (!open && this.timestampNs >= T_MARKET_OPEN) {
        open = true;
        this.marketOpen();
      }
      if (!closed && this.timestampNs >= T_MARKET_CLOSE) {
        closed = true;
        this.marketClose();
      }
      this.tradingMessage();
      if (this.ready.length > 0) yield* this.drain();
    }
    if (!open) {
      this.timestampNs = Math.max(this.timestampNs, T_MARKET_OPEN);
      this.marketOpen();
    }
    if (!closed) {
      this.timestampNs = Math.max(this.timestampNs, T_MARKET_CLOSE);
      this.marketClose();
    }
    this.timestampNs = Math.max(this.timestampNs + 1, T_END_OF_SYSTEM_HOURS);
    this.systemEvent('E');
    this.timestampNs = Math.max(this.timestampNs + 1, T_END_OF_MESSAGES);
    this.systemEvent('C');
    if (this.pos > 0) {
      this.ready.push(this.chunk.slice(0, this.pos));
      this.pos = 0;
    }
    yield* this.drain();
    if (this.emitted !== this.options.messages) throw new Error(`invariant violated: generated ${this.emitted} messages, asked ${this.options.messages}`);
  }

  private *drain(): Generator<Uint8Array> {
    for (const c of this.ready) yield c;
    this.ready.length = 0;
  }

  private marketOpen(): void {
    this.systemEvent('Q');
    if (this.options.crossTrades) this.crosses('O');
  }

  private marketClose(): void {
    if (this.options.crossTrades) this.crosses('C');
    this.systemEvent('M');
  }

  private crosses(crossType: 'O' | 'C'): void {
    for (const s of this.symbols) {
      this.timestampNs += 1000;
      this.header(this.mQ, s.locate);
      this.mQ.stock = s.stock;
      this.mQ.shares = BigInt(100 * (1 + nextInt(this.rng, 500)));
      this.mQ.crossPrice = s.midTicks;
      this.mQ.matchNumber = BigInt(this.nextMatch++);
      this.mQ.crossType = crossType;
      this.emit(this.mQ);
    }
  }

  private systemEvent(code: string): void {
    this.header(this.mS, 0);
    this.mS.eventCode = code;
    this.emit(this.mS);
  }

  /** Exponential inter-arrival with the given mean, at least 1 ns. */
  private step(meanNs: number): void {
    this.timestampNs += 1 + Math.floor(-Math.log(1 - this.rand()) * meanNs);
  }

  private header(m: ItchMessage, locate: number): void {
    m.stockLocate = locate;
    m.trackingNumber = nextInt(this.rng, 4);
    m.timestamp = this.timestampNs;
  }

  private emit(m: ItchMessage): void {
    if (this.pos + MAX_FRAMED > this.chunk.length) {
      this.ready.push(this.chunk.slice(0, this.pos));
      this.pos = 0;
    }
    const len = encodeMessageInto(m, this.chunk, this.pos + 2);
    this.chunk[this.pos] = len >>> 8;
    this.chunk[this.pos + 1] = len & 0xff;
    this.pos += 2 + len;
    this.emitted++;
    this.counts[m.messageType] = (this.counts[m.messageType] ?? 0) + 1;
  }

  /** Zipf-like: a few symbols get most of the activity. */
  private pickSymbol(): Sym {
    const u = this.rand();
    return this.symbols[Math.floor(u * u * u * this.symbols.length)]!;
  }

  private drawType(): MainType {
    const r = this.rand() * this.cumulative[this.cumulative.length - 1]!;
    for (let i = 0; i < MAIN_TYPES.length; i++) if (r < this.cumulative[i]!) return MAIN_TYPES[i]!;
    return 'A';
  }

  private tradingMessage(): void {
    if (this.options.unknownRefRate && this.rand() < this.options.unknownRefRate) {
      this.unknownRefMessage();
      return;
    }
    const t = this.drawType();
    switch (t) {
      case 'A':
      case 'F':
        this.addOrder(t === 'F');
        return;
      case 'D': {
        const o = this.pickRecent();
        if (o === null) break;
        this.header(this.mD, o.sym.locate);
        this.mD.orderReferenceNumber = BigInt(o.ref);
        this.removeOrder(o);
        this.emit(this.mD);
        return;
      }
      case 'X': {
        let o = this.pickRecent();
        for (let tries = 0; o !== null && o.shares < 2 && tries < 4; tries++) o = this.pickRecent();
        if (o === null || o.shares < 2) break;
        const c = 1 + nextInt(this.rng, o.shares - 1);
        this.header(this.mX, o.sym.locate);
        this.mX.orderReferenceNumber = BigInt(o.ref);
        this.mX.cancelledShares = c;
        this.reduceOrder(o, c);
        this.emit(this.mX);
        return;
      }
      case 'U': {
        const o = this.pickRecent();
        if (o === null) break;
        const s = o.sym;
        const side = o.side;
        this.removeOrder(o);
        const price = this.priceFor(s, side);
        const shares = this.sharesDraw();
        const ref = this.newRef();
        this.header(this.mU, s.locate);
        this.mU.originalOrderReferenceNumber = BigInt(o.ref);
        this.mU.newOrderReferenceNumber = BigInt(ref);
        this.mU.shares = shares;
        this.mU.price = price;
        this.insertOrder(ref, s, side, price, shares);
        this.emit(this.mU);
        return;
      }
      case 'E':
      case 'C': {
        const o = this.pickExecution();
        if (o === null) break;
        const full = o.shares < 2 || this.rand() < 0.6;
        const n = full ? o.shares : 1 + nextInt(this.rng, o.shares - 1);
        if (t === 'E') {
          this.header(this.mE, o.sym.locate);
          this.mE.orderReferenceNumber = BigInt(o.ref);
          this.mE.executedShares = n;
          this.mE.matchNumber = BigInt(this.nextMatch++);
        } else {
          this.header(this.mC, o.sym.locate);
          this.mC.orderReferenceNumber = BigInt(o.ref);
          this.mC.executedShares = n;
          this.mC.matchNumber = BigInt(this.nextMatch++);
          this.mC.printable = this.rand() < 0.9 ? 'Y' : 'N';
          this.mC.executionPrice = o.price + (this.rand() < 0.5 ? 0 : o.side === 0 ? -TICK : TICK);
        }
        this.reduceOrder(o, n);
        this.emit(t === 'E' ? this.mE : this.mC);
        return;
      }
      case 'P': {
        const s = this.pickSymbol();
        this.header(this.mP, s.locate);
        this.mP.stock = s.stock;
        this.mP.shares = this.sharesDraw();
        this.mP.price = s.midTicks;
        this.mP.matchNumber = BigInt(this.nextMatch++);
        this.emit(this.mP);
        return;
      }
      case 'N': {
        const s = this.pickSymbol();
        this.header(this.mN, s.locate);
        this.mN.stock = s.stock;
        this.mN.interestFlag = 'BSAN'[nextInt(this.rng, 4)]!;
        this.emit(this.mN);
        return;
      }
    }
    // Nothing live to act on: an add keeps the count exact and the book valid.
    this.addOrder(false);
  }

  private unknownRefMessage(): void {
    const s = this.pickSymbol();
    const ref = BigInt(this.nextUnknownRef++);
    const k = nextInt(this.rng, 3);
    if (k === 0) {
      this.header(this.mE, s.locate);
      this.mE.orderReferenceNumber = ref;
      this.mE.executedShares = 100;
      this.mE.matchNumber = BigInt(this.nextMatch++);
      this.emit(this.mE);
    } else if (k === 1) {
      this.header(this.mX, s.locate);
      this.mX.orderReferenceNumber = ref;
      this.mX.cancelledShares = 100;
      this.emit(this.mX);
    } else {
      this.header(this.mD, s.locate);
      this.mD.orderReferenceNumber = ref;
      this.emit(this.mD);
    }
  }

  private addOrder(withMpid: boolean): void {
    const s = this.pickSymbol();
    if (this.rand() < 0.02) {
      // Drift the reference price a cent; the pricing rule keeps the book uncrossed whatever the drift.
      s.midTicks = Math.max(MIN_MID_TICKS * TICK, s.midTicks + (this.rand() < 0.5 ? -TICK : TICK));
    }
    const side = this.rand() < 0.5 ? 0 : 1;
    const price = this.priceFor(s, side);
    const shares = this.sharesDraw();
    const ref = this.newRef();
    this.insertOrder(ref, s, side, price, shares);
    const m = withMpid ? this.mF : this.mA;
    this.header(m, s.locate);
    m.orderReferenceNumber = BigInt(ref);
    m.buySellIndicator = side === 0 ? 'B' : 'S';
    m.shares = shares;
    m.stock = s.stock;
    m.price = price;
    if (withMpid) this.mF.attribution = MPIDS[nextInt(this.rng, MPIDS.length)]!;
    this.emit(m);
  }

  private newRef(): number {
    const r = this.nextRef;
    this.nextRef += 1 + (nextU32(this.rng) & 3);
    return r;
  }

  /** Mostly round lots, sometimes odd lots, rarely big. */
  private sharesDraw(): number {
    const u = this.rand();
    if (u < 0.15) return 1 + nextInt(this.rng, 99);
    if (u < 0.97) return 100 * (1 + nextInt(this.rng, 10));
    return 100 * (10 + nextInt(this.rng, 200));
  }

  /** A price a few ticks behind the mid, never crossing the other side's best. */
  private priceFor(s: Sym, side: 0 | 1): number {
    let k = 1;
    while (k < 40 && this.rand() < 0.55) k++;
    if (side === 0) {
      let p = s.midTicks - k * TICK;
      const bestAsk = best(s.books[1]);
      if (bestAsk !== null && p >= bestAsk) p = bestAsk - TICK;
      return Math.max(TICK, p);
    }
    let p = s.midTicks + k * TICK;
    const bestBid = best(s.books[0]);
    if (bestBid !== null && p <= bestBid) p = bestBid + TICK;
    return p;
  }

  /** A live order, recent ones first: most cancels come soon after the add. */
  private pickRecent(): Order | null {
    const n = this.live.length;
    if (n === 0) return null;
    const u = this.rand();
    const window = Math.min(n, 64 + (n >>> 4));
    return this.live[n - 1 - Math.floor(u * u * window)]!;
  }

  /** The oldest order at the best price of the side of a random live order. */
  private pickExecution(): Order | null {
    const n = this.live.length;
    if (n === 0) return null;
    const o = this.live[nextInt(this.rng, n)]!;
    const book = o.sym.books[o.side];
    const b = best(book);
    return b === null ? null : book.levels.get(b)![0]!;
  }

  private insertOrder(ref: number, sym: Sym, side: 0 | 1, price: number, shares: number): void {
    const o: Order = { ref, sym, side, price, shares, live: this.live.length };
    this.orders.set(ref, o);
    this.live.push(o);
    const book = sym.books[side];
    let q = book.levels.get(price);
    if (q === undefined) {
      q = [];
      book.levels.set(price, q);
      const p = book.prices;
      let i = p.length;
      // Sorted insert, best last: walk from the top, where new levels usually land.
      while (i > 0 && (book.isBid ? p[i - 1]! > price : p[i - 1]! < price)) i--;
      p.splice(i, 0, price);
    }
    q.push(o);
  }

  private reduceOrder(o: Order, n: number): void {
    o.shares -= n;
    if (o.shares <= 0) this.removeOrder(o);
  }

  private removeOrder(o: Order): void {
    this.orders.delete(o.ref);
    const last = this.live.pop()!;
    if (last !== o) {
      this.live[o.live] = last;
      last.live = o.live;
    }
    const book = o.sym.books[o.side];
    const q = book.levels.get(o.price)!;
    q.splice(q.indexOf(o), 1);
    if (q.length === 0) {
      book.levels.delete(o.price);
      const p = book.prices;
      let i = p.length - 1;
      while (p[i] !== o.price) i--;
      p.splice(i, 1);
    }
  }
}

function best(b: SideBook): number | null {
  const n = b.prices.length;
  return n > 0 ? b.prices[n - 1]! : null;
}

/** The whole day in memory, exactly sized. */
export function generateItchDay(options: ItchDayOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const c of new ItchDayGenerator(options).chunks()) {
    parts.push(c);
    size += c.length;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Writes a day to `file`, gzip when the name ends in .gz. */
export async function writeItchDay(file: string, options: ItchDayOptions): Promise<{ messages: number; bytes: number }> {
  const gen = new ItchDayGenerator(options);
  let bytes = 0;
  const counted = (function* () {
    for (const c of gen.chunks()) {
      bytes += c.length;
      yield c;
    }
  })();
  const out = fs.createWriteStream(file);
  if (file.endsWith('.gz')) await pipeline(Readable.from(counted), zlib.createGzip(), out);
  else await pipeline(Readable.from(counted), out);
  return { messages: options.messages, bytes };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = arg('--out');
  if (out === undefined) {
    process.stderr.write('usage: node dist/datasets/itch/generate.js --out FILE[.gz] [--seed N] [--messages N] [--symbols N]\n');
    process.exitCode = 2;
    return;
  }
  const r = await writeItchDay(out, {
    seed: Number(arg('--seed') ?? 1),
    messages: Number(arg('--messages') ?? 1_000_000),
    symbols: Number(arg('--symbols') ?? 100),
  });
  process.stdout.write(`${JSON.stringify({ file: out, ...r })}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`generate: ${e instanceof TapedeckError ? e.describe() : String(e)}\n`);
    process.exitCode = e instanceof TapedeckError ? 2 : 70;
  });
}
