/**
 * Runs that reference their inputs (InputsReferenced): a replay of an imported dataset writes no input
 * events into its run stream, makes the same decisions (hash for hash) as the inlined layout on the same
 * input, and parity, audit (the triggering tick with its decoded raw bytes), slippage and rebuild read the
 * run through the reference; a changed or missing dataset is refused in one line. The inline layout keeps
 * working beside it. (Recording files, market-data streams and mixed layouts: referenced-sessions.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { catalogEventSource } from '../../datasets/catalog.js';
import { importDatasets } from '../../datasets/catalog/import.js';
import { datasetReference } from '../../datasets/catalog/reference.js';
import { auditOrder } from '../../projections/audit.js';
import { openDb, queryRows } from '../../projections/db.js';
import { rebuildFrom } from '../../projections/rebuild.js';
import { checkParity } from '../../replay/parity.js';
import { slippage } from '../../replay/slippage.js';
import { resolveRunConfig, readConfigFile, type ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { withStore } from '../helpers/store.js';

const tmp = tmpDir('tapedeck-refs-');
const capture = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const catalog = path.join(tmp.dir, 'catalog');
const storeDir = path.join(tmp.dir, 'store');
let datasetId = '';
let config: ResolvedRunConfig;
let inline: RunSummary;
let referenced: RunSummary;
let inlineEvents: RecordedEvent[] = [];
let refEvents: RecordedEvent[] = [];

beforeAll(async () => {
  const [imp] = await importDatasets(capture, { format: 'cryptofeed', catalog });
  datasetId = imp!.manifest.id;
  config = resolveRunConfig('momentum', readConfigFile(undefined), await surveySource(captureEventSource(capture)));
  const store = await EmbeddedEventStore.open(storeDir);
  try {
    inline = await runKernel({ mode: 'replay', store, config, sourceLabel: capture, events: captureEventSource(capture) });
    const source = catalogEventSource(catalog, datasetId);
    referenced = await runKernel({
      mode: 'replay', store, config, sourceLabel: `catalog:${catalog}#${datasetId}`, events: source as AsyncIterable<AnyEnvelope>,
      inputsReference: datasetReference(catalog, source.manifest),
    });
    inlineEvents = await collect(store.readStream(`run-${inline.runId}`));
    refEvents = await collect(store.readStream(`run-${referenced.runId}`));
  } finally {
    await store.close();
  }
}, 60_000);
afterAll(() => tmp.cleanup());

describe('a replay that references its dataset', () => {
  it('writes no input event into its run stream, only the reference, and the same decisions hash as the inlined layout', () => {
    expect(inline.fills).toBeGreaterThan(0);
    expect(inline.orders).toBeGreaterThan(0);
    expect(inlineEvents.filter((e) => e.metadata.role === 'input').length).toBe(inline.events);
    expect(refEvents.filter((e) => e.metadata.role === 'input')).toEqual([]);
    // Only the instrument definitions are kept beside the decisions, as reference data (not inputs).
    expect(refEvents.filter((e) => e.metadata.role === 'reference').map((e) => e.id)).toEqual(inlineEvents.filter((e) => e.type === 'InstrumentDefined').map((e) => e.id));
    expect(refEvents[1]).toMatchObject({ type: 'InputsReferenced', data: { runId: referenced.runId, inputs: inline.events, source: { kind: 'catalog', datasetId } } });
    expect(referenced.events).toBe(inline.events);
    expect(referenced.decisionsHash).toBe(inline.decisionsHash);
    expect([referenced.orders, referenced.fills]).toEqual([inline.orders, inline.fills]);
    // Each decision cites its cause by id and number among the inputs; the other events say where they fall among them.
    const intents = refEvents.filter((e) => e.type === 'OrderIntended');
    const inlineIntents = inlineEvents.filter((e) => e.type === 'OrderIntended');
    const inputIds = inlineEvents.filter((e) => e.metadata.role === 'input').map((e) => e.id);
    intents.forEach((e, i) => {
      const d = (e.data as { decision: { causeEventId: string; causeInput: number; causeRevision: unknown } }).decision;
      expect(d.causeRevision).toBeNull();
      expect(inputIds[d.causeInput]).toBe(d.causeEventId);
      expect(d.causeEventId).toBe((inlineIntents[i]!.data as { decision: { causeEventId: string } }).decision.causeEventId);
      expect(e.metadata.inputs).toBe(d.causeInput + 1);
    });
    for (const e of refEvents.slice(1)) expect(typeof e.metadata.inputs).toBe('number');
    const bytes = (evs: RecordedEvent[]) => evs.reduce((a, e) => a + JSON.stringify(e.data).length + JSON.stringify(e.metadata).length, 0);
    // The inline stream holds the day; the referenced one only what the run decided and the venue answered.
    expect(bytes(refEvents) * 3).toBeLessThan(bytes(inlineEvents));
  });

  it('parity re-reads the inputs through the reference, and the inline run still paritys', async () => {
    const [ref, old] = await withStore(storeDir, async (s) => [await checkParity(s, referenced.runId), await checkParity(s, inline.runId)]);
    expect(ref).toMatchObject({ identical: true, complete: true, inputs: inline.events, decisions: old.decisions, hash: inline.decisionsHash });
    expect(old).toMatchObject({ identical: true, complete: true, inputs: inline.events });
  });

  it('audit shows the triggering tick from the dataset, with its raw bytes decoded', async () => {
    const intent = refEvents.find((e) => e.type === 'OrderIntended')!;
    const { orderId, decision } = intent.data as { orderId: string; decision: { causeEventId: string; causeInput: number } };
    const r = await auditOrder(storeDir, orderId, { dbPath: path.join(tmp.dir, 'projections.duckdb') });
    expect(r.cause).toMatchObject({ id: decision.causeEventId, role: 'input', input: { number: decision.causeInput, source: `catalog:${path.resolve(catalog)}#${datasetId}` } });
    expect(r.cause!.raw?.format).toBe('json');
    expect(r.cause!.raw!.decoded).toBeTypeOf('object');
    expect(r.cause!.raw!.bytesHex.length).toBeGreaterThan(0);
    // The same tick the inline run holds in its stream.
    const inlineCause = inlineEvents.find((e) => e.id === decision.causeEventId)!;
    expect(r.cause!.data).toEqual(inlineCause.data);
    // The projections (built for the audit) count the referenced run's inputs and hold its orders and fills as the inline run's.
    const db = await openDb(path.join(tmp.dir, 'projections.duckdb'), { readOnly: true });
    try {
      const rows = await queryRows(db.con, `SELECT r.run_id, r.inputs, r.decisions_hash, (SELECT count(*) FROM orders o WHERE o.run_id = r.run_id) orders,
        (SELECT count(*) FROM fills f WHERE f.run_id = r.run_id) fills FROM runs r WHERE r.run_id IN ('${inline.runId}', '${referenced.runId}') ORDER BY r.run_id = '${inline.runId}'`);
      expect(rows.map((x) => [Number(x.inputs), x.decisions_hash, Number(x.orders), Number(x.fills)])).toEqual([
        [inline.events, inline.decisionsHash, inline.orders, inline.fills], [inline.events, inline.decisionsHash, inline.orders, inline.fills],
      ]);
    } finally {
      db.close();
    }
  });

  it('rebuild gives the referenced run the inline run\'s positions, open orders and balances (marks aside: referenced ticks are not folded)', async () => {
    const view = async (runId: string) => {
      const [r] = (await withStore(storeDir, (s) => rebuildFrom(s, { runId }))).runs;
      return { ...r!, runId: null, lastPosition: null, positions: r!.positions.map(({ markPrice: _m, unrealizedPnl: _u, ...p }) => p) };
    };
    const [ref, old] = [await view(referenced.runId), await view(inline.runId)];
    expect(ref.positions.length).toBeGreaterThan(0);
    expect(ref.positions).toEqual(old.positions);
    expect([ref.openOrders, ref.balances]).toEqual([old.openOrders, old.balances]);
  });

  it('slippage reads both layouts: each order pairs with the same decision price', async () => {
    const r = await withStore(storeDir, (s) => slippage(s, referenced.runId, inline.runId));
    expect(r.liveOrders).toBe(inline.orders);
    expect(r.paired).toBe(inline.orders);
    for (const o of r.orders) {
      expect(o.decisionPrice).not.toBeNull();
      expect(o.decisionPrice).toBe(o.backtestDecisionPrice);
      expect(o.arrivalPrice).not.toBeNull();
      if (o.liveVsBacktestBps !== null) expect(o.liveVsBacktestBps).toBe('0');
    }
  });

  it('tapedeck replay catalog:DIR#ID references the dataset; tapedeck parity fails in one line (exit 1) once the dataset changed', async () => {
    const cliStore = path.join(tmp.dir, 'cli-store');
    const r = tapedeck(['replay', `catalog:${catalog}#${datasetId}`, '--strategy', 'momentum', '--store', cliStore, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { runId: string; decisionsHash: string; events: number };
    expect(s.events).toBe(inline.events);
    const store = await EmbeddedEventStore.open(cliStore, { readOnly: true });
    try {
      const evs = await collect(store.readStream(`run-${s.runId}`));
      expect(evs[1]!.type).toBe('InputsReferenced');
      expect(evs.filter((e) => e.metadata.role === 'input')).toEqual([]);
    } finally {
      await store.close();
    }
    // (Parity through the reference is the test above; the CLI is checked where it differs: the exit code.)
    await corrupted(async () => {
      const c = tapedeck(['parity', '--store', cliStore, '--run', s.runId]);
      expect(c.code).toBe(1);
      expect(c.stdout).toBe('');
      expect(c.stderr.trim().split('\n')).toHaveLength(1);
      expect(c.stderr).toMatch(/^tapedeck: error INPUTS_CHANGED: run .* reads its inputs from dataset .*SHA-256/);
    });
  });

  it('parity, audit and slippage refuse a changed dataset (INPUTS_CHANGED) and a missing one (INPUTS_MISSING); a moved one is found with --catalog', async () => {
    const orderId = (refEvents.find((e) => e.type === 'OrderIntended')!.data as { orderId: string }).orderId;
    const dbPath = path.join(tmp.dir, 'projections.duckdb');
    await corrupted(async () => {
      await expect(withStore(storeDir, (s) => checkParity(s, referenced.runId))).rejects.toMatchObject({ code: 'INPUTS_CHANGED' });
      await expect(withStore(storeDir, (s) => slippage(s, referenced.runId, inline.runId))).rejects.toMatchObject({ code: 'INPUTS_CHANGED' });
      await expect(auditOrder(storeDir, orderId, { dbPath })).rejects.toMatchObject({ code: 'INPUTS_CHANGED' });
      // The inline run does not depend on the dataset.
      await expect(withStore(storeDir, (s) => checkParity(s, inline.runId))).resolves.toMatchObject({ identical: true });
    });
    const moved = path.join(tmp.dir, 'moved');
    fs.renameSync(catalog, moved);
    try {
      await expect(withStore(storeDir, (s) => checkParity(s, referenced.runId))).rejects.toMatchObject({ code: 'INPUTS_MISSING', message: expect.stringMatching(/reads its inputs from dataset .* which is not there/) });
      await expect(auditOrder(storeDir, orderId, { dbPath })).rejects.toMatchObject({ code: 'INPUTS_MISSING' });
      await expect(withStore(storeDir, (s) => checkParity(s, referenced.runId, { catalog: moved }))).resolves.toMatchObject({ identical: true, inputs: inline.events });
    } finally {
      fs.renameSync(moved, catalog);
    }
  });
});


/** Runs `fn` while one byte of the dataset's first event file is flipped (same size, other SHA-256). */
async function corrupted(fn: () => Promise<void>): Promise<void> {
  const file = (refEvents[1]!.data as { source: { files: Array<{ path: string }> } }).source.files[0]!.path;
  const part = path.join(catalog, datasetId, file);
  const bytes = fs.readFileSync(part);
  const changed = Buffer.from(bytes);
  changed[Math.floor(changed.length / 2)]! ^= 0xff;
  fs.writeFileSync(part, changed);
  try {
    await fn();
  } finally {
    fs.writeFileSync(part, bytes);
  }
}
