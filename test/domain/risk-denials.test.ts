/**
 * What risk says when it refuses, and what it ran when it approves: the exact detail of each denial
 * (numbers, instrument, venue, the limit and the scale, so an operator can act on it), the full list of
 * checks with every limit configured, and the bookkeeping behind them (venue kill switches, replaces,
 * fees at a finer scale, events about orders risk never saw). Written from the survivors of
 * `npm run mutate` on domain/risk (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import type { TimedEvent } from '../../domain/events/event.js';
import {  type RiskConfigInput } from '../../domain/risk/config.js';
import {
  check, dailyPnl, decide, effectiveKillSwitch, evolve, exposure, worstCasePositionLots, type PlaceOrderFacts, type RiskIntent, type RiskState,
} from '../../domain/risk/risk.js';
import { at, filled, INSTR, intended, quote, VENUE } from './builders.js';
import { market, given, order, approvedOrder, OTHER } from './risk-fixture.js';

const mkt = market(quote(9_990, 10, 10_010, 10), quote(9_990, 10, 10_010, 10, 0n, OTHER, 'ALT'));
const ctx = { eventTimeNs: 1_000n, market: mkt };

/** The denial as `CODE: detail`, or `approved: checks`. */
function says(s: RiskState, intent: RiskIntent | PlaceOrderFacts, c = ctx): string {
  const r = check(s, 'kind' in intent ? intent : { kind: 'place', order: intent }, c);
  return r.approved ? `approved: ${r.checks.join(',')}` : `${r.code}: ${r.detail}`;
}

const long3 = approvedOrder('a', { qtyLots: 3, fill: 3 });
const halted = (reason: string, venue?: string): TimedEvent => at('KillSwitchChanged', { state: 'HALTED', reason, by: 'ops', ...(venue ? { venue } : {}) });
const reducing = (venue?: string): TimedEvent => at('KillSwitchChanged', { state: 'REDUCING', reason: 'loss', by: 'risk', ...(venue ? { venue } : {}) });
const active = (venue?: string): TimedEvent => at('KillSwitchChanged', { state: 'ACTIVE', reason: 'ok', by: 'risk', ...(venue ? { venue } : {}) });

describe('risk denials: the detail names what and how far', () => {
  it('kill switch: the state, the venue it applies to, and its reason', () => {
    expect(says(given({}, ...long3, halted('ops')), order())).toBe('KILL_SWITCH: kill switch HALTED (ops): only cancels pass');
    expect(says(given({}, ...long3, halted('')), order())).toBe('KILL_SWITCH: kill switch HALTED: only cancels pass');
    expect(says(given({}, ...long3, halted('venue down', VENUE)), order())).toBe('KILL_SWITCH: kill switch HALTED for SIM (venue down): only cancels pass');
    expect(says(given({}, ...long3, reducing()), order())).toBe('KILL_SWITCH: kill switch REDUCING: buy 1 lots of SIM:BTCUSD does not reduce the 3-lot position');
    expect(says(given({}, ...long3, reducing(VENUE)), order())).toBe('KILL_SWITCH: kill switch REDUCING for SIM: buy 1 lots of SIM:BTCUSD does not reduce the 3-lot position');
  });

  it('invalid orders: quantity, price, scales', () => {
    const s = given({}, ...long3);
    expect(says(s, order({ qtyLots: 0 }))).toBe('INVALID_ORDER: quantity 0 lots is not a positive integer');
    expect(says(s, order({ qtyLots: 1.5 }))).toBe('INVALID_ORDER: quantity 1.5 lots is not a positive integer');
    expect(says(s, order({ priceTicks: null }))).toBe('INVALID_ORDER: a limit order needs an integer price in ticks');
    expect(says(s, order({ priceTicks: 100.5 }))).toBe('INVALID_ORDER: a limit order needs an integer price in ticks');
    expect(says(s, order({ orderType: 'market', priceTicks: 5 }))).toBe('INVALID_ORDER: a market order has no price');
    expect(says(s, order({ priceScale: 4 }))).toBe('INVALID_ORDER: scales 4/0 differ from 2/0 already used for SIM:BTCUSD');
    expect(says(s, order({ qtyScale: 1 }))).toBe('INVALID_ORDER: scales 2/1 differ from 2/0 already used for SIM:BTCUSD');
    // A market order without a price is valid.
    expect(says(s, order({ orderType: 'market', priceTicks: null }))).toMatch(/^approved/);
  });

  it('instrument, reduce-only, order size, collar, notional', () => {
    expect(says(given({ allowUnknownInstruments: false, instruments: { [INSTR]: {} } }), order({ instrument: OTHER, venue: 'ALT' })))
      .toBe('UNKNOWN_INSTRUMENT: ALT:BTCUSD has no risk limits configured (risk.instruments)');
    expect(says(given({}, ...long3), order({ reduceOnly: true })))
      .toBe('REDUCE_ONLY: reduce-only buy of 1 lots would not reduce the 3-lot position (0 lots already working on that side)');
    expect(says(given({ defaults: { maxOrderQtyLots: 5 } }), order({ qtyLots: 6 }))).toBe('MAX_ORDER_QTY: 6 lots exceeds the 5-lot limit for SIM:BTCUSD');
    expect(says(given({ defaults: { collarBps: 100 } }), order({ priceTicks: 10_101 })))
      .toBe('PRICE_COLLAR: price 10101 is more than 100 bps from the reference 10000 (ticks)');
    expect(says(given({ defaults: { collarBps: 100 } }), order({ instrument: 'SIM:NOQUOTE' })))
      .toBe('NO_REFERENCE_PRICE: no reference price for SIM:NOQUOTE to check the 100 bps collar');
    expect(says(given({ defaults: { maxOrderNotional: '250' } }), order({ qtyLots: 3 }))).toBe('MAX_ORDER_NOTIONAL: notional 30000000000 exceeds 25000000000 (money scale 8)');
    expect(says(given({ defaults: { maxOrderNotional: '250' } }), order({ instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null })))
      .toBe('NO_REFERENCE_PRICE: no reference price for SIM:NOQUOTE to value a market order');
  });

  it('rate, open orders, position, venue, gross, net, daily loss', () => {
    expect(says(given({ orderRate: { maxOrders: 2, windowNs: 1_000 } }, ...approvedOrder('a', {}, 100n), ...approvedOrder('b', {}, 600n)), order()))
      .toBe('ORDER_RATE: 2 orders in the last 1000 ns reach the limit of 2');
    expect(says(given({ maxOpenOrders: 2 }, ...approvedOrder('a'), ...approvedOrder('b')), order())).toBe('MAX_OPEN_ORDERS: 2 open orders reach the limit of 2');
    expect(says(given({ defaults: { maxPositionLots: 5 } }, ...long3), order({ qtyLots: 3 })))
      .toBe('POSITION_LIMIT: worst-case position 6 lots would exceed the 5-lot limit for SIM:BTCUSD');
    const long4 = approvedOrder('a', { qtyLots: 4, fill: 4 });
    expect(says(given({ venues: { [VENUE]: { maxGrossNotional: '500' } } }, ...long4), order({ qtyLots: 2 })))
      .toBe('VENUE_POSITION_LIMIT: gross notional at SIM would be 60000000000, above 50000000000 (money scale 8)');
    expect(says(given({ maxGrossExposure: '1000' }, ...long4), order({ qtyLots: 7 })))
      .toBe('GROSS_EXPOSURE: gross exposure would be 110000000000, above 100000000000 (money scale 8)');
    expect(says(given({ maxNetExposure: '500' }, ...long4), order({ qtyLots: 2 }))).toBe('NET_EXPOSURE: net exposure would be 60000000000, above 50000000000 (money scale 8)');
    expect(says(given({ maxGrossExposure: '1000' }), order({ instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null })))
      .toBe('NO_REFERENCE_PRICE: no price to value the exposure in SIM:NOQUOTE');
    expect(says(given({ maxDailyLoss: '50' }, ...approvedOrder('a', { qtyLots: 10, fill: 10, priceTicks: 10_500 })), order()))
      .toBe('DAILY_LOSS: daily P&L -5000000000 has reached the loss limit 5000000000 (money scale 8); only reducing orders pass');
  });

  it('replaces: an order that is not open, a replace already in flight, a total not above the fills', () => {
    expect(says(given({}), { kind: 'replace', orderId: 'zz', priceTicks: 10_000, qtyLots: 2 })).toBe('INVALID_ORDER: replace: order zz is not an open order');
    expect(says(given({}, ...approvedOrder('a', { qtyLots: 3, fill: 1 })), { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 1 }))
      .toBe('INVALID_ORDER: replace: new total 1 lots must exceed the 1 lots filled');
    expect(says(given({}, ...approvedOrder('a', { qtyLots: 3 }), at('ReplaceRequested', { orderId: 'a', priceTicks: 10_000, qtyLots: 4 })), { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 5 }))
      .toBe('INVALID_ORDER: replace: order a already has a replace in flight');
  });
});

describe('risk approvals: the checks that ran', () => {
  const all: RiskConfigInput = {
    defaults: { maxOrderQtyLots: 10, maxOrderNotional: '10000', maxPositionLots: 10, collarBps: 100 }, venues: { [VENUE]: { maxGrossNotional: '10000' } },
    maxGrossExposure: '10000', maxNetExposure: '10000', maxOpenOrders: 5, orderRate: { maxOrders: 5, windowNs: 1_000 }, maxDailyLoss: '100',
  };
  const every = 'KILL_SWITCH,INVALID_ORDER,UNKNOWN_INSTRUMENT,REDUCE_ONLY,MAX_ORDER_QTY,PRICE_COLLAR,MAX_ORDER_NOTIONAL,ORDER_RATE,MAX_OPEN_ORDERS,POSITION_LIMIT,VENUE_POSITION_LIMIT,GROSS_EXPOSURE,NET_EXPOSURE,DAILY_LOSS';

  it('every limit configured: every check runs, in order', () => {
    expect(says(given(all), order())).toBe(`approved: ${every}`);
    expect(says(given(all, ...long3), order({ side: 'sell' }))).toBe(`approved: ${every}`);
  });

  it('a replace that only shrinks skips the rate, the open-order count and the exposure checks; a new price counts in the rate', () => {
    const s = given(all, ...approvedOrder('a', { qtyLots: 3 }));
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 2 }))
      .toBe('approved: KILL_SWITCH,INVALID_ORDER,UNKNOWN_INSTRUMENT,REDUCE_ONLY,MAX_ORDER_QTY,PRICE_COLLAR,MAX_ORDER_NOTIONAL,DAILY_LOSS');
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_001, qtyLots: 2 }))
      .toBe('approved: KILL_SWITCH,INVALID_ORDER,UNKNOWN_INSTRUMENT,REDUCE_ONLY,MAX_ORDER_QTY,PRICE_COLLAR,MAX_ORDER_NOTIONAL,ORDER_RATE,DAILY_LOSS');
  });
});

describe('risk bookkeeping (evolve)', () => {
  it('a venue kill switch applies to its venue only, the stricter one wins, and ACTIVE for the venue clears it', () => {
    const s = given({}, ...long3, halted('venue down', VENUE));
    expect(says(s, order({ venue: 'ALT', instrument: OTHER }))).toMatch(/^approved/);
    expect(effectiveKillSwitch(s, VENUE)).toEqual({ state: 'HALTED', reason: 'venue down', scope: ' for SIM' });
    evolve(s, active(VENUE));
    expect(s.venueKillSwitch.has(VENUE)).toBe(false);
    expect(effectiveKillSwitch(s, VENUE)).toEqual({ state: 'ACTIVE', reason: '', scope: '' });
    expect(says(s, order())).toMatch(/^approved/);
    // A venue REDUCING under a global HALTED: the global one applies, with its reason.
    const t = given({}, ...long3, reducing(VENUE), halted('x'));
    expect(effectiveKillSwitch(t, VENUE)).toEqual({ state: 'HALTED', reason: 'x', scope: '' });
    // A venue switch does not change the global one.
    expect(given({}, reducing(VENUE)).killSwitch).toBe('ACTIVE');
  });

  it('events about orders risk never approved change nothing', () => {
    const s = given({}, ...approvedOrder('a', { qtyLots: 3 }));
    const before = structuredClone(s);
    for (const e of [
      at('RiskApproved', { orderId: 'zz', checks: [] }),
      at('ReplaceRequested', { orderId: 'zz', priceTicks: 10_000, qtyLots: 9 }),
      at('OrderReplaced', { orderId: 'zz', priceTicks: 10_000, qtyLots: 9 }),
      at('ReplaceRejected', { orderId: 'zz', reason: 'x' }),
      at('OrderCanceled', { orderId: 'zz', canceledLots: 9 }),
    ]) expect(evolve(s, e)).toBe(s);
    expect(s).toEqual(before);
  });

  it('an intent that ends before risk approves it is forgotten; a late approval adds nothing', () => {
    for (const end of [at('RiskDenied', { orderId: 'x', code: 'KILL_SWITCH', detail: '' }), at('OrderRejected', { orderId: 'x', reason: 'r' })]) {
      const s = given({}, intended('x'), end, at('RiskApproved', { orderId: 'x', checks: [] }));
      expect(s.intents.size).toBe(0);
      expect(s.open.size).toBe(0);
      expect(worstCasePositionLots(s, INSTR)).toBe(0);
    }
  });

  it('a replace counts the larger of the old and new size until the venue answers', () => {
    const s = given({}, ...approvedOrder('a', { qtyLots: 5 }), at('ReplaceRequested', { orderId: 'a', priceTicks: 10_000, qtyLots: 3 }));
    expect(worstCasePositionLots(s, INSTR)).toBe(5);
    evolve(s, at('OrderReplaced', { orderId: 'a', priceTicks: 10_000, qtyLots: 3 }));
    expect(worstCasePositionLots(s, INSTR)).toBe(3);
    expect(s.open.get('a')).toMatchObject({ totalLots: 3, pendingTotalLots: null });
    evolve(s, filled('a', 3, 10_000, 0, { fillId: 'a-f' }));
    expect(s.open.size).toBe(0);
    expect(worstCasePositionLots(s, INSTR)).toBe(3);
  });

  it('expired and rejected orders stop counting', () => {
    for (const end of [at('OrderExpired', { orderId: 'a' }), at('OrderRejected', { orderId: 'a', reason: 'r' })]) {
      const s = given({}, ...approvedOrder('a', { qtyLots: 4, fill: 1 }), end);
      expect(s.open.size).toBe(0);
      expect(worstCasePositionLots(s, INSTR)).toBe(1);
    }
  });

  it('without a market price, the first approved price and then the last fill value the exposure', () => {
    const none = market();
    const s = given({ maxGrossExposure: '250' }, ...approvedOrder('a', { qtyLots: 1, priceTicks: 10_000 }), ...approvedOrder('b', { qtyLots: 1, priceTicks: 12_000 }));
    // 2 lots at 100.00 (the first approved price) = 200.00: one more lot is 300.00.
    expect(says(s, order({ qtyLots: 1 }), { eventTimeNs: 1_000n, market: none })).toBe('GROSS_EXPOSURE: gross exposure would be 30000000000, above 25000000000 (money scale 8)');
    // An order on another instrument: SIM:BTCUSD is valued at its first approved price, 2 × 100.00 + 100.00.
    expect(says(s, order({ qtyLots: 1, instrument: OTHER, venue: 'ALT' }), { eventTimeNs: 1_000n, market: none }))
      .toBe('GROSS_EXPOSURE: gross exposure would be 30000000000, above 25000000000 (money scale 8)');
    evolve(s, filled('a', 1, 5_000, 0, { fillId: 'a-f' }));
    // Now 2 lots at 50.00 = 100.00: one more is 150.00.
    expect(says(s, order({ qtyLots: 1 }), { eventTimeNs: 1_000n, market: none })).toMatch(/^approved/);
  });

  it('fees at a finer scale than money are rounded up in magnitude, charges and rebates alike', () => {
    const fee = (id: string, f: bigint): TimedEvent[] => [
      intended(id, { qtyLots: 1 }), at('RiskApproved', { orderId: id, checks: [] }),
      filled(id, 1, 10_000, 0, { fee: f, feeScale: 10, fillId: `${id}-f` }, 5n),
    ];
    // Flat at the mark (bought at 100.00, mid 100.00): the day's P&L is the fee alone.
    expect(dailyPnl(given({}, ...fee('a', 1n)), mkt, 10n)).toBe(-1n);
    expect(dailyPnl(given({}, ...fee('a', 250n)), mkt, 10n)).toBe(-3n);
    expect(dailyPnl(given({}, ...fee('a', -250n)), mkt, 10n)).toBe(3n);
    expect(dailyPnl(given({}, ...fee('a', 300n)), mkt, 10n)).toBe(-3n);
  });

  it('the rate window keeps no more times than the limit can allow', () => {
    const s = given({ orderRate: { maxOrders: 2, windowNs: 1_000_000 } }, ...approvedOrder('a', {}, 1n), ...approvedOrder('b', {}, 2n), ...approvedOrder('c', {}, 3n));
    expect(s.rateTimesNs).toEqual([2n, 3n]);
    const t = given({ orderRate: { maxOrders: 5, windowNs: 10 } }, ...approvedOrder('a', {}, 1n), ...approvedOrder('b', {}, 11n), ...approvedOrder('c', {}, 12n));
    expect(t.rateTimesNs).toEqual([11n, 12n]);
  });
});

describe('risk limits at their edges', () => {
  const long4 = approvedOrder('a', { qtyLots: 4, fill: 4 });

  it('a limit reached exactly is within it (notional, venue, gross, net)', () => {
    expect(says(given({ defaults: { maxOrderNotional: '200' } }), order({ qtyLots: 2 }))).toMatch(/^approved/);
    expect(says(given({ venues: { [VENUE]: { maxGrossNotional: '600' } } }, ...long4), order({ qtyLots: 2 }))).toMatch(/^approved/);
    expect(says(given({ maxGrossExposure: '600' }, ...long4), order({ qtyLots: 2 }))).toMatch(/^approved/);
    expect(says(given({ maxNetExposure: '600' }, ...long4), order({ qtyLots: 2 }))).toMatch(/^approved/);
  });

  it('over a limit already, an order that does not raise that measure passes', () => {
    // SIM is at 400 against 300: an order on ALT leaves SIM's gross where it is.
    expect(says(given({ venues: { [VENUE]: { maxGrossNotional: '300' } } }, ...long4), order({ venue: 'ALT', instrument: OTHER }))).toMatch(/^approved/);
    // Long 4, gross and net limits below 400: selling 1 adds to the short case only, which stays below the long one.
    expect(says(given({ maxGrossExposure: '300' }, ...long4), order({ side: 'sell' }))).toMatch(/^approved/);
    expect(says(given({ maxNetExposure: '300' }, ...long4), order({ side: 'sell' }))).toMatch(/^approved/);
  });

  it('an instrument with nothing open needs no price', () => {
    // A market order on an instrument without prices, approved then canceled: flat, nothing to value.
    const s = given({ maxGrossExposure: '1000' },
      intended('m', { instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null }), at('RiskApproved', { orderId: 'm', checks: [] }),
      at('OrderCanceled', { orderId: 'm', canceledLots: 10 }));
    expect(says(s, order())).toMatch(/^approved/);
  });

  it('the rate window counts an approval at the decision time, not one after it', () => {
    const rate = { orderRate: { maxOrders: 1, windowNs: 1_000 } };
    expect(says(given(rate, ...approvedOrder('a', {}, 1_000n)), order(), { eventTimeNs: 1_000n, market: mkt })).toBe('ORDER_RATE: 1 orders in the last 1000 ns reach the limit of 1');
    expect(says(given(rate, ...approvedOrder('a', {}, 2_000n)), order(), { eventTimeNs: 1_000n, market: mkt })).toMatch(/^approved/);
  });

  it('a replace to the same size and price is not a new order for the rate', () => {
    const s = given({ orderRate: { maxOrders: 1, windowNs: 1_000 } }, ...approvedOrder('a', { qtyLots: 3 }, 1_000n));
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 3 })).toMatch(/^approved/);
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 4 })).toMatch(/^ORDER_RATE/);
  });

  it('a venue kill switch as strict as the global one: the global one is named', () => {
    expect(says(given({}, halted('global'), halted('venue', VENUE)), order())).toBe('KILL_SWITCH: kill switch HALTED (global): only cancels pass');
  });
});

describe('risk bookkeeping: what else reaches evolve', () => {
  it('market data and unrelated events change nothing', () => {
    const s = given({}, ...long3);
    const before = structuredClone(s);
    expect(evolve(s, quote(9_990, 10, 10_010, 10, 5n))).toBe(s);
    expect(s).toEqual(before);
  });

  it('a fill for an order risk never approved (one reconciliation appended) still moves the position', () => {
    const s = given({}, ...long3);
    expect(evolve(s, filled('zz', 2, 10_000, 0, { fillId: 'zz-f' }))).toBe(s);
    expect(s.exposures.get(INSTR)?.position.qtyLots).toBe(5);
    expect(s.open.size).toBe(0);
  });

  it('notional multiplies price and quantity at their two scales', () => {
    // 3 lots at qty scale 2 (0.03) × 100.00 = 3.00 against a 2.99 limit, at money scale 2.
    const cfg = { moneyScale: 2, defaults: { maxOrderNotional: '2.99' } };
    expect(says(given(cfg), order({ qtyLots: 3, qtyScale: 2 }))).toBe('MAX_ORDER_NOTIONAL: notional 300 exceeds 299 (money scale 2)');
    expect(says(given(cfg), order({ qtyLots: 2, qtyScale: 2 }))).toMatch(/^approved/);
  });
});

describe('risk: the worst case on each side', () => {
  const working = (id: string, side: 'buy' | 'sell', qtyLots: number): TimedEvent[] => approvedOrder(id, { side, qtyLots });
  const long = (n: number) => approvedOrder('p', { qtyLots: n, fill: n });
  const short = (n: number) => approvedOrder('p', { side: 'sell', qtyLots: n, fill: n });

  it('net exposure takes the larger of the long and the short case', () => {
    expect(says(given({ maxNetExposure: '500' }, ...working('a', 'sell', 4)), order({ side: 'sell', qtyLots: 2 })))
      .toBe('NET_EXPOSURE: net exposure would be 60000000000, above 50000000000 (money scale 8)');
  });

  it('working orders on the other side leave the position check where it stands', () => {
    const lim = { defaults: { maxPositionLots: 5 } };
    // Long 3 with 3 more working to buy (worst case 6, over 5): selling 1 does not raise it.
    expect(says(given(lim, ...long(3), ...working('b', 'buy', 3)), order({ side: 'sell' }))).toMatch(/^approved/);
    // Long 2 with 6 working to sell (worst case −4, limit 3): buying 2 makes the long case 4, no worse.
    expect(says(given({ defaults: { maxPositionLots: 3 } }, ...long(2), ...working('s', 'sell', 6)), order({ qtyLots: 2 }))).toMatch(/^approved/);
    expect(says(given({ defaults: { maxPositionLots: 3 } }, ...short(2), ...working('b', 'buy', 6)), order({ side: 'sell', qtyLots: 2 }))).toMatch(/^approved/);
  });

  it('reduce-only counts the working orders on its own side, buys included', () => {
    expect(says(given({}, ...short(3), ...working('b', 'buy', 2)), order({ qtyLots: 2, reduceOnly: true })))
      .toBe('REDUCE_ONLY: reduce-only buy of 2 lots would not reduce the -3-lot position (2 lots already working on that side)');
    expect(says(given({}, ...short(3), ...working('b', 'buy', 2)), order({ qtyLots: 1, reduceOnly: true }))).toMatch(/^approved/);
  });

  it('a replace adds only the lots beyond what was filled and counted', () => {
    // 5 lots, 2 filled (3 counted): a replace to 6 adds 1, to a worst case of 6: at the limit.
    const s = given({ defaults: { maxPositionLots: 6 } }, ...approvedOrder('a', { qtyLots: 5, fill: 2 }));
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 6 })).toMatch(/^approved/);
    expect(says(s, { kind: 'replace', orderId: 'a', priceTicks: 10_000, qtyLots: 7 })).toBe('POSITION_LIMIT: worst-case position 7 lots would exceed the 6-lot limit for SIM:BTCUSD');
  });

  it('the venue limit: over it already, an order there that does not raise the venue gross passes', () => {
    expect(says(given({ venues: { [VENUE]: { maxGrossNotional: '300' } } }, ...long(4)), order({ side: 'sell' }))).toMatch(/^approved/);
  });
});

describe('risk: prices', () => {
  it('a market order is not collared, and needs no price when no limit values it', () => {
    expect(says(given({ defaults: { collarBps: 10 } }), order({ orderType: 'market', priceTicks: null }))).toBe('approved: KILL_SWITCH,INVALID_ORDER,UNKNOWN_INSTRUMENT,REDUCE_ONLY');
    expect(says(given({}), order({ instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null }))).toMatch(/^approved/);
  });

  it('a limit order is valued at its own price, not the reference', () => {
    expect(says(given({ defaults: { maxOrderNotional: '200.50' } }), order({ qtyLots: 2, priceTicks: 10_050 })))
      .toBe('MAX_ORDER_NOTIONAL: notional 20100000000 exceeds 20050000000 (money scale 8)');
  });

  it('a same-size replace of a market order nobody can price is not valued', () => {
    const s = given({ maxGrossExposure: '1000' }, intended('m', { instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null }), at('RiskApproved', { orderId: 'm', checks: [] }));
    expect(says(s, { kind: 'replace', orderId: 'm', priceTicks: null, qtyLots: 10 })).toMatch(/^approved/);
  });

  it('the venue grid applies only at the scales the venue defined it', () => {
    const defined = at('InstrumentDefined', { venue: VENUE, instrument: INSTR, symbol: 'BTCUSD', kind: 'spot', quoteCurrency: 'USD', priceScale: 2, qtyScale: 0, tickSizeTicks: 5, lotSizeLots: 2 } as never);
    const s = given({ instrumentRules: true }, defined);
    expect(says(s, order({ priceTicks: 10_001, qtyLots: 2 }))).toBe("INVALID_ORDER: price 10001 ticks is off SIM:BTCUSD's tick of 5");
    expect(says(s, order({ priceTicks: 10_001, qtyLots: 2, priceScale: 3 }))).toMatch(/^approved/);
    expect(says(s, order({ priceTicks: 10_000, qtyLots: 3, qtyScale: 1 }))).toMatch(/^approved/);
  });

  it('the order size limit itself is allowed', () => {
    expect(says(given({ defaults: { maxOrderQtyLots: 5 } }), order({ qtyLots: 5 }))).toMatch(/^approved/);
  });

  it('a cancel passes with the one check it is', () => {
    expect(check(given({}, halted('x')), { kind: 'cancel', orderId: 'a' }, ctx)).toEqual({ approved: true, checks: ['CANCEL'] });
  });
});

describe('risk: daily P&L', () => {
  it('values positions at both scales, and counts only today\'s fees', () => {
    // 100 lots at qty scale 2 (1.00) bought at 105.00, mid 100.00: −5.00.
    const s = given({}, intended('q', { qtyLots: 100, qtyScale: 2, priceTicks: 10_500 }), at('RiskApproved', { orderId: 'q', checks: [] }),
      filled('q', 100, 10_500, 0, { qtyScale: 2, fillId: 'q-f' }));
    expect(dailyPnl(s, mkt, 10n)).toBe(-500_000_000n);
    // Fees: 1.00 on day 0, 0.50 on day 1: day 1 counts 0.50.
    const DAY = 86_400_000_000_000n;
    const f = given({},
      intended('a', { qtyLots: 1 }, 0n), at('RiskApproved', { orderId: 'a', checks: [] }, 0n), filled('a', 1, 10_000, 0, { fee: 100n, fillId: 'a-f' }, 0n),
      intended('b', { qtyLots: 1, side: 'sell' }, DAY), at('RiskApproved', { orderId: 'b', checks: [] }, DAY), filled('b', 1, 10_000, 0, { side: 'sell', fee: 50n, fillId: 'b-f' }, DAY));
    expect(dailyPnl(f, mkt, DAY + 1n)).toBe(-50_000_000n);
  });
});

describe('risk: exposure across instruments and venues', () => {
  const noQuoteMarket = [intended('m', { instrument: 'SIM:NOQUOTE', orderType: 'market', priceTicks: null }), at('RiskApproved', { orderId: 'm', checks: [] })];
  const altLong4 = approvedOrder('x', { venue: 'ALT', instrument: OTHER, qtyLots: 4, fill: 4 });
  const altShort4 = approvedOrder('x', { venue: 'ALT', instrument: OTHER, side: 'sell', qtyLots: 4, fill: 4 });

  it('a venue limit counts that venue only', () => {
    expect(says(given({ venues: { [VENUE]: { maxGrossNotional: '500' } } }, ...altLong4), order({ qtyLots: 2 }))).toMatch(/^approved/);
  });

  it('an open order nobody can price stops the exposure checks, naming its instrument; exposure() says null', () => {
    const s = given({ maxGrossExposure: '1000' }, ...noQuoteMarket);
    expect(says(s, order())).toBe('NO_REFERENCE_PRICE: no price to value the exposure in SIM:NOQUOTE');
    expect(exposure(s, mkt)).toBeNull();
  });

  it('a first order on an instrument is valued at the reference price when there is one', () => {
    // Buy 2 at 100.50 with a mid of 100.00: 200.00, within 200.50.
    expect(says(given({ maxGrossExposure: '200.50' }), order({ qtyLots: 2, priceTicks: 10_050 }))).toMatch(/^approved/);
  });

  it('a first buy on an instrument adds nothing to the short case', () => {
    // Short 4 on ALT (net 400): buying 2 on SIM makes the long case −200, the short case stays −400.
    expect(says(given({ maxNetExposure: '500' }, ...altShort4), order({ qtyLots: 2 }))).toMatch(/^approved/);
  });

  it('a cancel without a reason records none', () => {
    const r = decide(given({}), { kind: 'cancel', orderId: 'a' }, ctx);
    expect(Object.keys(r.data)).toEqual(['orderId']);
  });
});
