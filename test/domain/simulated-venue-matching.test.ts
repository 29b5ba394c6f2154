/**
 * The simulated venue's matching rules against market data, one example each (Given / When / Then), with
 * the exact fills: L3 executions through or behind our price, replaces of book orders, partial cancels,
 * trade prints shared between our bids and asks, queue shortening on the ask side, books crossing our
 * orders across several levels and the consumed liquidity a quote, snapshot or delta refreshes.
 * Written from the survivors of the venue's mutation run (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { liveOrders, type SimVenueState, type VenueReport } from '../../domain/venue/simulated.js';
import { at, delta, INSTR, quote, snapshot, trade, VENUE } from './builders.js';
import { venue, feed, send } from './sim-venue.js';

function submit(orderId: string, side: 'buy' | 'sell', priceTicks: number, qtyLots: number): VenueCommand {
  return {
    kind: 'SubmitOrder', orderId, venue: VENUE, instrument: INSTR, side, orderType: 'limit', priceTicks, qtyLots,
    priceScale: 2, qtyScale: 0, timeInForce: 'GTC', postOnly: false, reduceOnly: false,
  } as VenueCommand;
}
/** Every report, fills as `orderId qty@price leaves`. */
const said = (r: VenueReport[]): string[] => r.map((x) => {
  if (x.type !== 'OrderFilled') return x.type;
  const d = x.data as { orderId: string; qtyLots: number; priceTicks: number; leavesLots: number };
  return `${d.orderId} ${d.qtyLots}@${d.priceTicks} leaves ${d.leavesLots}`;
});
const queues = (s: SimVenueState): Record<string, number> => Object.fromEntries(liveOrders(s).map((o) => [o.orderId, o.queueAheadLots]));

const base = { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0 };
const added = (ref: string, side: 'buy' | 'sell', priceTicks: number, qtyLots: number) => at('BookOrderAdded', { ...base, orderRef: ref, side, priceTicks, qtyLots });
const executed = (ref: string, lots: number) => at('BookOrderExecuted', { ...base, orderRef: ref, executedLots: lots, matchNumber: `m-${ref}-${lots}` });
const canceled = (ref: string, lots: number) => at('BookOrderCanceled', { ...base, orderRef: ref, canceledLots: lots });
const deleted = (ref: string) => at('BookOrderDeleted', { ...base, orderRef: ref });
const replaced = (ref: string, newRef: string, priceTicks: number, qtyLots: number) => at('BookOrderReplaced', { ...base, orderRef: ref, newOrderRef: newRef, priceTicks, qtyLots });

describe('L3: executions and removals against our resting orders', () => {
  it('given our bid at 100 behind A: an execution of a bid at 99 went through us, so we fill first, at our price', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 2), added('B', 'buy', 99, 3), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    expect(queues(s)).toEqual({ o: 2 });
    expect(said(feed(s, executed('B', 3)))).toEqual(['o 3@100 leaves 1']);
    expect(queues(s)).toEqual({ o: 0 });
  });

  it('given our ask at 101 behind A: an execution of an ask at 102 fills us first', () => {
    const s = venue();
    feed(s, added('A', 'sell', 101, 2), added('B', 'sell', 102, 3), added('X', 'buy', 95, 9));
    send(s, submit('o', 'sell', 101, 4));
    expect(queues(s)).toEqual({ o: 2 });
    expect(said(feed(s, executed('B', 3)))).toEqual(['o 3@101 leaves 1']);
    expect(queues(s)).toEqual({ o: 0 });
  });

  it('one execution behind two of our bids fills the better one fully, then the next with what is left', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 4), added('C', 'buy', 99, 5), added('X', 'sell', 105, 9));
    send(s, submit('a', 'buy', 101, 2));
    send(s, submit('b', 'buy', 100, 2));
    expect(queues(s)).toEqual({ a: 0, b: 4 });
    expect(said(feed(s, executed('C', 3)))).toEqual(['a 2@101 leaves 0', 'b 1@100 leaves 1']);
    expect(queues(s)).toEqual({ b: 0 });
  });

  it('an execution at a worse price than ours on the other side, or at another level, does not reach us', () => {
    const s = venue();
    feed(s, added('A', 'buy', 101, 2), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    expect(said(feed(s, executed('A', 2)))).toEqual([]);
    expect(queues(s)).toEqual({ o: 0 });
    expect(liveOrders(s)[0]!.filledLots).toBe(0);
  });

  it('a partial cancel ahead shortens the queue by the canceled lots; one behind us or at another price does not', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 3), added('B', 'buy', 100, 2), added('D', 'buy', 99, 4), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    feed(s, added('C', 'buy', 100, 5));
    expect(queues(s)).toEqual({ o: 5 });
    expect(said(feed(s, canceled('A', 1)))).toEqual([]);
    expect(queues(s)).toEqual({ o: 4 });
    feed(s, canceled('C', 5), canceled('D', 4));
    expect(queues(s)).toEqual({ o: 4 });
    feed(s, deleted('B'));
    expect(queues(s)).toEqual({ o: 2 });
  });

  it('an execution of an order ahead at our price shortens the queue and fills nothing; one behind us fills us', () => {
    const s = venue();
    feed(s, added('A', 'sell', 101, 3), added('X', 'buy', 95, 9));
    send(s, submit('o', 'sell', 101, 4));
    feed(s, added('C', 'sell', 101, 5));
    expect(said(feed(s, executed('A', 2)))).toEqual([]);
    expect(queues(s)).toEqual({ o: 1 });
    expect(said(feed(s, executed('C', 3)))).toEqual(['o 3@101 leaves 1']);
  });

  it('a book order replaced loses its place: it leaves the queue ahead of us and its new order is behind us', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 3), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    expect(queues(s)).toEqual({ o: 3 });
    expect(said(feed(s, replaced('A', 'A2', 100, 3)))).toEqual([]);
    expect(queues(s)).toEqual({ o: 0 });
    expect(said(feed(s, executed('A2', 3)))).toEqual(['o 3@100 leaves 1']);
  });

  it('a book order replaced to a price through our ask crosses it', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 3), added('X', 'sell', 105, 9));
    send(s, submit('o', 'sell', 103, 4));
    expect(said(feed(s, replaced('A', 'A2', 104, 3)))).toEqual(['o 3@103 leaves 1']);
    expect(said(feed(s, replaced('A2', 'A3', 104, 3)))).toEqual(['o 1@103 leaves 0']);
  });

  it('with fillOnBookCross off, a book order added through our price fills nothing', () => {
    const s = venue({ fillOnBookCross: false });
    feed(s, added('A', 'buy', 100, 3), added('X', 'sell', 105, 9));
    send(s, submit('o', 'sell', 103, 4));
    expect(said(feed(s, added('B', 'buy', 104, 3), replaced('A', 'A2', 104, 3)))).toEqual([]);
  });
});

describe('L2: trade prints', () => {
  function bothSides(): SimVenueState {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('b', 'buy', 100, 3));
    feed(s, delta([['sell', 100, 5]]));
    send(s, submit('a', 'sell', 100, 3));
    expect(queues(s)).toEqual({ b: 0, a: 5 });
    return s;
  }

  it('an unknown aggressor hits our bid first; the ask sees only what is left (nothing: its queue stays)', () => {
    const s = bothSides();
    expect(said(feed(s, trade(100, 3, 'unknown')))).toEqual(['b 3@100 leaves 0']);
    expect(queues(s)).toEqual({ a: 5 });
  });

  it('an unknown aggressor with more than our bid gives the ask what the print has past its queue, within the budget left', () => {
    const s = bothSides();
    expect(said(feed(s, trade(100, 7, 'unknown')))).toEqual(['b 3@100 leaves 0', 'a 2@100 leaves 1']);
    expect(queues(s)).toEqual({ a: 0 });
  });

  it('a sell aggressor never reaches our ask; a buy aggressor never reaches our bid', () => {
    const s = bothSides();
    expect(said(feed(s, trade(100, 20, 'sell')))).toEqual(['b 3@100 leaves 0']);
    expect(queues(s)).toEqual({ a: 5 });
    expect(said(feed(s, trade(100, 7, 'buy')))).toEqual(['a 2@100 leaves 1']);
  });

  it('a print at a worse price than our best bid stops there; one on the other instrument or venue is ignored', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('a', 'buy', 100, 2));
    send(s, submit('b', 'buy', 99, 2));
    expect(said(feed(s, trade(100, 5, 'sell', 0n, 'SIM:OTHER'), trade(99, 5, 'sell', 0n, INSTR, 'ELSE')))).toEqual([]);
    expect(said(feed(s, trade(101, 5, 'sell')))).toEqual([]);
    expect(said(feed(s, trade(100, 5, 'sell')))).toEqual(['a 2@100 leaves 0']);
  });
});

describe('L2: queues and crossing books', () => {
  it('an ask level that shrinks shortens our queue to its displayed size, never lengthens it', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[102, 5]]));
    send(s, submit('a', 'sell', 102, 2));
    expect(queues(s)).toEqual({ a: 5 });
    feed(s, delta([['sell', 102, 1]]));
    expect(queues(s)).toEqual({ a: 1 });
    feed(s, delta([['sell', 102, 9]]));
    expect(queues(s)).toEqual({ a: 1 });
    feed(s, quote(100, 5, 102, 0));
    expect(queues(s)).toEqual({ a: 0 });
  });

  it('a book through our bid fills it level by level, best first, at our price; consumed liquidity is not taken twice', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('o', 'buy', 103, 10));
    expect(said(feed(s, delta([['sell', 101, 2], ['sell', 102, 3]])))).toEqual(['o 2@103 leaves 8', 'o 3@103 leaves 5']);
    expect(said(feed(s, delta([['sell', 100, 1]])))).toEqual(['o 1@103 leaves 4']);
    expect(said(feed(s, delta([['sell', 104, 3]])))).toEqual([]);
    // A delta at a level refreshes it: its displayed size is available again.
    expect(said(feed(s, delta([['sell', 101, 2]])))).toEqual(['o 2@103 leaves 2']);
  });

  it('a book through our ask fills our best ask first, then the next one', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('a', 'sell', 102, 1));
    send(s, submit('b', 'sell', 103, 1));
    expect(said(feed(s, delta([['buy', 104, 5]])))).toEqual(['a 1@102 leaves 0', 'b 1@103 leaves 0']);
  });

  it('two of our bids crossed by one level share its size', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('a', 'buy', 103, 2));
    send(s, submit('b', 'buy', 102, 2));
    expect(said(feed(s, delta([['sell', 101, 3]])))).toEqual(['a 2@103 leaves 0', 'b 1@102 leaves 1']);
    expect(said(feed(s, delta([['sell', 105, 1]])))).toEqual([]);
  });

  it('a quote refreshes the consumed size at its touch only', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('o', 'sell', 103, 10));
    expect(said(feed(s, delta([['buy', 104, 2]])))).toEqual(['o 2@103 leaves 8']);
    expect(said(feed(s, quote(104, 3, 110, 1)))).toEqual(['o 3@103 leaves 5']);
    const b = venue();
    feed(b, snapshot([[90, 1]], [[110, 1]]));
    send(b, submit('o', 'buy', 103, 10));
    expect(said(feed(b, delta([['sell', 102, 2]])))).toEqual(['o 2@103 leaves 8']);
    expect(said(feed(b, quote(90, 1, 102, 3)))).toEqual(['o 3@103 leaves 5']);
  });

  it('a snapshot refreshes every consumed level', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('o', 'sell', 103, 10));
    send(s, submit('p', 'buy', 80, 10));
    expect(said(feed(s, delta([['buy', 104, 2]])))).toEqual(['o 2@103 leaves 8']);
    expect(said(feed(s, delta([['sell', 79, 1]])))).toEqual(['p 1@80 leaves 9']);
    expect(said(feed(s, snapshot([[104, 2]], [[79, 1]])))).toEqual(['p 1@80 leaves 8', 'o 2@103 leaves 6']);
  });

  it('market data for an instrument the venue never traded, or another venue, fills nothing', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('o', 'buy', 103, 10));
    expect(said(feed(s, delta([['sell', 101, 2]], 0n, INSTR, 'ELSE'), quote(90, 1, 101, 2, 0n, INSTR, 'ELSE'), snapshot([[90, 1]], [[101, 2]], 0n, INSTR, 'ELSE')))).toEqual([]);
    expect(said(feed(s, delta([['sell', 101, 2]], 0n, 'SIM:OTHER'), quote(90, 1, 101, 2, 0n, 'SIM:OTHER'), snapshot([[90, 1]], [[101, 2]], 0n, 'SIM:OTHER')))).toEqual([]);
  });
});

describe('more rules from the survivors', () => {
  it('an L3 order added at a level we consumed makes its displayed size available again (both sides)', () => {
    const s = venue();
    feed(s, added('B0', 'buy', 90, 1), added('A0', 'sell', 110, 1));
    send(s, submit('o', 'buy', 103, 10));
    expect(said(feed(s, added('A', 'sell', 101, 2)))).toEqual(['o 2@103 leaves 8']);
    expect(said(feed(s, added('A2', 'sell', 101, 1)))).toEqual(['o 3@103 leaves 5']);
    const t = venue();
    feed(t, added('B0', 'buy', 90, 1), added('A0', 'sell', 110, 1));
    send(t, submit('o', 'sell', 97, 10));
    expect(said(feed(t, added('B', 'buy', 99, 2)))).toEqual(['o 2@97 leaves 8']);
    expect(said(feed(t, added('B2', 'buy', 99, 1)))).toEqual(['o 3@97 leaves 5']);
  });

  it('an L3 removal for an order the book never saw, for zero lots, or on another venue changes nothing', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 3), added('B', 'buy', 99, 3), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    expect(said(feed(s, canceled('nope', 2), executed('nope', 2), deleted('nope')))).toEqual([]);
    expect(said(feed(s, canceled('A', 0)))).toEqual([]);
    expect(queues(s)).toEqual({ o: 3 });
    const other = { ...base, venue: 'ELSE' };
    expect(said(feed(s,
      at('BookOrderExecuted', { ...other, orderRef: 'B', executedLots: 3, matchNumber: 'm' }),
      at('BookOrderCanceled', { ...other, orderRef: 'A', canceledLots: 3 }),
      at('BookOrderDeleted', { ...other, orderRef: 'A' }),
      at('BookOrderAdded', { ...other, orderRef: 'Y', side: 'sell', priceTicks: 99, qtyLots: 5 }),
      at('BookOrderReplaced', { ...other, orderRef: 'A', newOrderRef: 'A9', priceTicks: 100, qtyLots: 3 }),
    ))).toEqual([]);
    expect(queues(s)).toEqual({ o: 3 });
  });

  it('an execution behind a partly filled order gives it only what it still needs', () => {
    const s = venue();
    feed(s, added('A', 'buy', 100, 2), added('B', 'buy', 99, 3), added('C', 'buy', 99, 5), added('X', 'sell', 105, 9));
    send(s, submit('o', 'buy', 100, 4));
    expect(said(feed(s, executed('B', 3)))).toEqual(['o 3@100 leaves 1']);
    expect(said(feed(s, executed('C', 5)))).toEqual(['o 1@100 leaves 0']);
  });

  it('a cross trade print does not take displayed liquidity: it fills nothing', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('b', 'buy', 100, 3));
    const cross = at('TradeReported', { venue: VENUE, instrument: INSTR, tradeId: 'x1', priceTicks: 99, qtyLots: 9, priceScale: 2, qtyScale: 0, aggressor: 'sell', cross: true });
    expect(said(feed(s, cross))).toEqual([]);
  });

  it('an order the print cannot reach spends none of the budget the other side gets', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('x', 'sell', 100, 5));
    feed(s, delta([['buy', 100, 4]]));
    send(s, submit('a', 'buy', 101, 3));
    send(s, submit('b', 'buy', 100, 1));
    expect(queues(s)).toEqual({ a: 0, b: 4, x: 0 });
    expect(said(feed(s, trade(100, 5, 'unknown')))).toEqual(['a 3@101 leaves 0', 'x 2@100 leaves 3']);
  });

  it('queues shorten at the right level of a deep book, both sides', () => {
    const s = venue();
    feed(s, snapshot([[100, 3], [99, 5], [98, 7]], [[101, 3], [102, 5], [103, 7]]));
    send(s, submit('a', 'sell', 102, 2));
    send(s, submit('b', 'buy', 99, 2));
    expect(queues(s)).toEqual({ a: 5, b: 5 });
    feed(s, delta([['sell', 102, 2], ['buy', 99, 1]]));
    expect(queues(s)).toEqual({ a: 2, b: 1 });
  });

  it('a bid touching our ask without going through it fills nothing', () => {
    const s = venue();
    feed(s, snapshot([[90, 1]], [[110, 1]]));
    send(s, submit('a', 'sell', 103, 2));
    expect(said(feed(s, delta([['buy', 103, 4]])))).toEqual([]);
    expect(said(feed(s, delta([['buy', 104, 1]])))).toEqual(['a 1@103 leaves 1']);
  });

  it('an instrument definition sets the rules of an instrument the config does not name, never of one it does', () => {
    const s = venue({ instruments: { 'SIM:CFG': { tickSizeTicks: 5 } } });
    const def = (instrument: string) => at('InstrumentDefined', {
      venue: VENUE, instrument, symbol: instrument, kind: 'spot', quoteCurrency: 'EUR', priceScale: 2, qtyScale: 0, tickSizeTicks: 2, lotSizeLots: 3,
    });
    feed(s, def(INSTR), def('SIM:CFG'), def('SIM:ELSEWHERE'));
    feed(s, snapshot([[90, 1]], [[110, 1]]), snapshot([[90, 1]], [[110, 1]], 0n, 'SIM:CFG'));
    const r = (instrument: string, priceTicks: number, qtyLots: number) => {
      const out = send(s, { ...submit(`${instrument}-${priceTicks}-${qtyLots}`, 'buy', priceTicks, qtyLots), instrument } as VenueCommand);
      return out.map((x) => (x.data as { reason?: string }).reason ?? x.type);
    };
    expect(r(INSTR, 101, 3)).toEqual(['price 101 is not a multiple of the tick size 2']);
    expect(r(INSTR, 100, 4)).toEqual(['quantity 4 is not a multiple of the lot size 3']);
    expect(r(INSTR, 100, 3)).toEqual(['OrderAccepted']);
    expect(r('SIM:CFG', 102, 1)).toEqual(['price 102 is not a multiple of the tick size 5']);
    expect(r('SIM:CFG', 100, 1)).toEqual(['OrderAccepted']);
  });
});
