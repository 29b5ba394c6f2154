import { describe, expect, it } from 'vitest';
import { nextInt, seedPrng } from '../../domain/core/prng.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { positionKey, positionLots } from '../../domain/portfolio/portfolio.js';
import { marketMaker } from '../../domain/strategies/market-maker.js';
import { momentum } from '../../domain/strategies/momentum.js';
import { parseStrategyParams } from '../../domain/strategies/registry.js';
import { INSTR, VENUE } from './builders.js';
import { runKernel } from './kernel-loop.js';

/** A seeded synthetic L2 session: a random-walk touch, depth churn and trades on both sides. */
function session(seed: number, n: number): TimedEvent[] {
  const rng = seedPrng(seed);
  const base = (): { venue: string; instrument: string; priceScale: number; qtyScale: number } => ({ venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0 });
  let mid = 10_000;
  const ev: TimedEvent[] = [{
    type: 'BookSnapshotted', eventTimeNs: 1_000n,
    data: { ...base(), bids: Array.from({ length: 5 }, (_, i) => [mid - 1 - i, 5] as [number, number]), asks: Array.from({ length: 5 }, (_, i) => [mid + 1 + i, 5] as [number, number]) },
  } as TimedEvent];
  let t = 1_000n;
  for (let k = 0; k < n; k++) {
    t += BigInt(10_000 + nextInt(rng, 100_000));
    const r = nextInt(rng, 10);
    if (r < 3) {
      const buy = nextInt(rng, 2) === 0;
      ev.push({ type: 'TradeReported', eventTimeNs: t, data: { ...base(), tradeId: `t${k}`, priceTicks: buy ? mid + 1 : mid - 1, qtyLots: 1 + nextInt(rng, 8), aggressor: buy ? 'buy' : 'sell' } } as TimedEvent);
    } else if (r < 5) {
      const up = nextInt(rng, 2) === 0;
      mid += up ? 1 : -1;
      ev.push({ type: 'BookDeltaApplied', eventTimeNs: t, data: { ...base(), changes: [
        { side: up ? 'sell' : 'buy', priceTicks: mid, qtyLots: 0 },
        { side: up ? 'buy' : 'sell', priceTicks: up ? mid - 1 : mid + 1, qtyLots: 1 + nextInt(rng, 6) },
        { side: up ? 'sell' : 'buy', priceTicks: up ? mid + 1 : mid - 1, qtyLots: 1 + nextInt(rng, 6) },
      ] } } as TimedEvent);
    } else {
      const side = nextInt(rng, 2) === 0 ? 'buy' : 'sell';
      const lvl = 1 + nextInt(rng, 5);
      ev.push({ type: 'BookDeltaApplied', eventTimeNs: t, data: { ...base(), changes: [{ side, priceTicks: side === 'buy' ? mid - lvl : mid + lvl, qtyLots: nextInt(rng, 9) }] } } as TimedEvent);
    }
  }
  return ev;
}

const venueCfg = { venue: VENUE, latency: { submitNs: 300_000, ackNs: 200_000, cancelNs: 100_000, jitterNs: 50_000 }, seed: 3, fees: { makerBps: '-0.5', takerBps: 2, feeCurrency: 'USD', feeScale: 8 } };
const riskCfg = { defaults: { maxOrderQtyLots: 10, maxPositionLots: 8, collarBps: 300 }, maxOpenOrders: 6, orderRate: { maxOrders: 50, windowNs: 1_000_000_000 } };

describe('the reducers composed as the kernel drives them', () => {
  const mmParams = parseStrategyParams(marketMaker, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, halfSpreadTicks: 1, requoteThresholdTicks: 1, maxInventoryLots: 6, sizeJitterLots: 2 });
  const events = session(11, 3_000);

  it('a market maker session: every venue report is a valid transition, and the books agree', () => {
    const run = runKernel(events, { strategy: marketMaker, params: mmParams, seed: 5, risk: riskCfg, venue: venueCfg });
    const fills = run.recorded.flatMap((e) => (e.type === 'OrderFilled' ? [e.data] : []));
    expect(fills.length).toBeGreaterThan(20);
    expect(run.recorded.some((e) => e.type === 'OrderReplaced')).toBe(true);
    const signed = fills.reduce((a, f) => a + (f.side === 'buy' ? f.qtyLots : -f.qtyLots), 0);
    // Strategy inventory, portfolio position and risk position all equal the sum of fills.
    expect((run.strategyState as { inventoryLots: number }).inventoryLots).toBe(signed);
    expect(positionLots(run.portfolio, INSTR, 'strategy-1')).toBe(signed);
    expect(run.risk.exposures.get(INSTR)!.position.qtyLots).toBe(signed);
    expect(Math.abs(signed)).toBeLessThanOrEqual(8);
    // Maker fills earn the rebate: fees are negative for makers, positive for takers.
    for (const f of fills) expect(f.liquidity === 'maker' ? f.fee <= 0n : f.fee >= 0n).toBe(true);
    // Live venue orders = working lifecycle orders.
    const working = [...run.orders.orders.values()].filter((o) => o.status === 'accepted' || o.status === 'partially-filled').map((o) => o.orderId).sort();
    expect(run.venue.orders.size).toBe(working.length);
    const pos = run.portfolio.positions.get(positionKey('strategy-1', VENUE, INSTR))!;
    expect(pos.fillCount).toBe(fills.length);
  });

  it('is deterministic: the same inputs and seeds give the same decisions and states', () => {
    const a = runKernel(events, { strategy: marketMaker, params: mmParams, seed: 5, risk: riskCfg, venue: venueCfg });
    const b = runKernel(events, { strategy: marketMaker, params: mmParams, seed: 5, risk: riskCfg, venue: venueCfg });
    expect(a.hash).toBe(b.hash);
    const c = runKernel(events, { strategy: marketMaker, params: mmParams, seed: 6, risk: riskCfg, venue: venueCfg });
    expect(c.hash).not.toBe(a.hash);
  });

  it('a momentum taker session: takers pay fees, risk denies past the position limit', () => {
    const params = parseStrategyParams(momentum, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, lookback: 4, thresholdTicks: 2, qtyLots: 3, maxPositionLots: 20, slippageTicks: 2 });
    const run = runKernel(events, { strategy: momentum, params, seed: 1, risk: riskCfg, venue: venueCfg });
    const fills = run.recorded.flatMap((e) => (e.type === 'OrderFilled' ? [e.data] : []));
    expect(fills.length).toBeGreaterThan(5);
    expect(fills.every((f) => f.liquidity === 'taker' && f.fee > 0n)).toBe(true);
    const denied = run.recorded.flatMap((e) => (e.type === 'RiskDenied' ? [e.data.code] : []));
    expect(denied).toContain('POSITION_LIMIT');
    expect(Math.abs(run.risk.exposures.get(INSTR)!.position.qtyLots)).toBeLessThanOrEqual(8);
  });
});
