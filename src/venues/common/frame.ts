/**
 * What every JSON venue parser shares: the frame context (where a frame came from, for error messages
 * and receive time), JSON and zod validation that name file, line and field, exact decimal parsing,
 * exchange time conversions, and deterministic event ids.
 *
 * Raw exchange JSON is outside input: a malformed frame is a TapedeckError naming the place, never a
 * crash deep in a reducer.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { TapedeckError, isTapedeckError } from '../../../domain/core/errors.js';
import { parseDecimal, parseDecimalToInt } from '../../../domain/core/fixed.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import { formatIssues } from '../../../domain/events/envelope.js';
import type { AnyEnvelope, RawBytes } from '../../../domain/events/envelope.js';

/** Where a frame came from. Live feeds use the socket URL as `file` and the frame number as `line`. */
export interface FrameContext {
  file: string;
  line: number;
  /** When the frame was received (capture timestamp, or the local clock live), ns since the epoch. */
  receiveTimeNs: bigint;
}

/**
 * The shape every venue parser has (one module per venue, NautilusTrader adapter style). Parsers are
 * stateful only in what the venue makes necessary: instrument metadata and which instruments were
 * already defined.
 */
export interface VenueParser {
  readonly venue: string;
  /** A REST response: instrument metadata (AssetPairs, /products, exchangeInfo) or a book snapshot. */
  parseHttp(url: string, body: Uint8Array, ctx: FrameContext): AnyEnvelope[];
  /** One websocket frame as received. */
  parseFrame(body: Uint8Array, ctx: FrameContext): AnyEnvelope[];
  /** Frames seen, by venue message kind (`depthUpdate`, `heartbeat`, `l2update`, ...). */
  readonly frameCounts: Map<string, number>;
  /** End of stream: messages held back to be stamped with a later venue time, released as they are. */
  flush?(): AnyEnvelope[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function frameText(body: Uint8Array, ctx: FrameContext, venue: string): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new TapedeckError('FRAME_ENCODING', `${venue} frame is not valid UTF-8`, { file: ctx.file, line: ctx.line });
  }
}

export function parseJson(text: string, ctx: FrameContext, venue: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TapedeckError('FRAME_JSON', `${venue} frame is not valid JSON (${why}): ${preview(text)}`, { file: ctx.file, line: ctx.line });
  }
}

/** Validates with zod; the error names the first bad field path. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, ctx: FrameContext, what: string, fieldPrefix = ''): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = formatIssues(r.error);
  const path = fieldPrefix ? (field === '(root)' ? fieldPrefix : `${fieldPrefix}.${field}`) : field;
  throw new TapedeckError('FRAME_INVALID', `${what}: ${message}`, { file: ctx.file, line: ctx.line, field: path });
}

/** A decimal string as a safe-integer mantissa at `scale`; errors carry file, line and field. */
export function toInt(text: string, scale: number, ctx: FrameContext, field: string): number {
  try {
    return parseDecimalToInt(text, scale, field);
  } catch (e) {
    throw relocate(e, ctx, field);
  }
}

/** Adds the frame's place to an error raised by lower-level code. */
export function relocate(e: unknown, ctx: FrameContext, field?: string): unknown {
  if (!isTapedeckError(e)) return e;
  return new TapedeckError(e.code, e.message, { ...e.where, file: ctx.file, line: ctx.line, ...(field !== undefined ? { field } : {}) }, e.details);
}

/** Decimal places written in a decimal string ("0.35210000" → 8, "12" → 0). */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Decimal places that carry information ("0.00010000" → 4). */
export function significantDecimalsOf(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/** A decimal string of seconds ("1618678142.557535") as ns; digits beyond ns are dropped (float noise). */
export function secondsToNs(text: string, ctx?: FrameContext, field = 'time'): bigint {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) {
    throw new TapedeckError('FRAME_TIME', `${field}: "${text}" is not a decimal number of seconds`, { ...(ctx ? { file: ctx.file, line: ctx.line } : {}), field });
  }
  const frac = (m[2] ?? '').slice(0, 9);
  return parseDecimal(frac === '' ? m[1]! : `${m[1]}.${frac}`, 9, field);
}

/**
 * An epoch timestamp in ms, µs or ns, as ns, told apart by magnitude: below 1e14 it is ms (ms reach
 * 1e14 only in the year 5138), below 1e17 µs, else ns. Binance spot moved from ms to µs on 2025-01-01
 * in its data files and offers µs on request in its streams.
 */
export function epochToNs(value: number | bigint): bigint {
  const v = typeof value === 'bigint' ? value : BigInt(value);
  const a = v < 0n ? -v : v;
  if (a < 100_000_000_000_000n) return v * 1_000_000n;
  if (a < 100_000_000_000_000_000n) return v * 1_000n;
  return v;
}

export function msToNs(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** An ISO-8601 UTC time with up to ns digits ("2021-04-17T16:43:37.075687Z") as ns. */
export function isoToNs(text: string, ctx: FrameContext, field: string): bigint {
  const m = ISO_RE.exec(text);
  if (!m) throw new TapedeckError('FRAME_TIME', `${field}: "${text}" is not an ISO-8601 UTC time`, { file: ctx.file, line: ctx.line, field });
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

export function rawJson(body: Uint8Array): RawBytes {
  return { format: 'json', bytes: body };
}

/**
 * Deterministic event ids. A venue id (trade id, update id) names an event on its own, so the same
 * trade read twice gets the same id and re-ingestion is idempotent. Frames without a venue id are named
 * by a hash of their bytes; an identical frame repeated within the last `window` such names gets `#n`,
 * so both the capture reader and a live socket, seeing the same frames in the same order, give the same
 * ids without keeping every name forever.
 */
export class EventIds {
  /** name → how many times it was seen while it stayed in the window, and the position it was last seen at. */
  private readonly recent = new Map<string, { seen: number; lastAt: number }>();
  private readonly ring: string[] = [];
  private position = 0;

  constructor(private readonly namespace: string, private readonly window = 4096) {}

  /** From a venue-assigned identity. */
  venue(name: string): string {
    return uuidFromName(this.namespace, name);
  }

  /** From frame content; `name` should already include a hash of the frame. */
  content(name: string): string {
    const at = this.position++;
    const slot = at % this.window;
    if (this.ring.length === this.window) {
      // The name leaving the window is forgotten only if this slot held its last sighting.
      const old = this.ring[slot]!;
      const r = this.recent.get(old);
      if (r !== undefined && r.lastAt === at - this.window) this.recent.delete(old);
      this.ring[slot] = name;
    } else this.ring.push(name);
    const r = this.recent.get(name);
    const seen = r === undefined ? 1 : r.seen + 1;
    this.recent.set(name, { seen, lastAt: at });
    return uuidFromName(this.namespace, seen === 1 ? name : `${name}#${seen}`);
  }
}

/** A short content hash for id names. */
export function frameDigest(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

/**
 * The store stream a market-data event belongs to: one per instrument (`md-BINANCE:NKNUSDT`), the
 * convention the capture reader and the live adapters share. The kernel may re-stream as it likes.
 */
export function marketDataStream(instrument: string): string {
  return `md-${instrument}`;
}

export function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function preview(text: string): string {
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}...` : JSON.stringify(text);
}
