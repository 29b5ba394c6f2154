/**
 * Kalshi market data → catalogue events, from Kalshi's own doc examples (test/fixtures/datasets/venues/kalshi/
 * examples.json): the snapshot's two bid ladders become one YES book (asks = 1 − NO bids), deltas give the
 * level's new total, a sequence gap stops the subscription's books until a fresh snapshot, trades keep their
 * id; the REST book (bids only) and the legacy cents forms too. Also the wire helpers: dollar and count strings,
 * client order ids that decode back to the intent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { KalshiParser } from '../../../src/venues/kalshi/parse.js';
import {
  countToLots, dollarsToTicks, kalshiClientOrderId, lotsToCount, orderIdFromKalshiClientId, ticksToDollars,
} from '../../../src/venues/kalshi/wire.js';
import { datasetsDir } from '../../helpers/tmp.js';

const examples = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'venues/kalshi/examples.json'), 'utf8')) as { ws: Record<string, Array<{ payload: unknown }>> };
const ctx = (line: number) => ({ file: 'examples.json', line, receiveTimeNs: 5_000_000_000n });
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const data = (e: AnyEnvelope) => e.data as Record<string, unknown>;

const snapshot = examples.ws.orderbook_snapshot![0]!.payload as { sid: number; seq: number; msg: Record<string, unknown> };
const delta = (seq: number, price: string, d: string, side: 'yes' | 'no', sid = snapshot.sid) => ({
  type: 'orderbook_delta', sid, seq, msg: { ...(examples.ws.orderbook_delta![0]!.payload as { msg: object }).msg, market_ticker: 'FED-23DEC-T3.00', price_dollars: price, delta_fp: d, side },
});

describe('Kalshi market data parser', () => {
  it('a snapshot is one YES book: bids = YES bids, asks = 1 − NO bids (best first), with the instrument defined', () => {
    const p = new KalshiParser();
    const held = p.parseFrame(bytes(snapshot), ctx(1));
    // No venue time in a snapshot at the start of a stream: it waits for the first one.
    expect(held).toEqual([]);
    const evs = p.parseFrame(bytes(delta(3, '0.2200', '-33.00', 'yes')), ctx(2));
    expect(evs.map((e) => e.type)).toEqual(['InstrumentDefined', 'BookSnapshotted', 'BookDeltaApplied']);
    expect(data(evs[0]!)).toMatchObject({ venue: 'KALSHI', instrument: 'KALSHI:FED-23DEC-T3.00', kind: 'prediction', priceScale: 2, qtyScale: 2, tickSizeTicks: 1, lotSizeLots: 100 });
    expect(data(evs[1]!)).toMatchObject({ bids: [[22, 33300], [8, 30000]], asks: [[44, 14600], [46, 2000]] });
    expect(evs[1]!.eventTimeNs).toBe(1669149841000n * 1_000_000n);
    // The delta gives the level's new total: 333 − 33 = 300 contracts.
    expect(data(evs[2]!)).toMatchObject({ changes: [{ side: 'buy', priceTicks: 22, qtyLots: 30000 }], sequence: 3 });
    expect(p.book('FED-23DEC-T3.00')).toEqual({ bids: [[22, 30000], [8, 30000]], asks: [[44, 14600], [46, 2000]] });
    // A NO delta moves the YES ask at 1 − price; removing a level whole says qty 0.
    const no = p.parseFrame(bytes(delta(4, '0.5600', '-146.00', 'no')), ctx(3));
    expect(data(no[0]!)).toMatchObject({ changes: [{ side: 'sell', priceTicks: 44, qtyLots: 0 }] });
    expect(p.book('FED-23DEC-T3.00')!.asks).toEqual([[46, 2000]]);
  });

  it('a sequence gap stops the subscription\'s books and is reported for a resubscribe; a new snapshot rebuilds', () => {
    const p = new KalshiParser();
    p.parseFrame(bytes(snapshot), ctx(1));
    p.parseFrame(bytes(delta(3, '0.0800', '10.00', 'yes')), ctx(2));
    expect(p.takeGaps()).toEqual([]);
    // seq 4 is lost: 5 arrives.
    expect(p.parseFrame(bytes(delta(5, '0.0800', '10.00', 'yes')), ctx(3))).toEqual([]);
    expect(p.takeGaps()).toEqual([{ sid: 2, expectedSeq: 4, gotSeq: 5, tickers: ['FED-23DEC-T3.00'] }]);
    expect(p.book('FED-23DEC-T3.00')).toBeNull();
    // Later deltas of that subscription are not applied, even in sequence.
    expect(p.parseFrame(bytes(delta(6, '0.0800', '10.00', 'yes')), ctx(4))).toEqual([]);
    p.dropSid(2);
    // The resubscription's snapshot (a new sid) rebuilds the book; its deltas apply again.
    const fresh = p.parseFrame(bytes({ ...snapshot, sid: 9, seq: 1 }), ctx(5));
    expect(fresh.map((e) => e.type)).toEqual(['BookSnapshotted']);
    expect(data(fresh[0]!)).toMatchObject({ bids: [[22, 33300], [8, 30000]] });
    expect(p.parseFrame(bytes(delta(2, '0.0800', '5.00', 'yes', 9)), ctx(6)).map((e) => e.type)).toEqual(['BookDeltaApplied']);
    expect(p.book('FED-23DEC-T3.00')!.bids).toEqual([[22, 33300], [8, 30500]]);
    expect(p.frameCounts.get('gap')).toBe(1);
  });

  it('a delta removing more than a level holds means the book is wrong: treated as a gap', () => {
    const p = new KalshiParser();
    p.parseFrame(bytes(snapshot), ctx(1));
    expect(p.parseFrame(bytes(delta(3, '0.9600', '-54.00', 'yes')), ctx(2))).toEqual([]);
    expect(p.takeGaps()).toHaveLength(1);
  });

  it('a trade keeps its id, YES price and taker side; the doc\'s 3-decimal prices parse exactly', () => {
    const p = new KalshiParser();
    const evs = p.parseFrame(bytes(examples.ws.trade![0]!.payload), ctx(1));
    const t = evs.find((e) => e.type === 'TradeReported')!;
    expect(data(t)).toMatchObject({ instrument: 'KALSHI:HIGHNY-22DEC23-B53.5', tradeId: 'd91bc706-ee49-470d-82d8-11418bda6fed', priceTicks: 36, qtyLots: 13600, aggressor: 'sell' });
    expect(t.eventTimeNs).toBe(1669149841000n * 1_000_000n);
    // Same trade again: same event id.
    expect(new KalshiParser().parseFrame(bytes(examples.ws.trade![0]!.payload), ctx(1)).find((e) => e.type === 'TradeReported')!.id).toBe(t.id);
  });

  it('the REST book is bids only: YES ask = 1 − best NO bid; legacy cents and whole counts parse too', () => {
    const p = new KalshiParser();
    const rest = p.parseHttp('http://x/trade-api/v2/markets/KX-1/orderbook', bytes({ orderbook_fp: { yes_dollars: [['0.4100', '5.00'], ['0.4200', '7.00']], no_dollars: [['0.5500', '3.00']] } }), ctx(1));
    const snap = rest.find((e) => e.type === 'BookSnapshotted')!;
    expect(data(snap)).toMatchObject({ instrument: 'KALSHI:KX-1', bids: [[42, 700], [41, 500]], asks: [[45, 300]] });
    const legacy = new KalshiParser();
    legacy.parseFrame(bytes({ type: 'orderbook_snapshot', sid: 1, seq: 1, msg: { market_ticker: 'KX-2', yes: [[30, 10]], no: [[60, 4]] } }), ctx(1));
    const d = legacy.parseFrame(bytes({ type: 'orderbook_delta', sid: 1, seq: 2, msg: { market_ticker: 'KX-2', price: 30, delta: -4, side: 'yes', ts_ms: 1_700_000_000_000 } }), ctx(2));
    expect(legacy.book('KX-2')).toEqual({ bids: [[30, 600]], asks: [[40, 400]] });
    expect(d.some((e) => e.type === 'BookDeltaApplied')).toBe(true);
  });

  it('takes finer scales to share another venue\'s (price 4, qty 6 decimals): a cent is 100 ticks, a contract 10^6 lots', () => {
    const p = new KalshiParser({ priceScale: 4, qtyScale: 6 });
    p.parseFrame(bytes(snapshot), ctx(1));
    const evs = p.parseFrame(bytes(delta(3, '0.2200', '-33.00', 'yes')), ctx(2));
    expect(data(evs[0]!)).toMatchObject({ priceScale: 4, qtyScale: 6, tickSizeTicks: 100, lotSizeLots: 1_000_000 });
    expect(data(evs[1]!)).toMatchObject({ bids: [[2200, 333_000_000], [800, 300_000_000]], asks: [[4400, 146_000_000], [4600, 20_000_000]] });
    expect(data(evs[2]!)).toMatchObject({ changes: [{ side: 'buy', priceTicks: 2200, qtyLots: 300_000_000 }] });
    expect(lotsToCount(3_000_000, 6)).toBe('3.00');
    expect(() => lotsToCount(3_000_001, 6)).toThrow();
  });

  it('names the frame and field of a bad price; other channels are counted, not parsed', () => {
    const p = new KalshiParser();
    p.parseFrame(bytes(snapshot), ctx(1));
    try {
      p.parseFrame(bytes(delta(3, '0.2250', '1.00', 'yes')), ctx(7));
      expect.unreachable();
    } catch (e) {
      expect(isTapedeckError(e) && e.where).toMatchObject({ file: 'examples.json', line: 7, field: 'msg.price_dollars' });
    }
    for (const k of ['fill', 'user_order', 'ticker', 'subscribed', 'error']) for (const ex of examples.ws[k]!) expect(p.parseFrame(bytes(ex.payload), ctx(1))).toEqual([]);
    expect(p.parseFrame(new TextEncoder().encode('heartbeat'), ctx(1))).toEqual([]);
  });
});

describe('Kalshi wire numbers and ids', () => {
  it('parses dollars and counts exactly and writes them as requests take them', () => {
    expect(dollarsToTicks('0.5600', 2, 'p')).toBe(56);
    expect(dollarsToTicks('0.560000', 2, 'p')).toBe(56);
    expect(dollarsToTicks('0.565', 3, 'p')).toBe(565);
    expect(() => dollarsToTicks('0.565', 2, 'p')).toThrow(/more than 2 decimal places/);
    expect(() => dollarsToTicks('1.01', 2, 'p')).toThrow(/between 0 and 1/);
    expect(countToLots('-54.00', 'c')).toBe(-5400);
    expect(countToLots('10', 'c')).toBe(1000);
    expect(lotsToCount(1000)).toBe('10.00');
    expect(ticksToDollars(56, 2)).toBe('0.5600');
    expect(ticksToDollars(565, 3)).toBe('0.5650');
  });

  it('derives the client order id from the intent id and decodes it back, amends included', () => {
    const id = '0f0e0d0c-0b0a-4909-8807-060504030201';
    const first = kalshiClientOrderId(id);
    const amended = kalshiClientOrderId(id, 3);
    expect(first).not.toBe(amended);
    expect(orderIdFromKalshiClientId(first)).toEqual({ orderId: id, amends: 0 });
    expect(orderIdFromKalshiClientId(amended)).toEqual({ orderId: id, amends: 3 });
    expect(orderIdFromKalshiClientId('my-order-1')).toBeNull();
  });
});
