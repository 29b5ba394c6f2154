/**
 * Polymarket WebSocket messages (test/fixtures/datasets/venues/polymarket/ws_messages.json: recorded
 * messages from nautilus_trader's test resources and doc examples, see PROVENANCE.md) → catalogue events
 * (market channel) and our orders and fills (user channel), with trades folded once by trade id.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { PolymarketParser } from '../../../src/venues/polymarket/parse.js';
import { PolymarketUserParser, foldTrade, initialTradeFold } from '../../../src/venues/polymarket/user.js';
import type { OurFill, PolymarketTrade, TradeFoldState, TradeStatus } from '../../../src/venues/polymarket/user.js';
import { repoRoot } from '../../helpers/tmp.js';

const W = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/datasets/venues/polymarket/ws_messages.json'), 'utf8'));
const M = W.market_channel;
const U = W.user_channel;
const ctx = (line = 1, receiveTimeNs = 5n * 10n ** 18n) => ({ file: 'ws_messages.json', line, receiveTimeNs });
const bytes = (m: unknown) => Buffer.from(typeof m === 'string' ? m : JSON.stringify(m));
const MS = 1_000_000n;

/** The recorded book with the fixture's placeholder rows ("*_ELIDED") dropped, as its note says. */
function recordedBook(): Record<string, unknown> {
  const msg = structuredClone(M.book_truncated.msg);
  for (const side of ['bids', 'asks']) msg[side] = msg[side].filter((l: { price: string }) => !l.price.includes('ELIDED'));
  return msg;
}

function only(events: AnyEnvelope[], type: string): AnyEnvelope[] {
  return events.filter((e) => e.type === type);
}

describe('Polymarket market channel → catalogue', () => {
  it('book: a snapshot sorted best first (the recording sends the best level last), at the message time, defining the token', () => {
    const out = new PolymarketParser().parseFrame(bytes(recordedBook()), ctx());
    expect(out.map((e) => e.type)).toEqual(['InstrumentDefined', 'BookSnapshotted']);
    const book = out[1]!.data as { instrument: string; bids: [number, number][]; asks: [number, number][]; priceScale: number; qtyScale: number };
    expect(book.instrument).toBe(`POLYMARKET:${M.book_truncated.msg.asset_id}`);
    expect(book.priceScale).toBe(4);
    expect(book.bids[0]).toEqual([5110, 1304_720000]);
    expect(book.asks[0]).toEqual([5140, 20230_870000]);
    expect(book.bids.at(-1)).toEqual([10, 9000023_580000]);
    expect(book.asks.at(-1)).toEqual([9990, 10500100_000000]);
    expect(out[1]!.eventTimeNs).toBe(1728799418260n * MS);
    expect(out[0]!.data).toMatchObject({ kind: 'prediction', quoteCurrency: 'USDC', tickSizeTicks: 1 });
  });

  it('book: the doc example (ascending asks, ".48" prices) gives the same ordering rules', () => {
    const out = new PolymarketParser().parseFrame(bytes(M.book_doc.msg), ctx());
    const book = only(out, 'BookSnapshotted')[0]!.data as { bids: [number, number][]; asks: [number, number][] };
    expect(book.bids).toEqual([[5000, 15_000000], [4900, 20_000000], [4800, 30_000000]]);
    expect(book.asks).toEqual([[5200, 25_000000], [5300, 60_000000], [5400, 10_000000]]);
  });

  it('refuses the placeholder rows of the truncated recording, naming the field', () => {
    try {
      new PolymarketParser().parseFrame(bytes(M.book_truncated.msg), ctx(7));
      expect.unreachable();
    } catch (e) {
      // Both sides hold a placeholder at index 2; the first one validated is named.
      expect(isTapedeckError(e) && e.where).toMatchObject({ file: 'ws_messages.json', line: 7, field: expect.stringMatching(/^(bids|asks)\.2\.price$/) });
    }
  });

  it('price_change (current schema): sizes are new level totals, BUY = bid; one delta per token', () => {
    const out = new PolymarketParser().parseFrame(bytes(M.price_change_v2.msg), ctx());
    const deltas = only(out, 'BookDeltaApplied');
    expect(deltas).toHaveLength(1);
    expect(deltas[0]!.data).toMatchObject({
      instrument: `POLYMARKET:${M.price_change_v2.msg.price_changes[0].asset_id}`,
      changes: [{ side: 'buy', priceTicks: 6000, qtyLots: 3300_000000 }, { side: 'buy', priceTicks: 5000, qtyLots: 3400_000000 }, { side: 'buy', priceTicks: 7000, qtyLots: 3400_000000 }],
    });
    expect(deltas[0]!.eventTimeNs).toBe(1729084877448n * MS);
    // Two tokens in one message: two deltas.
    const two = structuredClone(M.price_change_v2.msg);
    two.price_changes[2].asset_id = '77';
    two.price_changes[2].side = 'SELL';
    const split = only(new PolymarketParser().parseFrame(bytes(two), ctx()), 'BookDeltaApplied');
    expect(split.map((e) => (e.data as { instrument: string }).instrument)).toEqual([`POLYMARKET:${two.price_changes[0].asset_id}`, 'POLYMARKET:77']);
    expect((split[1]!.data as { changes: unknown[] }).changes).toEqual([{ side: 'sell', priceTicks: 7000, qtyLots: 3400_000000 }]);
  });

  it('price_change (legacy schema before 2025-09-15) still reads', () => {
    const out = only(new PolymarketParser().parseFrame(bytes(M.price_change_legacy_before_2025_09_15.msg), ctx()), 'BookDeltaApplied');
    expect(out[0]!.data).toMatchObject({ changes: [{ side: 'sell', priceTicks: 4000, qtyLots: 3300_000000 }] });
  });

  it('last_trade_price: a trade with its aggressor side; the same frame read twice gets the same id in a fresh parser', () => {
    const a = only(new PolymarketParser().parseFrame(bytes(M.last_trade_price.msg), ctx()), 'TradeReported');
    const b = only(new PolymarketParser().parseFrame(bytes(M.last_trade_price.msg), ctx(2, 9n)), 'TradeReported');
    expect(a[0]!.data).toMatchObject({ priceTicks: 4910, qtyLots: 85_360000, aggressor: 'sell' });
    expect(a[0]!.id).toBe(b[0]!.id);
    expect(a[0]!.eventTimeNs).toBe(b[0]!.eventTimeNs);
  });

  it('tick_size_change: the token is redefined with the new tick (0.001 = 10 ticks at scale 4)', () => {
    const p = new PolymarketParser();
    const out = p.parseFrame(bytes(M.tick_size_change.msg), ctx());
    expect(out.map((e) => e.type)).toEqual(['InstrumentDefined']);
    expect(out[0]!.data).toMatchObject({ tickSizeTicks: 10 });
    // The same tick again defines nothing; a change back does.
    expect(p.parseFrame(bytes(M.tick_size_change.msg), ctx())).toEqual([]);
    const back = { ...M.tick_size_change.msg, old_tick_size: '0.001', new_tick_size: '0.01' };
    expect(p.parseFrame(bytes(back), ctx())[0]!.data).toMatchObject({ tickSizeTicks: 100 });
    const zero = { ...M.tick_size_change.msg, new_tick_size: '0' };
    expect(() => p.parseFrame(bytes(zero), ctx())).toThrow(/new_tick_size "0" is not a positive tick/);
  });

  it('event time is venue time: receive times moved by an hour change no event time', () => {
    const frames = [recordedBook(), M.price_change_v2.msg, M.last_trade_price.msg, M.tick_size_change.msg];
    const run = (shift: bigint) => {
      const p = new PolymarketParser();
      return frames.flatMap((f, i) => p.parseFrame(bytes(f), ctx(i + 1, 10n ** 18n + shift + BigInt(i)))).map((e) => `${e.id}@${e.eventTimeNs}`);
    };
    expect(run(3_600n * 10n ** 9n)).toEqual(run(0n));
  });

  it('PONG and unknown event types are counted, not events; malformed JSON is refused with the place', () => {
    const p = new PolymarketParser();
    expect(p.parseFrame(bytes('PONG'), ctx())).toEqual([]);
    expect(p.parseFrame(bytes({ event_type: 'best_bid_ask' }), ctx())).toEqual([]);
    expect(p.frameCounts.get('best_bid_ask')).toBe(1);
    try {
      p.parseFrame(bytes('{"event_type":'), ctx(3));
      expect.unreachable();
    } catch (e) {
      expect(isTapedeckError(e) && e.code).toBe('FRAME_JSON');
    }
  });
});

const OUR_KEY_T1 = '3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe';
const OUR_KEY_T4 = 'a93a3d32-74fa-dd2b-4b67-98bfa6fc5cb5';

describe('Polymarket user channel: orders and our fills', () => {
  it('order PLACEMENT and CANCELLATION: hash, sizes, time (a cancel of a fully matched order keeps its matched size)', () => {
    const p = new PolymarketUserParser(OUR_KEY_T1);
    const placed = p.parseMessage(U.order_placement.msg, ctx());
    expect(placed).toMatchObject({
      kind: 'order', update: 'PLACEMENT', venueOrderId: U.order_placement.msg.id, side: 'buy', priceTicks: 5130, originalLots: 5_000000, matchedLots: 0,
      eventTimeNs: 1725842520990n * MS,
    });
    const canceled = new PolymarketUserParser(OUR_KEY_T1).parseMessage(U.order_cancel.msg, ctx());
    expect(canceled).toMatchObject({ update: 'CANCELLATION', originalLots: 5_000000, matchedLots: 5_000000, side: 'sell' });
  });

  it('as maker, our fill is our maker_orders entry (5 @ 0.518 on 0xab67…), not the top-level taker size and price', () => {
    const t = new PolymarketUserParser(OUR_KEY_T1).parseMessage(U.trade_mined_maker.msg, ctx()) as PolymarketTrade;
    expect(t.status).toBe('MINED');
    expect(t.fills).toEqual([{
      fillKey: `${U.trade_mined_maker.msg.id}:0xab679e56242324e15e59cfd488cd0f12e4fd71b153b9bfb57518898b9983145e`,
      tradeId: U.trade_mined_maker.msg.id,
      venueOrderId: '0xab679e56242324e15e59cfd488cd0f12e4fd71b153b9bfb57518898b9983145e',
      instrument: `POLYMARKET:${U.trade_mined_maker.msg.asset_id}`,
      side: 'sell', priceTicks: 5180, qtyLots: 5_000000, liquidity: 'maker',
    }]);
    expect(t.eventTimeNs).toBe(1725868885871n * MS);
  });

  it('a maker on the complementary token took the same side as the taker (the NO maker of a YES buy buys NO)', () => {
    const t = new PolymarketUserParser('78132bc3-22af-6aa2-79ae-11929f821cae').parseMessage(U.trade_mined_maker.msg, ctx()) as PolymarketTrade;
    expect(t.fills).toMatchObject([{ side: 'buy', priceTicks: 4820, qtyLots: 10_000000, instrument: 'POLYMARKET:48331043336612883890938759509493159234755048973500640148014422747788308965732' }]);
  });

  it('two maker orders of ours in one trade are two fills with their own keys; a timestamp in seconds is read as seconds', () => {
    const t = new PolymarketUserParser(OUR_KEY_T4).parseMessage(U.trade_confirmed_multi_maker.msg, ctx()) as PolymarketTrade;
    expect(t.fills.map((f) => [f.venueOrderId.slice(0, 8), f.side, f.priceTicks, f.qtyLots])).toEqual([
      ['0x3ad09f', 'buy', 4000, 5_000000], ['0x67b598', 'buy', 3000, 5_000000],
    ]);
    expect(new Set(t.fills.map((f) => f.fillKey)).size).toBe(2);
    expect(t.eventTimeNs).toBe(1762776436n * 1000n * MS);
  });

  it('as taker, our fill is the top level; a trade of others has no fills of ours', () => {
    const taker = { ...U.trade_mined_maker.msg, trader_side: 'TAKER' };
    const t = new PolymarketUserParser('092dab0c-74fa-5ba7-4b67-572daeace198').parseMessage(taker, ctx()) as PolymarketTrade;
    expect(t.fills).toMatchObject([{ venueOrderId: taker.taker_order_id, side: 'buy', priceTicks: 5180, qtyLots: 1096_870000, liquidity: 'taker' }]);
    expect((new PolymarketUserParser('someone-else').parseMessage(U.trade_mined_maker.msg, ctx()) as PolymarketTrade).fills).toEqual([]);
  });

  it('refuses an unknown trade status, naming the field', () => {
    try {
      new PolymarketUserParser(OUR_KEY_T1).parseMessage({ ...U.trade_mined_maker.msg, status: 'SETTLED' }, ctx(4));
      expect.unreachable();
    } catch (e) {
      expect(isTapedeckError(e) && e.where).toMatchObject({ line: 4, field: 'status' });
    }
  });
});

describe('Polymarket trades folded once by trade id', () => {
  const parser = () => new PolymarketUserParser(OUR_KEY_T1);
  const at = (status: TradeStatus) => parser().parseMessage({ ...U.trade_mined_maker.msg, status }, ctx()) as PolymarketTrade;

  /** Our position in the token, in lots, from the booked and reversed fills. */
  function position(statuses: TradeStatus[]): { lots: number; outcomes: string[] } {
    let state: TradeFoldState = initialTradeFold();
    let lots = 0;
    const outcomes: string[] = [];
    const signed = (f: OurFill) => (f.side === 'buy' ? f.qtyLots : -f.qtyLots);
    for (const s of statuses) {
      const r = foldTrade(state, at(s));
      state = r.state;
      outcomes.push(r.outcome.kind === 'none' ? `none:${r.outcome.why}` : r.outcome.kind);
      if (r.outcome.kind === 'book') for (const f of r.outcome.fills) lots += signed(f);
      if (r.outcome.kind === 'reverse') for (const f of r.outcome.fills) lots -= signed(f);
    }
    return { lots, outcomes };
  }

  it('MATCHED → MINED → CONFIRMED books the fill once (we sold 5)', () => {
    expect(position(['MATCHED', 'MINED', 'CONFIRMED'])).toEqual({ lots: -5_000000, outcomes: ['book', 'none:repeat', 'none:repeat'] });
  });

  it('MATCHED → FAILED reverses what MATCHED booked (flat), and later statuses of the failed trade book nothing', () => {
    expect(position(['MATCHED', 'RETRYING', 'FAILED'])).toEqual({ lots: 0, outcomes: ['book', 'none:repeat', 'reverse'] });
    expect(position(['MATCHED', 'FAILED', 'CONFIRMED', 'FAILED'])).toEqual({ lots: 0, outcomes: ['book', 'reverse', 'none:after-failure', 'none:after-failure'] });
  });

  it('a trade first seen as MINED (MATCHED missed) books once; a FAILED never booked reverses nothing', () => {
    expect(position(['MINED', 'CONFIRMED'])).toEqual({ lots: -5_000000, outcomes: ['book', 'none:repeat'] });
    expect(position(['FAILED', 'MATCHED'])).toEqual({ lots: 0, outcomes: ['none:failed-unbooked', 'none:after-failure'] });
  });

  it('folding is pure: the state before a message is unchanged by it', () => {
    const s0 = initialTradeFold();
    const { state: s1 } = foldTrade(s0, at('MATCHED'));
    expect(s0.trades.size).toBe(0);
    expect(foldTrade(s1, at('MATCHED')).outcome).toEqual({ kind: 'none', why: 'repeat' });
    expect(foldTrade(s0, at('MATCHED')).outcome.kind).toBe('book');
  });
});
