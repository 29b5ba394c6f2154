/**
 * The EventStore port. Its semantics mirror KurrentDB (formerly EventStoreDB) so that a KurrentDB
 * backend drops in without changing callers:
 * - streams with revisions from 0; one global order (`position`) over all streams;
 * - optimistic concurrency on append (`any`, `no_stream`, `stream_exists`, or an exact revision);
 * - atomic multi-event appends, idempotent by event id;
 * - catch-up subscriptions that deliver history then live events, resumable from a checkpoint.
 * Revisions and positions are JS safe integers here (KurrentDB's client uses bigint; its adapter converts).
 * The contract every backend must pass is test/store/contract.ts.
 *
 * What a global position is: a number the store assigns to each event when it appends it, strictly
 * increasing along $all, and nothing more. Positions need not start at 0 nor be contiguous (KurrentDB's
 * are commit positions, byte offsets in its log; the embedded log's happen to be 0, 1, 2...). So a
 * caller never computes `position + 1` nor predicts the position an event will get: it learns positions
 * from append results and reads, and hands back only positions the store gave (to read from, or as a
 * subscription checkpoint). A stream revision is different: revisions of one stream are 0, 1, 2... with
 * no gap, so a writer that appends with an exact expected revision knows where its events land.
 */
import { TapedeckError } from '../../domain/core/errors.js';

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface EventData {
  /** A UUID. Appending the same ids again at the same expected revision is a no-op (idempotence). */
  id: string;
  type: string;
  /** JSON value, or raw bytes (then contentType is 'application/octet-stream'). */
  data: unknown;
  metadata?: Record<string, unknown> | undefined;
  /** With Uint8Array data: 'application/json' stores pre-encoded JSON as JSON (the hot-path producer's way). */
  contentType?: 'application/json' | 'application/octet-stream';
}

export interface RecordedEvent {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: number;
  isJson: boolean;
  /** Parsed JSON when isJson, else the raw bytes. */
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface AppendResult {
  /** Revision of the last event now in the stream (KurrentDB's nextExpectedRevision). */
  nextExpectedRevision: number;
  /** Global position of the last event appended (for an idempotent retry: of the original append). */
  position: number;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  fromRevision?: number | 'start' | 'end';
  direction?: Direction;
  maxCount?: number;
}

export interface AllFilter {
  streamPrefixes?: string[];
  eventTypes?: string[];
}

export interface ReadAllOptions {
  /** Inclusive: a position the store gave (an event's, or a checkpoint), or 'start' / 'end'. */
  fromPosition?: number | 'start' | 'end';
  direction?: Direction;
  maxCount?: number;
  filter?: AllFilter;
}

export interface SubscribeAllOptions {
  /** Deliver events with position strictly after this checkpoint; 'start' for everything, 'end' for live only. */
  fromPosition?: number | 'start' | 'end';
  filter?: AllFilter;
}

export interface SubscribeStreamOptions {
  /** Deliver events with revision strictly after this checkpoint. */
  fromRevision?: number | 'start' | 'end';
}

/** An async iterable of events; `close()` ends it. Iteration never skips or repeats an event. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/**
 * One stored event seen through a reusable cursor, for the raw-scan fast path: the fields point into
 * `buf`, which is valid only during the visit (copy what you keep). `data` and `metadata` parse on access.
 */
export interface RawEventCursor {
  readonly buf: Buffer;
  readonly stream: string;
  readonly position: number;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly typeStart: number;
  readonly typeEnd: number;
  readonly dataStart: number;
  readonly dataEnd: number;
  readonly metaStart: number;
  readonly metaEnd: number;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

/**
 * Visits every durable event after `checkpoint` (strictly; 'start' for all), in position order, through
 * one reusable cursor, synchronously. `visit` returns false to stop.
 */
export type RawScan = (checkpoint: number | 'start', visit: (cursor: RawEventCursor) => boolean | void, filter?: AllFilter) => void;

/** What a log-checking backend reports (`tapedeck store verify`). */
export interface StoreHealth {
  ok: boolean;
  records: number;
  events: number;
  streams: number;
  /** Damaged ranges: where (segment, byte offset, length), why, and the positions they make unreadable when known. */
  corrupt: Array<{ segment: string; offset: number; length: number; reason: string; fromPosition?: number; toPosition?: number | null }>;
  truncatedTail: boolean;
  tornTailBytes: number;
}

/**
 * Optional extras a backend may offer. Callers ask (`store.capabilities?.rawScan`) and fall back to the
 * port's own methods when absent; nothing may require them.
 */
export interface StoreCapabilities {
  /** The allocation-light sequential scan over the local log (the embedded store). Fallback: readAll. */
  rawScan?: RawScan;
  /** Checks every record of the log and reports corruption. */
  verify?: () => StoreHealth;
}

export interface EventStore {
  /** Optional fast paths and extras; see StoreCapabilities. */
  readonly capabilities?: StoreCapabilities;
  appendToStream(stream: string, events: EventData[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribeToAll(options?: SubscribeAllOptions): Subscription;
  subscribeToStream(stream: string, options?: SubscribeStreamOptions): Subscription;
  /** Current revision of a stream, or -1 when it does not exist. */
  streamRevision(stream: string): Promise<number>;
  /** Position of the last durable event, or -1 when the store is empty. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** Thrown when an append's expected revision does not match; nothing was written. */
export class WrongExpectedRevisionError extends TapedeckError {
  constructor(readonly stream: string, readonly expected: ExpectedRevision, readonly actual: number) {
    super(
      'WRONG_EXPECTED_REVISION',
      `stream "${stream}" is at revision ${actual === -1 ? 'none (no stream)' : actual}, the append expected ${String(expected)}`,
      { stream },
      { expected, actual },
    );
  }
}

export class StreamNotFoundError extends TapedeckError {
  constructor(readonly stream: string) {
    super('STREAM_NOT_FOUND', `stream "${stream}" does not exist`, { stream });
  }
}

/** The store cannot take writes (disk failure, closed): the engine must halt, not carry on. */
export class StoreUnavailableError extends TapedeckError {
  constructor(message: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', message, undefined, cause ? { cause: String(cause) } : undefined);
  }
}

/** Collects an async iterable; for tests and small reads. */
export async function collect<T>(it: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= limit) break;
  }
  return out;
}
