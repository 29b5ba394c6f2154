/**
 * The order lifecycle, one state machine per order, driven by the catalogue's order events:
 *
 *   intended ─RiskApproved→ approved ─OrderSubmitted→ submitted ─OrderAccepted→ accepted
 *      └RiskDenied→ denied                                └OrderRejected→ rejected
 *   accepted/partially-filled ─OrderFilled→ partially-filled | filled
 *                             ─OrderCanceled→ canceled   ─OrderExpired→ expired
 *                             ─OrderReplaced→ (same working status, new price/qty)
 *   submitted/accepted/partially-filled ─OrderStatusUnknown→ unknown
 *   unknown ─(venue query, see `decide`)→ accepted | partially-filled | filled | canceled | rejected | expired
 *
 * CancelRequested / ReplaceRequested set an "in flight" flag on a working order (fills can still arrive),
 * cleared by the venue's answer (OrderCanceled / OrderReplaced) or its refusal (CancelRejected /
 * ReplaceRejected; a ReplaceRejected carrying a risk denial `code` records a replace risk refused before it
 * was sent, and changes nothing). An impossible transition is returned as a TapedeckError with code ORDER_TRANSITION
 * naming the order, its state and the event; it is never silently applied, and the state is unchanged.
 *
 * Per-order states are immutable (`transition` returns a new object): order events are rare next to
 * market data, and immutability lets tests and the kernel keep the previous state for error reports.
 * The collection (`OrdersState`) is updated in place by `evolve`, like every kernel-owned state.
 */
import type { Decider } from '../core/decider.js';
import { TapedeckError } from '../core/errors.js';
import type { EventType, PayloadOf, RiskDenialCode } from '../events/catalog.js';
import type { OrderSpec } from './commands.js';

export type OrderStatus =
  | 'intended' | 'approved' | 'denied' | 'submitted' | 'accepted' | 'partially-filled'
  | 'filled' | 'canceled' | 'expired' | 'rejected' | 'unknown';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['denied', 'filled', 'canceled', 'expired', 'rejected']);

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Working: the order may still trade (or we do not know whether it may). */
export function isWorking(status: OrderStatus): boolean {
  return status === 'submitted' || status === 'accepted' || status === 'partially-filled' || status === 'unknown';
}

/** An order as the lifecycle knows it: the spec it was placed with (qtyLots is the current total, which a replace changes) and its progress. */
export interface OrderState extends OrderSpec {
  orderId: string;
  strategyId: string;
  clientTag: string | null;
  status: OrderStatus;
  filledLots: number;
  leavesLots: number;
  venueOrderId: string | null;
  submitAttempts: number;
  cancelRequested: boolean;
  replacePending: { priceTicks: number | null; qtyLots: number } | null;
  replaceCount: number;
  /** While `unknown`: the status before it, so a partial answer can resume it. */
  statusBeforeUnknown: OrderStatus | null;
  denial: { code: RiskDenialCode; detail: string } | null;
  /** Fill ids already applied: a venue that sends a fill twice is caught, not double-counted. */
  fillIds: string[];
}

export const ORDER_EVENT_TYPES = [
  'OrderIntended', 'RiskApproved', 'RiskDenied', 'OrderSubmitted', 'OrderAccepted', 'OrderRejected',
  'OrderReplaced', 'CancelRequested', 'OrderCanceled', 'OrderExpired', 'OrderFilled', 'OrderStatusUnknown',
  'ReplaceRequested', 'ReplaceRejected', 'CancelRejected',
] as const satisfies readonly EventType[];
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/** An order event as the lifecycle needs it; an EventEnvelope of these types satisfies it. */
export type OrderEvent = { [K in OrderEventType]: { type: K; data: PayloadOf<K> } }[OrderEventType];

const ORDER_EVENT_SET: ReadonlySet<string> = new Set(ORDER_EVENT_TYPES);
export function isOrderEvent(e: { type: string }): e is OrderEvent {
  return ORDER_EVENT_SET.has(e.type);
}

function impossible(orderId: string, from: OrderStatus | 'none', event: string, why: string): TapedeckError {
  return new TapedeckError(
    'ORDER_TRANSITION',
    `order ${orderId}: ${event} is impossible in state ${from}: ${why}`,
    { orderId, from, event },
  );
}

function after(o: OrderState, patch: Partial<OrderState>): OrderState {
  return { ...o, ...patch };
}

/** Status for a working order given its fills (used when a fill or an answer moves it). */
function workingStatus(filledLots: number, acked: boolean): OrderStatus {
  if (filledLots > 0) return 'partially-filled';
  return acked ? 'accepted' : 'submitted';
}

/**
 * The per-order reducer. Returns the new state, or a TapedeckError (ORDER_TRANSITION) for an
 * impossible transition. Never throws for bad input.
 */
export function transition(order: OrderState | undefined, event: OrderEvent): OrderState | TapedeckError {
  if (order === undefined) {
    if (event.type !== 'OrderIntended') return impossible(event.data.orderId, 'none', event.type, 'the order was never intended');
    const d = event.data;
    if (d.orderType === 'limit' && d.priceTicks === null) return impossible(d.orderId, 'none', event.type, 'a limit order needs a price');
    if (d.orderType === 'market' && d.priceTicks !== null) return impossible(d.orderId, 'none', event.type, 'a market order has no price');
    return {
      orderId: d.orderId, strategyId: d.decision.strategyId, venue: d.venue, instrument: d.instrument,
      side: d.side, orderType: d.orderType, priceTicks: d.priceTicks, qtyLots: d.qtyLots,
      priceScale: d.priceScale, qtyScale: d.qtyScale, timeInForce: d.timeInForce, postOnly: d.postOnly,
      reduceOnly: d.reduceOnly, clientTag: d.clientTag ?? null, status: 'intended', filledLots: 0,
      leavesLots: d.qtyLots, venueOrderId: null, submitAttempts: 0, cancelRequested: false,
      replacePending: null, replaceCount: 0, statusBeforeUnknown: null, denial: null, fillIds: [],
    };
  }
  const s = order.status;
  const id = order.orderId;
  const no = (why: string): TapedeckError => impossible(id, s, event.type, why);
  if (event.data.orderId !== id) return no(`event is for order ${event.data.orderId}`);
  // Late refusals of a cancel or replace may follow a fill that finished the order.
  if (isTerminal(s) && event.type !== 'CancelRejected' && event.type !== 'ReplaceRejected') {
    return no('the order is already final');
  }
  switch (event.type) {
    case 'OrderIntended':
      return no('duplicate order id');
    case 'RiskApproved':
      if (s !== 'intended') return no('risk decides only on intended orders');
      return after(order, { status: 'approved' });
    case 'RiskDenied':
      if (s !== 'intended') return no('risk decides only on intended orders');
      return after(order, { status: 'denied', leavesLots: 0, denial: { code: event.data.code, detail: event.data.detail } });
    case 'OrderSubmitted': {
      if (event.data.venue !== order.venue) return no(`submitted to ${event.data.venue}, intended for ${order.venue}`);
      if (s === 'approved') return after(order, { status: 'submitted', submitAttempts: event.data.attempt });
      if (s === 'submitted' && event.data.attempt > order.submitAttempts) return after(order, { submitAttempts: event.data.attempt });
      return no('only an approved order (or a resend with a higher attempt) can be submitted');
    }
    case 'OrderAccepted': {
      const acked = order.venueOrderId !== null;
      if (s === 'submitted' || (s === 'partially-filled' && !acked) || s === 'unknown') {
        return after(order, {
          status: workingStatus(order.filledLots, true), venueOrderId: event.data.venueOrderId, statusBeforeUnknown: null,
        });
      }
      return no(acked ? 'the order was already accepted' : 'only a submitted order can be accepted');
    }
    case 'OrderRejected':
      if (s === 'submitted' || (s === 'unknown' && order.filledLots === 0)) {
        return after(order, { status: 'rejected', leavesLots: 0, statusBeforeUnknown: null, cancelRequested: false, replacePending: null });
      }
      return no(order.filledLots > 0 ? 'an order with fills cannot be rejected' : 'only a submitted order can be rejected');
    case 'OrderFilled': {
      if (!isWorking(s)) return no('only a working order can fill');
      const d = event.data;
      if (d.instrument !== order.instrument || d.side !== order.side) return no(`fill is ${d.side} ${d.instrument}, order is ${order.side} ${order.instrument}`);
      if (order.fillIds.includes(d.fillId)) return no(`duplicate fill ${d.fillId}`);
      if (d.qtyLots > order.leavesLots) return no(`fill of ${d.qtyLots} lots exceeds the ${order.leavesLots} lots left`);
      const leaves = order.leavesLots - d.qtyLots;
      if (d.leavesLots !== leaves) return no(`fill says ${d.leavesLots} lots left, the order has ${leaves}`);
      const filled = order.filledLots + d.qtyLots;
      let status: OrderStatus;
      if (leaves === 0) status = 'filled';
      else if (s === 'unknown') status = 'unknown';
      else status = workingStatus(filled, order.venueOrderId !== null);
      return after(order, {
        status, filledLots: filled, leavesLots: leaves, fillIds: [...order.fillIds, d.fillId],
        statusBeforeUnknown: status === 'unknown' ? order.statusBeforeUnknown : null,
        ...(leaves === 0 ? { cancelRequested: false, replacePending: null } : {}),
      });
    }
    case 'CancelRequested':
      if (!(isWorking(s) || s === 'approved')) return no('only a working order can be canceled');
      if (order.cancelRequested) return no('a cancel is already in flight');
      return after(order, { cancelRequested: true });
    case 'CancelRejected':
      if (!order.cancelRequested && !isTerminal(s)) return no('no cancel is in flight');
      return after(order, { cancelRequested: false });
    case 'OrderCanceled':
      if (!(isWorking(s) || (s === 'approved' && order.cancelRequested))) return no('only a working order can be canceled');
      if (event.data.canceledLots !== order.leavesLots) return no(`canceled ${event.data.canceledLots} lots, the order has ${order.leavesLots} left`);
      return after(order, { status: 'canceled', leavesLots: 0, cancelRequested: false, replacePending: null, statusBeforeUnknown: null });
    case 'OrderExpired':
      if (!isWorking(s)) return no('only a working order can expire');
      return after(order, { status: 'expired', leavesLots: 0, cancelRequested: false, replacePending: null, statusBeforeUnknown: null });
    case 'ReplaceRequested': {
      if (!(s === 'submitted' || s === 'accepted' || s === 'partially-filled')) return no('only a working order with a known status can be replaced');
      if (order.replacePending !== null) return no('a replace is already in flight');
      if (order.cancelRequested) return no('a cancel is in flight');
      const bad = replaceProblem(order, event.data.priceTicks, event.data.qtyLots);
      if (bad) return no(bad);
      return after(order, { replacePending: { priceTicks: event.data.priceTicks, qtyLots: event.data.qtyLots } });
    }
    case 'ReplaceRejected':
      // With a risk `code`, it records a replace that risk denied before anything was sent: nothing was in flight.
      if (order.replacePending === null && !isTerminal(s) && event.data.code === undefined) return no('no replace is in flight');
      if (order.replacePending === null) return order;
      return after(order, { replacePending: null });
    case 'OrderReplaced': {
      if (!(s === 'accepted' || s === 'partially-filled' || s === 'unknown' || s === 'submitted')) return no('only a working order can be replaced');
      const bad = replaceProblem(order, event.data.priceTicks, event.data.qtyLots);
      if (bad) return no(bad);
      return after(order, {
        priceTicks: event.data.priceTicks, qtyLots: event.data.qtyLots, leavesLots: event.data.qtyLots - order.filledLots,
        replacePending: null, replaceCount: order.replaceCount + 1,
        venueOrderId: event.data.venueOrderId ?? order.venueOrderId,
      });
    }
    case 'OrderStatusUnknown':
      if (s === 'unknown') return order;
      if (!isWorking(s)) return no('only a submitted or working order can become unknown');
      return after(order, { status: 'unknown', statusBeforeUnknown: s });
  }
}

/** Why a replace to (price, total qty) is invalid for this order, or null when it is fine. */
function replaceProblem(order: OrderState, priceTicks: number | null, qtyLots: number): string | null {
  if (order.orderType === 'limit' && priceTicks === null) return 'a limit order needs a price';
  if (order.orderType === 'market' && priceTicks !== null) return 'a market order has no price';
  if (!Number.isSafeInteger(qtyLots) || qtyLots <= order.filledLots) return `new total quantity ${qtyLots} must exceed the ${order.filledLots} lots already filled`;
  return null;
}

// ---------- the collection the kernel keeps ----------

export interface OrdersState {
  orders: Map<string, OrderState>;
}

export function initialState(): OrdersState {
  return { orders: new Map() };
}

/**
 * Applies an order event to the collection, in place. Returns the same state, or the error with the
 * state untouched. Non-order events are ignored (returns the state).
 */
export function evolve(state: OrdersState, event: { type: string; data: unknown }): OrdersState | TapedeckError {
  if (!isOrderEvent(event)) return state;
  const prev = state.orders.get(event.data.orderId);
  const next = transition(prev, event);
  if (next instanceof TapedeckError) return next;
  state.orders.set(next.orderId, next);
  return state;
}

export function getOrder(state: OrdersState, orderId: string): OrderState | undefined {
  return state.orders.get(orderId);
}

/** Orders still working (submitted, accepted, partially filled or unknown). */
export function workingOrders(state: OrdersState): OrderState[] {
  const out: OrderState[] = [];
  for (const o of state.orders.values()) if (isWorking(o.status)) out.push(o);
  return out;
}

// ---------- decide: what to record next ----------

/** One execution the venue reports when asked about an order (query answers carry the fills). */
export interface ReportedFill {
  fillId: string;
  priceTicks: number;
  qtyLots: number;
  fee: bigint;
  feeScale: number;
  feeCurrency: string;
  liquidity: 'maker' | 'taker' | 'unknown';
}

/** The venue's answer to a status query (src/venues/port.ts OrderStatusReport, plus the fills behind it). */
export interface VenueOrderStatus {
  state: 'open' | 'filled' | 'canceled' | 'rejected' | 'expired' | 'not-found';
  filledLots: number;
  leavesLots: number;
  venueOrderId?: string;
  fills?: ReportedFill[];
}

export type LifecycleInput =
  | { kind: 'RequestCancel'; reason?: string }
  | { kind: 'RequestReplace'; priceTicks: number | null; qtyLots: number }
  | { kind: 'ResolveStatus'; status: VenueOrderStatus };

export type LifecycleEvent =
  | { type: 'CancelRequested'; data: PayloadOf<'CancelRequested'> }
  | { type: 'ReplaceRequested'; data: PayloadOf<'ReplaceRequested'> }
  | { type: 'OrderAccepted'; data: PayloadOf<'OrderAccepted'> }
  | { type: 'OrderFilled'; data: PayloadOf<'OrderFilled'> }
  | { type: 'OrderCanceled'; data: PayloadOf<'OrderCanceled'> }
  | { type: 'OrderRejected'; data: PayloadOf<'OrderRejected'> }
  | { type: 'OrderExpired'; data: PayloadOf<'OrderExpired'> };

/**
 * Decides the events that carry out a request on an order: a cancel or replace request, or the
 * resolution of an `unknown` order from the venue's answer to a status query. The events it returns
 * are valid transitions when applied in order (tests check this); an impossible request is an error.
 */
export function decide(order: OrderState | undefined, orderId: string, input: LifecycleInput): LifecycleEvent[] | TapedeckError {
  const from = order?.status ?? 'none';
  const no = (why: string): TapedeckError => impossible(orderId, from, input.kind, why);
  if (order === undefined) return no('unknown order');
  switch (input.kind) {
    case 'RequestCancel': {
      const ev: LifecycleEvent = { type: 'CancelRequested', data: { orderId, ...(input.reason !== undefined ? { reason: input.reason } : {}) } };
      const r = transition(order, ev);
      return r instanceof TapedeckError ? r : [ev];
    }
    case 'RequestReplace': {
      const ev: LifecycleEvent = { type: 'ReplaceRequested', data: { orderId, priceTicks: input.priceTicks, qtyLots: input.qtyLots } };
      const r = transition(order, ev);
      return r instanceof TapedeckError ? r : [ev];
    }
    case 'ResolveStatus':
      return resolveStatus(order, input.status, no);
  }
}

function resolveStatus(order: OrderState, st: VenueOrderStatus, no: (why: string) => TapedeckError): LifecycleEvent[] | TapedeckError {
  if (order.status !== 'unknown') return no('only an order in state unknown is resolved from a venue query');
  const orderId = order.orderId;
  const events: LifecycleEvent[] = [];
  if (st.filledLots < order.filledLots) return no(`venue reports ${st.filledLots} lots filled, we have recorded ${order.filledLots}`);
  if (st.filledLots > order.qtyLots) return no(`venue reports ${st.filledLots} lots filled of a ${order.qtyLots}-lot order`);
  // Fills we have not seen: the query answer must carry them (price and fee are needed for the books).
  let known = order.filledLots;
  let leaves = order.leavesLots;
  const missing = st.filledLots - known;
  if (missing > 0) {
    const fresh = (st.fills ?? []).filter((f) => !order.fillIds.includes(f.fillId));
    const sum = fresh.reduce((a, f) => a + f.qtyLots, 0);
    if (sum !== missing) {
      return new TapedeckError('ORDER_FILLS_MISSING', `order ${orderId}: venue reports ${missing} more lots filled but the answer carries ${sum} lots of new fills; fetch the order's executions`, { orderId });
    }
    for (const f of fresh) {
      leaves -= f.qtyLots;
      known += f.qtyLots;
      events.push({
        type: 'OrderFilled',
        data: {
          orderId, venue: order.venue, instrument: order.instrument, fillId: f.fillId, side: order.side,
          priceTicks: f.priceTicks, qtyLots: f.qtyLots, priceScale: order.priceScale, qtyScale: order.qtyScale,
          fee: f.fee, feeScale: f.feeScale, feeCurrency: f.feeCurrency, liquidity: f.liquidity, leavesLots: leaves,
        },
      });
    }
  }
  switch (st.state) {
    case 'open':
      if (leaves > 0) events.push({ type: 'OrderAccepted', data: { orderId, venueOrderId: st.venueOrderId ?? order.venueOrderId ?? `unknown:${orderId}` } });
      break;
    case 'filled':
      if (leaves !== 0) return no(`venue says filled but ${leaves} lots are unaccounted for`);
      break;
    case 'canceled':
      if (leaves > 0) events.push({ type: 'OrderCanceled', data: { orderId, canceledLots: leaves, reason: 'venue query: canceled' } });
      break;
    case 'expired':
      if (leaves > 0) events.push({ type: 'OrderExpired', data: { orderId } });
      break;
    case 'rejected':
      if (known > 0) return no('venue says rejected but the order has fills');
      events.push({ type: 'OrderRejected', data: { orderId, reason: 'venue query: rejected' } });
      break;
    case 'not-found':
      // Never acknowledged, never traded: it did not reach the venue, and nothing can trade any more.
      if (known === 0 && order.venueOrderId === null && order.statusBeforeUnknown === 'submitted') {
        events.push({ type: 'OrderRejected', data: { orderId, reason: 'venue query: order not found' } });
        break;
      }
      // The venue had it (acknowledged, or traded) and now does not know it: whether it traded since cannot be
      // told, so this is not taken as canceled (fail closed: the caller halts and reconciles).
      return no(`venue reports not found for an order it had ${known > 0 ? `filled ${known} lots of` : 'acknowledged'}: whether it traded since cannot be told`);
  }
  return events;
}

/** A request about one order: cancel it, replace it, or resolve its unknown status from a venue answer. */
export interface LifecycleRequest {
  orderId: string;
  input: LifecycleInput;
}

/**
 * The order lifecycle as a Decider (domain/core/decider.ts) over all orders: evolve with order events
 * (other events pass through unchanged, as in `evolve`),
 * decide a request about one order into the events that carry it out. An impossible transition or
 * request (ORDER_TRANSITION, ORDER_FILLS_MISSING) is thrown here; `evolve` and `decide` above return
 * it as a value, which the kernel checks without a try.
 */
export const orderLifecycle: Decider<OrdersState, { type: string; data: unknown }, LifecycleRequest, LifecycleEvent> = {
  initialState,
  evolve: (state, event) => {
    const r = evolve(state, event);
    if (r instanceof TapedeckError) throw r;
    return r;
  },
  decide: (state, { orderId, input }) => {
    const r = decide(getOrder(state, orderId), orderId, input);
    if (r instanceof TapedeckError) throw r;
    return r;
  },
};
