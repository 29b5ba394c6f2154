/**
 * What the simulated venue says, word for word: the reason of every refusal (new orders, cancels,
 * replaces), the reason of each cancel it makes itself (IOC, FOK, market, on request), fill ids and fee
 * currencies, and its bounds (live orders, actions in flight). Written from the survivors of
 * `npm run mutate` on domain/venue (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import type { TimedEvent } from '../../domain/events/event.js';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { parseSimVenueConfig } from '../../domain/venue/config.js';
import { initialState, liveOrders, nextDueNs, step, stepMarket, venueMarket, type SimVenueState, type VenueReport } from '../../domain/venue/simulated.js';
import { INSTR, quote, snapshot, trade, VENUE } from './builders.js';
import { venue, feed, send, submit } from './sim-venue.js';

const replace = (orderId: string, priceTicks: number | null, qtyLots: number): VenueCommand => ({ kind: 'ReplaceOrder', orderId, venue: VENUE, instrument: INSTR, priceTicks, qtyLots });
const cancel = (orderId: string): VenueCommand => ({ kind: 'CancelOrder', orderId, venue: VENUE, instrument: INSTR });
/** Each report as `Type: reason` (or `Type` when it has none). */
const said = (r: VenueReport[]): string[] => r.map((x) => {
  const reason = (x.data as { reason?: string }).reason;
  return reason === undefined ? x.type : `${x.type}: ${reason}`;
});

describe('simulated venue: refusals, word for word', () => {
  it('new orders: crossing post-only (either side), grids, minimum, quantity, instrument, venue, scales, prices, the live-order bound', () => {
    const s = venue({ instruments: { [INSTR]: { tickSizeTicks: 5, lotSizeLots: 2, minQtyLots: 4 } }, maxLiveOrders: 2 });
    feed(s, snapshot([[95, 5]], [[105, 5]]));
    const cases: Array<[VenueCommand, string[]]> = [
      [submit({ orderId: 'a', priceTicks: 105, qtyLots: 4, postOnly: true }), ['OrderRejected: post-only buy at 105 would cross the ask at 105']],
      [submit({ orderId: 'a2', side: 'sell', priceTicks: 95, qtyLots: 4, postOnly: true }), ['OrderRejected: post-only sell at 95 would cross the bid at 95']],
      [submit({ orderId: 'b', priceTicks: 97, qtyLots: 4 }), ['OrderRejected: price 97 is not a multiple of the tick size 5']],
      [submit({ orderId: 'c', priceTicks: 95, qtyLots: 3 }), ['OrderRejected: quantity 3 is not a multiple of the lot size 2']],
      [submit({ orderId: 'c2', priceTicks: 95, qtyLots: 2 }), ['OrderRejected: quantity 2 is below the minimum 4']],
      [submit({ orderId: 'c3', priceTicks: 95, qtyLots: 0 }), ['OrderRejected: quantity 0 is not a positive integer']],
      [submit({ orderId: 'c4', priceTicks: 95, qtyLots: 4.5 }), ['OrderRejected: quantity 4.5 is not a positive integer']],
      [submit({ orderId: 'd', instrument: 'SIM:NOPE', priceTicks: 95, qtyLots: 4 }), ['OrderRejected: unknown instrument SIM:NOPE']],
      [submit({ orderId: 'e', venue: 'OTHER', priceTicks: 95, qtyLots: 4 }), ['OrderRejected: order for venue OTHER sent to SIM']],
      [submit({ orderId: 'f', priceTicks: 95, qtyLots: 4, priceScale: 4 }), ["OrderRejected: scales 4/0 differ from the venue's 2/0"]],
      [submit({ orderId: 'f2', priceTicks: 95, qtyLots: 4, qtyScale: 3 }), ["OrderRejected: scales 2/3 differ from the venue's 2/0"]],
      [submit({ orderId: 'g', orderType: 'market', priceTicks: 95, qtyLots: 4 }), ['OrderRejected: a market order has no price']],
      [submit({ orderId: 'h', orderType: 'market', priceTicks: null, qtyLots: 4, postOnly: true }), ['OrderRejected: a market order cannot be post-only']],
      [submit({ orderId: 'i', priceTicks: null, qtyLots: 4 }), ['OrderRejected: a limit order needs an integer price']],
      [submit({ orderId: 'i2', priceTicks: 95.5, qtyLots: 4 }), ['OrderRejected: a limit order needs an integer price']],
      [submit({ orderId: 'j', priceTicks: 0, qtyLots: 4 }), ['OrderRejected: price 0 must be positive']],
      [submit({ orderId: 'j2', priceTicks: -5, qtyLots: 4 }), ['OrderRejected: price -5 must be positive']],
      // Post-only that does not cross rests.
      [submit({ orderId: 'k1', priceTicks: 100, qtyLots: 4, postOnly: true }), ['OrderAccepted']],
      [submit({ orderId: 'k2', side: 'sell', priceTicks: 100, qtyLots: 4, postOnly: true }), ['OrderAccepted']],
      [submit({ orderId: 'k3', priceTicks: 90, qtyLots: 4 }), ['OrderRejected: too many live orders (2)']],
      // A resend of a live order is not a second order.
      [submit({ orderId: 'k1', priceTicks: 100, qtyLots: 4 }), []],
    ];
    for (const [c, expected] of cases) expect(said(send(s, c)), (c as { orderId: string }).orderId).toEqual(expected);
    expect(liveOrders(s).map((o) => o.orderId)).toEqual(['k1', 'k2']);
    for (const r of [...said(send(s, cancel('zz'))), ...said(send(s, replace('zz', 90, 4)))]) expect(r).toMatch(/: unknown or already finished order$/);
  });

  it('replaces: the rules of a new order, a total above the fills, post-only that would cross', () => {
    const s = venue({ instruments: { [INSTR]: { tickSizeTicks: 5, lotSizeLots: 2, minQtyLots: 4 } } });
    feed(s, snapshot([[95, 5]], [[105, 2]]));
    send(s, submit({ orderId: 'k', priceTicks: 105, qtyLots: 6 }));
    expect(liveOrders(s)[0]).toMatchObject({ filledLots: 2 });
    expect(said(send(s, replace('k', 91, 6)))).toEqual(['ReplaceRejected: price 91 is not a multiple of the tick size 5']);
    expect(said(send(s, replace('k', 90, 2)))).toEqual(['ReplaceRejected: quantity 2 is below the minimum 4']);
    expect(said(send(s, replace('k', null, 6)))).toEqual(['ReplaceRejected: a limit order needs an integer price']);
    const t = venue();
    feed(t, snapshot([[95, 5]], [[105, 2]]));
    send(t, submit({ orderId: 'k', priceTicks: 105, qtyLots: 3 }));
    expect(said(send(t, replace('k', 100, 2)))).toEqual(['ReplaceRejected: new total 2 lots must exceed the 2 lots filled']);
    expect(said(send(t, replace('k', 100, 3)))).toEqual(['OrderReplaced']);
    const p = venue();
    feed(p, snapshot([[95, 5]], [[105, 5]]));
    send(p, submit({ orderId: 'b', priceTicks: 100, qtyLots: 4, postOnly: true }));
    send(p, submit({ orderId: 's', side: 'sell', priceTicks: 100, qtyLots: 4, postOnly: true }));
    expect(said(send(p, replace('b', 105, 4)))).toEqual(['ReplaceRejected: post-only price 105 would cross']);
    expect(said(send(p, replace('s', 95, 4)))).toEqual(['ReplaceRejected: post-only price 95 would cross']);
    // Same price, smaller size: no cross check needed; a price that does not cross is taken.
    expect(said(send(p, replace('b', 100, 3)))).toEqual(['OrderReplaced']);
    expect(said(send(p, replace('b', 104, 3)))).toEqual(['OrderReplaced']);
    expect(said(send(p, replace('s', 96, 3)))).toEqual(['OrderReplaced']);
  });
});

describe('simulated venue: the cancels it makes itself, fills and their ids', () => {
  it('IOC, FOK and market remainders, each with its reason; a cancel on request', () => {
    const s = venue();
    feed(s, snapshot([[95, 5]], [[105, 3], [106, 3]]));
    expect(said(send(s, submit({ orderId: 'ioc', priceTicks: 105, qtyLots: 5, timeInForce: 'IOC' })))).toEqual(['OrderAccepted', 'OrderFilled', 'OrderCanceled: IOC: remainder canceled']);
    expect(said(send(s, submit({ orderId: 'fok', priceTicks: 106, qtyLots: 5, timeInForce: 'FOK' })))).toEqual(['OrderAccepted', 'OrderCanceled: FOK: not enough liquidity to fill in full']);
    // A market order is IOC whatever it asked for.
    expect(said(send(s, submit({ orderId: 'mkt', orderType: 'market', priceTicks: null, qtyLots: 5, timeInForce: 'GTC' })))).toEqual(['OrderAccepted', 'OrderFilled', 'OrderCanceled: market order: no more liquidity']);
    send(s, submit({ orderId: 'gtc', priceTicks: 90, qtyLots: 2 }));
    expect(send(s, cancel('gtc')).map((r) => r.data)).toEqual([{ orderId: 'gtc', canceledLots: 2, reason: 'canceled on request' }]);
  });

  it('fill ids count each order\'s fills under its venue id; the fee currency is the schedule\'s, else the instrument\'s quote currency, else USD', () => {
    const s = venue({ fees: { takerBps: 10 } });
    feed(s, snapshot([[95, 5]], [[105, 1], [106, 1]]));
    const r = send(s, submit({ orderId: 'a', priceTicks: 106, qtyLots: 2 }));
    expect(r.map((x) => (x.type === 'OrderFilled' ? [x.data.fillId, x.data.feeCurrency, x.data.liquidity, x.data.leavesLots] : [x.type, (x.data as { venueOrderId?: string }).venueOrderId])))
      .toEqual([['OrderAccepted', 'SIM-1'], ['SIM-1-1', 'USD', 'taker', 1], ['SIM-1-2', 'USD', 'taker', 0]]);
    const q = venue();
    feed(q, at0('InstrumentDefined', { venue: VENUE, instrument: INSTR, symbol: 'BTCUSD', kind: 'spot', quoteCurrency: 'USDT', priceScale: 2, qtyScale: 0, tickSizeTicks: 1, lotSizeLots: 1 }), snapshot([[95, 5]], [[105, 1]]));
    expect(send(q, submit({ orderId: 'a', priceTicks: 105, qtyLots: 1 })).find((x) => x.type === 'OrderFilled')?.data).toMatchObject({ feeCurrency: 'USDT' });
    const f = venue({ fees: { feeCurrency: 'BNB' } });
    feed(f, snapshot([[95, 5]], [[105, 1]]));
    expect(send(f, submit({ orderId: 'a', priceTicks: 105, qtyLots: 1 })).find((x) => x.type === 'OrderFilled')?.data).toMatchObject({ feeCurrency: 'BNB' });
  });
});

describe('simulated venue: bounds and clock', () => {
  it('more actions in flight than maxInFlight is an invariant violation, not a queue without end', () => {
    const s = venue({ latency: { submitNs: 100 }, maxInFlight: 2 });
    send(s, submit({ orderId: 'a' }));
    send(s, submit({ orderId: 'b' }));
    expect(() => send(s, submit({ orderId: 'c' }))).toThrow('invariant violated: more than 2 actions in flight');
  });

  it('nextDueNs is the earlier of the next arrival and the next report', () => {
    const s = venue({ latency: { submitNs: 100, ackNs: 50 } });
    feed(s, snapshot([[95, 5]], [[105, 5]]));
    expect(nextDueNs(s)).toBeNull();
    send(s, submit({ orderId: 'a', priceTicks: 90 }), 0n);
    send(s, submit({ orderId: 'b', priceTicks: 90 }), 60n);
    expect(nextDueNs(s)).toBe(100n);
    feed(s, quote(95, 5, 105, 5, 100n));
    // a arrived at 100 (its ack is due at 150), b arrives at 160.
    expect(nextDueNs(s)).toBe(150n);
    feed(s, quote(95, 5, 105, 5, 155n));
    expect(nextDueNs(s)).toBe(160n);
    expect(venueMarket(s).books.get(INSTR)).toBeDefined();
  });
});

function at0(type: string, data: Record<string, unknown>): TimedEvent {
  return { type, data, eventTimeNs: 0n } as unknown as TimedEvent;
}

describe('simulated venue: another venue\'s market data', () => {
  it('is ignored: no book change, no fill, no rule change, whatever the event', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 5]]));
    send(s, submit({ orderId: 'bid', priceTicks: 99, qtyLots: 2 }));
    send(s, submit({ orderId: 'ask', side: 'sell', priceTicks: 101, qtyLots: 2 }));
    const before = structuredClone(s);
    const base = { venue: 'ALT', instrument: INSTR, priceScale: 2, qtyScale: 0 };
    const other: TimedEvent[] = [
      at0('InstrumentDefined', { ...base, symbol: 'BTCUSD', kind: 'spot', quoteCurrency: 'EUR', tickSizeTicks: 7, lotSizeLots: 3 }),
      quote(90, 5, 92, 5, 0n, INSTR, 'ALT'),
      snapshot([[90, 5]], [[92, 5]], 0n, INSTR, 'ALT'),
      at0('BookDeltaApplied', { ...base, changes: [{ side: 'sell', priceTicks: 95, qtyLots: 9 }] }),
      at0('TradeReported', { ...base, tradeId: 't', priceTicks: 95, qtyLots: 9, aggressor: 'unknown' }),
      at0('BookOrderAdded', { ...base, orderRef: 'r1', side: 'sell', priceTicks: 95, qtyLots: 9 }),
      at0('BookOrderExecuted', { ...base, orderRef: 'r1', executedLots: 9, matchNumber: 'm' }),
    ];
    expect(feed(s, ...other)).toEqual([]);
    expect(s).toEqual(before);
  });
});

describe('simulated venue: set-up and the fast path', () => {
  it('takes a parsed config as it is, and parses anything else (strictly)', () => {
    const cfg = parseSimVenueConfig({ venue: VENUE, seed: 3 });
    expect(initialState(cfg).config).toBe(cfg);
    expect(() => initialState({ venue: VENUE, submitLatencyNs: 5 })).toThrow(/simulated venue config/);
    expect(() => initialState(null)).toThrow(/simulated venue config/);
  });

  it('stepMarket is step for a market event: the same reports, the same state', () => {
    const events = [snapshot([[99, 5]], [[101, 5]], 0n), trade(100, 3, 'sell', 20n), quote(98, 5, 99, 4, 30n), trade(97, 9, 'sell', 50n)];
    const a = venue({ latency: { submitNs: 10, ackNs: 5 } });
    const b = venue({ latency: { submitNs: 10, ackNs: 5 } });
    const outA: VenueReport[] = [];
    const outB: VenueReport[] = [];
    step(a, { kind: 'command', command: submit({ qtyLots: 3 }), sentNs: 0n }, outA);
    step(b, { kind: 'command', command: submit({ qtyLots: 3 }), sentNs: 0n }, outB);
    for (const e of events) {
      const na = step(a, { kind: 'market', event: e }, outA);
      const nb = stepMarket(b, e, outB);
      expect(nb).toBe(na);
    }
    expect(outB).toEqual(outA);
    expect(outB.map((r) => r.type)).toContain('OrderFilled');
    expect(b).toEqual(a);
  });

  it('the clock never goes back', () => {
    const s = venue();
    feed(s, quote(99, 5, 101, 5, 100n), quote(99, 5, 101, 5, 50n));
    expect(s.nowNs).toBe(100n);
    const t = venue();
    stepMarket(t, quote(99, 5, 101, 5, 100n), []);
    stepMarket(t, quote(99, 5, 101, 5, 50n), []);
    expect(t.nowNs).toBe(100n);
  });

  it('jitter adds 0 to jitterNs inclusive, each value reached', () => {
    const s = venue({ latency: { jitterNs: 3 } });
    feed(s, snapshot([[90, 5]], [[110, 5]]));
    const delays = new Set<bigint>();
    for (let i = 0; i < 60; i++) {
      const sent = BigInt(i * 100);
      const r = send(s, submit({ orderId: `o${i}`, priceTicks: 95 }), sent);
      const all = [...r, ...feedAt(s, sent + 50n)];
      const ack = all.find((x) => x.type === 'OrderAccepted' && x.data.orderId === `o${i}`)!;
      delays.add(ack.eventTimeNs - sent);
    }
    expect([...delays].sort()).toEqual([0n, 1n, 2n, 3n]);
  });
});

function feedAt(s: SimVenueState, nowNs: bigint): VenueReport[] {
  const out: VenueReport[] = [];
  step(s, { kind: 'advance', nowNs }, out);
  return out;
}
