/**
 * Puts Binance market-data events into a stream a plain book can consume: REST depth snapshots are
 * placed where the book procedure (domain/book/binance-sync.ts) says, stale diffs are dropped, and a
 * gap becomes a BookAnomalyReported (kind `sequence-gap`) after which the symbol's diffs are held until
 * a new snapshot arrives.
 *
 * Order is kept with slots: every input event takes a slot in arrival order; a diff waiting for its
 * snapshot keeps its slot open, and nothing after an open slot is released. So the output order depends
 * only on the websocket frame order and the snapshots' update ids, not on when a REST answer came back:
 * the capture reader (snapshots delivered at once) and the live adapter (snapshots fetched over HTTP)
 * give the same events in the same order. The price in the live case: while a snapshot is in flight,
 * all output waits for it (typically one REST round trip at start-up and after a gap).
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import { makeEvent, type AnyEnvelope, type EventEnvelope } from '../../../domain/events/envelope.js';
import {
  DEFAULT_SYNC_OPTIONS, initialSyncState, step,
  type BinanceSyncState, type SyncEvent, type SyncInput,
} from '../../../domain/book/binance-sync.js';
import { marketDataStream } from '../common/frame.js';

interface Slot {
  out: AnyEnvelope[];
  /** Still waiting: nothing after this slot may be released. */
  pending: boolean;
}

interface DiffRef {
  env: EventEnvelope<'BookDeltaApplied'>;
  slot: Slot;
}

type Snap = EventEnvelope<'BookSnapshotted'>;
type State = BinanceSyncState<DiffRef, Snap>;

export interface DepthSequencerOptions {
  /**
   * Called when a symbol needs a REST snapshot (after its first diff, and after a gap). Answer with
   * `deliverSnapshot` or `snapshotUnavailable`, at once or later.
   */
  requestSnapshot: (instrument: string) => void;
  /** Diffs kept per symbol while its snapshot is awaited. */
  maxBuffered?: number;
}

export type DepthSequencerStats = {
  diffsApplied: number;
  diffsStale: number;
  diffsDroppedUnsynced: number;
  snapshotsEmitted: number;
  snapshotsRequested: number;
  gaps: number;
};

export class BinanceDepthSequencer {
  private readonly slots: Slot[] = [];
  private head = 0;
  private headOut = 0;
  private readonly books = new Map<string, State>();
  private readonly requests: string[] = [];
  private firing = false;
  private readonly maxBuffered: number;
  readonly stats: DepthSequencerStats = { diffsApplied: 0, diffsStale: 0, diffsDroppedUnsynced: 0, snapshotsEmitted: 0, snapshotsRequested: 0, gaps: 0 };

  constructor(private readonly options: DepthSequencerOptions) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_SYNC_OPTIONS.maxBuffered;
  }

  /** One event from the stream, in stream order. Depth diffs (with U and u) go through the book procedure. */
  push(env: AnyEnvelope): void {
    if (env.type === 'BookDeltaApplied' && env.data.firstSequence !== undefined && env.data.sequence !== undefined) {
      const slot: Slot = { out: [], pending: true };
      this.slots.push(slot);
      this.run(env.data.instrument, { kind: 'diff', diff: { firstUpdateId: env.data.firstSequence, finalUpdateId: env.data.sequence, payload: { env, slot } } }, slot);
    } else {
      this.slots.push({ out: [env], pending: false });
    }
    this.fireRequests();
  }

  /** The REST snapshot asked for by `requestSnapshot`. */
  deliverSnapshot(env: Snap): void {
    if (env.data.sequence === undefined) {
      throw new TapedeckError('BOOK_SNAPSHOT_SEQUENCE', `${env.data.instrument}: a depth snapshot without lastUpdateId cannot be synchronised`, { field: 'sequence' });
    }
    this.run(env.data.instrument, { kind: 'snapshot', snapshot: { lastUpdateId: env.data.sequence, payload: env } }, null);
    this.fireRequests();
  }

  /** The snapshot could not be had (no more in the capture, HTTP failure): reported, the symbol stays unsynced. */
  snapshotUnavailable(instrument: string, reason: string): void {
    this.run(instrument, { kind: 'snapshot-unavailable', reason }, null);
    this.fireRequests();
  }

  /** End of stream: snapshots still waiting are reported unavailable, bridging snapshots are emitted. */
  end(): void {
    for (const [instrument, s] of this.books) {
      if (s.phase === 'awaiting-snapshot') this.run(instrument, { kind: 'snapshot-unavailable', reason: 'the stream ended before the snapshot arrived' }, null);
    }
    for (const instrument of this.books.keys()) this.run(instrument, { kind: 'end' }, null);
  }

  /** Events released so far, in order. */
  take(): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!;
      while (this.headOut < slot.out.length) out.push(slot.out[this.headOut++]!);
      if (slot.pending) break;
      this.head++;
      this.headOut = 0;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  /** True while some output waits for a snapshot. */
  get holding(): boolean {
    for (let i = this.head; i < this.slots.length; i++) if (this.slots[i]!.pending) return true;
    return false;
  }

  /** The procedure's phase for an instrument (`synced`, `awaiting-snapshot`, ...). */
  phase(instrument: string): State['phase'] {
    return this.books.get(instrument)?.phase ?? 'idle';
  }

  private run(instrument: string, input: SyncInput<DiffRef, Snap>, inputSlot: Slot | null): void {
    const before = this.books.get(instrument) ?? initialSyncState<DiffRef, Snap>();
    const { state, events } = step(before, input, { maxBuffered: this.maxBuffered });
    this.books.set(instrument, state);
    let prefix: Snap | null = null;
    for (const e of events) this.apply(instrument, e, before, inputSlot, () => prefix, (p) => (prefix = p));
    if (prefix !== null) {
      // Emitted at the end of the stream: it gets a slot of its own, after everything else.
      this.slots.push({ out: [prefix], pending: false });
      this.stats.snapshotsEmitted++;
    }
  }

  private apply(
    instrument: string, e: SyncEvent<DiffRef, Snap>, before: State, inputSlot: Slot | null,
    prefix: () => Snap | null, setPrefix: (p: Snap | null) => void,
  ): void {
    switch (e.kind) {
      case 'SnapshotRequested':
        this.stats.snapshotsRequested++;
        this.requests.push(instrument);
        return;
      case 'DiffBuffered':
      case 'SnapshotAccepted':
      case 'SnapshotIgnored':
        return;
      case 'SnapshotEmitted':
        setPrefix(e.snapshot.payload);
        return;
      case 'DiffApplied': {
        const { env, slot } = e.diff.payload;
        const p = prefix();
        if (p !== null) {
          // Its venue time is when it takes effect: just before this diff. (Its receive time depends on
          // when the REST answer came back, which differs between a capture and a live socket.)
          slot.out.push(p.eventTimeNs === env.eventTimeNs ? p : { ...p, eventTimeNs: env.eventTimeNs });
          this.stats.snapshotsEmitted++;
          setPrefix(null);
        }
        slot.out.push(env);
        slot.pending = false;
        this.stats.diffsApplied++;
        return;
      }
      case 'DiffDropped': {
        const { env, slot } = e.diff.payload;
        if (e.reason === 'stale') this.stats.diffsStale++;
        else this.stats.diffsDroppedUnsynced++;
        if (e.reason === 'buffer-full') {
          slot.out.push(this.anomaly(env, 'buffer-overflow', `more than ${this.maxBuffered} diffs waited for a snapshot; dropped U=${env.data.firstSequence} u=${env.data.sequence}`, {}));
        }
        slot.pending = false;
        return;
      }
      case 'GapDetected': {
        const { env, slot } = e.diff.payload;
        this.stats.gaps++;
        const why = e.reason === 'chain-break'
          ? `diff U=${e.diff.firstUpdateId} u=${e.diff.finalUpdateId} does not continue the book at update ${e.lastUpdateId} (expected U=${e.expectedFirstUpdateId})`
          : `snapshot lastUpdateId=${e.lastUpdateId} is older than the first diff after it (U=${e.diff.firstUpdateId} u=${e.diff.finalUpdateId}, expected U <= ${e.expectedFirstUpdateId})`;
        // The slot stays open: the diff is buffered again for the next snapshot.
        slot.out.push(this.anomaly(env, 'sequence-gap', `${why}; book unsynced until a new snapshot`, {
          expectedSequence: e.expectedFirstUpdateId, firstSequence: e.diff.firstUpdateId, sequence: e.diff.finalUpdateId,
        }));
        return;
      }
      case 'SnapshotUnavailable': {
        const first = before.buffer[0]?.payload;
        const slot = first?.slot ?? inputSlot ?? this.newSlot();
        const at = first?.env;
        const env = makeEvent({
          id: uuidFromName(`tapedeck/marketdata/${venueOf(instrument)}`, `snapshot-unavailable:${instrument}:${before.snapshotsRequested}`),
          type: 'BookAnomalyReported',
          stream: marketDataStream(instrument),
          eventTimeNs: at?.eventTimeNs ?? 0n,
          receiveTimeNs: at?.receiveTimeNs ?? 0n,
          data: { venue: venueOf(instrument), instrument, kind: 'snapshot-unavailable', detail: `${e.reason}; book unsynced` },
        });
        slot.out.push(env);
        return;
      }
    }
  }

  private anomaly(at: EventEnvelope<'BookDeltaApplied'>, kind: string, detail: string, seq: { expectedSequence?: number; firstSequence?: number; sequence?: number }): AnyEnvelope {
    const d = at.data;
    return makeEvent({
      id: uuidFromName(`tapedeck/marketdata/${d.venue}`, `${kind}:${d.instrument}:${seq.expectedSequence ?? ''}:${d.firstSequence}:${d.sequence}`),
      type: 'BookAnomalyReported',
      stream: marketDataStream(d.instrument),
      eventTimeNs: at.eventTimeNs,
      receiveTimeNs: at.receiveTimeNs,
      data: { venue: d.venue, instrument: d.instrument, kind, detail, ...seq },
    });
  }

  private newSlot(): Slot {
    const s: Slot = { out: [], pending: false };
    this.slots.push(s);
    return s;
  }

  private fireRequests(): void {
    // A synchronous answer re-enters deliverSnapshot, which calls here again: one loop drains all.
    if (this.firing) return;
    this.firing = true;
    try {
      while (this.requests.length > 0) this.options.requestSnapshot(this.requests.shift()!);
    } finally {
      this.firing = false;
    }
  }
}

function venueOf(instrument: string): string {
  const i = instrument.indexOf(':');
  return i > 0 ? instrument.slice(0, i) : instrument;
}
