/**
 * The order read models: `orders` (lifecycle state, domain/orders/lifecycle), `order_events` (one row per
 * event, with any anomaly), `decisions` (why and the risk outcome), `fills`, and `positions` /
 * `position_history` (domain/portfolio, per run).
 */
import { TapedeckError } from '../../domain/core/errors.js';
import { pow10 } from '../../domain/core/fixed.js';
import { ORDER_EVENT_TYPES, transition, type OrderEvent } from '../../domain/orders/lifecycle.js';
import { evolve as evolvePortfolio, positionKey, UNATTRIBUTED } from '../../domain/portfolio/portfolio.js';
import type { Money } from '../../domain/portfolio/position.js';
import type { DomainEvent } from '../../domain/events/event.js';
import { toDec18 } from '../columns.js';
import { FILLS, ORDER_EVENTS, POSITION_HISTORY } from '../schema.js';
import {
  bigOf, obj, optInt, optStr, positionCells, runFor, str, type Fold, type FoldContext, type OrderRec, type ProjectedEvent, type RunState,
} from './state.js';

/** Where the decision's cause is in the log: the run's latest input when its revision matches, else what older runs recorded. */
function causePositionOf(decision: Record<string, unknown>, run: RunState): number | null {
  const revision = optInt(decision, 'causeRevision');
  if (revision !== null) return revision === run.lastInputRevision ? (run.lastInputPosition ?? null) : null;
  return optInt(decision, 'causePosition');
}
function addMoney(m: Money, amount: bigint, scale: number): void {
  if (scale > m.scale) {
    m.amount = m.amount * pow10(scale - m.scale) + amount;
    m.scale = scale;
  } else m.amount += amount * pow10(m.scale - scale);
}

function onOrderEvent(ctx: FoldContext, run: RunState, ev: ProjectedEvent, data: Record<string, unknown>, meta: Record<string, unknown>, eventTime: bigint): void {
  const orderId = str(data, 'orderId');
  const key = `${run.runId}|${orderId}`;
  const receiveTime = bigOf(meta.receiveTimeNs ?? eventTime, 'metadata.receiveTimeNs');
  const payload = data;
  const rec = ctx.orders.get(key);
  const next = transition(rec?.state, { type: ev.type, data: payload } as OrderEvent);
  const role = typeof meta.role === 'string' ? meta.role : null;
  const causation = typeof meta.$causationId === 'string' ? meta.$causationId : null;
  const eventsRow = (stateAfter: string | null, anomaly: string | null): void => {
    ctx.rows(ORDER_EVENTS).add(
      ev.position, run.runId, orderId, ev.id, ev.type, role, eventTime, receiveTime, causation, stateAfter, anomaly,
    );
  };
  if (next instanceof TapedeckError) {
    eventsRow(rec?.state.status ?? null, next.message);
    if (rec !== undefined) {
      rec.anomalies++;
      ctx.dirtyOrders.add(key);
    }
    // A fill for an order this log never intended (a manual trade at the venue) still moves the
    // position, unattributed, as the kernel's portfolio does; a duplicate fill of a known order does not.
    if (rec === undefined && ev.type === 'OrderFilled') applyFill(ctx, run, ev, payload, eventTime, receiveTime, UNATTRIBUTED);
    return;
  }
  eventsRow(next.status, null);
  if (rec === undefined) {
    // OrderIntended (transition refuses anything else for an unknown order).
    const d = payload as Record<string, unknown>;
    const dec = obj(d.decision, 'data.decision');
    const created: OrderRec = {
      state: next, runId: run.runId, stream: run.stream, decisionId: ev.id, causeEventId: str(dec, 'causeEventId'),
      intendedPosition: ev.position, intendedTime: eventTime, lastEventType: ev.type, lastPosition: ev.position, lastEventTime: eventTime,
      anomalies: 0, filledNotional: 0n, fees: null, feeCurrency: null, feesMixed: false, rejectReason: null,
    };
    ctx.orders.set(key, created);
    ctx.dirtyOrders.add(key);
    run.row.orders++;
    evolvePortfolio(run.portfolio, { type: 'OrderIntended', data: payload } as DomainEvent);
    ctx.decisions.set(key, {
      runId: run.runId, stream: run.stream,
      cells: {
        decision_id: ev.id, run_id: run.runId, order_id: orderId, strategy: str(dec, 'strategyId'),
        strategy_code_hash: str(dec, 'strategyCodeHash'), config_hash: str(dec, 'configHash'), state_hash: str(dec, 'stateHash'),
        cause_event_id: str(dec, 'causeEventId'), cause_position: causePositionOf(dec, run), venue: next.venue, instrument: next.instrument,
        side: next.side, order_type: next.orderType, price: next.priceTicks === null ? null : toDec18(next.priceTicks, next.priceScale),
        quantity: toDec18(next.qtyLots, next.qtyScale), event_time: eventTime, position: ev.position,
        risk_outcome: 'pending', risk_checks: null, risk_code: null, risk_detail: null, risk_position: null, risk_event_id: null,
      },
    });
    ctx.dirtyDecisions.add(key);
    return;
  }
  const before = rec.state;
  rec.state = next;
  rec.lastEventType = ev.type;
  rec.lastPosition = ev.position;
  rec.lastEventTime = eventTime;
  ctx.dirtyOrders.add(key);
  switch (ev.type) {
    case 'RiskApproved':
    case 'RiskDenied': {
      const dr = ctx.decisions.get(key);
      if (dr !== undefined) {
        const c = dr.cells;
        c.risk_outcome = ev.type === 'RiskApproved' ? 'approved' : 'denied';
        c.risk_checks = ev.type === 'RiskApproved' && Array.isArray(data.checks) ? (data.checks as unknown[]).map(String).join(',') : null;
        c.risk_code = ev.type === 'RiskDenied' ? str(data, 'code') : null;
        c.risk_detail = ev.type === 'RiskDenied' ? optStr(data, 'detail') : null;
        c.risk_position = ev.position;
        c.risk_event_id = ev.id;
        ctx.dirtyDecisions.add(key);
      }
      if (ev.type === 'RiskDenied') evolvePortfolio(run.portfolio, { type: 'RiskDenied', data: payload } as DomainEvent);
      return;
    }
    case 'OrderRejected':
      rec.rejectReason = optStr(data, 'reason');
      evolvePortfolio(run.portfolio, { type: 'OrderRejected', data: payload } as DomainEvent);
      return;
    case 'OrderCanceled':
    case 'OrderExpired':
      evolvePortfolio(run.portfolio, { type: ev.type, data: payload } as DomainEvent);
      return;
    case 'OrderFilled': {
      const d = payload as { priceTicks: number; qtyLots: number; fee: bigint; feeScale: number; feeCurrency: string };
      rec.filledNotional += BigInt(d.priceTicks) * BigInt(d.qtyLots);
      if (rec.fees === null && !rec.feesMixed) {
        rec.fees = { amount: 0n, scale: 0 };
        rec.feeCurrency = d.feeCurrency;
      }
      if (rec.feeCurrency !== d.feeCurrency) {
        rec.feesMixed = true;
        rec.fees = null;
      }
      if (rec.fees !== null) addMoney(rec.fees, d.fee, d.feeScale);
      const strategy = run.portfolio.orderStrategy.get(orderId) ?? before.strategyId;
      applyFill(ctx, run, ev, payload, eventTime, receiveTime, strategy);
      return;
    }
    default:
      return;
  }
}

function applyFill(ctx: FoldContext, run: RunState, ev: ProjectedEvent, payload: Record<string, unknown>, eventTime: bigint, receiveTime: bigint, strategy: string): void {
  const d = payload as {
    orderId: string; fillId: string; venue: string; instrument: string; side: 'buy' | 'sell'; priceTicks: number; qtyLots: number;
    priceScale: number; qtyScale: number; fee: bigint; feeScale: number; feeCurrency: string; liquidity: string; leavesLots: number;
  };
  // The portfolio attributes by its own map; for an unknown order that is UNATTRIBUTED, matching `strategy`.
  evolvePortfolio(run.portfolio, { type: 'OrderFilled', data: payload } as DomainEvent);
  run.row.fills++;
  ctx.rows(FILLS).add(
    d.fillId, d.orderId, run.runId, strategy, d.venue, d.instrument, d.side,
    toDec18(d.priceTicks, d.priceScale), toDec18(d.qtyLots, d.qtyScale), toDec18(d.fee, d.feeScale), d.feeCurrency,
    d.liquidity, d.leavesLots, d.priceTicks, d.qtyLots, d.priceScale, d.qtyScale, d.fee, d.feeScale,
    eventTime, receiveTime, ev.position, ev.id,
  );
  const pkey = positionKey(strategy, d.venue, d.instrument);
  const p = run.portfolio.positions.get(pkey);
  if (p === undefined) return;
  run.posMeta.set(pkey, { lastFillId: d.fillId, lastPosition: ev.position, lastEventTime: eventTime });
  const ph = ctx.rows(POSITION_HISTORY);
  ph.add(ev.position, eventTime, d.fillId, ...positionCells(run, p));
  const dirty = ctx.dirtyOf(run);
  dirty.positions.add(pkey);
  dirty.cash = true;
  // Cash moves on every fill: the quote, the base (spot) and the fee currency.
  const info = run.portfolio.instruments.get(d.instrument);
  for (const cur of [p.quoteCurrency, info?.baseCurrency ?? null, d.feeCurrency]) if (cur !== null) run.cashAsOf.set(`${d.venue}|${cur}`, ev.position);
  const mark = run.portfolio.marks.get(d.instrument);
  if (mark !== undefined && !run.markAsOf.has(d.instrument)) run.markAsOf.set(d.instrument, ev.position);
}

export const ordersFold: Fold = {
  name: 'orders',
  types: ORDER_EVENT_TYPES,
  fold(ctx, input) {
    const run = runFor(ctx, input);
    onOrderEvent(ctx, run, input.ev, input.data, input.meta, input.eventTime);
  },
};
