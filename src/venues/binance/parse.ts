/**
 * Binance spot payloads → catalogue envelopes. Handles the combined-stream wrapper
 * (`{"stream":..., "data":...}`) and raw streams, and the REST answers the book procedure and
 * instrument set-up need.
 *
 *   depthUpdate        → BookDeltaApplied (firstSequence U, sequence u)
 *   <sym>@depthN       → BookSnapshotted (partial book stream, sequence lastUpdateId)
 *   aggTrade / trade   → TradeReported (tradeId `agg:<a>` / `<t>`; aggressor from m: buyer is maker → sell)
 *   bookTicker         → QuoteUpdated (sequence u)
 *   kline, avgPrice    → counted, no event (the catalogue has no bar event)
 *   GET /api/v3/depth  → BookSnapshotted (sequence lastUpdateId)
 *   GET /api/v3/exchangeInfo → instrument metadata (tick and lot sizes, base and quote assets)
 *
 * Scales: Binance writes every price and quantity with the same number of decimals per symbol (8 on
 * spot), so the first price and quantity strings seen for a symbol fix its priceScale and qtyScale
 * (8 when a symbol's first frame carries no level). Tick and lot sizes come from exchangeInfo when it
 * was fetched (PRICE_FILTER tickSize, LOT_SIZE stepSize); without it they are 1 tick and 1 lot, the
 * finest step the wire format can express, not the venue's real filter. A later string with more
 * non-zero decimals than the scale is an error (FIXED_PRECISION) naming file, line and field.
 *
 * Times: E/T are epoch ms (µs when the stream was opened with timeUnit=MICROSECOND; told apart by
 * magnitude). Trades use the trade time T. bookTicker, klines' instrument definitions and REST depth
 * carry no time: their eventTimeNs is the latest venue time this parser has seen (receive time only
 * before the first timed frame). Event time is thus always venue time, decided by frame order alone,
 * so replaying a capture and reading it live over a socket stamp the same times; the receive time
 * stays in receiveTimeNs. (The depth sequencer re-stamps a REST snapshot with the time of the diff
 * it is released before.)
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { makeEvent, type AnyEnvelope, type EventEnvelope } from '../../../domain/events/envelope.js';
import {
  EventIds, bump, decimalsOf, marketDataStream, epochToNs, frameText, parseJson, rawJson, toInt, validate,
  type FrameContext, type VenueParser,
} from '../common/frame.js';
import { VenueClock } from '../common/event-time.js';

export const BINANCE = 'BINANCE';

const num = z.int();
const dec = z.string().min(1);
const level = z.tuple([dec, dec]);

const DepthUpdate = z.object({ e: z.literal('depthUpdate'), E: num, s: z.string().min(1), U: num.nonnegative(), u: num.nonnegative(), b: z.array(level), a: z.array(level) });
const AggTrade = z.object({ e: z.literal('aggTrade'), E: num, s: z.string().min(1), a: num.nonnegative(), p: dec, q: dec, T: num, m: z.boolean() });
const Trade = z.object({ e: z.literal('trade'), E: num, s: z.string().min(1), t: num.nonnegative(), p: dec, q: dec, T: num, m: z.boolean() });
const BookTicker = z.object({ u: num.nonnegative(), s: z.string().min(1), b: dec, B: dec, a: dec, A: dec, E: num.optional() });
const DepthBook = z.object({ lastUpdateId: num.nonnegative(), bids: z.array(level), asks: z.array(level) });
const Kline = z.object({ e: z.literal('kline'), E: z.number().optional(), s: z.string().min(1), k: z.object({ o: dec, v: dec }) });
const VenueError = z.object({ code: z.number(), msg: z.string() });

const ExchangeInfo = z.object({
  symbols: z.array(z.object({
    symbol: z.string().min(1),
    baseAsset: z.string().min(1),
    quoteAsset: z.string().min(1),
    filters: z.array(z.looseObject({ filterType: z.string() })),
  })),
});

/** Quote assets tried, longest first, to split a symbol when exchangeInfo was not fetched. */
const KNOWN_QUOTES = [
  'FDUSD', 'USDT', 'BUSD', 'USDC', 'TUSD', 'USDP', 'BIDR', 'IDRT', 'BKRW', 'BVND', 'GYEN', 'AEUR', 'EURI', 'USD1',
  'BTC', 'ETH', 'BNB', 'EUR', 'GBP', 'TRY', 'AUD', 'BRL', 'RUB', 'UAH', 'NGN', 'ZAR', 'PLN', 'RON', 'ARS', 'JPY',
  'MXN', 'COP', 'CZK', 'XRP', 'TRX', 'DOGE', 'DOT', 'PAX', 'VAI', 'DAI',
].sort((a, b) => b.length - a.length);

interface SymbolFilters {
  base: string;
  quote: string;
  tickSize: string | null;
  stepSize: string | null;
}

export interface BinanceInstrument {
  symbol: string;
  instrument: string;
  priceScale: number;
  qtyScale: number;
}

export interface BinanceParserOptions {
  /** Venue code in instrument ids; default BINANCE. */
  venue?: string;
}

/** `BINANCE:NKNUSDT` from `nknusdt` or `NKNUSDT`. */
export function binanceInstrumentId(symbol: string, venue = BINANCE): string {
  return `${venue}:${symbol.toUpperCase()}`;
}

/** The REST depth snapshot URL for a symbol, as Binance documents it. */
export function binanceDepthUrl(restBaseUrl: string, symbol: string, limit = 1000): string {
  return `${restBaseUrl.replace(/\/+$/, '')}/api/v3/depth?symbol=${symbol.toUpperCase()}&limit=${limit}`;
}

/** What a REST URL is, for routing captured or fetched answers. */
export function classifyBinanceHttp(url: string): { kind: 'depth'; symbol: string } | { kind: 'exchangeInfo' } | { kind: 'other' } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'other' };
  }
  if (u.pathname.endsWith('/api/v3/depth')) {
    const symbol = u.searchParams.get('symbol');
    return symbol ? { kind: 'depth', symbol: symbol.toUpperCase() } : { kind: 'other' };
  }
  if (u.pathname.endsWith('/api/v3/exchangeInfo')) return { kind: 'exchangeInfo' };
  return { kind: 'other' };
}

export class BinanceParser implements VenueParser {
  readonly venue: string;
  readonly frameCounts = new Map<string, number>();
  private readonly ids: EventIds;
  private readonly instruments = new Map<string, BinanceInstrument>();
  private readonly filters = new Map<string, SymbolFilters>();
  /** Event time policy (common/event-time.ts): venue time by frame order. Binance holds nothing back. */
  private readonly clock = new VenueClock();

  constructor(options: BinanceParserOptions = {}) {
    this.venue = options.venue ?? BINANCE;
    this.ids = new EventIds(`tapedeck/marketdata/${this.venue}`);
  }

  /** Records a frame's venue time and returns it. */
  private venueTime(ns: bigint): bigint {
    return this.clock.stamp(ns);
  }

  /** Event time for a message the venue did not timestamp: the latest venue time seen, else receive time. */
  private untimed(ctx: FrameContext): bigint {
    return this.clock.untimed(ctx);
  }

  instrument(symbol: string): BinanceInstrument | undefined {
    return this.instruments.get(symbol.toUpperCase());
  }

  parseHttp(url: string, body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const what = classifyBinanceHttp(url);
    const text = frameText(body, ctx, this.venue);
    const json = parseJson(text, ctx, this.venue);
    this.throwIfVenueError(json, ctx, url);
    switch (what.kind) {
      case 'depth':
        bump(this.frameCounts, 'http:depth');
        return this.depthBook(what.symbol, json, body, ctx, 'snapshot', 'http');
      case 'exchangeInfo': {
        bump(this.frameCounts, 'http:exchangeInfo');
        const info = validate(ExchangeInfo, json, ctx, 'Binance exchangeInfo');
        for (const s of info.symbols) {
          const f = (type: string, key: string): string | null => {
            const v = s.filters.find((x) => x.filterType === type)?.[key];
            return typeof v === 'string' ? v : null;
          };
          this.filters.set(s.symbol, { base: s.baseAsset, quote: s.quoteAsset, tickSize: f('PRICE_FILTER', 'tickSize'), stepSize: f('LOT_SIZE', 'stepSize') });
        }
        return [];
      }
      case 'other':
        bump(this.frameCounts, 'http:other');
        return [];
    }
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const json = parseJson(frameText(body, ctx, this.venue), ctx, this.venue);
    let data: unknown = json;
    let stream: string | null = null;
    let prefix = '';
    if (isObject(json) && typeof json.stream === 'string' && 'data' in json) {
      stream = json.stream;
      data = json.data;
      prefix = 'data';
    }
    if (!isObject(data)) {
      throw new TapedeckError('FRAME_INVALID', `Binance frame: expected a JSON object${stream ? ` in "data" of stream ${stream}` : ''}`, { file: ctx.file, line: ctx.line, field: prefix || '(root)' });
    }
    const e = data.e;
    if (typeof e === 'string') {
      bump(this.frameCounts, e);
      switch (e) {
        case 'depthUpdate':
          return this.depthUpdate(validate(DepthUpdate, data, ctx, 'Binance depthUpdate', prefix), body, ctx, prefix);
        case 'aggTrade': {
          const t = validate(AggTrade, data, ctx, 'Binance aggTrade', prefix);
          return this.trade(t.s, `agg:${t.a}`, `aggTrade:${t.a}`, t.p, t.q, t.m, t.T, body, ctx, prefix);
        }
        case 'trade': {
          const t = validate(Trade, data, ctx, 'Binance trade', prefix);
          return this.trade(t.s, String(t.t), `trade:${t.t}`, t.p, t.q, t.m, t.T, body, ctx, prefix);
        }
        case 'kline': {
          // No bar event in the catalogue; the symbol is still defined so its scales are known early.
          const k = validate(Kline, data, ctx, 'Binance kline', prefix);
          if (k.E !== undefined) this.venueTime(epochToNs(k.E));
          return this.define(k.s, k.k.o, k.k.v, ctx);
        }
        default:
          return [];
      }
    }
    if ('lastUpdateId' in data) {
      bump(this.frameCounts, 'partialDepth');
      const symbol = stream?.split('@')[0];
      if (!symbol) throw new TapedeckError('FRAME_INVALID', 'Binance partial depth frame without a stream name: subscribe through /stream?streams= so the symbol is known', { file: ctx.file, line: ctx.line, field: 'stream' });
      const levels = stream!.split('@')[1] ?? 'depth';
      return this.depthBook(symbol.toUpperCase(), data, body, ctx, `partial:${levels}`, prefix);
    }
    if ('u' in data && 'b' in data && 'B' in data) {
      bump(this.frameCounts, 'bookTicker');
      return this.bookTicker(validate(BookTicker, data, ctx, 'Binance bookTicker', prefix), body, ctx, prefix);
    }
    if ('result' in data && 'id' in data) {
      bump(this.frameCounts, 'control');
      return [];
    }
    this.throwIfVenueError(data, ctx, stream ?? 'stream');
    bump(this.frameCounts, 'unknown');
    return [];
  }

  // ---------- messages ----------

  private depthUpdate(d: z.output<typeof DepthUpdate>, body: Uint8Array, ctx: FrameContext, prefix: string): AnyEnvelope[] {
    const venueNs = this.venueTime(epochToNs(d.E));
    const sample = d.b[0] ?? d.a[0];
    const out = this.define(d.s, sample?.[0], sample?.[1], ctx);
    const inst = this.instruments.get(d.s)!;
    const changes: Array<{ side: 'buy' | 'sell'; priceTicks: number; qtyLots: number }> = [];
    const f = prefix ? `${prefix}.` : '';
    for (let i = 0; i < d.b.length; i++) {
      const [p, q] = d.b[i]!;
      changes.push({ side: 'buy', priceTicks: toInt(p, inst.priceScale, ctx, `${f}b.${i}.0`), qtyLots: toInt(q, inst.qtyScale, ctx, `${f}b.${i}.1`) });
    }
    for (let i = 0; i < d.a.length; i++) {
      const [p, q] = d.a[i]!;
      changes.push({ side: 'sell', priceTicks: toInt(p, inst.priceScale, ctx, `${f}a.${i}.0`), qtyLots: toInt(q, inst.qtyScale, ctx, `${f}a.${i}.1`) });
    }
    out.push(makeEvent({
      id: this.ids.venue(`depth:${inst.instrument}:${d.U}:${d.u}`),
      type: 'BookDeltaApplied',
      stream: marketDataStream(inst.instrument),
      eventTimeNs: venueNs,
      receiveTimeNs: ctx.receiveTimeNs,
      data: { venue: this.venue, instrument: inst.instrument, changes, priceScale: inst.priceScale, qtyScale: inst.qtyScale, firstSequence: d.U, sequence: d.u },
      raw: rawJson(body),
    }));
    return out;
  }

  private trade(symbol: string, tradeId: string, idName: string, p: string, q: string, buyerIsMaker: boolean, tradeTime: number, body: Uint8Array, ctx: FrameContext, prefix: string): AnyEnvelope[] {
    const venueNs = this.venueTime(epochToNs(tradeTime));
    const out = this.define(symbol, p, q, ctx);
    const inst = this.instruments.get(symbol)!;
    const f = prefix ? `${prefix}.` : '';
    out.push(makeEvent({
      id: this.ids.venue(`${idName}:${inst.instrument}`),
      type: 'TradeReported',
      stream: marketDataStream(inst.instrument),
      eventTimeNs: venueNs,
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: this.venue, instrument: inst.instrument, tradeId,
        priceTicks: toInt(p, inst.priceScale, ctx, `${f}p`), qtyLots: toInt(q, inst.qtyScale, ctx, `${f}q`),
        priceScale: inst.priceScale, qtyScale: inst.qtyScale,
        // The buyer being the maker means the seller crossed the spread.
        aggressor: buyerIsMaker ? 'sell' : 'buy',
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private bookTicker(t: z.output<typeof BookTicker>, body: Uint8Array, ctx: FrameContext, prefix: string): AnyEnvelope[] {
    if (t.E !== undefined) this.venueTime(epochToNs(t.E));
    const out = this.define(t.s, t.b, t.B, ctx);
    const inst = this.instruments.get(t.s)!;
    const f = prefix ? `${prefix}.` : '';
    const bidQty = toInt(t.B, inst.qtyScale, ctx, `${f}B`);
    const askQty = toInt(t.A, inst.qtyScale, ctx, `${f}A`);
    out.push(makeEvent({
      id: this.ids.venue(`bookTicker:${inst.instrument}:${t.u}`),
      type: 'QuoteUpdated',
      stream: marketDataStream(inst.instrument),
      eventTimeNs: t.E !== undefined ? epochToNs(t.E) : this.untimed(ctx),
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: this.venue, instrument: inst.instrument,
        // An empty side is sent as price 0 with quantity 0.
        bidPriceTicks: bidQty > 0 ? toInt(t.b, inst.priceScale, ctx, `${f}b`) : null, bidQtyLots: bidQty,
        askPriceTicks: askQty > 0 ? toInt(t.a, inst.priceScale, ctx, `${f}a`) : null, askQtyLots: askQty,
        priceScale: inst.priceScale, qtyScale: inst.qtyScale, sequence: t.u,
      },
      raw: rawJson(body),
    }));
    return out;
  }

  private depthBook(symbol: string, json: unknown, body: Uint8Array, ctx: FrameContext, idKind: string, prefix: string): AnyEnvelope[] {
    const d = validate(DepthBook, json, ctx, `Binance depth ${idKind}`, prefix === 'http' ? '' : prefix);
    const sample = d.bids[0] ?? d.asks[0];
    const out = this.define(symbol, sample?.[0], sample?.[1], ctx);
    const inst = this.instruments.get(symbol)!;
    const f = prefix && prefix !== 'http' ? `${prefix}.` : '';
    const side = (levels: Array<[string, string]>, name: string): Array<[number, number]> =>
      levels.map(([p, q], i) => [toInt(p, inst.priceScale, ctx, `${f}${name}.${i}.0`), toInt(q, inst.qtyScale, ctx, `${f}${name}.${i}.1`)]);
    out.push(makeEvent({
      id: this.ids.venue(`${idKind}:${inst.instrument}:${d.lastUpdateId}`),
      type: 'BookSnapshotted',
      stream: marketDataStream(inst.instrument),
      eventTimeNs: this.untimed(ctx),
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: this.venue, instrument: inst.instrument,
        bids: side(d.bids, 'bids'), asks: side(d.asks, 'asks'),
        priceScale: inst.priceScale, qtyScale: inst.qtyScale, sequence: d.lastUpdateId,
      },
      raw: rawJson(body),
    }));
    return out;
  }

  // ---------- instruments ----------

  /** Returns [InstrumentDefined] the first time a symbol is seen, else []. */
  private define(symbol: string, price: string | undefined, qty: string | undefined, ctx: FrameContext): AnyEnvelope[] {
    const sym = symbol.toUpperCase();
    if (this.instruments.has(sym)) return [];
    const filt = this.filters.get(sym);
    let priceScale = price !== undefined ? decimalsOf(price) : 8;
    let qtyScale = qty !== undefined ? decimalsOf(qty) : 8;
    if (filt?.tickSize) priceScale = Math.max(priceScale, decimalsOf(filt.tickSize));
    if (filt?.stepSize) qtyScale = Math.max(qtyScale, decimalsOf(filt.stepSize));
    const instrument = binanceInstrumentId(sym, this.venue);
    const tick = filt?.tickSize ? toInt(filt.tickSize, priceScale, ctx, 'exchangeInfo.PRICE_FILTER.tickSize') : 1;
    const lot = filt?.stepSize ? toInt(filt.stepSize, qtyScale, ctx, 'exchangeInfo.LOT_SIZE.stepSize') : 1;
    const split = filt ? { base: filt.base, quote: filt.quote } : splitSymbol(sym);
    this.instruments.set(sym, { symbol: sym, instrument, priceScale, qtyScale });
    const ev: EventEnvelope<'InstrumentDefined'> = makeEvent({
      id: this.ids.venue(`instrument:${instrument}:${priceScale}:${qtyScale}:${tick}:${lot}`),
      type: 'InstrumentDefined',
      stream: marketDataStream(instrument),
      eventTimeNs: this.untimed(ctx),
      receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: this.venue, instrument, symbol: sym, kind: 'spot',
        ...(split.base ? { baseCurrency: split.base } : {}), quoteCurrency: split.quote,
        priceScale, qtyScale, tickSizeTicks: tick > 0 ? tick : 1, lotSizeLots: lot > 0 ? lot : 1,
      },
    });
    return [ev];
  }

  private throwIfVenueError(json: unknown, ctx: FrameContext, where: string): void {
    const r = VenueError.safeParse(json);
    if (r.success) {
      throw new TapedeckError('VENUE_ERROR', `Binance answered ${where} with error ${r.data.code}: ${r.data.msg}`, { file: ctx.file, line: ctx.line });
    }
  }
}

/** Splits NKNUSDT into NKN/USDT by known quote assets; UNKNOWN quote when none matches. */
export function splitSymbol(symbol: string): { base: string | undefined; quote: string } {
  for (const q of KNOWN_QUOTES) {
    if (symbol.length > q.length && symbol.endsWith(q)) return { base: symbol.slice(0, -q.length), quote: q };
  }
  return { base: undefined, quote: 'UNKNOWN' };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
