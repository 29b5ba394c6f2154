/**
 * Run streams (`run-<id>`) kept honest by every writer: a closed run (RunEnded) takes no more events,
 * and a run whose process died is marked abandoned.
 *
 * Runs whose process died: without this they stay "running" forever. The next writer to open a store
 * (`openRunStore`) looks at every run with RunStarted and no RunEnded, and when its owner process is
 * gone (the pid recorded in its manifest no longer exists on this host; or no owner was recorded, from
 * before owners were) appends RunAbandoned with the run's last durable position and revision. The
 * append expects that revision, so a run that is in fact still being written is never touched.
 * A run owned by another host is left alone: its process cannot be checked from here.
 */
import os from 'node:os';
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { CATALOG } from '../../domain/events/catalog.js';
import { envelopeToStored, type AnyEnvelope } from '../../domain/events/envelope.js';
import { isProcessAlive } from '../store/embedded/lock.js';
import { openStore, type OpenStoreOptions } from '../store/open.js';
import { WrongExpectedRevisionError, type EventStore } from '../store/port.js';

export interface AbandonedRun {
  runId: string;
  lastPosition: number;
  lastRevision: number;
  reason: string;
}

type Owner = { pid: number; host: string };

function ownerGone(owner: Owner | undefined): string | null {
  if (owner === undefined) return 'no owner was recorded (a run from before owners were) and it never ended';
  if (owner.host !== os.hostname()) return null;
  if (owner.pid === process.pid || isProcessAlive(owner.pid)) return null;
  return `its owner process ${owner.pid} on ${owner.host} is gone and the run never ended`;
}

/** Marks every run of the store whose owner is gone with RunAbandoned; returns what it marked. */
export async function markAbandonedRuns(store: EventStore): Promise<AbandonedRun[]> {
  const open = new Map<string, Owner | undefined>();
  const filter = { streamPrefixes: ['run-'], eventTypes: ['RunStarted', 'RunEnded'] };
  for await (const e of store.readAll({ filter })) {
    if (e.type === 'RunEnded') open.delete(e.stream);
    else open.set(e.stream, (e.data as { manifest?: { owner?: Owner } }).manifest?.owner);
  }
  const marked: AbandonedRun[] = [];
  for (const [stream, owner] of open) {
    const why = ownerGone(owner);
    if (why === null) continue;
    let last = null;
    for await (const e of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) last = e;
    if (last === null || last.type === 'RunAbandoned') continue; // already marked, and nothing since
    const runId = stream.slice('run-'.length);
    const reason = `${why}; it kept events up to position ${last.position} (revision ${last.revision})`;
    const eventTimeNs = BigInt(String(last.metadata.eventTimeNs ?? 0));
    const env = {
      id: uuidFromName(runId, `run-abandoned:${last.revision}`),
      type: 'RunAbandoned',
      schemaVersion: CATALOG.RunAbandoned.version,
      stream,
      eventTimeNs,
      receiveTimeNs: BigInt(Date.now()) * 1_000_000n,
      causationId: null,
      correlationId: runId,
      data: { runId, reason, lastPosition: last.position, lastRevision: last.revision, ...(owner ? { owner } : {}) },
    } as AnyEnvelope;
    const stored = envelopeToStored(env);
    stored.metadata.role = 'run';
    try {
      await store.appendToStream(stream, [{ id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata }], { expectedRevision: last.revision });
    } catch (e) {
      if (e instanceof WrongExpectedRevisionError) continue; // someone is writing it after all
      throw e;
    }
    marked.push({ runId, lastPosition: last.position, lastRevision: last.revision, reason });
  }
  return marked;
}

/**
 * Opens a store to write runs into: first marks the runs whose owner is gone (and says so on `note`,
 * one line each), so a dead run never looks like a running one.
 */
export async function openRunStore(location: string, options: OpenStoreOptions = {}, note: (line: string) => void = () => undefined): Promise<EventStore> {
  const store = await openStore(location, options);
  if (options.readOnly) return store;
  try {
    for (const a of await markAbandonedRuns(store)) note(`run ${a.runId} marked abandoned: ${a.reason}`);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/** Refuses to append to a run stream that has ended (RUN_ENDED names the run and where it ended). */
export async function assertRunOpen(store: EventStore, stream: string): Promise<void> {
  if (!stream.startsWith('run-')) return;
  for await (const e of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) {
    if (e.type === 'RunEnded') {
      throw new TapedeckError('RUN_ENDED', `run ${stream.slice(4)} ended at position ${e.position} (${String((e.data as { outcome?: string }).outcome)}): its stream takes no more events`, { stream });
    }
  }
}
