import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../domain/core/canonical.js';
import { TapedeckError } from '../../domain/core/errors.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { applyMarketEvent, initialMarketState } from '../../domain/market/book.js';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { evolve as evolveOrders, initialState as initialOrders, type OrdersState } from '../../domain/orders/lifecycle.js';
import {
  advance, decide as decideSim, evolve as evolveSim, initialState, liveOrders, nextDueNs, simulatedVenue, step, type SimInput, type SimVenueState, type VenueReport,
} from '../../domain/venue/simulated.js';
import { DeciderSpecification } from '../helpers/decider.js';
import { at, delta, INSTR, intended, quote, snapshot, trade, VENUE } from './builders.js';
import { venue, feed, send, submit } from './sim-venue.js';

const types = (r: VenueReport[]): string[] => r.map((x) => x.type);
const fills = (r: VenueReport[]) => r.flatMap((x) => (x.type === 'OrderFilled' ? [x.data] : []));

function l3(type: 'BookOrderAdded', ref: string, side: 'buy' | 'sell', price: number, qty: number, t?: bigint): TimedEvent;
function l3(type: 'BookOrderExecuted' | 'BookOrderCanceled', ref: string, lots: number, t?: bigint): TimedEvent;
function l3(type: string, ref: string, a: unknown, b?: unknown, c?: unknown, t = 0n): TimedEvent {
  const base = { venue: VENUE, instrument: INSTR, orderRef: ref, priceScale: 2, qtyScale: 0 };
  if (type === 'BookOrderAdded') return at('BookOrderAdded', { ...base, side: a as 'buy', priceTicks: b as number, qtyLots: c as number }, t);
  if (type === 'BookOrderExecuted') return at('BookOrderExecuted', { ...base, executedLots: a as number, matchNumber: `m-${ref}-${a}` }, (b as bigint | undefined) ?? t);
  return at('BookOrderCanceled', { ...base, canceledLots: a as number }, (b as bigint | undefined) ?? t);
}

describe('simulated venue: latency in event time', () => {
  it('an order arrives after the submit latency; its ack reaches the kernel after the ack latency', () => {
    const s = venue({ latency: { submitNs: 100, ackNs: 50 } });
    feed(s, snapshot([[99, 5]], [[101, 5]]));
    expect(send(s, submit(), 10n)).toEqual([]);
    expect(nextDueNs(s)).toBe(110n);
    expect(advance(s, 109n)).toEqual([]);
    expect(liveOrders(s)).toEqual([]);
    expect(advance(s, 110n)).toEqual([]);
    expect(liveOrders(s).map((o) => o.orderId)).toEqual(['o1']);
    expect(nextDueNs(s)).toBe(160n);
    const r = advance(s, 160n);
    expect(r).toMatchObject([{ type: 'OrderAccepted', eventTimeNs: 110n, receiveTimeNs: 160n, data: { orderId: 'o1', venueOrderId: 'SIM-1' } }]);
    expect(nextDueNs(s)).toBeNull();
  });

  it('market data before the arrival is matched against the book the order finds on arrival', () => {
    const s = venue({ latency: { submitNs: 100 } });
    feed(s, snapshot([[99, 5]], [[101, 5]], 0n));
    send(s, submit({ orderType: 'market', priceTicks: null, qtyLots: 2, timeInForce: 'IOC' }), 0n);
    // The ask moves before the order lands: it fills at 103, not 101.
    const r = feed(s, snapshot([[99, 5]], [[103, 5]], 50n), quote(99, 5, 103, 5, 150n));
    expect(fills(r)).toMatchObject([{ priceTicks: 103, qtyLots: 2, liquidity: 'taker' }]);
    expect(r[0]!.eventTimeNs).toBe(100n);
  });

  it('a cancel uses the cancel latency and can overtake nothing sent before it (FIFO)', () => {
    const s = venue({ latency: { submitNs: 100, cancelNs: 10 } });
    feed(s, snapshot([[99, 5]], [[101, 5]]));
    send(s, submit(), 0n);
    send(s, { kind: 'CancelOrder', orderId: 'o1', venue: VENUE, instrument: INSTR }, 1n);
    const r = advance(s, 200n);
    expect(types(r)).toEqual(['OrderAccepted', 'OrderCanceled']);
    expect(r[1]!.eventTimeNs).toBe(100n);
  });

  it('jitter comes from the seeded PRNG in state: same seed, same run', () => {
    const run = (seed: number) => {
      const s = venue({ latency: { submitNs: 100, ackNs: 100, jitterNs: 1000 }, seed });
      feed(s, snapshot([[99, 5]], [[101, 5]]));
      const out: VenueReport[] = [];
      for (let i = 0; i < 5; i++) out.push(...send(s, submit({ orderId: `o${i}`, priceTicks: 98 }), BigInt(i * 10)));
      out.push(...advance(s, 100_000n));
      return { reports: canonicalJson(out), state: canonicalJson(s) };
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7).reports).not.toBe(run(8).reports);
  });
});

describe('simulated venue as a decider: Given (what it was told) / When (a moment) / Then (what it sent by then)', () => {
  const sim = (cfg: Record<string, unknown> = {}) => DeciderSpecification.for(simulatedVenue({ venue: VENUE, ...cfg }));
  const market = (event: TimedEvent): SimInput => ({ kind: 'market', event });
  const sent = (command: VenueCommand, sentNs = 0n): SimInput => ({ kind: 'command', command, sentNs });
  const book = market(snapshot([[99, 5]], [[101, 5]]));

  it('an order arrives after the submit latency; its ack reaches the kernel after the ack latency', () => {
    const v = sim({ latency: { submitNs: 100, ackNs: 50 } });
    const told = [book, sent(submit(), 10n)];
    v.given(told).thenState((s) => expect(nextDueNs(s)).toBe(110n));
    v.given(told).when({ nowNs: 109n }).then((out, s) => {
      expect(out).toEqual([]);
      expect(liveOrders(s)).toEqual([]);
    });
    v.given(told).when({ nowNs: 110n }).then((out, s) => {
      expect(out).toEqual([]);
      expect(liveOrders(s).map((o) => o.orderId)).toEqual(['o1']);
      expect(nextDueNs(s)).toBe(160n);
    });
    v.given(told).when({ nowNs: 160n }).then((out, s) => {
      expect(out).toMatchObject([{ type: 'OrderAccepted', eventTimeNs: 110n, receiveTimeNs: 160n, data: { orderId: 'o1', venueOrderId: 'SIM-1' } }]);
      expect(nextDueNs(s)).toBeNull();
    });
  });

  it('market data before the arrival is matched against the book the order finds on arrival', () => {
    sim({ latency: { submitNs: 100 } })
      .given([market(snapshot([[99, 5]], [[101, 5]], 0n)), sent(submit({ orderType: 'market', priceTicks: null, qtyLots: 2, timeInForce: 'IOC' })), market(snapshot([[99, 5]], [[103, 5]], 50n))])
      .when({ nowNs: 150n })
      .then((out) => {
        // The ask moved before the order landed: it fills at 103, not 101, at the arrival time.
        expect(fills([...out])).toMatchObject([{ priceTicks: 103, qtyLots: 2, liquidity: 'taker' }]);
        expect(out.find((r) => r.type === 'OrderFilled')!.eventTimeNs).toBe(100n);
      });
  });

  it('a cancel uses the cancel latency and can overtake nothing sent before it (FIFO)', () => {
    sim({ latency: { submitNs: 100, cancelNs: 10 } })
      .given([book, sent(submit(), 0n), sent({ kind: 'CancelOrder', orderId: 'o1', venue: VENUE, instrument: INSTR }, 1n)])
      .when({ nowNs: 200n })
      .then((out) => {
        expect(types([...out])).toEqual(['OrderAccepted', 'OrderCanceled']);
        expect(out[1]!.eventTimeNs).toBe(100n);
      });
  });

  it('a market order walks the book, with taker fees in bps (rounded up)', () => {
    sim({ fees: { takerBps: 5, makerBps: '-0.5', feeCurrency: 'USD', feeScale: 8 } })
      .given([market(snapshot([[99, 5]], [[101, 3], [102, 4], [103, 10]])), sent(submit({ orderType: 'market', priceTicks: null, qtyLots: 8, timeInForce: 'IOC' }))])
      .when({ nowNs: 0n })
      .then((out) => {
        expect(types([...out])).toEqual(['OrderAccepted', 'OrderFilled', 'OrderFilled', 'OrderFilled']);
        expect(fills([...out]).map((f) => [f.priceTicks, f.qtyLots, f.leavesLots, f.fee])).toEqual([[101, 3, 5, 151_500n], [102, 4, 1, 204_000n], [103, 1, 0, 51_500n]]);
      });
  });

  it('a cancel or replace for an unknown order is refused, not invented', () => {
    sim().given([book, sent({ kind: 'CancelOrder', orderId: 'zz', venue: VENUE, instrument: INSTR })]).when({ nowNs: 0n })
      .then((out) => expect(out).toMatchObject([{ type: 'CancelRejected', data: { orderId: 'zz' } }]));
    sim().given([book, sent({ kind: 'ReplaceOrder', orderId: 'zz', venue: VENUE, instrument: INSTR, priceTicks: 100, qtyLots: 1 })]).when({ nowNs: 0n })
      .then((out) => expect(types([...out])).toEqual(['ReplaceRejected']));
  });

  it('step is evolve then decide at the venue clock: the same reports, the same state', () => {
    const inputs: SimInput[] = [book, sent(submit({ qtyLots: 3 }), 5n), market(trade(100, 4, 'sell', 20n)), market(trade(99, 4, 'sell', 30n)), { kind: 'advance', nowNs: 1_000n }];
    const a = venue({ latency: { submitNs: 7, ackNs: 3 } });
    const b = venue({ latency: { submitNs: 7, ackNs: 3 } });
    const viaStep: VenueReport[] = [];
    const viaDecider: VenueReport[] = [];
    for (const i of inputs) {
      step(a, i, viaStep);
      evolveSim(b, i);
      viaDecider.push(...decideSim(b, { nowNs: b.nowNs }));
    }
    expect(viaStep.length).toBeGreaterThan(1);
    expect(canonicalJson(viaDecider)).toBe(canonicalJson(viaStep));
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });
});

describe('simulated venue: a book shared with the kernel', () => {
  it('gives the same reports as a private book, and keeps the shared book as the kernel would', () => {
    const events = [snapshot([[100, 5], [99, 3]], [[102, 5]], 1n), trade(100, 2, 'sell', 2n), delta([['sell', 101, 2]], 3n), trade(99, 4, 'sell', 4n)];
    const run = (shared: boolean) => {
      const market = initialMarketState();
      const s = shared ? initialState({ venue: VENUE }, { market }) : venue();
      const out: VenueReport[] = [];
      out.push(...send(s, submit({ qtyLots: 8 }), 0n));
      for (const e of events) out.push(...feed(s, e));
      out.push(...send(s, submit({ orderId: 'o2', side: 'sell', priceTicks: 99, qtyLots: 4, timeInForce: 'IOC' }), 5n));
      return { reports: canonicalJson(out), book: canonicalJson(shared ? market : s.market) };
    };
    const reference = initialMarketState();
    for (const e of [snapshot([[100, 5], [99, 3]], [[102, 5]], 1n), trade(100, 2, 'sell', 2n), delta([['sell', 101, 2]], 3n), trade(99, 4, 'sell', 4n)]) applyMarketEvent(reference, e);
    expect(run(true)).toEqual(run(false));
    expect(run(true).book).toBe(canonicalJson(reference));
  });
});

describe('simulated venue: taking liquidity', () => {
  it('a market order walks the book, with taker fees in bps (rounded up)', () => {
    const s = venue({ fees: { takerBps: 5, makerBps: '-0.5', feeCurrency: 'USD', feeScale: 8 } });
    feed(s, snapshot([[99, 5]], [[101, 3], [102, 4], [103, 10]]));
    const r = send(s, submit({ orderType: 'market', priceTicks: null, qtyLots: 8, timeInForce: 'IOC' }));
    expect(types(r)).toEqual(['OrderAccepted', 'OrderFilled', 'OrderFilled', 'OrderFilled']);
    expect(fills(r).map((f) => [f.priceTicks, f.qtyLots, f.leavesLots, f.fee])).toEqual([
      [101, 3, 5, 151_500n], [102, 4, 1, 204_000n], [103, 1, 0, 51_500n],
    ]);
    expect(new Set(fills(r).map((f) => f.fillId)).size).toBe(3);
  });

  it('per-lot (per-share) fees and maker rebates, per instrument over the venue default', () => {
    const s = venue({ fees: { takerBps: 5 }, instruments: { [INSTR]: { takerPerLot: '0.003', makerPerLot: '-0.002', takerBps: 0, feeCurrency: 'USD', feeScale: 4 } } });
    feed(s, snapshot([[99, 50]], [[101, 50]]));
    expect(fills(send(s, submit({ orderId: 'a', priceTicks: 101, qtyLots: 100, timeInForce: 'IOC' })))).toMatchObject([{ qtyLots: 50, fee: 1_500n, feeScale: 4, liquidity: 'taker' }]);
    send(s, submit({ orderId: 'b', side: 'sell', priceTicks: 102, qtyLots: 10 }));
    expect(fills(feed(s, trade(103, 10, 'buy')))).toMatchObject([{ orderId: 'b', qtyLots: 10, fee: -200n, liquidity: 'maker' }]);
  });

  it('the same displayed liquidity is never filled twice, until the feed refreshes the level', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 3]]));
    expect(fills(send(s, submit({ orderId: 'a', priceTicks: 101, qtyLots: 3, timeInForce: 'IOC' })))).toHaveLength(1);
    const second = send(s, submit({ orderId: 'b', priceTicks: 101, qtyLots: 3, timeInForce: 'IOC' }));
    expect(types(second)).toEqual(['OrderAccepted', 'OrderCanceled']);
    feed(s, delta([['sell', 101, 2]]));
    expect(fills(send(s, submit({ orderId: 'c', priceTicks: 101, qtyLots: 3, timeInForce: 'IOC' })))).toMatchObject([{ qtyLots: 2 }]);
  });

  it('a quote on a depth-fed book refreshes the touch only, not the deeper levels taken', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 2], [102, 2]]));
    expect(fills(send(s, submit({ orderId: 'a', priceTicks: 102, qtyLots: 4, timeInForce: 'IOC' })))).toHaveLength(2);
    feed(s, quote(99, 5, 101, 3));
    expect(fills(send(s, submit({ orderId: 'b', priceTicks: 102, qtyLots: 5, timeInForce: 'IOC' })))).toMatchObject([{ priceTicks: 101, qtyLots: 3 }]);
  });

  it('IOC cancels the remainder; FOK fills in full or not at all', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 3], [102, 3]]));
    const ioc = send(s, submit({ orderId: 'a', priceTicks: 101, qtyLots: 5, timeInForce: 'IOC' }));
    expect(ioc.at(-1)).toMatchObject({ type: 'OrderCanceled', data: { canceledLots: 2 } });
    const fok = send(s, submit({ orderId: 'b', priceTicks: 102, qtyLots: 4, timeInForce: 'FOK' }));
    expect(types(fok)).toEqual(['OrderAccepted', 'OrderCanceled']);
    const fok2 = send(s, submit({ orderId: 'c', priceTicks: 102, qtyLots: 3, timeInForce: 'FOK' }));
    expect(fills(fok2)).toMatchObject([{ qtyLots: 3, priceTicks: 102 }]);
  });

  it('a crossing GTC limit takes what crosses and rests the rest', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 3], [103, 3]]));
    const r = send(s, submit({ priceTicks: 102, qtyLots: 5 }));
    expect(fills(r)).toMatchObject([{ priceTicks: 101, qtyLots: 3, leavesLots: 2 }]);
    expect(liveOrders(s)[0]).toMatchObject({ filledLots: 3, resting: true, priceTicks: 102 });
  });
});

describe('simulated venue: config', () => {
  it('a bad config is a SIM_VENUE_CONFIG error naming the field', () => {
    for (const [raw, field] of [[{ venue: 'sim' }, 'venue'], [{ venue: VENUE, latency: { submitNs: -1 } }, 'latency.submitNs'], [{ venue: VENUE, fees: { takerBps: 'two' } }, 'fees.takerBps']] as const) {
      try {
        initialState(raw);
        throw new Error('no error');
      } catch (e) {
        expect((e as TapedeckError).code).toBe('SIM_VENUE_CONFIG');
        expect((e as TapedeckError).where?.field).toBe(field);
      }
    }
  });
});

describe('simulated venue: rejects', () => {
  it('post-only that would cross, bad tick or lot, unknown instrument, wrong venue', () => {
    const s = venue({ instruments: { [INSTR]: { tickSizeTicks: 5, lotSizeLots: 2 } } });
    feed(s, snapshot([[95, 5]], [[100, 5]]));
    const reasons = [
      submit({ orderId: 'a', priceTicks: 100, qtyLots: 2, postOnly: true }),
      submit({ orderId: 'b', priceTicks: 97, qtyLots: 2 }),
      submit({ orderId: 'c', priceTicks: 95, qtyLots: 3 }),
      submit({ orderId: 'd', instrument: 'SIM:NOPE', priceTicks: 95, qtyLots: 2 }),
      submit({ orderId: 'e', venue: 'OTHER', priceTicks: 95, qtyLots: 2 }),
      submit({ orderId: 'f', priceTicks: 95, qtyLots: 2, priceScale: 4 }),
    ].map((c) => {
      const r = send(s, c);
      expect(types(r)).toEqual(['OrderRejected']);
      return (r[0]!.data as { reason: string }).reason;
    });
    expect(reasons[0]).toMatch(/post-only/);
    expect(reasons[1]).toMatch(/tick size 5/);
    expect(reasons[2]).toMatch(/lot size 2/);
    expect(reasons[3]).toMatch(/unknown instrument/);
    expect(reasons[4]).toMatch(/venue OTHER/);
    expect(reasons[5]).toMatch(/scales/);
  });

  it('a cancel or replace for an unknown order is refused, not invented', () => {
    const s = venue();
    feed(s, snapshot([[99, 5]], [[101, 5]]));
    expect(types(send(s, { kind: 'CancelOrder', orderId: 'zz', venue: VENUE, instrument: INSTR }))).toEqual(['CancelRejected']);
    expect(types(send(s, { kind: 'ReplaceOrder', orderId: 'zz', venue: VENUE, instrument: INSTR, priceTicks: 100, qtyLots: 1 }))).toEqual(['ReplaceRejected']);
  });
});

describe('simulated venue: queue position on L2 (conservative)', () => {
  function resting(): SimVenueState {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[102, 5]]));
    send(s, submit({ qtyLots: 2 }));
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(5);
    return s;
  }

  it('trades at our price fill us only after the displayed queue ahead is gone', () => {
    const s = resting();
    expect(fills(feed(s, trade(100, 3, 'sell')))).toEqual([]);
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(2);
    expect(fills(feed(s, trade(100, 4, 'sell')))).toMatchObject([{ priceTicks: 100, qtyLots: 2, liquidity: 'maker', leavesLots: 0 }]);
  });

  it('merely touching our price is not a fill', () => {
    const s = resting();
    expect(feed(s, delta([['sell', 102, 0], ['sell', 100, 4]]), quote(100, 5, 100, 4))).toEqual([]);
  });

  it('a buy-aggressor trade does not fill a resting bid', () => {
    const s = resting();
    expect(feed(s, trade(100, 50, 'buy'))).toEqual([]);
  });

  it('a shrinking level can only shorten the queue to the new displayed size', () => {
    const s = resting();
    feed(s, delta([['buy', 100, 1]]));
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(1);
    feed(s, delta([['buy', 100, 9]]));
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(1);
    expect(fills(feed(s, trade(100, 2, 'sell')))).toMatchObject([{ qtyLots: 1 }]);
  });

  it('a trade through our price fills us at our price', () => {
    const s = resting();
    expect(fills(feed(s, trade(99, 1, 'sell')))).toMatchObject([{ priceTicks: 100, qtyLots: 1, liquidity: 'maker' }]);
  });

  it('an opposite book strictly through our price fills us from its displayed size (fillOnBookCross)', () => {
    const s = resting();
    expect(fills(feed(s, delta([['sell', 99, 1]])))).toMatchObject([{ priceTicks: 100, qtyLots: 1 }]);
    const off = venue({ fillOnBookCross: false });
    feed(off, snapshot([[100, 5]], [[102, 5]]));
    send(off, submit({ qtyLots: 2 }));
    expect(feed(off, delta([['sell', 99, 1]]))).toEqual([]);
  });

  it('one trade is never given to our orders twice', () => {
    const s = venue();
    feed(s, snapshot([[100, 0]], [[102, 5]]));
    send(s, submit({ orderId: 'a', priceTicks: 101, qtyLots: 3 }));
    send(s, submit({ orderId: 'b', priceTicks: 100, qtyLots: 3 }));
    const f = fills(feed(s, trade(99, 4, 'sell')));
    expect(f.map((x) => [x.orderId, x.qtyLots])).toEqual([['a', 3], ['b', 1]]);
  });
});

describe('simulated venue: queue position on L3 (exact FIFO)', () => {
  it('executions and cancels ahead shrink the queue; an execution behind us fills us', () => {
    const s = venue();
    feed(s, l3('BookOrderAdded', 'A', 'buy', 100, 3), l3('BookOrderAdded', 'B', 'buy', 100, 2), l3('BookOrderAdded', 'X', 'sell', 105, 9));
    send(s, submit({ qtyLots: 4 }));
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(5);
    expect(feed(s, l3('BookOrderExecuted', 'A', 3))).toEqual([]);
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(2);
    feed(s, l3('BookOrderAdded', 'C', 'buy', 100, 5));
    expect(feed(s, l3('BookOrderCanceled', 'B', 2))).toEqual([]);
    expect(liveOrders(s)[0]!.queueAheadLots).toBe(0);
    expect(fills(feed(s, l3('BookOrderExecuted', 'C', 3)))).toMatchObject([{ qtyLots: 3, priceTicks: 100, leavesLots: 1 }]);
    // Trade prints on an L3 feed do not count twice.
    expect(feed(s, trade(100, 5, 'sell'))).toEqual([]);
  });
});

describe('simulated venue: replace, cancel, expiry', () => {
  it('a smaller size keeps priority; a new price loses it', () => {
    const s = venue();
    feed(s, snapshot([[100, 5], [99, 7]], [[102, 5]]));
    send(s, submit({ qtyLots: 4 }));
    feed(s, trade(100, 3, 'sell'));
    expect(types(send(s, { kind: 'ReplaceOrder', orderId: 'o1', venue: VENUE, instrument: INSTR, priceTicks: 100, qtyLots: 3 }))).toEqual(['OrderReplaced']);
    expect(liveOrders(s)[0]).toMatchObject({ totalLots: 3, queueAheadLots: 2 });
    send(s, { kind: 'ReplaceOrder', orderId: 'o1', venue: VENUE, instrument: INSTR, priceTicks: 99, qtyLots: 3 });
    expect(liveOrders(s)[0]).toMatchObject({ priceTicks: 99, queueAheadLots: 7 });
  });

  it('a replace to a crossing price takes liquidity', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[102, 5]]));
    send(s, submit({ qtyLots: 4 }));
    const r = send(s, { kind: 'ReplaceOrder', orderId: 'o1', venue: VENUE, instrument: INSTR, priceTicks: 102, qtyLots: 4 });
    expect(types(r)).toEqual(['OrderReplaced', 'OrderFilled']);
  });

  it('DAY orders expire at the configured end of day, on the virtual clock', () => {
    const s = venue();
    feed(s, snapshot([[100, 5]], [[102, 5]], 1_000n));
    send(s, submit({ timeInForce: 'DAY' }), 1_000n);
    expect(nextDueNs(s)).toBe(86_400_000_000_000n);
    expect(advance(s, 86_400_000_000_000n)).toMatchObject([{ type: 'OrderExpired', eventTimeNs: 86_400_000_000_000n }]);
    expect(liveOrders(s)).toEqual([]);
  });
});

// ---------- properties ----------

const PRICES = [96, 97, 98, 99, 100, 101, 102, 103, 104];

type Action =
  | { k: 'book'; side: 'buy' | 'sell'; price: number; qty: number }
  | { k: 'snap'; mid: number; qtys: number[] }
  | { k: 'order'; side: 'buy' | 'sell'; price: number | null; qty: number; tif: 'GTC' | 'IOC' | 'FOK' }
  | { k: 'trade'; price: number; qty: number; aggressor: 'buy' | 'sell' | 'unknown' }
  | { k: 'cancel'; pick: number }
  | { k: 'replace'; pick: number; price: number; qty: number }
  | { k: 'wait'; dt: number };

const actionArb = (withTrades: boolean, withCancels: boolean): fc.Arbitrary<Action> => {
  const arbs: Array<fc.Arbitrary<Action>> = [
    fc.record({ k: fc.constant('book' as const), side: fc.constantFrom('buy' as const, 'sell' as const), price: fc.constantFrom(...PRICES), qty: fc.integer({ min: 0, max: 8 }) }),
    fc.record({ k: fc.constant('snap' as const), mid: fc.integer({ min: 98, max: 102 }), qtys: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 6, maxLength: 6 }) }),
    fc.record({
      k: fc.constant('order' as const), side: fc.constantFrom('buy' as const, 'sell' as const),
      price: fc.option(fc.constantFrom(...PRICES), { freq: 5 }) as fc.Arbitrary<number | null>, qty: fc.integer({ min: 1, max: 10 }), tif: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const),
    }),
    fc.record({ k: fc.constant('wait' as const), dt: fc.integer({ min: 1, max: 300 }) }),
  ];
  if (withTrades) arbs.push(fc.record({ k: fc.constant('trade' as const), price: fc.constantFrom(...PRICES), qty: fc.integer({ min: 1, max: 8 }), aggressor: fc.constantFrom('buy' as const, 'sell' as const, 'unknown' as const) }));
  if (withCancels) {
    arbs.push(fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }));
    arbs.push(fc.record({ k: fc.constant('replace' as const), pick: fc.nat(), price: fc.constantFrom(...PRICES), qty: fc.integer({ min: 1, max: 12 }) }));
  }
  return fc.oneof(...arbs);
};

function snapEvent(mid: number, qtys: number[], t: bigint): TimedEvent {
  return snapshot(
    [[mid - 1, qtys[0]!], [mid - 2, qtys[1]!], [mid - 3, qtys[2]!]],
    [[mid + 1, qtys[3]!], [mid + 2, qtys[4]!], [mid + 3, qtys[5]!]], t,
  );
}

describe('simulated venue: properties', () => {
  it('never fills beyond displayed liquidity, never worse than the limit, never the same liquidity twice', () => {
    fc.assert(fc.property(fc.array(actionArb(true, false), { maxLength: 80, size: 'medium' }), fc.boolean(), (actions, latency) => {
      // Ack latency 0: reports come out when they happen, so the mirror below is the book they saw.
      const s = venue({ fillOnBookCross: false, latency: latency ? { submitNs: 50 } : undefined });
      // Mirror of the displayed book and of what was taken from each level since its last update.
      const shown = new Map<string, number>();
      const taken = new Map<string, number>();
      const limits = new Map<string, { side: 'buy' | 'sell'; price: number | null }>();
      const tradeQty = new Map<bigint, number>();
      let t = 1n;
      let n = 0;
      const out: VenueReport[] = [];
      const check = (reports: VenueReport[]): void => {
        for (const r of reports) {
          if (r.type !== 'OrderFilled') continue;
          const f = r.data;
          const lim = limits.get(f.orderId)!;
          if (lim.price !== null) {
            if (f.side === 'buy') expect(f.priceTicks).toBeLessThanOrEqual(lim.price);
            else expect(f.priceTicks).toBeGreaterThanOrEqual(lim.price);
          }
          if (f.liquidity === 'taker') {
            const key = `${f.side === 'buy' ? 'sell' : 'buy'}:${f.priceTicks}`;
            const used = (taken.get(key) ?? 0) + f.qtyLots;
            taken.set(key, used);
            expect(used).toBeLessThanOrEqual(shown.get(key) ?? 0);
          } else {
            // Maker fills come only from trades, at most the trade's size in total.
            const left = (tradeQty.get(r.eventTimeNs) ?? 0) - f.qtyLots;
            expect(left).toBeGreaterThanOrEqual(0);
            tradeQty.set(r.eventTimeNs, left);
            expect(f.priceTicks).toBe(lim.price);
          }
        }
      };
      for (const a of actions) {
        out.length = 0;
        t += 1n;
        // Due actions run first, against the book as it is before this input.
        step(s, { kind: 'advance', nowNs: t }, out);
        check(out);
        out.length = 0;
        switch (a.k) {
          case 'book':
            step(s, { kind: 'market', event: delta([[a.side, a.price, a.qty]], t) }, out);
            shown.set(`${a.side}:${a.price}`, a.qty);
            taken.delete(`${a.side}:${a.price}`);
            break;
          case 'snap': {
            const ev = snapEvent(a.mid, a.qtys, t);
            step(s, { kind: 'market', event: ev }, out);
            shown.clear();
            taken.clear();
            const d = ev.data as { bids: Array<[number, number]>; asks: Array<[number, number]> };
            for (const [p, q] of d.bids) shown.set(`buy:${p}`, q);
            for (const [p, q] of d.asks) shown.set(`sell:${p}`, q);
            break;
          }
          case 'trade':
            tradeQty.set(t, a.qty);
            step(s, { kind: 'market', event: trade(a.price, a.qty, a.aggressor, t) }, out);
            break;
          case 'order': {
            const id = `o${n++}`;
            limits.set(id, { side: a.side, price: a.price });
            step(s, { kind: 'command', sentNs: t, command: submit({ orderId: id, side: a.side, orderType: a.price === null ? 'market' : 'limit', priceTicks: a.price, qtyLots: a.qty, timeInForce: a.price === null ? 'IOC' : a.tif }) }, out);
            break;
          }
          case 'wait':
            t += BigInt(a.dt);
            step(s, { kind: 'advance', nowNs: t }, out);
            break;
          default:
            break;
        }
        check(out);
      }
    }), { numRuns: 250 });
  });

  it('every report it sends is a valid lifecycle transition (venue and lifecycle agree)', () => {
    fc.assert(fc.property(fc.array(actionArb(true, true), { maxLength: 80, size: 'medium' }), fc.integer({ min: 0, max: 3 }), (actions, seed) => {
      const s = venue({ latency: { submitNs: 40, ackNs: 25, cancelNs: 10, jitterNs: 30 }, seed });
      const orders: OrdersState = initialOrders();
      const ids: string[] = [];
      let t = 1n;
      let n = 0;
      const out: VenueReport[] = [];
      const apply = (e: { type: string; data: unknown }): boolean => {
        const r = evolveOrders(orders, e);
        if (r instanceof TapedeckError) throw r;
        return true;
      };
      const tryRequest = (e: { type: string; data: unknown }): boolean => !(evolveOrders(orders, e) instanceof TapedeckError);
      for (const a of actions) {
        out.length = 0;
        t += 1n;
        switch (a.k) {
          case 'book': step(s, { kind: 'market', event: delta([[a.side, a.price, a.qty]], t) }, out); break;
          case 'snap': step(s, { kind: 'market', event: snapEvent(a.mid, a.qtys, t) }, out); break;
          case 'trade': step(s, { kind: 'market', event: trade(a.price, a.qty, a.aggressor, t) }, out); break;
          case 'wait': t += BigInt(a.dt); step(s, { kind: 'advance', nowNs: t }, out); break;
          case 'order': {
            const id = `o${n++}`;
            ids.push(id);
            const market = a.price === null;
            apply(intended(id, { side: a.side, orderType: market ? 'market' : 'limit', priceTicks: a.price, qtyLots: a.qty, timeInForce: market ? 'IOC' : a.tif }));
            apply(at('RiskApproved', { orderId: id, checks: [] }));
            apply(at('OrderSubmitted', { orderId: id, venue: VENUE, attempt: 1 }));
            step(s, { kind: 'command', sentNs: t, command: submit({ orderId: id, side: a.side, orderType: market ? 'market' : 'limit', priceTicks: a.price, qtyLots: a.qty, timeInForce: market ? 'IOC' : a.tif }) }, out);
            break;
          }
          case 'cancel': {
            if (ids.length === 0) break;
            const id = ids[a.pick % ids.length]!;
            if (tryRequest(at('CancelRequested', { orderId: id }))) step(s, { kind: 'command', sentNs: t, command: { kind: 'CancelOrder', orderId: id, venue: VENUE, instrument: INSTR } }, out);
            break;
          }
          case 'replace': {
            if (ids.length === 0) break;
            const id = ids[a.pick % ids.length]!;
            const o = orders.orders.get(id)!;
            const price = o.orderType === 'market' ? null : a.price;
            if (tryRequest(at('ReplaceRequested', { orderId: id, priceTicks: price, qtyLots: a.qty }))) {
              step(s, { kind: 'command', sentNs: t, command: { kind: 'ReplaceOrder', orderId: id, venue: VENUE, instrument: INSTR, priceTicks: price, qtyLots: a.qty } }, out);
            }
            break;
          }
        }
        let last = 0n;
        for (const r of out) {
          expect(r.receiveTimeNs).toBeGreaterThanOrEqual(last);
          expect(r.receiveTimeNs).toBeGreaterThanOrEqual(r.eventTimeNs);
          last = r.receiveTimeNs;
          apply(r);
        }
      }
      // Drain: everything in flight resolves, and the venue's live orders are exactly the lifecycle's working ones.
      out.length = 0;
      step(s, { kind: 'advance', nowNs: t + 10_000n }, out);
      for (const r of out) apply(r);
      expect(nextDueNs(s)).toBeNull();
      const working = [...orders.orders.values()].filter((o) => o.status === 'accepted' || o.status === 'partially-filled').map((o) => o.orderId).sort();
      expect(liveOrders(s).map((o) => o.orderId)).toEqual(working);
      for (const o of liveOrders(s)) expect(orders.orders.get(o.orderId)!.leavesLots).toBe(o.totalLots - o.filledLots);
    }), { numRuns: 250 });
  });
});
