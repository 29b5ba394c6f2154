/**
 * Referenced inputs beyond catalog datasets: a replay that references its recording file (and the REST
 * companions its reader reads), a paper session that writes its market data to marketdata-<runId> and
 * references it (parity, audit, slippage, rebuild read it there; a backtest of that stream reads the very
 * same inputs), and a session whose run stream keeps some inputs (control) between referenced ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { auditOrder } from '../../projections/audit.js';
import { openDb, queryRows } from '../../projections/db.js';
import { rebuildFrom } from '../../projections/rebuild.js';
import { checkParity } from '../../replay/parity.js';
import { slippage } from '../../replay/slippage.js';
import { resolveRunConfig, readConfigFile, type ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { fileReference, resolveSource, storeStreamEvents, surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { withStore } from '../helpers/store.js';

const tmp = tmpDir('tapedeck-refs2-');
const capture = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const storeDir = path.join(tmp.dir, 'store');
let config: ResolvedRunConfig;
let inline: RunSummary;
let inlineEvents: RecordedEvent[] = [];

beforeAll(async () => {
  config = resolveRunConfig('momentum', readConfigFile(undefined), await surveySource(captureEventSource(capture)));
  const store = await EmbeddedEventStore.open(storeDir);
  try {
    inline = await runKernel({ mode: 'replay', store, config, sourceLabel: capture, events: captureEventSource(capture) });
    inlineEvents = await collect(store.readStream(`run-${inline.runId}`));
  } finally {
    await store.close();
  }
}, 60_000);
afterAll(() => tmp.cleanup());

describe('a replay that references its recording file', () => {
  it('journals no input, parities through the file, and refuses it changed (INPUTS_CHANGED) or gone (INPUTS_MISSING)', async () => {
    // The capture and its REST companion (the snapshot), both referenced.
    fs.mkdirSync(path.join(tmp.dir, 'rec'));
    const copy = path.join(tmp.dir, 'rec', 'BINANCE.ws.1.0');
    fs.copyFileSync(capture, copy);
    fs.copyFileSync(path.join(path.dirname(capture), 'BINANCE.http.0.0'), path.join(tmp.dir, 'rec', 'BINANCE.http.0.0'));
    const dir = path.join(tmp.dir, 'file-store');
    const store = await EmbeddedEventStore.open(dir);
    try {
      const r = await runKernel({ mode: 'replay', store, config, sourceLabel: copy, events: captureEventSource(copy), inputsReference: fileReference(resolveSource(copy)) });
      expect([r.events, r.orders, r.fills]).toEqual([inline.events, inline.orders, inline.fills]);
      const evs = await collect(store.readStream(`run-${r.runId}`));
      expect(evs[1]).toMatchObject({ type: 'InputsReferenced', data: { source: { kind: 'file', path: copy, files: [{ path: copy, bytes: fs.statSync(copy).size }, { path: path.join(tmp.dir, 'rec', 'BINANCE.http.0.0') }] }, inputs: null } });
      expect(evs.filter((e) => e.metadata.role === 'input')).toEqual([]);
      await expect(checkParity(store, r.runId)).resolves.toMatchObject({ identical: true, inputs: inline.events });
      const bytes = fs.readFileSync(copy);
      const changed = Buffer.from(bytes);
      changed[100]! ^= 0x01;
      fs.writeFileSync(copy, changed);
      await expect(checkParity(store, r.runId)).rejects.toMatchObject({ code: 'INPUTS_CHANGED', message: expect.stringMatching(/the SHA-256 of .* now/) });
      fs.rmSync(copy);
      await expect(checkParity(store, r.runId)).rejects.toMatchObject({ code: 'INPUTS_MISSING' });
    } finally {
      await store.close();
    }
  });
});

describe('a paper session that writes its market data to a market-data stream', () => {
  it('keeps the market data out of the run stream, references the stream, and parity, audit and slippage read it there', async () => {
    const store = await EmbeddedEventStore.open(storeDir);
    let paper: RunSummary;
    let runEvents: RecordedEvent[];
    let market: RecordedEvent[];
    try {
      // The engine's paper path with the capture's events as they would arrive (the socket is the paper tests' subject).
      paper = await runKernel({ mode: 'paper', store, config, sourceLabel: capture, events: captureEventSource(capture), marketDataStream: true });
      runEvents = await collect(store.readStream(`run-${paper.runId}`));
      market = await collect(store.readStream(`marketdata-${paper.runId}`));
      await expect(checkParity(store, paper.runId)).resolves.toMatchObject({ identical: true, complete: true, inputs: inline.events });
      const r = await slippage(store, paper.runId, inline.runId);
      expect(r.paired).toBe(inline.orders);
      for (const o of r.orders) expect(o.decisionPrice).toBe(o.backtestDecisionPrice);
      // A backtest of the session's own market data (tapedeck replay stream:NAME) references the same stream.
      const stream = `marketdata-${paper.runId}`;
      const back = await runKernel({ mode: 'replay', store, config, sourceLabel: `stream:${stream}`, events: storeStreamEvents(store, stream), inputsReference: { source: { kind: 'stream', stream }, inputs: inline.events } });
      expect(back.decisionsHash).toBe(paper.decisionsHash);
      expect(await store.streamRevision(stream)).toBe(inline.events - 1);
      await expect(checkParity(store, back.runId)).resolves.toMatchObject({ identical: true, inputs: inline.events });
      expect((await slippage(store, paper.runId, back.runId)).paired).toBe(inline.orders);
    } finally {
      await store.close();
    }
    expect(paper.decisionsHash).toBe(inline.decisionsHash);
    expect(runEvents[1]).toMatchObject({ type: 'InputsReferenced', data: { source: { kind: 'stream', stream: `marketdata-${paper.runId}` }, inputs: null } });
    expect(runEvents.filter((e) => e.metadata.role === 'input')).toEqual([]);
    expect(market.map((e) => e.id)).toEqual(inlineEvents.filter((e) => e.metadata.role === 'input').map((e) => e.id));
    const intent = runEvents.find((e) => e.type === 'OrderIntended')!;
    const { orderId, decision } = intent.data as { orderId: string; decision: { causeEventId: string; causeInput: number } };
    expect(market[decision.causeInput]!.id).toBe(decision.causeEventId);
    const a = await auditOrder(storeDir, orderId, { runId: paper.runId, dbPath: path.join(tmp.dir, 'projections.duckdb') });
    expect(a.cause).toMatchObject({ id: decision.causeEventId, position: market[decision.causeInput]!.position, input: { number: decision.causeInput, source: `stream marketdata-${paper.runId}` } });
    expect(a.cause!.raw!.decoded).toBeTypeOf('object');
    // Its market-data stream belongs to the run: no run of its own in the projections, and the run's positions in USDT.
    const db = await openDb(path.join(tmp.dir, 'projections.duckdb'), { readOnly: true });
    try {
      expect(await queryRows(db.con, `SELECT run_id FROM runs WHERE run_id LIKE 'marketdata-%' OR stream LIKE 'marketdata-%'`)).toEqual([]);
    } finally {
      db.close();
    }
    const [run] = (await withStore(storeDir, (s) => rebuildFrom(s, { runId: paper.runId }))).runs;
    expect(run!.positions.map((p) => p.quoteCurrency)).toEqual(['USDT']);
  });
});

describe('a session mixing referenced market data with inputs it keeps (control)', () => {
  it('puts the kill switch inputs back between the right ticks: parity identical, and the halt changed what was decided', async () => {
    const store = await EmbeddedEventStore.open(storeDir);
    try {
      async function* withHalt(): AsyncGenerator<AnyEnvelope> {
        let n = 0;
        for await (const e of captureEventSource(capture)) {
          yield e;
          const at = ++n === 60 ? 'HALTED' : n === 200 ? 'ACTIVE' : null;
          if (at !== null) {
            yield { id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, type: 'KillSwitchChanged', schemaVersion: 1, stream: 'control', eventTimeNs: e.eventTimeNs,
              receiveTimeNs: e.receiveTimeNs, causationId: null, correlationId: null, data: { state: at, reason: 'test', by: 'operator' } } as AnyEnvelope;
          }
        }
      }
      const r = await runKernel({ mode: 'paper', store, config, sourceLabel: capture, events: withHalt(), marketDataStream: true });
      const evs = await collect(store.readStream(`run-${r.runId}`));
      const kept = evs.filter((e) => e.metadata.role === 'input');
      expect(kept.map((e) => [e.type, e.metadata.inputs])).toEqual([['KillSwitchChanged', 60], ['KillSwitchChanged', 200]]);
      expect(r.decisionsHash).not.toBe(inline.decisionsHash);
      await expect(checkParity(store, r.runId)).resolves.toMatchObject({ identical: true, inputs: inline.events + 2, hash: r.decisionsHash });
    } finally {
      await store.close();
    }
  });
});
