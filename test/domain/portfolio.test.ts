import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evolve, initialState, markFromMarket, positionKey, positionLots, setMark, strategyPnl, valuation, UNATTRIBUTED, type PortfolioState } from '../../domain/portfolio/portfolio.js';
import { applyFill, averageCostDecimal, newPositionCore, unrealizedPnl } from '../../domain/portfolio/position.js';
import { applyMarketEvent, initialMarketState } from '../../domain/market/book.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { at, filled, INSTR, intended, quote, VENUE } from './builders.js';

function given(config: Parameters<typeof initialState>[0], ...events: TimedEvent[]): PortfolioState {
  const s = initialState(config);
  for (const e of events) evolve(s, e);
  return s;
}

const usd = { instruments: { [INSTR]: { quoteCurrency: 'USD', baseCurrency: 'BTC' } } };

describe('position arithmetic (average cost, exact)', () => {
  it('realizes P&L on a partial close at average cost', () => {
    const p = newPositionCore(2, 0);
    applyFill(p, 'buy', 10, 100);
    applyFill(p, 'buy', 10, 110);
    expect(averageCostDecimal(p, 2)).toBe('1.0500');
    expect(applyFill(p, 'sell', 5, 120)).toBe(5n * 120n - 525n);
    expect(p.qtyLots).toBe(15);
    expect(p.costBasis).toBe(1575n);
    expect(unrealizedPnl(p, 100)).toBe(1500n - 1575n);
  });

  it('handles shorts and a fill that flips the position through zero', () => {
    const p = newPositionCore(2, 0);
    applyFill(p, 'sell', 4, 200);
    expect(p.costBasis).toBe(-800n);
    const realized = applyFill(p, 'buy', 10, 150);
    expect(realized).toBe(800n - 600n);
    expect(p.qtyLots).toBe(6);
    expect(p.costBasis).toBe(900n);
    expect(averageCostDecimal(p, 0)).toBe('1.50');
  });

  it('keeps Σ signed qty × price = costBasis − realized even when average cost does not divide', () => {
    const p = newPositionCore(0, 0);
    applyFill(p, 'buy', 3, 10);
    applyFill(p, 'buy', 3, 11);
    applyFill(p, 'sell', 1, 12);
    applyFill(p, 'sell', 1, 9);
    expect(p.costBasis - p.realizedPnl).toBe(3n * 10n + 3n * 11n - 12n - 9n);
  });
});

describe('portfolio reducer', () => {
  it('attributes fills to the strategy that intended the order, with fees, cash and base balance', () => {
    const s = given(usd,
      intended('o1', { decision: { strategyId: 'mm', strategyCodeHash: 'h', configHash: 'c', stateHash: 's', causeEventId: 'e', causePosition: null } }),
      filled('o1', 4, 10_000, 6, { fee: 12n, feeScale: 2 }),
      filled('o1', 6, 10_100, 0, { fee: -3n, feeScale: 2, liquidity: 'maker' }),
    );
    const p = s.positions.get(positionKey('mm', VENUE, INSTR))!;
    expect(p).toMatchObject({ qtyLots: 10, boughtLots: 10, fillCount: 2, costBasis: 4n * 10_000n + 6n * 10_100n });
    expect(s.fees.get(`${VENUE}|USD`)).toEqual({ amount: 9n, scale: 2 });
    // Cash: −(40000 + 60600) at scale 2, minus 9 (fees, scale 2)
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: -100_600n - 9n, scale: 2 });
    expect(s.cash.get(`${VENUE}|BTC`)!.total).toEqual({ amount: 10n, scale: 0 });
    expect(s.orderStrategy.has('o1')).toBe(false);
  });

  it('fills without a known intent go to the unattributed bucket', () => {
    const s = given(usd, filled('x', 1, 100, 0, { side: 'sell' }));
    expect(positionLots(s, INSTR, UNATTRIBUTED)).toBe(-1);
  });

  it('marks from quotes for traded instruments and values unrealized P&L', () => {
    const s = given(usd, intended('o1'), filled('o1', 2, 100, 8), quote(110, 1, 114, 1));
    const [v] = valuation(s);
    expect(v).toMatchObject({ markTicks: 112, unrealizedPnl: 2n * 112n - 200n, realizedPnl: 0n });
    setMark(s, INSTR, 90);
    expect(valuation(s)[0]!.unrealizedPnl).toBe(180n - 200n);
    const market = initialMarketState();
    applyMarketEvent(market, quote(120, 5, 122, 5));
    markFromMarket(s, market);
    expect(valuation(s)[0]!.markTicks).toBe(121);
  });

  it('a venue balance report replaces our running cash, and later fills build on it', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9),
      at('BalanceReported', { venue: VENUE, currency: 'USD', total: 50_000n, available: 40_000n, scale: 4 }),
      filled('o1', 1, 100, 8, { fillId: 'f2' }));
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: 50_000n - 100n * 100n, scale: 4 });
  });

  it('strategy P&L nets realized, unrealized and fees per currency', () => {
    const s = given(usd, intended('o1'), filled('o1', 2, 100, 8, { fee: 5n, feeScale: 2 }),
      intended('o2', { side: 'sell' }), filled('o2', 1, 130, 9, { side: 'sell', fee: 5n, feeScale: 2 }));
    setMark(s, INSTR, 120);
    // realized 30, unrealized 120 − 100 = 20, fees 10 → 40
    expect(strategyPnl(s, 's1').get('USD')).toEqual({ amount: 40n, scale: 2 });
  });
});

describe('portfolio properties', () => {
  const fillArb = fc.record({
    side: fc.constantFrom('buy' as const, 'sell' as const),
    qty: fc.integer({ min: 1, max: 1_000 }),
    price: fc.integer({ min: 1, max: 10_000_000 }),
    fee: fc.bigInt({ min: -500n, max: 5_000n }),
    feeInBnb: fc.boolean(),
    strategy: fc.constantFrom('a', 'b'),
  });

  it('positions equal the sum of fills, and cash change = −Σ side·price·qty − fees, exactly', () => {
    fc.assert(fc.property(fc.array(fillArb, { maxLength: 60 }), (fills) => {
      const s = initialState(usd);
      let n = 0;
      const expected = new Map<string, number>();
      let quoteCash = 0n;
      let bnbFees = 0n;
      let flow = 0n;
      for (const f of fills) {
        const id = `o${n++}`;
        evolve(s, intended(id, { side: f.side, qtyLots: f.qty, decision: { strategyId: f.strategy, strategyCodeHash: 'h', configHash: 'c', stateHash: 's', causeEventId: 'e', causePosition: null } }));
        evolve(s, filled(id, f.qty, f.price, 0, { side: f.side, fee: f.fee, feeScale: 2, feeCurrency: f.feeInBnb ? 'BNB' : 'USD' }));
        const sg = f.side === 'buy' ? 1 : -1;
        expected.set(f.strategy, (expected.get(f.strategy) ?? 0) + sg * f.qty);
        quoteCash += -BigInt(sg) * BigInt(f.price) * BigInt(f.qty) - (f.feeInBnb ? 0n : f.fee);
        if (f.feeInBnb) bnbFees += f.fee;
        flow += BigInt(sg * f.qty) * BigInt(f.price);
      }
      for (const st of ['a', 'b']) expect(positionLots(s, INSTR, st)).toBe(expected.get(st) ?? 0);
      if (fills.length > 0) {
        expect(s.cash.get(`${VENUE}|USD`)!.total.amount).toBe(quoteCash);
        if (bnbFees !== 0n || fills.some((f) => f.feeInBnb)) expect(s.cash.get(`${VENUE}|BNB`)!.total.amount).toBe(-bnbFees);
      }
      // Cost-basis identity across all positions: Σ signed qty·price = Σ (costBasis − realized).
      let identity = 0n;
      for (const p of s.positions.values()) identity += p.costBasis - p.realizedPnl;
      expect(identity).toBe(flow);
    }), { numRuns: 200 });
  });
});
