/**
 * What the projections never fold silently: an event appended to a run after its RunEnded (flagged in
 * projection_errors), a fill beyond an order's quantity (flagged on the order's event row; position and
 * fills unchanged); a run marked RunAbandoned shows as abandoned. The CLI refuses to append to an
 * ended run's stream.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectStore } from '../../projections/catchup.js';
import { openDb, queryRows } from '../../projections/db.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type EventData } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { writeRuns } from './fixtures.js';

const tmp = tmpDir('td-closed-');
const store = path.join(tmp.dir, 'store');
let runs: Map<string, EventData[]>;

beforeAll(async () => {
  runs = await writeRuns(store, [
    { runId: 'done', seed: 3, trades: 200 },
    { runId: 'open', seed: 4, trades: 200, unfinished: true },
  ]);
});
afterAll(() => tmp.cleanup());

async function rows(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const h = await openDb(db, { readOnly: true });
  try {
    return await queryRows(h.con, sql);
  } finally {
    h.close();
  }
}

describe('closed runs and overfills', () => {
  it('store append refuses an ended run stream in one line, exit 2, and stores nothing', async () => {
    const ended = path.join(tmp.dir, 'ended');
    await writeRuns(ended, [{ runId: 'done', seed: 3, trades: 50 }]);
    const before = await EmbeddedEventStore.open(ended, { readOnly: true });
    const head = await before.headPosition();
    await before.close();
    const r = tapedeck(['store', 'append', '--store', ended, '--stream', 'run-done'], '{"type":"Note","data":{}}\n');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/RUN_ENDED: run done ended at position \d+ \(completed\): its stream takes no more events \(stream run-done\)/);
    const after = await EmbeddedEventStore.open(ended, { readOnly: true });
    expect(await after.headPosition()).toBe(head);
    await after.close();
  });

  it('flags an event after RunEnded and an overfill, folding neither; shows an abandoned run', async () => {
    const db = path.join(tmp.dir, 'before.duckdb');
    expect((await projectStore(store, { dbPath: db })).errors).toBe(0);
    const positionsBefore = await rows(db, `SELECT run_id, instrument, qty_lots FROM positions ORDER BY run_id, instrument`);
    const fillsBefore = Number((await rows(db, `SELECT count(*) n FROM fills`))[0]!.n);

    const open = runs.get('open')!;
    const fill = runs.get('done')!.find((e) => e.type === 'OrderFilled')!;
    // A new order in the open run, accepted for its quantity, then a fill for one lot more than that.
    const intended = open.find((e) => e.type === 'OrderIntended')!;
    const orderId = 'overfilled-order';
    const qty = (intended.data as { qtyLots: number }).qtyLots;
    const copy = (type: string, data: Record<string, unknown>): EventData => {
      const like = open.find((e) => e.type === type)!;
      return { id: crypto.randomUUID(), type, data: { ...(like.data as object), ...data, orderId }, metadata: like.metadata };
    };
    const s = await EmbeddedEventStore.open(store, { allowCorrupt: false });
    await s.appendToStream('run-open', [
      copy('OrderIntended', {}),
      copy('RiskApproved', {}),
      copy('OrderSubmitted', {}),
      copy('OrderAccepted', { venueOrderId: 'v-over' }),
      copy('OrderFilled', {
        ...(fill.data as object), instrument: (intended.data as { instrument: string }).instrument, venue: (intended.data as { venue: string }).venue,
        side: (intended.data as { side: string }).side, fillId: 'over-1', qtyLots: qty + 1, leavesLots: 0,
      }),
    ]);
    // An event after RunEnded, written past the CLI's guard (as a buggy or foreign writer could).
    await s.appendToStream('run-done', [{ id: crypto.randomUUID(), type: 'OrderFilled', data: { ...(fill.data as object), fillId: 'late-1' }, metadata: fill.metadata }]);
    await s.appendToStream('run-open', [{
      id: crypto.randomUUID(), type: 'RunAbandoned', data: { runId: 'open', reason: 'its owner process 1 is gone', lastPosition: 1, lastRevision: 1 },
      metadata: { ...open[0]!.metadata, role: 'run' },
    }]);
    const evs = await collect(s.readStream('run-open'));
    await s.close();
    expect(evs.at(-1)!.type).toBe('RunAbandoned');

    for (const [name, fresh] of [['incremental', false], ['from zero', true]] as const) {
      const target = fresh ? path.join(tmp.dir, 'fresh.duckdb') : db;
      const r = await projectStore(store, { dbPath: target });
      expect(r.errors, name).toBe(1);
      const errs = await rows(target, `SELECT stream, event_type, error FROM projection_errors`);
      expect(errs).toEqual([{ stream: 'run-done', event_type: 'OrderFilled', error: expect.stringMatching(/^run done ended at position \d+: an event after RunEnded is not folded$/) }]);
      const over = await rows(target, `SELECT anomaly FROM order_events WHERE order_id = '${orderId}' AND event_type = 'OrderFilled'`);
      expect(over).toEqual([{ anomaly: expect.stringContaining(`fill of ${qty + 1} lots exceeds the ${qty} lots left`) }]);
      expect(Number((await rows(target, `SELECT count(*) n FROM fills`))[0]!.n)).toBe(fillsBefore);
      expect(await rows(target, `SELECT run_id, instrument, qty_lots FROM positions ORDER BY run_id, instrument`)).toEqual(positionsBefore);
      expect(await rows(target, `SELECT outcome FROM runs WHERE run_id = 'open'`)).toEqual([{ outcome: 'abandoned' }]);
    }
  });
});
