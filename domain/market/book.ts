/**
 * The market as the kernel, strategies, risk and the simulated venue see it: per instrument, an L2
 * ladder per side (kept from L1 quotes, L2 snapshots and deltas, or aggregated from L3 order events),
 * the L3 orders when the feed has them, and the last trade.
 *
 * Hot path: one market event costs a Map lookup and a binary search; nothing is allocated per event
 * except on a new price level or a new L3 order. State is owned by the caller and updated IN PLACE
 * (`applyMarketEvent` returns the book it touched, not a new state); do not retain old states.
 * Prices and quantities are safe-integer ticks and lots at the book's scales (no bigint here).
 */
import type { TimedEvent } from '../events/event.js';
import type { Side } from '../events/primitives.js';

/**
 * One side of a book: parallel arrays of price and displayed quantity, sorted so the BEST level is
 * LAST (bids ascending, asks descending). Most updates touch the top, which is then a push or pop.
 */
export interface Ladder {
  prices: number[];
  qtys: number[];
}

export interface L3Order {
  side: Side;
  priceTicks: number;
  qtyLots: number;
  /** Arrival order within the book: lower is earlier, so ahead in the price level's FIFO queue. */
  seq: number;
}

export interface InstrumentBook {
  venue: string;
  instrument: string;
  priceScale: number;
  qtyScale: number;
  bids: Ladder;
  asks: Ladder;
  /** L3 orders by venue order reference; null until the first L3 event for this instrument. */
  l3: Map<string, L3Order> | null;
  nextSeq: number;
  /** True once depth arrived (snapshot, deltas or L3): quotes then overlay the book instead of replacing it. */
  depthFed: boolean;
  lastTradeTicks: number | null;
  lastTradeQtyLots: number;
  /** Event time of the last update, ns. */
  updatedNs: bigint;
}

export interface MarketState {
  books: Map<string, InstrumentBook>;
}

/** A read-only view of the market, what strategies and risk receive. */
export type MarketView = Readonly<MarketState>;

export function initialMarketState(): MarketState {
  return { books: new Map() };
}

export function newLadder(): Ladder {
  return { prices: [], qtys: [] };
}

function newBook(venue: string, instrument: string, priceScale: number, qtyScale: number): InstrumentBook {
  return {
    venue, instrument, priceScale, qtyScale,
    bids: newLadder(), asks: newLadder(), l3: null, nextSeq: 0, depthFed: false,
    lastTradeTicks: null, lastTradeQtyLots: 0, updatedNs: 0n,
  };
}

/** Index of `price` in the ladder, or -(insertion point) - 1 when absent. */
export function ladderFind(l: Ladder, isBid: boolean, price: number): number {
  const p = l.prices;
  let lo = 0;
  let hi = p.length - 1;
  // Fast path: updates cluster at the top of the book, which is the end of the array.
  if (hi >= 0 && p[hi] === price) return hi;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = p[mid]!;
    if (v === price) return mid;
    // ascending for bids, descending for asks
    if (isBid ? v < price : v > price) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Sets the displayed quantity at a price; 0 removes the level. Allocation-free except for array growth. */
export function ladderSet(l: Ladder, isBid: boolean, price: number, qty: number): void {
  const i = ladderFind(l, isBid, price);
  const p = l.prices;
  const q = l.qtys;
  if (i >= 0) {
    if (qty > 0) q[i] = qty;
    else {
      // Shift down by hand: Array.prototype.copyWithin takes a slow generic path on JS arrays.
      const last = p.length - 1;
      for (let k = i; k < last; k++) {
        p[k] = p[k + 1]!;
        q[k] = q[k + 1]!;
      }
      p.pop();
      q.pop();
    }
    return;
  }
  if (qty <= 0) return;
  const at = -i - 1;
  const n = p.length;
  p.push(price);
  q.push(qty);
  if (at < n) {
    for (let k = n; k > at; k--) {
      p[k] = p[k - 1]!;
      q[k] = q[k - 1]!;
    }
    p[at] = price;
    q[at] = qty;
  }
}

export function ladderQty(l: Ladder, isBid: boolean, price: number): number {
  const i = ladderFind(l, isBid, price);
  return i >= 0 ? l.qtys[i]! : 0;
}

/** Adds (or with a negative delta, removes) quantity at a level, as L3 events do. */
export function ladderAdd(l: Ladder, isBid: boolean, price: number, delta: number): void {
  const i = ladderFind(l, isBid, price);
  const cur = i >= 0 ? l.qtys[i]! : 0;
  const next = cur + delta;
  ladderSet(l, isBid, price, next > 0 ? next : 0);
}

function ladderFill(l: Ladder, levels: ReadonlyArray<readonly [number, number]>): void {
  // Snapshot levels arrive best first; the ladder keeps best last.
  l.prices.length = 0;
  l.qtys.length = 0;
  for (let i = levels.length - 1; i >= 0; i--) {
    const lv = levels[i]!;
    if (lv[1] > 0) {
      l.prices.push(lv[0]);
      l.qtys.push(lv[1]);
    }
  }
}

/** `keepEmpty`: a quote without sizes still shows its price (with 0 lots: a price, but no liquidity). */
function ladderSetSingle(l: Ladder, price: number | null, qty: number, keepEmpty: boolean): void {
  l.prices.length = 0;
  l.qtys.length = 0;
  if (price !== null && (qty > 0 || keepEmpty)) {
    l.prices.push(price);
    l.qtys.push(qty);
  }
}

/** A quote over a depth-fed ladder: drop levels better than the quoted price, then set the touch. */
function ladderOverlayTouch(l: Ladder, isBid: boolean, price: number | null, qty: number, noSizes: boolean): void {
  if (price === null) return;
  const p = l.prices;
  while (p.length > 0 && (isBid ? p[p.length - 1]! > price : p[p.length - 1]! < price)) {
    p.pop();
    l.qtys.pop();
  }
  if (!noSizes) ladderSet(l, isBid, price, qty);
}

export function bestPrice(l: Ladder): number | null {
  const n = l.prices.length;
  return n > 0 ? l.prices[n - 1]! : null;
}

export function bestQty(l: Ladder): number {
  const n = l.qtys.length;
  return n > 0 ? l.qtys[n - 1]! : 0;
}

/**
 * Finds or creates the book for an event's instrument. A change of price or quantity scale resets the
 * book: ticks at different scales cannot be mixed.
 */
function bookFor(state: MarketState, venue: string, instrument: string, priceScale: number, qtyScale: number): InstrumentBook {
  let b = state.books.get(instrument);
  if (b === undefined || b.priceScale !== priceScale || b.qtyScale !== qtyScale) {
    b = newBook(venue, instrument, priceScale, qtyScale);
    state.books.set(instrument, b);
  }
  return b;
}

/** Market-data event types this module understands. */
export function isMarketDataType(type: string): boolean {
  switch (type) {
    case 'QuoteUpdated': case 'BookSnapshotted': case 'BookDeltaApplied': case 'TradeReported':
    case 'BookOrderAdded': case 'BookOrderExecuted': case 'BookOrderCanceled': case 'BookOrderDeleted':
    case 'BookOrderReplaced':
      return true;
    default:
      return false;
  }
}

/**
 * Applies one market-data event in place. Returns the book it touched, or null for any other event
 * (including L3 events for orders the book never saw, which the feed reports as anomalies).
 */
export function applyMarketEvent(state: MarketState, env: TimedEvent): InstrumentBook | null {
  switch (env.type) {
    case 'QuoteUpdated': {
      const d = env.data;
      const b = bookFor(state, d.venue, d.instrument, d.priceScale, d.qtyScale);
      const noSizes = d.sizesReported === false;
      if (b.depthFed) {
        // Venues send quotes and depth for the same instrument: the quote is the newer word on the
        // touch only. Levels better than it are gone; deeper levels stay as the depth feed left them.
        ladderOverlayTouch(b.bids, true, d.bidPriceTicks, d.bidQtyLots, noSizes);
        ladderOverlayTouch(b.asks, false, d.askPriceTicks, d.askQtyLots, noSizes);
      } else {
        ladderSetSingle(b.bids, d.bidPriceTicks, d.bidQtyLots, noSizes);
        ladderSetSingle(b.asks, d.askPriceTicks, d.askQtyLots, noSizes);
      }
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'BookSnapshotted': {
      const d = env.data;
      const b = bookFor(state, d.venue, d.instrument, d.priceScale, d.qtyScale);
      ladderFill(b.bids, d.bids);
      ladderFill(b.asks, d.asks);
      b.depthFed = true;
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'BookDeltaApplied': {
      const d = env.data;
      const b = bookFor(state, d.venue, d.instrument, d.priceScale, d.qtyScale);
      b.depthFed = true;
      const ch = d.changes;
      for (let i = 0; i < ch.length; i++) {
        const c = ch[i]!;
        const isBid = c.side === 'buy';
        ladderSet(isBid ? b.bids : b.asks, isBid, c.priceTicks, c.qtyLots);
      }
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'TradeReported': {
      const d = env.data;
      const b = bookFor(state, d.venue, d.instrument, d.priceScale, d.qtyScale);
      b.lastTradeTicks = d.priceTicks;
      b.lastTradeQtyLots = d.qtyLots;
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'BookOrderAdded': {
      const d = env.data;
      const b = bookFor(state, d.venue, d.instrument, d.priceScale, d.qtyScale);
      if (b.l3 === null) b.l3 = new Map();
      b.depthFed = true;
      const isBid = d.side === 'buy';
      b.l3.set(d.orderRef, { side: d.side, priceTicks: d.priceTicks, qtyLots: d.qtyLots, seq: b.nextSeq++ });
      ladderAdd(isBid ? b.bids : b.asks, isBid, d.priceTicks, d.qtyLots);
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'BookOrderExecuted':
    case 'BookOrderCanceled':
    case 'BookOrderDeleted': {
      const d = env.data;
      const b = state.books.get(d.instrument);
      const o = b?.l3?.get(d.orderRef);
      if (b === undefined || o === undefined) return null;
      const removed = env.type === 'BookOrderExecuted' ? Math.min(o.qtyLots, env.data.executedLots)
        : env.type === 'BookOrderCanceled' ? Math.min(o.qtyLots, env.data.canceledLots)
          : o.qtyLots;
      const isBid = o.side === 'buy';
      ladderAdd(isBid ? b.bids : b.asks, isBid, o.priceTicks, -removed);
      o.qtyLots -= removed;
      if (o.qtyLots === 0) b.l3!.delete(d.orderRef);
      if (env.type === 'BookOrderExecuted' && env.data.printable !== false) {
        b.lastTradeTicks = env.data.priceTicks ?? o.priceTicks;
        b.lastTradeQtyLots = removed;
      }
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    case 'BookOrderReplaced': {
      const d = env.data;
      const b = state.books.get(d.instrument);
      const o = b?.l3?.get(d.orderRef);
      if (b === undefined || o === undefined) return null;
      const isBid = o.side === 'buy';
      const l = isBid ? b.bids : b.asks;
      ladderAdd(l, isBid, o.priceTicks, -o.qtyLots);
      b.l3!.delete(d.orderRef);
      // A replace loses time priority: the new order joins the back of its level.
      b.l3!.set(d.newOrderRef, { side: o.side, priceTicks: d.priceTicks, qtyLots: d.qtyLots, seq: b.nextSeq++ });
      ladderAdd(l, isBid, d.priceTicks, d.qtyLots);
      b.updatedNs = env.eventTimeNs;
      return b;
    }
    default:
      return null;
  }
}

// ---------- reads (what strategies and risk use) ----------

export function bookOf(market: MarketView, instrument: string): InstrumentBook | undefined {
  return market.books.get(instrument);
}

export function bestBidTicks(market: MarketView, instrument: string): number | null {
  const b = market.books.get(instrument);
  return b === undefined ? null : bestPrice(b.bids);
}

export function bestAskTicks(market: MarketView, instrument: string): number | null {
  const b = market.books.get(instrument);
  return b === undefined ? null : bestPrice(b.asks);
}

/**
 * The reference price for collars and marks: the mid (rounded down to a tick when the spread is odd)
 * when both sides are quoted, else the last trade, else null.
 */
export function referencePriceTicks(market: MarketView, instrument: string): number | null {
  const b = market.books.get(instrument);
  if (b === undefined) return null;
  const bid = bestPrice(b.bids);
  const ask = bestPrice(b.asks);
  if (bid !== null && ask !== null) return Math.floor((bid + ask) / 2);
  return b.lastTradeTicks;
}
