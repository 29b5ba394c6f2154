import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../domain/core/canonical.js';
import { marketMaker, targetQuotes } from '../../../domain/strategies/market-maker.js';
import { parseStrategyParams } from '../../../domain/strategies/registry.js';
import { NO_COMMANDS, strategyDecider } from '../../../domain/strategies/strategy.js';
import type { StrategyCommand } from '../../../domain/orders/commands.js';
import { DeciderSpecification } from '../../helpers/decider.js';
import { at, filled, INSTR, quote, VENUE } from '../builders.js';
import { Harness, placed } from './harness.js';

const params = (over: Record<string, unknown> = {}) => parseStrategyParams(marketMaker, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, halfSpreadTicks: 2, skewTicks: 1, skewPerLots: 1, maxInventoryLots: 3, ...over });

describe('market maker (Given/When/Then)', () => {
  const mm = (over: Record<string, unknown> = {}) => DeciderSpecification.for(strategyDecider(marketMaker, params(over)));
  const firstQuotes = [
    { kind: 'PlaceOrder', tag: 'mm-bid', side: 'buy', priceTicks: 103, qtyLots: 1, postOnly: true, timeInForce: 'GTC' },
    { kind: 'PlaceOrder', tag: 'mm-ask', side: 'sell', priceTicks: 107, qtyLots: 1, postOnly: true },
  ];

  it('quotes both sides around the mid, post-only GTC', () => {
    mm().given([]).when(quote(100, 5, 110, 5, 1n)).then((cmds) => expect(cmds).toMatchObject(firstQuotes));
  });

  it('does not re-send while its quotes are in flight, and returns the shared empty answer', () => {
    const [bid, ask] = firstQuotes as unknown as StrategyCommand[];
    const inFlight = [quote(100, 5, 110, 5, 1n), placed(bid!, 'k1', 1n), at('RiskApproved', { orderId: 'k1', checks: [] }, 1n), placed(ask!, 'k2', 1n), at('RiskApproved', { orderId: 'k2', checks: [] }, 1n)];
    mm().given(inFlight).when(quote(100, 5, 110, 5, 2n)).then((cmds) => expect(cmds).toBe(NO_COMMANDS));
    // Acknowledged and then canceled by the venue: it quotes again.
    mm().given([...inFlight, at('OrderAccepted', { orderId: 'k1', venueOrderId: 'v1' }, 1n), at('OrderCanceled', { orderId: 'k1', canceledLots: 1 }, 2n)])
      .when(quote(100, 5, 110, 5, 3n)).then((cmds) => expect(cmds).toMatchObject([firstQuotes[0]]));
  });

  it('quotes nothing without a two-sided market', () => {
    mm().given([]).when(quote(100, 5, null, 0, 1n)).then((cmds) => expect(cmds).toBe(NO_COMMANDS));
  });
});

describe('market maker', () => {

  it('skews both quotes against inventory after a fill, replacing the live quotes', () => {
    const h = new Harness(marketMaker, params());
    const ids = h.on(quote(100, 5, 110, 5, 1n)).map((c) => h.accept(c, 1n));
    const after = h.on(filled(ids[0]!, 1, 103, 0, { side: 'buy', fillId: 'f1' }, 2n));
    // Long 1 lot: center 105 → 104; the ask is replaced down to 106, and a new bid goes in at 102.
    expect(after).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'PlaceOrder', side: 'buy', priceTicks: 102 }),
      { kind: 'ReplaceOrder', orderId: ids[1], priceTicks: 106, qtyLots: 1 },
    ]));
    expect(h.state.inventoryLots).toBe(1);
  });

  it('stops quoting the side that would breach the inventory limit, canceling a live quote', () => {
    const h = new Harness(marketMaker, params({ maxInventoryLots: 1 }));
    const ids = h.on(quote(100, 5, 110, 5, 1n)).map((c) => h.accept(c, 1n));
    const cmds = h.on(filled(ids[0]!, 1, 103, 0, { side: 'buy', fillId: 'f1' }, 2n));
    expect(cmds.filter((c) => c.kind === 'PlaceOrder' && c.side === 'buy')).toEqual([]);
    h.on(at('OrderFilled', { orderId: ids[1]!, venue: VENUE, instrument: INSTR, fillId: 'x', side: 'sell', priceTicks: 107, qtyLots: 0 + 1, priceScale: 2, qtyScale: 0, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker', leavesLots: 0 }, 3n));
    expect(h.state.inventoryLots).toBe(0);
  });

  it('targetQuotes never crosses the book and skews by whole steps', () => {
    const p = params({ halfSpreadTicks: 10, skewTicks: 2, skewPerLots: 3 });
    expect(targetQuotes(p, 0, 100, 102)).toEqual({ bid: 91, ask: 111 });
    expect(targetQuotes(p, 2, 100, 102)).toEqual({ bid: 91, ask: 111 });
    expect(targetQuotes(p, 3, 100, 102)).toEqual({ bid: 89, ask: 109 });
    expect(targetQuotes(params({ halfSpreadTicks: 1, skewTicks: 50 }), 1, 100, 102)).toEqual({ bid: 50, ask: 101 });
    expect(targetQuotes(p, 0, 100, null)).toBeNull();
  });

  it('size jitter comes from the seeded PRNG in state: same seed, same quotes', () => {
    const run = (seed: number) => {
      const h = new Harness(marketMaker, params({ sizeJitterLots: 5, maxInventoryLots: 100 }), seed);
      const sizes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const cmds = h.on(quote(100, 5, 110, 5, BigInt(i * 2 + 1)));
        for (const c of cmds) {
          if (c.kind === 'PlaceOrder') sizes.push(c.qtyLots);
          const id = h.accept(c, BigInt(i * 2 + 1));
          h.on(at('OrderCanceled', { orderId: id, canceledLots: c.kind === 'PlaceOrder' ? c.qtyLots : 0 }, BigInt(i * 2 + 2)));
        }
      }
      return { sizes, state: canonicalJson(h.state) };
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42).sizes.some((s) => s > 1)).toBe(true);
    expect(run(42).sizes).not.toEqual(run(43).sizes);
  });
});
