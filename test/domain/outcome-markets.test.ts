// Binary outcome markets in the portfolio: YES and NO as linked instruments (complete sets net), a fill
// the venue reverses (Polymarket MATCHED → FAILED), and a market resolution that settles at 1 or 0.
// Given (past events) / Then (the portfolio), exact to the last unit.
import { describe, expect, it } from 'vitest';
import type { PayloadOf } from '../../domain/events/catalog.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { evolve, initialState, positionKey, strategyPnl, type PortfolioState } from '../../domain/portfolio/portfolio.js';
import { at, DECISION } from './builders.js';

const V = 'POLYMARKET';
const YES = 'POLYMARKET:1111';
const NO = 'POLYMARKET:2222';
// Polymarket's scales: prices at 4 decimals (1 = 10_000 ticks), sizes at 6.
const PX = 4;
const QX = 6;
const ONE = 10_000;
const shares = (n: number): number => n * 1_000_000;
const moneyScale = PX + QX;

const market = at('OutcomeMarketDefined', { venue: V, market: '0xabc', yes: YES, no: NO, priceScale: PX, payoutTicks: ONE });
const usdc = at('InstrumentDefined', { venue: V, instrument: YES, symbol: '1111', kind: 'prediction', quoteCurrency: 'USDC', priceScale: PX, qtyScale: QX, tickSizeTicks: 100, lotSizeLots: 10_000 });
const usdcNo = at('InstrumentDefined', { venue: V, instrument: NO, symbol: '2222', kind: 'prediction', quoteCurrency: 'USDC', priceScale: PX, qtyScale: QX, tickSizeTicks: 100, lotSizeLots: 10_000 });

function intent(orderId: string, instrument: string, side: 'buy' | 'sell' = 'buy'): TimedEvent {
  return at('OrderIntended', {
    orderId, venue: V, instrument, side, orderType: 'limit', priceTicks: 5000, qtyLots: shares(100), priceScale: PX, qtyScale: QX,
    timeInForce: 'GTC', postOnly: false, reduceOnly: false, decision: { ...DECISION, strategyId: 'mm' },
  });
}

function fill(orderId: string, instrument: string, fillId: string, qtyLots: number, priceTicks: number, o: Partial<PayloadOf<'OrderFilled'>> = {}): TimedEvent {
  return at('OrderFilled', {
    orderId, venue: V, instrument, fillId, side: 'buy', priceTicks, qtyLots, priceScale: PX, qtyScale: QX,
    fee: 0n, feeScale: 6, feeCurrency: 'USDC', liquidity: 'maker', leavesLots: shares(100) - qtyLots, ...o,
  });
}

function reversed(f: TimedEvent): TimedEvent {
  const d = f.data as PayloadOf<'OrderFilled'>;
  const { leavesLots: _l, liquidity: _q, ...facts } = d;
  return at('FillReversed', { ...facts, reason: 'trade FAILED on chain' });
}

function given(...events: TimedEvent[]): PortfolioState {
  const s = initialState();
  for (const e of [usdc, usdcNo, market, ...events]) evolve(s, e);
  return s;
}

const pos = (s: PortfolioState, instrument: string) => s.positions.get(positionKey('mm', V, instrument))!;
const cash = (s: PortfolioState) => s.cash.get(`${V}|USDC`)!.total;
/** Cash at the money scale (price × qty), for comparisons. */
const cashAt = (s: PortfolioState, scale = moneyScale): bigint => {
  const c = cash(s);
  return c.amount * 10n ** BigInt(scale - c.scale);
};

describe('a trade reversed by the venue (MATCHED → FAILED)', () => {
  it('takes back the position, the cash and the fee the fill booked', () => {
    const f1 = fill('o1', YES, 't1:o1', shares(10), 4000, { fee: 20_000n });
    const s = given(intent('o1', YES), f1, reversed(f1));
    const p = pos(s, YES);
    expect(p).toMatchObject({ qtyLots: 0, costBasis: 0n, realizedPnl: 0n, boughtLots: 0, fillCount: 0 });
    expect(cashAt(s)).toBe(0n);
    expect(s.fees.get(`${V}|USDC`)!.amount).toBe(0n);
    expect(s.reversible.has('t1:o1')).toBe(false);
  });

  it('after MATCHED → MINED → CONFIRMED (folded once), the fill stands', () => {
    const f1 = fill('o1', YES, 't1:o1', shares(10), 4000);
    const s = given(intent('o1', YES), f1);
    expect(pos(s, YES)).toMatchObject({ qtyLots: shares(10), costBasis: BigInt(shares(10)) * 4000n });
    expect(cashAt(s)).toBe(-BigInt(shares(10)) * 4000n);
  });

  it('takes back exactly what that fill booked when others came after it', () => {
    const f1 = fill('o1', YES, 't1:o1', shares(10), 4000);
    const f2 = fill('o1', YES, 't2:o1', shares(10), 6000, { leavesLots: shares(80) });
    const s = given(intent('o1', YES), f1, f2, reversed(f1));
    // As if only the second fill had happened: 10 shares at 0.60.
    expect(pos(s, YES)).toMatchObject({ qtyLots: shares(10), costBasis: BigInt(shares(10)) * 6000n, realizedPnl: 0n, fillCount: 1 });
    expect(cashAt(s)).toBe(-BigInt(shares(10)) * 6000n);
  });

  it('a fill it no longer remembers is reversed by the opposite trade at the same price', () => {
    const s = initialState();
    for (const e of [usdc, intent('o1', YES)]) evolve(s, e);
    evolve(s, reversed(fill('o1', YES, 'never-seen', shares(5), 4000)));
    expect(pos(s, YES)).toMatchObject({ qtyLots: -shares(5) });
    expect(cashAt(s)).toBe(BigInt(shares(5)) * 4000n);
  });
});

describe('YES and NO of one market net against the complete set', () => {
  it('10 YES at 0.45 and 10 NO at 0.50 are 10 sets worth 1: flat, 0.50 realized, cash up by it', () => {
    const s = given(intent('y', YES), intent('n', NO), fill('y', YES, 'a', shares(10), 4500), fill('n', NO, 'b', shares(10), 5000));
    expect(pos(s, YES).qtyLots).toBe(0);
    expect(pos(s, NO).qtyLots).toBe(0);
    const realized = pos(s, YES).realizedPnl + pos(s, NO).realizedPnl;
    expect(realized).toBe(BigInt(shares(10)) * BigInt(ONE - 4500 - 5000));
    expect(cashAt(s)).toBe(realized);
    expect(strategyPnl(s, 'mm').get('USDC')!.amount * 10n ** BigInt(moneyScale - strategyPnl(s, 'mm').get('USDC')!.scale)).toBe(realized);
  });

  it('nets only the sets: the rest of the larger leg stays at its own average cost', () => {
    const s = given(intent('y', YES), intent('n', NO), fill('y', YES, 'a', shares(10), 4500), fill('n', NO, 'b', shares(4), 5000));
    expect(pos(s, YES)).toMatchObject({ qtyLots: shares(6), costBasis: BigInt(shares(6)) * 4500n });
    expect(pos(s, NO).qtyLots).toBe(0);
    expect(pos(s, YES).realizedPnl + pos(s, NO).realizedPnl).toBe(BigInt(shares(4)) * BigInt(ONE - 4500 - 5000));
  });

  it('an average cost that is not a whole tick still books the set exactly (Σ legs = payout − costs)', () => {
    const s = given(intent('y', YES), intent('n', NO),
      fill('y', YES, 'a', 3, 4500), fill('n', NO, 'b', 1, 5001, { leavesLots: shares(100) - 1 }), fill('n', NO, 'c', 2, 5002, { leavesLots: shares(100) - 3 }));
    expect(pos(s, YES).qtyLots + pos(s, NO).qtyLots).toBe(0);
    expect(pos(s, YES).costBasis + pos(s, NO).costBasis).toBe(0n);
    expect(pos(s, YES).realizedPnl + pos(s, NO).realizedPnl).toBe(3n * BigInt(ONE) - 3n * 4500n - 5001n - 2n * 5002n);
  });
});

describe('a market resolution settles at 1 or 0', () => {
  it('YES wins: a long YES settles at 1, a long NO of another strategy at 0; P&L exact', () => {
    const other = at('OrderIntended', { ...(intent('n', NO).data as PayloadOf<'OrderIntended'>), decision: { ...DECISION, strategyId: 'arb' } });
    const s = given(intent('y', YES), other, fill('y', YES, 'a', shares(10), 4500, { fee: 1_000n }), fill('n', NO, 'b', shares(3), 5200),
      at('MarketResolved', { venue: V, market: '0xabc', priceScale: PX, payouts: [{ instrument: YES, payoutTicks: ONE }, { instrument: NO, payoutTicks: 0 }] }));
    const yes = pos(s, YES);
    expect(yes).toMatchObject({ qtyLots: 0, costBasis: 0n, realizedPnl: BigInt(shares(10)) * BigInt(ONE - 4500) });
    const no = s.positions.get(positionKey('arb', V, NO))!;
    expect(no).toMatchObject({ qtyLots: 0, realizedPnl: -BigInt(shares(3)) * 5200n });
    // Cash: −4.5 − 0.001 fee − 1.56 + 10 = 3.939 USDC.
    expect(cashAt(s)).toBe(39_390_000_000n);
    expect(s.marks.get(YES)).toBe(ONE);
  });

  it('NO wins: a short YES (sold without holding) buys back at 0 and keeps the premium', () => {
    const s = given(intent('y', YES, 'sell'), fill('y', YES, 'a', shares(2), 3000, { side: 'sell' }),
      at('MarketResolved', { venue: V, market: '0xabc', priceScale: PX, payouts: [{ instrument: YES, payoutTicks: 0 }, { instrument: NO, payoutTicks: ONE }] }));
    expect(pos(s, YES)).toMatchObject({ qtyLots: 0, realizedPnl: BigInt(shares(2)) * 3000n });
    expect(cashAt(s)).toBe(BigInt(shares(2)) * 3000n);
  });
});
