/**
 * Copying a store into another, through the port only, so it works between any two backends (embedded to
 * KurrentDB and back): every event in $all order with its id, type, stream, stream revision, data (JSON as
 * JSON, bytes verbatim) and metadata. Positions belong to the destination (KurrentDB's are sparse); into
 * an empty embedded store they come out the same as the source's.
 *
 * Each append carries the revision the source gives its first event as the expected revision, so a copy
 * never lands at another revision, and a retried append is a no-op (idempotent by id). Resuming checks the
 * destination event by event against the start of the source before going on.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import type { EventData, EventStore, ExpectedRevision, RecordedEvent } from './port.js';

export interface CopyOptions {
  /** Continue into a destination that already holds the start of the source (checked event by event). */
  resume?: boolean;
  /** Events per append at most (consecutive events of one stream go in one append). Default 500. */
  batchEvents?: number;
  /** Called after each append with the events copied so far. */
  onProgress?: (copied: number) => void;
}

export interface CopyReport {
  /** Events appended by this copy. */
  copied: number;
  /** Events the destination already held (a resumed copy). */
  alreadyThere: number;
  /** Source events in all (copied + alreadyThere). */
  events: number;
  streams: number;
  appends: number;
}

function same(a: RecordedEvent, b: RecordedEvent): string | null {
  if (a.id !== b.id) return `id ${b.id} where the source has ${a.id}`;
  if (a.stream !== b.stream || a.revision !== b.revision) return `${b.stream}@${b.revision} where the source has ${a.stream}@${a.revision}`;
  if (a.type !== b.type) return `type ${b.type} where the source has ${a.type}`;
  return null;
}

function toEventData(e: RecordedEvent): EventData {
  return e.isJson
    ? { id: e.id, type: e.type, data: e.data, metadata: e.metadata, contentType: 'application/json' }
    : { id: e.id, type: e.type, data: e.data as Uint8Array, metadata: e.metadata, contentType: 'application/octet-stream' };
}

/** Copies `from` into `to`. Throws COPY_* errors that say how far it got and how to go on. */
export async function copyStore(from: EventStore, to: EventStore, options: CopyOptions = {}): Promise<CopyReport> {
  const batchEvents = options.batchEvents ?? 500;
  const source = from.readAll()[Symbol.asyncIterator]();
  const report: CopyReport = { copied: 0, alreadyThere: 0, events: 0, streams: 0, appends: 0 };
  const revisions = new Map<string, number>();
  const note = (e: RecordedEvent) => {
    const last = revisions.get(e.stream) ?? -1;
    if (e.revision !== last + 1) {
      throw new TapedeckError('COPY_SOURCE', `the source's stream "${e.stream}" goes from revision ${last} to ${e.revision}; a copy must keep revisions, so it stops here`, { stream: e.stream, position: e.position });
    }
    revisions.set(e.stream, e.revision);
    report.events++;
  };

  // What the destination holds already must be the source's first events, in the same order.
  for await (const d of to.readAll()) {
    if (!options.resume) {
      throw new TapedeckError('COPY_DESTINATION_NOT_EMPTY', `the destination already holds events (the first is ${d.stream}@${d.revision}); copy into an empty store, or give --resume to continue a copy that stopped`, { field: '--to' });
    }
    const next = await source.next();
    if (next.done) throw new TapedeckError('COPY_DIVERGED', `the destination holds more events than the source (${report.alreadyThere} match, then ${d.stream}@${d.revision}); it is not a copy of this source`, { field: '--to' });
    const why = same(next.value, d);
    if (why) throw new TapedeckError('COPY_DIVERGED', `the destination's event ${report.alreadyThere + 1} is ${why}; it is not a copy of this source, so nothing was copied`, { field: '--to', position: d.position });
    note(next.value);
    report.alreadyThere++;
  }

  let batch: RecordedEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const first = batch[0]!;
    const expected: ExpectedRevision = first.revision === 0 ? 'no_stream' : first.revision - 1;
    try {
      const r = await to.appendToStream(first.stream, batch.map(toEventData), { expectedRevision: expected });
      const lastRevision = batch[batch.length - 1]!.revision;
      if (r.nextExpectedRevision !== lastRevision) {
        throw new TapedeckError('COPY_REVISION', `the destination put ${first.stream}'s events up to revision ${r.nextExpectedRevision}, the source has them up to ${lastRevision}`, { stream: first.stream });
      }
    } catch (e) {
      const cause = e instanceof TapedeckError ? e.describe() : e instanceof Error ? e.message : String(e);
      throw new TapedeckError(
        'COPY_FAILED',
        `stopped after ${report.alreadyThere + report.copied} of the source's events were in the destination (${report.copied} copied now), at ${first.stream}@${first.revision}: ${cause}. Run the same copy with --resume to go on (it checks the destination first)`,
        { stream: first.stream },
        { copied: report.copied, alreadyThere: report.alreadyThere },
      );
    }
    report.copied += batch.length;
    report.appends++;
    batch = [];
    options.onProgress?.(report.copied);
  };

  for (;;) {
    const next = await source.next();
    if (next.done) break;
    const e = next.value;
    note(e);
    if (batch.length > 0 && (batch[0]!.stream !== e.stream || batch.length >= batchEvents)) await flush();
    batch.push(e);
  }
  await flush();
  report.streams = revisions.size;
  return report;
}

export interface ReadCheckProblem {
  position: number | null;
  stream?: string;
  revision?: number;
  id?: string;
  reason: string;
}

/** What `store verify` reports for a store checked by reading it through the port (KurrentDB). */
export interface ReadCheckReport {
  ok: boolean;
  events: number;
  streams: number;
  /** Position of the last event read, -1 for an empty store. */
  lastPosition: number;
  problems: ReadCheckProblem[];
}

/**
 * Reads $all through the port and checks what a reader relies on: every event decodes (the backend
 * throws a TapedeckError when one does not, which ends the read at that event), positions strictly
 * increase, each stream's revisions run 0, 1, 2… with no gap or repeat, and reading each stream agrees
 * with $all about its last revision.
 */
export async function checkByReading(store: EventStore, options: { maxProblems?: number } = {}): Promise<ReadCheckReport> {
  const maxProblems = options.maxProblems ?? 100;
  const report: ReadCheckReport = { ok: true, events: 0, streams: 0, lastPosition: -1, problems: [] };
  const add = (p: ReadCheckProblem) => {
    report.ok = false;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };
  const revisions = new Map<string, number>();
  try {
    for await (const e of store.readAll()) {
      report.events++;
      if (e.position <= report.lastPosition) add({ position: e.position, stream: e.stream, revision: e.revision, id: e.id, reason: `position ${e.position} does not follow ${report.lastPosition}` });
      report.lastPosition = Math.max(report.lastPosition, e.position);
      const last = revisions.get(e.stream) ?? -1;
      if (e.revision !== last + 1) add({ position: e.position, stream: e.stream, revision: e.revision, id: e.id, reason: `stream "${e.stream}" goes from revision ${last} to ${e.revision}` });
      revisions.set(e.stream, Math.max(last, e.revision));
    }
  } catch (e) {
    if (!(e instanceof TapedeckError) || e.code === 'STORE_UNAVAILABLE') throw e;
    const where = e.where ?? {};
    add({ position: typeof where.position === 'number' ? where.position : null, stream: where.stream, id: typeof where.id === 'string' ? where.id : undefined, reason: `${e.describe()} (the read stops at this event)` });
  }
  report.streams = revisions.size;
  for (const [stream, revision] of revisions) {
    const head = await store.streamRevision(stream);
    if (head !== revision) add({ position: null, stream, reason: `reading "${stream}" ends at revision ${head}, $all at ${revision}` });
  }
  return report;
}
