/**
 * Alpaca payloads → tapedeck, in one place:
 *
 *   market-data stream v2 (an ARRAY of messages per frame, keyed by `T`):
 *     t → TradeReported (trade id `<exchange>:<i>`)     q → QuoteUpdated (a 0 price is an empty side)
 *     b → BarClosed (one-minute bars)                     success / subscription → counted
 *     error → FRAME_INVALID naming Alpaca's code (402 auth failed, 401 not authenticated, 405, 406)
 *     InstrumentDefined from the config (scales, tick) before an instrument's first event.
 *   trade_updates (`{stream, data}`; paper sends binary frames, live text: both decode the same) → TradeUpdate
 *   REST objects (order, position, FILL activity, account) → validated shapes
 *
 * Exact numbers: the market-data stream writes prices and sizes as JSON numbers. `exactJson` reads every
 * number token as its decimal text (no float ever exists), and prices and sizes are parsed from that text at the
 * instrument's scale; a value finer than the scale is an error, never rounded. REST and trade_updates carry
 * decimal strings, parsed the same way.
 *
 * Event time is venue time (common/event-time.ts): each message's `t` (RFC-3339 with up to ns digits).
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import { VenueClock } from '../common/event-time.js';
import {
  EventIds, bump, frameDigest, frameText, isoToNs, marketDataStream, rawJson, toInt, validate, type FrameContext, type VenueParser,
} from '../common/frame.js';
import { ALPACA } from './config.js';

// ---------------------------------------------------------------- exact JSON

/**
 * JSON.parse with every number token kept as its decimal text ("126.55", "1e-7" refused): the market-data
 * stream's prices never pass through a float. Strings and structure are JSON.parse's own.
 */
export function exactJson(text: string): unknown {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      if (!/^-?(0|[1-9]\d*)(\.\d+)?$/.test(token)) throw new SyntaxError(`number ${token} is not a plain decimal`);
      out += text.slice(last, i) + '"' + token + '"';
      last = j;
      i = j - 1;
    }
  }
  return JSON.parse(out + text.slice(last));
}

// ---------------------------------------------------------------- market data

const dec = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal number');
const Trade = z.looseObject({ T: z.literal('t'), S: z.string().min(1), i: dec, x: z.string(), p: dec, s: dec, t: z.string() });
const Quote = z.looseObject({ T: z.literal('q'), S: z.string().min(1), bp: dec, bs: dec, ap: dec, as: dec, t: z.string() });
const Bar = z.looseObject({ T: z.literal('b'), S: z.string().min(1), o: dec, h: dec, l: dec, c: dec, v: dec, n: dec.optional(), t: z.string() });
const Control = z.looseObject({ T: z.enum(['success', 'subscription', 'error']), code: dec.optional(), msg: z.string().optional() });

export interface AlpacaInstrumentRules {
  priceScale: number;
  qtyScale: number;
  /** Order price increment, at priceScale. */
  tickSizeTicks: number;
}

export function alpacaInstrumentId(symbol: string): string {
  return `${ALPACA}:${symbol}`;
}

const MINUTE_NS = 60_000_000_000n;

export class AlpacaParser implements VenueParser {
  readonly venue = ALPACA;
  readonly frameCounts = new Map<string, number>();
  private readonly ids = new EventIds(`tapedeck/marketdata/${ALPACA}`);
  private readonly clock = new VenueClock();
  private readonly defined = new Set<string>();

  constructor(private readonly rules: AlpacaInstrumentRules) {}

  parseHttp(): AnyEnvelope[] {
    bump(this.frameCounts, 'http:other');
    return [];
  }

  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[] {
    const text = frameText(body, ctx, ALPACA);
    let json: unknown;
    try {
      json = exactJson(text);
    } catch (e) {
      throw new TapedeckError('FRAME_JSON', `${ALPACA} frame is not valid JSON (${e instanceof Error ? e.message : String(e)})`, { file: ctx.file, line: ctx.line });
    }
    const messages = validate(z.array(z.looseObject({ T: z.string() })), json, ctx, 'Alpaca market-data frame (an array of messages)');
    const out: AnyEnvelope[] = [];
    messages.forEach((m, i) => {
      bump(this.frameCounts, m.T);
      switch (m.T) {
        case 't':
          return this.trade(validate(Trade, m, ctx, 'Alpaca trade', String(i)), i, body, ctx, out);
        case 'q':
          return this.quote(validate(Quote, m, ctx, 'Alpaca quote', String(i)), i, body, ctx, out);
        case 'b':
          return this.bar(validate(Bar, m, ctx, 'Alpaca bar', String(i)), i, body, ctx, out);
        case 'error': {
          const c = validate(Control, m, ctx, 'Alpaca error', String(i));
          throw new TapedeckError('FRAME_INVALID', `Alpaca market data answered error ${c.code ?? '?'}: ${c.msg ?? ''}`, { file: ctx.file, line: ctx.line, field: `${i}.code` });
        }
        default:
          return undefined; // success, subscription, and kinds not subscribed (statuses, corrections)
      }
    });
    return out;
  }

  flush(): AnyEnvelope[] {
    return this.clock.flush();
  }

  private define(symbol: string, atNs: bigint, ctx: FrameContext, out: AnyEnvelope[]): string {
    const instrument = alpacaInstrumentId(symbol);
    if (this.defined.has(instrument)) return instrument;
    this.defined.add(instrument);
    out.push(alpacaInstrumentDefined(symbol, this.rules, atNs, ctx.receiveTimeNs));
    return instrument;
  }

  private trade(m: z.output<typeof Trade>, i: number, body: Uint8Array, ctx: FrameContext, out: AnyEnvelope[]): void {
    const ns = this.clock.stamp(isoToNs(m.t, ctx, `${i}.t`), out);
    const instrument = this.define(m.S, ns, ctx, out);
    out.push(makeEvent({
      id: this.ids.venue(`trade:${m.S}:${m.x}:${m.i}`), type: 'TradeReported', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: ALPACA, instrument, tradeId: `${m.x}:${m.i}`, priceTicks: toInt(m.p, this.rules.priceScale, ctx, `${i}.p`), qtyLots: toInt(m.s, this.rules.qtyScale, ctx, `${i}.s`),
        priceScale: this.rules.priceScale, qtyScale: this.rules.qtyScale, aggressor: 'unknown',
      },
      raw: rawJson(body),
    }));
  }

  private quote(m: z.output<typeof Quote>, i: number, body: Uint8Array, ctx: FrameContext, out: AnyEnvelope[]): void {
    const ns = this.clock.stamp(isoToNs(m.t, ctx, `${i}.t`), out);
    const instrument = this.define(m.S, ns, ctx, out);
    const price = (p: string, field: string): number | null => {
      const v = toInt(p, this.rules.priceScale, ctx, field);
      return v > 0 ? v : null;
    };
    out.push(makeEvent({
      id: this.ids.content(`quote:${m.S}:${m.t}:${frameDigest(body)}:${i}`), type: 'QuoteUpdated', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: ALPACA, instrument, bidPriceTicks: price(m.bp, `${i}.bp`), bidQtyLots: toInt(m.bs, this.rules.qtyScale, ctx, `${i}.bs`),
        askPriceTicks: price(m.ap, `${i}.ap`), askQtyLots: toInt(m.as, this.rules.qtyScale, ctx, `${i}.as`), priceScale: this.rules.priceScale, qtyScale: this.rules.qtyScale,
      },
      raw: rawJson(body),
    }));
  }

  private bar(m: z.output<typeof Bar>, i: number, body: Uint8Array, ctx: FrameContext, out: AnyEnvelope[]): void {
    const ns = this.clock.stamp(isoToNs(m.t, ctx, `${i}.t`), out);
    const instrument = this.define(m.S, ns, ctx, out);
    const p = (v: string, f: string): number => toInt(v, this.rules.priceScale, ctx, `${i}.${f}`);
    out.push(makeEvent({
      id: this.ids.venue(`bar:${m.S}:${m.t}`), type: 'BarClosed', stream: marketDataStream(instrument), eventTimeNs: ns, receiveTimeNs: ctx.receiveTimeNs,
      data: {
        venue: ALPACA, instrument, startNs: ns, durationNs: MINUTE_NS, openTicks: p(m.o, 'o'), highTicks: p(m.h, 'h'), lowTicks: p(m.l, 'l'), closeTicks: p(m.c, 'c'),
        volumeLots: toInt(m.v, this.rules.qtyScale, ctx, `${i}.v`), ...(m.n !== undefined ? { trades: toInt(m.n, 0, ctx, `${i}.n`) } : {}),
        priceScale: this.rules.priceScale, qtyScale: this.rules.qtyScale,
      },
      raw: rawJson(body),
    }));
  }
}

/** The instrument as tapedeck knows it: a US equity in USD, scales and tick from the config. */
export function alpacaInstrumentDefined(symbol: string, rules: AlpacaInstrumentRules, atNs: bigint, receiveNs: bigint): AnyEnvelope {
  const instrument = alpacaInstrumentId(symbol);
  return makeEvent({
    id: new EventIds(`tapedeck/marketdata/${ALPACA}`).venue(`instrument:${symbol}:${rules.priceScale}:${rules.qtyScale}:${rules.tickSizeTicks}`),
    type: 'InstrumentDefined', stream: marketDataStream(instrument), eventTimeNs: atNs, receiveTimeNs: receiveNs,
    data: { venue: ALPACA, instrument, symbol, kind: 'equity', quoteCurrency: 'USD', priceScale: rules.priceScale, qtyScale: rules.qtyScale, tickSizeTicks: rules.tickSizeTicks, lotSizeLots: 1 },
  });
}

// ---------------------------------------------------------------- trading API (REST objects, trade_updates)

const nullableDec = dec.nullable().optional();

/** An order as /v2/orders returns it (and inside every trade update). Numbers are decimal strings. */
export const AlpacaOrder = z.looseObject({
  id: z.string().min(1),
  client_order_id: z.string(),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  type: z.string(),
  time_in_force: z.string(),
  qty: nullableDec,
  filled_qty: dec,
  filled_avg_price: nullableDec,
  limit_price: nullableDec,
  status: z.string(),
  created_at: z.string(),
  updated_at: z.string().nullable().optional(),
  replaced_by: z.string().nullable().optional(),
  replaces: z.string().nullable().optional(),
});
export type AlpacaOrder = z.output<typeof AlpacaOrder>;

export const AlpacaPosition = z.looseObject({ symbol: z.string().min(1), qty: dec, side: z.enum(['long', 'short']).optional(), avg_entry_price: dec.optional() });
export type AlpacaPosition = z.output<typeof AlpacaPosition>;

/** A FILL activity (GET /v2/account/activities/FILL); ids `<YYYYMMDDHHMMSSmmm>::<execution id>` sort by time. */
export const AlpacaFillActivity = z.looseObject({
  activity_type: z.literal('FILL'),
  id: z.string().regex(/^\d{17}::.+$/, 'an activity id <YYYYMMDDHHMMSSmmm>::<id>'),
  order_id: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  price: dec,
  qty: dec,
  cum_qty: dec,
  leaves_qty: dec,
  transaction_time: z.string(),
  type: z.enum(['fill', 'partial_fill']),
});
export type AlpacaFillActivity = z.output<typeof AlpacaFillActivity>;

export const AlpacaAccount = z.looseObject({ id: z.string(), status: z.string(), currency: z.string(), cash: dec, equity: dec.optional() });

/** The execution id behind a FILL activity id (the part after `::`): the fill's identity in both listings. */
export function executionIdOfActivity(id: string): string {
  return id.slice(id.indexOf('::') + 2);
}

export const TRADE_UPDATE_EVENTS = ['new', 'fill', 'partial_fill', 'canceled', 'expired', 'done_for_day', 'replaced', 'rejected', 'pending_new', 'pending_cancel', 'pending_replace', 'accepted', 'order_replace_rejected', 'order_cancel_rejected', 'stopped', 'suspended', 'calculated'] as const;

const TradeUpdateData = z.looseObject({
  event: z.string(),
  execution_id: z.string().optional(),
  timestamp: z.string().optional(),
  price: dec.optional(),
  qty: dec.optional(),
  position_qty: dec.optional(),
  order: AlpacaOrder,
});
export type TradeUpdate = z.output<typeof TradeUpdateData>;

const StreamMessage = z.looseObject({ stream: z.string(), data: z.unknown() });

export type TradeStreamMessage =
  | { kind: 'authorization'; authorized: boolean }
  | { kind: 'listening'; streams: string[] }
  | { kind: 'trade_update'; update: TradeUpdate }
  | { kind: 'other'; stream: string };

/** One trade-stream frame, binary (paper) or text (live): both are UTF-8 JSON `{stream, data}`. */
export function parseTradeStreamFrame(body: Uint8Array | string, ctx: FrameContext): TradeStreamMessage {
  const text = typeof body === 'string' ? body : frameText(body, ctx, ALPACA);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TapedeckError('FRAME_JSON', 'Alpaca trade stream frame is not valid JSON', { file: ctx.file, line: ctx.line });
  }
  const m = validate(StreamMessage, json, ctx, 'Alpaca trade stream message');
  switch (m.stream) {
    case 'authorization': {
      const d = validate(z.looseObject({ status: z.string() }), m.data, ctx, 'Alpaca authorization', 'data');
      return { kind: 'authorization', authorized: d.status === 'authorized' };
    }
    case 'listening': {
      const d = validate(z.looseObject({ streams: z.array(z.string()) }), m.data, ctx, 'Alpaca listening', 'data');
      return { kind: 'listening', streams: d.streams };
    }
    case 'trade_updates':
      return { kind: 'trade_update', update: validate(TradeUpdateData, m.data, ctx, 'Alpaca trade update', 'data') };
    default:
      return { kind: 'other', stream: m.stream };
  }
}
