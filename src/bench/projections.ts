/**
 * `tapedeck bench projections`: how fast the log is folded into DuckDB and how fast a Parquet dataset
 * is scanned, each next to a baseline measured in the same run on the same machine:
 *
 *   projection   a synthetic run (RUN_LAYOUT.md shape: trades, quotes, book deltas, intents, risk, venue
 *                messages, fills) written to a temporary store, then projected from zero into a fresh
 *                DuckDB file. Baselines: DuckDB's own INSERT ... SELECT FROM range() into a file table of
 *                the same width (no JavaScript at all), and our appender path with pre-built rows.
 *   parquet      `rows` rows written to Parquet with DuckDB COPY, then scanned with SQL aggregates
 *                (SELECT count, sum over price × quantity, grouped by instrument) and with the catalogue's
 *                Arrow batch reader. Baseline: the same aggregate over an in-memory DuckDB table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readParquetBatches } from '../../datasets/catalog/parquet.js';
import { projectStore } from '../../projections/catchup.js';
import { TableBuffer, createTableSql } from '../../projections/columns.js';
import { openDb } from '../../projections/db.js';
import { Projector } from '../../projections/projector.js';
import { MARKET_TRADES } from '../../projections/schema.js';
import { syntheticRun } from '../../projections/synthetic.js';
import { openStore } from '../store/open.js';

export interface ProjectionBenchOptions {
  trades: number;
  parquetRows: number;
  dir?: string;
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

const round = (x: number): number => Math.round(x);

export async function runProjectionBench(opts: ProjectionBenchOptions): Promise<Record<string, unknown>> {
  const root = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-proj-'));
  fs.mkdirSync(root, { recursive: true });
  try {
    // ---- 1. a realistic run in a store (not timed)
    const storeDir = path.join(root, 'store');
    const store = await openStore(storeDir, { durability: 'batched' });
    const types = new Map<string, number>();
    let events = 0;
    for (const batch of syntheticRun({ runId: 'bench', seed: 42, trades: opts.trades, batchSize: 5000 })) {
      await store.appendToStream('run-bench', batch);
      events += batch.length;
      for (const e of batch) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    }
    await store.close();

    // ---- 2a. the fold alone (decode + reducers + row buffers, no database), to show where time goes
    const ro = await openStore(storeDir, { readOnly: true });
    const rawScan = ro.capabilities?.rawScan;
    if (!rawScan) throw new Error('the embedded store offers the raw scan');
    const folder = new Projector();
    const tf = now();
    rawScan('start', (c) => folder.visitCursor(c));
    const foldSec = now() - tf;
    let rawScanned = 0;
    const tr = now();
    rawScan('start', () => {
      rawScanned++;
    });
    const rawSec = now() - tr;
    await ro.close();

    // ---- 2b. project from zero into DuckDB (what `tapedeck query` does on a fresh store)
    const dbPath = path.join(root, 'projections.duckdb');
    const t0 = now();
    const r = await projectStore(storeDir, { dbPath });
    const projectSec = now() - t0;

    // ---- 3. baselines for the write path
    const baseDb = await openDb(path.join(root, 'baseline.duckdb'));
    let insertRowsPerSec = 0;
    let appenderRowsPerSec = 0;
    try {
      const n = Math.max(r.rows, 200_000);
      await baseDb.con.run(createTableSql(MARKET_TRADES, 'series'));
      const t1 = now();
      await baseDb.con.run(`INSERT INTO series SELECT range, 'bench', 'run-bench', 'SIM', 'SIM:BTCUSDT', 'T' || range, 3000000 + range % 97, 1 + range % 5000, 2, 4, 'buy', false, 1700000000000000000 + range FROM range(${n})`);
      await baseDb.con.run('CHECKPOINT');
      insertRowsPerSec = n / (now() - t1);
      await baseDb.con.run(createTableSql(MARKET_TRADES, 'appended'));
      const buf = new TableBuffer(MARKET_TRADES);
      for (let i = 0; i < n; i++) buf.add(i, 'bench', 'run-bench', 'SIM', 'SIM:BTCUSDT', `T${i}`, 3000000 + (i % 97), 1 + (i % 5000), 2, 4, 'buy', false, 1700000000000000000n + BigInt(i));
      const t2 = now();
      await baseDb.con.run('BEGIN TRANSACTION');
      await buf.flushTo(baseDb.con, 'appended');
      await baseDb.con.run('COMMIT');
      await baseDb.con.run('CHECKPOINT');
      appenderRowsPerSec = n / (now() - t2);
    } finally {
      baseDb.close();
    }

    // ---- 4. Parquet scans
    const parquet = path.join(root, 'trades.parquet');
    const mem = await DuckDBInstance.create(':memory:', { threads: '2' });
    const con = await mem.connect();
    let sqlRowsPerSec = 0;
    let memRowsPerSec = 0;
    let arrowRowsPerSec = 0;
    let check = '';
    try {
      const n = opts.parquetRows;
      await con.run(`CREATE TABLE t AS SELECT range AS seq, 'SIM:' || (range % 8)::VARCHAR AS instrument, 3000000 + (range * 7919) % 100000 AS price_ticks, 1 + (range * 104729) % 5000 AS qty_lots, 1700000000000000000 + range * 1000 AS event_time_ns FROM range(${n})`);
      await con.run(`COPY t TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`);
      const agg = (from: string): string => `SELECT instrument, count(*) AS n, sum(price_ticks::HUGEINT * qty_lots) AS notional, max(price_ticks) AS hi FROM ${from} GROUP BY instrument ORDER BY instrument`;
      await con.runAndReadAll(agg(`read_parquet('${parquet}')`)); // warm the file cache
      const t3 = now();
      const a = await con.runAndReadAll(agg(`read_parquet('${parquet}')`));
      sqlRowsPerSec = n / (now() - t3);
      const t4 = now();
      const b = await con.runAndReadAll(agg('t'));
      memRowsPerSec = n / (now() - t4);
      check = JSON.stringify(a.getRowsJson()) === JSON.stringify(b.getRowsJson()) ? 'same' : 'DIFFERENT';
      // Our Arrow batch reader (what catalogEventSource sits on): every row's numbers into JS.
      const t5 = now();
      let rows = 0;
      let sum = 0n;
      for await (const batch of readParquetBatches([parquet], { columns: ['seq', 'price_ticks', 'qty_lots'] })) {
        const q = batch.getChild('qty_lots')!.toArray() as BigInt64Array;
        for (let i = 0; i < q.length; i++) sum += q[i]!;
        rows += batch.numRows;
      }
      arrowRowsPerSec = rows / (now() - t5);
      if (rows !== n || sum <= 0n) check += ' arrow-mismatch';
    } finally {
      con.closeSync();
      mem.closeSync();
    }

    return {
      events,
      eventMix: Object.fromEntries([...types.entries()].sort((x, y) => y[1] - x[1])),
      projectSeconds: Number(projectSec.toFixed(3)),
      projectedEventsPerSec: round(r.events / projectSec),
      foldOnlyEventsPerSec: round(events / foldSec),
      baselineStoreScanEventsPerSec: round(rawScanned / rawSec),
      decodedEvents: r.decoded,
      rowsWritten: r.rows,
      rowsWrittenPerSec: round(r.rows / projectSec),
      baselineDuckdbInsertSelectRowsPerSec: round(insertRowsPerSec),
      baselineAppenderRowsPerSec: round(appenderRowsPerSec),
      parquetRows: opts.parquetRows,
      parquetBytes: fs.statSync(parquet).size,
      parquetSqlScanRowsPerSec: round(sqlRowsPerSec),
      baselineInMemoryTableScanRowsPerSec: round(memRowsPerSec),
      parquetArrowBatchRowsPerSec: round(arrowRowsPerSec),
      aggregatesParquetVsMemory: check,
      targets: { projectedEventsPerSec: 2_000_000, parquetScanRowsPerSec: 20_000_000 },
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    };
  } finally {
    if (opts.dir === undefined) fs.rmSync(root, { recursive: true, force: true });
  }
}
