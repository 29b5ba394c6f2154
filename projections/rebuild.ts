/**
 * `tapedeck rebuild`: positions, open orders and balances of every run, rebuilt from the log alone
 * (from position 0 up to `at`, default the head), with the same fold as the projection tables but
 * held in memory: no database, no snapshot, so it is by construction a rebuild from zero.
 */
import { TapedeckError } from '../domain/core/errors.js';
import { damagedRanges, type DamagedRange } from '../src/store/damage.js';
import { openStore } from '../src/store/open.js';
import type { EventStore } from '../src/store/port.js';
import { foldBatch } from './catchup.js';
import { Projector, stateViews, type RunStateView } from './projector.js';

export interface RebuildResult {
  /** Last position folded (the --at asked for, or the head). */
  at: number;
  head: number;
  events: number;
  /** Events that could not be folded, plus ranges of the log the store reports unreadable. */
  errors: number;
  /** False when the store is damaged: `unreadable` names what the rebuild could not see. */
  complete: boolean;
  unreadable: DamagedRange[];
  runs: RunStateView[];
}

export interface RebuildOptions {
  at?: number;
  runId?: string;
}

/** Opens the store at `location` read-only and rebuilds from it. */
export async function rebuild(location: string, options: RebuildOptions = {}): Promise<RebuildResult> {
  const store = await openStore(location, { readOnly: true, create: false });
  try {
    return await rebuildFrom(store, options);
  } finally {
    await store.close();
  }
}

/** Rebuilds from any store behind the port (the raw scan when it offers one). */
export async function rebuildFrom(store: EventStore, options: RebuildOptions = {}): Promise<RebuildResult> {
  const head = await store.headPosition();
  if (options.at !== undefined && options.at > head) {
    throw new TapedeckError('REBUILD_POSITION', `--at ${options.at} is past the head of the log (${head})`, { field: '--at' });
  }
  const at = options.at ?? head;
  const p = new Projector({ rows: false });
  while (p.position < at && (await foldBatch(store, p, at, 100_000)) > 0);
  let runs = stateViews(p);
  if (options.runId !== undefined) {
    runs = runs.filter((r) => r.runId === options.runId);
    if (runs.length === 0) throw new TapedeckError('RUN_NOT_FOUND', `no run "${options.runId}" at or before position ${at}`, { field: '--run' });
  }
  const unreadable = damagedRanges(store).filter((c) => c.fromPosition === undefined || c.fromPosition <= at);
  return { at, head, events: p.events, errors: p.stats.errors + unreadable.length, complete: unreadable.length === 0, unreadable, runs };
}
