// The portfolio's reversal, complete-set and settlement paths that test/domain/outcome-markets.test.ts does
// not reach (issue 9, the survivors of `npm run mutate` on domain/portfolio): a reversed sell (spot, base
// currency, realized P&L taken back), the memory of reversible fills, which leg of a complete set is which,
// when YES and NO do not net, and resolutions that settle nothing.
import { describe, expect, it } from 'vitest';
import type { PayloadOf } from '../../domain/events/catalog.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { evolve, initialState, positionKey, REVERSIBLE_FILLS_MAX, type PortfolioState } from '../../domain/portfolio/portfolio.js';
import { at, DECISION, filled, INSTR, intended, VENUE } from './builders.js';

function run(...events: TimedEvent[]): PortfolioState {
  const s = initialState();
  for (const e of events) evolve(s, e);
  return s;
}

function reversed(f: TimedEvent): TimedEvent {
  const { leavesLots: _l, liquidity: _q, ...facts } = f.data as PayloadOf<'OrderFilled'>;
  return at('FillReversed', { ...facts, reason: 'trade FAILED' });
}

const spot = at('InstrumentDefined', { venue: VENUE, instrument: INSTR, symbol: 'BTCUSD', kind: 'spot', baseCurrency: 'BTC', quoteCurrency: 'USD', priceScale: 2, qtyScale: 0, tickSizeTicks: 1, lotSizeLots: 1 });
const mm = { decision: { ...DECISION, strategyId: 'mm' } };
const pos = (s: PortfolioState, strategy = 'mm', instrument = INSTR) => s.positions.get(positionKey(strategy, VENUE, instrument))!;

describe('a reversed fill', () => {
  it('a sell of a spot instrument: position, realized P&L, quote and base cash, counts and fee all taken back', () => {
    const f2 = filled('o2', 4, 120, 0, { side: 'sell', fee: 7n, feeScale: 2, fillId: 'f2' });
    const s = run(spot, intended('o1', mm), filled('o1', 10, 100, 0, { fillId: 'f1' }), intended('o2', { ...mm, side: 'sell' }), f2);
    expect(pos(s)).toMatchObject({ qtyLots: 6, realizedPnl: 80n, soldLots: 4, fillCount: 2 });
    evolve(s, reversed(f2));
    expect(pos(s)).toMatchObject({ qtyLots: 10, costBasis: 1000n, realizedPnl: 0n, boughtLots: 10, soldLots: 0, fillCount: 1 });
    expect(pos(s).fees.get('USD')).toEqual({ amount: 0n, scale: 2 });
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: -1000n, scale: 2 });
    expect(s.cash.get(`${VENUE}|BTC`)!.total).toEqual({ amount: 10n, scale: 0 });
    expect([...s.cash.keys()].sort()).toEqual([`${VENUE}|BTC`, `${VENUE}|USD`]);
  });

  it('a sell after P&L was already realized: only what that fill realized is taken back', () => {
    const f3 = filled('o3', 2, 130, 0, { side: 'sell', fillId: 'f3' });
    const s = run(spot, intended('o1', mm), filled('o1', 10, 100, 0, { fillId: 'f1' }), intended('o2', { ...mm, side: 'sell' }),
      filled('o2', 4, 120, 0, { side: 'sell', fillId: 'f2' }), intended('o3', { ...mm, side: 'sell' }), f3);
    expect(pos(s)).toMatchObject({ qtyLots: 4, realizedPnl: 80n + 60n });
    evolve(s, reversed(f3));
    expect(pos(s)).toMatchObject({ qtyLots: 6, costBasis: 600n, realizedPnl: 80n, soldLots: 4, fillCount: 2 });
  });

  it('of an instrument nobody defined: no base currency is moved', () => {
    const f1 = filled('o1', 3, 100, 0, { fillId: 'f1' });
    const s = run(intended('o1', mm), f1, reversed(f1));
    expect(pos(s)).toMatchObject({ qtyLots: 0, costBasis: 0n, boughtLots: 0, fillCount: 0 });
    expect([...s.cash.keys()].sort()).toEqual([`${VENUE}|${INSTR}/quote`, `${VENUE}|USD`]);
  });

  it('a sell it never saw is taken back by a buy at its price, on the position of the order\'s strategy', () => {
    const s = run(spot, intended('o1', { ...mm, side: 'sell' }), reversed(filled('o1', 3, 150, 7, { side: 'sell', fillId: 'ghost' })));
    expect(pos(s)).toMatchObject({ qtyLots: 3, costBasis: 450n });
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: -450n, scale: 2 });
    expect(s.cash.get(`${VENUE}|BTC`)!.total).toEqual({ amount: 3n, scale: 0 });
  });

  it(`the last ${REVERSIBLE_FILLS_MAX} fills stay reversible; an older one is forgotten and reversed by the opposite trade`, () => {
    const s = run(intended('o1', { ...mm, qtyLots: 1_000_000 }));
    for (let i = 0; i <= REVERSIBLE_FILLS_MAX; i++) evolve(s, filled('o1', 1, 100, 1_000_000 - i - 1, { fillId: `f${i}` }));
    expect(s.reversible.size).toBe(REVERSIBLE_FILLS_MAX);
    expect(s.reversible.has('f0')).toBe(false);
    expect(s.reversible.has('f1')).toBe(true);
    expect(s.reversible.has(`f${REVERSIBLE_FILLS_MAX}`)).toBe(true);
    evolve(s, reversed(filled('o1', 1, 100, 0, { fillId: 'f0' })));
    expect(pos(s)).toMatchObject({ qtyLots: REVERSIBLE_FILLS_MAX, boughtLots: REVERSIBLE_FILLS_MAX, fillCount: REVERSIBLE_FILLS_MAX });
  });
});

describe('complete sets', () => {
  const V = 'PM';
  const YES = 'PM:Y';
  const NO = 'PM:N';
  const ONE = 10_000;
  const market = at('OutcomeMarketDefined', { venue: V, market: 'm', yes: YES, no: NO, priceScale: 4, payoutTicks: ONE });
  const intent = (orderId: string, instrument: string, side: 'buy' | 'sell' = 'buy') => intended(orderId, { ...mm, venue: V, instrument, side, priceScale: 4, qtyScale: 0, qtyLots: 1000 });
  const fill = (orderId: string, instrument: string, qty: number, px: number, o: Partial<PayloadOf<'OrderFilled'>> = {}) =>
    filled(orderId, qty, px, 500, { venue: V, instrument, priceScale: 4, qtyScale: 0, fillId: `${orderId}-${instrument}-${qty}-${px}-${o.side ?? 'buy'}-${o.priceScale ?? 4}-${o.qtyScale ?? 0}`, ...o });
  const p = (s: PortfolioState, instrument: string) => s.positions.get(positionKey('mm', V, instrument))!;

  it('the market links YES and NO both ways', () => {
    const s = run(market);
    expect(s.outcomes.get(YES)).toEqual({ venue: V, market: 'm', complement: NO, outcome: 'YES', payoutTicks: ONE, priceScale: 4 });
    expect(s.outcomes.get(NO)).toEqual({ venue: V, market: 'm', complement: YES, outcome: 'NO', payoutTicks: ONE, priceScale: 4 });
  });

  it('the YES fill completing the sets: NO leaves at its average cost rounded down, YES at the rest of the payout', () => {
    const s = run(market, intent('n', NO), intent('y', YES), fill('n', NO, 1, 5001), fill('n', NO, 2, 5002), fill('y', YES, 3, 4500));
    // NO: 3 at 15005 (average 5001.67 → 5001): realized 3 × 5001 − 15005 = −2; YES: 3 × 4999 − 13500 = 1497.
    expect(p(s, NO)).toMatchObject({ qtyLots: 0, costBasis: 0n, realizedPnl: -2n });
    expect(p(s, YES)).toMatchObject({ qtyLots: 0, costBasis: 0n, realizedPnl: 1497n });
  });

  it('a NO average above the payout (bad data) is taken at the payout, so the YES leg is never priced below 0', () => {
    const s = run(market, intent('n', NO), intent('y', YES), fill('n', NO, 2, 12_000), fill('y', YES, 2, 100));
    expect(p(s, NO)).toMatchObject({ qtyLots: 0, realizedPnl: 2n * BigInt(ONE) - 24_000n });
    expect(p(s, YES)).toMatchObject({ qtyLots: 0, realizedPnl: -200n });
  });

  it('no netting for a short leg, a flat leg, or legs at other scales than the market\'s or each other\'s', () => {
    // A short NO beside a long YES; then the NO back to flat.
    const short = run(market, intent('y', YES), intent('n', NO, 'sell'), fill('y', YES, 10, 4000), fill('n', NO, 5, 5000, { side: 'sell' }));
    expect([p(short, YES).qtyLots, p(short, NO).qtyLots]).toEqual([10, -5]);
    evolve(short, fill('n', NO, 5, 5000));
    expect([p(short, YES).qtyLots, p(short, NO).qtyLots]).toEqual([10, 0]);
    expect(p(short, YES).realizedPnl).toBe(0n);
    // More YES beside the flat NO: still nothing to net.
    evolve(short, fill('y', YES, 1, 4000));
    expect([p(short, YES).qtyLots, p(short, NO).qtyLots]).toEqual([11, 0]);
    // A short YES, then a NO bought.
    const shortYes = run(market, intent('y', YES, 'sell'), intent('n', NO), fill('y', YES, 5, 4000, { side: 'sell' }), fill('n', NO, 10, 5000));
    expect([p(shortYes, YES).qtyLots, p(shortYes, NO).qtyLots]).toEqual([-5, 10]);
    // Both legs at a price scale other than the market's.
    const px3 = run(market, intent('y', YES), intent('n', NO), fill('n', NO, 2, 500, { priceScale: 3 }), fill('y', YES, 2, 450, { priceScale: 3 }));
    expect([p(px3, YES).qtyLots, p(px3, NO).qtyLots]).toEqual([2, 2]);
    // NO at another price scale than the YES that completes the set.
    const mixedPx = run(market, intent('y', YES), intent('n', NO), fill('n', NO, 2, 500, { priceScale: 3 }), fill('y', YES, 2, 4500));
    expect([p(mixedPx, YES).qtyLots, p(mixedPx, NO).qtyLots]).toEqual([2, 2]);
    // NO at another quantity scale.
    const mixedQty = run(market, intent('y', YES), intent('n', NO), fill('n', NO, 20, 5000, { qtyScale: 1 }), fill('y', YES, 2, 4500));
    expect([p(mixedQty, YES).qtyLots, p(mixedQty, NO).qtyLots]).toEqual([2, 20]);
  });
});

describe('market resolution', () => {
  const V = 'PM';
  const YES = 'PM:Y';
  const resolved = (o: Partial<PayloadOf<'MarketResolved'>> = {}) => at('MarketResolved', { venue: V, market: 'm', priceScale: 4, payouts: [{ instrument: YES, payoutTicks: 10_000 }], ...o });
  const held = () => run(intended('y', { ...mm, venue: V, instrument: YES, priceScale: 4 }), filled('y', 3, 4000, 7, { venue: V, instrument: YES, priceScale: 4, fillId: 'a' }));

  it('settles nothing on another venue or at another price scale', () => {
    for (const e of [resolved({ venue: 'ELSEWHERE' }), resolved({ priceScale: 2 })]) {
      const s = held();
      evolve(s, e);
      expect(s.positions.get(positionKey('mm', V, YES))).toMatchObject({ qtyLots: 3, realizedPnl: 0n });
    }
    const s = held();
    evolve(s, resolved());
    expect(s.positions.get(positionKey('mm', V, YES))).toMatchObject({ qtyLots: 0, realizedPnl: 3n * 6000n });
  });

  it('marks only instruments that had a mark', () => {
    const s = held();
    evolve(s, resolved({ payouts: [{ instrument: YES, payoutTicks: 0 }, { instrument: 'PM:OTHER', payoutTicks: 10_000 }] }));
    expect(s.marks.get(YES)).toBe(0);
    expect(s.marks.has('PM:OTHER')).toBe(false);
  });
});
