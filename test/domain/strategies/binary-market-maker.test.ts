import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TapedeckError } from '../../../domain/core/errors.js';
import { binaryMarketMaker, fairYesTicks, targetBids } from '../../../domain/strategies/binary-market-maker.js';
import { parseStrategyParams } from '../../../domain/strategies/registry.js';
import { NO_COMMANDS } from '../../../domain/strategies/strategy.js';
import { filled, quote } from '../builders.js';
import { Harness } from './harness.js';

const V = 'POLYMARKET';
const Y = 'POLYMARKET:YES-1';
const N = 'POLYMARKET:NO-1';
const params = (over: Record<string, unknown> = {}) =>
  parseStrategyParams(binaryMarketMaker, { venue: V, yes: Y, no: N, priceScale: 2, qtyScale: 0, halfSpreadTicks: 2, minEdgeTicks: 2, ...over });
const qy = (bid: number | null, ask: number | null, t = 1n) => quote(bid, 10, ask, 10, t, Y, V);
const qn = (bid: number | null, ask: number | null, t = 1n) => quote(bid, 10, ask, 10, t, N, V);

describe('binary-outcome market maker', () => {
  it('bids YES and NO around fair value, the two bids summing to less than 1', () => {
    const h = new Harness(binaryMarketMaker, params());
    // YES 0.60/0.64 → fair 0.62; NO book absent: bids 0.60 YES, 0.36 NO (sum 0.96 ≤ 0.98).
    const cmds = h.on(qy(60, 64));
    expect(cmds).toEqual([
      expect.objectContaining({ kind: 'PlaceOrder', instrument: Y, side: 'buy', priceTicks: 60, postOnly: true, tag: 'bmm-yes' }),
      expect.objectContaining({ kind: 'PlaceOrder', instrument: N, side: 'buy', priceTicks: 36, postOnly: true, tag: 'bmm-no' }),
    ]);
  });

  it('takes fair value from the NO book alone (1 - NO mid), and from both books as their average', () => {
    const p = params();
    const h = new Harness(binaryMarketMaker, p);
    h.on(qn(30, 34));
    expect(fairYesTicks(p, h.market)).toBe(68);
    h.on(qy(60, 64));
    expect(fairYesTicks(p, h.market)).toBe(65);
    const empty = new Harness(binaryMarketMaker, p);
    expect(empty.on(qy(60, null))).toBe(NO_COMMANDS);
  });

  it('never bids at or through a token\'s own best ask (post-only)', () => {
    const h = new Harness(binaryMarketMaker, params({ halfSpreadTicks: 1 }));
    // YES mid from the NO book is 0.70, but the YES book offers at 0.55: the YES bid stays at 0.54.
    h.on(qn(28, 32));
    const cmds = h.on(qy(null, 55));
    expect(cmds[0]).toEqual(expect.objectContaining({ instrument: Y, priceTicks: 54 }));
  });

  it('leans against net exposure: long YES lowers the YES bid and raises the NO bid', () => {
    const h = new Harness(binaryMarketMaker, params({ skewTicks: 1, skewPerLots: 1, quoteQtyLots: 1 }));
    const [y] = h.on(qy(60, 64));
    const yesId = h.accept(y!, 1n);
    const after = h.on(filled(yesId, 1, 60, 0, { venue: V, instrument: Y, side: 'buy', fillId: 'f1' }, 2n));
    expect(h.state.yesLots).toBe(1);
    // Exposure +1: YES 60 - 1 → 59, NO 36 + 1 → 37.
    expect(after).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'PlaceOrder', instrument: Y, priceTicks: 59 }),
      expect.objectContaining({ kind: 'PlaceOrder', instrument: N, priceTicks: 37 }),
    ]));
  });

  it('stops bidding, and cancels the live bid on, the side that would pass the exposure limit', () => {
    const h = new Harness(binaryMarketMaker, params({ maxExposureLots: 1, quoteQtyLots: 1, skewTicks: 0 }));
    const [y, n] = h.on(qy(60, 64));
    const yesId = h.accept(y!, 1n);
    h.accept(n!, 1n);
    // A second YES lot would make the exposure 2 > 1: the YES quote is canceled; NO still quoted.
    const cmds = h.on(filled(yesId, 1, 59, 1, { venue: V, instrument: Y, side: 'buy', fillId: 'f1' }, 2n));
    expect(cmds).toEqual([expect.objectContaining({ kind: 'CancelOrder', orderId: yesId, reason: 'exposure limit' })]);
  });

  it('replaces a quote when fair value moves by the threshold, keeping what already filled', () => {
    const h = new Harness(binaryMarketMaker, params({ requoteThresholdTicks: 2 }));
    const [y, n] = h.on(qy(60, 64));
    const yesId = h.accept(y!, 1n);
    h.accept(n!, 1n);
    expect(h.on(qy(61, 65, 2n))).toBe(NO_COMMANDS); // 1 tick: below the threshold
    const cmds = h.on(qy(64, 68, 3n));
    expect(cmds).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'ReplaceOrder', orderId: yesId, priceTicks: 64 })]));
  });

  it('keeps YES bid + NO bid ≤ 1 - minEdge and both inside (0, 1), whatever the fair value and exposure (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 0, max: 5 }), fc.integer({ min: -40, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }),
      (priceScale, half, edge, skew, exposure, fairFrac) => {
        const p = params({ priceScale, halfSpreadTicks: half, minEdgeTicks: edge, skewTicks: skew });
        const one = 10 ** priceScale;
        const fair = Math.round(fairFrac * one * 2) / 2; // half ticks, as a mid can be
        const t = targetBids(p, fair, exposure);
        expect(t.yes).toBeGreaterThanOrEqual(1);
        expect(t.yes).toBeLessThanOrEqual(one - 1);
        expect(t.no).toBeLessThanOrEqual(one - 1);
        if (t.no >= 1) expect(t.yes + t.no).toBeLessThanOrEqual(one - edge);
      },
    ), { numRuns: 500 });
  });

  it('refuses a market whose YES and NO are the same instrument, naming the field', () => {
    try {
      parseStrategyParams(binaryMarketMaker, { venue: V, yes: Y, no: Y, priceScale: 2, qtyScale: 0 });
      throw new Error('no error');
    } catch (e) {
      expect((e as TapedeckError).code).toBe('STRATEGY_PARAMS');
      expect((e as TapedeckError).where?.field).toBe('params.no');
    }
  });
});
