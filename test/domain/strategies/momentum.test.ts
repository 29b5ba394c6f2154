import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../../domain/core/errors.js';
import { momentum } from '../../../domain/strategies/momentum.js';
import { getStrategy, parseStrategyParams, strategyIdentity, strategyNames } from '../../../domain/strategies/registry.js';
import { NO_COMMANDS } from '../../../domain/strategies/strategy.js';
import { delta, filled, INSTR, quote, snapshot, VENUE } from '../builders.js';
import { Harness } from './harness.js';

const params = (over: Record<string, unknown> = {}) => parseStrategyParams(momentum, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, lookback: 3, thresholdTicks: 4, qtyLots: 2, maxPositionLots: 3, ...over });

describe('momentum taker', () => {
  it('buys at the ask after the mid rises by the threshold over the lookback', () => {
    const h = new Harness(momentum, params());
    expect(h.on(quote(100, 1, 102, 1, 1n))).toBe(NO_COMMANDS);
    expect(h.on(quote(102, 1, 104, 1, 2n))).toBe(NO_COMMANDS);
    expect(h.on(quote(104, 1, 106, 1, 3n))).toEqual([
      expect.objectContaining({ kind: 'PlaceOrder', side: 'buy', orderType: 'limit', priceTicks: 106, qtyLots: 2, timeInForce: 'IOC' }),
    ]);
  });

  it('sells after a fall, on L2 data, and ignores book churn that leaves the mid unchanged', () => {
    const h = new Harness(momentum, params());
    h.on(snapshot([[110, 5], [100, 5]], [[112, 5]], 1n));
    h.on(delta([['buy', 95, 3]], 2n));
    h.on(delta([['sell', 120, 3]], 3n));
    expect(h.state.count).toBe(1);
    expect(h.on(delta([['buy', 110, 0]], 4n))).toBe(NO_COMMANDS); // mid 111 → 106
    expect(h.on(delta([['sell', 112, 0], ['sell', 104, 2]], 5n))).toEqual([ // mid 106 → 102
      expect.objectContaining({ side: 'sell', priceTicks: 100 }),
    ]);
  });

  it('respects the position limit and one order at a time', () => {
    const h = new Harness(momentum, params());
    h.on(quote(100, 1, 102, 1, 1n));
    h.on(quote(102, 1, 104, 1, 2n));
    const [c] = h.on(quote(104, 1, 106, 1, 3n));
    const id = h.accept(c!, 3n);
    expect(h.on(quote(110, 1, 112, 1, 4n))).toBe(NO_COMMANDS);
    h.on(filled(id, 2, 106, 0, { fillId: 'm1' }, 5n));
    expect(h.state.positionLots).toBe(2);
    expect(h.on(quote(112, 1, 114, 1, 6n))).toEqual([expect.objectContaining({ side: 'buy', qtyLots: 1 })]);
  });

  it('honours the cooldown in event time', () => {
    const h = new Harness(momentum, params({ cooldownNs: 100 }));
    h.on(quote(100, 1, 102, 1, 1n));
    h.on(quote(102, 1, 104, 1, 2n));
    const [c] = h.on(quote(104, 1, 106, 1, 3n));
    const id = h.accept(c!, 3n);
    h.on(filled(id, 2, 106, 0, { fillId: 'm1' }, 4n));
    expect(h.on(quote(108, 1, 110, 1, 50n))).toBe(NO_COMMANDS);
    expect(h.on(quote(110, 1, 112, 1, 103n))).not.toBe(NO_COMMANDS);
  });
});

describe('strategy registry', () => {
  it('lists the strategies and finds them by name', () => {
    expect(strategyNames()).toEqual(['binary-market-maker', 'cross-venue-arb', 'market-maker', 'momentum']);
    expect(getStrategy('momentum')).toBe(momentum);
    expect(strategyIdentity(momentum)).toBe('momentum@1.0.0');
  });

  it('an unknown name is a TapedeckError listing the known ones', () => {
    try {
      getStrategy('martingale');
      throw new Error('no error');
    } catch (e) {
      expect((e as TapedeckError).code).toBe('STRATEGY_UNKNOWN');
      expect((e as TapedeckError).message).toContain('market-maker');
    }
  });

  it('params get defaults; a bad param names its field', () => {
    expect(parseStrategyParams(momentum, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0 })).toMatchObject({ lookback: 20, thresholdTicks: 5, cooldownNs: 0n });
    try {
      parseStrategyParams(momentum, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, lookback: 1 });
      throw new Error('no error');
    } catch (e) {
      expect((e as TapedeckError).code).toBe('STRATEGY_PARAMS');
      expect((e as TapedeckError).where?.field).toBe('params.lookback');
    }
  });
});
