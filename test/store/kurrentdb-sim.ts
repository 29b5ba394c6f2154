/**
 * A simulated KurrentDB client: the part of `@kurrent/kurrentdb-client`'s surface the adapter calls
 * (appendToStream, readStream, readAll, subscribeToAll, subscribeToStream, dispose), behaving as the
 * server and client are documented and as their source reads, so the adapter's own logic (paging,
 * namespaces, hiding system streams, idempotent retries, inclusive and exclusive starts, subscriptions
 * and their end) is tested here. It is NOT KurrentDB: the contract passing on it says nothing about a
 * real server; test/store/kurrentdb.contract.test.ts is that test, with KURRENTDB_URL.
 *
 * Modelled: commit == prepare == the byte offset of each event's record (sparse: records have sizes);
 * forward $all reads include the event at the start position, backward ones start before it; filtered
 * reads count only matching events; system events (`$`-streams, `$`-types) sit in $all between the
 * user's; an idempotent retry succeeds with no position; a missing stream is StreamNotFoundError; a
 * wrong expectation is WrongExpectedVersionError; appends with concurrent callers land in arrival order.
 * Subscriptions confirm, deliver history from the position (inclusive, to make the adapter's skip do its
 * work), then live events; unsubscribe() cancels without ending the stream, as the client's does.
 */
import { Readable } from 'node:stream';
import { StreamNotFoundError, UnavailableError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import type { Filter, Position } from '@kurrent/kurrentdb-client';

interface SimRecord {
  streamId: string;
  id: string;
  type: string;
  isJson: boolean;
  data: Uint8Array;
  metadata: Uint8Array;
  revision: bigint;
  commit: bigint;
  size: bigint;
}

type StreamState = 'any' | 'no_stream' | 'stream_exists' | bigint;
type From = 'start' | 'end' | Position | bigint;

interface SimEventData {
  id: string;
  type: string;
  contentType: 'application/json' | 'application/octet-stream';
  data: unknown;
  metadata?: unknown;
}

function resolved(r: SimRecord) {
  let data: unknown = new Uint8Array(r.data);
  if (r.isJson) {
    const text = Buffer.from(r.data).toString('utf8');
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  let metadata: unknown;
  if (r.metadata.length) {
    try {
      metadata = JSON.parse(Buffer.from(r.metadata).toString('utf8'));
    } catch {
      metadata = new Uint8Array(r.metadata);
    }
  }
  const position = { commit: r.commit, prepare: r.commit };
  return { event: { streamId: r.streamId, id: r.id, revision: r.revision, type: r.type, isJson: r.isJson, data, metadata, created: new Date(0), position }, commitPosition: r.commit };
}

function matches(r: SimRecord, filter: Filter | undefined): boolean {
  if (!filter) return true;
  const subject = filter.filterOn === 'streamName' ? r.streamId : r.type;
  if ('prefixes' in filter) return filter.prefixes.some((p) => subject.startsWith(p));
  return new RegExp(filter.regex).test(subject);
}

class SimSubscription extends Readable {
  cancelled = false;
  constructor(private readonly onCancel: () => void) {
    super({ objectMode: true, read() {} });
  }
  async unsubscribe(): Promise<void> {
    this.cancelled = true;
    this.onCancel();
  }
}

export class SimKurrentClient {
  readonly log: SimRecord[] = [];
  private nextCommit = 4096n;
  private readonly live = new Set<(r: SimRecord) => void>();
  disposed = false;
  /** When true every call fails as an unreachable server does. */
  down = false;
  /** Counts calls, to show how the adapter pages. */
  readonly calls = { append: 0, readStream: 0, readAll: 0 };

  constructor(options: { systemNoise?: boolean } = {}) {
    if (options.systemNoise !== false) {
      this.write('$settings', '$settings', { userStreamAcl: {} });
      this.write('$stats-127.0.0.1:2113', '$statistics-collected', { proc: 1 });
      this.write('$users', '$User', { loginName: 'admin' });
    }
  }

  private write(streamId: string, type: string, data: unknown, metadata?: unknown): SimRecord {
    const revision = BigInt(this.log.filter((r) => r.streamId === streamId).length);
    const bytes = Buffer.from(JSON.stringify(data));
    const rec: SimRecord = { streamId, id: crypto.randomUUID(), type, isJson: true, data: bytes, metadata: Buffer.from(metadata === undefined ? '' : JSON.stringify(metadata)), revision, commit: this.nextCommit, size: 0n };
    this.push(rec);
    return rec;
  }

  private push(rec: SimRecord): void {
    rec.size = 90n + BigInt(rec.data.length + rec.metadata.length + rec.streamId.length);
    rec.commit = this.nextCommit;
    this.nextCommit += rec.size;
    this.log.push(rec);
    for (const l of this.live) l(rec);
  }

  private check(): void {
    if (this.down) throw new UnavailableError();
  }

  private streamRecords(streamId: string): SimRecord[] {
    return this.log.filter((r) => r.streamId === streamId);
  }

  async appendToStream(streamId: string, events: SimEventData[], options: { streamState?: StreamState } = {}) {
    this.calls.append++;
    await Promise.resolve(); // answers come later, as over a network
    if (this.down) throw Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2113. Resolution note: '), { code: 14 });
    const state = options.streamState ?? 'any';
    const existing = this.streamRecords(streamId);
    const current = existing.length - 1;
    const ids = events.map((e) => e.id);
    // Idempotence: the same ids where the expectation puts them (exact for a revision or no_stream, best effort for any).
    let at: number | null = null;
    if (state === 'no_stream') at = 0;
    else if (typeof state === 'bigint') at = Number(state) + 1;
    else if (state === 'any') at = existing.findIndex((r) => r.id === ids[0]);
    if (at !== null && at >= 0 && at < existing.length && ids.length > 0) {
      const there = existing.slice(at, at + ids.length).map((r) => r.id);
      if (there.length === ids.length && there.every((id, i) => id === ids[i])) {
        return { success: true, nextExpectedRevision: BigInt(at + ids.length - 1), position: undefined };
      }
    }
    const ok = state === 'any' || (state === 'no_stream' && current === -1) || (state === 'stream_exists' && current >= 0) || (typeof state === 'bigint' && Number(state) === current);
    if (!ok) throw new WrongExpectedVersionError(undefined, { streamName: streamId, current: current === -1 ? 'no_stream' : BigInt(current), expected: state });
    let last: SimRecord | null = null;
    events.forEach((e, i) => {
      const data = e.contentType === 'application/json' ? Buffer.from(JSON.stringify(e.data), 'utf8') : Buffer.from(e.data as Uint8Array);
      const metadata = e.metadata === undefined ? Buffer.alloc(0) : e.metadata instanceof Uint8Array && e.metadata.constructor === Uint8Array ? Buffer.from(e.metadata) : Buffer.from(JSON.stringify(e.metadata));
      last = { streamId, id: e.id, type: e.type, isJson: e.contentType === 'application/json', data, metadata, revision: BigInt(current + 1 + i), commit: 0n, size: 0n };
      this.push(last);
    });
    if (existing.length === 0 && streamId.length % 3 === 0) this.write(`$$${streamId}`, '$metadata', { $maxAge: null }); // system noise between user events
    const l = last as SimRecord | null;
    return { success: true, nextExpectedRevision: l ? l.revision : BigInt(current), position: l ? { commit: l.commit, prepare: l.commit } : undefined };
  }

  async *readStream(streamId: string, options: { fromRevision?: 'start' | 'end' | bigint; direction?: 'forwards' | 'backwards'; maxCount?: number | bigint } = {}) {
    this.calls.readStream++;
    this.check();
    const records = this.streamRecords(streamId);
    if (records.length === 0) throw new StreamNotFoundError(undefined, streamId);
    const backwards = options.direction === 'backwards';
    const from = options.fromRevision ?? (backwards ? 'end' : 'start');
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const fromN = from === 'start' ? 0n : from === 'end' ? BigInt(records.length - 1) : from;
    const picked = backwards ? records.filter((r) => r.revision <= fromN).reverse() : from === 'end' ? [] : records.filter((r) => r.revision >= fromN);
    for (const r of picked.slice(0, max)) yield resolved(r);
  }

  async *readAll(options: { fromPosition?: From; direction?: 'forwards' | 'backwards'; maxCount?: number | bigint; filter?: Filter } = {}) {
    this.calls.readAll++;
    this.check();
    const backwards = options.direction === 'backwards';
    const from = options.fromPosition ?? (backwards ? 'end' : 'start');
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    let picked: SimRecord[];
    if (from === 'start') picked = backwards ? [] : this.log;
    else if (from === 'end') picked = backwards ? [...this.log].reverse() : [];
    else {
      const p = typeof from === 'bigint' ? from : from.commit;
      if (typeof from !== 'bigint' && from.commit !== from.prepare) throw new Error('sim: positions here have commit == prepare');
      if (!this.log.some((r) => r.commit === p) && p !== this.nextCommit) throw new Error(`sim: ${p} is not a record boundary (KurrentDB cannot read from the middle of a record)`);
      picked = backwards ? this.log.filter((r) => r.commit + r.size <= p).reverse() : this.log.filter((r) => r.commit >= p);
    }
    let n = 0;
    for (const r of picked) {
      if (n >= max) return;
      if (!matches(r, options.filter)) continue;
      n++;
      yield resolved(r);
    }
  }

  private subscribe(select: (r: SimRecord) => boolean, history: () => SimRecord[]) {
    let deliver: ((r: SimRecord) => void) | null = null;
    const sub = new SimSubscription(() => {
      if (deliver) this.live.delete(deliver);
    });
    queueMicrotask(() => {
      if (this.down) {
        sub.emit('error', new UnavailableError());
        return;
      }
      sub.emit('confirmation');
      for (const r of history()) if (select(r)) sub.push(resolved(r));
      deliver = (r) => {
        if (!sub.cancelled && select(r)) sub.push(resolved(r));
      };
      this.live.add(deliver);
    });
    return sub;
  }

  subscribeToAll(options: { fromPosition?: 'start' | 'end' | Position; filter?: Filter } = {}) {
    const from = options.fromPosition ?? 'start';
    const history = () => (from === 'start' ? [...this.log] : from === 'end' ? [] : this.log.filter((r) => r.commit >= from.commit));
    return this.subscribe((r) => matches(r, options.filter), history);
  }

  subscribeToStream(streamId: string, options: { fromRevision?: 'start' | 'end' | bigint } = {}) {
    const from = options.fromRevision ?? 'start';
    const history = () => {
      const records = this.streamRecords(streamId);
      return from === 'start' ? records : from === 'end' ? [] : records.filter((r) => r.revision >= from);
    };
    return this.subscribe((r) => r.streamId === streamId, history);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.live.clear();
  }
}
