/**
 * The envelope every event travels in, and its mapping onto a stored record (KurrentDB's shape:
 * id, type, JSON data, JSON metadata). Causation and correlation ids use KurrentDB's metadata keys
 * `$causationId` and `$correlationId`, so its projections and UI understand them.
 */
import { z } from 'zod';
import { TapedeckError } from '../core/errors.js';
import { base64ToBytes, bytesToBase64 } from '../core/canonical.js';
import { UUID_RE } from '../core/sha256.js';
import { CATALOG, isEventType, type EventType, type PayloadOf } from './catalog.js';
import { timeNs } from './primitives.js';

/** Venue bytes kept for audit: an ITCH or OUCH message, a JSON frame as received. */
export interface RawBytes {
  format: 'itch50' | 'ouch42' | 'soupbintcp' | 'json' | 'text' | 'other';
  bytes: Uint8Array;
}

export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  schemaVersion: number;
  stream: string;
  /** Venue or exchange time, ns since the Unix epoch (ITCH: the session date plus ns since midnight). */
  eventTimeNs: bigint;
  /** When tapedeck received it, ns since the Unix epoch; in replay, the virtual clock. */
  receiveTimeNs: bigint;
  causationId: string | null;
  correlationId: string | null;
  data: PayloadOf<T>;
  raw?: RawBytes;
}

export type AnyEnvelope = { [K in EventType]: EventEnvelope<K> }[EventType];

/** What the store keeps: KurrentDB's EventData shape. */
export interface StoredShape {
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

const metadataSchema = z.object({
  schemaVersion: z.int().positive(),
  eventTimeNs: timeNs,
  receiveTimeNs: timeNs,
  $causationId: z.string().nullable().optional(),
  $correlationId: z.string().nullable().optional(),
  raw: z.object({ format: z.enum(['itch50', 'ouch42', 'soupbintcp', 'json', 'text', 'other']), base64: z.string() }).optional(),
});

/** Deeply replaces bigint with decimal strings and bytes with base64, giving plain JSON. */
export function toJsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return bytesToBase64(v);
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJsonValue(x);
    return out;
  }
  return v;
}

/**
 * Event types whose payload can hold a bigint (money mantissas, ns times) and so needs converting
 * before JSON. Every other payload is JSON as it stands, and skipping the deep copy halves the cost
 * of journaling. test/domain/events.test.ts checks this list against the catalogue's schemas; a
 * bigint in any other type would make the store's JSON encoding fail loudly, never silently.
 */
export const TYPES_WITH_BIGINT: ReadonlySet<string> = new Set(['OrderFilled', 'BalanceReported', 'TimerFired', 'RunStarted', 'RunEnded', 'FillReversed', 'BarClosed']);

export function envelopeToStored(env: EventEnvelope): StoredShape {
  const metadata: Record<string, unknown> = {
    schemaVersion: env.schemaVersion,
    eventTimeNs: env.eventTimeNs.toString(),
    receiveTimeNs: env.receiveTimeNs.toString(),
    $causationId: env.causationId,
    $correlationId: env.correlationId,
  };
  if (env.raw) metadata.raw = { format: env.raw.format, base64: bytesToBase64(env.raw.bytes) };
  return { id: env.id, type: env.type, data: TYPES_WITH_BIGINT.has(env.type) ? toJsonValue(env.data) : env.data, metadata };
}

/** Formats zod issues as `field.path: message; ...`. An unknown key's path ends with the key itself. */
export function formatIssues(error: z.ZodError): { field: string; message: string } {
  const pathOf = (i: z.core.$ZodIssue): string =>
    [...i.path, ...(i.code === 'unrecognized_keys' && i.keys.length > 0 ? [i.keys[0]!] : [])].map(String).join('.') || '(root)';
  const first = error.issues[0];
  const field = first ? pathOf(first) : '(root)';
  const message = error.issues
    .slice(0, 3)
    .map((i) => `${pathOf(i)}: ${i.message}`)
    .join('; ');
  return { field, message };
}

/** Validates a payload against the catalogue. Throws a TapedeckError naming the field path. */
export function parsePayload<T extends EventType>(type: T, data: unknown, where: Record<string, string | number> = {}): PayloadOf<T> {
  const entry = CATALOG[type];
  const r = entry.schema.safeParse(data);
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('EVENT_INVALID', `${type}: ${message}`, { ...where, field: `data.${field}` });
  }
  return r.data as PayloadOf<T>;
}

/** Rebuilds and validates an envelope from a stored record. */
export function storedToEnvelope(stream: string, rec: StoredShape, where: Record<string, string | number> = {}): AnyEnvelope {
  if (!isEventType(rec.type)) {
    throw new TapedeckError('EVENT_UNKNOWN_TYPE', `unknown event type "${rec.type}" (known: ${Object.keys(CATALOG).length} types, see domain/events/catalog.ts)`, { ...where, field: 'type' });
  }
  const meta = metadataSchema.safeParse(rec.metadata ?? {});
  if (!meta.success) {
    const { field, message } = formatIssues(meta.error);
    throw new TapedeckError('EVENT_INVALID', `${rec.type} metadata: ${message}`, { ...where, field: `metadata.${field}` });
  }
  const data = parsePayload(rec.type, rec.data, where);
  const m = meta.data;
  const env: EventEnvelope = {
    id: rec.id,
    type: rec.type,
    schemaVersion: m.schemaVersion,
    stream,
    eventTimeNs: m.eventTimeNs,
    receiveTimeNs: m.receiveTimeNs,
    causationId: m.$causationId ?? null,
    correlationId: m.$correlationId ?? null,
    data,
  };
  if (m.raw) env.raw = { format: m.raw.format, bytes: base64ToBytes(m.raw.base64) };
  return env as AnyEnvelope;
}

export interface NewEvent<T extends EventType> {
  id: string;
  type: T;
  stream: string;
  eventTimeNs: bigint;
  receiveTimeNs: bigint;
  causationId?: string | null;
  correlationId?: string | null;
  data: PayloadOf<T>;
  raw?: RawBytes;
}

/** Builds an envelope with the catalogue's current schema version. Ids must be UUIDs (KurrentDB's rule). */
export function makeEvent<T extends EventType>(e: NewEvent<T>): EventEnvelope<T> {
  if (!UUID_RE.test(e.id)) throw new TapedeckError('EVENT_ID', `event id "${e.id}" is not a UUID`, { field: 'id' });
  const env: EventEnvelope<T> = {
    id: e.id,
    type: e.type,
    schemaVersion: CATALOG[e.type].version,
    stream: e.stream,
    eventTimeNs: e.eventTimeNs,
    receiveTimeNs: e.receiveTimeNs,
    causationId: e.causationId ?? null,
    correlationId: e.correlationId ?? null,
    data: e.data,
  };
  if (e.raw) env.raw = e.raw;
  return env;
}
