/**
 * Kalshi market data (Trade API v2 WebSocket, and the REST order book) → catalogue envelopes.
 *
 * One instrument per market, its YES contract (`KALSHI:<ticker>`). Kalshi keeps two books of BIDS, one for
 * YES and one for NO; a NO bid at q is an offer to sell YES at 1 − q. So the YES instrument's book is:
 *   bids = the YES bids, asks = 1 − the NO bids (best ask = 1 − best NO bid).
 *
 *   orderbook_snapshot  → BookSnapshotted (msg.yes_dollars_fp / no_dollars_fp: [price_dollars, count_fp]
 *                         pairs; legacy msg.yes / no: [cents, count]); the local book starts over
 *   orderbook_delta     → BookDeltaApplied with the level's new total (Kalshi sends a signed change,
 *                         delta_fp / legacy delta, at price_dollars / legacy price, side yes|no)
 *   trade               → TradeReported (taker_side yes = a buy of YES; id = trade_id)
 *   REST GET /markets/{ticker}/orderbook → BookSnapshotted (orderbook_fp {yes_dollars, no_dollars}; legacy
 *                         orderbook {yes, no})
 *   subscribed, ok, error, unsubscribed, ticker, fill, user_order... → counted, no market event
 *
 * Sequence numbers: `seq` rises by exactly one per subscription (sid). A delta whose seq is not the last + 1
 * is a gap: the subscription's books are no longer known, nothing more of that sid is used, and the gap is
 * queued for the client (`takeGaps`), which resubscribes; the new subscription's snapshots rebuild the books.
 * A delta on a book without a snapshot is not applied either.
 *
 * Event time: deltas and trades carry ts_ms (or ts in seconds); a snapshot carries none and takes the
 * latest venue time (held for the next one at the start of a stream), as every venue parser does.
 */
import { z } from 'zod';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import { VenueClock } from '../common/event-time.js';
import {
  EventIds, bump, epochToNs, frameDigest, frameText, marketDataStream, parseJson, rawJson, relocate, validate,
  type FrameContext, type VenueParser,
} from '../common/frame.js';
import { centsToTicks, centTicks, contractLots, countToLots, DEFAULT_PRICE_SCALE, dollarsToTicks, KALSHI, kalshiInstrumentId, QTY_SCALE } from './wire.js';

const dec = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const pairs = z.array(z.tuple([dec, dec]));
const legacyPairs = z.array(z.tuple([z.int(), z.int()]));
const ticker = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a market ticker');

const Envelope = z.looseObject({ type: z.string().min(1), sid: z.int().optional(), seq: z.int().optional(), msg: z.unknown().optional() });
const Snapshot = z.looseObject({
  market_ticker: ticker,
  yes_dollars_fp: pairs.optional(), no_dollars_fp: pairs.optional(),
  yes: legacyPairs.optional(), no: legacyPairs.optional(),
});
const Delta = z.looseObject({
  market_ticker: ticker, side: z.enum(['yes', 'no']),
  price_dollars: dec.optional(), price: z.int().optional(),
  delta_fp: dec.optional(), delta: z.int().optional(),
  ts_ms: z.int().optional(),
});
const Trade = z.looseObject({
  trade_id: z.string().min(1), market_ticker: ticker,
  yes_price_dollars: dec.optional(), yes_price: z.int().optional(),
  count_fp: dec.optional(), count: z.int().optional(),
  taker_side: z.enum(['yes', 'no']), ts: z.int().optional(), ts_ms: z.int().optional(),
});
const RestBook = z.looseObject({
  orderbook_fp: z.looseObject({ yes_dollars: pairs.nullish(), no_dollars: pairs.nullish() }).optional(),
  orderbook: z.looseObject({ yes: legacyPairs.nullish(), no: legacyPairs.nullish() }).optional(),
});

export interface KalshiGap {
  sid: number;
  expectedSeq: number;
  gotSeq: number;
  tickers: string[];
}

export interface KalshiParserOptions {
  /** Decimals of a price (2 = cents: linear_cent markets). */
  priceScale?: number;
  /** Decimals of a quantity (2: Kalshi's own; finer to share another venue's scale). */
  qtyScale?: number;
}

interface Ladder {
  yes: Map<number, number>;
  no: Map<number, number>;
}

export class KalshiParser implements VenueParser {
  readonly venue = KALSHI;
  readonly frameCounts = new Map<string, number>();
  readonly priceScale: number;
  readonly qtyScale: number;
  private readonly contract: number;
  private readonly ids = new EventIds(`tapedeck/marketdata/${KALSHI}`);
  private readonly clock = new VenueClock();
  private readonly one: number;
  private readonly books = new Map<string, Ladder>();
  private readonly defined = new Set<string>();
  /** sid → last seq and the tickers it carries; a dead sid (after a gap) is ignored. */
  private readonly sids = new Map<number, { seq: number; tickers: Set<string>; dead: boolean }>();
  private readonly gaps: KalshiGap[] = [];

  constructor(o: KalshiParserOptions = {}) {
    this.priceScale = o.priceScale ?? DEFAULT_PRICE_SCALE;
    this.qtyScale = o.qtyScale ?? QTY_SCALE;
    this.contract = contractLots(this.qtyScale);
    this.one = 10 ** this.priceScale;
  }

  /** Gaps seen since the last call (the client resubscribes each sid named). */
  takeGaps(): KalshiGap[] {
    return this.gaps.splice(0);
  }

  /** The local book of a market, YES terms (for tests and the client's checks). */
  book(tickerName: string): { bids: Array<[number, number]>; asks: Array<[number, number]> } | null {
    const b = this.books.get(tickerName);
    return b === undefined ? null : this.yesBook(b);
  }

  flush(): AnyEnvelope[] {
    return this.clock.flush();
  }

  parseHttp(url: string, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const m = /\/markets\/([^/?#]+)\/orderbook(?:[?#]|$)/.exec(url);
    if (m === null) {
      bump(this.frameCounts, 'http:other');
      return [];
    }
    bump(this.frameCounts, 'http:orderbook');
    const name = decodeURIComponent(m[1]!);
    const r = validate(RestBook, parseJson(frameText(body, ctx, KALSHI), ctx, KALSHI), ctx, 'Kalshi orderbook');
    const ladder: Ladder = { yes: new Map(), no: new Map() };
    if (r.orderbook_fp) {
      this.fillLevels(ladder.yes, r.orderbook_fp.yes_dollars ?? [], ctx, 'orderbook_fp.yes_dollars');
      this.fillLevels(ladder.no, r.orderbook_fp.no_dollars ?? [], ctx, 'orderbook_fp.no_dollars');
    } else if (r.orderbook) {
      this.fillLegacy(ladder.yes, r.orderbook.yes ?? [], ctx, 'orderbook.yes');
      this.fillLegacy(ladder.no, r.orderbook.no ?? [], ctx, 'orderbook.no');
    }
    this.books.set(name, ladder);
    const out: AnyEnvelope[] = [];
    this.snapshotEvent(name, ladder, body, ctx, out, 'rest');
    return out;
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const text = frameText(body, ctx, KALSHI);
    if (text === 'heartbeat') {
      bump(this.frameCounts, 'heartbeat');
      return [];
    }
    const env = validate(Envelope, parseJson(text, ctx, KALSHI), ctx, 'Kalshi message');
    bump(this.frameCounts, env.type);
    switch (env.type) {
      case 'orderbook_snapshot':
        return this.snapshot(env.sid ?? null, env.seq ?? null, validate(Snapshot, env.msg, ctx, 'Kalshi orderbook_snapshot', 'msg'), body, ctx);
      case 'orderbook_delta':
        return this.delta(env.sid ?? null, env.seq ?? null, validate(Delta, env.msg, ctx, 'Kalshi orderbook_delta', 'msg'), body, ctx);
      case 'trade':
        return this.trade(validate(Trade, env.msg, ctx, 'Kalshi trade', 'msg'), body, ctx);
      default:
        return [];
    }
  }

  /** Forget a subscription (the client unsubscribed it). */
  dropSid(sid: number): void {
    this.sids.delete(sid);
  }

  private yesBook(b: Ladder): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    return {
      bids: [...b.yes].sort((x, y) => y[0] - x[0]),
      asks: [...b.no].map(([p, q]): [number, number] => [this.one - p, q]).sort((x, y) => x[0] - y[0]),
    };
  }

  private fillLevels(into: Map<number, number>, levels: Array<[string, string]>, ctx: FrameContext, field: string): void {
    levels.forEach(([p, c], i) => {
      const price = this.price(p, ctx, `${field}.${i}.0`);
      const lots = this.lots(c, ctx, `${field}.${i}.1`);
      if (lots > 0) into.set(price, lots);
    });
  }

  private fillLegacy(into: Map<number, number>, levels: Array<[number, number]>, ctx: FrameContext, field: string): void {
    levels.forEach(([cents, count], i) => {
      const price = this.wrap(() => centsToTicks(cents, this.priceScale, `${field}.${i}.0`), ctx, `${field}.${i}.0`);
      if (count > 0) into.set(price, count * this.contract);
    });
  }

  private wrap<T>(f: () => T, ctx: FrameContext, field: string): T {
    try {
      return f();
    } catch (e) {
      throw relocate(e, ctx, field);
    }
  }

  private price(text: string, ctx: FrameContext, field: string): number {
    return this.wrap(() => dollarsToTicks(text, this.priceScale, field), ctx, field);
  }

  private lots(text: string, ctx: FrameContext, field: string): number {
    return this.wrap(() => countToLots(text, field, this.qtyScale), ctx, field);
  }

  private define(name: string, ns: bigint, ctx: FrameContext, out: AnyEnvelope[]): void {
    if (this.defined.has(name)) return;
    this.defined.add(name);
    const instrument = kalshiInstrumentId(name);
    out.push(makeEvent({
      id: this.ids.venue(`instrument:${instrument}:${this.priceScale}`),
      type: 'InstrumentDefined', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KALSHI, instrument, symbol: name, kind: 'prediction', quoteCurrency: 'USD',
        priceScale: this.priceScale, qtyScale: this.qtyScale, tickSizeTicks: centTicks(this.priceScale), lotSizeLots: this.contract,
      },
    }));
  }

  private snapshotEvent(name: string, ladder: Ladder, body: Uint8Array, ctx: FrameContext, out: AnyEnvelope[], what: string): void {
    const instrument = kalshiInstrumentId(name);
    const make = (ns: bigint): AnyEnvelope[] => {
      const evs: AnyEnvelope[] = [];
      this.define(name, ns, ctx, evs);
      const { bids, asks } = this.yesBook(ladder);
      evs.push(makeEvent({
        id: this.ids.content(`${what}-snapshot:${instrument}:${frameDigest(body)}`),
        type: 'BookSnapshotted', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
        data: { venue: KALSHI, instrument, bids, asks, priceScale: this.priceScale, qtyScale: this.qtyScale },
        raw: rawJson(body),
      }));
      return evs;
    };
    // No venue time in a snapshot: the latest seen, or (at the start of a stream) the next one. A REST
    // answer is not part of a stream: it takes the latest venue time, else its receive time.
    if (this.clock.hasVenueTime() || what === 'rest') out.push(...make(this.clock.untimed(ctx)));
    else out.push(...this.clock.awaitVenueTime(make(ctx.receiveTimeNs)));
  }

  private snapshot(sid: number | null, seq: number | null, s: z.output<typeof Snapshot>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    if (sid !== null) {
      const st = this.sids.get(sid) ?? { seq: seq ?? 0, tickers: new Set<string>(), dead: false };
      if (st.dead) return [];
      if (seq !== null) st.seq = seq;
      st.tickers.add(s.market_ticker);
      this.sids.set(sid, st);
    }
    const ladder: Ladder = { yes: new Map(), no: new Map() };
    if (s.yes_dollars_fp !== undefined || s.no_dollars_fp !== undefined) {
      this.fillLevels(ladder.yes, s.yes_dollars_fp ?? [], ctx, 'msg.yes_dollars_fp');
      this.fillLevels(ladder.no, s.no_dollars_fp ?? [], ctx, 'msg.no_dollars_fp');
    } else {
      this.fillLegacy(ladder.yes, s.yes ?? [], ctx, 'msg.yes');
      this.fillLegacy(ladder.no, s.no ?? [], ctx, 'msg.no');
    }
    this.books.set(s.market_ticker, ladder);
    const out: AnyEnvelope[] = [];
    this.snapshotEvent(s.market_ticker, ladder, body, ctx, out, 'ws');
    return out;
  }

  private delta(sid: number | null, seq: number | null, d: z.output<typeof Delta>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    if (sid !== null && seq !== null) {
      const st = this.sids.get(sid);
      if (st === undefined || st.dead) return [];
      if (seq !== st.seq + 1) {
        // A gap: every book of this subscription is unknown until it is subscribed again.
        st.dead = true;
        for (const t of st.tickers) this.books.delete(t);
        this.gaps.push({ sid, expectedSeq: st.seq + 1, gotSeq: seq, tickers: [...st.tickers] });
        bump(this.frameCounts, 'gap');
        return [];
      }
      st.seq = seq;
    }
    const ladder = this.books.get(d.market_ticker);
    if (ladder === undefined) return [];
    const price = d.price_dollars !== undefined ? this.price(d.price_dollars, ctx, 'msg.price_dollars')
      : this.wrap(() => centsToTicks(d.price ?? -1, this.priceScale, 'msg.price'), ctx, 'msg.price');
    const change = d.delta_fp !== undefined ? this.lots(d.delta_fp, ctx, 'msg.delta_fp') : (d.delta ?? 0) * this.contract;
    const side = d.side === 'yes' ? ladder.yes : ladder.no;
    const total = (side.get(price) ?? 0) + change;
    if (total < 0) {
      // More removed than the level held: the book is wrong; treat it as a gap.
      const st = sid === null ? undefined : this.sids.get(sid);
      if (st !== undefined && sid !== null) {
        st.dead = true;
        for (const t of st.tickers) this.books.delete(t);
        this.gaps.push({ sid, expectedSeq: st.seq, gotSeq: seq ?? st.seq, tickers: [...st.tickers] });
      } else this.books.delete(d.market_ticker);
      bump(this.frameCounts, 'negative-level');
      return [];
    }
    if (total === 0) side.delete(price);
    else side.set(price, total);
    const out: AnyEnvelope[] = [];
    const instrument = kalshiInstrumentId(d.market_ticker);
    const ns = d.ts_ms !== undefined ? this.clock.stamp(epochToNs(d.ts_ms), out, instrument) : this.clock.untimed(ctx);
    this.define(d.market_ticker, ns, ctx, out);
    out.push(makeEvent({
      id: this.ids.content(`delta:${instrument}:${frameDigest(body)}`),
      type: 'BookDeltaApplied', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KALSHI, instrument,
        changes: [d.side === 'yes' ? { side: 'buy' as const, priceTicks: price, qtyLots: total } : { side: 'sell' as const, priceTicks: this.one - price, qtyLots: total }],
        priceScale: this.priceScale, qtyScale: this.qtyScale, ...(seq !== null ? { sequence: seq } : {}),
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private trade(t: z.output<typeof Trade>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    const instrument = kalshiInstrumentId(t.market_ticker);
    const venueNs = t.ts_ms !== undefined ? epochToNs(t.ts_ms) : t.ts !== undefined ? BigInt(t.ts) * 1_000_000_000n : null;
    const ns = venueNs !== null ? this.clock.stamp(venueNs, out, instrument) : this.clock.untimed(ctx);
    this.define(t.market_ticker, ns, ctx, out);
    const price = t.yes_price_dollars !== undefined ? this.price(t.yes_price_dollars, ctx, 'msg.yes_price_dollars')
      : this.wrap(() => centsToTicks(t.yes_price ?? -1, this.priceScale, 'msg.yes_price'), ctx, 'msg.yes_price');
    const qty = t.count_fp !== undefined ? this.lots(t.count_fp, ctx, 'msg.count_fp') : (t.count ?? 0) * this.contract;
    out.push(makeEvent({
      id: this.ids.venue(`trade:${t.trade_id}`),
      type: 'TradeReported', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KALSHI, instrument, tradeId: t.trade_id, priceTicks: price, qtyLots: qty, priceScale: this.priceScale, qtyScale: this.qtyScale,
        aggressor: t.taker_side === 'yes' ? 'buy' : 'sell',
      },
      raw: rawJson(body),
    }));
    return out;
  }
}
