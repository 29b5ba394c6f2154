/**
 * A sparse-position backend for tests: the embedded store (or any store) behind the port, with every
 * global position moved to `offset + stride × position`. Positions still increase along $all but are
 * neither contiguous nor from 0, as in KurrentDB (where they are byte offsets in its log). Anything that
 * predicts a position or computes `position + 1` goes wrong on it; the contract suite and the engine,
 * replay, parity, projections, audit and rebuild must not.
 *
 * `rawScan: true` also offers the raw-scan capability (through a cursor whose position is moved the
 * same way), so the projector's fast path runs on sparse positions too; without it callers fall back
 * to readAll.
 */
import type {
  AppendResult, EventData, EventStore, ExpectedRevision, RawEventCursor, RawScan, ReadAllOptions, ReadStreamOptions,
  RecordedEvent, StoreCapabilities, SubscribeAllOptions, SubscribeStreamOptions, Subscription,
} from '../../src/store/port.js';

export interface SparseOptions {
  stride?: number;
  offset?: number;
  rawScan?: boolean;
}

export class SparsePositionStore implements EventStore {
  readonly stride: number;
  readonly offset: number;
  readonly capabilities: StoreCapabilities;

  constructor(readonly inner: EventStore, options: SparseOptions = {}) {
    this.stride = options.stride ?? 7;
    this.offset = options.offset ?? 1_000_003;
    const rawScan = inner.capabilities?.rawScan;
    this.capabilities = options.rawScan && rawScan ? { rawScan: this.wrapRawScan(rawScan) } : {};
  }

  /** Inner position to outer; -1 (nothing) stays -1. */
  out(p: number): number {
    return p < 0 ? p : this.offset + this.stride * p;
  }
  /** The last inner position at or before outer position `x` (-1 when none). */
  private atOrBefore(x: number): number {
    return Math.max(-1, Math.floor((x - this.offset) / this.stride));
  }
  /** The first inner position at or after outer position `x`. */
  private atOrAfter(x: number): number {
    return Math.max(0, Math.ceil((x - this.offset) / this.stride));
  }

  private rec(e: RecordedEvent): RecordedEvent {
    return { ...e, position: this.out(e.position) };
  }

  private wrapRawScan(raw: RawScan): RawScan {
    return (checkpoint, visit, filter) => {
      const inner = checkpoint === 'start' ? 'start' : this.atOrBefore(checkpoint);
      const view = new MovedCursor(this);
      raw(inner === -1 ? 'start' : inner, (c) => visit(view.over(c)), filter);
    };
  }

  async appendToStream(stream: string, events: EventData[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    const r = await this.inner.appendToStream(stream, events, options);
    return { nextExpectedRevision: r.nextExpectedRevision, position: this.out(r.position) };
  }

  async *readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    for await (const e of this.inner.readStream(stream, options)) yield this.rec(e);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const from = options.fromPosition;
    const backwards = options.direction === 'backwards';
    let innerFrom: ReadAllOptions['fromPosition'] = from;
    if (typeof from === 'number') {
      innerFrom = backwards ? this.atOrBefore(from) : this.atOrAfter(from);
      if (backwards && innerFrom < 0) return;
    }
    for await (const e of this.inner.readAll({ ...options, fromPosition: innerFrom })) yield this.rec(e);
  }

  subscribeToAll(options: SubscribeAllOptions = {}): Subscription {
    const from = options.fromPosition;
    let innerFrom: SubscribeAllOptions['fromPosition'] = from;
    if (typeof from === 'number') {
      const p = this.atOrBefore(from);
      innerFrom = p < 0 ? 'start' : p;
    }
    return this.mapSubscription(this.inner.subscribeToAll({ ...options, fromPosition: innerFrom }));
  }

  subscribeToStream(stream: string, options?: SubscribeStreamOptions): Subscription {
    return this.mapSubscription(this.inner.subscribeToStream(stream, options));
  }

  private mapSubscription(sub: Subscription): Subscription {
    const rec = (e: RecordedEvent) => this.rec(e);
    return {
      close: () => sub.close(),
      async *[Symbol.asyncIterator]() {
        for await (const e of sub) yield rec(e);
      },
    };
  }

  streamRevision(stream: string): Promise<number> {
    return this.inner.streamRevision(stream);
  }

  async headPosition(): Promise<number> {
    return this.out(await this.inner.headPosition());
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The inner cursor seen with its position moved; everything else read through. */
class MovedCursor implements RawEventCursor {
  private c!: RawEventCursor;
  constructor(private readonly store: SparsePositionStore) {}
  over(c: RawEventCursor): this {
    this.c = c;
    return this;
  }
  get position(): number {
    return this.store.out(this.c.position);
  }
  get buf() { return this.c.buf; }
  get stream() { return this.c.stream; }
  get revision() { return this.c.revision; }
  get id() { return this.c.id; }
  get type() { return this.c.type; }
  get isJson() { return this.c.isJson; }
  get typeStart() { return this.c.typeStart; }
  get typeEnd() { return this.c.typeEnd; }
  get dataStart() { return this.c.dataStart; }
  get dataEnd() { return this.c.dataEnd; }
  get metaStart() { return this.c.metaStart; }
  get metaEnd() { return this.c.metaEnd; }
  get data() { return this.c.data; }
  get metadata() { return this.c.metadata; }
}

