/**
 * An L3 (order-by-order) book for many instruments at once, keyed by a venue's small instrument number
 * (NASDAQ's stock locate). It knows nothing of ITCH: src/venues/nasdaq/itch/book-listener.ts feeds it.
 * Per instrument: L2 price levels per side (price, shares, order count) derived from the live orders,
 * and counts and volumes of executions, non-cross trades, cross trades and broken trades.
 *
 * Hot path (≥10M messages/s is the aim): orders live in typed arrays (struct of arrays, slots reused
 * through a free list) found through OrderIndex; each side is a sorted ladder of typed arrays with the
 * best level LAST (the convention of domain/market/book.ts), so the BBO is a read and most updates, which
 * happen near the top, move few elements. Nothing is allocated per message except when a structure
 * doubles. Memory follows the live orders and levels, not the number of messages.
 *
 * Updated IN PLACE and deterministic: the same messages give the same book. Bad input never throws.
 * An execute, cancel, delete or replace of an order the book does not hold, a duplicate add, an execute
 * or cancel of more shares than remain, or an order ref above 2^53 is an ANOMALY: the method returns its
 * code (0 = applied cleanly), the book counts it, keeps the first `keepAnomalies` as records (the shape of
 * a BookAnomalyReported payload, see toBookAnomalyPayload) and applies what can safely be applied.
 */
import type { PayloadOf } from '../events/catalog.js';
import { OrderIndex } from './order-index.js';

export const BID = 0;
export const ASK = 1;
export type BookSide = typeof BID | typeof ASK;

export const ANOMALY_NONE = 0;
export const ANOMALY_UNKNOWN_ORDER = 1;
export const ANOMALY_DUPLICATE_ORDER = 2;
export const ANOMALY_OVER_EXECUTION = 3;
export const ANOMALY_OVER_CANCEL = 4;
export const ANOMALY_LOCATE_MISMATCH = 5;
export const ANOMALY_UNSAFE_ORDER_REF = 6;
export const ANOMALY_INVALID_ORDER = 7;

export const ANOMALY_KINDS = [
  'none', 'unknown-order', 'duplicate-order', 'over-execution', 'over-cancel', 'locate-mismatch', 'unsafe-order-ref', 'invalid-order',
] as const;
export type AnomalyKind = Exclude<(typeof ANOMALY_KINDS)[number], 'none'>;

export interface BookAnomaly {
  kind: AnomalyKind;
  locate: number;
  /** The order reference as given (may be inexact when above 2^53: see unsafe-order-ref). */
  orderRef: number;
  detail: string;
  /** Index of the book operation (0-based) that raised it. */
  operation: number;
}

export interface LevelView {
  priceTicks: number;
  shares: number;
  orders: number;
}

export interface OrderView {
  locate: number;
  side: BookSide;
  priceTicks: number;
  shares: number;
}

/**
 * One side of one instrument: parallel typed arrays sorted so the BEST level is LAST (bids ascending,
 * asks descending).
 */
export class L3Ladder {
  prices = new Float64Array(32);
  shares = new Float64Array(32);
  orders = new Int32Array(32);
  size = 0;

  constructor(readonly isBid: boolean) {}

  /** Index of `price`, or -(insertion point) - 1. */
  find(price: number): number {
    const p = this.prices;
    const n = this.size;
    // Updates cluster at the top of the book (the end): walk down a few levels before bisecting.
    const stop = n > 8 ? n - 8 : 0;
    let i = n - 1;
    if (this.isBid) {
      for (; i >= stop; i--) {
        const v = p[i]!;
        if (v === price) return i;
        if (v < price) return -(i + 1) - 1; // belongs just above i
      }
    } else {
      for (; i >= stop; i--) {
        const v = p[i]!;
        if (v === price) return i;
        if (v > price) return -(i + 1) - 1;
      }
    }
    if (i < 0) return -1;
    let lo = 0;
    let hi = i;
    const isBid = this.isBid;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = p[mid]!;
      if (v === price) return mid;
      if (isBid ? v < price : v > price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** One more order of `shares` at `price`. */
  addOrder(price: number, shares: number): void {
    let i = this.find(price);
    if (i < 0) i = this.insertLevel(-i - 1, price);
    this.shares[i] = this.shares[i]! + shares;
    this.orders[i] = this.orders[i]! + 1;
  }

  /** Takes `shares` off the level; `orderGone` when the order left the book. */
  reduce(price: number, shares: number, orderGone: boolean): void {
    const i = this.find(price);
    if (i < 0) return; // unreachable while orders and levels agree
    const left = this.shares[i]! - shares;
    this.shares[i] = left > 0 ? left : 0;
    if (orderGone && (this.orders[i] = this.orders[i]! - 1) <= 0) this.removeLevel(i);
  }

  private insertLevel(at: number, price: number): number {
    if (this.size === this.prices.length) this.grow();
    const n = this.size;
    const p = this.prices;
    const s = this.shares;
    const o = this.orders;
    // Plain loops: the shifts are short (new levels land near the top) and copyWithin's call costs more.
    for (let j = n; j > at; j--) {
      p[j] = p[j - 1]!;
      s[j] = s[j - 1]!;
      o[j] = o[j - 1]!;
    }
    p[at] = price;
    s[at] = 0;
    o[at] = 0;
    this.size = n + 1;
    return at;
  }

  private removeLevel(i: number): void {
    const n = this.size - 1;
    const p = this.prices;
    const s = this.shares;
    const o = this.orders;
    for (let j = i; j < n; j++) {
      p[j] = p[j + 1]!;
      s[j] = s[j + 1]!;
      o[j] = o[j + 1]!;
    }
    this.size = n;
  }

  private grow(): void {
    const cap = this.prices.length * 2;
    const p = new Float64Array(cap);
    const s = new Float64Array(cap);
    const o = new Int32Array(cap);
    p.set(this.prices);
    s.set(this.shares);
    o.set(this.orders);
    this.prices = p;
    this.shares = s;
    this.orders = o;
  }

  bestPrice(): number | null {
    return this.size > 0 ? this.prices[this.size - 1]! : null;
  }

  /** Up to `n` levels, best first. Allocates: for reports, not the hot path. */
  levels(n: number): LevelView[] {
    const out: LevelView[] = [];
    for (let i = this.size - 1; i >= 0 && out.length < n; i--) {
      out.push({ priceTicks: this.prices[i]!, shares: this.shares[i]!, orders: this.orders[i]! });
    }
    return out;
  }
}

export class InstrumentL3 {
  readonly bids = new L3Ladder(true);
  readonly asks = new L3Ladder(false);
  liveOrders = 0;
  /** Order executions (ITCH E and C). `printableExecutions` excludes non-printable C messages. */
  executions = 0;
  executedShares = 0;
  printableExecutions = 0;
  printableExecutedShares = 0;
  /** Trades against non-displayed orders (ITCH P). */
  nonCrossTrades = 0;
  nonCrossShares = 0;
  /** Cross trades (ITCH Q). */
  crossTrades = 0;
  crossShares = 0;
  brokenTrades = 0;

  constructor(readonly locate: number) {}

  ladder(side: BookSide): L3Ladder {
    return side === BID ? this.bids : this.asks;
  }
}

export interface L3BookOptions {
  /** Anomaly records kept (all are counted). Default 1000. */
  keepAnomalies?: number;
  /** Expected peak of live orders, to size the tables up front. */
  expectedLiveOrders?: number;
}

export class L3Book {
  private readonly index: OrderIndex;
  private slotLocate: Uint16Array;
  private slotSide: Uint8Array;
  private slotPrice: Float64Array;
  private slotShares: Float64Array;
  private freeSlots: Int32Array;
  private freeCount = 0;
  private nextSlot = 0;

  /** Indexed by locate, pre-sized to the u16 range so it never turns into a sparse (dictionary) array. */
  private readonly instruments: (InstrumentL3 | undefined)[] = new Array<InstrumentL3 | undefined>(65536).fill(undefined);
  private readonly keepAnomalies: number;

  /** Book operations applied (every method call that changes state or records a trade). */
  operations = 0;
  anomalyCount = 0;
  readonly anomalyCountByKind: Record<AnomalyKind, number> = {
    'unknown-order': 0, 'duplicate-order': 0, 'over-execution': 0, 'over-cancel': 0,
    'locate-mismatch': 0, 'unsafe-order-ref': 0, 'invalid-order': 0,
  };
  readonly anomalies: BookAnomaly[] = [];

  constructor(options: L3BookOptions = {}) {
    const cap = Math.max(1024, options.expectedLiveOrders ?? 0);
    this.index = new OrderIndex(cap);
    this.slotLocate = new Uint16Array(cap);
    this.slotSide = new Uint8Array(cap);
    this.slotPrice = new Float64Array(cap);
    this.slotShares = new Float64Array(cap);
    this.freeSlots = new Int32Array(cap);
    this.keepAnomalies = options.keepAnomalies ?? 1000;
  }

  get liveOrders(): number {
    return this.index.size;
  }

  /** The instrument's book, created on first use. */
  instrument(locate: number): InstrumentL3 {
    let b = this.instruments[locate];
    if (b === undefined) {
      b = new InstrumentL3(locate);
      this.instruments[locate] = b;
    }
    return b;
  }

  /** The instrument's book if anything ever touched it. */
  peek(locate: number): InstrumentL3 | undefined {
    return this.instruments[locate];
  }

  locates(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.instruments.length; i++) if (this.instruments[i] !== undefined) out.push(i);
    return out;
  }

  addOrder(locate: number, orderRef: number, side: BookSide, shares: number, priceTicks: number): number {
    this.operations++;
    if (!Number.isSafeInteger(orderRef) || orderRef < 0) return this.anomaly(ANOMALY_UNSAFE_ORDER_REF, locate, orderRef, 'add: order ref is not a safe integer; order ignored');
    if (!(shares > 0) || (side !== BID && side !== ASK)) {
      return this.anomaly(ANOMALY_INVALID_ORDER, locate, orderRef, `add: side ${side}, shares ${shares}; order ignored`);
    }
    const slot = this.allocSlot();
    if (!this.index.insert(orderRef, slot)) {
      this.freeSlot(slot);
      return this.anomaly(ANOMALY_DUPLICATE_ORDER, locate, orderRef, 'add: order ref already live; second add ignored');
    }
    this.slotLocate[slot] = locate;
    this.slotSide[slot] = side;
    this.slotPrice[slot] = priceTicks;
    this.slotShares[slot] = shares;
    const b = this.instrument(locate);
    (side === BID ? b.bids : b.asks).addOrder(priceTicks, shares);
    b.liveOrders++;
    return ANOMALY_NONE;
  }

  /** An execution at the order's price (ITCH E). */
  executeOrder(locate: number, orderRef: number, shares: number): number {
    this.operations++;
    return this.execute(locate, orderRef, shares, true);
  }

  /** An execution at another price (ITCH C); `printable` false means it must not count as a print. */
  executeOrderWithPrice(locate: number, orderRef: number, shares: number, _priceTicks: number, printable: boolean): number {
    this.operations++;
    return this.execute(locate, orderRef, shares, printable);
  }

  private execute(locate: number, orderRef: number, shares: number, printable: boolean): number {
    const slot = this.lookup(locate, orderRef, 'execute');
    if (slot < 0) return -slot;
    let code = this.locateCheck(slot, locate, orderRef, 'execute');
    const b = this.instrument(this.slotLocate[slot]!);
    let done = shares;
    const remaining = this.slotShares[slot]!;
    if (shares > remaining) {
      done = remaining;
      code = this.anomaly(ANOMALY_OVER_EXECUTION, locate, orderRef, `execute: ${shares} shares but only ${remaining} remain; executed ${remaining}`);
    }
    b.executions++;
    b.executedShares += done;
    if (printable) {
      b.printableExecutions++;
      b.printableExecutedShares += done;
    }
    this.take(slot, orderRef, b, done);
    return code;
  }

  /** A partial cancel (ITCH X). */
  cancelOrder(locate: number, orderRef: number, shares: number): number {
    this.operations++;
    const slot = this.lookup(locate, orderRef, 'cancel');
    if (slot < 0) return -slot;
    let code = this.locateCheck(slot, locate, orderRef, 'cancel');
    const b = this.instrument(this.slotLocate[slot]!);
    let done = shares;
    const remaining = this.slotShares[slot]!;
    if (shares > remaining) {
      done = remaining;
      code = this.anomaly(ANOMALY_OVER_CANCEL, locate, orderRef, `cancel: ${shares} shares but only ${remaining} remain; canceled ${remaining}`);
    }
    this.take(slot, orderRef, b, done);
    return code;
  }

  /** Removes the whole order (ITCH D). */
  deleteOrder(locate: number, orderRef: number): number {
    this.operations++;
    const slot = this.unlink(locate, orderRef, 'delete');
    if (slot < 0) return -slot;
    const code = this.locateCheck(slot, locate, orderRef, 'delete');
    this.release(slot);
    return code;
  }

  /**
   * Replaces an order with a new one on the same side (ITCH U): the original leaves the book and the
   * new reference joins at its price with its shares (time priority is lost).
   */
  replaceOrder(locate: number, originalRef: number, newRef: number, shares: number, priceTicks: number): number {
    this.operations++;
    const slot = this.unlink(locate, originalRef, 'replace');
    if (slot < 0) return -slot;
    let code = this.locateCheck(slot, locate, originalRef, 'replace');
    const side = this.slotSide[slot]! as BookSide;
    const loc = this.slotLocate[slot]!;
    this.release(slot);
    this.operations--; // the add below is part of this operation
    const c = this.addOrder(loc, newRef, side, shares, priceTicks);
    if (c !== ANOMALY_NONE) code = c;
    return code;
  }

  /** A trade against a non-displayed order (ITCH P): no book change. */
  recordTrade(locate: number, shares: number): void {
    this.operations++;
    const b = this.instrument(locate);
    b.nonCrossTrades++;
    b.nonCrossShares += shares;
  }

  /** A cross (ITCH Q): no book change. */
  recordCrossTrade(locate: number, shares: number): void {
    this.operations++;
    const b = this.instrument(locate);
    b.crossTrades++;
    b.crossShares += shares;
  }

  recordBrokenTrade(locate: number): void {
    this.operations++;
    this.instrument(locate).brokenTrades++;
  }

  // ---------- reads ----------

  bestBid(locate: number): number | null {
    return this.instruments[locate]?.bids.bestPrice() ?? null;
  }

  bestAsk(locate: number): number | null {
    return this.instruments[locate]?.asks.bestPrice() ?? null;
  }

  /** Up to `levels` price levels of one side, best first. */
  depth(locate: number, side: BookSide, levels: number): LevelView[] {
    const b = this.instruments[locate];
    return b === undefined ? [] : b.ladder(side).levels(levels);
  }

  order(orderRef: number): OrderView | undefined {
    const slot = Number.isSafeInteger(orderRef) ? this.index.get(orderRef) : -1;
    if (slot < 0) return undefined;
    return { locate: this.slotLocate[slot]!, side: this.slotSide[slot]! as BookSide, priceTicks: this.slotPrice[slot]!, shares: this.slotShares[slot]! };
  }

  // ---------- internals ----------

  /** The order's slot, or minus the anomaly code when there is none. */
  private lookup(locate: number, orderRef: number, what: string): number {
    if (!Number.isSafeInteger(orderRef) || orderRef < 0) {
      return -this.anomaly(ANOMALY_UNSAFE_ORDER_REF, locate, orderRef, `${what}: order ref is not a safe integer; ignored`);
    }
    const slot = this.index.get(orderRef);
    if (slot < 0) return -this.anomaly(ANOMALY_UNKNOWN_ORDER, locate, orderRef, `${what}: no live order with this ref; ignored`);
    return slot;
  }

  private locateCheck(slot: number, locate: number, orderRef: number, what: string): number {
    const own = this.slotLocate[slot]!;
    if (own === locate) return ANOMALY_NONE;
    // Order refs are unique across the whole feed, so the order is still identified: apply to its own instrument.
    return this.anomaly(ANOMALY_LOCATE_MISMATCH, locate, orderRef, `${what}: order belongs to locate ${own}; applied there`);
  }

  /** Removes the order from the index in one probe: its slot, or minus the anomaly code. */
  private unlink(locate: number, orderRef: number, what: string): number {
    if (!Number.isSafeInteger(orderRef) || orderRef < 0) {
      return -this.anomaly(ANOMALY_UNSAFE_ORDER_REF, locate, orderRef, `${what}: order ref is not a safe integer; ignored`);
    }
    const slot = this.index.remove(orderRef);
    if (slot < 0) return -this.anomaly(ANOMALY_UNKNOWN_ORDER, locate, orderRef, `${what}: no live order with this ref; ignored`);
    return slot;
  }

  /** Takes an unlinked order's remaining shares off its level and frees its slot. */
  private release(slot: number): void {
    const b = this.instrument(this.slotLocate[slot]!);
    (this.slotSide[slot] === BID ? b.bids : b.asks).reduce(this.slotPrice[slot]!, this.slotShares[slot]!, true);
    this.freeSlot(slot);
    b.liveOrders--;
  }

  /** Takes `shares` off the order, removing it when none remain. */
  private take(slot: number, orderRef: number, b: InstrumentL3, shares: number): void {
    const left = this.slotShares[slot]! - shares;
    const gone = left <= 0;
    const ladder = this.slotSide[slot] === BID ? b.bids : b.asks;
    ladder.reduce(this.slotPrice[slot]!, gone ? this.slotShares[slot]! : shares, gone);
    if (gone) {
      this.index.remove(orderRef);
      this.freeSlot(slot);
      b.liveOrders--;
    } else {
      this.slotShares[slot] = left;
    }
  }

  private allocSlot(): number {
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount]!;
    if (this.nextSlot === this.slotShares.length) this.growSlots();
    return this.nextSlot++;
  }

  private freeSlot(slot: number): void {
    this.freeSlots[this.freeCount++] = slot;
  }

  private growSlots(): void {
    const cap = this.slotShares.length * 2;
    const loc = new Uint16Array(cap);
    loc.set(this.slotLocate);
    const side = new Uint8Array(cap);
    side.set(this.slotSide);
    const price = new Float64Array(cap);
    price.set(this.slotPrice);
    const shares = new Float64Array(cap);
    shares.set(this.slotShares);
    const free = new Int32Array(cap);
    free.set(this.freeSlots);
    this.slotLocate = loc;
    this.slotSide = side;
    this.slotPrice = price;
    this.slotShares = shares;
    this.freeSlots = free;
  }

  private anomaly(code: number, locate: number, orderRef: number, detail: string): number {
    const kind = ANOMALY_KINDS[code] as AnomalyKind;
    this.anomalyCount++;
    this.anomalyCountByKind[kind]++;
    if (this.anomalies.length < this.keepAnomalies) this.anomalies.push({ kind, locate, orderRef, detail, operation: this.operations - 1 });
    return code;
  }
}

/** An anomaly as the data of a BookAnomalyReported event. */
export function toBookAnomalyPayload(a: BookAnomaly, venue: string, instrument: string): PayloadOf<'BookAnomalyReported'> {
  return { venue, instrument, kind: a.kind, detail: a.detail, orderRef: String(a.orderRef) };
}
