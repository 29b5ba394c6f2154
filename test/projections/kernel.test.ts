import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDecimal } from '../../domain/core/fixed.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import { importDatasets } from '../../datasets/catalog/import.js';
import { catalogEventSource } from '../../datasets/catalog.js';
import { projectStore } from '../../projections/catchup.js';
import { openDb, queryRows } from '../../projections/db.js';
import { BENCH_CONFIG } from '../../src/bench/kernel.js';
import { runKernel } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { resolveRunConfig, readConfigFile } from '../../src/runtime/config.js';
import { surveySource } from '../../src/runtime/sources.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('tapedeck-kproj-');
afterAll(() => tmp.cleanup());

async function* asAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}

function sumDecimals(values: unknown[]): bigint {
  return values.reduce<bigint>((a, v) => a + parseDecimal(String(v), 18), 0n);
}

describe('projections of real kernel runs', () => {
  it('agree with the kernel: orders, fills, realized P&L by currency, decisions, run counters', async () => {
    const storeDir = path.join(tmp.dir, 'k1');
    const store = await EmbeddedEventStore.open(storeDir);
    const summaries = [];
    try {
      // 3,000 synthetic events a run: 45-50 orders, 70-85 fills and a realized P&L each, all compared below.
      for (const seed of [1, 2]) {
        summaries.push(await runKernel({
          mode: 'replay', store, config: { ...BENCH_CONFIG, seed }, sourceLabel: `synthetic-l2:${seed}`,
          events: asAsync(syntheticL2({ seed, events: 3000 })),
        }));
      }
    } finally {
      await store.close();
    }
    const r = await projectStore(storeDir);
    expect(r.errors).toBe(0);
    const db = await openDb(path.join(storeDir, 'projections.duckdb'), { readOnly: true });
    try {
      for (const s of summaries) {
        expect(s.fills).toBeGreaterThan(0);
        const id = `'${s.runId}'`;
        const [c] = await queryRows(db.con, `SELECT (SELECT count(*) FROM fills WHERE run_id=${id}) f, (SELECT count(*) FROM orders WHERE run_id=${id}) o,
          (SELECT count(*) FROM order_events WHERE run_id=${id} AND anomaly IS NOT NULL) a, (SELECT inputs FROM runs WHERE run_id=${id}) i,
          (SELECT reported_decisions FROM runs WHERE run_id=${id}) d, (SELECT decisions_hash FROM runs WHERE run_id=${id}) h`);
        expect(Number(c!.f)).toBe(s.fills);
        expect(Number(c!.o)).toBe(s.orders);
        expect(Number(c!.a)).toBe(0);
        expect(Number(c!.i)).toBe(s.events);
        expect(Number(c!.d)).toBe(s.decisions);
        expect(c!.h).toBe(s.decisionsHash);
        for (const [currency, pnl] of Object.entries(s.realizedPnlByCurrency)) {
          const rows = await queryRows(db.con, `SELECT realized_pnl::VARCHAR r FROM positions WHERE run_id=${id} AND quote_currency='${currency}'`);
          expect(sumDecimals(rows.map((x) => x.r))).toBe(parseDecimal(pnl, 18));
        }
      }
    } finally {
      db.close();
    }
  });

  it('a replay from a catalogue entry makes the same decisions as from the original capture', async () => {
    const capture = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
    const catalog = path.join(tmp.dir, 'catalog');
    const [imp] = await importDatasets(capture, { format: 'cryptofeed', catalog });
    const config = resolveRunConfig('momentum', readConfigFile(undefined), await surveySource(captureEventSource(capture)));
    const storeDir = path.join(tmp.dir, 'k2');
    const store = await EmbeddedEventStore.open(storeDir);
    try {
      const a = await runKernel({ mode: 'replay', store, config, sourceLabel: capture, events: captureEventSource(capture) });
      const b = await runKernel({ mode: 'replay', store, config, sourceLabel: `catalog:${catalog}#${imp!.manifest.id}`, events: catalogEventSource(catalog, imp!.manifest.id) as AsyncIterable<AnyEnvelope> });
      expect(a.fills).toBeGreaterThan(0);
      expect(b.decisionsHash).toBe(a.decisionsHash);
      expect(b.events).toBe(a.events);
      expect(b.fills).toBe(a.fills);
    } finally {
      await store.close();
    }
  });
});
