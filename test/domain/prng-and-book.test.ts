import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clonePrng, nextFloat, nextInt, nextU32, seedPrng } from '../../domain/core/prng.js';
import { applyMarketEvent, bestPrice, initialMarketState, ladderQty, ladderSet, newLadder, referencePriceTicks } from '../../domain/market/book.js';
import { at, delta, INSTR, quote, snapshot, trade, VENUE } from './builders.js';

describe('seeded PRNG (xoshiro128**)', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = seedPrng(1), b = seedPrng(1), c = seedPrng(2);
    const xs = Array.from({ length: 8 }, () => nextU32(a));
    expect(Array.from({ length: 8 }, () => nextU32(b))).toEqual(xs);
    expect(Array.from({ length: 8 }, () => nextU32(c))).not.toEqual(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('a clone forks the stream without touching the original', () => {
    const a = seedPrng(99);
    nextU32(a);
    const b = clonePrng(a);
    expect(nextU32(b)).toBe(nextU32(a));
  });

  it('nextInt stays in range and covers it; nextFloat is in [0, 1)', () => {
    const p = seedPrng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = nextInt(p, 7);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(7);
      seen.add(x);
      const f = nextFloat(p);
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(7);
  });

  it('large seeds above 2^32 still give different streams', () => {
    expect(nextU32(seedPrng(2 ** 40))).not.toBe(nextU32(seedPrng(2 ** 40 + 2 ** 32)));
  });
});

describe('market book', () => {
  it('keeps the best level last on both sides and removes levels at 0', () => {
    const m = initialMarketState();
    applyMarketEvent(m, snapshot([[100, 1], [99, 2], [98, 3]], [[101, 1], [102, 2]]));
    const b = m.books.get(INSTR)!;
    expect(b.bids.prices).toEqual([98, 99, 100]);
    expect(b.asks.prices).toEqual([102, 101]);
    applyMarketEvent(m, delta([['buy', 100, 0], ['sell', 103, 4], ['sell', 100, 1]]));
    expect(bestPrice(b.bids)).toBe(99);
    expect(b.asks.prices).toEqual([103, 102, 101, 100]);
    expect(referencePriceTicks(m, INSTR)).toBe(99);
  });

  it('a quote without sizes still gives prices (no liquidity)', () => {
    const m = initialMarketState();
    applyMarketEvent(m, at('QuoteUpdated', { venue: VENUE, instrument: INSTR, bidPriceTicks: 10, bidQtyLots: 0, askPriceTicks: 12, askQtyLots: 0, priceScale: 2, qtyScale: 0, sizesReported: false }));
    expect(referencePriceTicks(m, INSTR)).toBe(11);
    applyMarketEvent(m, quote(10, 0, null, 0));
    expect(referencePriceTicks(m, INSTR)).toBeNull();
    applyMarketEvent(m, trade(13, 1, 'buy'));
    expect(referencePriceTicks(m, INSTR)).toBe(13);
  });

  it('L3 orders aggregate into levels; executions, cancels and replaces move them', () => {
    const m = initialMarketState();
    const base = { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0 };
    applyMarketEvent(m, at('BookOrderAdded', { ...base, orderRef: 'a', side: 'buy', priceTicks: 100, qtyLots: 5 }));
    applyMarketEvent(m, at('BookOrderAdded', { ...base, orderRef: 'b', side: 'buy', priceTicks: 100, qtyLots: 3 }));
    const b = m.books.get(INSTR)!;
    expect(ladderQty(b.bids, true, 100)).toBe(8);
    applyMarketEvent(m, at('BookOrderExecuted', { ...base, orderRef: 'a', executedLots: 2, matchNumber: '1' }));
    applyMarketEvent(m, at('BookOrderReplaced', { ...base, orderRef: 'b', newOrderRef: 'c', priceTicks: 101, qtyLots: 4 }));
    expect(ladderQty(b.bids, true, 100)).toBe(3);
    expect(ladderQty(b.bids, true, 101)).toBe(4);
    expect(b.l3!.get('c')!.seq).toBeGreaterThan(b.l3!.get('a')!.seq);
    expect(b.lastTradeTicks).toBe(100);
    expect(applyMarketEvent(m, at('BookOrderDeleted', { ...base, orderRef: 'nope' }))).toBeNull();
  });

  it('ladderSet keeps a sorted, positive ladder under random updates (property)', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 5 })), { maxLength: 200 }), (isBid, ops) => {
      const l = newLadder();
      const model = new Map<number, number>();
      for (const [p, q] of ops) {
        ladderSet(l, isBid, p, q);
        if (q > 0) model.set(p, q);
        else model.delete(p);
      }
      const sorted = [...model.keys()].sort((a, b) => (isBid ? a - b : b - a));
      expect(l.prices).toEqual(sorted);
      expect(l.qtys).toEqual(sorted.map((p) => model.get(p)));
    }), { numRuns: 200 });
  });
});
