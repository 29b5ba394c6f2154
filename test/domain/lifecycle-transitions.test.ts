/**
 * The order lifecycle's transition table, one row per (state, event) that matters: what each event does
 * to an order in each state, and for each refusal the exact reason it gives (the message names the
 * order, the event and the state, so an operator can act on it). Written from the survivors of
 * `npm run mutate` on domain/orders (docs/mutation.md): each row pins a guard or a field that no other
 * test could tell apart from its mutant.
 */
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import type { TimedEvent } from '../../domain/events/event.js';
import {
  decide, evolve, initialState, orderLifecycle, transition, workingOrders,
  type LifecycleEvent, type LifecycleRequest, type OrderEvent, type OrderState, type ReportedFill, type VenueOrderStatus,
} from '../../domain/orders/lifecycle.js';
import { DeciderSpecification } from '../helpers/decider.js';
import { at, filled, intended } from './builders.js';

const approve = at('RiskApproved', { orderId: 'o1', checks: [] });
const submit = (attempt = 1, venue = 'SIM') => at('OrderSubmitted', { orderId: 'o1', venue, attempt });
const accept = (venueOrderId = 'v1') => at('OrderAccepted', { orderId: 'o1', venueOrderId });
const unknownEv = at('OrderStatusUnknown', { orderId: 'o1', reason: 'timeout' });
const cancelReq = at('CancelRequested', { orderId: 'o1' });
const replaceReq = (priceTicks: number | null, qtyLots: number) => at('ReplaceRequested', { orderId: 'o1', priceTicks, qtyLots });

/** The histories behind each state the table starts from (order o1: limit buy 10 at 100 on SIM). */
const HISTORY = {
  intended: [intended('o1')],
  approved: [intended('o1'), approve],
  'approved, cancel requested': [intended('o1'), approve, cancelReq],
  denied: [intended('o1'), at('RiskDenied', { orderId: 'o1', code: 'MAX_ORDER_QTY', detail: 'too big' })],
  submitted: [intended('o1'), approve, submit()],
  'submitted, cancel requested': [intended('o1'), approve, submit(), cancelReq],
  accepted: [intended('o1'), approve, submit(), accept()],
  'accepted, cancel requested': [intended('o1'), approve, submit(), accept(), cancelReq],
  'accepted, replace pending': [intended('o1'), approve, submit(), accept(), replaceReq(99, 12)],
  'partially filled': [intended('o1'), approve, submit(), accept(), filled('o1', 4, 100, 6, { fillId: 'f1' })],
  'partially filled before the ack': [intended('o1'), approve, submit(), filled('o1', 3, 100, 7, { fillId: 'f1' })],
  filled: [intended('o1'), approve, submit(), accept(), filled('o1', 10, 100, 0, { fillId: 'f1' })],
  canceled: [intended('o1'), approve, submit(), accept(), at('OrderCanceled', { orderId: 'o1', canceledLots: 10 })],
  'unknown after submit': [intended('o1'), approve, submit(), unknownEv],
  'unknown after accept': [intended('o1'), approve, submit(), accept(), unknownEv],
  'unknown with fills': [intended('o1'), approve, submit(), accept(), filled('o1', 2, 100, 8, { fillId: 'f1' }), unknownEv],
  'unknown after submit, then a fill': [intended('o1'), approve, submit(), unknownEv, filled('o1', 2, 100, 8, { fillId: 'f1' })],
  'unknown after submit, then replaced with an id': [intended('o1'), approve, submit(), unknownEv, at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 10, venueOrderId: 'v9' })],
  'market accepted': [intended('o1', { orderType: 'market', priceTicks: null }), approve, submit(), accept()],
} satisfies Record<string, TimedEvent[]>;
type StateName = keyof typeof HISTORY;

function stateOf(name: StateName): OrderState {
  let o: OrderState | undefined;
  for (const e of HISTORY[name]) {
    const r = transition(o, e as OrderEvent);
    if (r instanceof TapedeckError) throw r;
    o = r;
  }
  return o!;
}

/** The event is refused in that state with exactly this reason, and the state is left as it was. */
function refuses(name: StateName, event: TimedEvent, why: string): void {
  const o = stateOf(name);
  const before = structuredClone(o);
  const r = transition(o, event as OrderEvent);
  expect(r, `${event.type} in state ${name}`).toBeInstanceOf(TapedeckError);
  expect((r as TapedeckError).code).toBe('ORDER_TRANSITION');
  expect((r as TapedeckError).message).toBe(`order o1: ${event.type} is impossible in state ${o.status}: ${why}`);
  expect(o).toEqual(before);
}

/** The event is taken in that state, and the order then has these fields. */
function moves(name: StateName, event: TimedEvent, expected: Partial<OrderState>): OrderState {
  const r = transition(stateOf(name), event as OrderEvent);
  if (r instanceof TapedeckError) throw new Error(`${event.type} in state ${name} was refused: ${r.message}`);
  expect(r).toMatchObject(expected);
  return r;
}

describe('order lifecycle transitions: the first event', () => {
  it('only OrderIntended starts an order, and its price must match its type', () => {
    const r = transition(undefined, accept() as OrderEvent) as TapedeckError;
    expect(r.message).toBe('order o1: OrderAccepted is impossible in state none: the order was never intended');
    expect((transition(undefined, intended('o1', { priceTicks: null }) as OrderEvent) as TapedeckError).message)
      .toBe('order o1: OrderIntended is impossible in state none: a limit order needs a price');
    expect((transition(undefined, intended('o1', { orderType: 'market', priceTicks: 100 }) as OrderEvent) as TapedeckError).message)
      .toBe('order o1: OrderIntended is impossible in state none: a market order has no price');
    expect(transition(undefined, intended('o1', { orderType: 'market', priceTicks: null }) as OrderEvent)).toMatchObject({ status: 'intended', priceTicks: null });
  });

  it('keeps the client tag, or null without one', () => {
    expect(transition(undefined, intended('o1', { clientTag: 'mm-7' }) as OrderEvent)).toMatchObject({ clientTag: 'mm-7' });
    expect(transition(undefined, intended('o1') as OrderEvent)).toMatchObject({ clientTag: null });
  });

  it('an event for another order, or a second OrderIntended, is refused', () => {
    refuses('approved', at('RiskApproved', { orderId: 'o2', checks: [] }), 'event is for order o2');
    refuses('intended', intended('o1'), 'duplicate order id');
  });
});

describe('order lifecycle transitions: risk and submission', () => {
  it('risk decides only on intended orders', () => {
    refuses('approved', approve, 'risk decides only on intended orders');
    refuses('approved', at('RiskDenied', { orderId: 'o1', code: 'KILL_SWITCH', detail: '' }), 'risk decides only on intended orders');
    refuses('denied', approve, 'the order is already final');
  });

  it('an approved order is submitted to its venue; a resend needs a higher attempt', () => {
    refuses('approved', submit(1, 'ALT'), 'submitted to ALT, intended for SIM');
    moves('submitted', submit(2), { status: 'submitted', submitAttempts: 2 });
    refuses('submitted', submit(1), 'only an approved order (or a resend with a higher attempt) can be submitted');
    refuses('accepted', submit(2), 'only an approved order (or a resend with a higher attempt) can be submitted');
  });

  it('only a submitted order is accepted, once', () => {
    refuses('approved', accept(), 'only a submitted order can be accepted');
    refuses('accepted', accept('v2'), 'the order was already accepted');
    refuses('partially filled', accept('v2'), 'the order was already accepted');
    moves('partially filled before the ack', accept(), { status: 'partially-filled', venueOrderId: 'v1' });
  });

  it('only a submitted order, or an unknown one without fills, is rejected; a rejection clears what was in flight', () => {
    refuses('accepted', at('OrderRejected', { orderId: 'o1', reason: 'x' }), 'only a submitted order can be rejected');
    refuses('partially filled', at('OrderRejected', { orderId: 'o1', reason: 'x' }), 'an order with fills cannot be rejected');
    refuses('unknown with fills', at('OrderRejected', { orderId: 'o1', reason: 'x' }), 'an order with fills cannot be rejected');
    moves('submitted, cancel requested', at('OrderRejected', { orderId: 'o1', reason: 'x' }), { status: 'rejected', leavesLots: 0, cancelRequested: false });
    moves('unknown after submit', at('OrderRejected', { orderId: 'o1', reason: 'x' }), { status: 'rejected', statusBeforeUnknown: null });
  });
});

describe('order lifecycle transitions: fills', () => {
  it('only a working order fills, on its own side and instrument', () => {
    refuses('approved', filled('o1', 1, 100, 9), 'only a working order can fill');
    refuses('accepted', filled('o1', 1, 100, 9, { instrument: 'SIM:ETHUSD' }), 'fill is buy SIM:ETHUSD, order is buy SIM:BTCUSD');
    refuses('accepted', filled('o1', 1, 100, 9, { side: 'sell' }), 'fill is sell SIM:BTCUSD, order is buy SIM:BTCUSD');
    refuses('filled', filled('o1', 1, 100, 0, { fillId: 'f9' }), 'the order is already final');
  });

  it('the last fill ends what was in flight', () => {
    moves('accepted, cancel requested', filled('o1', 10, 100, 0), { status: 'filled', cancelRequested: false });
    moves('accepted, replace pending', filled('o1', 10, 100, 0), { status: 'filled', replacePending: null });
    // A partial fill leaves the cancel in flight.
    moves('accepted, cancel requested', filled('o1', 4, 100, 6), { status: 'partially-filled', cancelRequested: true });
  });
});

describe('order lifecycle transitions: cancel, expiry, replace', () => {
  it('a cancel may be requested on an approved or working order, once', () => {
    refuses('intended', cancelReq, 'only a working order can be canceled');
    moves('approved', cancelReq, { status: 'approved', cancelRequested: true });
    refuses('accepted, cancel requested', cancelReq, 'a cancel is already in flight');
    refuses('accepted', at('CancelRejected', { orderId: 'o1', reason: 'x' }), 'no cancel is in flight');
    // A late refusal after the order finished is taken (the cancel raced the last fill).
    moves('filled', at('CancelRejected', { orderId: 'o1', reason: 'too late' }), { status: 'filled', cancelRequested: false });
  });

  it('an approved order is canceled only once a cancel was requested; the lots must match', () => {
    refuses('approved', at('OrderCanceled', { orderId: 'o1', canceledLots: 10 }), 'only a working order can be canceled');
    moves('approved, cancel requested', at('OrderCanceled', { orderId: 'o1', canceledLots: 10 }), { status: 'canceled', leavesLots: 0, cancelRequested: false });
    refuses('partially filled', at('OrderCanceled', { orderId: 'o1', canceledLots: 10 }), 'canceled 10 lots, the order has 6 left');
  });

  it('only a working order expires; expiry ends a cancel in flight', () => {
    refuses('approved', at('OrderExpired', { orderId: 'o1' }), 'only a working order can expire');
    moves('accepted, cancel requested', at('OrderExpired', { orderId: 'o1' }), { status: 'expired', cancelRequested: false, leavesLots: 0 });
  });

  it('a replace may be requested on a working order with a known status, one at a time, not during a cancel', () => {
    moves('submitted', replaceReq(99, 12), { replacePending: { priceTicks: 99, qtyLots: 12 } });
    refuses('approved', replaceReq(99, 12), 'only a working order with a known status can be replaced');
    refuses('unknown after accept', replaceReq(99, 12), 'only a working order with a known status can be replaced');
    refuses('accepted, replace pending', replaceReq(98, 12), 'a replace is already in flight');
    refuses('accepted, cancel requested', replaceReq(98, 12), 'a cancel is in flight');
    refuses('accepted', at('ReplaceRejected', { orderId: 'o1', reason: 'x' }), 'no replace is in flight');
  });

  it('a replace keeps the price rule of the order type', () => {
    refuses('accepted', replaceReq(null, 12), 'a limit order needs a price');
    refuses('market accepted', replaceReq(100, 12), 'a market order has no price');
    moves('market accepted', replaceReq(null, 12), { replacePending: { priceTicks: null, qtyLots: 12 } });
    refuses('accepted', at('OrderReplaced', { orderId: 'o1', priceTicks: null, qtyLots: 12 }), 'a limit order needs a price');
    refuses('partially filled', at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 4 }), 'new total quantity 4 must exceed the 4 lots already filled');
  });

  it('the venue may replace a submitted or unknown order, and may give it a new id', () => {
    refuses('approved', at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 12 }), 'only a working order can be replaced');
    moves('submitted', at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 12 }), { status: 'submitted', qtyLots: 12, leavesLots: 12, venueOrderId: null });
    moves('unknown after accept', at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 12 }), { status: 'unknown', qtyLots: 12, venueOrderId: 'v1' });
    moves('accepted', at('OrderReplaced', { orderId: 'o1', priceTicks: 99, qtyLots: 12, venueOrderId: 'v2' }), { venueOrderId: 'v2', replaceCount: 1 });
  });

  it('only a submitted or working order becomes unknown; a second timeout keeps what it was before', () => {
    refuses('approved', unknownEv, 'only a submitted or working order can become unknown');
    moves('unknown after submit', unknownEv, { status: 'unknown', statusBeforeUnknown: 'submitted' });
  });
});

describe('order lifecycle: the collection', () => {
  it('ignores events that are not about orders, and lists only working orders', () => {
    const s = initialState();
    expect(evolve(s, at('TimerFired', { timerId: 't', strategyId: 's1' } as never))).toBe(s);
    for (const e of [intended('o1'), approve, submit(), intended('o2'), intended('o3'), at('RiskApproved', { orderId: 'o3', checks: [] }), at('OrderSubmitted', { orderId: 'o3', venue: 'SIM', attempt: 1 }), at('OrderRejected', { orderId: 'o3', reason: 'x' })]) {
      expect(evolve(s, e)).toBe(s);
    }
    expect(workingOrders(s).map((o) => o.orderId)).toEqual(['o1']);
  });
});

describe('order lifecycle decide: requests and venue answers', () => {
  const spec = DeciderSpecification.for(orderLifecycle);
  const fill = (fillId: string, qtyLots: number): ReportedFill => ({ fillId, priceTicks: 101, qtyLots, fee: 3n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' });
  const resolve = (status: VenueOrderStatus): LifecycleRequest => ({ orderId: 'o1', input: { kind: 'ResolveStatus', status } });
  const types = (expected: string[]) => (events: readonly LifecycleEvent[]) => expect(events.map((e) => e.type)).toEqual(expected);

  it('a request about an order never seen names it and the state "none"', () => {
    const r = decide(undefined, 'o9', { kind: 'RequestCancel' }) as TapedeckError;
    expect(r.message).toBe('order o9: RequestCancel is impossible in state none: unknown order');
    expect(r.where).toMatchObject({ orderId: 'o9', from: 'none', event: 'RequestCancel' });
  });

  it('a cancel request carries its reason only when given one', () => {
    spec.given(HISTORY.accepted).when({ orderId: 'o1', input: { kind: 'RequestCancel', reason: 'flatten' } })
      .then([{ type: 'CancelRequested', data: { orderId: 'o1', reason: 'flatten' } }]);
    spec.given(HISTORY.accepted).when({ orderId: 'o1', input: { kind: 'RequestCancel' } })
      .then((events) => expect(Object.keys(events[0]!.data)).toEqual(['orderId']));
  });

  it('only an unknown order is resolved, and the venue cannot report fewer fills than recorded or more than the order', () => {
    expect((decide(stateOf('accepted'), 'o1', { kind: 'ResolveStatus', status: { state: 'open', filledLots: 0, leavesLots: 10 } }) as TapedeckError).message)
      .toBe('order o1: ResolveStatus is impossible in state accepted: only an order in state unknown is resolved from a venue query');
    expect((decide(stateOf('unknown with fills'), 'o1', resolve({ state: 'open', filledLots: 1, leavesLots: 9 }).input) as TapedeckError).message)
      .toBe('order o1: ResolveStatus is impossible in state unknown: venue reports 1 lots filled, we have recorded 2');
    expect((decide(stateOf('unknown with fills'), 'o1', resolve({ state: 'filled', filledLots: 11, leavesLots: 0 }).input) as TapedeckError).message)
      .toBe('order o1: ResolveStatus is impossible in state unknown: venue reports 11 lots filled of a 10-lot order');
  });

  it('missing fills the answer does not carry are named, with the order', () => {
    const r = decide(stateOf('unknown with fills'), 'o1', resolve({ state: 'filled', filledLots: 10, leavesLots: 0 }).input) as TapedeckError;
    expect(r.code).toBe('ORDER_FILLS_MISSING');
    expect(r.message).toBe("order o1: venue reports 8 more lots filled but the answer carries 0 lots of new fills; fetch the order's executions");
    expect(r.where).toEqual({ orderId: 'o1' });
  });

  it('the lots filled decide: fills listed beyond them are not read', () => {
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'open', filledLots: 2, leavesLots: 8, fills: [fill('f1', 2), fill('f7', 1)] }))
      .then([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'v1' } }]);
  });

  it('open: the order is accepted again with the venue id, a placeholder id without one, and not when the fills finished it', () => {
    spec.given(HISTORY['unknown after submit']).when(resolve({ state: 'open', filledLots: 0, leavesLots: 10 }))
      .then([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'unknown:o1' } }]);
    spec.given(HISTORY['unknown after submit']).when(resolve({ state: 'open', filledLots: 0, leavesLots: 10, venueOrderId: 'v5' }))
      .then([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'v5' } }]);
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'open', filledLots: 10, leavesLots: 0, fills: [fill('f2', 8)] }))
      .then(types(['OrderFilled']));
  });

  it('filled: the missing fills finish it; lots unaccounted for are an error', () => {
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'filled', filledLots: 10, leavesLots: 0, fills: [fill('f2', 5), fill('f3', 3)] }))
      .then((events, s) => {
        expect(events.map((e) => [e.type, (e.data as { leavesLots?: number }).leavesLots])).toEqual([['OrderFilled', 3], ['OrderFilled', 0]]);
        for (const e of events) orderLifecycle.evolve(s, e);
        expect(s.orders.get('o1')).toMatchObject({ status: 'filled', filledLots: 10 });
      });
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'filled', filledLots: 2, leavesLots: 0 }))
      .thenThrows(/venue says filled but 8 lots are unaccounted for/);
  });

  it('canceled or expired: the rest ends, unless the fills already ended it', () => {
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'canceled', filledLots: 2, leavesLots: 0 }))
      .then([{ type: 'OrderCanceled', data: { orderId: 'o1', canceledLots: 8, reason: 'venue query: canceled' } }]);
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'canceled', filledLots: 10, leavesLots: 0, fills: [fill('f2', 8)] }))
      .then(types(['OrderFilled']));
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'expired', filledLots: 2, leavesLots: 0 }))
      .then([{ type: 'OrderExpired', data: { orderId: 'o1' } }]);
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'expired', filledLots: 10, leavesLots: 0, fills: [fill('f2', 8)] }))
      .then(types(['OrderFilled']));
  });

  it('rejected: only an order without fills, counting the fills the answer brings', () => {
    spec.given(HISTORY['unknown after submit']).when(resolve({ state: 'rejected', filledLots: 0, leavesLots: 0 }))
      .then([{ type: 'OrderRejected', data: { orderId: 'o1', reason: 'venue query: rejected' } }]);
    spec.given(HISTORY['unknown with fills']).when(resolve({ state: 'rejected', filledLots: 2, leavesLots: 0 }))
      .thenThrows(/venue says rejected but the order has fills/);
    spec.given(HISTORY['unknown after submit']).when(resolve({ state: 'rejected', filledLots: 1, leavesLots: 0, fills: [fill('f1', 1)] }))
      .thenThrows(/venue says rejected but the order has fills/);
  });

  it('not found: rejected only when the venue never acknowledged nor filled it', () => {
    spec.given(HISTORY['unknown after submit']).when(resolve({ state: 'not-found', filledLots: 0, leavesLots: 0 }))
      .then([{ type: 'OrderRejected', data: { orderId: 'o1', reason: 'venue query: order not found' } }]);
    // A fill came while unknown: the venue had it.
    spec.given(HISTORY['unknown after submit, then a fill']).when(resolve({ state: 'not-found', filledLots: 2, leavesLots: 0 }))
      .thenThrows(/venue reports not found for an order it had filled 2 lots of/);
    // The venue gave it an id (a replace answered while unknown): it had acknowledged it.
    spec.given(HISTORY['unknown after submit, then replaced with an id']).when(resolve({ state: 'not-found', filledLots: 0, leavesLots: 0 }))
      .thenThrows(/venue reports not found for an order it had acknowledged/);
  });
});
