/**
 * ITCH 5.0 → the catalogue's market-data envelopes (domain/events/catalog.ts):
 *
 *   R → InstrumentDefined      H → TradingStatusChanged
 *   A, F → BookOrderAdded      E, C → BookOrderExecuted     X → BookOrderCanceled
 *   D → BookOrderDeleted       U → BookOrderReplaced        P → TradeReported   Q → TradeReported (cross: true)
 *
 * Other types (S, Y, L, V, W, K, J, h, B, I, N, O) have no catalogue event and map to nothing.
 * Every envelope keeps the message bytes in `raw: { format: 'itch50', bytes }` (a copy, without the
 * length prefix). Ids are deterministic: uuidFromName('itch50', `${fileId}:${messageIndex}`), the index
 * counting every message of the file from 0, so re-ingesting a file gives the same ids. Instruments are
 * `NASDAQ:<symbol>` (padding trimmed), named from the stock directory ('R') for the messages that carry
 * only a locate; prices are Price(4) ticks (priceScale 4), quantities shares (qtyScale 0).
 * eventTimeNs = sessionMidnightNs (ns since the epoch of the session's midnight, Eastern) + timestamp.
 */
import { TapedeckError } from '../../../../domain/core/errors.js';
import { uuidFromName } from '../../../../domain/core/sha256.js';
import { CATALOG, type EventType } from '../../../../domain/events/catalog.js';
import { makeEvent, type AnyEnvelope, type RawBytes } from '../../../../domain/events/envelope.js';
import { marketDataStream } from '../../common/frame.js';
import { type ErrorPolicy } from '../framing/binaryfile.js';
import { readFileChunks } from '../framing/byte-source.js';
import { decodeMessage } from './codec.js';
import type { ItchMessage } from './messages.js';
import type { ItchMessageView } from './views.js';
import { itchFileReader, type ItchReadSummary } from './reader.js';

export const ITCH_ID_NAMESPACE = 'itch50';
export const NASDAQ_VENUE = 'NASDAQ';
export const ITCH_PRICE_SCALE = 4;
export const ITCH_QTY_SCALE = 0;

export interface ItchEventOptions {
  /** Names the file in event ids; default: the file's base name. Keep it stable to keep ids stable. */
  fileId?: string;
  /** ns since the Unix epoch of the session's midnight (Eastern); default 0 (times stay "since midnight"). */
  sessionMidnightNs?: bigint;
  venue?: string;
}

const TRADING_STATE: Record<string, 'halted' | 'paused' | 'quotation-only' | 'trading'> = {
  H: 'halted',
  P: 'paused',
  Q: 'quotation-only',
  T: 'trading',
};

/** Maps decoded messages one by one; keeps the stock directory it needs to name instruments. */
export class ItchEventMapper {
  private readonly symbols = new Map<number, string>();
  /** Instrument and stream names by locate, once the directory named it (mapView's cache). */
  private readonly byLocate: Array<{ instrument: string; stream: string } | undefined> = [];
  private readonly fileId: string;
  private readonly midnightNs: bigint;
  private readonly venue: string;

  constructor(options: ItchEventOptions & { fileId: string }) {
    this.fileId = options.fileId;
    this.midnightNs = options.sessionMidnightNs ?? 0n;
    this.venue = options.venue ?? NASDAQ_VENUE;
  }

  /** Instrument id for a locate, from the directory (or the stock field seen with it), else `NASDAQ:LOCATE-n`. */
  instrumentOf(locate: number, stock?: string): string {
    const known = this.symbols.get(locate);
    if (known !== undefined) return `${this.venue}:${known}`;
    const s = stock?.trimEnd();
    if (s !== undefined && s.length > 0 && !/[\s:]/.test(s)) {
      this.symbols.set(locate, s);
      return `${this.venue}:${s}`;
    }
    return `${this.venue}:LOCATE-${locate}`;
  }

  /**
   * The same envelope as `map(decodeMessage(raw))`, read straight from a view for the types that make
   * up nearly all of a day (A, F, E, C, X, D, U, P): no decoded object, no spread, the instrument and
   * stream names made once per locate. The other types go through `map`.
   * `lazyId`: the envelope is a LazyIdEnvelope (see there), for a kernel that reads ids only as causes.
   */
  mapView(v: ItchMessageView, raw: Uint8Array, messageIndex: number, lazyId = false): AnyEnvelope | null {
    const t = v.messageType();
    if (t !== 0x41 && t !== 0x44 && t !== 0x55 && t !== 0x45 && t !== 0x58 && t !== 0x46 && t !== 0x43 && t !== 0x50) {
      // R, H and Q map through map(); the rest (N is 8% of a BX day) have no catalogue event: nothing to decode.
      return t === 0x52 || t === 0x48 || t === 0x51 ? this.map(decodeMessage(raw, 0, raw.length), raw, messageIndex) : null;
    }
    const locate = v.stockLocate();
    let names = this.byLocate[locate];
    if (names === undefined) {
      // A, F and P carry the stock; the others are named by the directory (or LOCATE-n), as in map().
      const instrument = t === 0x41 || t === 0x46 || t === 0x50 ? this.instrumentOf(locate, v.stock()) : this.instrumentOf(locate);
      names = { instrument, stream: marketDataStream(instrument) };
      // Only a name from the directory is final; LOCATE-n may still be named by a later message.
      if (this.symbols.has(locate)) this.byLocate[locate] = names;
    }
    const timeNs = this.midnightNs + BigInt(v.timestamp());
    const venue = this.venue;
    const instrument = names.instrument;
    let type: 'BookOrderAdded' | 'BookOrderDeleted' | 'BookOrderReplaced' | 'BookOrderExecuted' | 'BookOrderCanceled' | 'TradeReported';
    let data: Record<string, unknown>;
    switch (t) {
      case 0x41: // A
      case 0x46: { // F
        type = 'BookOrderAdded';
        data = {
          venue, instrument, orderRef: u64Text(v.orderReferenceNumber(), v, 0), priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE,
          side: v.buySellIndicator() === 0x53 ? 'sell' : 'buy', priceTicks: v.price(), qtyLots: v.shares(),
        };
        if (t === 0x46) {
          const mpid = v.attribution().trimEnd();
          if (mpid.length > 0) data.mpid = mpid;
        }
        break;
      }
      case 0x44: // D
        type = 'BookOrderDeleted';
        data = { venue, instrument, orderRef: u64Text(v.orderReferenceNumber(), v, 0), priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE };
        break;
      case 0x55: // U
        type = 'BookOrderReplaced';
        data = {
          venue, instrument, orderRef: u64Text(v.originalOrderReferenceNumber(), v, 0), priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE,
          newOrderRef: u64Text(v.newOrderReferenceNumber(), v, 1), priceTicks: v.price(), qtyLots: v.shares(),
        };
        break;
      case 0x45: // E
      case 0x43: // C
        type = 'BookOrderExecuted';
        data = {
          venue, instrument, orderRef: u64Text(v.orderReferenceNumber(), v, 0), priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE,
          executedLots: v.executedShares(), matchNumber: u64Text(v.matchNumber(), v, 2),
        };
        if (t === 0x43) {
          data.priceTicks = v.executionPrice();
          data.printable = v.printable() !== 0x4e;
        }
        break;
      case 0x58: // X
        type = 'BookOrderCanceled';
        data = { venue, instrument, orderRef: u64Text(v.orderReferenceNumber(), v, 0), priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE, canceledLots: v.cancelledShares() };
        break;
      default: // P
        type = 'TradeReported';
        data = {
          venue, instrument, tradeId: u64Text(v.matchNumber(), v, 2), priceTicks: v.price(), qtyLots: v.shares(),
          priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE, aggressor: 'unknown',
        };
    }
    if (lazyId) return new LazyIdEnvelope(this.fileId, messageIndex, type, names.stream, timeNs, data, raw) as unknown as AnyEnvelope;
    return {
      id: uuidFromName(ITCH_ID_NAMESPACE, `${this.fileId}:${messageIndex}`), type, schemaVersion: CATALOG[type].version, stream: names.stream,
      eventTimeNs: timeNs, receiveTimeNs: timeNs, causationId: null, correlationId: null, data, raw: { format: 'itch50', bytes: raw },
    } as AnyEnvelope;
  }

  /** The envelope for one message (null for types with no catalogue event). `raw` is kept as given. */
  map(m: ItchMessage, raw: Uint8Array, messageIndex: number): AnyEnvelope | null {
    const base = {
      id: uuidFromName(ITCH_ID_NAMESPACE, `${this.fileId}:${messageIndex}`),
      eventTimeNs: this.midnightNs + BigInt(m.timestamp),
      receiveTimeNs: this.midnightNs + BigInt(m.timestamp),
      raw: { format: 'itch50', bytes: raw } satisfies RawBytes,
    };
    const venue = this.venue;
    const scales = { priceScale: ITCH_PRICE_SCALE, qtyScale: ITCH_QTY_SCALE };
    switch (m.messageType) {
      case 'R': {
        const symbol = m.stock.trimEnd();
        if (symbol.length > 0 && !/[\s:]/.test(symbol)) this.symbols.set(m.stockLocate, symbol);
        const instrument = this.instrumentOf(m.stockLocate);
        return makeEvent({
          ...base, type: 'InstrumentDefined', stream: marketDataStream(instrument),
          data: {
            venue, instrument, symbol: symbol.length > 0 ? symbol : instrument.slice(venue.length + 1), kind: 'equity', quoteCurrency: 'USD',
            ...scales,
            // ITCH prices have 4 decimals; the tick that applies (0.01 or 0.0001) depends on the price, so the finest.
            tickSizeTicks: 1,
            lotSizeLots: 1,
            locate: m.stockLocate,
          },
        });
      }
      case 'H': {
        const instrument = this.instrumentOf(m.stockLocate, m.stock);
        const reason = m.reason.trim();
        return makeEvent({
          ...base, type: 'TradingStatusChanged', stream: marketDataStream(instrument),
          data: { venue, instrument, status: TRADING_STATE[m.tradingState] ?? 'unknown', ...(reason.length > 0 ? { reason } : {}) },
        });
      }
      case 'A':
      case 'F': {
        const instrument = this.instrumentOf(m.stockLocate, m.stock);
        const mpid = m.messageType === 'F' ? m.attribution.trimEnd() : '';
        return makeEvent({
          ...base, type: 'BookOrderAdded', stream: marketDataStream(instrument),
          data: {
            venue, instrument, orderRef: m.orderReferenceNumber.toString(), ...scales,
            side: m.buySellIndicator === 'S' ? 'sell' : 'buy',
            priceTicks: m.price, qtyLots: m.shares,
            ...(mpid.length > 0 ? { mpid } : {}),
          },
        });
      }
      case 'E':
      case 'C': {
        const instrument = this.instrumentOf(m.stockLocate);
        return makeEvent({
          ...base, type: 'BookOrderExecuted', stream: marketDataStream(instrument),
          data: {
            venue, instrument, orderRef: m.orderReferenceNumber.toString(), ...scales,
            executedLots: m.executedShares, matchNumber: m.matchNumber.toString(),
            ...(m.messageType === 'C' ? { priceTicks: m.executionPrice, printable: m.printable !== 'N' } : {}),
          },
        });
      }
      case 'X': {
        const instrument = this.instrumentOf(m.stockLocate);
        return makeEvent({
          ...base, type: 'BookOrderCanceled', stream: marketDataStream(instrument),
          data: { venue, instrument, orderRef: m.orderReferenceNumber.toString(), ...scales, canceledLots: m.cancelledShares },
        });
      }
      case 'D': {
        const instrument = this.instrumentOf(m.stockLocate);
        return makeEvent({
          ...base, type: 'BookOrderDeleted', stream: marketDataStream(instrument),
          data: { venue, instrument, orderRef: m.orderReferenceNumber.toString(), ...scales },
        });
      }
      case 'U': {
        const instrument = this.instrumentOf(m.stockLocate);
        return makeEvent({
          ...base, type: 'BookOrderReplaced', stream: marketDataStream(instrument),
          data: {
            venue, instrument, orderRef: m.originalOrderReferenceNumber.toString(), ...scales,
            newOrderRef: m.newOrderReferenceNumber.toString(), priceTicks: m.price, qtyLots: m.shares,
          },
        });
      }
      case 'P': {
        const instrument = this.instrumentOf(m.stockLocate, m.stock);
        return makeEvent({
          ...base, type: 'TradeReported', stream: marketDataStream(instrument),
          // The indicator names the side of the resting non-displayed order, and Nasdaq sets it to 'B'
          // for every P since 2014, so it says nothing about the aggressor.
          data: { venue, instrument, tradeId: m.matchNumber.toString(), priceTicks: m.price, qtyLots: m.shares, ...scales, aggressor: 'unknown' },
        });
      }
      case 'Q': {
        const instrument = this.instrumentOf(m.stockLocate, m.stock);
        if (m.shares > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new TapedeckError('ITCH_RANGE', `cross trade of ${m.shares} shares exceeds the safe integer range`, { field: 'shares' });
        }
        return makeEvent({
          ...base, type: 'TradeReported', stream: marketDataStream(instrument),
          data: {
            venue, instrument, tradeId: m.matchNumber.toString(), priceTicks: m.crossPrice, qtyLots: Number(m.shares), ...scales,
            aggressor: 'unknown', cross: true,
          },
        });
      }
      default:
        return null;
    }
  }
}

/**
 * An input envelope whose id (a SHA-256 name-based UUID, the costliest part of mapping a message) is
 * derived when first read: the kernel reads an input's id only when the input causes something, and
 * most cause nothing. The id is a getter on the prototype, so a spread copy would lose it: this is for
 * inputs that go to a kernel and nowhere else (the partitioned replay's, which are never journaled).
 */
export class LazyIdEnvelope {
  readonly schemaVersion: number;
  readonly causationId = null;
  readonly correlationId = null;
  readonly raw: RawBytes;
  private cachedId: string | null = null;
  constructor(
    private readonly fileId: string,
    private readonly messageIndex: number,
    readonly type: EventType,
    readonly stream: string,
    readonly eventTimeNs: bigint,
    readonly data: Record<string, unknown>,
    rawBytes: Uint8Array,
  ) {
    this.raw = { format: 'itch50', bytes: rawBytes };
    this.schemaVersion = CATALOG[type].version;
  }

  get receiveTimeNs(): bigint {
    return this.eventTimeNs;
  }

  get id(): string {
    return (this.cachedId ??= uuidFromName(ITCH_ID_NAMESPACE, `${this.fileId}:${this.messageIndex}`));
  }
}

/**
 * A u64 field as decimal text, exact: the view's number when it is below 2^53, else the bigint read
 * (field 0: the order reference, 1: the new order reference, 2: the match number).
 */
function u64Text(n: number, v: ItchMessageView, field: 0 | 1 | 2): string {
  if (n <= Number.MAX_SAFE_INTEGER) return String(n);
  return (field === 0 ? (v.messageType() === 0x55 ? v.originalOrderReferenceNumberBig() : v.orderReferenceNumberBig()) : field === 1 ? v.newOrderReferenceNumberBig() : v.matchNumberBig()).toString();
}

export interface ItchEventSourceOptions extends ItchEventOptions {
  onError?: ErrorPolicy;
  chunkSize?: number;
  /** Called once at the end with the framing summary (messages, errors, end of session). */
  onSummary?: (summary: ItchReadSummary) => void;
}

/**
 * ns since the Unix epoch of midnight in New York on `date` (YYYY-MM-DD): ITCH timestamps count from it.
 * The offset (EST or EDT) is the one in force at that midnight; DST changes at 02:00, so it is the day's first.
 */
export function nasdaqMidnightNs(date: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new TapedeckError('ITCH_DATE', `session date must be YYYY-MM-DD, got ${JSON.stringify(date)}`, { field: 'date' });
  const utcMidnightMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // 05:00 UTC is 00:00 or 01:00 in New York, before any 02:00 DST switch of that day.
  const name = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'shortOffset' })
    .formatToParts(new Date(utcMidnightMs + 5 * 3600_000))
    .find((p) => p.type === 'timeZoneName')?.value;
  const off = /^GMT([+-]\d+)$/.exec(name ?? '');
  if (!off) throw new Error(`invariant violated: unexpected New York offset name ${name}`);
  return BigInt(utcMidnightMs - Number(off[1]) * 3600_000) * 1_000_000n;
}

function baseName(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(i + 1) : file;
}

/**
 * The envelopes of an ITCH file (gzip or not), in file order, streamed: memory stays at about one chunk
 * of input plus the envelopes it produced. For `tapedeck replay FILE`.
 */
export async function* itchEventSource(file: string, options: ItchEventSourceOptions = {}): AsyncGenerator<AnyEnvelope> {
  const mapper = new ItchEventMapper({ ...options, fileId: options.fileId ?? baseName(file) });
  let index = 0;
  let pending: AnyEnvelope[] = [];
  const reader = itchFileReader(
    {
      payload(bytes, offset, length) {
        // A copy: the bytes belong to the reader (Buffer.slice would only be a view of them).
        const raw = new Uint8Array(length);
        raw.set(bytes.subarray(offset, offset + length));
        const env = mapper.map(decodeMessage(raw, 0, length), raw, index++);
        if (env !== null) pending.push(env);
      },
    },
    { file, ...(options.onError !== undefined ? { onError: options.onError } : {}) },
  );
  for await (const chunk of readFileChunks(file, options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {})) {
    reader.push(chunk);
    if (pending.length > 0) {
      const out = pending;
      pending = [];
      yield* out;
    }
    if (reader.done) break;
  }
  const summary = reader.finish();
  yield* pending;
  options.onSummary?.(summary);
}
