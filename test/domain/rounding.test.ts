/**
 * Rounding where it happens, on examples that do not divide exactly: a venue's fee in bps (rounded up,
 * so a charge is never under-stated and a rebate never over-stated), and the average cost that leaves
 * with a partial close (half-even, the remainder booked in realized so cash stays exact).
 */
import { describe, expect, it } from 'vitest';
import { applyFill, averageCost, averageCostDecimal, newPositionCore, unrealizedPnl } from '../../domain/portfolio/position.js';
import { feeFor } from '../../domain/venue/simulated.js';

const schedule = (over: Partial<Parameters<typeof feeFor>[0]> = {}): Parameters<typeof feeFor>[0] => ({
  makerBps4: 0n, takerBps4: 0n, makerPerLot: 0n, takerPerLot: 0n, feeScale: 2, ...over,
});

describe('fees (bps of notional plus per lot, rounded up)', () => {
  it('a taker fee that does not divide is rounded up to the next cent', () => {
    // 3 lots at 100.01 = 300.03; 10 bps = 0.30003 → 0.31.
    expect(feeFor(schedule({ takerBps4: 100_000n }), 'taker', 10_001, 3, 2)).toBe(31n);
    // The maker rate is not used for a taker fill, nor the other way round.
    expect(feeFor(schedule({ takerBps4: 100_000n }), 'maker', 10_001, 3, 2)).toBe(0n);
    expect(feeFor(schedule({ makerBps4: 100_000n }), 'maker', 10_001, 3, 2)).toBe(31n);
  });

  it('an exact fee is not rounded', () => {
    // 3 lots at 100.00 = 300.00; 10 bps = 0.30 exactly.
    expect(feeFor(schedule({ takerBps4: 100_000n }), 'taker', 10_000, 3, 2)).toBe(30n);
  });

  it('a rebate (negative bps) is rounded toward zero: never over-stated', () => {
    // 300.03 × −2 bps = −0.060006 → −0.06.
    expect(feeFor(schedule({ makerBps4: -20_000n }), 'maker', 10_001, 3, 2)).toBe(-6n);
  });

  it('per-lot fees add to the bps fee; the notional scale counts price and quantity decimals', () => {
    // 2.5 lots (qty scale 1: 25 lots) at 100.01: 250.025; 10 bps = 0.250025 → 0.26; plus 25 × 0.01.
    expect(feeFor(schedule({ takerBps4: 100_000n, takerPerLot: 1n }), 'taker', 10_001, 25, 3)).toBe(26n + 25n);
    expect(feeFor(schedule({ makerPerLot: -2n }), 'maker', 10_001, 25, 3)).toBe(-50n);
    // A finer fee scale keeps more of it: 0.250025 at 4 decimals → 0.2501 (rounded up).
    expect(feeFor(schedule({ takerBps4: 100_000n, feeScale: 4 }), 'taker', 10_001, 25, 3)).toBe(2_501n);
  });
});

describe('average cost on a partial close (half-even, remainder in realized)', () => {
  it('long: the cost leaving with one of three lots does not divide; cash identity holds', () => {
    const p = newPositionCore(2, 0);
    applyFill(p, 'buy', 1, 100);
    applyFill(p, 'buy', 2, 101); // cost 302 for 3 lots: 100.666…
    expect(averageCostDecimal(p)).toBe('1.006667');
    expect(averageCost(p)).toEqual({ numerator: 302n, denominator: 3n });
    const realized = applyFill(p, 'sell', 1, 110); // 302/3 = 100.67 → 101 leaves
    expect(realized).toBe(9n);
    expect(p).toMatchObject({ qtyLots: 2, costBasis: 201n, realizedPnl: 9n });
    // Σ signed qty × price == costBasis − realized.
    expect(-100n - 202n + 110n).toBe(-(p.costBasis - p.realizedPnl));
    expect(unrealizedPnl(p, 110)).toBe(220n - 201n);
  });

  it('an exact half goes to the even neighbour, both ways', () => {
    const down = newPositionCore(2, 0);
    applyFill(down, 'buy', 2, 100);
    applyFill(down, 'buy', 2, 101); // 402 / 4 = 100.5 per lot → 100 leaves
    expect(applyFill(down, 'sell', 1, 110)).toBe(10n);
    expect(down.costBasis).toBe(302n);
    const up = newPositionCore(2, 0);
    applyFill(up, 'buy', 2, 101);
    applyFill(up, 'buy', 2, 102); // 406 / 4 = 101.5 → 102 leaves
    expect(applyFill(up, 'sell', 1, 110)).toBe(8n);
    expect(up.costBasis).toBe(304n);
  });

  it('short: the same rounding with signs reversed', () => {
    const p = newPositionCore(2, 0);
    applyFill(p, 'sell', 2, 100);
    applyFill(p, 'sell', 2, 101); // cost −402: −100.5 per lot → −100 leaves
    expect(averageCostDecimal(p)).toBe('1.005000');
    expect(applyFill(p, 'buy', 1, 90)).toBe(10n);
    expect(p).toMatchObject({ qtyLots: -3, costBasis: -302n, realizedPnl: 10n });
    // 302/3 = 100.666… short: rendered as the positive price per lot.
    expect(averageCostDecimal(p, 2)).toBe('1.0067');
  });

  it('closing every lot takes the whole cost, rounding nothing; crossing zero opens at the fill price', () => {
    const p = newPositionCore(2, 0);
    applyFill(p, 'buy', 1, 100);
    applyFill(p, 'buy', 2, 101);
    expect(applyFill(p, 'sell', 5, 110)).toBe(330n - 302n);
    expect(p).toMatchObject({ qtyLots: -2, costBasis: -220n, realizedPnl: 28n });
    expect(averageCostDecimal(newPositionCore(2, 0))).toBeNull();
    expect(averageCost(newPositionCore(2, 0))).toBeNull();
  });
});
