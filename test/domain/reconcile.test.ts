/**
 * Reconciliation as a decider. Given: the log's events (the ledger). When: the venue's report.
 * Then: the differences, the fix events, ok or the reason trading stays halted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../domain/core/canonical.js';
import type { TimedEvent } from '../../domain/events/event.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import {
  decide, evolve, initialState, type LedgerState, type ReconcileDecision, type VenueFill, type VenueOrderReport, type VenueReport,
} from '../../domain/reconcile/reconcile.js';
import { at, filled, INSTR, intended, VENUE } from './builders.js';

function given(...events: TimedEvent[]): LedgerState {
  const s = initialState(VENUE);
  for (const e of events) evolve(s, e);
  return s;
}

const sent = (id: string, over: Parameters<typeof intended>[1] = {}): TimedEvent[] => [
  intended(id, over), at('RiskApproved', { orderId: id, checks: [] }), at('OrderSubmitted', { orderId: id, venue: VENUE, attempt: 1 }),
];
const accepted = (id: string, over: Parameters<typeof intended>[1] = {}): TimedEvent[] => [...sent(id, over), at('OrderAccepted', { orderId: id, venueOrderId: `v-${id}` })];

function fill(orderId: string, fillId: string, qtyLots: number, priceTicks = 100, side: 'buy' | 'sell' = 'buy'): VenueFill {
  return { fillId, orderId, instrument: INSTR, side, priceTicks, qtyLots, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker' };
}

function report(over: Partial<VenueReport> = {}): VenueReport {
  return { venue: VENUE, orders: [], openOrdersComplete: true, fills: [], positions: [], positionsComplete: true, ...over };
}

const order = (orderId: string, state: VenueOrderReport['state'], filledLots: number, leavesLots = 0): VenueOrderReport => ({ orderId, state, filledLots, leavesLots });

const when = (s: LedgerState, r: VenueReport): ReconcileDecision => decide(s, r, { id: 'rec-1' });
const types = (d: ReconcileDecision) => d.events.map((e) => e.type);
const open = (d: ReconcileDecision) => d.differences.filter((x) => !x.fixed).map((x) => `${x.kind} ${x.key}`);

/** Applies the decision's events as the engine would record them. */
function apply(s: LedgerState, d: ReconcileDecision): void {
  for (const e of d.events) evolve(s, e);
}

describe('reconciliation: when ledger and venue agree', () => {
  it('is ok with nothing to fix, and records the venue position and the verdict', () => {
    const s = given(...accepted('o1'), filled('o1', 10, 100, 0, { fillId: 'f1' }));
    const d = when(s, report({ orders: [order('o1', 'filled', 10)], fills: [fill('o1', 'f1', 10)], positions: [{ instrument: INSTR, qtyLots: 10, qtyScale: 0 }] }));
    expect(d).toMatchObject({ ok: true, differences: [], haltReason: null });
    expect(types(d)).toEqual(['PositionReported', 'ReconciliationCompleted']);
    expect(d.events.at(-1)).toMatchObject({ data: { venue: VENUE, ok: true, mismatches: [] }, idKey: 'rec-1:completed' });
  });

  it('compares positions exactly across qty scales', () => {
    const s = given(...accepted('o1', { qtyScale: 2, qtyLots: 150 }), filled('o1', 150, 100, 0, { fillId: 'f1', qtyScale: 2 }));
    expect(when(s, report({ orders: [order('o1', 'filled', 150)], positions: [{ instrument: INSTR, qtyLots: 15, qtyScale: 1 }] })).ok).toBe(true);
    expect(when(s, report({ orders: [order('o1', 'filled', 150)], positions: [{ instrument: INSTR, qtyLots: 150, qtyScale: 1 }] })).ok).toBe(false);
  });

  it('lets a venue forget finished orders, and ignores orders never sent and other venues', () => {
    const s = given(...accepted('o1'), at('OrderCanceled', { orderId: 'o1', canceledLots: 10 }), intended('o2'), at('RiskDenied', { orderId: 'o2', code: 'KILL_SWITCH', detail: 'halted' }),
      intended('o3', { venue: 'OTHER', instrument: 'OTHER:X' }), at('OrderFilled', { orderId: 'o3', venue: 'OTHER', instrument: 'OTHER:X', fillId: 'x', side: 'buy', priceTicks: 1, qtyLots: 10, priceScale: 2, qtyScale: 0, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'maker', leavesLots: 0 }));
    expect(s.orders.orders.has('o3')).toBe(false);
    expect(when(s, report({ orders: [order('o1', 'not-found', 0)] }))).toMatchObject({ ok: true, differences: [] });
  });
});

describe('reconciliation: what it fixes', () => {
  it('appends a fill the log lacks, with an id derived from the fill id, and the order ends filled', () => {
    const s = given(...accepted('o1'));
    const d = when(s, report({ orders: [order('o1', 'filled', 10)], fills: [fill('o1', 'f1', 10, 101)], positions: [{ instrument: INSTR, qtyLots: 10, qtyScale: 0 }] }));
    expect(d.ok).toBe(true);
    expect(d.events[0]).toMatchObject({ type: 'OrderFilled', idKey: `reconcile:${VENUE}:fill:f1`, data: { orderId: 'o1', fillId: 'f1', qtyLots: 10, priceTicks: 101, leavesLots: 0, side: 'buy' } });
    expect(d.differences).toEqual([expect.objectContaining({ kind: 'fill-missing', key: 'f1', fixed: true })]);
    apply(s, d);
    expect(s.orders.orders.get('o1')).toMatchObject({ status: 'filled', filledLots: 10 });
    expect(s.positions.get(INSTR)).toMatchObject({ qtyLots: 10 });
    // Done: a second look finds nothing to fix.
    expect(when(s, report({ orders: [order('o1', 'filled', 10)], fills: [fill('o1', 'f1', 10, 101)], positions: [{ instrument: INSTR, qtyLots: 10, qtyScale: 0 }] }))).toMatchObject({ ok: true, differences: [] });
  });

  it('gives an order the venue says is done its terminal event: canceled after a partial fill, expired, rejected', () => {
    const s = given(...accepted('o1'), ...accepted('o2'), ...sent('o3'), at('OrderStatusUnknown', { orderId: 'o3', reason: 'session reset' }));
    const d = when(s, report({
      orders: [order('o1', 'canceled', 4), order('o2', 'expired', 0), order('o3', 'rejected', 0)],
      fills: [fill('o1', 'f1', 4)],
      positions: [{ instrument: INSTR, qtyLots: 4, qtyScale: 0 }],
    }));
    expect(d.ok).toBe(true);
    expect(types(d)).toEqual(['OrderFilled', 'OrderCanceled', 'OrderExpired', 'OrderRejected', 'PositionReported', 'ReconciliationCompleted']);
    expect(d.events[1]).toMatchObject({ data: { orderId: 'o1', canceledLots: 6 }, idKey: 'rec-1:order:o1:OrderCanceled' });
    apply(s, d);
    expect(['o1', 'o2', 'o3'].map((id) => s.orders.orders.get(id)!.status)).toEqual(['canceled', 'expired', 'rejected']);
  });

  it('accepts an order whose answer was lost and that the venue says is open; an order that never reached the venue is rejected', () => {
    const s = given(...sent('o1'), at('OrderStatusUnknown', { orderId: 'o1', reason: 'drop' }), ...sent('o2'), at('OrderStatusUnknown', { orderId: 'o2', reason: 'drop' }));
    const d = when(s, report({ orders: [{ ...order('o1', 'open', 0, 10), venueOrderId: 'V9' }, order('o2', 'not-found', 0)] }));
    expect(d.ok).toBe(true);
    expect(d.events.slice(0, 2)).toMatchObject([{ type: 'OrderAccepted', data: { orderId: 'o1', venueOrderId: 'V9' } }, { type: 'OrderRejected', data: { orderId: 'o2' } }]);
  });

  it('is deterministic and leaves the state untouched', () => {
    const s = given(...accepted('o1'));
    const r = report({ orders: [order('o1', 'filled', 10)], fills: [fill('o1', 'f1', 10)], positions: [{ instrument: INSTR, qtyLots: 10, qtyScale: 0 }] });
    const before = canonicalJson(s);
    expect(canonicalJson(when(s, r))).toBe(canonicalJson(when(s, r)));
    expect(canonicalJson(s)).toBe(before);
  });
});

describe('reconciliation: what it cannot explain halts trading', () => {
  const base = () => given(...accepted('o1'), filled('o1', 10, 100, 0, { fillId: 'f1' }));
  const agreed = { orders: [order('o1', 'filled', 10)], positions: [{ instrument: INSTR, qtyLots: 10, qtyScale: 0 }] };

  it('a missing position report is never flat', () => {
    const none = when(base(), report({ ...agreed, positions: null }));
    expect(none).toMatchObject({ ok: false });
    expect(open(none)).toEqual(['position-not-reported *']);
    expect(none.haltReason).toMatch(/^SIM: ledger and venue disagree in 1 place, first position-not-reported/);
    const partial = when(base(), report({ ...agreed, positions: [], positionsComplete: false }));
    expect(open(partial)).toEqual([`position-not-reported ${INSTR}`]);
    // Even a flat ledger cannot call a venue that reports nothing flat.
    expect(when(given(), report({ positions: null })).ok).toBe(false);
    expect(when(given(), report({ positions: [] })).ok).toBe(true);
  });

  it('a position that differs after the fixes, in either direction', () => {
    expect(open(when(base(), report({ ...agreed, positions: [{ instrument: INSTR, qtyLots: 7, qtyScale: 0 }] })))).toEqual([`position ${INSTR}`]);
    expect(open(when(base(), report({ ...agreed, positions: [] })))).toEqual([`position ${INSTR}`]);
    expect(open(when(given(), report({ positions: [{ instrument: INSTR, qtyLots: -3, qtyScale: 0 }] })))).toEqual([`position ${INSTR}`]);
  });

  it('a working order the venue says nothing about is not taken as done', () => {
    const s = given(...accepted('o1'));
    expect(open(when(s, report()))).toEqual(['order-not-reported o1']);
    expect(open(when(s, report({ openOrdersComplete: false })))).toEqual(['order-not-reported o1']);
    // Fills alone do not say the order is finished.
    const d = when(s, report({ fills: [fill('o1', 'f1', 3)], positions: [{ instrument: INSTR, qtyLots: 3, qtyScale: 0 }] }));
    expect(open(d)).toEqual(['order-not-reported o1']);
    expect(types(d)).toContain('OrderFilled');
  });

  it('fills the venue counts but does not list, or fewer fills than the log holds', () => {
    expect(open(when(given(...accepted('o1')), report({ orders: [order('o1', 'filled', 10)], positions: [] })))).toEqual(['filled-qty o1']);
    expect(open(when(base(), report({ ...agreed, orders: [order('o1', 'canceled', 6)] })))).toEqual(['filled-qty o1']);
  });

  it('a fill that conflicts with the log, belongs to no order, or overfills an order', () => {
    expect(open(when(base(), report({ ...agreed, fills: [fill('o1', 'f1', 9)] })))).toEqual(['fill-conflict f1']);
    expect(open(when(base(), report({ ...agreed, fills: [fill('o1', 'f1', 10, 99)] })))).toEqual(['fill-conflict f1']);
    expect(open(when(base(), report({ ...agreed, fills: [fill('zz', 'f9', 1)] })))).toEqual(['fill-unknown-order f9']);
    const over = when(given(...accepted('o1')), report({ orders: [order('o1', 'filled', 12)], fills: [fill('o1', 'f1', 12)], positions: [{ instrument: INSTR, qtyLots: 12, qtyScale: 0 }] }));
    expect(over.ok).toBe(false);
    expect(types(over)).not.toContain('OrderFilled');
    expect(open(when(given(...accepted('o1')), report({ orders: [order('o1', 'filled', 10)], fills: [fill('o1', 'f1', 10, 100, 'sell')] })))[0]).toBe('fill-conflict f1');
  });

  it('status conflicts: open at the venue but final here, final there with another outcome, quantity differs', () => {
    expect(open(when(base(), report({ ...agreed, orders: [order('o1', 'open', 10, 0)] })))).toEqual(['order-status o1']);
    const canceled = given(...accepted('o1'), at('OrderCanceled', { orderId: 'o1', canceledLots: 10 }));
    expect(open(when(canceled, report({ orders: [order('o1', 'rejected', 0)] })))).toEqual(['order-status o1']);
    expect(open(when(given(...accepted('o1')), report({ orders: [order('o1', 'open', 0, 7)] })))).toEqual(['order-qty o1']);
    expect(open(when(given(...accepted('o1'), filled('o1', 4, 100, 6, { fillId: 'f1' })), report({ orders: [order('o1', 'rejected', 4)], positions: [{ instrument: INSTR, qtyLots: 4, qtyScale: 0 }] })))).toEqual(['order-status o1']);
  });

  it('"not found" for an order the venue had accepted: whether it traded cannot be told', () => {
    const d = when(given(...accepted('o1')), report({ orders: [order('o1', 'not-found', 0)] }));
    expect(open(d)).toEqual(['order-status o1']);
    expect(types(d)).toEqual(['ReconciliationCompleted']);
    expect(d.events.at(-1)).toMatchObject({ data: { ok: false, mismatches: [{ what: 'order-status', key: 'o1' }] } });
  });

  it('an open or traded order at the venue that the ledger never had', () => {
    expect(open(when(given(), report({ orders: [order('x', 'open', 0, 5)] })))).toEqual(['order-unknown x']);
    expect(open(when(given(), report({ orders: [order('x', 'canceled', 0)] })))).toEqual([]);
  });
});

describe('reconciliation: a property', () => {
  // The venue's truth for a few orders; the ledger saw any prefix of it (and maybe lost the answer):
  // reconciliation against the truth is ok, and afterwards the ledger equals the venue.
  const orderTruth = fc.record({
    qty: fc.integer({ min: 1, max: 20 }),
    fills: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 5 }),
    end: fc.constantFrom('open', 'canceled', 'filled'),
    side: fc.constantFrom('buy', 'sell'),
    seen: fc.integer({ min: 0, max: 10 }),
    unknown: fc.boolean(),
  });
  it('a ledger that saw any prefix of what happened is fixed to agree, and then reconciles with nothing to fix', () => {
    fc.assert(fc.property(fc.array(orderTruth, { minLength: 1, maxLength: 4 }), (truths) => {
      const log: TimedEvent[] = [];
      const r = report();
      let position = 0;
      truths.forEach((t, n) => {
        const id = `o${n}`;
        // Clip the fills to the quantity; 'filled' fills the rest.
        const parts: number[] = [];
        let left = t.qty;
        for (const q of t.fills) if (q < left) { parts.push(q); left -= q; }
        const end = t.end === 'filled' ? 'filled' : t.end;
        if (end === 'filled') parts.push(left);
        const filledLots = parts.reduce((a, b) => a + b, 0);
        const venueEvents: TimedEvent[] = [at('OrderAccepted', { orderId: id, venueOrderId: `v${n}` })];
        let leaves = t.qty;
        parts.forEach((q, i) => {
          leaves -= q;
          venueEvents.push(filled(id, q, 100 + i, leaves, { fillId: `${id}-f${i}`, side: t.side }));
          r.fills.push(fill(id, `${id}-f${i}`, q, 100 + i, t.side));
        });
        if (end === 'canceled') venueEvents.push(at('OrderCanceled', { orderId: id, canceledLots: leaves }));
        log.push(...sent(id, { qtyLots: t.qty, side: t.side }));
        const seen = venueEvents.slice(0, Math.min(t.seen, venueEvents.length));
        log.push(...seen);
        if (t.unknown && seen.length < venueEvents.length) log.push(at('OrderStatusUnknown', { orderId: id, reason: 'lost' }));
        r.orders.push(order(id, end, filledLots, end === 'open' ? t.qty - filledLots : 0));
        position += t.side === 'buy' ? filledLots : -filledLots;
      });
      r.positions = [{ instrument: INSTR, qtyLots: position, qtyScale: 0 }];
      const s = given(...log);
      const d = when(s, r);
      expect(open(d)).toEqual([]);
      apply(s, d);
      for (const o of r.orders) {
        const mine = s.orders.orders.get(o.orderId)!;
        expect(mine.filledLots).toBe(o.filledLots);
        expect(o.state === 'open' ? lifecycle.isWorking(mine.status) && mine.status !== 'unknown' : mine.status === o.state).toBe(true);
      }
      expect(s.positions.get(INSTR)?.qtyLots ?? 0).toBe(position);
      const again = when(s, r);
      expect(again.ok).toBe(true);
      expect(again.differences).toEqual([]);
    }), { numRuns: 300, seed: 9 });
  });
});
