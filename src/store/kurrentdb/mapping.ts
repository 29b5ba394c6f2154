/**
 * The KurrentDB adapter's translations, as pure functions (no client, no I/O), so they are tested
 * everywhere, with or without a server: locations, expected revisions, positions, revisions, stream
 * names, event data and metadata one way and recorded events the other, and the client's errors.
 *
 * Positions: a port position is KurrentDB's commit position, a byte offset in its transaction log:
 * sparse and strictly increasing along $all. Every event KurrentDB writes today is its own committed
 * record (its StorageWriterService writes each event of an append as a prepare flagged IsCommitted, and
 * its AllReader gives such an event its own log position as commit), so commit and prepare are equal and
 * unique. An event from a legacy explicit
 * transaction shares its commit position with the others of that transaction; tapedeck cannot give
 * such events distinct positions, so it refuses them (KURRENTDB_POSITION) rather than guess.
 */
import type { AppendStreamState, BinaryEventData, JSONEventData, Position } from '@kurrent/kurrentdb-client';
import { TapedeckError } from '../../../domain/core/errors.js';
import { StoreUnavailableError, WrongExpectedRevisionError, type EventData, type ExpectedRevision, type RecordedEvent } from '../port.js';

/** Schemes the KurrentDB client accepts (the client's own list), `esdb` ones being its deprecated names. */
export const KURRENTDB_SCHEMES = ['kurrentdb', 'kurrentdb+discover', 'kurrent', 'kurrent+discover', 'kdb', 'kdb+discover', 'esdb', 'esdb+discover'] as const;

/** The query parameter that names a tapedeck namespace inside one KurrentDB (stripped before the client sees it). */
export const NAMESPACE_PARAM = 'tapedeckNamespace';
const NAMESPACE_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** Event ids as KurrentDB returns them: lowercase UUIDs (an uppercase id would come back changed). */
const LOWER_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface KurrentLocation {
  /** What the client is given: the location without tapedeck's own parameter, `esdb` spelled `kurrentdb`. */
  connectionString: string;
  /** Streams live under `<namespace>/` when set; $all is then read through that prefix only. */
  namespace: string | null;
  /** host:port list, for messages. */
  hosts: string;
}

export function isKurrentLocation(location: string): boolean {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(location);
  return m !== null && (KURRENTDB_SCHEMES as readonly string[]).includes(m[1]!.toLowerCase());
}

/** Parses a `kurrentdb://…` / `esdb://…` location. Throws STORE_LOCATION naming what is wrong. */
export function parseKurrentLocation(location: string): KurrentLocation {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^?#]*)(\?[^#]*)?$/.exec(location);
  const scheme = m?.[1]?.toLowerCase();
  if (!m || !scheme || !(KURRENTDB_SCHEMES as readonly string[]).includes(scheme)) {
    throw new TapedeckError('STORE_LOCATION', `not a KurrentDB location: ${location} (expected kurrentdb://host:2113?tls=false or esdb://...)`, { field: '--store' });
  }
  const authorityAndPath = m[2]!;
  const hostPart = authorityAndPath.replace(/^[^@/]*@/, '').replace(/\/.*$/, '');
  if (hostPart === '') throw new TapedeckError('STORE_LOCATION', `no host in ${location} (expected kurrentdb://host:2113?tls=false)`, { field: '--store' });
  let namespace: string | null = null;
  const kept: string[] = [];
  for (const pair of (m[3] ?? '').replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key.toLowerCase() !== NAMESPACE_PARAM.toLowerCase()) {
      kept.push(pair);
      continue;
    }
    const value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (!NAMESPACE_RE.test(value)) {
      throw new TapedeckError('STORE_LOCATION', `${NAMESPACE_PARAM} must be 1 to 64 letters, digits, '_', '.' or '-', got "${value}"`, { field: '--store' });
    }
    namespace = value;
  }
  // The client warns on stdout about the deprecated esdb:// spelling; it means the same, so say it the new way.
  const clientScheme = scheme.replace(/^esdb/, 'kurrentdb');
  const connectionString = `${clientScheme}://${authorityAndPath}${kept.length ? `?${kept.join('&')}` : ''}`;
  return { connectionString, namespace, hosts: hostPart };
}

// ------------------------------------------------------------------ stream names

/** The stream name KurrentDB stores for a tapedeck stream. */
export function toStoredStream(namespace: string | null, stream: string): string {
  return namespace === null ? stream : `${namespace}/${stream}`;
}

/** The tapedeck stream for a stored one, or null when it lies outside this store (another namespace, a system stream). */
export function fromStoredStream(namespace: string | null, stored: string): string | null {
  if (stored.startsWith('$')) return null;
  if (namespace === null) return stored;
  const prefix = `${namespace}/`;
  return stored.startsWith(prefix) ? stored.slice(prefix.length) : null;
}

/** KurrentDB reserves `$` for its own streams (`$$x` holds a stream's metadata): tapedeck cannot write there. */
export function checkStreamName(stream: string): void {
  if (typeof stream !== 'string' || stream.length === 0) throw new TapedeckError('STREAM_NAME', 'stream name must be a non-empty string', { field: 'stream' });
  if (stream.startsWith('$')) {
    throw new TapedeckError('STREAM_NAME', `stream "${stream}" starts with "$", which KurrentDB reserves for its system streams`, { stream, field: 'stream' });
  }
}

// ------------------------------------------------------------------ revisions and positions

export function toStreamState(expected: ExpectedRevision, stream: string): AppendStreamState {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < -1) {
    throw new TapedeckError('EXPECTED_REVISION', `expected revision must be 'any', 'no_stream', 'stream_exists' or an integer >= 0, got ${String(expected)}`, { stream });
  }
  return expected === -1 ? 'no_stream' : BigInt(expected);
}

/** A client revision (bigint, or 'no_stream' in errors) as the port's number, -1 for no stream. */
export function fromRevision(revision: bigint | 'no_stream' | string | undefined): number {
  if (revision === undefined || revision === 'no_stream') return -1;
  const n = typeof revision === 'bigint' ? revision : BigInt(revision);
  if (n < -1n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new TapedeckError('KURRENTDB_REVISION', `stream revision ${n} is outside what tapedeck represents (0 to 2^53-1)`);
  return Number(n);
}

/** The port position of an event: its commit position, a safe integer. */
export function fromPosition(position: Position | undefined, where: { stream?: string; id?: string } = {}): number {
  if (!position) {
    throw new TapedeckError('KURRENTDB_POSITION', 'KurrentDB returned no position for an event (servers before 22.6 do not; tapedeck needs 22.6 or newer)', where);
  }
  const { commit } = position;
  if (commit < 0n || commit > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TapedeckError('KURRENTDB_POSITION', `commit position ${commit} is outside what tapedeck represents (0 to 2^53-1)`, where);
  }
  return Number(commit);
}

/**
 * The position of an event read from $all, checked to be one tapedeck can name: commit equal to prepare
 * (its own committed record). Events of legacy explicit transactions share a commit position and are refused.
 */
export function fromAllPosition(position: Position | undefined, where: { stream?: string; id?: string } = {}): number {
  const n = fromPosition(position, where);
  if (position!.prepare !== position!.commit) {
    throw new TapedeckError(
      'KURRENTDB_POSITION',
      `event at commit ${position!.commit} / prepare ${position!.prepare} was written by an explicit transaction, whose events share one commit position; tapedeck needs one position per event`,
      where,
    );
  }
  return n;
}

/** The client position for a port position (one this store returned: the commit and prepare of that event). */
export function toPosition(position: number): Position {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new TapedeckError('POSITION', `position must be an integer >= 0 returned by this store, got ${String(position)}`, { field: 'position' });
  }
  const p = BigInt(position);
  return { commit: p, prepare: p };
}

// ------------------------------------------------------------------ events

export type KurrentEventData = JSONEventData | BinaryEventData;

function jsonText(value: unknown, what: string, index: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new TapedeckError('EVENT_DATA', `event ${index}: ${what} is not JSON-serializable (${(e as Error).message})`, { field: `events[${index}].${what}` });
  }
  if (text === undefined) throw new TapedeckError('EVENT_DATA', `event ${index}: ${what} is missing or not JSON`, { field: `events[${index}].${what}` });
  return text;
}

/**
 * A port event as the client's EventData. JSON stays JSON (pre-encoded JSON bytes are parsed, so they
 * must be valid); bytes stay bytes, verbatim. Metadata goes as JSON bytes the adapter encoded itself, so a
 * bad value fails here, before anything is sent; tapedeck's metadata already uses KurrentDB's keys
 * (`$correlationId`, `$causationId`), so it is stored as it is. Throws EVENT_ID / EVENT_TYPE / EVENT_DATA.
 */
export function toEventData(e: EventData, index: number): KurrentEventData {
  if (e === null || typeof e !== 'object') throw new TapedeckError('EVENT_DATA', `event ${index} is not an object`, { field: `events[${index}]` });
  if (typeof e.id !== 'string' || e.id.length === 0) {
    throw new TapedeckError('EVENT_ID', `event ${index}: id must be a non-empty string`, { field: `events[${index}].id` });
  }
  if (!LOWER_UUID_RE.test(e.id)) {
    throw new TapedeckError('EVENT_ID', `event ${index}: KurrentDB event ids are UUIDs, written in lowercase; got "${e.id}"`, { field: `events[${index}].id` });
  }
  if (typeof e.type !== 'string' || e.type.length === 0 || Buffer.byteLength(e.type) > 255) {
    throw new TapedeckError('EVENT_TYPE', `event ${index}: type must be a non-empty string of at most 255 bytes`, { field: `events[${index}].type` });
  }
  if (e.type.startsWith('$')) {
    throw new TapedeckError('EVENT_TYPE', `event ${index}: type "${e.type}" starts with "$", which KurrentDB reserves for system events`, { field: `events[${index}].type` });
  }
  if (e.metadata !== undefined && (e.metadata === null || typeof e.metadata !== 'object' || Array.isArray(e.metadata))) {
    throw new TapedeckError('EVENT_DATA', `event ${index}: metadata must be a JSON object`, { field: `events[${index}].metadata` });
  }
  const metadata = e.metadata === undefined ? undefined : new TextEncoder().encode(jsonText(e.metadata, 'metadata', index));
  if (e.data instanceof Uint8Array && e.contentType !== 'application/json') {
    // The client sends bytes as they are only for a plain Uint8Array, so copy a Buffer's view.
    return { id: e.id, type: e.type, contentType: 'application/octet-stream', data: Uint8Array.from(e.data), metadata };
  }
  let value: unknown = e.data;
  if (e.data instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('utf8'));
    } catch (err) {
      throw new TapedeckError('EVENT_DATA', `event ${index}: data is marked application/json but is not JSON (${(err as Error).message})`, { field: `events[${index}].data` });
    }
  } else {
    jsonText(value, 'data', index);
  }
  if (typeof value === 'string') {
    // The client hands back malformed JSON as its text, so a top-level JSON string would be
    // indistinguishable from corruption when read back: refuse it here instead.
    throw new TapedeckError('EVENT_DATA', `event ${index}: a bare JSON string cannot be told from malformed JSON when KurrentDB returns it; wrap it in an object`, { field: `events[${index}].data` });
  }
  return { id: e.id, type: e.type, contentType: 'application/json', data: value as JSONEventData['data'], metadata };
}

/** The fields of a client recorded event that the adapter reads (the client's own type is a wide union). */
export interface KurrentRecorded {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  isJson: boolean;
  data: unknown;
  metadata: unknown;
  position?: Position | undefined;
}

/**
 * A client recorded event as the port's, or null when it lies outside this store (system streams and
 * events, other namespaces). Throws EVENT_DECODE when its data or metadata did not decode: the client
 * returns malformed JSON data as a string and undecodable metadata as bytes.
 */
export function fromRecorded(rec: KurrentRecorded, namespace: string | null, from: 'all' | 'stream'): RecordedEvent | null {
  const stream = fromStoredStream(namespace, rec.streamId);
  if (stream === null || rec.type.startsWith('$')) return null;
  const where = { stream, id: rec.id };
  const position = from === 'all' ? fromAllPosition(rec.position, where) : fromPosition(rec.position, where);
  const revision = fromRevision(rec.revision);
  let metadata: Record<string, unknown>;
  if (rec.metadata === undefined || rec.metadata === null) metadata = {};
  else if (typeof rec.metadata === 'object' && !(rec.metadata instanceof Uint8Array) && !Array.isArray(rec.metadata)) metadata = rec.metadata as Record<string, unknown>;
  else throw new TapedeckError('EVENT_DECODE', `event ${rec.id} at revision ${revision}: metadata is not a JSON object`, { ...where, position });
  let data: unknown;
  if (rec.isJson) {
    if (typeof rec.data === 'string') throw new TapedeckError('EVENT_DECODE', `event ${rec.id} at revision ${revision}: data is marked JSON but does not parse`, { ...where, position });
    data = rec.data;
  } else {
    if (!(rec.data instanceof Uint8Array)) throw new TapedeckError('EVENT_DECODE', `event ${rec.id} at revision ${revision}: binary data came back as ${typeof rec.data}`, { ...where, position });
    data = Buffer.from(rec.data.buffer, rec.data.byteOffset, rec.data.byteLength);
  }
  return { id: rec.id, type: rec.type, stream, revision, position, isJson: rec.isJson, data, metadata };
}

// ------------------------------------------------------------------ errors

/** gRPC status codes that mean "the server is not there or not answering". */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_CANCELLED = 1;

/** The first informative line of a client error (gRPC messages run on with resolution notes). */
export function errorSummary(e: unknown): string {
  const err = e as { message?: unknown; type?: unknown; name?: unknown };
  let text = typeof err?.message === 'string' ? err.message : String(e);
  const refused = /connect (E[A-Z]+) (\S+?)\.?(?:\s|$)/.exec(text);
  if (refused) return `connect ${refused[1]} ${refused[2]}`;
  text = text.replace(/\s*Resolution note:.*$/s, '').replace(/\s+/g, ' ').trim();
  if (text === '' || text === err?.name) text = typeof err?.type === 'string' ? err.type : 'no detail from the client';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * A client error as the port's: WrongExpectedVersion → WrongExpectedRevisionError; unreachable,
 * timed out, not the leader, access denied → StoreUnavailableError (the engine must halt); a deleted
 * stream → STREAM_DELETED. A TapedeckError passes through; anything unrecognised becomes
 * KURRENTDB_ERROR with the client's words (never a stack trace at the CLI).
 */
export function mapClientError(e: unknown, context: { stream?: string; expected?: ExpectedRevision; hosts: string; namespace: string | null }): Error {
  if (e instanceof TapedeckError) return e;
  const err = e as { type?: unknown; code?: unknown; actualState?: unknown; expectedState?: unknown; message?: unknown };
  const type = typeof err?.type === 'string' ? err.type : undefined;
  const code = typeof err?.code === 'number' ? err.code : undefined;
  const summary = errorSummary(e);
  const stream = context.stream;
  if (type === 'wrong-expected-version') {
    const actual = fromRevision(err.actualState as bigint | 'no_stream' | undefined);
    return new WrongExpectedRevisionError(stream ?? '(unknown)', context.expected ?? 'any', actual);
  }
  if (type === 'unavailable' || type === 'deadline-exceeded' || type === 'timeout' || type === 'not-leader' || code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) {
    return new StoreUnavailableError(`KurrentDB at ${context.hosts} is unreachable (${summary}); is the server running, and is tls=false right for it?`);
  }
  if (type === 'access-denied') return new StoreUnavailableError(`KurrentDB at ${context.hosts} denied access (${summary}); give a user in the location, kurrentdb://user:password@host:2113`);
  if (type === 'stream-deleted' || type === 'stream-tombstoned') {
    return new TapedeckError('STREAM_DELETED', `stream "${stream ?? '(unknown)'}" was deleted in KurrentDB`, stream ? { stream } : undefined);
  }
  if (type === 'maximum-append-size-exceeded' || type === 'append-record-size-exceeded') {
    return new TapedeckError('APPEND_TOO_LARGE', `the append is larger than the KurrentDB server accepts (${summary})`, stream ? { stream } : undefined);
  }
  if (type === 'cancelled' || code === GRPC_CANCELLED) return new StoreUnavailableError(`a KurrentDB call to ${context.hosts} was cancelled (${summary})`);
  return new TapedeckError('KURRENTDB_ERROR', `KurrentDB at ${context.hosts}: ${summary}`, stream ? { stream } : undefined);
}

/** True for the client's "stream not found" (a read of a stream that does not exist). */
export function isStreamNotFound(e: unknown): boolean {
  const t = (e as { type?: unknown })?.type;
  return t === 'stream-not-found' || t === 'no-stream';
}
