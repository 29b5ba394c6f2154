// The portfolio's less travelled paths, one behaviour per test (issue 9: the survivors of `npm run mutate`
// on domain/portfolio listed in docs/mutation.md): marks from quotes and trades, InstrumentDefined, cash at
// the finer scale, fills that end or keep an order's attribution, book marks, valuation and strategy P&L.
import { describe, expect, it } from 'vitest';
import {
  evolve, initialState, markFromMarket, positionKey, positionLots, setMark, strategyPnl, unknownQuoteCurrency, valuation, valuePosition,
  UNATTRIBUTED, type PortfolioState,
} from '../../domain/portfolio/portfolio.js';
import { addMoney, formatMoney, moneyAt, type Money } from '../../domain/portfolio/position.js';
import { applyMarketEvent, initialMarketState } from '../../domain/market/book.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { at, DECISION, filled, INSTR, intended, quote, trade, VENUE } from './builders.js';

function given(config: Parameters<typeof initialState>[0], ...events: TimedEvent[]): PortfolioState {
  const s = initialState(config);
  for (const e of events) expect(evolve(s, e)).toBe(s);
  return s;
}

const usd = { instruments: { [INSTR]: { quoteCurrency: 'USD', baseCurrency: 'BTC' } } };
const OTHER = 'SIM:ETHUSD';

function defined(kind: 'spot' | 'perpetual', baseCurrency: string | undefined, instrument = INSTR): TimedEvent {
  return at('InstrumentDefined', {
    venue: VENUE, instrument, symbol: instrument, kind, quoteCurrency: 'EUR', priceScale: 2, qtyScale: 0,
    tickSizeTicks: 1, lotSizeLots: 1, ...(baseCurrency === undefined ? {} : { baseCurrency }),
  });
}

describe('money', () => {
  it('addMoney widens the total to a finer amount, scales a coarser one up, and adds equal scales as they are', () => {
    const m: Money = { amount: 5n, scale: 0 };
    addMoney(m, 25n, 2); // 5 + 0.25
    expect(m).toEqual({ amount: 525n, scale: 2 });
    addMoney(m, 3n, 1); // + 0.3
    expect(m).toEqual({ amount: 555n, scale: 2 });
    addMoney(m, -7n, 2);
    expect(m).toEqual({ amount: 548n, scale: 2 });
    const neg: Money = { amount: -1n, scale: 1 };
    addMoney(neg, 1n, 3);
    expect(neg).toEqual({ amount: -99n, scale: 3 });
  });

  it('moneyAt re-expresses at a finer scale and formatMoney renders the decimal', () => {
    expect(moneyAt({ amount: 5n, scale: 1 }, 3)).toBe(500n);
    expect(moneyAt({ amount: -12n, scale: 2 }, 2)).toBe(-12n);
    expect(formatMoney({ amount: -1234n, scale: 2 })).toBe('-12.34');
    expect(formatMoney({ amount: 7n, scale: 0 })).toBe('7');
  });
});

describe('portfolio keys and unknown instruments', () => {
  it('positions are keyed strategy|venue|instrument', () => {
    expect(positionKey('mm', 'V', 'I')).toBe('mm|V|I');
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9));
    expect([...s.positions.keys()]).toEqual([`s1|${VENUE}|${INSTR}`]);
    expect([...s.cash.keys()].sort()).toEqual([`${VENUE}|BTC`, `${VENUE}|USD`]);
  });

  it('a fill in an instrument nobody defined books cash in "<instrument>/quote" and moves no base currency', () => {
    expect(unknownQuoteCurrency('X:Y')).toBe('X:Y/quote');
    const s = given({}, intended('o1'), filled('o1', 2, 150, 8, { feeCurrency: 'FEE' , fee: 4n, feeScale: 2 }));
    const q = `${INSTR}/quote`;
    expect(s.positions.get(positionKey('s1', VENUE, INSTR))!.quoteCurrency).toBe(q);
    expect(s.cash.get(`${VENUE}|${q}`)).toEqual({ venue: VENUE, currency: q, total: { amount: -300n, scale: 2 }, reportedAvailable: null });
    expect(s.cash.get(`${VENUE}|FEE`)!.total).toEqual({ amount: -4n, scale: 2 });
    expect(s.cash.size).toBe(2);
  });

  it('configured instruments without a base currency move no base balance', () => {
    const s = given({ instruments: { [INSTR]: { quoteCurrency: 'USD' } } }, intended('o1'), filled('o1', 1, 100, 9));
    expect(s.instruments.get(INSTR)).toEqual({ quoteCurrency: 'USD', baseCurrency: null });
    expect([...s.cash.keys()]).toEqual([`${VENUE}|USD`]);
  });
});

describe('InstrumentDefined', () => {
  it('a spot instrument brings its base currency; fills then move it (bought +, sold −) at the quantity scale', () => {
    const s = given({}, defined('spot', 'BTC'), intended('o1'), filled('o1', 3, 100, 7, { qtyScale: 1 }),
      intended('o2', { side: 'sell' }), filled('o2', 1, 100, 9, { side: 'sell', qtyScale: 1 }));
    expect(s.instruments.get(INSTR)).toEqual({ quoteCurrency: 'EUR', baseCurrency: 'BTC' });
    expect(s.cash.get(`${VENUE}|BTC`)!.total).toEqual({ amount: 2n, scale: 1 });
    expect(s.cash.get(`${VENUE}|EUR`)!.total).toEqual({ amount: -200n, scale: 3 });
  });

  it('a derivative has no base balance even when a base currency is named; a spot without one has none either', () => {
    const s = given({}, defined('perpetual', 'BTC'), defined('spot', undefined, OTHER));
    expect(s.instruments.get(INSTR)).toEqual({ quoteCurrency: 'EUR', baseCurrency: null });
    expect(s.instruments.get(OTHER)).toEqual({ quoteCurrency: 'EUR', baseCurrency: null });
    evolve(s, intended('o1'));
    evolve(s, filled('o1', 1, 100, 9, { feeCurrency: 'EUR' }));
    expect([...s.cash.keys()]).toEqual([`${VENUE}|EUR`]);
  });

  it('overrides what the config said', () => {
    const s = given(usd, defined('perpetual', undefined));
    expect(s.instruments.get(INSTR)).toEqual({ quoteCurrency: 'EUR', baseCurrency: null });
  });
});

describe('attribution', () => {
  const ends: Array<[string, TimedEvent]> = [
    ['RiskDenied', at('RiskDenied', { orderId: 'o1', code: 'MAX_POSITION', detail: 'd' } as never)],
    ['OrderRejected', at('OrderRejected', { orderId: 'o1', reason: 'r' })],
    ['OrderCanceled', at('OrderCanceled', { orderId: 'o1', canceledLots: 10 })],
    ['OrderExpired', at('OrderExpired', { orderId: 'o1' })],
  ];
  for (const [name, end] of ends) {
    it(`${name} ends the order's attribution`, () => {
      const s = given(usd, intended('o1', { decision: { ...DECISION, strategyId: 'mm' } }));
      expect(s.orderStrategy.get('o1')).toBe('mm');
      evolve(s, end);
      expect(s.orderStrategy.has('o1')).toBe(false);
    });
  }

  it('a partial fill keeps the attribution, the last one ends it; sells count as sold lots', () => {
    const s = given(usd, intended('o1', { side: 'sell', decision: { ...DECISION, strategyId: 'mm' } }),
      filled('o1', 4, 100, 6, { side: 'sell' }));
    expect(s.orderStrategy.get('o1')).toBe('mm');
    evolve(s, filled('o1', 6, 100, 0, { side: 'sell', fillId: 'last' }));
    expect(s.orderStrategy.has('o1')).toBe(false);
    expect(s.positions.get(positionKey('mm', VENUE, INSTR))).toMatchObject({ qtyLots: -10, soldLots: 10, boughtLots: 0, fillCount: 2 });
    expect(s.positions.has(positionKey(UNATTRIBUTED, VENUE, INSTR))).toBe(false);
    expect(s.cash.get(`${VENUE}|BTC`)!.total).toEqual({ amount: -10n, scale: 0 });
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: 1000n, scale: 2 });
  });

  it('fees are kept per position and per venue|currency, each at the fee scale', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9, { fee: 7n, feeScale: 3, feeCurrency: 'BNB' }),
      filled('o1', 1, 100, 8, { fee: 2n, feeScale: 1, feeCurrency: 'BNB', fillId: 'f2' }));
    const p = s.positions.get(positionKey('s1', VENUE, INSTR))!;
    expect(p.fees.get('BNB')).toEqual({ amount: 207n, scale: 3 });
    expect([...p.fees.keys()]).toEqual(['BNB']);
    expect(s.fees.get(`${VENUE}|BNB`)).toEqual({ amount: 207n, scale: 3 });
    expect([...s.fees.keys()]).toEqual([`${VENUE}|BNB`]);
    expect(s.cash.get(`${VENUE}|BNB`)!.total).toEqual({ amount: -207n, scale: 3 });
  });

  it('a fill at another price or quantity scale starts the position afresh', () => {
    const s = given(usd, intended('o1'), filled('o1', 2, 100, 8), filled('o1', 1, 1000, 7, { priceScale: 3, fillId: 'f2' }));
    expect(s.positions.get(positionKey('s1', VENUE, INSTR))).toMatchObject({ priceScale: 3, qtyLots: 1, costBasis: 1000n, fillCount: 1 });
    evolve(s, filled('o1', 1, 1000, 6, { priceScale: 3, qtyScale: 1, fillId: 'f3' }));
    expect(s.positions.get(positionKey('s1', VENUE, INSTR))).toMatchObject({ qtyScale: 1, qtyLots: 1, fillCount: 1 });
  });
});

describe('cash scale', () => {
  it('a fill at a finer scale than the running cash widens it exactly', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9), filled('o1', 1, 1001, 8, { priceScale: 3, fillId: 'f2' }));
    // −1.00 then −1.001
    expect(s.cash.get(`${VENUE}|USD`)!.total).toEqual({ amount: -2001n, scale: 3 });
  });

  it('a balance report at a coarser scale than ours keeps our finer scale; available is kept as reported', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 1001, 9, { priceScale: 3 }),
      at('BalanceReported', { venue: VENUE, currency: 'USD', total: 12n, available: 5n, scale: 1 }));
    const c = s.cash.get(`${VENUE}|USD`)!;
    expect(c.total).toEqual({ amount: 1200n, scale: 3 });
    expect(c.reportedAvailable).toEqual({ amount: 5n, scale: 1 });
  });

  it('a balance report for a currency we never touched creates it at the reported scale', () => {
    const s = given(usd, at('BalanceReported', { venue: VENUE, currency: 'JPY', total: 100n, available: 90n, scale: 2 }));
    expect(s.cash.get(`${VENUE}|JPY`)).toEqual({ venue: VENUE, currency: 'JPY', total: { amount: 100n, scale: 2 }, reportedAvailable: { amount: 90n, scale: 2 } });
  });

  it('events the portfolio does not use change nothing', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9));
    const before = JSON.stringify([...s.cash.entries(), ...s.marks.entries(), [...s.orderStrategy.entries()]], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    expect(evolve(s, at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v1' }))).toBe(s);
    expect(evolve(s, at('PositionReported', { venue: VENUE, instrument: INSTR, qtyLots: 5, qtyScale: 0 }))).toBe(s);
    const after = JSON.stringify([...s.cash.entries(), ...s.marks.entries(), [...s.orderStrategy.entries()]], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    expect(after).toBe(before);
  });
});

describe('marks', () => {
  it('quotes and trades mark only instruments already traded', () => {
    const s = given(usd, quote(100, 1, 102, 1), trade(105, 1, 'buy'));
    expect(s.marks.size).toBe(0);
    evolve(s, quote(100, 1, 102, 1, 0n, OTHER));
    expect(s.marks.has(OTHER)).toBe(false);
  });

  it('the first fill marks at its price, later fills do not move the mark', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9), filled('o1', 1, 130, 8, { fillId: 'f2' }));
    expect(s.marks.get(INSTR)).toBe(100);
  });

  it('a two-sided quote marks at the mid rounded down; a one-sided quote leaves the mark; a trade marks at its price', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9));
    evolve(s, quote(111, 1, 114, 1));
    expect(s.marks.get(INSTR)).toBe(112);
    evolve(s, quote(null, 0, 150, 1));
    expect(s.marks.get(INSTR)).toBe(112);
    evolve(s, quote(90, 1, null, 0));
    expect(s.marks.get(INSTR)).toBe(112);
    evolve(s, trade(107, 3, 'sell'));
    expect(s.marks.get(INSTR)).toBe(107);
    expect(valuation(s)[0]!.unrealizedPnl).toBe(7n);
  });

  it('markFromMarket: mid, else the best bid, else the best ask, else left as it was', () => {
    const s = given(usd, intended('o1'), filled('o1', 1, 100, 9), intended('o2', { instrument: OTHER }),
      filled('o2', 1, 200, 9, { instrument: OTHER }));
    const market = initialMarketState();
    applyMarketEvent(market, quote(120, 5, null, 0));
    markFromMarket(s, market);
    expect(s.marks.get(INSTR)).toBe(120);
    expect(s.marks.get(OTHER)).toBe(200); // no book: unchanged
    applyMarketEvent(market, quote(null, 0, 125, 5));
    applyMarketEvent(market, quote(null, 0, 210, 5, 0n, OTHER));
    markFromMarket(s, market);
    expect(s.marks.get(INSTR)).toBe(125);
    expect(s.marks.get(OTHER)).toBe(210);
    applyMarketEvent(market, quote(null, 0, null, 0, 0n, OTHER));
    markFromMarket(s, market);
    expect(s.marks.get(OTHER)).toBe(210);
    // instruments never traded get no mark from the market
    applyMarketEvent(market, quote(1, 1, 3, 1, 0n, 'SIM:NEW'));
    markFromMarket(s, market);
    expect(s.marks.has('SIM:NEW')).toBe(false);
  });
});

describe('valuation and strategy P&L', () => {
  it('a position without a mark has unknown unrealized P&L unless flat; money is at priceScale + qtyScale', () => {
    const s = given(usd, intended('o1'), filled('o1', 2, 100, 8, { qtyScale: 3 }));
    s.marks.clear();
    const [v] = valuation(s);
    expect(v).toEqual({
      key: positionKey('s1', VENUE, INSTR), strategyId: 's1', venue: VENUE, instrument: INSTR, quoteCurrency: 'USD',
      qtyLots: 2, moneyScale: 5, costBasis: 200n, realizedPnl: 0n, unrealizedPnl: null, markTicks: null,
    });
    evolve(s, intended('o2', { side: 'sell' }));
    evolve(s, filled('o2', 2, 110, 0, { side: 'sell', qtyScale: 3 }));
    const p = s.positions.get(positionKey('s1', VENUE, INSTR))!;
    expect(valuePosition(s, 'k', p)).toMatchObject({ key: 'k', qtyLots: 0, unrealizedPnl: 0n, realizedPnl: 20n, markTicks: 110 });
    s.marks.clear();
    expect(valuePosition(s, 'k', p)).toMatchObject({ unrealizedPnl: 0n, markTicks: null });
  });

  it('valuation lists positions sorted by key', () => {
    const s = given(usd,
      intended('z', { decision: { ...DECISION, strategyId: 'zz' } }), filled('z', 1, 100, 9),
      intended('a', { decision: { ...DECISION, strategyId: 'aa' } }), filled('a', 1, 100, 9),
      intended('m', { decision: { ...DECISION, strategyId: 'mm' } }), filled('m', 1, 100, 9));
    expect(valuation(s).map((v) => v.strategyId)).toEqual(['aa', 'mm', 'zz']);
  });

  it('strategy P&L counts only that strategy, an unmarked position as realized only, other-currency fees negative', () => {
    const s = given(usd,
      intended('o1', { decision: { ...DECISION, strategyId: 'a' } }), filled('o1', 2, 100, 8, { fee: 3n, feeScale: 3, feeCurrency: 'BNB' }),
      intended('o2', { decision: { ...DECISION, strategyId: 'a' }, side: 'sell' }), filled('o2', 1, 150, 9, { side: 'sell' }),
      intended('o3', { decision: { ...DECISION, strategyId: 'b' } }), filled('o3', 5, 100, 5, { fee: 100n, feeScale: 2 }));
    setMark(s, INSTR, 160);
    const a = strategyPnl(s, 'a');
    // realized 150 − 100 = 50, unrealized 160 − 100 = 60 → 110 at scale 2; fee 0.003 BNB
    expect(a.get('USD')).toEqual({ amount: 110n, scale: 2 });
    expect(a.get('BNB')).toEqual({ amount: -3n, scale: 3 });
    expect(a.size).toBe(2);
    s.marks.clear();
    expect(strategyPnl(s, 'a').get('USD')).toEqual({ amount: 50n, scale: 2 });
    expect(strategyPnl(s, 'b').get('USD')).toEqual({ amount: -100n, scale: 2 });
    expect(strategyPnl(s, 'nobody').size).toBe(0);
  });

  it('positionLots sums one instrument over all strategies, or one strategy', () => {
    const s = given(usd,
      intended('o1', { decision: { ...DECISION, strategyId: 'a' } }), filled('o1', 2, 100, 8),
      intended('o2', { decision: { ...DECISION, strategyId: 'b' }, side: 'sell' }), filled('o2', 5, 100, 5, { side: 'sell' }),
      intended('o3', { instrument: OTHER }), filled('o3', 7, 100, 3, { instrument: OTHER }));
    expect(positionLots(s, INSTR)).toBe(-3);
    expect(positionLots(s, INSTR, 'a')).toBe(2);
    expect(positionLots(s, INSTR, 'b')).toBe(-5);
    expect(positionLots(s, OTHER)).toBe(7);
    expect(positionLots(s, 'SIM:NONE')).toBe(0);
  });
});
