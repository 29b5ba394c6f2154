/**
 * The EventStore port over KurrentDB (`@kurrent/kurrentdb-client`). Opened from a `kurrentdb://…` or
 * `esdb://…` location through src/store/open.ts. The translations live in mapping.ts (pure, tested
 * everywhere); this file holds what needs a server: the client calls, paging, subscriptions.
 *
 * What the port asks and how it is met:
 * - Appends are atomic (one KurrentDB append) and idempotent by event id (KurrentDB's own check, exact
 *   with an expected revision, best effort with `any`). Appends made through one store object reach the
 *   server one at a time, in call order, as the embedded log applies them: a journal's order is the
 *   kernel's. The returned position is read back from the stream, so it is the one reads report, also
 *   for an idempotent retry (for which the server may report no position).
 * - Positions are commit positions (sparse, increasing). A position given back to this store must be one
 *   it returned: KurrentDB cannot start a read in the middle of a record.
 * - $all is the store's streams only: KurrentDB's system streams and events (`$…`) are left out, and with
 *   `?tapedeckNamespace=NAME` only streams under `NAME/` are seen, so several tapedeck stores (or tests)
 *   can share one server.
 */
import { BACKWARDS, END, eventTypeFilter, excludeSystemEvents, FORWARDS, KurrentDBClient, START, streamNameFilter } from '@kurrent/kurrentdb-client';
import type { Filter, Position, ReadPosition } from '@kurrent/kurrentdb-client';
import { TapedeckError } from '../../../domain/core/errors.js';
import {
  StoreUnavailableError,
  WrongExpectedRevisionError,
  type AllFilter,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeAllOptions,
  type SubscribeStreamOptions,
  type Subscription,
} from '../port.js';
import {
  checkStreamName,
  errorSummary,
  fromRecorded,
  fromRevision,
  isStreamNotFound,
  mapClientError,
  parseKurrentLocation,
  toEventData,
  toPosition,
  toStoredStream,
  toStreamState,
  type KurrentLocation,
  type KurrentRecorded,
} from './mapping.js';

export interface KurrentDbStoreOptions {
  /** Refuse appends (readers: read, verify, parity). */
  readOnly?: boolean;
  /** How long open() waits for the server to confirm it is there. Default 5000 ms. */
  connectTimeoutMs?: number;
}

/** Events per read call when paging through $all. */
const PAGE_EVENTS = 1000;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether an event passes the caller's filter (the part the server could not apply). */
function accepts(e: RecordedEvent, filter: AllFilter | undefined): boolean {
  if (filter?.streamPrefixes && !filter.streamPrefixes.some((p) => e.stream.startsWith(p))) return false;
  if (filter?.eventTypes && !filter.eventTypes.includes(e.type)) return false;
  return true;
}

function checkCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return Infinity;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new TapedeckError('MAX_COUNT', `maxCount must be an integer >= 0, got ${String(maxCount)}`, { field: 'maxCount' });
  return maxCount;
}

interface PageItem {
  raw: Position;
  event: RecordedEvent | null;
}

export class KurrentDbEventStore implements EventStore {
  private appendChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly subscriptions = new Set<KurrentSubscription>();

  private constructor(
    private readonly client: KurrentDBClient,
    readonly location: KurrentLocation,
    private readonly readOnly: boolean,
  ) {}

  /** Connects and waits for the server to confirm it answers; fails fast with STORE_UNAVAILABLE when it does not. */
  static async open(location: string, options: KurrentDbStoreOptions = {}): Promise<KurrentDbEventStore> {
    const loc = parseKurrentLocation(location);
    let client: KurrentDBClient;
    try {
      client = KurrentDBClient.connectionString(loc.connectionString);
    } catch (e) {
      throw new TapedeckError('STORE_LOCATION', `cannot use ${location} as a KurrentDB location: ${errorSummary(e).split('\n')[0]}`, { field: '--store' });
    }
    return KurrentDbEventStore.withClient(client, location, options);
  }

  /** A store over a client built elsewhere (tests give a simulated one); probes it as open() does. */
  static async withClient(client: KurrentDBClient, location: string, options: KurrentDbStoreOptions = {}): Promise<KurrentDbEventStore> {
    const loc = parseKurrentLocation(location);
    const store = new KurrentDbEventStore(client, loc, options.readOnly ?? false);
    try {
      await store.probe(options.connectTimeoutMs ?? 5000);
    } catch (e) {
      await client.dispose().catch(() => undefined);
      throw e;
    }
    return store;
  }

  /** The namespace this store sees (null: every non-system stream of the server). */
  get namespace(): string | null {
    return this.location.namespace;
  }

  private error(e: unknown, context: { stream?: string; expected?: ExpectedRevision } = {}): Error {
    return mapClientError(e, { ...context, hosts: this.location.hosts, namespace: this.location.namespace });
  }

  /** A live subscription from the end with a filter that matches nothing: the server confirms it or the call fails. */
  private probe(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sub = this.client.subscribeToAll({ fromPosition: END, filter: streamNameFilter({ prefixes: ['tapedeck-probe-/'] }) });
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void sub.unsubscribe().catch(() => undefined);
        sub.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new StoreUnavailableError(`KurrentDB at ${this.location.hosts} did not answer within ${timeoutMs} ms; is the server running, and is tls=false right for it?`)), timeoutMs);
      sub.on('confirmation', () => finish());
      sub.on('error', (e: unknown) => finish(this.error(e)));
      sub.on('data', () => undefined);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the KurrentDB store is closed');
  }

  // ---------------------------------------------------------------- appends

  appendToStream(stream: string, events: EventData[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    try {
      this.assertOpen();
      if (this.readOnly) throw new TapedeckError('STORE_READ_ONLY', 'this store was opened read-only', { stream });
      checkStreamName(stream);
      if (!Array.isArray(events)) throw new TapedeckError('EVENT_DATA', 'events must be an array', { stream });
      const expected = options.expectedRevision ?? 'any';
      const state = toStreamState(expected, stream);
      const data = events.map((e, i) => toEventData(e, i)); // every event checked before anything is sent
      const run = () => this.appendNow(stream, data, state, expected);
      const result = this.appendChain.then(run, run);
      this.appendChain = result.catch(() => undefined);
      return result;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async appendNow(stream: string, data: ReturnType<typeof toEventData>[], state: ReturnType<typeof toStreamState>, expected: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    const stored = toStoredStream(this.namespace, stream);
    if (data.length === 0) {
      const current = await this.streamRevision(stream);
      if ((expected === 'no_stream' && current !== -1) || (expected === 'stream_exists' && current === -1) || (typeof expected === 'number' && expected !== current)) {
        throw new WrongExpectedRevisionError(stream, expected, current);
      }
      return { nextExpectedRevision: current, position: await this.headPosition() };
    }
    let next: number;
    try {
      const r = await this.client.appendToStream(stored, data, { streamState: state });
      next = fromRevision(r.nextExpectedRevision);
    } catch (e) {
      throw this.error(e, { stream, expected });
    }
    return { nextExpectedRevision: next, position: await this.positionOf(stream, next) };
  }

  /** The position of one event of a stream, as reads report it. */
  private async positionOf(stream: string, revision: number): Promise<number> {
    for await (const e of this.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
      if (e.revision === revision) return e.position;
    }
    throw new StoreUnavailableError(`KurrentDB acknowledged an append to "${stream}" at revision ${revision} but does not return that event`);
  }

  // ---------------------------------------------------------------- reads

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const max = checkCount(options.maxCount);
    if (max === 0 || typeof stream !== 'string' || stream === '' || stream.startsWith('$')) return;
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? 'end' : 'start');
    if (typeof from === 'number' && (!Number.isSafeInteger(from) || from < 0)) {
      throw new TapedeckError('REVISION', `fromRevision must be an integer >= 0, 'start' or 'end', got ${String(from)}`, { stream, field: 'fromRevision' });
    }
    const fromRevision = from === 'start' ? START : from === 'end' ? END : BigInt(from);
    try {
      const it = this.client.readStream(toStoredStream(this.namespace, stream), {
        fromRevision,
        direction: backwards ? BACKWARDS : FORWARDS,
        ...(max === Infinity ? {} : { maxCount: max }),
      });
      for await (const resolved of it) {
        if (!resolved.event) continue;
        const e = fromRecorded(resolved.event as KurrentRecorded, this.namespace, 'stream');
        if (e) yield e;
      }
    } catch (e) {
      if (isStreamNotFound(e)) return;
      throw this.error(e, { stream });
    }
  }

  /** The server-side filter for $all: the namespace or the caller's filter, never system events. */
  private serverFilter(filter: AllFilter | undefined): Filter {
    const ns = this.namespace;
    const prefixes = filter?.streamPrefixes;
    if (ns !== null) return streamNameFilter({ prefixes: prefixes ? prefixes.map((p) => toStoredStream(ns, p)) : [`${ns}/`] });
    if (prefixes) return streamNameFilter({ prefixes });
    if (filter?.eventTypes) return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
    return excludeSystemEvents();
  }

  private async fetchPage(from: ReadPosition, backwards: boolean, count: number, filter: Filter): Promise<PageItem[]> {
    const page: PageItem[] = [];
    try {
      for await (const resolved of this.client.readAll({ fromPosition: from, direction: backwards ? BACKWARDS : FORWARDS, maxCount: count, filter })) {
        const rec = resolved.event;
        if (!rec?.position) continue;
        page.push({ raw: rec.position, event: fromRecorded(rec as KurrentRecorded, this.namespace, 'all') });
      }
    } catch (e) {
      throw this.error(e);
    }
    return page;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    let remaining = checkCount(options.maxCount);
    const filter = options.filter;
    if (remaining === 0 || filter?.streamPrefixes?.length === 0 || filter?.eventTypes?.length === 0) return;
    const backwards = options.direction === 'backwards';
    const server = this.serverFilter(filter);
    const from = options.fromPosition ?? (backwards ? 'end' : 'start');
    if ((backwards && from === 'start') || (!backwards && from === 'end')) return;
    let cursor: ReadPosition = from === 'start' ? START : from === 'end' ? END : toPosition(from);
    // Forward reads from a position include the event there; backward ones start before it. The port's
    // reads include it both ways, so a backward read fetches it first. `seen` skips what a page repeats.
    let seen: number | null = null;
    if (backwards && typeof from === 'number') {
      for (const item of await this.fetchPage(cursor, false, 1, server)) {
        if (item.event && item.event.position === from && accepts(item.event, filter)) {
          yield item.event;
          remaining--;
        }
      }
      seen = from;
    }
    while (remaining > 0) {
      const want = remaining === Infinity || remaining >= PAGE_EVENTS ? PAGE_EVENTS : remaining + 1;
      const page = await this.fetchPage(cursor, backwards, want, server);
      let progressed = false;
      for (const item of page) {
        const p = Number(item.raw.commit);
        if (seen !== null && (backwards ? p >= seen : p <= seen)) continue;
        seen = p;
        progressed = true;
        if (!item.event || !accepts(item.event, filter)) continue;
        yield item.event;
        if (--remaining === 0) return;
      }
      if (page.length < want || !progressed) return;
      cursor = page[page.length - 1]!.raw;
    }
  }

  // ---------------------------------------------------------------- subscriptions

  subscribeToAll(options: SubscribeAllOptions = {}): Subscription {
    this.assertOpen();
    const from = options.fromPosition ?? 'start';
    const filter = options.filter;
    let checkpoint = typeof from === 'number' ? from : -1;
    const nothing = filter?.streamPrefixes?.length === 0 || filter?.eventTypes?.length === 0;
    const sub = this.client.subscribeToAll({ fromPosition: from === 'start' ? START : from === 'end' ? END : toPosition(from), filter: this.serverFilter(filter) });
    return this.track(sub, (resolved) => {
      if (!resolved.event || nothing) return null;
      const e = fromRecorded(resolved.event as KurrentRecorded, this.namespace, 'all');
      // The subscription starts at or just after the checkpoint; whatever it repeats is skipped here.
      if (!e || e.position <= checkpoint) return null;
      checkpoint = e.position;
      return accepts(e, filter) ? e : null;
    });
  }

  subscribeToStream(stream: string, options: SubscribeStreamOptions = {}): Subscription {
    this.assertOpen();
    checkStreamName(stream);
    const from = options.fromRevision ?? 'start';
    if (typeof from === 'number' && (!Number.isSafeInteger(from) || from < 0)) {
      throw new TapedeckError('REVISION', `fromRevision must be an integer >= 0, 'start' or 'end', got ${String(from)}`, { stream, field: 'fromRevision' });
    }
    let checkpoint = typeof from === 'number' ? from : -1;
    const sub = this.client.subscribeToStream(toStoredStream(this.namespace, stream), { fromRevision: from === 'start' ? START : from === 'end' ? END : BigInt(from) });
    return this.track(
      sub,
      (resolved) => {
        if (!resolved.event) return null;
        const e = fromRecorded(resolved.event as KurrentRecorded, this.namespace, 'stream');
        if (!e || e.revision <= checkpoint) return null;
        checkpoint = e.revision;
        return e;
      },
      stream,
    );
  }

  private track(sub: ClientSubscription, convert: (resolved: { event?: unknown }) => RecordedEvent | null, stream?: string): Subscription {
    const s = new KurrentSubscription(sub, convert, (e) => this.error(e, stream === undefined ? {} : { stream }), () => this.subscriptions.delete(s));
    this.subscriptions.add(s);
    return s;
  }

  // ---------------------------------------------------------------- heads

  async streamRevision(stream: string): Promise<number> {
    for await (const e of this.readStream(stream, { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) return e.revision;
    return -1;
  }

  async headPosition(): Promise<number> {
    for await (const e of this.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1 })) return e.position;
    return -1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.subscriptions]) await s.close();
    await this.appendChain;
    await this.client.dispose().catch(() => undefined);
  }
}

/** The client's subscription: a Readable of resolved events with `unsubscribe()`. */
type ClientSubscription = ReturnType<KurrentDBClient['subscribeToAll']> | ReturnType<KurrentDBClient['subscribeToStream']>;

/** A client subscription as the port's: an async iterable of converted events, ended by close(). */
class KurrentSubscription implements Subscription {
  private closed = false;

  constructor(
    private readonly sub: ClientSubscription,
    private readonly convert: (resolved: { event?: unknown }) => RecordedEvent | null,
    private readonly mapError: (e: unknown) => Error,
    private readonly onClose: () => void,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    try {
      for await (const resolved of this.sub as AsyncIterable<{ event?: unknown }>) {
        if (this.closed) return;
        const e = this.convert(resolved);
        if (e) yield e;
      }
    } catch (e) {
      if (this.closed) return; // close() destroys the stream under the loop; that is the end, not an error
      throw this.mapError(e);
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await this.sub.unsubscribe().catch(() => undefined);
    // Cancelling the call does not end the client's stream; destroying it ends any iteration in progress.
    this.sub.destroy();
  }
}
