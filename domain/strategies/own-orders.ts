/**
 * What a strategy knows about its own orders, kept from its order events. Strategies hold a few
 * orders at a time, so this is a small array (plain data, hashable), found by tag or order id.
 */
import type { TimedEvent } from '../events/event.js';
import type { Side } from '../events/primitives.js';

export interface OwnOrder {
  orderId: string;
  tag: string;
  venue: string;
  instrument: string;
  side: Side;
  priceTicks: number | null;
  qtyLots: number;
  filledLots: number;
  /** intended → approved → live (accepted by the venue). */
  phase: 'intended' | 'approved' | 'live';
  cancelPending: boolean;
  replacePending: boolean;
}

export interface OwnOrders {
  list: OwnOrder[];
}

export function newOwnOrders(): OwnOrders {
  return { list: [] };
}

export function byTag(o: OwnOrders, tag: string): OwnOrder | undefined {
  for (const x of o.list) if (x.tag === tag) return x;
  return undefined;
}

export function byId(o: OwnOrders, orderId: string): OwnOrder | undefined {
  for (const x of o.list) if (x.orderId === orderId) return x;
  return undefined;
}

function drop(o: OwnOrders, orderId: string): void {
  const i = o.list.findIndex((x) => x.orderId === orderId);
  if (i >= 0) o.list.splice(i, 1);
}

/** The fill facts a strategy usually wants back from `trackOwnOrder`. */
export interface OwnFill {
  instrument: string;
  venue: string;
  side: Side;
  qtyLots: number;
  priceTicks: number;
}

/**
 * Applies an own order event in place. Returns the fill when the event was a fill (so the strategy
 * can update its inventory), else null. Events for unknown orders are ignored.
 */
export function trackOwnOrder(o: OwnOrders, event: TimedEvent): OwnFill | null {
  switch (event.type) {
    case 'OrderIntended': {
      const d = event.data;
      o.list.push({
        orderId: d.orderId, tag: d.clientTag ?? d.orderId, venue: d.venue, instrument: d.instrument, side: d.side,
        priceTicks: d.priceTicks, qtyLots: d.qtyLots, filledLots: 0, phase: 'intended', cancelPending: false, replacePending: false,
      });
      return null;
    }
    case 'RiskApproved': {
      const x = byId(o, event.data.orderId);
      if (x) x.phase = 'approved';
      return null;
    }
    case 'OrderAccepted': {
      const x = byId(o, event.data.orderId);
      if (x) x.phase = 'live';
      return null;
    }
    case 'RiskDenied':
    case 'OrderRejected':
    case 'OrderCanceled':
    case 'OrderExpired':
      drop(o, event.data.orderId);
      return null;
    case 'CancelRequested': {
      const x = byId(o, event.data.orderId);
      if (x) x.cancelPending = true;
      return null;
    }
    case 'CancelRejected': {
      const x = byId(o, event.data.orderId);
      if (x) x.cancelPending = false;
      return null;
    }
    case 'ReplaceRequested': {
      const x = byId(o, event.data.orderId);
      if (x) x.replacePending = true;
      return null;
    }
    case 'ReplaceRejected': {
      const x = byId(o, event.data.orderId);
      if (x) x.replacePending = false;
      return null;
    }
    case 'OrderReplaced': {
      const x = byId(o, event.data.orderId);
      if (x) {
        x.priceTicks = event.data.priceTicks;
        x.qtyLots = event.data.qtyLots;
        x.replacePending = false;
      }
      return null;
    }
    case 'OrderFilled': {
      const d = event.data;
      const x = byId(o, d.orderId);
      if (x === undefined) return null;
      x.filledLots += d.qtyLots;
      x.phase = 'live';
      if (d.leavesLots === 0) drop(o, d.orderId);
      return { instrument: d.instrument, venue: d.venue, side: d.side, qtyLots: d.qtyLots, priceTicks: d.priceTicks };
    }
    default:
      return null;
  }
}

/**
 * When a quoting strategy may act again after one of its own order events: an action (place, replace,
 * cancel) waits `intervalNs`, a refusal (risk denial, rejected order or replace) waits `backoffNs`, so a
 * refused order is not retried at once; any other event leaves `nextNs` as it is.
 */
export function nextActionAfter(event: TimedEvent, nextNs: bigint, intervalNs: bigint, backoffNs: bigint): bigint {
  switch (event.type) {
    case 'OrderIntended':
    case 'ReplaceRequested':
    case 'CancelRequested':
      return event.eventTimeNs + intervalNs;
    case 'RiskDenied':
    case 'ReplaceRejected':
    case 'OrderRejected':
      return event.eventTimeNs + backoffNs;
    default:
      return nextNs;
  }
}
