/**
 * The simulated venue's rules for our own orders, one example each (Given / When / Then) with the exact
 * reports: fill-or-kill availability within the limit and after consumed liquidity, taking liquidity on the
 * sell side, the ranking of our resting orders, replace keeping or losing priority, DAY expiry at an offset
 * after UTC midnight, the pending queue (an action due before one already queued, an arrival due before a
 * report) and a config that is not an object. Written from the survivors of the venue's mutation run
 * (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { advance, initialState, liveOrders, nextDueNs, type VenueReport } from '../../domain/venue/simulated.js';
import { delta, INSTR, snapshot, trade, VENUE } from './builders.js';
import { venue, feed, send } from './sim-venue.js';

const DAY = 86_400_000_000_000n;
const HOUR = 3_600_000_000_000n;

function submit(orderId: string, side: 'buy' | 'sell', priceTicks: number | null, qtyLots: number, timeInForce = 'GTC'): VenueCommand {
  return {
    kind: 'SubmitOrder', orderId, venue: VENUE, instrument: INSTR, side, orderType: priceTicks === null ? 'market' : 'limit', priceTicks, qtyLots,
    priceScale: 2, qtyScale: 0, timeInForce, postOnly: false, reduceOnly: false,
  } as VenueCommand;
}
const replace = (orderId: string, priceTicks: number, qtyLots: number): VenueCommand => ({ kind: 'ReplaceOrder', orderId, venue: VENUE, instrument: INSTR, priceTicks, qtyLots });
const cancel = (orderId: string): VenueCommand => ({ kind: 'CancelOrder', orderId, venue: VENUE, instrument: INSTR });
/** Every report: fills as `orderId qty@price leaves`, cancels with their lots and reason. */
const said = (r: VenueReport[]): string[] => r.map((x) => {
  const d = x.data as { orderId: string; qtyLots: number; priceTicks: number; leavesLots: number; canceledLots: number; reason?: string };
  if (x.type === 'OrderFilled') return `${d.orderId} ${d.qtyLots}@${d.priceTicks} leaves ${d.leavesLots}`;
  if (x.type === 'OrderCanceled') return `${d.orderId} canceled ${d.canceledLots}: ${d.reason}`;
  return `${d.orderId} ${x.type}`;
});
const FOK_NO = 'FOK: not enough liquidity to fill in full';

describe('fill-or-kill: the liquidity within the limit', () => {
  it('a buy counts only the asks at or under its price', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 2], [102, 5]]));
    expect(said(send(s, submit('a', 'buy', 101, 4, 'FOK')))).toEqual(['a OrderAccepted', `a canceled 4: ${FOK_NO}`]);
    expect(said(send(s, submit('b', 'buy', 102, 7, 'FOK')))).toEqual(['b OrderAccepted', 'b 2@101 leaves 5', 'b 5@102 leaves 0']);
  });

  it('a sell counts only the bids at or over its price, and takes them best first', () => {
    const s = venue();
    feed(s, snapshot([[102, 2], [101, 2], [100, 5]], [[110, 5]]));
    expect(said(send(s, submit('a', 'sell', 101, 5, 'FOK')))).toEqual(['a OrderAccepted', `a canceled 5: ${FOK_NO}`]);
    expect(said(send(s, submit('b', 'sell', 101, 10, 'IOC')))).toEqual(['b OrderAccepted', 'b 2@102 leaves 8', 'b 2@101 leaves 6', 'b canceled 6: IOC: remainder canceled']);
    // What the IOC took is consumed: a FOK for the rest of the book above 100 finds nothing.
    expect(said(send(s, submit('c', 'sell', 101, 1, 'FOK')))).toEqual(['c OrderAccepted', `c canceled 1: ${FOK_NO}`]);
    expect(said(send(s, submit('d', 'sell', 100, 5, 'FOK')))).toEqual(['d OrderAccepted', 'd 5@100 leaves 0']);
  });

  it('a market FOK counts every level', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 2], [102, 5]]));
    expect(said(send(s, submit('m', 'buy', null, 7, 'FOK')))).toEqual(['m OrderAccepted', 'm 2@101 leaves 5', 'm 5@102 leaves 0']);
  });
});

describe('our resting orders: ranking', () => {
  it('bids rank by price, best first, then by arrival; a trade through them fills in that order', () => {
    const s = venue();
    feed(s, snapshot([[90, 0]], [[110, 1]]));
    for (const [id, px] of [['a', 100], ['b', 102], ['c', 101], ['d', 102]] as const) send(s, submit(id, 'buy', px, 1));
    expect(said(feed(s, trade(99, 3, 'sell')))).toEqual(['b 1@102 leaves 0', 'd 1@102 leaves 0', 'c 1@101 leaves 0']);
  });

  it('asks rank by price, lowest first, then by arrival', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 0]]));
    for (const [id, px] of [['a', 103], ['b', 101], ['c', 102], ['d', 101]] as const) send(s, submit(id, 'sell', px, 1));
    expect(said(feed(s, trade(104, 3, 'buy')))).toEqual(['b 1@101 leaves 0', 'd 1@101 leaves 0', 'c 1@102 leaves 0']);
  });

  it('an order on a configured instrument with no book yet rests with nobody ahead', () => {
    const s = venue({ instruments: { [INSTR]: { tickSizeTicks: 1 } } });
    expect(said(send(s, submit('a', 'buy', 100, 2)))).toEqual(['a OrderAccepted']);
    expect(liveOrders(s).map((o) => [o.orderId, o.queueAheadLots, o.venueOrderId])).toEqual([['a', 0, 'SIM-1']]);
    expect(said(send(s, submit('b', 'buy', 100, 2)))).toEqual(['b OrderAccepted']);
    expect(liveOrders(s).map((o) => o.venueOrderId)).toEqual(['SIM-1', 'SIM-2']);
  });
});

describe('replace: priority', () => {
  it('a larger size at the same price loses priority: the order goes behind the book and our other order', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[110, 1]]));
    send(s, submit('a', 'buy', 100, 2));
    send(s, submit('b', 'buy', 100, 2));
    expect(said(send(s, replace('a', 100, 3)))).toEqual(['a OrderReplaced']);
    expect(liveOrders(s).map((o) => [o.orderId, o.totalLots, o.queueAheadLots])).toEqual([['a', 3, 5], ['b', 2, 5]]);
    // b is ahead of a now: the print past the book's 5 goes to b.
    expect(said(feed(s, trade(100, 7, 'sell')))).toEqual(['b 2@100 leaves 0']);
    expect(said(feed(s, trade(100, 3, 'sell')))).toEqual(['a 3@100 leaves 0']);
  });

  it('the same size at the same price keeps priority', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[110, 1]]));
    send(s, submit('a', 'buy', 100, 2));
    send(s, submit('b', 'buy', 100, 2));
    feed(s, trade(100, 4, 'sell'));
    expect(said(send(s, replace('a', 100, 2)))).toEqual(['a OrderReplaced']);
    expect(liveOrders(s).map((o) => [o.orderId, o.queueAheadLots])).toEqual([['a', 1], ['b', 1]]);
    expect(said(feed(s, trade(100, 3, 'sell')))).toEqual(['a 2@100 leaves 0']);
  });

  it('a new price that does not cross rests at the new price, behind what the book shows there', () => {
    const s = venue();
    feed(s, snapshot([[100, 5], [99, 3]], [[110, 1]]));
    send(s, submit('a', 'sell', 120, 2));
    expect(said(send(s, replace('a', 111, 2)))).toEqual(['a OrderReplaced']);
    expect(liveOrders(s).map((o) => [o.priceTicks, o.queueAheadLots, o.totalLots])).toEqual([[111, 0, 2]]);
  });
});

describe('DAY expiry', () => {
  it('with an offset, an order placed before the offset expires the same day, one after it the next day', () => {
    const s = venue({ dayEndOffsetNs: (3n * HOUR).toString() });
    feed(s, snapshot([[100, 5]], [[110, 5]], 1_000n));
    send(s, submit('a', 'buy', 100, 1, 'DAY'), 1_000n);
    expect(nextDueNs(s)).toBe(3n * HOUR);
    expect(said(advance(s, 3n * HOUR))).toEqual(['a OrderExpired']);
    send(s, submit('b', 'buy', 100, 1, 'DAY'), 4n * HOUR);
    expect(nextDueNs(s)).toBe(DAY + 3n * HOUR);
    expect(said(advance(s, DAY + 3n * HOUR - 1n))).toEqual([]);
    expect(said(advance(s, DAY + 3n * HOUR))).toEqual(['b OrderExpired']);
  });

  it('an order placed exactly at the day end expires at the next one', () => {
    const s = venue({ dayEndOffsetNs: (3n * HOUR).toString() });
    feed(s, snapshot([[100, 5]], [[110, 5]], 3n * HOUR));
    send(s, submit('a', 'buy', 100, 1, 'DAY'), 3n * HOUR);
    expect(nextDueNs(s)).toBe(DAY + 3n * HOUR);
  });

  it('an offset of a whole day or more counts from midnight modulo a day', () => {
    const s = venue({ dayEndOffsetNs: (DAY + 2n * HOUR).toString() });
    feed(s, snapshot([[100, 5]], [[110, 5]]));
    send(s, submit('a', 'buy', 100, 1, 'DAY'), HOUR);
    expect(nextDueNs(s)).toBe(2n * HOUR);
  });

  it('a DAY order canceled or filled before its end does not expire; a GTC order never does', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[110, 5]]));
    send(s, submit('a', 'buy', 100, 1, 'DAY'));
    send(s, submit('g', 'buy', 100, 1, 'GTC'));
    expect(said(send(s, cancel('a')))).toEqual(['a canceled 1: canceled on request']);
    expect(said(advance(s, DAY))).toEqual([]);
    expect(liveOrders(s).map((o) => o.orderId)).toEqual(['g']);
  });
});

describe('the pending queue', () => {
  it('an action due before one already queued runs first', () => {
    const s = venue({ latency: { submitNs: 100, cancelNs: 10 } });
    feed(s, snapshot([[100, 5]], [[110, 5]]));
    send(s, submit('a', 'buy', 100, 1, 'DAY'));
    advance(s, 100n);
    expect(nextDueNs(s)).toBe(DAY);
    send(s, cancel('a'), 1_000n);
    expect(nextDueNs(s)).toBe(1_010n);
    expect(said(advance(s, DAY))).toEqual(['a canceled 1: canceled on request']);
  });

  it('an arrival due before a report waiting in the outbox is the next thing due', () => {
    const s = venue({ latency: { submitNs: 100, ackNs: 500 } });
    feed(s, snapshot([[100, 5]], [[110, 5]]));
    send(s, submit('a', 'buy', 100, 1));
    expect(advance(s, 100n)).toEqual([]);
    expect(nextDueNs(s)).toBe(600n);
    send(s, submit('b', 'buy', 100, 1), 150n);
    expect(nextDueNs(s)).toBe(250n);
  });
});

describe('config', () => {
  it('a config that is not an object is refused by the parser, not read as a parsed one', () => {
    expect(() => initialState(null)).toThrow(/config|venue/i);
    expect(() => initialState(null)).not.toThrow(TypeError);
  });
});

describe('replace: without a book, post-only, and the order of live orders', () => {
  it('with no book yet, a replace to a new price rests with nobody ahead; a post-only one is not checked against a book', () => {
    const s = venue({ instruments: { [INSTR]: { tickSizeTicks: 1 } } });
    send(s, { ...submit('p', 'buy', 100, 2), postOnly: true } as VenueCommand);
    send(s, submit('a', 'buy', 100, 2));
    expect(said(send(s, replace('a', 101, 2)))).toEqual(['a OrderReplaced']);
    expect(said(send(s, replace('p', 102, 2)))).toEqual(['p OrderReplaced']);
    expect(liveOrders(s).map((o) => [o.orderId, o.priceTicks, o.queueAheadLots])).toEqual([['a', 101, 0], ['p', 102, 0]]);
  });

  it('a post-only order keeping its price is not refused when the book now touches it; an empty opposite side crosses nothing', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, { ...submit('p', 'buy', 100, 2), postOnly: true } as VenueCommand);
    feed(s, delta([['sell', 110, 0], ['sell', 100, 3]]));
    expect(said(send(s, replace('p', 100, 1)))).toEqual(['p OrderReplaced']);
    feed(s, delta([['sell', 100, 0]]));
    expect(said(send(s, replace('p', 105, 1)))).toEqual(['p OrderReplaced']);
    send(s, { ...submit('q', 'sell', 120, 2), postOnly: true } as VenueCommand);
    feed(s, snapshot([[90, 1]], []));
    expect(said(send(s, replace('q', 119, 2)))).toEqual(['q OrderReplaced']);
    feed(s, snapshot([], [[110, 1]]));
    expect(said(send(s, replace('q', 100, 2)))).toEqual(['q OrderReplaced']);
  });

  it('live orders are listed by order id, whatever the order they came in', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    for (const id of ['m', 'c', 'x', 'a']) send(s, submit(id, 'buy', 100, 1));
    expect(liveOrders(s).map((o) => o.orderId)).toEqual(['a', 'c', 'm', 'x']);
  });
});
