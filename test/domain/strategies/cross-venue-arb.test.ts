import { describe, expect, it } from 'vitest';
import type { TapedeckError } from '../../../domain/core/errors.js';
import { crossVenueArb } from '../../../domain/strategies/cross-venue-arb.js';
import { parseStrategyParams } from '../../../domain/strategies/registry.js';
import { NO_COMMANDS } from '../../../domain/strategies/strategy.js';
import { at, filled, quote } from '../builders.js';
import { Harness } from './harness.js';

const A = { venue: 'BINANCE', instrument: 'BINANCE:BTCUSDT' };
const B = { venue: 'COINBASE', instrument: 'COINBASE:BTC-USD' };
const params = (over: Record<string, unknown> = {}) => parseStrategyParams(crossVenueArb, { legs: [A, B], priceScale: 2, qtyScale: 0, minEdgeTicks: 5, maxQtyLots: 3, maxPositionLots: 4, ...over });
const qa = (bid: number, bq: number, ask: number, aq: number, t = 1n) => quote(bid, bq, ask, aq, t, A.instrument, A.venue);
const qb = (bid: number, bq: number, ask: number, aq: number, t = 1n) => quote(bid, bq, ask, aq, t, B.instrument, B.venue);

describe('cross-venue arbitrage', () => {
  it('does nothing while the venues agree within the edge', () => {
    const h = new Harness(crossVenueArb, params());
    h.on(qa(100, 5, 101, 5));
    expect(h.on(qb(104, 5, 105, 5))).toBe(NO_COMMANDS);
  });

  it('buys the cheap venue and sells the rich one with IOC limits at the quotes, sized by the displayed qty', () => {
    const h = new Harness(crossVenueArb, params());
    h.on(qa(100, 5, 101, 2));
    const cmds = h.on(qb(107, 9, 108, 9));
    expect(cmds).toEqual([
      expect.objectContaining({ kind: 'PlaceOrder', venue: 'BINANCE', instrument: A.instrument, side: 'buy', priceTicks: 101, qtyLots: 2, timeInForce: 'IOC' }),
      expect.objectContaining({ kind: 'PlaceOrder', venue: 'COINBASE', instrument: B.instrument, side: 'sell', priceTicks: 107, qtyLots: 2, timeInForce: 'IOC' }),
    ]);
  });

  it('works in the other direction and respects the position limit per leg', () => {
    const h = new Harness(crossVenueArb, params({ maxQtyLots: 10 }));
    h.on(qb(100, 50, 101, 50));
    expect(h.on(qa(110, 50, 111, 50))).toEqual([
      expect.objectContaining({ instrument: B.instrument, side: 'buy', qtyLots: 4 }),
      expect.objectContaining({ instrument: A.instrument, side: 'sell', qtyLots: 4 }),
    ]);
  });

  it('waits for both legs, then flattens a legging imbalance on the better-priced venue', () => {
    const h = new Harness(crossVenueArb, params());
    h.on(qa(100, 5, 101, 2));
    const [buy, sell] = h.on(qb(107, 9, 108, 9));
    const buyId = h.accept(buy!, 1n);
    const sellId = h.accept(sell!, 1n);
    // Buy leg fills; while the sell leg is still out, nothing new.
    expect(h.on(filled(buyId, 2, 101, 0, { venue: A.venue, instrument: A.instrument, side: 'buy', fillId: 'a1' }, 2n))).toBe(NO_COMMANDS);
    // Sell leg is canceled unfilled: long 2 on A, flat on B → sell 2 where the bid is best (B at 107).
    const cmds = h.on(at('OrderCanceled', { orderId: sellId, canceledLots: 2 }, 3n));
    expect(cmds).toEqual([expect.objectContaining({ tag: 'arb-flatten', instrument: B.instrument, side: 'sell', priceTicks: 107, qtyLots: 2 })]);
    expect(h.state.positionLots).toEqual([2, 0]);
  });

  it('rejects params whose legs are the same instrument, naming the field', () => {
    try {
      parseStrategyParams(crossVenueArb, { legs: [A, A], priceScale: 2, qtyScale: 0 });
      throw new Error('no error');
    } catch (e) {
      expect((e as TapedeckError).code).toBe('STRATEGY_PARAMS');
      expect((e as TapedeckError).where?.field).toBe('params.legs');
    }
  });
});
