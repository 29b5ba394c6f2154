/**
 * Reconciliation: does the ledger (the log) agree with what a venue reports? A decider:
 *
 *   initialState(venue)            the ledger of one venue, empty
 *   evolve(state, event)           folds the log's order events in (the order lifecycle, fills by id, positions)
 *   decide(state, report, {id})    compares with the venue's report → typed differences, the events that fix
 *                                  what is explainable, `ok`, and why trading must stay halted when it is not
 *
 * The venue-facing input (`VenueReport`) is generic: open orders and order statuses by OUR client order id,
 * executions by the venue's trade id (in the adapter's `fillId` form), positions per instrument. Any venue
 * adapter (OUCH with a drop copy, ccxt, Alpaca, ...) fills it in from what its venue can tell.
 *
 * Rules (fail closed):
 * - a fill the venue reports and the log lacks is appended (OrderFilled, its event id derived from the fill id);
 * - an order the venue says is done gets its terminal event (OrderCanceled / OrderExpired / OrderRejected), an
 *   order it says is open and we thought unanswered gets OrderAccepted;
 * - every fix is checked against the order lifecycle before it is proposed; one it refuses is unexplainable;
 * - the venue's position is authoritative: it is recorded (PositionReported), and a ledger position that differs
 *   after the fixes is unexplainable (fills cannot be invented to close the gap);
 * - a missing report is never "flat" and never "done": a working order the venue says nothing about, a position
 *   the venue does not report, fills the venue counts but does not list, are all unexplainable;
 * - `ok` is true only when, once the fix events are applied, ledger and venue agree on everything compared.
 *   Anything unexplainable sets `haltReason`: trading stays halted until a later reconciliation is ok.
 *
 * State is plain data (Maps) updated in place by `evolve`, as every kernel-owned state; `decide` never mutates.
 */
import { invariant, TapedeckError } from '../core/errors.js';
import { pow10 } from '../core/fixed.js';
import type { PayloadOf } from '../events/catalog.js';
import type { Side } from '../events/primitives.js';
import * as lifecycle from '../orders/lifecycle.js';

// ---------- the venue's side (generic, what an adapter fills in) ----------

export type VenueOrderState = 'open' | 'filled' | 'canceled' | 'rejected' | 'expired' | 'not-found';

/** What the venue says about one order, keyed by our client order id. */
export interface VenueOrderReport {
  orderId: string;
  state: VenueOrderState;
  /** Total filled so far, at the order's qty scale. */
  filledLots: number;
  /** Still open at the venue (0 unless `state` is open). */
  leavesLots: number;
  venueOrderId?: string;
}

/** One execution the venue reports. `fillId` is the adapter's deterministic id for the venue's trade id. */
export interface VenueFill {
  fillId: string;
  orderId: string;
  instrument: string;
  side: Side;
  priceTicks: number;
  /** Default: the order's price scale. */
  priceScale?: number;
  qtyLots: number;
  /** Default: the order's qty scale (fills in another scale are refused as unexplainable). */
  qtyScale?: number;
  fee: bigint;
  feeScale: number;
  feeCurrency: string;
  liquidity: 'maker' | 'taker' | 'unknown';
}

export interface VenuePosition {
  instrument: string;
  /** Signed: long > 0, short < 0. */
  qtyLots: number;
  qtyScale: number;
}

export interface VenueReport {
  venue: string;
  /** Order statuses the venue gave (open-order listings and answers to status queries). */
  orders: VenueOrderReport[];
  /** True when `orders` lists every order open at the venue, so one missing from it is not open there. */
  openOrdersComplete: boolean;
  /** Executions the venue reported (all of them, or those since a point: a fill missing here is not a difference). */
  fills: VenueFill[];
  /** Net positions per instrument, or null when the venue cannot report positions. */
  positions: VenuePosition[] | null;
  /** True when an instrument missing from `positions` is flat at the venue; false: it was not reported. */
  positionsComplete: boolean;
}

// ---------- the ledger's side (rebuilt from the log) ----------

export interface LedgerFill {
  orderId: string;
  instrument: string;
  side: Side;
  priceTicks: number;
  priceScale: number;
  qtyLots: number;
  qtyScale: number;
}

export interface LedgerPosition {
  instrument: string;
  qtyLots: number;
  qtyScale: number;
}

export interface LedgerState {
  venue: string;
  orders: lifecycle.OrdersState;
  /** Fills the lifecycle accepted, by fill id. */
  fills: Map<string, LedgerFill>;
  /** Net position per instrument from the opening positions and the accepted fills. */
  positions: Map<string, LedgerPosition>;
  /** Log events the lifecycle refused (kept in the log, not folded in), as the kernel does. */
  refused: number;
}

/** `opening`: positions held before the log begins (e.g. from an earlier, ok reconciliation); default flat. */
export function initialState(venue: string, opening: readonly LedgerPosition[] = []): LedgerState {
  const positions = new Map<string, LedgerPosition>();
  for (const p of opening) positions.set(p.instrument, { ...p });
  return { venue, orders: lifecycle.initialState(), fills: new Map(), positions, refused: 0 };
}

/** Folds one logged event in place. Order events of other venues and everything else are ignored. */
export function evolve(state: LedgerState, event: { type: string; data: unknown }): LedgerState {
  if (event.type === 'FillReversed') {
    // The venue undid a fill (Polymarket MATCHED → FAILED): it no longer counts, in fills or position.
    const d = event.data as PayloadOf<'FillReversed'>;
    const f = state.fills.get(d.fillId);
    if (f === undefined) return state;
    state.fills.delete(d.fillId);
    const p = state.positions.get(f.instrument);
    if (p !== undefined) state.positions.set(f.instrument, addLots(p, f.side === 'buy' ? -f.qtyLots : f.qtyLots, f.qtyScale));
    return state;
  }
  if (!lifecycle.isOrderEvent(event)) return state;
  if (event.type === 'OrderIntended') {
    if (event.data.venue !== state.venue) return state;
  } else if (!state.orders.orders.has(event.data.orderId)) {
    return state; // another venue's order (or one never intended: the kernel refuses it too)
  }
  const next = lifecycle.evolve(state.orders, event);
  if (next instanceof TapedeckError) {
    state.refused++;
    return state;
  }
  if (event.type === 'OrderFilled') addFill(state, event.data);
  return state;
}

function addFill(state: LedgerState, d: PayloadOf<'OrderFilled'>): void {
  state.fills.set(d.fillId, {
    orderId: d.orderId, instrument: d.instrument, side: d.side, priceTicks: d.priceTicks, priceScale: d.priceScale, qtyLots: d.qtyLots, qtyScale: d.qtyScale,
  });
  const p = state.positions.get(d.instrument) ?? { instrument: d.instrument, qtyLots: 0, qtyScale: d.qtyScale };
  state.positions.set(d.instrument, addLots(p, d.side === 'buy' ? d.qtyLots : -d.qtyLots, d.qtyScale));
}

/** p + lots (at `scale`), exact, in the finer of the two scales. */
function addLots(p: LedgerPosition, lots: number, scale: number): LedgerPosition {
  const s = Math.max(p.qtyScale, scale);
  const sum = BigInt(p.qtyLots) * pow10(s - p.qtyScale) + BigInt(lots) * pow10(s - scale);
  return { instrument: p.instrument, qtyLots: Number(sum), qtyScale: s };
}

/** a at scale aScale equals b at scale bScale, exactly. */
function sameScaled(a: number, aScale: number, b: number, bScale: number): boolean {
  const s = Math.max(aScale, bScale);
  return BigInt(a) * pow10(s - aScale) === BigInt(b) * pow10(s - bScale);
}

// ---------- decide ----------

export type DifferenceKind =
  /** The venue reports a fill the log lacks (fixed: appended). */
  | 'fill-missing'
  /** A fill both know, with a different quantity, price, side or instrument. */
  | 'fill-conflict'
  /** A fill for an order the ledger does not have. */
  | 'fill-unknown-order'
  /** The venue counts more filled lots than the fills it lists, or fewer than the log holds. */
  | 'filled-qty'
  /** The order's status differs (fixed when the venue's answer is a valid next step for the ledger's order). */
  | 'order-status'
  /** Open at both, with different open quantities. */
  | 'order-qty'
  /** Working in the ledger; the venue reported nothing about it. */
  | 'order-not-reported'
  /** The venue reports an open or traded order the ledger does not have. */
  | 'order-unknown'
  /** Positions differ after the fixes. */
  | 'position'
  /** The venue did not report a position the ledger needs compared (never taken as flat). */
  | 'position-not-reported';

export interface Difference {
  kind: DifferenceKind;
  /** What it is about: an order id, a fill id, an instrument. */
  key: string;
  /** What the ledger says, and what the venue says, in words a person can compare. */
  ledger: string;
  venue: string;
  /** True when the returned events resolve it. */
  fixed: boolean;
}

type FixType = 'OrderFilled' | 'OrderAccepted' | 'OrderCanceled' | 'OrderExpired' | 'OrderRejected';
type FixEvent = { [K in FixType]: { type: K; data: PayloadOf<K> } }[FixType];

/** An event to record, with the name its deterministic event id is derived from (e.g. uuidFromName(runId, idKey)). */
export type ReconcileEvent = (
  | FixEvent
  | { type: 'PositionReported'; data: PayloadOf<'PositionReported'> }
  | { type: 'ReconciliationCompleted'; data: PayloadOf<'ReconciliationCompleted'> }
) & { idKey: string };

export interface ReconcileDecision {
  /** True only when ledger and venue agree once `events` are applied. */
  ok: boolean;
  differences: Difference[];
  /** Fixes in order, then the venue's positions (PositionReported), then ReconciliationCompleted. */
  events: ReconcileEvent[];
  /** Why trading must stay halted (one line), or null when ok. */
  haltReason: string | null;
}

/**
 * Compares the ledger with the venue's report. `id` names this reconciliation (a cause event id): the ids of
 * the events it proposes derive from it, except fills, whose ids derive from the fill id alone.
 */
export function decide(state: LedgerState, report: VenueReport, options: { id: string }): ReconcileDecision {
  const venue = state.venue;
  const differences: Difference[] = [];
  const events: ReconcileEvent[] = [];
  const diff = (kind: DifferenceKind, key: string, ledger: string, venueSays: string, fixed = false): void => {
    differences.push({ kind, key, ledger, venue: venueSays, fixed });
  };
  invariant(report.venue === venue, `reconciling the ledger of ${venue} with a report from ${report.venue}`);

  // Fills by order; conflicts with fills we already hold; fills for orders we never had.
  const freshByOrder = new Map<string, VenueFill[]>();
  const seen = new Set<string>();
  for (const f of report.fills) {
    if (seen.has(f.fillId)) continue; // a venue listing the same execution twice: one execution
    seen.add(f.fillId);
    const known = state.fills.get(f.fillId);
    if (known) {
      const o = lifecycle.getOrder(state.orders, known.orderId)!;
      const priceScale = f.priceScale ?? o.priceScale;
      const qtyScale = f.qtyScale ?? o.qtyScale;
      const conflict = known.orderId !== f.orderId || known.side !== f.side || known.instrument !== f.instrument
        || !sameScaled(known.qtyLots, known.qtyScale, f.qtyLots, qtyScale) || !sameScaled(known.priceTicks, known.priceScale, f.priceTicks, priceScale);
      if (conflict) diff('fill-conflict', f.fillId, describeFill(known), describeFill({ ...f, priceScale, qtyScale }));
      continue;
    }
    if (!state.orders.orders.has(f.orderId)) {
      diff('fill-unknown-order', f.fillId, 'no such order', `${f.side} ${f.qtyLots} lots of ${f.instrument} for order ${f.orderId}`);
      continue;
    }
    const list = freshByOrder.get(f.orderId) ?? [];
    list.push(f);
    freshByOrder.set(f.orderId, list);
  }

  const reports = new Map<string, VenueOrderReport>();
  for (const r of report.orders) reports.set(r.orderId, r);
  // The venue's orders the ledger never had: only harmless when they cannot have traded.
  for (const r of reports.values()) {
    if (state.orders.orders.has(r.orderId)) continue;
    if (r.state === 'open' || r.filledLots > 0) diff('order-unknown', r.orderId, 'no such order', describeReport(r));
  }

  const positionDeltas = new Map<string, LedgerPosition>();
  for (const order of state.orders.orders.values()) {
    const r = reports.get(order.orderId);
    const fresh = freshByOrder.get(order.orderId) ?? [];
    const fixes = reconcileOrder(order, r, fresh, report.openOrdersComplete, diff);
    if (fixes === null) continue;
    for (const e of fixes) {
      if (e.type === 'OrderFilled') {
        const d = e.data;
        const p = positionDeltas.get(d.instrument) ?? { instrument: d.instrument, qtyLots: 0, qtyScale: d.qtyScale };
        positionDeltas.set(d.instrument, addLots(p, d.side === 'buy' ? d.qtyLots : -d.qtyLots, d.qtyScale));
        events.push({ ...e, idKey: `reconcile:${venue}:fill:${d.fillId}` });
      } else {
        events.push({ ...e, idKey: `${options.id}:order:${order.orderId}:${e.type}` });
      }
    }
  }

  // Positions: the venue's word is recorded and must match the ledger after the fixes.
  const ledgerPositions = new Map<string, LedgerPosition>();
  for (const p of state.positions.values()) ledgerPositions.set(p.instrument, p);
  for (const d of positionDeltas.values()) {
    const p = ledgerPositions.get(d.instrument) ?? { instrument: d.instrument, qtyLots: 0, qtyScale: d.qtyScale };
    ledgerPositions.set(d.instrument, addLots(p, d.qtyLots, d.qtyScale));
  }
  if (report.positions === null) {
    diff('position-not-reported', '*', describePositions(ledgerPositions), 'the venue reports no positions');
  } else {
    const reported = new Map<string, VenuePosition>();
    for (const p of report.positions) {
      reported.set(p.instrument, p);
      events.push({ type: 'PositionReported', data: { venue, instrument: p.instrument, qtyLots: p.qtyLots, qtyScale: p.qtyScale }, idKey: `${options.id}:position:${p.instrument}` });
    }
    const instruments = new Set([...ledgerPositions.keys(), ...reported.keys()]);
    for (const instrument of [...instruments].sort()) {
      const mine = ledgerPositions.get(instrument) ?? { instrument, qtyLots: 0, qtyScale: 0 };
      const theirs = reported.get(instrument);
      if (theirs === undefined && !report.positionsComplete) {
        diff('position-not-reported', instrument, describeLots(mine), 'not reported');
        continue;
      }
      const v = theirs ?? { instrument, qtyLots: 0, qtyScale: 0 };
      if (!sameScaled(mine.qtyLots, mine.qtyScale, v.qtyLots, v.qtyScale)) diff('position', instrument, describeLots(mine), describeLots(v));
    }
  }
  return conclude(state, differences, events, options.id);
}

/** Fixes are facts the venue reported: they are returned even when something else stays unexplained. */
function conclude(state: LedgerState, differences: Difference[], events: ReconcileEvent[], id: string): ReconcileDecision {
  const open = differences.filter((d) => !d.fixed);
  const ok = open.length === 0;
  events.push({
    type: 'ReconciliationCompleted',
    data: {
      venue: state.venue,
      ok,
      mismatches: differences.map((d) => ({ what: d.kind, key: d.key, expected: d.ledger || '-', actual: `${d.venue || '-'}${d.fixed ? ' (fixed)' : ''}` })),
    },
    idKey: `${id}:completed`,
  });
  const first = open[0];
  const haltReason = ok || first === undefined
    ? null
    : `${state.venue}: ledger and venue disagree in ${open.length} place${open.length === 1 ? '' : 's'}, first ${first.kind} ${first.key}: ledger ${first.ledger}, venue ${first.venue}`;
  return { ok, differences, events, haltReason };
}

/**
 * One ledger order against the venue's word: the fix events (checked against the lifecycle), or null when
 * nothing is to be done or the difference is unexplainable (recorded through `diff`).
 */
function reconcileOrder(
  order: lifecycle.OrderState,
  r: VenueOrderReport | undefined,
  fresh: VenueFill[],
  openOrdersComplete: boolean,
  diff: (kind: DifferenceKind, key: string, ledger: string, venue: string, fixed?: boolean) => void,
): FixEvent[] | null {
  const id = order.orderId;
  const status = order.status;
  const sentOrLater = status !== 'intended' && status !== 'approved' && status !== 'denied';
  if (r === undefined && fresh.length === 0) {
    if (lifecycle.isWorking(status)) {
      diff('order-not-reported', id, describeOrder(order), openOrdersComplete ? 'not among its open orders, and no status given' : 'nothing');
    }
    return null;
  }
  if (!sentOrLater) {
    // Never sent: the venue cannot know it. Anything it says about it is unexplainable.
    if (r !== undefined && (r.state !== 'not-found' || r.filledLots > 0) || fresh.length > 0) diff('order-status', id, describeOrder(order), r ? describeReport(r) : `${fresh.length} fills`);
    return null;
  }
  // Fills first: each must be a valid step for the order.
  const fixes: FixEvent[] = [];
  let o: lifecycle.OrderState = order;
  let leaves = order.leavesLots;
  for (const f of fresh) {
    if (f.instrument !== order.instrument || f.side !== order.side || (f.qtyScale ?? order.qtyScale) !== order.qtyScale) {
      diff('fill-conflict', f.fillId, describeOrder(order), describeFill({ ...f, priceScale: f.priceScale ?? order.priceScale, qtyScale: f.qtyScale ?? order.qtyScale }));
      return null;
    }
    leaves -= f.qtyLots;
    const ev: FixEvent = {
      type: 'OrderFilled',
      data: {
        orderId: id, venue: order.venue, instrument: order.instrument, fillId: f.fillId, side: order.side, priceTicks: f.priceTicks,
        qtyLots: f.qtyLots, priceScale: f.priceScale ?? order.priceScale, qtyScale: order.qtyScale, fee: f.fee, feeScale: f.feeScale,
        feeCurrency: f.feeCurrency, liquidity: f.liquidity, leavesLots: Math.max(0, leaves),
      },
    };
    const next = lifecycle.transition(o, ev);
    if (next instanceof TapedeckError) {
      diff('fill-missing', f.fillId, describeOrder(o), `${describeFill({ ...f, priceScale: ev.data.priceScale, qtyScale: order.qtyScale })}, which the order cannot take: ${next.message}`);
      return null;
    }
    diff('fill-missing', f.fillId, 'not in the log', describeFill({ ...f, priceScale: ev.data.priceScale, qtyScale: order.qtyScale }), true);
    fixes.push(ev);
    o = next;
  }
  if (r === undefined) {
    // Fills alone: the order's status is still unreported while it may trade.
    if (lifecycle.isWorking(o.status)) diff('order-not-reported', id, describeOrder(o), `${fresh.length} new fills, no status`);
    return fixes;
  }
  if (r.filledLots !== o.filledLots) {
    diff('filled-qty', id, `${o.filledLots} lots filled${fixes.length ? ' (with the fills just reported)' : ''}`, `${r.filledLots} lots filled`);
    return fixes;
  }
  const terminal = (e: FixEvent, what: string): FixEvent[] => {
    const next = lifecycle.transition(o, e);
    if (next instanceof TapedeckError) {
      diff('order-status', id, describeOrder(o), `${describeReport(r)}: ${next.message}`);
      return fixes;
    }
    diff('order-status', id, describeOrder(o), what, true);
    return [...fixes, e];
  };
  const working = lifecycle.isWorking(o.status);
  switch (r.state) {
    case 'open':
      if (!working) {
        diff('order-status', id, describeOrder(o), describeReport(r));
        return fixes;
      }
      if (r.leavesLots !== o.leavesLots) {
        diff('order-qty', id, `${o.leavesLots} lots open`, `${r.leavesLots} lots open`);
        return fixes;
      }
      if (o.status === 'submitted' || o.status === 'unknown') {
        return terminal({ type: 'OrderAccepted', data: { orderId: id, venueOrderId: r.venueOrderId ?? o.venueOrderId ?? `unknown:${id}` } }, describeReport(r));
      }
      return fixes;
    case 'filled':
      if (o.status !== 'filled') diff('order-status', id, describeOrder(o), describeReport(r));
      return fixes;
    case 'canceled':
    case 'expired':
      if (o.status === 'canceled' || o.status === 'expired') return fixes;
      if (!working) {
        diff('order-status', id, describeOrder(o), describeReport(r));
        return fixes;
      }
      return r.state === 'canceled'
        ? terminal({ type: 'OrderCanceled', data: { orderId: id, canceledLots: o.leavesLots, reason: 'reconciliation: the venue reports it canceled' } }, describeReport(r))
        : terminal({ type: 'OrderExpired', data: { orderId: id } }, describeReport(r));
    case 'rejected':
      if (o.status === 'rejected') return fixes;
      if (!working) {
        diff('order-status', id, describeOrder(o), describeReport(r));
        return fixes;
      }
      return terminal({ type: 'OrderRejected', data: { orderId: id, reason: 'reconciliation: the venue reports it rejected' } }, describeReport(r));
    case 'not-found':
      if (!working) return fixes; // a venue may forget finished orders
      // Never acknowledged, never traded: it did not reach the venue. Anything else the venue must explain.
      if (o.venueOrderId === null && o.filledLots === 0 && (o.status === 'submitted' || o.statusBeforeUnknown === 'submitted')) {
        return terminal({ type: 'OrderRejected', data: { orderId: id, reason: 'reconciliation: the venue has no such order (never reached it)' } }, describeReport(r));
      }
      diff('order-status', id, describeOrder(o), 'not found, for an order it had acknowledged: whether it traded cannot be told');
      return fixes;
  }
}

function describeOrder(o: lifecycle.OrderState): string {
  return `${o.status} ${o.side} ${o.qtyLots} lots (${o.filledLots} filled, ${o.leavesLots} open)`;
}

function describeReport(r: VenueOrderReport): string {
  return `${r.state}, ${r.filledLots} lots filled${r.state === 'open' ? `, ${r.leavesLots} open` : ''}`;
}

function describeFill(f: { side: Side; qtyLots: number; qtyScale: number; priceTicks: number; priceScale: number; instrument: string; orderId: string }): string {
  return `${f.side} ${f.qtyLots}e-${f.qtyScale} of ${f.instrument} at ${f.priceTicks}e-${f.priceScale} for order ${f.orderId}`;
}

function describeLots(p: { qtyLots: number; qtyScale: number }): string {
  return p.qtyScale === 0 ? `${p.qtyLots} lots` : `${p.qtyLots} lots at qty scale ${p.qtyScale}`;
}

function describePositions(ps: Map<string, LedgerPosition>): string {
  const nonzero = [...ps.values()].filter((p) => p.qtyLots !== 0);
  return nonzero.length === 0 ? 'flat' : nonzero.map((p) => `${p.instrument} ${describeLots(p)}`).join(', ');
}
