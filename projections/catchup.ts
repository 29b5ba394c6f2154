/**
 * Catch-up: brings the projections database up to the head of the store, from the checkpoint stored
 * in the database itself. Each batch is one DuckDB transaction holding the rows AND the new checkpoint,
 * so a process killed at any point leaves the file at a batch boundary and the next run continues from
 * exactly there (no double counting, nothing skipped).
 *
 * The store is opened read-only (no lock): projections can be brought up to date while the kernel
 * appends; they then reflect the events durable when the catch-up started.
 */
import { damagedRanges, type DamagedRange } from '../src/store/damage.js';
import { openStore } from '../src/store/open.js';
import type { EventStore } from '../src/store/port.js';
import { defaultDbPath, openDbWithRetry, queryRows, sqlString, type OpenDb } from './db.js';
import { Projector, projectorSchemaSql } from './projector.js';
import { CHECKPOINT_TABLE, PROJECTOR_NAME, SCHEMA_VERSION, schemaSql, TABLES, VIEW_NAMES } from './schema.js';

export interface ProjectOptions {
  /** The DuckDB file; default `<store>/projections.duckdb`. */
  dbPath?: string;
  /** Events folded per transaction. */
  batchEvents?: number;
  /** Stop after this many events (tests: simulate a stop in the middle). */
  maxEvents?: number;
  /** Stop at this position (inclusive). */
  toPosition?: number;
  /** Called after every committed batch. */
  onBatch?: (progress: { position: number; head: number; events: number }) => void;
}

export interface ProjectResult {
  /** Ranges of the log the store reports unreadable: the projections lack what they held. */
  unreadable?: DamagedRange[];
  dbPath: string;
  fromPosition: number;
  toPosition: number;
  head: number;
  events: number;
  decoded: number;
  rows: number;
  errors: number;
  batches: number;
  seconds: number;
}

const DEFAULT_BATCH = 250_000;
/**
 * WAL size at which DuckDB folds the log into the file. Its default (16 MB) checkpoints every
 * batch or two during a catch-up, re-compressing the tables' last row groups each time (about
 * 1.5-2 s of CPU per 1M events on the bench run); a larger WAL checkpoints once near the end
 * (or at close). Durability is the same: every batch is still one committed transaction.
 */
const CATCHUP_CHECKPOINT_THRESHOLD = '256MB';

/** Creates the tables (or rebuilds them when the schema version changed) and returns the connection. */
export async function prepareDb(db: OpenDb): Promise<void> {
  const con = db.con;
  const existing = await queryRows(con, `SELECT table_name FROM information_schema.tables WHERE table_name = '${CHECKPOINT_TABLE}'`);
  if (existing.length > 0) {
    const v = await queryRows(con, `SELECT schema_version FROM ${CHECKPOINT_TABLE} WHERE projector = ${sqlString(PROJECTOR_NAME)}`);
    if (v.length > 0 && Number(v[0]!.schema_version) !== SCHEMA_VERSION) await dropProjections(db);
  }
  for (const sql of [...schemaSql(), ...projectorSchemaSql()]) await con.run(sql);
}

/** Drops every projection table and the checkpoint: the next catch-up projects from zero. */
export async function dropProjections(db: OpenDb): Promise<void> {
  const con = db.con;
  for (const v of VIEW_NAMES) await con.run(`DROP VIEW IF EXISTS "${v}"`);
  for (const t of TABLES) await con.run(`DROP TABLE IF EXISTS "${t.name}"`);
  await con.run('DROP TABLE IF EXISTS _tapedeck_run_state');
  await con.run(`DROP TABLE IF EXISTS ${CHECKPOINT_TABLE}`);
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Catches the projections of `storeDir` up to its head. */
export async function projectStore(storeDir: string, options: ProjectOptions = {}): Promise<ProjectResult> {
  const store = await openStore(storeDir, { readOnly: true, create: false });
  try {
    const r = await projectFrom(store, options.dbPath ?? defaultDbPath(storeDir), options);
    return { ...r, unreadable: damagedRanges(store) };
  } finally {
    await store.close();
  }
}

/**
 * Folds up to `max` events after the projector's position and at or before `head`; returns how many.
 * Through the store's raw scan when it offers one (no object per event), else through readAll.
 */
export async function foldBatch(store: EventStore, projector: Projector, head: number, max: number): Promise<number> {
  let n = 0;
  if (max <= 0) return 0;
  const checkpoint = projector.position < 0 ? 'start' : projector.position;
  const rawScan = store.capabilities?.rawScan;
  if (rawScan) {
    rawScan(checkpoint, (c) => {
      if (c.position > head) return false;
      projector.visitCursor(c);
      n++;
      return n < max;
    });
    return n;
  }
  // Positions are not contiguous: read from the checkpoint itself (a position the store gave) and skip it.
  for await (const e of store.readAll({ fromPosition: checkpoint === 'start' ? 'start' : checkpoint, maxCount: max + 1 })) {
    if (checkpoint !== 'start' && e.position <= checkpoint) continue;
    if (e.position > head || n >= max) break;
    projector.visit({ position: e.position, revision: e.revision, stream: e.stream, id: e.id, type: e.type, data: e.isJson ? e.data : null, metadata: e.metadata });
    n++;
  }
  return n;
}

/** Catches a database up with any EventStore. */
export async function projectFrom(store: EventStore, dbPath: string, options: ProjectOptions = {}): Promise<ProjectResult> {
  const t0 = now();
  const db = await openDbWithRetry(dbPath, { settings: { checkpoint_threshold: CATCHUP_CHECKPOINT_THRESHOLD } });
  try {
    await prepareDb(db);
    const projector = new Projector();
    await projector.load(db.con);
    const fromPosition = projector.position;
    const head = Math.min(await store.headPosition(), options.toPosition ?? Infinity);
    const batch = Math.max(1, options.batchEvents ?? DEFAULT_BATCH);
    const limit = options.maxEvents ?? Infinity;
    let folded = 0;
    let batches = 0;
    // The COMMIT of one batch runs (on DuckDB's thread) while the next batch is folded.
    let pending: Promise<void> | null = null;
    /** Waits for the COMMIT in flight, then reports the batch it made durable. */
    const settle = async (): Promise<void> => {
      if (pending === null) return;
      const p = pending;
      pending = null;
      await p;
      batches++;
      options.onBatch?.({ position: projector.position, head, events: folded });
    };
    try {
      while (projector.position < head && folded < limit) {
        const n = await foldBatch(store, projector, head, Math.min(batch, limit - folded));
        if (n === 0) break;
        folded += n;
        await settle();
        pending = (await projector.beginCommit(db.con)).done;
      }
      await settle();
    } finally {
      // Never leave a COMMIT running behind a failure: the connection closes after it.
      if (pending !== null) await (pending as Promise<void>).catch(() => undefined);
    }
    return {
      dbPath: db.file, fromPosition, toPosition: projector.position, head, events: folded, decoded: projector.stats.decoded,
      rows: projector.stats.rows, errors: projector.stats.errors, batches, seconds: now() - t0,
    };
  } finally {
    db.close();
  }
}
