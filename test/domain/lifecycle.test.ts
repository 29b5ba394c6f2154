import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { isTapedeckError } from '../../domain/core/errors.js';
import {
  decide, evolve, initialState, isTerminal, orderLifecycle, transition,
  type LifecycleEvent, type LifecycleRequest, type OrderEvent, type OrderState, type OrdersState, type VenueOrderStatus,
} from '../../domain/orders/lifecycle.js';
import { DeciderSpecification } from '../helpers/decider.js';
import { at, filled, intended } from './builders.js';

/** Given: apply events; each must be valid. */
function given(...events: TimedEvent[]): OrdersState {
  const s = initialState();
  for (const e of events) {
    const r = evolve(s, e);
    if (r instanceof TapedeckError) throw r;
  }
  return s;
}

function orderOf(s: OrdersState, id = 'o1'): OrderState {
  return s.orders.get(id)!;
}

const live = [intended('o1'), at('RiskApproved', { orderId: 'o1', checks: ['MAX_ORDER_QTY'] }), at('OrderSubmitted', { orderId: 'o1', venue: 'SIM', attempt: 1 }), at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v1' })];

describe('order lifecycle: the happy path', () => {
  it('goes intended → approved → submitted → accepted → partially filled → filled', () => {
    const s = given(...live);
    expect(orderOf(s).status).toBe('accepted');
    expect(evolve(s, filled('o1', 4, 100, 6))).toBe(s);
    expect(orderOf(s)).toMatchObject({ status: 'partially-filled', filledLots: 4, leavesLots: 6 });
    evolve(s, filled('o1', 6, 101, 0));
    expect(orderOf(s)).toMatchObject({ status: 'filled', filledLots: 10, leavesLots: 0 });
  });

  it('records a risk denial as final, with its code', () => {
    const s = given(intended('o1'), at('RiskDenied', { orderId: 'o1', code: 'PRICE_COLLAR', detail: 'too far' }));
    expect(orderOf(s)).toMatchObject({ status: 'denied', leavesLots: 0, denial: { code: 'PRICE_COLLAR' } });
  });

  it('accepts a fill that races ahead of the acknowledgement, then the late ack', () => {
    const s = given(...live.slice(0, 3), filled('o1', 3, 100, 7));
    expect(orderOf(s).status).toBe('partially-filled');
    given();
    expect(evolve(s, at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v1' }))).toBe(s);
    expect(orderOf(s)).toMatchObject({ status: 'partially-filled', venueOrderId: 'v1' });
  });

  it('cancels: CancelRequested flags the order (fills may still come), OrderCanceled ends it', () => {
    const s = given(...live, at('CancelRequested', { orderId: 'o1' }), filled('o1', 2, 100, 8));
    expect(orderOf(s)).toMatchObject({ status: 'partially-filled', cancelRequested: true });
    given();
    evolve(s, at('OrderCanceled', { orderId: 'o1', canceledLots: 8 }));
    expect(orderOf(s)).toMatchObject({ status: 'canceled', leavesLots: 0, filledLots: 2, cancelRequested: false });
  });

  it('replaces: the new total quantity and price apply, leaves follow', () => {
    const s = given(...live, filled('o1', 4, 100, 6), at('ReplaceRequested', { orderId: 'o1', priceTicks: 99, qtyLots: 12 }));
    expect(orderOf(s).replacePending).toEqual({ priceTicks: 99, qtyLots: 12 });
    evolve(s, at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 12 }));
    expect(orderOf(s)).toMatchObject({ status: 'partially-filled', priceTicks: 99, qtyLots: 12, leavesLots: 8, replaceCount: 1, replacePending: null });
  });

  it('a refused cancel or replace clears the flag and leaves the order working', () => {
    const s = given(...live, at('CancelRequested', { orderId: 'o1' }), at('CancelRejected', { orderId: 'o1', reason: 'too late' }));
    expect(orderOf(s)).toMatchObject({ status: 'accepted', cancelRequested: false });
    evolve(s, at('ReplaceRequested', { orderId: 'o1', priceTicks: 98, qtyLots: 10 }));
    evolve(s, at('ReplaceRejected', { orderId: 'o1', reason: 'venue busy' }));
    expect(orderOf(s)).toMatchObject({ priceTicks: 100, replacePending: null });
  });

  it('a replace that risk denied before sending is recorded (with its code) and changes nothing', () => {
    const s = given(...live);
    const before = orderOf(s);
    expect(evolve(s, at('ReplaceRejected', { orderId: 'o1', reason: 'too big', code: 'POSITION_LIMIT' }))).toBe(s);
    expect(orderOf(s)).toEqual(before);
    expect((evolve(s, at('ReplaceRejected', { orderId: 'o1', reason: 'venue' })) as TapedeckError).code).toBe('ORDER_TRANSITION');
  });

  it('expires a working order', () => {
    const s = given(...live, at('OrderExpired', { orderId: 'o1' }));
    expect(orderOf(s)).toMatchObject({ status: 'expired', leavesLots: 0 });
  });
});

describe('order lifecycle: impossible transitions are errors, never applied', () => {
  function expectTransitionError(s: OrdersState, e: TimedEvent, from: string): TapedeckError {
    const before = JSON.stringify([...s.orders.entries()]);
    const r = evolve(s, e);
    expect(r).toBeInstanceOf(TapedeckError);
    const err = r as TapedeckError;
    expect(err.code).toBe('ORDER_TRANSITION');
    expect(err.where).toMatchObject({ orderId: 'o1', from, event: e.type });
    expect(err.message).toContain('o1');
    expect(JSON.stringify([...s.orders.entries()])).toBe(before);
    return err;
  }

  it('an event for an order never intended', () => {
    const r = evolve(initialState(), at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v' }));
    expect((r as TapedeckError).where).toMatchObject({ orderId: 'o1', from: 'none', event: 'OrderAccepted' });
  });

  it('accepting an order that was never submitted', () => {
    expectTransitionError(given(intended('o1'), at('RiskApproved', { orderId: 'o1', checks: [] })), at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v' }), 'approved');
  });

  it('submitting a denied order', () => {
    expectTransitionError(given(intended('o1'), at('RiskDenied', { orderId: 'o1', code: 'KILL_SWITCH', detail: '' })), at('OrderSubmitted', { orderId: 'o1', venue: 'SIM', attempt: 1 }), 'denied');
  });

  it('over-filling, a duplicate fill id, and a fill whose leaves disagree', () => {
    const s = given(...live, filled('o1', 4, 100, 6, { fillId: 'f1' }));
    expect(expectTransitionError(s, filled('o1', 7, 100, 0), 'partially-filled').message).toContain('exceeds');
    expect(expectTransitionError(s, filled('o1', 1, 100, 5, { fillId: 'f1' }), 'partially-filled').message).toContain('duplicate');
    expect(expectTransitionError(s, filled('o1', 1, 100, 4), 'partially-filled').message).toContain('left');
  });

  it('a fill on the wrong side or instrument', () => {
    expectTransitionError(given(...live), filled('o1', 1, 100, 9, { side: 'sell' }), 'accepted');
  });

  it('anything after a final state', () => {
    const s = given(...live, filled('o1', 10, 100, 0));
    expectTransitionError(s, at('OrderCanceled', { orderId: 'o1', canceledLots: 0 }), 'filled');
    expectTransitionError(s, at('OrderStatusUnknown', { orderId: 'o1', reason: 'x' }), 'filled');
  });

  it('rejecting an accepted order, or canceling the wrong quantity', () => {
    const s = given(...live);
    expectTransitionError(s, at('OrderRejected', { orderId: 'o1', reason: 'late' }), 'accepted');
    expectTransitionError(s, at('OrderCanceled', { orderId: 'o1', canceledLots: 3 }), 'accepted');
  });

  it('a second cancel or replace while one is in flight; a replace below the filled quantity', () => {
    const s = given(...live, filled('o1', 5, 100, 5), at('CancelRequested', { orderId: 'o1' }));
    expectTransitionError(s, at('CancelRequested', { orderId: 'o1' }), 'partially-filled');
    const t = given(...live, filled('o1', 5, 100, 5));
    expectTransitionError(t, at('ReplaceRequested', { orderId: 'o1', priceTicks: 100, qtyLots: 5 }), 'partially-filled');
  });

  it('a duplicate OrderIntended', () => {
    expectTransitionError(given(intended('o1')), intended('o1'), 'intended');
  });
});

describe('order lifecycle: status unknown and its resolution (decide, Given/When/Then)', () => {
  const spec = DeciderSpecification.for(orderLifecycle);
  const unknownOrder = [...live, filled('o1', 2, 100, 8, { fillId: 'f1' }), at('OrderStatusUnknown', { orderId: 'o1', reason: 'timeout' })];
  const unknown = (): OrdersState => given(...unknownOrder);
  function applyAll(s: OrdersState, events: ReadonlyArray<{ type: string; data: unknown }>): void {
    for (const e of events) {
      const r = evolve(s, e);
      if (r instanceof TapedeckError) throw r;
    }
  }
  const resolve = (status: VenueOrderStatus): LifecycleRequest => ({ orderId: 'o1', input: { kind: 'ResolveStatus', status } });
  /** Then-check: the events decided carry the order to `expected` when applied (they are valid transitions). */
  const leadsTo = (types: string[], expected: Partial<OrderState>) => (events: readonly LifecycleEvent[], s: OrdersState) => {
    expect(events.map((e) => e.type)).toEqual(types);
    for (const e of events) orderLifecycle.evolve(s, e);
    expect(orderOf(s)).toMatchObject(expected);
  };

  it('open at the venue → accepted again (partially filled)', () => {
    spec.given(unknownOrder).thenState((s) => expect(orderOf(s)).toMatchObject({ status: 'unknown', statusBeforeUnknown: 'partially-filled' }));
    spec.given(unknownOrder).when(resolve({ state: 'open', filledLots: 2, leavesLots: 8 }))
      .then([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'v1' } }]);
    spec.given(unknownOrder).when(resolve({ state: 'open', filledLots: 2, leavesLots: 8 })).then(leadsTo(['OrderAccepted'], { status: 'partially-filled' }));
  });

  it('fills we missed come from the answer, then the cancel', () => {
    spec.given(unknownOrder).when(resolve({
      state: 'canceled', filledLots: 5, leavesLots: 0,
      fills: [{ fillId: 'f1', priceTicks: 100, qtyLots: 2, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' },
        { fillId: 'f2', priceTicks: 101, qtyLots: 3, fee: 1n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' }],
    })).then(leadsTo(['OrderFilled', 'OrderCanceled'], { status: 'canceled', filledLots: 5, leavesLots: 0 }));
  });

  it('fills the answer does not carry are an error, not invented', () => {
    spec.given(unknownOrder).when(resolve({ state: 'filled', filledLots: 10, leavesLots: 0 })).thenThrows('ORDER_FILLS_MISSING');
  });

  it('an order the venue never saw becomes rejected', () => {
    spec.given([...live.slice(0, 3), at('OrderStatusUnknown', { orderId: 'o1', reason: 'timeout' })])
      .when(resolve({ state: 'not-found', filledLots: 0, leavesLots: 0 }))
      .then(leadsTo(['OrderRejected'], { status: 'rejected' }));
  });

  it('a fill that arrives while the outcome is unknown is applied and the order stays unknown until it is resolved', () => {
    const s = unknown();
    evolve(s, filled('o1', 3, 101, 5, { fillId: 'f2' }));
    expect(orderOf(s)).toMatchObject({ status: 'unknown', statusBeforeUnknown: 'partially-filled', filledLots: 5, leavesLots: 5, fillIds: ['f1', 'f2'] });
    // The answer counts the fill that already came: nothing is filled twice.
    const ev = decide(orderOf(s), 'o1', { kind: 'ResolveStatus', status: { state: 'open', filledLots: 5, leavesLots: 5, fills: [
      { fillId: 'f1', priceTicks: 100, qtyLots: 2, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' },
      { fillId: 'f2', priceTicks: 101, qtyLots: 3, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' }] } });
    expect(ev).toEqual([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'v1' } }]);
    applyAll(s, ev as never[]);
    expect(orderOf(s)).toMatchObject({ status: 'partially-filled', filledLots: 5, statusBeforeUnknown: null });
    // The last lots arriving while unknown finish the order: filled, not unknown.
    const t = unknown();
    evolve(t, filled('o1', 8, 101, 0, { fillId: 'f2' }));
    expect(orderOf(t)).toMatchObject({ status: 'filled', leavesLots: 0, statusBeforeUnknown: null });
    // And a fill beyond what is left is still refused while unknown.
    const u = unknown();
    expect((evolve(u, filled('o1', 9, 101, 0, { fillId: 'f3' })) as TapedeckError).code).toBe('ORDER_TRANSITION');
    expect(orderOf(u)).toMatchObject({ status: 'unknown', filledLots: 2 });
  });

  it('"not found" for an order the venue had accepted, or had filled part of, is an error: it may have traded', () => {
    const accepted = given(...live, at('OrderStatusUnknown', { orderId: 'o1', reason: 'timeout' }));
    const r = decide(orderOf(accepted), 'o1', { kind: 'ResolveStatus', status: { state: 'not-found', filledLots: 0, leavesLots: 0 } });
    expect(r).toBeInstanceOf(TapedeckError);
    expect((r as TapedeckError).message).toBe('order o1: ResolveStatus is impossible in state unknown: venue reports not found for an order it had acknowledged: whether it traded since cannot be told');
    const partial = decide(orderOf(unknown()), 'o1', { kind: 'ResolveStatus', status: { state: 'not-found', filledLots: 2, leavesLots: 0 } });
    expect((partial as TapedeckError).message).toMatch(/it had filled 2 lots of/);
    // A fill that raced ahead of the lost acknowledgement: the venue had it too.
    const raced = given(...live.slice(0, 3), filled('o1', 1, 100, 9, { fillId: 'f1' }), at('OrderStatusUnknown', { orderId: 'o1', reason: 'timeout' }));
    expect(decide(orderOf(raced), 'o1', { kind: 'ResolveStatus', status: { state: 'not-found', filledLots: 1, leavesLots: 0 } })).toBeInstanceOf(TapedeckError);
  });

  it('resolving an order that is not unknown is an error', () => {
    spec.given(live).when(resolve({ state: 'open', filledLots: 0, leavesLots: 10 })).thenThrows('ORDER_TRANSITION');
  });

  it('decide turns a cancel request into CancelRequested, or an error on a finished order', () => {
    const cancel: LifecycleRequest = { orderId: 'o1', input: { kind: 'RequestCancel' } };
    spec.given(live).when(cancel).then([{ type: 'CancelRequested', data: { orderId: 'o1' } }]);
    spec.given([...live, filled('o1', 10, 100, 0)]).when(cancel).thenThrows('ORDER_TRANSITION');
    spec.given([]).when(cancel).thenThrows((e) => isTapedeckError(e) && /unknown order/.test(e.message));
  });

  it('a replace request while one is in flight is refused; given events that are impossible fail the test', () => {
    const replace: LifecycleRequest = { orderId: 'o1', input: { kind: 'RequestReplace', priceTicks: 99, qtyLots: 10 } };
    spec.given(live).when(replace).then([{ type: 'ReplaceRequested', data: { orderId: 'o1', priceTicks: 99, qtyLots: 10 } }]);
    spec.given([...live, at('ReplaceRequested', { orderId: 'o1', priceTicks: 98, qtyLots: 10 })]).when(replace).thenThrows('ORDER_TRANSITION');
    expect(() => spec.given([at('OrderAccepted', { orderId: 'o1', venueOrderId: 'v' })]).thenState(() => undefined)).toThrow(/impossible/);
  });
});

// ---------- properties ----------

const eventArb: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc.constant({ type: 'RiskApproved', data: { orderId: 'o1', checks: [] } } as OrderEvent),
  fc.constant({ type: 'RiskDenied', data: { orderId: 'o1', code: 'MAX_ORDER_QTY', detail: '' } } as OrderEvent),
  fc.integer({ min: 1, max: 3 }).map((attempt) => ({ type: 'OrderSubmitted', data: { orderId: 'o1', venue: 'SIM', attempt } }) as OrderEvent),
  fc.constant({ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'v1' } } as OrderEvent),
  fc.constant({ type: 'OrderRejected', data: { orderId: 'o1', reason: 'x' } } as OrderEvent),
  fc.record({ q: fc.integer({ min: 1, max: 12 }), l: fc.integer({ min: 0, max: 12 }), id: fc.integer({ min: 0, max: 5 }) })
    .map(({ q, l, id }) => filled('o1', q, 100, l, { fillId: `f${id}` }) as OrderEvent),
  fc.integer({ min: 0, max: 12 }).map((n) => ({ type: 'OrderCanceled', data: { orderId: 'o1', canceledLots: n } }) as OrderEvent),
  fc.constant({ type: 'OrderExpired', data: { orderId: 'o1' } } as OrderEvent),
  fc.constant({ type: 'CancelRequested', data: { orderId: 'o1' } } as OrderEvent),
  fc.constant({ type: 'CancelRejected', data: { orderId: 'o1', reason: 'x' } } as OrderEvent),
  fc.integer({ min: 1, max: 15 }).map((q) => ({ type: 'ReplaceRequested', data: { orderId: 'o1', priceTicks: 99, qtyLots: q } }) as OrderEvent),
  fc.constant({ type: 'ReplaceRejected', data: { orderId: 'o1', reason: 'x' } } as OrderEvent),
  fc.integer({ min: 1, max: 15 }).map((q) => ({ type: 'OrderReplaced', data: { orderId: 'o1', priceTicks: 98, qtyLots: q } }) as OrderEvent),
  fc.constant({ type: 'OrderStatusUnknown', data: { orderId: 'o1', reason: 'x' } } as OrderEvent),
);

function checkInvariants(o: OrderState): void {
  expect(o.filledLots).toBeGreaterThanOrEqual(0);
  expect(o.leavesLots).toBeGreaterThanOrEqual(0);
  expect(o.filledLots).toBeLessThanOrEqual(o.qtyLots);
  expect(o.fillIds.length).toBe(new Set(o.fillIds).size);
  if (o.status === 'filled') expect(o.filledLots).toBe(o.qtyLots);
  if (isTerminal(o.status)) expect(o.leavesLots).toBe(0);
  else expect(o.filledLots + o.leavesLots).toBe(o.qtyLots);
  if (o.status === 'partially-filled') expect(o.filledLots).toBeGreaterThan(0);
  if (o.status === 'accepted') expect(o.filledLots).toBe(0);
  if (o.status === 'unknown') expect(o.statusBeforeUnknown).not.toBeNull();
}

describe('order lifecycle: properties', () => {
  it('random event sequences never produce an invalid state; rejected events change nothing', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
      let o: OrderState | undefined = transition(undefined, intended('o1') as OrderEvent) as OrderState;
      for (const e of events) {
        const r = transition(o, e);
        if (r instanceof TapedeckError) {
          expect(r.code).toBe('ORDER_TRANSITION');
          expect(r.where).toMatchObject({ orderId: 'o1', event: e.type });
          continue;
        }
        o = r;
        checkInvariants(o);
      }
    }), { numRuns: 400 });
  });

  it('after a final state, every event except a late cancel/replace refusal is an error', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 30 }), eventArb, (events, last) => {
      let o = transition(undefined, intended('o1') as OrderEvent) as OrderState;
      for (const e of events) {
        const r = transition(o, e);
        if (!(r instanceof TapedeckError)) o = r;
      }
      if (!isTerminal(o.status)) return;
      const r = transition(o, last);
      if (last.type === 'CancelRejected' || last.type === 'ReplaceRejected') {
        if (!(r instanceof TapedeckError)) expect(r.status).toBe(o.status);
      } else {
        expect(r).toBeInstanceOf(TapedeckError);
      }
    }), { numRuns: 300 });
  });
});
