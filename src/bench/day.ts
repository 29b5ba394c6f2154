/**
 * `tapedeck bench day`: a whole ITCH day through every stage, in one run. A synthetic day with the BX
 * message mix (datasets/itch/generate.ts) is made first (not timed) into a SharedArrayBuffer; then:
 *
 *   decode        framing + allocation-free decode of every message (bench itch's worker)
 *   book          framing + decode + the L3 book of every symbol (bench itch's worker)
 *   replay        the market maker (on the L3-built book) trading the `traded` most active symbols,
 *                 split by instrument (src/runtime/partitioned.ts) on 0 (this thread), 1, 2... workers,
 *                 each framing the whole day; every worker count must give the same decisions hash
 *   journal       the run's decisions, venue reports and fills appended to an embedded store; the inputs
 *                 are referenced (the day's file and SHA-256), not copied: decisions cite them by id and number
 *   project       the store projected from zero into DuckDB (`tapedeck query`'s path)
 *
 * Baselines in the same run: Buffer.copy of the day (memory bandwidth) and framing + dispatch alone.
 * Each stage is reported in input messages per second, with an extrapolation to a 423-million-message
 * day; peak RSS is the process's (its workers included); store bytes are counted per input message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { ItchDayGenerator } from '../../datasets/itch/generate.js';
import { projectStore } from '../../projections/catchup.js';
import type { ResolvedRunConfig } from '../runtime/config.js';
import { journalPartitionedRun, runPartitionedReplay, type PartitionedReplayResult } from '../runtime/partitioned.js';
import { openStore } from '../store/open.js';
import { itchInstrumentActivity } from '../venues/nasdaq/itch/instrument-filter.js';
import { inWorker } from './itch.js';

/** Messages in the full NASDAQ TotalView-ITCH day the issue names. */
export const FULL_DAY_MESSAGES = 423_000_000;

export interface DayBenchOptions {
  messages: number;
  symbols: number;
  seed: number;
  /** Symbols the strategy trades (the busiest). */
  traded: number;
  /** Worker counts for the replay, beside the single-threaded run (0). */
  workers: number[];
  dir?: string;
}

/** A quiet market maker on one NASDAQ symbol (forInstrument aims it at each traded symbol). */
export function dayConfig(instrument: string): ResolvedRunConfig {
  return {
    strategy: 'market-maker',
    seed: 7,
    params: {
      venue: 'NASDAQ', instrument, priceScale: 4, qtyScale: 0, quoteQtyLots: 100, halfSpreadTicks: 200, maxInventoryLots: 1000,
      requoteThresholdTicks: 300, minActionIntervalNs: '1000000000',
    },
    risk: { maxOpenOrders: 50, orderRate: { maxOrders: 10_000, windowNs: '1000000000' } },
    venues: [{ venue: 'NASDAQ', latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '-0.5', takerBps: '5' } }],
  } as unknown as ResolvedRunConfig;
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

/** The generated day, straight into shared memory (the chunks are dropped as they are copied). */
function sharedDay(options: { seed: number; messages: number; symbols: number }): { day: Uint8Array; shared: SharedArrayBuffer } {
  let parts: Uint8Array[] = [];
  let size = 0;
  for (const c of new ItchDayGenerator(options).chunks()) {
    parts.push(c);
    size += c.length;
  }
  const shared = new SharedArrayBuffer(size);
  const day = new Uint8Array(shared);
  let pos = 0;
  for (const p of parts) {
    day.set(p, pos);
    pos += p.length;
  }
  parts = [];
  return { day, shared };
}

export async function runDayBench(o: DayBenchOptions): Promise<Record<string, unknown>> {
  const rate = (seconds: number): number => Math.round(o.messages / seconds);
  const fullDaySec = (seconds: number): number => Math.round((seconds * FULL_DAY_MESSAGES) / o.messages);
  const root = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-day-'));
  fs.mkdirSync(root, { recursive: true });
  try {
    // ---- the day (not timed)
    let t0 = now();
    const { day, shared } = sharedDay({ seed: o.seed, messages: o.messages, symbols: o.symbols });
    const generateSec = now() - t0;
    // The day as a file with its SHA-256: what the run references (InputsReferenced kind file).
    const dayFile = path.join(root, `day-${o.seed}.itch`);
    fs.writeFileSync(dayFile, day);
    const reference = { kind: 'file' as const, path: dayFile, files: [{ path: dayFile, bytes: day.length, sha256: createHash('sha256').update(day).digest('hex') }] };
    const activity = itchInstrumentActivity(day);
    const traded = activity.slice(0, o.traded).map((a) => a.instrument);
    const tradedMessages = activity.slice(0, o.traded).reduce((a, x) => a + x.messages, 0);

    // ---- baselines and the decode stages, each in a fresh worker (bench itch's)
    const figure = (f: 'memcpy' | 'dispatch' | 'decode' | 'book') => inWorker({ figure: f, day: shared, length: day.length, repeats: 1, prefixBytes: 0 });
    const memcpy = await figure('memcpy');
    const dispatch = await figure('dispatch');
    const decode = await figure('decode');
    const book = await figure('book');

    // ---- the replay, single-threaded and on each worker count: same hash, or the bench fails
    const config = dayConfig(traded[0] ?? 'NASDAQ:NONE');
    const runId = randomUUID();
    const replays: Array<{ workers: number; seconds: number; result: PartitionedReplayResult }> = [];
    for (const workers of [0, ...o.workers]) {
      t0 = now();
      const result = await runPartitionedReplay({ runId, config, day, fileId: path.basename(dayFile), instruments: traded, workers });
      replays.push({ workers, seconds: now() - t0, result });
      if (result.decisionsHash !== replays[0]!.result.decisionsHash || result.outputs.length !== replays[0]!.result.outputs.length) {
        throw new Error(`invariant violated: ${workers} workers gave decisions hash ${result.decisionsHash}, one thread ${replays[0]!.result.decisionsHash}`);
      }
    }
    const fastest = replays.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const single = replays[0]!;

    // ---- journal the run (decisions, venue reports, fills; inputs referenced, not copied)
    const storeDir = path.join(root, 'store');
    const store = await openStore(storeDir, { durability: 'batched' });
    t0 = now();
    await journalPartitionedRun(store, single.result, { config, sourceLabel: dayFile, instruments: traded, reference });
    await store.close();
    const journalSec = now() - t0;
    const storeBytes = dirBytes(storeDir);

    // ---- project the store into DuckDB from zero
    t0 = now();
    const projected = await projectStore(storeDir, { dbPath: path.join(root, 'projections.duckdb') });
    const projectSec = now() - t0;

    const replaySec = fastest.seconds + journalSec;
    const endToEndSec = replaySec + projectSec;
    return {
      bench: 'day',
      load: os.loadavg().map((x) => Math.round(x * 100) / 100),
      messages: o.messages,
      bytes: day.length,
      symbols: o.symbols,
      generateSeconds: Math.round(generateSec * 100) / 100,
      baselineMemcpyBytesPerSec: Math.round(day.length / memcpy.bestSeconds),
      baselineDispatchMsgsPerSec: rate(dispatch.bestSeconds),
      decodeMsgsPerSec: rate(decode.bestSeconds),
      bookMsgsPerSec: rate(book.bestSeconds),
      bookLiveOrdersAtEnd: book.liveOrders,
      tradedSymbols: traded.length,
      tradedMessages,
      replayKernelInputs: single.result.inputs,
      replayDecisions: single.result.decisions,
      replayFills: single.result.fills,
      replayOutputs: single.result.outputs.length,
      decisionsHash: single.result.decisionsHash,
      replayMsgsPerSecByWorkers: Object.fromEntries(replays.map((r) => [String(r.workers), rate(r.seconds)])),
      replaySpeedupByWorkers: Object.fromEntries(replays.map((r) => [String(r.workers), Math.round((single.seconds / r.seconds) * 100) / 100])),
      replayWorkerSeconds: Object.fromEntries(replays.map((r) => [String(r.workers), r.result.workerSeconds.map((s) => Math.round(s * 100) / 100)])),
      journalSeconds: Math.round(journalSec * 1000) / 1000,
      fullReplayMsgsPerSec: rate(replaySec),
      fullReplayWorkers: fastest.workers,
      storeBytes,
      storeBytesPerInputMessage: Math.round((storeBytes / o.messages) * 1000) / 1000,
      projectedEvents: projected.events,
      projectMsgsPerSec: rate(projectSec),
      projectEventsPerSec: Math.round(projected.events / projectSec),
      endToEndMsgsPerSec: rate(endToEndSec),
      extrapolatedSecondsFor423M: {
        decode: fullDaySec(decode.bestSeconds),
        book: fullDaySec(book.bestSeconds),
        fullReplay: fullDaySec(replaySec),
        project: fullDaySec(projectSec),
        endToEnd: fullDaySec(endToEndSec),
      },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      inputs: 'referenced (InputsReferenced kind file: the day with its SHA-256); the run stream holds no input events, decisions cite their input by id and number',
    };
  } finally {
    if (o.dir === undefined) fs.rmSync(root, { recursive: true, force: true });
  }
}
