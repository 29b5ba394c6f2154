/**
 * Binance's documented local order book procedure, as a decider for ONE symbol:
 *
 *   1. buffer depth diffs from the stream and ask for a REST snapshot (lastUpdateId = L);
 *   2. drop diffs with u <= L;
 *   3. the first diff applied on top of the snapshot must bridge it: U <= L + 1 <= u;
 *   4. from then on each diff must continue the chain: U = previous u + 1.
 *
 * A break in the chain is DETECTED and REPORTED (GapDetected with the update ids), the book is unsynced,
 * diffs are buffered again and a new snapshot is requested. A snapshot whose L is older than the first
 * buffered diff (U > L + 1) is a gap of the same kind.
 *
 * Placement rule (why the snapshot is not emitted as soon as it arrives): the snapshot is EMITTED right
 * before the first diff that bridges it, or at the end of the stream. That position depends only on the
 * order of the websocket frames and on L, never on when the REST answer came back, so a capture replayed
 * from a file and the same capture replayed over a socket give the same event order. It also never shows
 * a book from the future: the state at L is known to be past once a diff with u > L has arrived.
 *
 * Overlapping diffs (U <= prev u < u) are applied, as Binance's documentation allows: levels carry
 * absolute quantities, so re-applying the overlapped part is harmless.
 *
 * `D` and `S` are whatever the caller attaches to a diff or snapshot (an envelope, a slot); the decider
 * reads only the update ids. Pure: state in, events out, no I/O.
 */

export interface DepthDiff<D> {
  /** U: first update id in the event. */
  firstUpdateId: number;
  /** u: final update id in the event. */
  finalUpdateId: number;
  payload: D;
}

export interface DepthSnapshot<S> {
  lastUpdateId: number;
  payload: S;
}

export type SyncPhase =
  /** No diff seen yet. */
  | 'idle'
  /** A snapshot was requested; diffs are buffered. */
  | 'awaiting-snapshot'
  /** The snapshot is known but not yet emitted: waiting for the diff that bridges it. */
  | 'bridging'
  /** Snapshot emitted and diffs chained onto it. */
  | 'synced'
  /** The snapshot could not be obtained; diffs are dropped until one is delivered. */
  | 'failed';

export interface BinanceSyncState<D, S> {
  phase: SyncPhase;
  /** The book's update id: the last applied u, or L while bridging; null before any snapshot. */
  lastUpdateId: number | null;
  buffer: ReadonlyArray<DepthDiff<D>>;
  pendingSnapshot: DepthSnapshot<S> | null;
  gaps: number;
  snapshotsRequested: number;
}

export interface BinanceSyncOptions {
  /** Diffs kept while waiting for a snapshot; the oldest is dropped beyond it. */
  maxBuffered: number;
}

export const DEFAULT_SYNC_OPTIONS: BinanceSyncOptions = { maxBuffered: 10_000 };

export type SyncInput<D, S> =
  | { kind: 'diff'; diff: DepthDiff<D> }
  | { kind: 'snapshot'; snapshot: DepthSnapshot<S> }
  | { kind: 'snapshot-unavailable'; reason: string }
  /** End of the stream: a snapshot still waiting for its bridge is emitted (the book at L is valid). */
  | { kind: 'end' };

export type GapReason = 'chain-break' | 'snapshot-behind';

export type SyncEvent<D, S> =
  | { kind: 'SnapshotRequested'; reason: 'initial' | 'gap' }
  | { kind: 'DiffBuffered'; diff: DepthDiff<D> }
  | { kind: 'SnapshotAccepted'; snapshot: DepthSnapshot<S> }
  /** A snapshot no newer than the book: ignored. */
  | { kind: 'SnapshotIgnored'; snapshot: DepthSnapshot<S>; lastUpdateId: number }
  | { kind: 'SnapshotEmitted'; snapshot: DepthSnapshot<S> }
  | { kind: 'DiffApplied'; diff: DepthDiff<D>; overlap: boolean }
  | { kind: 'DiffDropped'; diff: DepthDiff<D>; reason: 'stale' | 'unsynced' | 'buffer-full'; lastUpdateId: number | null }
  | { kind: 'GapDetected'; diff: DepthDiff<D>; reason: GapReason; expectedFirstUpdateId: number; lastUpdateId: number }
  | { kind: 'SnapshotUnavailable'; reason: string };

export function initialSyncState<D, S>(): BinanceSyncState<D, S> {
  return { phase: 'idle', lastUpdateId: null, buffer: [], pendingSnapshot: null, gaps: 0, snapshotsRequested: 0 };
}

export function evolve<D, S>(state: BinanceSyncState<D, S>, event: SyncEvent<D, S>): BinanceSyncState<D, S> {
  switch (event.kind) {
    case 'SnapshotRequested':
      return { ...state, phase: 'awaiting-snapshot', pendingSnapshot: null, snapshotsRequested: state.snapshotsRequested + 1 };
    case 'DiffBuffered':
      return { ...state, buffer: [...state.buffer, event.diff] };
    case 'SnapshotAccepted':
      // The buffer is re-examined by decide() against the snapshot; it empties here.
      return { ...state, phase: 'bridging', lastUpdateId: event.snapshot.lastUpdateId, pendingSnapshot: event.snapshot, buffer: [] };
    case 'SnapshotIgnored':
      return state;
    case 'SnapshotEmitted':
      return { ...state, phase: 'synced', pendingSnapshot: null };
    case 'DiffApplied':
      return { ...state, lastUpdateId: event.diff.finalUpdateId };
    case 'DiffDropped':
      return event.reason === 'buffer-full' ? { ...state, buffer: state.buffer.slice(1) } : state;
    case 'GapDetected':
      return { ...state, phase: 'awaiting-snapshot', pendingSnapshot: null, gaps: state.gaps + 1 };
    case 'SnapshotUnavailable':
      return { ...state, phase: 'failed', buffer: [], pendingSnapshot: null };
  }
}

/**
 * What follows from one input. The events are in order and are meant to be folded with `evolve`
 * (or use `step`, which does both).
 */
export function decide<D, S>(
  state: BinanceSyncState<D, S>,
  input: SyncInput<D, S>,
  options: BinanceSyncOptions = DEFAULT_SYNC_OPTIONS,
): SyncEvent<D, S>[] {
  const out: SyncEvent<D, S>[] = [];
  let s = state;
  const emit = (e: SyncEvent<D, S>): void => {
    out.push(e);
    s = evolve(s, e);
  };
  switch (input.kind) {
    case 'diff':
      onDiff(input.diff, emit, () => s, options);
      break;
    case 'snapshot': {
      const snap = input.snapshot;
      if ((s.phase === 'synced' || s.phase === 'bridging') && s.lastUpdateId !== null && snap.lastUpdateId <= s.lastUpdateId) {
        emit({ kind: 'SnapshotIgnored', snapshot: snap, lastUpdateId: s.lastUpdateId });
        break;
      }
      const buffered = s.buffer;
      emit({ kind: 'SnapshotAccepted', snapshot: snap });
      for (const d of buffered) onDiff(d, emit, () => s, options);
      break;
    }
    case 'snapshot-unavailable': {
      if (s.phase !== 'awaiting-snapshot') break;
      const buffered = s.buffer;
      emit({ kind: 'SnapshotUnavailable', reason: input.reason });
      for (const d of buffered) emit({ kind: 'DiffDropped', diff: d, reason: 'unsynced', lastUpdateId: s.lastUpdateId });
      break;
    }
    case 'end':
      if (s.phase === 'bridging' && s.pendingSnapshot !== null) emit({ kind: 'SnapshotEmitted', snapshot: s.pendingSnapshot });
      break;
  }
  return out;
}

function onDiff<D, S>(
  diff: DepthDiff<D>,
  emit: (e: SyncEvent<D, S>) => void,
  current: () => BinanceSyncState<D, S>,
  options: BinanceSyncOptions,
): void {
  const s = current();
  const U = diff.firstUpdateId;
  const u = diff.finalUpdateId;
  const buffer = (): void => {
    if (current().buffer.length >= options.maxBuffered) {
      const oldest = current().buffer[0]!;
      emit({ kind: 'DiffDropped', diff: oldest, reason: 'buffer-full', lastUpdateId: current().lastUpdateId });
    }
    emit({ kind: 'DiffBuffered', diff });
  };
  switch (s.phase) {
    case 'idle':
      emit({ kind: 'SnapshotRequested', reason: 'initial' });
      buffer();
      return;
    case 'awaiting-snapshot':
      buffer();
      return;
    case 'failed':
      emit({ kind: 'DiffDropped', diff, reason: 'unsynced', lastUpdateId: s.lastUpdateId });
      return;
    case 'bridging': {
      const L = s.lastUpdateId!;
      if (u <= L) {
        emit({ kind: 'DiffDropped', diff, reason: 'stale', lastUpdateId: L });
      } else if (U <= L + 1) {
        emit({ kind: 'SnapshotEmitted', snapshot: s.pendingSnapshot! });
        emit({ kind: 'DiffApplied', diff, overlap: U < L + 1 });
      } else {
        emit({ kind: 'GapDetected', diff, reason: 'snapshot-behind', expectedFirstUpdateId: L + 1, lastUpdateId: L });
        emit({ kind: 'SnapshotRequested', reason: 'gap' });
        buffer();
      }
      return;
    }
    case 'synced': {
      const last = s.lastUpdateId!;
      if (u <= last) {
        emit({ kind: 'DiffDropped', diff, reason: 'stale', lastUpdateId: last });
      } else if (U <= last + 1) {
        emit({ kind: 'DiffApplied', diff, overlap: U < last + 1 });
      } else {
        emit({ kind: 'GapDetected', diff, reason: 'chain-break', expectedFirstUpdateId: last + 1, lastUpdateId: last });
        emit({ kind: 'SnapshotRequested', reason: 'gap' });
        buffer();
      }
      return;
    }
  }
}

/** decide + evolve in one call. */
export function step<D, S>(
  state: BinanceSyncState<D, S>,
  input: SyncInput<D, S>,
  options: BinanceSyncOptions = DEFAULT_SYNC_OPTIONS,
): { state: BinanceSyncState<D, S>; events: SyncEvent<D, S>[] } {
  const events = decide(state, input, options);
  let s = state;
  for (const e of events) s = evolve(s, e);
  return { state: s, events };
}
