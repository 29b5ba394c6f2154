/**
 * Everything that reads or writes the log, on a store whose positions are sparse (1000003 + 7p, as
 * KurrentDB's are byte offsets): the engine's journal (replay), parity, projections (raw-scan and
 * readAll paths, from zero and in small catch-up steps), audit and rebuild. Each result must equal
 * the same work on a plain embedded store, positions apart, and every position it reports must be one
 * the store really gave.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import { auditOrderIn } from '../../projections/audit.js';
import { projectFrom } from '../../projections/catchup.js';
import { openDb, queryRows } from '../../projections/db.js';
import { hashTables } from '../../projections/export.js';
import { rebuildFrom } from '../../projections/rebuild.js';
import { checkParity } from '../../replay/parity.js';
import { BENCH_CONFIG } from '../../src/bench/kernel.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { openStore } from '../../src/store/open.js';
import { collect, type EventStore, type RecordedEvent } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { SparsePositionStore } from './sparse.js';

const tmp = tmpDir('td-sparse-');
afterAll(() => tmp.cleanup());

async function* asAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}

const SEEDS = [1, 2];
/**
 * Two replays of synthetic L2 data into a store; the run ids are fixed so dense and sparse runs compare.
 * 1500 events a replay (over 3000 in the log) span many journal batches and catch-up steps, which is what
 * the sparse positions are checked across; more events would only repeat them.
 */
async function record(store: EventStore): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const seed of SEEDS) {
    out.push(await runKernel({
      mode: 'replay', store, config: { ...BENCH_CONFIG, seed }, sourceLabel: `synthetic-l2:${seed}`, runId: `00000000-0000-4000-8000-00000000000${seed}`,
      events: asAsync(syntheticL2({ seed, events: 1500 })), journalBatch: 97,
    }));
  }
  return out;
}

const denseDir = path.join(tmp.dir, 'dense');
const sparseDir = path.join(tmp.dir, 'sparse');
let dense: RunSummary[] = [];
let sparse: RunSummary[] = [];
let denseEvents: RecordedEvent[] = [];
let sparseEvents: RecordedEvent[] = [];

const openDense = () => openStore(denseDir, { readOnly: true });
const openSparse = async (rawScan: boolean) => new SparsePositionStore(await openStore(sparseDir, { readOnly: true }), { rawScan });

beforeAll(async () => {
  const d = await openStore(denseDir, { durability: 'batched' });
  try {
    dense = await record(d);
    denseEvents = await collect(d.readAll());
  } finally {
    await d.close();
  }
  const s = new SparsePositionStore(await openStore(sparseDir, { durability: 'batched' }));
  try {
    sparse = await record(s);
    sparseEvents = await collect(s.readAll());
  } finally {
    await s.close();
  }
});

describe('on a sparse-position store', () => {
  it('the engine journals the same runs (it never predicts a position), and they pass parity', async () => {
    expect(sparse.map((r) => r.decisionsHash)).toEqual(dense.map((r) => r.decisionsHash));
    expect(sparse.map((r) => r.fills)).toEqual(dense.map((r) => r.fills));
    expect(sparse.every((r) => r.fills > 0 && r.decisions > 0)).toBe(true);
    expect(sparseEvents.map((e) => e.id)).toEqual(denseEvents.map((e) => e.id));
    expect(sparseEvents[0]!.position).toBe(1_000_003);
    expect(sparseEvents[1]!.position).toBe(1_000_010);
    expect(sparseEvents.length).toBeGreaterThan(3000);
    const s = await openSparse(false);
    try {
      for (const r of sparse) {
        const p = await checkParity(s, r.runId);
        expect(p.identical, JSON.stringify(p.divergence)).toBe(true);
        expect(p.decisions).toBe(r.decisions);
      }
    } finally {
      await s.close();
    }
  });

  it('projections (raw scan and readAll, from zero and in small steps) equal the dense ones, at the positions the store gave', async () => {
    const denseDb = path.join(tmp.dir, 'dense.duckdb');
    const d = await openDense();
    try {
      await projectFrom(d, denseDb);
    } finally {
      await d.close();
    }
    const raw = path.join(tmp.dir, 'sparse-raw.duckdb');
    const viaRead = path.join(tmp.dir, 'sparse-read.duckdb');
    const steps = path.join(tmp.dir, 'sparse-steps.duckdb');
    const s1 = await openSparse(true);
    const s2 = await openSparse(false);
    try {
      expect((await projectFrom(s1, raw)).errors).toBe(0);
      expect((await projectFrom(s2, viaRead)).errors).toBe(0);
      // Uneven steps, alternating the raw-scan and readAll paths, each resuming from the last checkpoint.
      expect((await projectFrom(s1, steps, { maxEvents: 888, batchEvents: 613 })).events).toBe(888);
      expect((await projectFrom(s2, steps, { maxEvents: 1166, batchEvents: 613 })).events).toBe(1166);
      expect((await projectFrom(s1, steps, { batchEvents: 750 })).events).toBe(sparseEvents.length - 888 - 1166);
    } finally {
      await s1.close();
      await s2.close();
    }
    const tables = await hashTables(raw);
    expect(await hashTables(viaRead)).toEqual(tables);
    expect(await hashTables(steps)).toEqual(tables);

    const given = new Map(sparseEvents.map((e) => [e.id, e.position]));
    const denseToSparse = new Map(denseEvents.map((e, i) => [e.position, sparseEvents[i]!.position]));
    const db = await openDb(raw, { readOnly: true });
    const ddb = await openDb(denseDb, { readOnly: true });
    try {
      const fills = await queryRows(db.con, 'SELECT fill_id, position, run_id FROM fills ORDER BY position');
      const denseFills = await queryRows(ddb.con, 'SELECT fill_id, position, run_id FROM fills ORDER BY position');
      expect(fills.length).toBe(dense.reduce((a, r) => a + r.fills, 0));
      expect(fills.map((f) => Number(f.position))).toEqual(denseFills.map((f) => denseToSparse.get(Number(f.position))));
      const decisions = await queryRows(db.con, 'SELECT decision_id, cause_event_id, cause_position, position FROM decisions');
      expect(decisions.length).toBeGreaterThan(0);
      for (const row of decisions) {
        expect(Number(row.position)).toBe(given.get(String(row.decision_id)));
        // The cause's position is the one the store gave it, resolved from the log, not predicted.
        expect(Number(row.cause_position)).toBe(given.get(String(row.cause_event_id)));
      }
    } finally {
      db.close();
      ddb.close();
    }
  });

  it('audit finds an order, its cause and its fills at the positions the store gave', async () => {
    const s = await openSparse(false);
    const dbPath = path.join(tmp.dir, 'audit.duckdb');
    try {
      await projectFrom(s, dbPath);
      const db = await openDb(dbPath, { readOnly: true });
      let orderId = '';
      try {
        const [o] = await queryRows(db.con, 'SELECT order_id FROM orders WHERE fill_count > 0 ORDER BY intended_position LIMIT 1');
        orderId = String(o!.order_id);
      } finally {
        db.close();
      }
      const r = await auditOrderIn(s, dbPath, orderId, { update: false });
      const byId = new Map(sparseEvents.map((e) => [e.id, e]));
      expect(r.cause).not.toBeNull();
      expect(r.cause!.role).toBe('input');
      expect(r.cause!.position).toBe(byId.get(r.cause!.id)!.position);
      expect(r.decision.position).toBe(byId.get(r.decision.id)!.position);
      expect(r.fills.length).toBeGreaterThan(0);
      for (const f of r.fills) expect(sparseEvents.some((e) => e.position === Number(f.position))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('rebuild gives the dense store\'s state, at the head and at a position in the middle', async () => {
    const d = await openDense();
    const s1 = await openSparse(true);
    const s2 = await openSparse(false);
    try {
      const strip = (r: Awaited<ReturnType<typeof rebuildFrom>>) => r.runs.map(({ lastPosition: _p, ...rest }) => rest);
      const denseHead = await rebuildFrom(d);
      for (const s of [s1, s2]) {
        const sparseHead = await rebuildFrom(s);
        expect(sparseHead.head).toBe(sparseEvents.at(-1)!.position);
        expect(sparseHead.events).toBe(denseHead.events);
        expect(strip(sparseHead)).toEqual(strip(denseHead));
        expect(sparseHead.runs.map((r) => r.lastPosition)).toEqual(denseHead.runs.map((r) => sparseEvents[denseEvents.findIndex((e) => e.position === r.lastPosition)]!.position));
      }
      const mid = Math.floor(denseEvents.length / 2);
      const denseMid = await rebuildFrom(d, { at: denseEvents[mid]!.position });
      // A position between two events (the store never gave it) folds what is at or before it.
      const sparseMid = await rebuildFrom(s2, { at: sparseEvents[mid]!.position + 3 });
      expect(sparseMid.events).toBe(mid + 1);
      expect(strip(sparseMid)).toEqual(strip(denseMid));
    } finally {
      await d.close();
      await s1.close();
      await s2.close();
    }
  });
});
