import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANOMALY_DUPLICATE_ORDER,
  ANOMALY_LOCATE_MISMATCH,
  ANOMALY_NONE,
  ANOMALY_OVER_CANCEL,
  ANOMALY_OVER_EXECUTION,
  ANOMALY_UNKNOWN_ORDER,
  ANOMALY_UNSAFE_ORDER_REF,
  ASK,
  BID,
  L3Book,
  toBookAnomalyPayload,
  type BookSide,
  type LevelView,
} from '../../domain/book/l3.js';
import { OrderIndex } from '../../domain/book/order-index.js';
import { parsePayload } from '../../domain/events/envelope.js';
import { generateItchDay } from '../../datasets/itch/generate.js';
import { ItchBookListener } from '../../src/venues/nasdaq/itch/book-listener.js';
import { readItchBytes } from '../../src/venues/nasdaq/itch/reader.js';
import type { AddOrderView, OrderCancelView, OrderDeleteView, OrderExecutedView, OrderExecutedWithPriceView, OrderReplaceView } from '../../src/venues/nasdaq/itch/views.js';

const lv = (priceTicks: number, shares: number, orders: number): LevelView => ({ priceTicks, shares, orders });

describe('L3 book: applying orders', () => {
  it('aggregates orders into price levels and keeps the best level first', () => {
    const b = new L3Book();
    expect(b.addOrder(7, 1, BID, 100, 100_000)).toBe(ANOMALY_NONE);
    b.addOrder(7, 2, BID, 200, 100_000);
    b.addOrder(7, 3, BID, 50, 99_900);
    b.addOrder(7, 4, ASK, 300, 100_100);
    b.addOrder(7, 6, ASK, 10, 100_300);
    b.addOrder(8, 5, ASK, 1, 5); // another instrument stays apart
    expect(b.depth(7, BID, 10)).toEqual([lv(100_000, 300, 2), lv(99_900, 50, 1)]);
    expect(b.depth(7, ASK, 10)).toEqual([lv(100_100, 300, 1), lv(100_300, 10, 1)]);
    expect(b.depth(7, ASK, 1)).toEqual([lv(100_100, 300, 1)]);
    expect([b.bestBid(7), b.bestAsk(7), b.bestAsk(8), b.bestBid(9)]).toEqual([100_000, 100_100, 5, null]);
    expect(b.liveOrders).toBe(6);

    expect(b.executeOrder(7, 1, 40)).toBe(ANOMALY_NONE);
    expect(b.depth(7, BID, 1)).toEqual([lv(100_000, 260, 2)]);
    b.executeOrder(7, 1, 60); // fully executed: the order leaves, the level keeps the other one
    expect(b.depth(7, BID, 1)).toEqual([lv(100_000, 200, 1)]);
    expect(b.order(1)).toBeUndefined();

    b.cancelOrder(7, 2, 50);
    expect(b.order(2)).toEqual({ locate: 7, side: BID, priceTicks: 100_000, shares: 150 });
    b.deleteOrder(7, 2);
    expect(b.bestBid(7)).toBe(99_900);

    expect(b.replaceOrder(7, 3, 30, 70, 99_800)).toBe(ANOMALY_NONE);
    expect(b.order(3)).toBeUndefined();
    expect(b.order(30)).toEqual({ locate: 7, side: BID, priceTicks: 99_800, shares: 70 });
    expect(b.depth(7, BID, 5)).toEqual([lv(99_800, 70, 1)]);

    b.executeOrderWithPrice(7, 4, 100, 100_050, false);
    b.recordTrade(7, 500);
    b.recordCrossTrade(7, 1000);
    b.recordBrokenTrade(7);
    const i = b.instrument(7);
    expect([i.executions, i.executedShares, i.printableExecutions, i.printableExecutedShares]).toEqual([3, 200, 2, 100]);
    expect([i.nonCrossTrades, i.nonCrossShares, i.crossTrades, i.crossShares, i.brokenTrades]).toEqual([1, 500, 1, 1000, 1]);
    expect(i.liveOrders).toBe(3);
    expect(b.anomalyCount).toBe(0);
  });

  it('inserts levels anywhere in deep ladders (past the linear scan near the top)', () => {
    const b = new L3Book();
    const prices = [50, 10, 90, 30, 70, 20, 80, 60, 40, 100, 5, 95, 55, 45, 15, 85, 65, 35, 75, 25];
    prices.forEach((p, i) => b.addOrder(1, i + 1, BID, p, p * 100));
    prices.forEach((p, i) => b.addOrder(1, 100 + i, ASK, p, p * 100));
    expect(b.depth(1, BID, 100).map((l) => l.priceTicks)).toEqual([...prices].sort((x, y) => y - x).map((p) => p * 100));
    expect(b.depth(1, ASK, 100).map((l) => l.priceTicks)).toEqual([...prices].sort((x, y) => x - y).map((p) => p * 100));
  });
});

describe('L3 book: bad input is an anomaly, never an exception', () => {
  it('execute, cancel, delete and replace of an unknown order', () => {
    const b = new L3Book();
    b.addOrder(1, 10, BID, 100, 500);
    expect(b.executeOrder(1, 99, 10)).toBe(ANOMALY_UNKNOWN_ORDER);
    expect(b.cancelOrder(1, 99, 10)).toBe(ANOMALY_UNKNOWN_ORDER);
    expect(b.deleteOrder(1, 99)).toBe(ANOMALY_UNKNOWN_ORDER);
    expect(b.replaceOrder(1, 99, 100, 5, 5)).toBe(ANOMALY_UNKNOWN_ORDER);
    expect(b.anomalyCount).toBe(4);
    expect(b.anomalyCountByKind['unknown-order']).toBe(4);
    expect(b.anomalies[0]).toMatchObject({ kind: 'unknown-order', locate: 1, orderRef: 99, operation: 1 });
    expect(b.depth(1, BID, 5)).toEqual([lv(500, 100, 1)]);
    expect(b.order(100)).toBeUndefined();
    const payload = toBookAnomalyPayload(b.anomalies[0]!, 'NASDAQ', 'NASDAQ:AAPL');
    expect(parsePayload('BookAnomalyReported', payload)).toEqual({ venue: 'NASDAQ', instrument: 'NASDAQ:AAPL', kind: 'unknown-order', detail: b.anomalies[0]!.detail, orderRef: '99' });
  });

  it('over-execution and over-cancel are clamped; duplicates and unsafe refs are refused', () => {
    const b = new L3Book();
    b.addOrder(1, 10, BID, 100, 500);
    b.addOrder(1, 11, ASK, 100, 600);
    expect(b.executeOrder(1, 10, 150)).toBe(ANOMALY_OVER_EXECUTION);
    expect(b.instrument(1).executedShares).toBe(100);
    expect(b.depth(1, BID, 5)).toEqual([]);
    expect(b.cancelOrder(1, 11, 101)).toBe(ANOMALY_OVER_CANCEL);
    expect(b.liveOrders).toBe(0);
    expect(b.addOrder(1, 12, BID, 1, 1)).toBe(ANOMALY_NONE);
    expect(b.addOrder(1, 12, ASK, 1, 2)).toBe(ANOMALY_DUPLICATE_ORDER);
    expect(b.depth(1, ASK, 5)).toEqual([]);
    expect(b.addOrder(1, 2 ** 53, BID, 1, 1)).toBe(ANOMALY_UNSAFE_ORDER_REF);
    expect(b.executeOrder(1, 2 ** 60, 1)).toBe(ANOMALY_UNSAFE_ORDER_REF);
    expect(b.addOrder(1, 13, 2 as BookSide, 1, 1)).not.toBe(ANOMALY_NONE);
    expect(b.addOrder(1, 14, BID, 0, 1)).not.toBe(ANOMALY_NONE);
    expect(b.liveOrders).toBe(1);
  });

  it('a ref used with another locate is applied to its own instrument and reported', () => {
    const b = new L3Book();
    b.addOrder(1, 10, BID, 100, 500);
    expect(b.executeOrder(2, 10, 30)).toBe(ANOMALY_LOCATE_MISMATCH);
    expect(b.depth(1, BID, 1)).toEqual([lv(500, 70, 1)]);
    expect(b.peek(2)).toBeUndefined();
  });

  it('keeps only the first records but counts them all', () => {
    const b = new L3Book({ keepAnomalies: 3 });
    for (let i = 0; i < 10; i++) b.deleteOrder(1, 1000 + i);
    expect([b.anomalyCount, b.anomalies.length]).toEqual([10, 3]);
  });
});

/** A naive model of the same rules: a Map of orders, levels by grouping. */
type Op =
  | { k: 'add'; loc: number; ref: number; side: BookSide; shares: number; price: number }
  | { k: 'exec' | 'cancel'; loc: number; ref: number; shares: number }
  | { k: 'del'; loc: number; ref: number }
  | { k: 'rep'; loc: number; ref: number; newRef: number; shares: number; price: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('add' as const), loc: fc.integer({ min: 1, max: 3 }), ref: fc.integer({ min: 1, max: 40 }), side: fc.constantFrom(BID, ASK), shares: fc.integer({ min: 1, max: 500 }), price: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ k: fc.constantFrom('exec' as const, 'cancel' as const), loc: fc.integer({ min: 1, max: 3 }), ref: fc.integer({ min: 1, max: 40 }), shares: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ k: fc.constant('del' as const), loc: fc.integer({ min: 1, max: 3 }), ref: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('rep' as const), loc: fc.integer({ min: 1, max: 3 }), ref: fc.integer({ min: 1, max: 40 }), newRef: fc.integer({ min: 1, max: 40 }), shares: fc.integer({ min: 1, max: 500 }), price: fc.integer({ min: 1, max: 12 }) }),
);

it('L3 book matches a naive model on random operations (levels, counts, anomalies)', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
      const b = new L3Book();
      const model = new Map<number, { loc: number; side: BookSide; shares: number; price: number }>();
      let anomalies = 0;
      for (const op of ops) {
        const o = model.get(op.ref);
        switch (op.k) {
          case 'add':
            b.addOrder(op.loc, op.ref, op.side, op.shares, op.price);
            if (o) anomalies++;
            else model.set(op.ref, { loc: op.loc, side: op.side, shares: op.shares, price: op.price });
            break;
          case 'exec':
          case 'cancel':
            if (op.k === 'exec') b.executeOrder(op.loc, op.ref, op.shares);
            else b.cancelOrder(op.loc, op.ref, op.shares);
            if (!o) anomalies++;
            else {
              // a locate mismatch and an overfill in one message are both reported
              if (o.loc !== op.loc) anomalies++;
              if (op.shares > o.shares) anomalies++;
              o.shares -= Math.min(op.shares, o.shares);
              if (o.shares === 0) model.delete(op.ref);
            }
            break;
          case 'del':
            b.deleteOrder(op.loc, op.ref);
            if (!o) anomalies++;
            else {
              if (o.loc !== op.loc) anomalies++;
              model.delete(op.ref);
            }
            break;
          case 'rep':
            b.replaceOrder(op.loc, op.ref, op.newRef, op.shares, op.price);
            if (!o) anomalies++;
            else {
              if (o.loc !== op.loc) anomalies++;
              model.delete(op.ref);
              if (model.has(op.newRef)) anomalies++;
              else model.set(op.newRef, { loc: o.loc, side: o.side, shares: op.shares, price: op.price });
            }
            break;
        }
      }
      expect(b.anomalyCount).toBe(anomalies);
      expect(b.liveOrders).toBe(model.size);
      for (let loc = 1; loc <= 3; loc++) {
        for (const side of [BID, ASK] as const) {
          const levels = new Map<number, LevelView>();
          for (const o of model.values()) {
            if (o.loc !== loc || o.side !== side) continue;
            const l = levels.get(o.price) ?? lv(o.price, 0, 0);
            l.shares += o.shares;
            l.orders += 1;
            levels.set(o.price, l);
          }
          const want = [...levels.values()].sort((x, y) => (side === BID ? y.priceTicks - x.priceTicks : x.priceTicks - y.priceTicks));
          expect(b.depth(loc, side, 100)).toEqual(want);
        }
      }
      for (const [ref, o] of model) expect(b.order(ref)).toEqual({ locate: o.loc, side: o.side, priceTicks: o.price, shares: o.shares });
    }),
    { numRuns: 300 },
  );
});

it('OrderIndex agrees with a Map through inserts, removes and growth', () => {
  const key = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), key), { maxLength: 4000 }), (ops) => {
      const ix = new OrderIndex(16);
      const m = new Map<number, number>();
      ops.forEach(([insert, k], i) => {
        if (insert) expect(ix.insert(k, i)).toBe(!m.has(k));
        else expect(ix.remove(k)).toBe(m.get(k) ?? -1);
        if (insert && !m.has(k)) m.set(k, i);
        if (!insert) m.delete(k);
      });
      expect(ix.size).toBe(m.size);
      for (const [k, v] of m) expect(ix.get(k)).toBe(v);
      expect(ix.get(-5)).toBe(-1);
    }),
    { numRuns: 60 },
  );
});

/** Checks the touched instrument after every book message: positive shares and counts, never crossed. */
class CheckingListener extends ItchBookListener {
  checks = 0;
  private check(locate: number): void {
    const bids = this.book.depth(locate, BID, 1000);
    const asks = this.book.depth(locate, ASK, 1000);
    for (const l of [...bids, ...asks]) {
      if (!(l.shares > 0 && l.orders > 0)) throw new Error(`level ${JSON.stringify(l)} of locate ${locate} is not positive`);
    }
    if (bids.length > 0 && asks.length > 0 && bids[0]!.priceTicks >= asks[0]!.priceTicks) {
      throw new Error(`locate ${locate} crossed: bid ${bids[0]!.priceTicks} >= ask ${asks[0]!.priceTicks}`);
    }
    this.checks++;
  }
  override addOrder(m: AddOrderView): void {
    super.addOrder(m);
    this.check(m.stockLocate());
  }
  override orderExecuted(m: OrderExecutedView): void {
    super.orderExecuted(m);
    this.check(m.stockLocate());
  }
  override orderExecutedWithPrice(m: OrderExecutedWithPriceView): void {
    super.orderExecutedWithPrice(m);
    this.check(m.stockLocate());
  }
  override orderCancel(m: OrderCancelView): void {
    super.orderCancel(m);
    this.check(m.stockLocate());
  }
  override orderDelete(m: OrderDeleteView): void {
    super.orderDelete(m);
    this.check(m.stockLocate());
  }
  override orderReplace(m: OrderReplaceView): void {
    super.orderReplace(m);
    this.check(m.stockLocate());
  }
}

describe('L3 book built from generated ITCH days', () => {
  it('never shows non-positive shares or a crossed book, and reports no anomaly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 12 }), (seed, symbols) => {
        const day = generateItchDay({ seed, messages: 2500, symbols });
        const l = new CheckingListener();
        readItchBytes(day, l);
        expect(l.book.anomalyCount).toBe(0);
        expect(l.checks).toBeGreaterThan(1500);
        let live = 0;
        for (const loc of l.book.locates()) live += l.book.instrument(loc).liveOrders;
        expect(live).toBe(l.book.liveOrders);
      }),
      { numRuns: 25 },
    );
  });

  it('asked for anomalies, the book reports them and stays valid', () => {
    const day = generateItchDay({ seed: 5, messages: 20_000, symbols: 10, unknownRefRate: 0.01 });
    const l = new CheckingListener();
    readItchBytes(day, l);
    expect(l.book.anomalyCount).toBeGreaterThan(100);
    expect(l.book.anomalyCount).toBeLessThan(400);
    expect(l.book.anomalyCount).toBe(l.book.anomalyCountByKind['unknown-order']);
  });
});
