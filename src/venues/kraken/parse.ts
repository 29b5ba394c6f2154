/**
 * Kraken spot websocket v1 payloads → catalogue envelopes, with scales from the REST AssetPairs answer.
 *
 *   [id, [[price, volume, time, side, type, misc], ...], "trade", pair] → TradeReported per trade
 *   [id, {a, b, c, v, ...}, "ticker", pair]                          → QuoteUpdated (best bid/ask, lot volume)
 *   [id, {as, bs}, "book-N", pair]                                  → BookSnapshotted (depth N)
 *   [id, {a}|{b}|{a},{b}, "book-N", pair]                           → BookDeltaApplied (volume 0 removes)
 *   {"event": heartbeat | systemStatus | subscriptionStatus | pong}  → counted, no event
 *   GET /0/public/AssetPairs → per pair: priceScale = pair_decimals, qtyScale = lot_decimals,
 *                              tick = tick_size when present (newer answers) else 1, lot = 1
 *
 * Instrument ids keep Kraken's websocket pair name verbatim (`KRAKEN:XBT/USD`, `KRAKEN:XMR/USD`): it is
 * what subscriptions use, so no XBT→BTC mapping is made. base/quote are the two halves of that name.
 *
 * Times (common/event-time.ts: event time is venue time, by frame order alone): trades and book levels
 * carry seconds with µs ("1618678142.557535"); a book message's event time is its latest level time. The
 * ticker carries no time: it takes the latest venue time seen; tickers that come before the stream's first
 * timed message wait for it and take its time (bounded: see VenueClock.awaitVenueTime). An instrument's
 * definition takes the time of the message that first names it.
 * Ids: websocket v1 has no trade or update ids, so events are named by content (see EventIds); a
 * trade's tradeId is `<time>/<index in its message>`.
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import {
  EventIds, bump, frameDigest, frameText, marketDataStream, parseJson, rawJson, secondsToNs, toInt, validate,
  type FrameContext, type VenueParser,
} from '../common/frame.js';
import { VenueClock } from '../common/event-time.js';

export const KRAKEN = 'KRAKEN';

const dec = z.string().min(1);
const AssetPairs = z.object({
  error: z.array(z.string()),
  result: z.record(z.string(), z.looseObject({
    wsname: z.string().optional(),
    pair_decimals: z.int().min(0).max(18),
    lot_decimals: z.int().min(0).max(18),
    tick_size: z.string().optional(),
  })),
});
const TradeRow = z.tuple([dec, dec, dec, z.enum(['b', 's']), z.string(), z.string()], z.unknown());
const TickerSide = z.tuple([dec, z.union([z.int(), z.string()]), dec]);
const Ticker = z.object({ a: TickerSide, b: TickerSide });
const BookLevel = z.tuple([dec, dec, dec], z.string());
const BookSnapshot = z.object({ as: z.array(BookLevel), bs: z.array(BookLevel) });
const BookUpdatePart = z.object({ a: z.array(BookLevel).optional(), b: z.array(BookLevel).optional(), c: z.string().optional() });
const EventMessage = z.looseObject({ event: z.string(), status: z.string().optional() });

interface KrakenPair {
  wsname: string;
  instrument: string;
  priceScale: number;
  qtyScale: number;
  tickSizeTicks: number;
  defined: boolean;
}

export function krakenInstrumentId(wsname: string): string {
  return `${KRAKEN}:${wsname}`;
}

export class KrakenParser implements VenueParser {
  readonly venue = KRAKEN;
  readonly frameCounts = new Map<string, number>();
  private readonly ids = new EventIds(`tapedeck/marketdata/${KRAKEN}`);
  private readonly pairs = new Map<string, KrakenPair>();
  /** Event time policy: venue time by frame order (common/event-time.ts). */
  private readonly clock = new VenueClock();

  /** Pairs known from AssetPairs, by websocket name. */
  knownPairs(): string[] {
    return [...this.pairs.keys()];
  }

  parseHttp(url: string, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const json = parseJson(frameText(body, ctx, KRAKEN), ctx, KRAKEN);
    if (!new URL(url).pathname.endsWith('/AssetPairs')) {
      bump(this.frameCounts, 'http:other');
      return [];
    }
    bump(this.frameCounts, 'http:AssetPairs');
    const r = validate(AssetPairs, json, ctx, 'Kraken AssetPairs');
    if (r.error.length > 0) throw new TapedeckError('VENUE_ERROR', `Kraken AssetPairs answered with errors: ${r.error.join('; ')}`, { file: ctx.file, line: ctx.line, field: 'error' });
    for (const [name, p] of Object.entries(r.result)) {
      if (p.wsname === undefined) continue; // dark-pool pairs (".d") have no websocket name
      const tick = p.tick_size !== undefined ? toInt(p.tick_size, p.pair_decimals, ctx, `result.${name}.tick_size`) : 1;
      this.pairs.set(p.wsname, {
        wsname: p.wsname, instrument: krakenInstrumentId(p.wsname),
        priceScale: p.pair_decimals, qtyScale: p.lot_decimals, tickSizeTicks: tick > 0 ? tick : 1, defined: false,
      });
    }
    return [];
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const json = parseJson(frameText(body, ctx, KRAKEN), ctx, KRAKEN);
    if (!Array.isArray(json)) {
      const m = validate(EventMessage, json, ctx, 'Kraken event message');
      bump(this.frameCounts, m.status === 'error' ? `${m.event}:error` : m.event);
      return [];
    }
    const n = json.length;
    if (n < 4 || typeof json[0] !== 'number' || typeof json[n - 2] !== 'string' || typeof json[n - 1] !== 'string') {
      throw new TapedeckError('FRAME_INVALID', 'Kraken channel message: expected [channelID, payload..., channelName, pair]', { file: ctx.file, line: ctx.line, field: '(root)' });
    }
    const channel = json[n - 2] as string;
    const pair = json[n - 1] as string;
    const kind = channel.startsWith('book-') ? 'book' : channel;
    switch (kind) {
      case 'trade':
        bump(this.frameCounts, 'trade');
        return this.trades(pair, json[1], body, ctx);
      case 'ticker':
        bump(this.frameCounts, 'ticker');
        return this.ticker(pair, json[1], body, ctx);
      case 'book': {
        const first = json[1] as Record<string, unknown> | null;
        const depth = Number(channel.slice(5));
        if (first !== null && typeof first === 'object' && ('as' in first || 'bs' in first)) {
          bump(this.frameCounts, 'book:snapshot');
          return this.bookSnapshot(pair, first, Number.isSafeInteger(depth) && depth > 0 ? depth : undefined, body, ctx);
        }
        bump(this.frameCounts, 'book:update');
        return this.bookUpdate(pair, json.slice(1, n - 2), body, ctx);
      }
      default:
        bump(this.frameCounts, kind);
        return [];
    }
  }

  private trades(pairName: string, payload: unknown, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const rows = validate(z.array(TradeRow).min(1), payload, ctx, 'Kraken trade', '1');
    const pair = this.pair(pairName, ctx);
    const times = rows.map((r, i) => secondsToNs(r[2], ctx, `1.${i}.2`));
    return this.emit(pair, times[0]!, ctx, () => rows.map(([price, volume, time, side, type], i) => makeEvent({
      id: this.ids.content(`trade:${pair.instrument}:${time}:${price}:${volume}:${side}:${type}`),
      type: 'TradeReported',
      stream: marketDataStream(pair.instrument),
      eventTimeNs: this.clock.stamp(times[i]!),
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KRAKEN, instrument: pair.instrument, tradeId: `${time}/${i}`,
        priceTicks: toInt(price, pair.priceScale, ctx, `1.${i}.0`), qtyLots: toInt(volume, pair.qtyScale, ctx, `1.${i}.1`),
        priceScale: pair.priceScale, qtyScale: pair.qtyScale,
        aggressor: side === 'b' ? 'buy' : 'sell',
      },
      raw: rawJson(body),
    })));
  }

  /** The ticker carries no time: it takes the latest venue time seen. */
  private ticker(pairName: string, payload: unknown, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const t = validate(Ticker, payload, ctx, 'Kraken ticker', '1');
    const pair = this.pair(pairName, ctx);
    const bidQty = toInt(t.b[2], pair.qtyScale, ctx, '1.b.2');
    const askQty = toInt(t.a[2], pair.qtyScale, ctx, '1.a.2');
    return this.emit(pair, null, ctx, (ns) => [makeEvent({
      id: this.ids.content(`ticker:${pair.instrument}:${frameDigest(body)}`),
      type: 'QuoteUpdated',
      stream: marketDataStream(pair.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KRAKEN, instrument: pair.instrument,
        bidPriceTicks: toInt(t.b[0], pair.priceScale, ctx, '1.b.0'), bidQtyLots: bidQty,
        askPriceTicks: toInt(t.a[0], pair.priceScale, ctx, '1.a.0'), askQtyLots: askQty,
        priceScale: pair.priceScale, qtyScale: pair.qtyScale,
      },
      raw: rawJson(body),
    })]);
  }

  private bookSnapshot(pairName: string, payload: unknown, depth: number | undefined, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const b = validate(BookSnapshot, payload, ctx, 'Kraken book snapshot', '1');
    const pair = this.pair(pairName, ctx);
    let latest: bigint | null = null;
    const side = (levels: Array<[string, string, string, ...unknown[]]>, name: string): Array<[number, number]> =>
      levels.map(([p, v, ts], i) => {
        const t = secondsToNs(ts, ctx, `1.${name}.${i}.2`);
        if (latest === null || t > latest) latest = t;
        return [toInt(p, pair.priceScale, ctx, `1.${name}.${i}.0`), toInt(v, pair.qtyScale, ctx, `1.${name}.${i}.1`)];
      });
    // The catalogue wants best first; Kraken sends it so, the sort makes it a guarantee.
    const bids = side(b.bs, 'bs').sort((x, y) => y[0] - x[0]);
    const asks = side(b.as, 'as').sort((x, y) => x[0] - y[0]);
    return this.emit(pair, latest, ctx, (ns) => [makeEvent({
      id: this.ids.content(`book:${pair.instrument}:${frameDigest(body)}`),
      type: 'BookSnapshotted',
      stream: marketDataStream(pair.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KRAKEN, instrument: pair.instrument, bids, asks, priceScale: pair.priceScale, qtyScale: pair.qtyScale,
        ...(depth !== undefined ? { depth } : {}),
      },
      raw: rawJson(body),
    })]);
  }

  private bookUpdate(pairName: string, parts: unknown[], body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const pair = this.pair(pairName, ctx);
    const changes: Array<{ side: 'buy' | 'sell'; priceTicks: number; qtyLots: number }> = [];
    let latest: bigint | null = null;
    for (let k = 0; k < parts.length; k++) {
      const part = validate(BookUpdatePart, parts[k], ctx, 'Kraken book update', String(k + 1));
      for (const [name, side] of [['a', 'sell'], ['b', 'buy']] as const) {
        const levels = part[name];
        if (levels === undefined) continue;
        for (let i = 0; i < levels.length; i++) {
          const [p, v, ts] = levels[i]!;
          const t = secondsToNs(ts, ctx, `${k + 1}.${name}.${i}.2`);
          if (latest === null || t > latest) latest = t;
          changes.push({ side, priceTicks: toInt(p, pair.priceScale, ctx, `${k + 1}.${name}.${i}.0`), qtyLots: toInt(v, pair.qtyScale, ctx, `${k + 1}.${name}.${i}.1`) });
        }
      }
    }
    return this.emit(pair, latest, ctx, (ns) => [makeEvent({
      id: this.ids.content(`bookDelta:${pair.instrument}:${frameDigest(body)}`),
      type: 'BookDeltaApplied',
      stream: marketDataStream(pair.instrument),
      eventTimeNs: ns,
      receiveTimeNs: ctx.receiveTimeNs,
      data: { venue: KRAKEN, instrument: pair.instrument, changes, priceScale: pair.priceScale, qtyScale: pair.qtyScale },
      raw: rawJson(body),
    })]);
  }

  /**
   * A message's events under the event-time policy (common/event-time.ts): `venueNs` is the time the
   * venue wrote on it; null when it wrote none, and then the latest venue time seen, or, before the
   * stream has carried any (tickers come before the first trade or book message), the first one: such
   * messages wait for it. The pair's InstrumentDefined comes first, the first time the pair is used,
   * with the same time.
   */
  private emit(pair: KrakenPair, venueNs: bigint | null, ctx: FrameContext, build: (eventTimeNs: bigint) => AnyEnvelope[]): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    const wait = venueNs === null && !this.clock.hasVenueTime();
    const ns = venueNs !== null ? this.clock.stamp(venueNs, out) : this.clock.untimed(ctx);
    const mine: AnyEnvelope[] = [];
    if (!pair.defined) {
      pair.defined = true;
      mine.push(this.definition(pair, ns, ctx));
    }
    for (const e of build(ns)) mine.push(e);
    if (wait) return this.clock.awaitVenueTime(mine);
    for (const e of mine) out.push(e);
    return out;
  }

  /** End of stream: messages still waiting for a venue time (the stream carried none), as made. */
  flush(): AnyEnvelope[] {
    return this.clock.flush();
  }

  /** The pair's metadata; INSTRUMENT_UNKNOWN until AssetPairs named it. */
  private pair(wsname: string, ctx: FrameContext): KrakenPair {
    const pair = this.pairs.get(wsname);
    if (pair === undefined) {
      throw new TapedeckError('INSTRUMENT_UNKNOWN', `Kraken pair "${wsname}" is not in the AssetPairs metadata (${this.pairs.size} pairs known): load the REST AssetPairs answer first (KRAKEN.0 beside the capture)`, { file: ctx.file, line: ctx.line, field: 'pair' });
    }
    return pair;
  }

  private definition(pair: KrakenPair, eventTimeNs: bigint, ctx: FrameContext): AnyEnvelope {
    const [base, quote] = pair.wsname.split('/');
    return makeEvent({
      id: this.ids.venue(`instrument:${pair.instrument}:${pair.priceScale}:${pair.qtyScale}:${pair.tickSizeTicks}:1`),
      type: 'InstrumentDefined',
      stream: marketDataStream(pair.instrument),
      eventTimeNs,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: KRAKEN, instrument: pair.instrument, symbol: pair.wsname, kind: 'spot',
        ...(base ? { baseCurrency: base } : {}), quoteCurrency: quote ?? pair.wsname,
        priceScale: pair.priceScale, qtyScale: pair.qtyScale, tickSizeTicks: pair.tickSizeTicks, lotSizeLots: 1,
      },
    });
  }
}
