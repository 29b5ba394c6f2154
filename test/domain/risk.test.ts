import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { parseRiskConfig, type RiskConfigInput } from '../../domain/risk/config.js';
import {
  check, decide, evolve, exposure, initialState, riskDecider, worstCasePositionLots, type PlaceOrderFacts, type RiskOutcome, type RiskRequest, type RiskState,
} from '../../domain/risk/risk.js';
import { DeciderSpecification } from '../helpers/decider.js';
import { at, filled, INSTR, intended, quote, VENUE } from './builders.js';
import { market, given, order, approvedOrder, OTHER } from './risk-fixture.js';

const mkt = market(quote(9_990, 10, 10_010, 10), quote(9_990, 10, 10_010, 10, 0n, OTHER, 'ALT'));
const ctx = { eventTimeNs: 1_000n, market: mkt };

function denied(s: RiskState, o: PlaceOrderFacts, c = ctx): string {
  const r = check(s, { kind: 'place', order: o }, c);
  if (r.approved) throw new Error(`expected a denial, got approval (${r.checks.join(',')})`);
  return r.code;
}

describe('risk config', () => {
  it('names the failing field', () => {
    try {
      parseRiskConfig({ maxOpenOrders: -1 });
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(TapedeckError);
      expect((e as TapedeckError).code).toBe('RISK_CONFIG');
      expect((e as TapedeckError).where?.field).toBe('maxOpenOrders');
    }
    expect(() => parseRiskConfig({ instruments: { [INSTR]: { maxOrderNotional: 'lots' } } })).toThrow(/instruments/);
    expect(() => parseRiskConfig({ instruments: { 'not-an-id': {} } })).toThrow(TapedeckError);
  });
});

describe('pre-trade checks: each denial code', () => {
  it('approves a plain order and lists the checks that ran', () => {
    const r = check(given({ defaults: { maxOrderQtyLots: 5 } }), { kind: 'place', order: order() }, ctx);
    expect(r).toEqual({ approved: true, checks: ['KILL_SWITCH', 'INVALID_ORDER', 'UNKNOWN_INSTRUMENT', 'REDUCE_ONLY', 'MAX_ORDER_QTY'] });
  });

  it('MAX_ORDER_QTY and MAX_ORDER_NOTIONAL (per instrument over defaults)', () => {
    const s = given({ defaults: { maxOrderQtyLots: 100 }, instruments: { [INSTR]: { maxOrderQtyLots: 5, maxOrderNotional: '250' } } });
    expect(denied(s, order({ qtyLots: 6 }))).toBe('MAX_ORDER_QTY');
    expect(denied(s, order({ qtyLots: 3 }))).toBe('MAX_ORDER_NOTIONAL');
    expect(check(s, { kind: 'place', order: order({ qtyLots: 2 }) }, ctx).approved).toBe(true);
  });

  it('PRICE_COLLAR around the mid, NO_REFERENCE_PRICE without one', () => {
    const s = given({ defaults: { collarBps: 100 } });
    expect(check(s, { kind: 'place', order: order({ priceTicks: 10_100 }) }, ctx).approved).toBe(true);
    expect(denied(s, order({ priceTicks: 10_101 }))).toBe('PRICE_COLLAR');
    expect(denied(s, order({ priceTicks: 9_899 }))).toBe('PRICE_COLLAR');
    expect(denied(s, order({ instrument: 'SIM:NOQUOTE' }))).toBe('NO_REFERENCE_PRICE');
  });

  it('POSITION_LIMIT counts open orders in the worst case; reducing orders pass even when over', () => {
    const s = given({ defaults: { maxPositionLots: 5 } }, ...approvedOrder('a', { qtyLots: 3, fill: 1 }));
    expect(worstCasePositionLots(s, INSTR)).toBe(3);
    expect(denied(s, order({ qtyLots: 3 }))).toBe('POSITION_LIMIT');
    expect(check(s, { kind: 'place', order: order({ qtyLots: 2 }) }, ctx).approved).toBe(true);
    expect(check(s, { kind: 'place', order: order({ side: 'sell', qtyLots: 1 }) }, ctx).approved).toBe(true);
  });

  it('VENUE_POSITION_LIMIT caps gross notional per venue', () => {
    const s = given({ venues: { [VENUE]: { maxGrossNotional: '500' } } }, ...approvedOrder('a', { qtyLots: 4, fill: 4 }));
    expect(denied(s, order({ qtyLots: 2 }))).toBe('VENUE_POSITION_LIMIT');
    expect(check(s, { kind: 'place', order: order({ qtyLots: 1 }) }, ctx).approved).toBe(true);
    expect(check(s, { kind: 'place', order: order({ qtyLots: 3, venue: 'ALT', instrument: OTHER }) }, ctx).approved).toBe(true);
  });

  it('GROSS_EXPOSURE and NET_EXPOSURE across venues: a hedge on another venue nets out', () => {
    const s = given({ maxGrossExposure: '1000', maxNetExposure: '500' }, ...approvedOrder('a', { qtyLots: 4, fill: 4 }));
    expect(denied(s, order({ qtyLots: 2 }))).toBe('NET_EXPOSURE');
    const hedge = order({ venue: 'ALT', instrument: OTHER, side: 'sell', qtyLots: 4 });
    expect(check(s, { kind: 'place', order: hedge }, ctx).approved).toBe(true);
    const big = order({ venue: 'ALT', instrument: OTHER, side: 'sell', qtyLots: 7 });
    expect(denied(s, big)).toBe('GROSS_EXPOSURE');
    expect(exposure(s, mkt)).toEqual({ gross: 400n * 10n ** 8n, net: 400n * 10n ** 8n });
  });

  it('MAX_OPEN_ORDERS counts approved, unfinished orders', () => {
    const s = given({ maxOpenOrders: 2 }, ...approvedOrder('a'), ...approvedOrder('b'));
    expect(denied(s, order())).toBe('MAX_OPEN_ORDERS');
    evolve(s, at('OrderCanceled', { orderId: 'a', canceledLots: 1 }));
    expect(check(s, { kind: 'place', order: order() }, ctx).approved).toBe(true);
  });

  it('ORDER_RATE is a sliding window in EVENT time', () => {
    const s = given({ orderRate: { maxOrders: 2, windowNs: 1_000 } }, ...approvedOrder('a', {}, 100n), ...approvedOrder('b', {}, 600n));
    expect(denied(s, order(), { eventTimeNs: 1_099n, market: mkt })).toBe('ORDER_RATE');
    expect(check(s, { kind: 'place', order: order() }, { eventTimeNs: 1_100n, market: mkt }).approved).toBe(true);
  });

  it('DAILY_LOSS: realized + unrealized − fees today; only reducing orders pass; a new day resets realized', () => {
    const s = given({ maxDailyLoss: '50' },
      ...approvedOrder('a', { qtyLots: 10, fill: 10, priceTicks: 10_500 }));
    // Bought 10 at 105.00, mid is 100.00: unrealized −50.00.
    expect(denied(s, order())).toBe('DAILY_LOSS');
    expect(check(s, { kind: 'place', order: order({ side: 'sell', qtyLots: 5 }) }, ctx).approved).toBe(true);
  });

  it('REDUCE_ONLY passes only what reduces the position, counting working reduce orders', () => {
    const s = given({}, ...approvedOrder('a', { qtyLots: 3, fill: 3 }));
    expect(denied(s, order({ reduceOnly: true }))).toBe('REDUCE_ONLY');
    expect(check(s, { kind: 'place', order: order({ side: 'sell', qtyLots: 3, reduceOnly: true }) }, ctx).approved).toBe(true);
    evolve(s, approvedOrder('b', { side: 'sell', qtyLots: 2, reduceOnly: true })[0]!);
    evolve(s, approvedOrder('b', { side: 'sell', qtyLots: 2, reduceOnly: true })[1]!);
    expect(denied(s, order({ side: 'sell', qtyLots: 2, reduceOnly: true }))).toBe('REDUCE_ONLY');
  });

  it('UNKNOWN_INSTRUMENT and INVALID_ORDER', () => {
    const s = given({ allowUnknownInstruments: false, instruments: { [INSTR]: {} } });
    expect(denied(s, order({ instrument: OTHER, venue: 'ALT' }))).toBe('UNKNOWN_INSTRUMENT');
    expect(denied(s, order({ qtyLots: 0 }))).toBe('INVALID_ORDER');
    expect(denied(s, order({ orderType: 'market', priceTicks: 5 }))).toBe('INVALID_ORDER');
  });
});

describe('risk as a decider: Given (events) / When (a request) / Then (the event recorded)', () => {
  const spec = (cfg: RiskConfigInput) => DeciderSpecification.for(riskDecider(parseRiskConfig(cfg)));
  const place = (over: Partial<PlaceOrderFacts> = {}, c = ctx): RiskRequest => ({ intent: { kind: 'place', order: order(over) }, ctx: c });
  const approvedFilled = approvedOrder('a', { qtyLots: 3, fill: 3 });
  const halt = at('KillSwitchChanged', { state: 'HALTED', reason: 'ops', by: 'alice' });
  const reducing = at('KillSwitchChanged', { state: 'REDUCING', reason: 'loss', by: 'risk' });
  const deniedWith = (code: string) => (out: readonly RiskOutcome[]) => expect(out).toMatchObject([{ type: 'RiskDenied', data: { orderId: 'n1', code } }]);
  const approved = (out: readonly RiskOutcome[]) => expect(out).toMatchObject([{ type: 'RiskApproved', data: { orderId: 'n1' } }]);

  it('kill switch HALTED: nothing but cancels', () => {
    spec({}).given([...approvedFilled, halt]).when(place({ side: 'sell' })).then(deniedWith('KILL_SWITCH'));
    spec({}).given([...approvedFilled, halt]).when({ intent: { kind: 'cancel', orderId: 'a' }, ctx }).then([{ type: 'CancelRequested', data: { orderId: 'a' } }]);
    spec({}).given([...approvedFilled, halt]).when({ intent: { kind: 'cancel', orderId: 'a' }, ctx, reason: 'flatten' })
      .then([{ type: 'CancelRequested', data: { orderId: 'a', reason: 'flatten' } }]);
  });

  it('kill switch REDUCING: only orders that reduce positions; ACTIVE again: anything within limits', () => {
    spec({}).given([...approvedFilled, reducing]).when(place()).then(deniedWith('KILL_SWITCH'));
    spec({}).given([...approvedFilled, reducing]).when(place({ side: 'sell', qtyLots: 4 })).then(deniedWith('KILL_SWITCH'));
    spec({}).given([...approvedFilled, reducing]).when(place({ side: 'sell', qtyLots: 3 })).then(approved);
    spec({}).given([...approvedFilled, reducing, at('KillSwitchChanged', { state: 'ACTIVE', reason: 'ok', by: 'risk' })]).when(place()).then(approved);
  });

  it('MAX_OPEN_ORDERS counts approved, unfinished orders', () => {
    const two = [...approvedOrder('a'), ...approvedOrder('b')];
    spec({ maxOpenOrders: 2 }).given(two).when(place()).then(deniedWith('MAX_OPEN_ORDERS'));
    spec({ maxOpenOrders: 2 }).given([...two, at('OrderCanceled', { orderId: 'a', canceledLots: 1 })]).when(place()).then(approved);
  });

  it('ORDER_RATE is a sliding window in EVENT time', () => {
    const given = [...approvedOrder('a', {}, 100n), ...approvedOrder('b', {}, 600n)];
    spec({ orderRate: { maxOrders: 2, windowNs: 1_000 } }).given(given).when(place({}, { eventTimeNs: 1_099n, market: mkt })).then(deniedWith('ORDER_RATE'));
    spec({ orderRate: { maxOrders: 2, windowNs: 1_000 } }).given(given).when(place({}, { eventTimeNs: 1_100n, market: mkt })).then(approved);
  });

  it('replaces are checked on the new size; a denied replace becomes ReplaceRejected with the code', () => {
    const limits = spec({ defaults: { maxPositionLots: 5 } });
    const working = approvedOrder('a', { qtyLots: 3 });
    const replace = (qtyLots: number, priceTicks = 10_000): RiskRequest => ({ intent: { kind: 'replace', orderId: 'a', priceTicks, qtyLots }, ctx });
    limits.given(working).when(replace(6)).then((out) => expect(out).toMatchObject([{ type: 'ReplaceRejected', data: { orderId: 'a', code: 'POSITION_LIMIT' } }]));
    limits.given(working).when(replace(5, 10_001)).then([{ type: 'ReplaceRequested', data: { orderId: 'a', priceTicks: 10_001, qtyLots: 5 } }]);
    // The request, once recorded, counts in the worst case until the venue answers; a refusal undoes it.
    const requested = at('ReplaceRequested', { orderId: 'a', priceTicks: 10_001, qtyLots: 5 }, 1n);
    limits.given([...working, requested]).thenState((s) => expect(worstCasePositionLots(s, INSTR)).toBe(5));
    limits.given([...working, requested, at('ReplaceRejected', { orderId: 'a', reason: 'venue says no' })]).thenState((s) => expect(worstCasePositionLots(s, INSTR)).toBe(3));
  });
});

describe('kill switch (check)', () => {
  it('HALTED approves a cancel in check, as decide records it', () => {
    const s = given({}, ...approvedOrder('a', { qtyLots: 3, fill: 3 }));
    evolve(s, at('KillSwitchChanged', { state: 'HALTED', reason: 'ops', by: 'alice' }));
    expect(check(s, { kind: 'cancel', orderId: 'a' }, ctx).approved).toBe(true);
    expect(decide(s, { kind: 'cancel', orderId: 'a' }, ctx)).toEqual({ type: 'CancelRequested', data: { orderId: 'a' } });
  });
});

describe('risk properties', () => {
  const LIMITS = { maxPos: 20, gross: 300_000n, net: 200_000n, open: 5, qty: 8, rate: 6 };
  const cfg: RiskConfigInput = {
    moneyScale: 2,
    defaults: { maxOrderQtyLots: LIMITS.qty, maxPositionLots: LIMITS.maxPos, collarBps: 200 },
    maxGrossExposure: String(LIMITS.gross / 100n), maxNetExposure: String(LIMITS.net / 100n),
    maxOpenOrders: LIMITS.open, orderRate: { maxOrders: LIMITS.rate, windowNs: 1_000 },
  };
  // Two instruments on two venues with a fixed mid of 100.00 (ticks at scale 2).
  const m = market(quote(9_990, 10, 10_010, 10), quote(9_990, 10, 10_010, 10, 0n, OTHER, 'ALT'));
  const stepArb = fc.oneof(
    fc.record({
      kind: fc.constant('place' as const), leg: fc.integer({ min: 0, max: 1 }), side: fc.constantFrom('buy' as const, 'sell' as const),
      qty: fc.integer({ min: 1, max: 10 }), offset: fc.integer({ min: -250, max: 250 }), dt: fc.integer({ min: 0, max: 400 }),
      reduceOnly: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
    }),
    fc.record({ kind: fc.constant('fill' as const), pick: fc.nat(), frac: fc.integer({ min: 1, max: 100 }) }),
    fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  );

  it('for random strategy outputs, no approved order breaches a limit (worst case, fixed prices)', () => {
    let approvals = 0;
    let denials = 0;
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60, size: 'medium' }), (steps) => {
      const s = initialState(parseRiskConfig(cfg));
      let t = 0n;
      let n = 0;
      const open: Array<{ id: string; instrument: string; venue: string; side: 'buy' | 'sell'; leaves: number; price: number }> = [];
      for (const st of steps) {
        if (st.kind === 'place') {
          t += BigInt(st.dt);
          const instrument = st.leg === 0 ? INSTR : OTHER;
          const venue = st.leg === 0 ? VENUE : 'ALT';
          const o = order({ orderId: `o${n++}`, instrument, venue, side: st.side, qtyLots: st.qty, priceTicks: 10_000 + st.offset, reduceOnly: st.reduceOnly });
          const r = check(s, { kind: 'place', order: o }, { eventTimeNs: t, market: m });
          evolve(s, intended(o.orderId, { instrument, venue, side: o.side, qtyLots: o.qtyLots, priceTicks: o.priceTicks, reduceOnly: o.reduceOnly }, t));
          if (!r.approved) {
            evolve(s, at('RiskDenied', { orderId: o.orderId, code: r.code, detail: r.detail }, t));
            denials++;
            continue;
          }
          evolve(s, at('RiskApproved', { orderId: o.orderId, checks: r.checks }, t));
          approvals++;
          open.push({ id: o.orderId, instrument, venue, side: o.side, leaves: o.qtyLots, price: o.priceTicks! });
          // Then: the limits hold after every approval.
          expect(o.qtyLots).toBeLessThanOrEqual(LIMITS.qty);
          expect(Math.abs(o.priceTicks! - 10_000) * 10_000).toBeLessThanOrEqual(10_000 * 200);
          expect(s.open.size).toBeLessThanOrEqual(LIMITS.open);
          for (const i of [INSTR, OTHER]) expect(worstCasePositionLots(s, i)).toBeLessThanOrEqual(LIMITS.maxPos);
          const x = exposure(s, m)!;
          expect(x.gross).toBeLessThanOrEqual(LIMITS.gross);
          expect(x.net).toBeLessThanOrEqual(LIMITS.net);
          expect(s.rateTimesNs.filter((r0) => r0 > t - 1_000n).length).toBeLessThanOrEqual(LIMITS.rate);
        } else if (open.length > 0) {
          const i = st.pick % open.length;
          const o = open[i]!;
          if (st.kind === 'fill') {
            const q = Math.max(1, Math.floor((o.leaves * st.frac) / 100));
            o.leaves -= q;
            evolve(s, filled(o.id, q, o.price, o.leaves, { side: o.side, instrument: o.instrument, venue: o.venue, fillId: `${o.id}-${o.leaves}` }, t));
          } else {
            evolve(s, at('OrderCanceled', { orderId: o.id, canceledLots: o.leaves }, t));
            o.leaves = 0;
          }
          if (o.leaves === 0) open.splice(i, 1);
        }
      }
    }), { numRuns: 200 });
    // The generator must exercise both outcomes, or the property proves nothing.
    expect(approvals).toBeGreaterThan(300);
    expect(denials).toBeGreaterThan(300);
  });
});
