/**
 * Coinbase Exchange (formerly Pro) websocket payloads → catalogue envelopes, with scales from the REST
 * /products answer.
 *
 *   snapshot (level2)     → BookSnapshotted
 *   l2update (level2)     → BookDeltaApplied (size 0 removes the level)
 *   match, last_match     → TradeReported (tradeId trade_id; `side` is the MAKER's side, so the
 *                           aggressor is the other one). last_match repeats a trade from before the
 *                           subscription: same trade id, same event id, so a store keeps it once.
 *   ticker                → QuoteUpdated (sequence). Feeds before 2022 carry prices without sizes:
 *                           then the sizes are 0 and `sizesReported` is false.
 *   subscriptions, heartbeat, status, error → counted, no event
 *   GET /products → per product: priceScale from quote_increment's decimals (tick = the increment at
 *                   that scale), qtyScale from base_increment's (lot likewise).
 *
 * Instrument ids are Coinbase's product ids: `COINBASE:BTC-USD`. Times are the ISO `time` fields (µs);
 * a snapshot has none: it is held until its product's next timed message and takes that time (see
 * common/event-time.ts), so event time is always venue time, set by frame order alone. Ids: trades and tickers by venue ids
 * (trade_id, sequence), book messages by content.
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import {
  EventIds, bump, frameDigest, frameText, isoToNs, marketDataStream, parseJson, rawJson, significantDecimalsOf, toInt, validate,
  type FrameContext, type VenueParser,
} from '../common/frame.js';
import { VenueClock } from '../common/event-time.js';

export const COINBASE = 'COINBASE';

const dec = z.string().min(1);
const Products = z.array(z.looseObject({
  id: z.string().min(1),
  base_currency: z.string().min(1),
  quote_currency: z.string().min(1),
  quote_increment: dec,
  base_increment: dec,
}));
const Typed = z.looseObject({ type: z.string() });
const Snapshot = z.object({ product_id: z.string().min(1), bids: z.array(z.tuple([dec, dec])), asks: z.array(z.tuple([dec, dec])) });
const L2Update = z.object({ product_id: z.string().min(1), changes: z.array(z.tuple([z.enum(['buy', 'sell']), dec, dec])), time: z.string() });
const Match = z.object({
  trade_id: z.int().nonnegative(), side: z.enum(['buy', 'sell']), size: dec, price: dec, product_id: z.string().min(1),
  sequence: z.int().nonnegative().optional(), time: z.string(),
});
const Ticker = z.object({
  product_id: z.string().min(1), sequence: z.int().nonnegative(),
  best_bid: dec.optional(), best_ask: dec.optional(), best_bid_size: dec.optional(), best_ask_size: dec.optional(),
  time: z.string().optional(),
});

interface Product {
  id: string;
  instrument: string;
  base: string;
  quote: string;
  priceScale: number;
  qtyScale: number;
  tickSizeTicks: number;
  lotSizeLots: number;
  defined: boolean;
}

export function coinbaseInstrumentId(productId: string): string {
  return `${COINBASE}:${productId}`;
}

export class CoinbaseParser implements VenueParser {
  readonly venue = COINBASE;
  readonly frameCounts = new Map<string, number>();
  private readonly ids = new EventIds(`tapedeck/marketdata/${COINBASE}`);
  private readonly products = new Map<string, Product>();
  /**
   * Event time policy (common/event-time.ts). Level2 snapshots are held until their product's next
   * timed message: a snapshot has no venue time and comes before any timed message, so it takes the
   * time of the first message after it. Event time is then set by frame order alone, the same whether
   * the frames come from a capture or a live socket.
   */
  private readonly clock = new VenueClock();

  /** Releases snapshots still held (end of stream), with the event time they were made with. */
  flush(): AnyEnvelope[] {
    return this.clock.flush();
  }

  /**
   * A timed message for product `p` at `ns`: records the venue time, releases the product's waiting
   * snapshot (and definition) first, else defines the product at this time if it is new.
   */
  private timed(p: Product, ns: bigint, ctx: FrameContext, out: AnyEnvelope[]): bigint {
    this.clock.stamp(ns, out, p.instrument);
    return this.define(p, ns, ctx, out);
  }

  knownProducts(): string[] {
    return [...this.products.keys()];
  }

  parseHttp(url: string, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const json = parseJson(frameText(body, ctx, COINBASE), ctx, COINBASE);
    if (!/\/products\/?$/.test(new URL(url).pathname)) {
      bump(this.frameCounts, 'http:other');
      return [];
    }
    bump(this.frameCounts, 'http:products');
    const list = validate(Products, json, ctx, 'Coinbase /products');
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      const priceScale = significantDecimalsOf(p.quote_increment);
      const qtyScale = significantDecimalsOf(p.base_increment);
      this.products.set(p.id, {
        id: p.id, instrument: coinbaseInstrumentId(p.id), base: p.base_currency, quote: p.quote_currency,
        priceScale, qtyScale,
        tickSizeTicks: toInt(p.quote_increment, priceScale, ctx, `${i}.quote_increment`),
        lotSizeLots: toInt(p.base_increment, qtyScale, ctx, `${i}.base_increment`),
        defined: false,
      });
    }
    return [];
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const json = parseJson(frameText(body, ctx, COINBASE), ctx, COINBASE);
    const { type } = validate(Typed, json, ctx, 'Coinbase message');
    bump(this.frameCounts, type);
    switch (type) {
      case 'snapshot':
        return this.snapshot(validate(Snapshot, json, ctx, 'Coinbase snapshot'), body, ctx);
      case 'l2update':
        return this.l2update(validate(L2Update, json, ctx, 'Coinbase l2update'), body, ctx);
      case 'match':
      case 'last_match':
        return this.match(validate(Match, json, ctx, `Coinbase ${type}`), body, ctx);
      case 'ticker':
        return this.ticker(validate(Ticker, json, ctx, 'Coinbase ticker'), body, ctx);
      default:
        return [];
    }
  }

  private snapshot(s: z.output<typeof Snapshot>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const p = this.product(s.product_id, ctx);
    const side = (levels: Array<[string, string]>, name: string): Array<[number, number]> =>
      levels.map(([price, size], i) => [toInt(price, p.priceScale, ctx, `${name}.${i}.0`), toInt(size, p.qtyScale, ctx, `${name}.${i}.1`)]);
    const bids = side(s.bids, 'bids').sort((x, y) => y[0] - x[0]);
    const asks = side(s.asks, 'asks').sort((x, y) => x[0] - y[0]);
    // The snapshot, and the product's definition when this is its first message, wait for the product's
    // next timed message. A second snapshot before any update replaces the first, released as it was made.
    const waiting: AnyEnvelope[] = [];
    this.define(p, this.clock.untimed(ctx), ctx, waiting);
    waiting.push(makeEvent({
      id: this.ids.content(`snapshot:${p.instrument}:${frameDigest(body)}`),
      type: 'BookSnapshotted',
      stream: marketDataStream(p.instrument),
      eventTimeNs: this.clock.untimed(ctx),
      receiveTimeNs: ctx.receiveTimeNs,
      data: { venue: COINBASE, instrument: p.instrument, bids, asks, priceScale: p.priceScale, qtyScale: p.qtyScale },
      raw: rawJson(body),
    }));
    return this.clock.hold(waiting, p.instrument, { replace: true });
  }

  private l2update(u: z.output<typeof L2Update>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const p = this.product(u.product_id, ctx);
    const out: AnyEnvelope[] = [];
    const changes = u.changes.map(([side, price, size], i) => ({
      side, priceTicks: toInt(price, p.priceScale, ctx, `changes.${i}.1`), qtyLots: toInt(size, p.qtyScale, ctx, `changes.${i}.2`),
    }));
    const ns = this.timed(p, isoToNs(u.time, ctx, 'time'), ctx, out);
    out.push(makeEvent({
      id: this.ids.content(`l2update:${p.instrument}:${u.time}:${frameDigest(body)}`),
      type: 'BookDeltaApplied',
      stream: marketDataStream(p.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: { venue: COINBASE, instrument: p.instrument, changes, priceScale: p.priceScale, qtyScale: p.qtyScale },
      raw: rawJson(body),
    }));
    return out;
  }

  private match(m: z.output<typeof Match>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const p = this.product(m.product_id, ctx);
    const out: AnyEnvelope[] = [];
    const ns = this.timed(p, isoToNs(m.time, ctx, 'time'), ctx, out);
    out.push(makeEvent({
      id: this.ids.venue(`trade:${p.instrument}:${m.trade_id}`),
      type: 'TradeReported',
      stream: marketDataStream(p.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: COINBASE, instrument: p.instrument, tradeId: String(m.trade_id),
        priceTicks: toInt(m.price, p.priceScale, ctx, 'price'), qtyLots: toInt(m.size, p.qtyScale, ctx, 'size'),
        priceScale: p.priceScale, qtyScale: p.qtyScale,
        aggressor: m.side === 'buy' ? 'sell' : 'buy',
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private ticker(t: z.output<typeof Ticker>, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const p = this.product(t.product_id, ctx);
    const out: AnyEnvelope[] = [];
    const sizesReported = t.best_bid_size !== undefined && t.best_ask_size !== undefined;
    const price = (v: string | undefined, field: string): number | null => (v === undefined ? null : toInt(v, p.priceScale, ctx, field));
    const qty = (v: string | undefined, field: string): number => (v === undefined ? 0 : toInt(v, p.qtyScale, ctx, field));
    const ns = t.time !== undefined ? this.timed(p, isoToNs(t.time, ctx, 'time'), ctx, out) : this.define(p, this.clock.untimed(ctx), ctx, out);
    out.push(makeEvent({
      id: this.ids.venue(`ticker:${p.instrument}:${t.sequence}`),
      type: 'QuoteUpdated',
      stream: marketDataStream(p.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: COINBASE, instrument: p.instrument,
        bidPriceTicks: price(t.best_bid, 'best_bid'), bidQtyLots: qty(t.best_bid_size, 'best_bid_size'),
        askPriceTicks: price(t.best_ask, 'best_ask'), askQtyLots: qty(t.best_ask_size, 'best_ask_size'),
        priceScale: p.priceScale, qtyScale: p.qtyScale, sequence: t.sequence,
        ...(sizesReported ? {} : { sizesReported: false }),
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private product(id: string, ctx: FrameContext): Product {
    const p = this.products.get(id);
    if (p === undefined) {
      throw new TapedeckError('INSTRUMENT_UNKNOWN', `Coinbase product "${id}" is not in the /products metadata (${this.products.size} products known): load the REST /products answer first (COINBASE.0 beside the capture)`, { file: ctx.file, line: ctx.line, field: 'product_id' });
    }
    return p;
  }

  /** Appends the product's InstrumentDefined at `eventTimeNs` the first time it is used; returns the time. */
  private define(p: Product, eventTimeNs: bigint, ctx: FrameContext, out: AnyEnvelope[]): bigint {
    if (p.defined) return eventTimeNs;
    p.defined = true;
    out.push(makeEvent({
      id: this.ids.venue(`instrument:${p.instrument}:${p.priceScale}:${p.qtyScale}:${p.tickSizeTicks}:${p.lotSizeLots}`),
      type: 'InstrumentDefined',
      stream: marketDataStream(p.instrument),
      eventTimeNs,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: COINBASE, instrument: p.instrument, symbol: p.id, kind: 'spot', baseCurrency: p.base, quoteCurrency: p.quote,
        priceScale: p.priceScale, qtyScale: p.qtyScale, tickSizeTicks: p.tickSizeTicks, lotSizeLots: p.lotSizeLots,
      },
    }));
    return eventTimeNs;
  }
}
