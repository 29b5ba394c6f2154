/**
 * Polymarket CLOB market channel (wss://ws-subscriptions-clob.polymarket.com/ws/market) → catalogue
 * envelopes. Instruments are outcome tokens: `POLYMARKET:<token id>` (the YES and NO tokens of one
 * market are two instruments; the condition id is `market`).
 *
 *   book              → BookSnapshotted (levels sorted: the recorded feed sends the best level LAST,
 *                       the docs first; order is never trusted)
 *   price_change      → BookDeltaApplied per token. Current schema (since 2025-09-15):
 *                       {market, price_changes:[{asset_id, price, size, side, hash, best_bid, best_ask}],
 *                       timestamp}; the legacy one {asset_id, changes:[{price, side, size}]} too. `size`
 *                       is the level's new total (0 removes it), not a delta. BUY = bid, SELL = ask.
 *   last_trade_price  → TradeReported (aggressor = `side`); the venue gives no trade id, so the id is
 *                       the frame's content
 *   tick_size_change  → InstrumentDefined again, with the new tick (0.01 ↔ 0.001 near the extremes)
 *   PONG, arrays of nothing, best_bid_ask/new_market/market_resolved → counted, no event (yet)
 *
 * Scales are fixed: prices at 4 decimals (the finest tick, 0.0001), sizes at 6 (outcome tokens have 6
 * decimals), so every tick size fits without rescaling. A token first seen before its tick size is
 * known is defined with tick 0.0001 (one tick at scale 4); tick_size_change redefines it. Event time is
 * the message's `timestamp` (ms) through the shared VenueClock. Prices are parsed leniently as the docs
 * write them (".48").
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import {
  EventIds, bump, epochToNs, frameDigest, frameText, marketDataStream, parseJson, rawJson, toInt, validate,
  type FrameContext, type VenueParser,
} from '../common/frame.js';
import { VenueClock } from '../common/event-time.js';

export const POLYMARKET = 'POLYMARKET';
export const PRICE_SCALE = 4;
export const QTY_SCALE = 6;

const dec = z.string().regex(/^\d*\.?\d+$|^\d+\.$/, 'a decimal string');
const tokenId = z.string().regex(/^\d{1,80}$/, 'a token id (decimal digits)');
const ms = z.string().regex(/^\d{1,16}$/, 'a timestamp in ms');
const sideWire = z.enum(['BUY', 'SELL']);
const Level = z.object({ price: dec, size: dec });

const Typed = z.looseObject({ event_type: z.string().min(1) });
const Book = z.looseObject({ asset_id: tokenId, market: z.string().min(1), bids: z.array(Level), asks: z.array(Level), timestamp: ms, hash: z.string().optional() });
const PriceChange = z.looseObject({
  market: z.string().min(1),
  timestamp: ms,
  price_changes: z.array(z.looseObject({ asset_id: tokenId, price: dec, size: dec, side: sideWire })).min(1),
});
const PriceChangeLegacy = z.looseObject({
  asset_id: tokenId, market: z.string().min(1), timestamp: ms,
  changes: z.array(z.object({ price: dec, size: dec, side: sideWire })).min(1),
});
const LastTrade = z.looseObject({ asset_id: tokenId, market: z.string().min(1), price: dec, size: dec, side: sideWire, timestamp: ms, fee_rate_bps: dec.optional() });
const TickChange = z.looseObject({ asset_id: tokenId, market: z.string().min(1), old_tick_size: dec, new_tick_size: dec, timestamp: ms });

export function polymarketInstrumentId(token: string): string {
  return `${POLYMARKET}:${token}`;
}

/** ".48" → "0.48" (the docs write prices without the leading zero). */
function lead(text: string): string {
  return text.startsWith('.') ? `0${text}` : text;
}

export class PolymarketParser implements VenueParser {
  readonly venue = POLYMARKET;
  readonly frameCounts = new Map<string, number>();
  private readonly ids = new EventIds(`tapedeck/marketdata/${POLYMARKET}`);
  private readonly clock = new VenueClock();
  /** token → tick at PRICE_SCALE of its last definition. */
  private readonly defined = new Map<string, number>();

  flush(): AnyEnvelope[] {
    return this.clock.flush();
  }

  parseHttp(_url: string, _body: Uint8Array, _ctx: FrameContext): AnyEnvelope[] {
    bump(this.frameCounts, 'http:other');
    return [];
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const text = frameText(body, ctx, POLYMARKET);
    if (text === 'PONG' || text === 'PING') {
      bump(this.frameCounts, text);
      return [];
    }
    const json = parseJson(text, ctx, POLYMARKET);
    // The market channel sends the first book(s) as an array.
    const messages = Array.isArray(json) ? json : [json];
    const out: AnyEnvelope[] = [];
    messages.forEach((m, i) => {
      const where = Array.isArray(json) ? `${i}` : '';
      const { event_type } = validate(Typed, m, ctx, 'Polymarket message', where);
      bump(this.frameCounts, event_type);
      switch (event_type) {
        case 'book':
          out.push(...this.book(validate(Book, m, ctx, 'Polymarket book', where), body, ctx));
          break;
        case 'price_change':
          if (m !== null && typeof m === 'object' && 'price_changes' in m) out.push(...this.priceChange(validate(PriceChange, m, ctx, 'Polymarket price_change', where), body, ctx));
          else out.push(...this.legacyPriceChange(validate(PriceChangeLegacy, m, ctx, 'Polymarket price_change (legacy)', where), body, ctx));
          break;
        case 'last_trade_price':
          out.push(...this.lastTrade(validate(LastTrade, m, ctx, 'Polymarket last_trade_price', where), body, ctx));
          break;
        case 'tick_size_change':
          out.push(...this.tickChange(validate(TickChange, m, ctx, 'Polymarket tick_size_change', where), body, ctx));
          break;
        default:
          break;
      }
    });
    return out;
  }

  private stamp(timestamp: string, out: AnyEnvelope[], token: string): bigint {
    return this.clock.stamp(epochToNs(BigInt(timestamp)), out, polymarketInstrumentId(token));
  }

  /** InstrumentDefined the first time a token is seen (tick 0.0001 until the venue says otherwise), or when its tick changes. */
  private define(token: string, tickTicks: number | null, ns: bigint, ctx: FrameContext, out: AnyEnvelope[]): void {
    const known = this.defined.get(token);
    const tick = tickTicks ?? known ?? 1;
    if (known === tick) return;
    this.defined.set(token, tick);
    const instrument = polymarketInstrumentId(token);
    out.push(makeEvent({
      id: this.ids.venue(`instrument:${instrument}:${tick}:${ns}`),
      type: 'InstrumentDefined',
      stream: marketDataStream(instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: POLYMARKET, instrument, symbol: token, kind: 'prediction', quoteCurrency: 'USDC',
        priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, tickSizeTicks: tick, lotSizeLots: 1,
      },
    }));
  }

  private book(b: z.output<typeof Book>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    const ns = this.stamp(b.timestamp, out, b.asset_id);
    this.define(b.asset_id, null, ns, ctx, out);
    const levels = (ls: Array<{ price: string; size: string }>, name: string): Array<[number, number]> =>
      ls.map((l, i) => [toInt(lead(l.price), PRICE_SCALE, ctx, `${name}.${i}.price`), toInt(lead(l.size), QTY_SCALE, ctx, `${name}.${i}.size`)]);
    const instrument = polymarketInstrumentId(b.asset_id);
    out.push(makeEvent({
      id: this.ids.content(`book:${instrument}:${b.timestamp}:${frameDigest(body)}`),
      type: 'BookSnapshotted',
      stream: marketDataStream(instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: POLYMARKET, instrument,
        bids: levels(b.bids, 'bids').sort((x, y) => y[0] - x[0]),
        asks: levels(b.asks, 'asks').sort((x, y) => x[0] - y[0]),
        priceScale: PRICE_SCALE, qtyScale: QTY_SCALE,
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private deltas(token: string, timestamp: string, changes: Array<{ price: string; size: string; side: 'BUY' | 'SELL'; at: string }>, body: Uint8Array, ctx: FrameContext, out: AnyEnvelope[]): void {
    const ns = this.stamp(timestamp, out, token);
    this.define(token, null, ns, ctx, out);
    const instrument = polymarketInstrumentId(token);
    out.push(makeEvent({
      id: this.ids.content(`price_change:${instrument}:${timestamp}:${frameDigest(body)}`),
      type: 'BookDeltaApplied',
      stream: marketDataStream(instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: POLYMARKET, instrument,
        changes: changes.map((c) => ({
          side: c.side === 'BUY' ? 'buy' as const : 'sell' as const,
          priceTicks: toInt(lead(c.price), PRICE_SCALE, ctx, `${c.at}.price`),
          qtyLots: toInt(lead(c.size), QTY_SCALE, ctx, `${c.at}.size`),
        })),
        priceScale: PRICE_SCALE, qtyScale: QTY_SCALE,
      },
      raw: rawJson(body),
    }));
  }

  private priceChange(p: z.output<typeof PriceChange>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    // One BookDeltaApplied per token, tokens in order of first appearance, changes in message order.
    const byToken = new Map<string, Array<{ price: string; size: string; side: 'BUY' | 'SELL'; at: string }>>();
    p.price_changes.forEach((c, i) => {
      const list = byToken.get(c.asset_id) ?? [];
      list.push({ price: c.price, size: c.size, side: c.side, at: `price_changes.${i}` });
      byToken.set(c.asset_id, list);
    });
    const out: AnyEnvelope[] = [];
    for (const [token, changes] of byToken) this.deltas(token, p.timestamp, changes, body, ctx, out);
    return out;
  }

  private legacyPriceChange(p: z.output<typeof PriceChangeLegacy>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    this.deltas(p.asset_id, p.timestamp, p.changes.map((c, i) => ({ ...c, at: `changes.${i}` })), body, ctx, out);
    return out;
  }

  private lastTrade(t: z.output<typeof LastTrade>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    const ns = this.stamp(t.timestamp, out, t.asset_id);
    this.define(t.asset_id, null, ns, ctx, out);
    const instrument = polymarketInstrumentId(t.asset_id);
    const tradeId = `${t.timestamp}:${frameDigest(body)}`;
    out.push(makeEvent({
      id: this.ids.content(`trade:${instrument}:${tradeId}`),
      type: 'TradeReported',
      stream: marketDataStream(instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: POLYMARKET, instrument, tradeId,
        priceTicks: toInt(lead(t.price), PRICE_SCALE, ctx, 'price'), qtyLots: toInt(lead(t.size), QTY_SCALE, ctx, 'size'),
        priceScale: PRICE_SCALE, qtyScale: QTY_SCALE,
        aggressor: t.side === 'BUY' ? 'buy' : 'sell',
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private tickChange(t: z.output<typeof TickChange>, _body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    const ns = this.stamp(t.timestamp, out, t.asset_id);
    const tick = toInt(lead(t.new_tick_size), PRICE_SCALE, ctx, 'new_tick_size');
    if (tick <= 0) throw new TapedeckError('FRAME_INVALID', `Polymarket tick_size_change: new_tick_size "${t.new_tick_size}" is not a positive tick`, { file: ctx.file, line: ctx.line, field: 'new_tick_size' });
    this.define(t.asset_id, tick, ns, ctx, out);
    return out;
  }
}
