import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDecimal } from '../../domain/core/fixed.js';
import { dropProjections, projectStore } from '../../projections/catchup.js';
import { openDb, queryRows } from '../../projections/db.js';
import { hashTables } from '../../projections/export.js';
import { TABLES } from '../../projections/schema.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventData } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { factsOf, writeMarketTrades, writeRuns } from './fixtures.js';

const tmp = tmpDir('tapedeck-proj-');
const store = path.join(tmp.dir, 'store');
let events: Map<string, EventData[]>;

beforeAll(async () => {
  events = await writeRuns(store, [
    { runId: 'alpha', seed: 7, trades: 1500 },
    { runId: 'beta', seed: 11, trades: 900, unfinished: true, strategy: 'momentum', mode: 'paper' },
  ]);
  await writeMarketTrades(store, 'SIM:XYZ', 300, 1_700_000_000_000_000_000n);
});
afterAll(() => tmp.cleanup());

function dbAt(name: string): string {
  return path.join(tmp.dir, name);
}

describe('projections', () => {
  it('projects every fill, order and trade once, with positions equal to independent sums', async () => {
    const db = dbAt('full.duckdb');
    const r = await projectStore(store, { dbPath: db });
    expect(r.errors).toBe(0);
    const total = [...events.values()].reduce((a, e) => a + e.length, 0) + 300;
    expect(r.events).toBe(total);
    const h = await openDb(db, { readOnly: true });
    try {
      for (const [runId, evs] of events) {
        const f = factsOf(evs);
        const [counts] = await queryRows(h.con, `SELECT (SELECT count(*) FROM fills WHERE run_id='${runId}') f, (SELECT count(*) FROM orders WHERE run_id='${runId}') o, (SELECT count(*) FROM decisions WHERE run_id='${runId}') d, (SELECT count(*) FROM market_trades WHERE run_id='${runId}') t`);
        expect(Number(counts!.f)).toBe(f.fills);
        expect(Number(counts!.o)).toBe(f.orders);
        expect(Number(counts!.d)).toBe(f.orders);
        expect(Number(counts!.t)).toBe(f.trades);
        const [run] = await queryRows(h.con, `SELECT events, outcome FROM runs WHERE run_id='${runId}'`);
        expect(Number(run!.events)).toBe(f.events);
        expect(run!.outcome).toBe(runId === 'alpha' ? 'completed' : null);
        for (const [instrument, x] of f.byInstrument) {
          const [p] = await queryRows(h.con, `SELECT qty_lots, quantity::VARCHAR q, cost_basis::VARCHAR c, realized_pnl::VARCHAR r, fees::VARCHAR fee FROM positions WHERE run_id='${runId}' AND instrument='${instrument}'`);
          expect(BigInt(p!.qty_lots as string)).toBe(x.lots);
          expect(p!.q).toBe(formatDecimal(x.lots * 10n ** 14n, 18));
          // cash identity: Σ signed qty × price = costBasis − realized (exact, scale 2 + 4)
          const cost = BigInt(String(p!.c).replace('.', '')) / 10n ** 12n;
          const realized = BigInt(String(p!.r).replace('.', '')) / 10n ** 12n;
          expect(-x.cash).toBe(cost - realized);
          expect(p!.fee).toBe(formatDecimal(x.fees * 10n ** 12n, 18));
        }
      }
      // bars from the md- stream: 300 trades, 7 s apart → ceil(300*7/60) minutes
      const [bars] = await queryRows(h.con, `SELECT count(*) n, sum(trades) t FROM bars WHERE run_id IS NULL AND instrument='SIM:XYZ'`);
      expect(Number(bars!.t)).toBe(300);
      expect(Number(bars!.n)).toBeGreaterThanOrEqual(35);
      // no floating point anywhere
      const floats = await queryRows(h.con, `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE data_type IN ('DOUBLE','FLOAT','REAL')`);
      expect(floats).toEqual([]);
      const decs = await queryRows(h.con, `SELECT count(*) n FROM information_schema.columns WHERE table_name='fills' AND column_name IN ('price','quantity','fee') AND data_type='DECIMAL(38,18)'`);
      expect(Number(decs[0]!.n)).toBe(3);
      // a decision keeps its cause and risk outcome
      const [d] = await queryRows(h.con, `SELECT count(*) FILTER (WHERE risk_outcome='denied') denied, count(*) FILTER (WHERE risk_outcome='pending') pending, count(*) FILTER (WHERE cause_event_id IS NULL) nocause FROM decisions`);
      expect(Number(d!.denied)).toBeGreaterThan(0);
      expect(Number(d!.pending)).toBe(0);
      expect(Number(d!.nocause)).toBe(0);
    } finally {
      h.close();
    }
  });

  it('incremental catch-up in small steps gives the same tables as projecting from zero', async () => {
    const full = dbAt('full.duckdb');
    if (!fs.existsSync(full)) await projectStore(store, { dbPath: full });
    const inc = dbAt('inc.duckdb');
    // Stop and restart at irregular points, with batches cut at other irregular points.
    const steps = [1, 17, 333, 4000, 41, 9000];
    let k = 0;
    while (true) {
      const r = await projectStore(store, { dbPath: inc, maxEvents: steps[k % steps.length]!, batchEvents: 700 + ((k * 977) % 3000) });
      k++;
      if (r.events === 0) break;
    }
    expect(k).toBeGreaterThan(5);
    const a = await hashTables(full);
    const b = await hashTables(inc);
    expect(b).toEqual(a);
    // a second catch-up with nothing new changes nothing (no double counting)
    const again = await projectStore(store, { dbPath: inc });
    expect(again.events).toBe(0);
    expect(await hashTables(inc)).toEqual(a);
  });

  it('dropping the tables and projecting from zero reproduces them; new events are picked up once', async () => {
    // The two halves are independent (own files): they run side by side.
    const dropAndReproject = async (): Promise<void> => {
      // a copy of the full projection (test 1's, or made here if it did not run)
      const full = dbAt('full.duckdb');
      if (!fs.existsSync(full)) await projectStore(store, { dbPath: full });
      const db = dbAt('drop.duckdb');
      fs.copyFileSync(full, db);
      if (fs.existsSync(`${full}.wal`)) fs.copyFileSync(`${full}.wal`, `${db}.wal`);
      const before = await hashTables(db);
      const h = await openDb(db);
      await dropProjections(h);
      h.close();
      await projectStore(store, { dbPath: db });
      expect(await hashTables(db)).toEqual(before);
    };

    // More of the log: a new run appended after the first catch-up.
    const growAndCatchUp = async (): Promise<void> => {
      const grow = path.join(tmp.dir, 'grow');
      fs.cpSync(store, grow, { recursive: true });
      fs.rmSync(path.join(grow, 'projections.duckdb'), { force: true });
      // The first catch-up of the copied log: the store's own (the same events at the same positions).
      const growDb = dbAt('grow.duckdb');
      fs.copyFileSync(full, growDb);
      if (fs.existsSync(`${full}.wal`)) fs.copyFileSync(`${full}.wal`, `${growDb}.wal`);
      expect((await projectStore(grow, { dbPath: growDb })).events).toBe(0);
      const more = await writeRuns(grow, [{ runId: 'gamma', seed: 3, trades: 400 }]);
      await projectStore(grow, { dbPath: growDb });
      const fresh = dbAt('grow-fresh.duckdb');
      await projectStore(grow, { dbPath: fresh });
      expect(await hashTables(growDb)).toEqual(await hashTables(fresh));
      const g = await openDb(growDb, { readOnly: true });
      try {
        const [c] = await queryRows(g.con, `SELECT count(*) n FROM fills WHERE run_id='gamma'`);
        expect(Number(c!.n)).toBe(factsOf(more.get('gamma')!).fills);
      } finally {
        g.close();
      }
    };
    const full = dbAt('full.duckdb');
    if (!fs.existsSync(full)) await projectStore(store, { dbPath: full });
    await Promise.all([dropAndReproject(), growAndCatchUp()]);
  });

  it('a bad event is reported in projection_errors, a duplicate fill is refused, and neither stops the projection', async () => {
    const dir = path.join(tmp.dir, 'bad');
    const evs = (await writeRuns(dir, [{ runId: 'bad', seed: 5, trades: 300, unfinished: true }])).get('bad')!;
    const fill = evs.find((e) => e.type === 'OrderFilled')!;
    const s = await EmbeddedEventStore.open(dir);
    await s.appendToStream('run-bad', [
      { id: '11111111-1111-8111-8111-111111111111', type: 'OrderFilled', data: fill.data, metadata: fill.metadata },
      { id: '22222222-2222-8222-8222-222222222222', type: 'OrderFilled', data: { orderId: 'x', fillId: 7 }, metadata: fill.metadata },
      { id: '33333333-3333-8333-8333-333333333333', type: 'TradeReported', data: { venue: 'SIM' }, metadata: fill.metadata },
    ]);
    await s.close();
    const db = dbAt('bad.duckdb');
    const r = await projectStore(dir, { dbPath: db });
    expect(r.errors).toBe(2);
    const h = await openDb(db, { readOnly: true });
    try {
      const errs = await queryRows(h.con, `SELECT event_type, error FROM projection_errors ORDER BY position`);
      expect(errs.map((e) => e.event_type)).toEqual(['OrderFilled', 'TradeReported']);
      const [dup] = await queryRows(h.con, `SELECT count(*) n FROM order_events WHERE event_id = '11111111-1111-8111-8111-111111111111' AND (anomaly LIKE '%duplicate fill%' OR anomaly LIKE '%already final%')`);
      expect(Number(dup!.n)).toBe(1);
      const [f] = await queryRows(h.con, `SELECT count(*) n FROM fills`);
      expect(Number(f!.n)).toBe(factsOf(evs).fills);
    } finally {
      h.close();
    }
  });

  it('defines every table of the schema', async () => {
    const h = await openDb(dbAt('full.duckdb'), { readOnly: true });
    try {
      const names = (await queryRows(h.con, `SELECT table_name FROM information_schema.tables`)).map((r) => r.table_name);
      for (const t of TABLES) expect(names).toContain(t.name);
      for (const v of ['bars', 'trades', 'open_orders']) expect(names).toContain(v);
    } finally {
      h.close();
    }
  });
});
