/**
 * An L2 price-level book for one instrument: apply a snapshot, apply deltas, read the top N levels and
 * the BBO. Levels live in the market book's ladders (domain/market/book.ts: parallel arrays, best level
 * LAST), so there is one ladder implementation in the project; this module adds the rules a venue L2
 * feed needs on top: no negative quantities, optional depth truncation (Kraken stops reporting levels
 * that fall outside the subscribed depth) and a `synced` flag that a sequence gap clears.
 *
 * Pure and deterministic, updated IN PLACE (one book per instrument, owned by the caller). Prices and
 * quantities are safe-integer ticks and lots at the book's scales.
 */
import { TapedeckError } from '../core/errors.js';
import type { AnyEnvelope } from '../events/envelope.js';
import type { Side } from '../events/primitives.js';
import { ladderFind, ladderSet, newLadder, type Ladder } from '../market/book.js';

export type Level = readonly [priceTicks: number, qtyLots: number];

export interface L2BookOptions {
  /** Levels kept per side; deeper levels are dropped after every change. Default: unlimited. */
  maxDepth?: number;
}

export class L2Book {
  readonly bids: Ladder = newLadder();
  readonly asks: Ladder = newLadder();
  /** False until the first snapshot, and again after a reported sequence gap. */
  synced = false;
  /** The venue sequence (update id) of the last snapshot or delta that carried one. */
  sequence: number | null = null;
  readonly maxDepth: number;

  constructor(options: L2BookOptions = {}) {
    const d = options.maxDepth ?? Number.POSITIVE_INFINITY;
    if (!(d > 0)) throw new TapedeckError('BOOK_DEPTH', `maxDepth must be positive, got ${d}`, { field: 'maxDepth' });
    this.maxDepth = d;
  }

  /** Replaces both sides. Levels may come in any order; zero-quantity levels are skipped. */
  applySnapshot(bids: ReadonlyArray<Level>, asks: ReadonlyArray<Level>, sequence?: number): void {
    fillSide(this.bids, true, bids);
    fillSide(this.asks, false, asks);
    this.truncate();
    this.synced = true;
    if (sequence !== undefined) this.sequence = sequence;
  }

  /** Sets the quantity at a price (0 removes the level). A negative quantity is refused: it is a bug upstream. */
  applyChange(side: Side, priceTicks: number, qtyLots: number): void {
    checkLevel(priceTicks, qtyLots);
    const isBid = side === 'buy';
    const l = isBid ? this.bids : this.asks;
    ladderSet(l, isBid, priceTicks, qtyLots);
    if (l.prices.length > this.maxDepth) dropWorst(l, this.maxDepth);
  }

  /** Marks the book as not to be trusted until the next snapshot (a gap in the venue's sequence). */
  markUnsynced(): void {
    this.synced = false;
  }

  bestBid(): Level | null {
    return best(this.bids);
  }

  bestAsk(): Level | null {
    return best(this.asks);
  }

  /** Up to `n` levels of one side, best first. */
  top(side: Side, n: number): Level[] {
    const l = side === 'buy' ? this.bids : this.asks;
    const out: Level[] = [];
    for (let i = l.prices.length - 1; i >= 0 && out.length < n; i--) out.push([l.prices[i]!, l.qtys[i]!]);
    return out;
  }

  /** Number of price levels on a side. */
  depth(side: Side): number {
    return (side === 'buy' ? this.bids : this.asks).prices.length;
  }

  /** Quantity at a price, 0 when there is no level. */
  qtyAt(side: Side, priceTicks: number): number {
    const isBid = side === 'buy';
    const l = isBid ? this.bids : this.asks;
    const i = ladderFind(l, isBid, priceTicks);
    return i >= 0 ? l.qtys[i]! : 0;
  }

  /** True when the best bid is at or above the best ask (a symptom of a missed update). */
  isCrossed(): boolean {
    const b = this.bestBid();
    const a = this.bestAsk();
    return b !== null && a !== null && b[0] >= a[0];
  }

  private truncate(): void {
    if (this.bids.prices.length > this.maxDepth) dropWorst(this.bids, this.maxDepth);
    if (this.asks.prices.length > this.maxDepth) dropWorst(this.asks, this.maxDepth);
  }
}

function checkLevel(priceTicks: number, qtyLots: number): void {
  if (!Number.isSafeInteger(priceTicks)) {
    throw new TapedeckError('BOOK_LEVEL', `price ${priceTicks} is not a safe integer tick count`, { field: 'priceTicks' });
  }
  if (!Number.isSafeInteger(qtyLots) || qtyLots < 0) {
    throw new TapedeckError('BOOK_NEGATIVE_QTY', `quantity ${qtyLots} at price ${priceTicks} is not a non-negative lot count`, { field: 'qtyLots' });
  }
}

function fillSide(l: Ladder, isBid: boolean, levels: ReadonlyArray<Level>): void {
  const sorted: Level[] = [];
  for (const lv of levels) {
    checkLevel(lv[0], lv[1]);
    if (lv[1] > 0) sorted.push(lv);
  }
  // Ladders keep the best level last: bids ascending, asks descending.
  sorted.sort(isBid ? (x, y) => x[0] - y[0] : (x, y) => y[0] - x[0]);
  l.prices.length = 0;
  l.qtys.length = 0;
  for (let i = 0; i < sorted.length; i++) {
    const lv = sorted[i]!;
    if (i > 0 && sorted[i - 1]![0] === lv[0]) {
      throw new TapedeckError('BOOK_SNAPSHOT_DUPLICATE', `snapshot lists price ${lv[0]} twice on the ${isBid ? 'bid' : 'ask'} side`, { field: isBid ? 'bids' : 'asks' });
    }
    l.prices.push(lv[0]);
    l.qtys.push(lv[1]);
  }
}

/** Keeps the best `depth` levels: the worst are at the front of the ladder. */
function dropWorst(l: Ladder, depth: number): void {
  const extra = l.prices.length - depth;
  l.prices.splice(0, extra);
  l.qtys.splice(0, extra);
}

function best(l: Ladder): Level | null {
  const n = l.prices.length;
  return n > 0 ? [l.prices[n - 1]!, l.qtys[n - 1]!] : null;
}

/**
 * L2 books for many instruments, kept from catalogue events: BookSnapshotted, BookDeltaApplied and a
 * BookAnomalyReported of kind `sequence-gap` (which marks the book unsynced). Other events are ignored.
 */
export class L2BookSet {
  private readonly books = new Map<string, L2Book>();

  constructor(private readonly depthFor: (instrument: string) => number | undefined = () => undefined) {}

  get(instrument: string): L2Book | undefined {
    return this.books.get(instrument);
  }

  instruments(): string[] {
    return [...this.books.keys()];
  }

  /** Applies one event; returns the book it touched or null. */
  apply(env: AnyEnvelope): L2Book | null {
    switch (env.type) {
      case 'BookSnapshotted': {
        const d = env.data;
        const b = this.bookFor(d.instrument, d.depth);
        b.applySnapshot(d.bids, d.asks, d.sequence);
        return b;
      }
      case 'BookDeltaApplied': {
        const d = env.data;
        const b = this.bookFor(d.instrument, undefined);
        for (const c of d.changes) b.applyChange(c.side, c.priceTicks, c.qtyLots);
        if (d.sequence !== undefined) b.sequence = d.sequence;
        return b;
      }
      case 'BookAnomalyReported': {
        if (env.data.kind !== 'sequence-gap') return null;
        const b = this.books.get(env.data.instrument);
        b?.markUnsynced();
        return b ?? null;
      }
      default:
        return null;
    }
  }

  private bookFor(instrument: string, depth: number | undefined): L2Book {
    let b = this.books.get(instrument);
    if (b === undefined) {
      const maxDepth = depth ?? this.depthFor(instrument);
      b = new L2Book(maxDepth === undefined ? {} : { maxDepth });
      this.books.set(instrument, b);
    }
    return b;
  }
}
