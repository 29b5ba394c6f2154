/**
 * `tapedeck bench kernel`: market events per second through strategy, risk and the simulated venue on
 * synthetic L2 data, at two input sizes with peak RSS after each (memory must stay flat as input grows),
 * beside a same-run baseline (generating the events alone) and an end-to-end figure through the engine
 * with every event journaled durably into the embedded store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { initKernel, processInput, type KernelOutput } from '../../domain/kernel/kernel.js';
import { clear } from '../../domain/kernel/kernel.js';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import type { ResolvedRunConfig } from '../runtime/config.js';
import { kernelSetup, runKernel } from '../runtime/engine.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';

/** The active configuration: requotes every 50 ms of event time, so about 5% of events lead to a decision. */
export const BENCH_CONFIG: ResolvedRunConfig = {
  strategy: 'market-maker',
  seed: 7,
  params: { venue: 'SIMX', instrument: 'SIMX:BTCUSD', priceScale: 2, qtyScale: 4, quoteQtyLots: 100, halfSpreadTicks: 2, maxInventoryLots: 100_000, minActionIntervalNs: '50000000' },
  risk: { maxOpenOrders: 50, orderRate: { maxOrders: 10_000, windowNs: '1000000000' } },
  venues: [{ venue: 'SIMX', latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '-0.5', takerBps: '5' } }],
};

/** The quiet configuration: requotes at most once a second and only on a 20-tick move (about 0.25% of events decide). */
export const QUIET_CONFIG: ResolvedRunConfig = { ...BENCH_CONFIG, params: { ...BENCH_CONFIG.params, minActionIntervalNs: '1000000000', requoteThresholdTicks: 20 } };

function sec(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function maxRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Runs the kernel over `events` synthetic inputs. Inputs are produced in chunks of 100k outside the
 * timed section (input production is the source's cost, measured separately as the baseline), so
 * memory stays bounded by the chunk whatever the input size.
 */
function runCore(events: number, config: ResolvedRunConfig): { sec: number; wallSec: number; decisions: number; fills: number } {
  const k = initKernel(kernelSetup('bench-kernel', config));
  const out: KernelOutput[] = [];
  const gen = syntheticL2({ seed: 1, events, cheapIds: true });
  const chunk: AnyEnvelope[] = [];
  let timed = 0;
  const w0 = sec();
  for (;;) {
    chunk.length = 0;
    for (let r = gen.next(); !r.done; r = gen.next()) {
      chunk.push(r.value);
      if (chunk.length === 100_000) break;
    }
    if (chunk.length === 0) break;
    const t0 = sec();
    for (let i = 0; i < chunk.length; i++) {
      clear(out);
      processInput(k, chunk[i]!, null, out);
    }
    timed += sec() - t0;
  }
  return { sec: timed, wallSec: sec() - w0, decisions: k.decisions, fills: k.fills };
}

export async function runKernelBench(opts: { small: number; large: number; journaled: number }): Promise<Record<string, unknown>> {
  // Baseline: the cost of producing the input events alone.
  let t0 = sec();
  let n = 0;
  for (const e of syntheticL2({ seed: 1, events: opts.large, cheapIds: true })) if (e.eventTimeNs > 0n) n++;
  const genSec = sec() - t0;

  runCore(Math.min(opts.small, 200_000), QUIET_CONFIG); // warm-up
  const small = runCore(opts.small, QUIET_CONFIG);
  const rssSmall = maxRssMiB();
  const large = runCore(opts.large, QUIET_CONFIG);
  const rssLarge = maxRssMiB();
  const active = runCore(opts.small, BENCH_CONFIG);

  // End to end, as `tapedeck replay` runs: the engine journaling every input and output into the run
  // stream (batched durability: synced every 20 ms and on close), active strategy.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-kernel-'));
  let journaled: Record<string, unknown> = {};
  try {
    const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
    t0 = sec();
    const s = await runKernel({ mode: 'replay', store, config: BENCH_CONFIG, sourceLabel: 'synthetic-l2', events: (async function* () { yield* syntheticL2({ seed: 1, events: opts.journaled, cheapIds: true }); })() });
    const jSec = sec() - t0;
    await store.close();
    journaled = { journaledEvents: s.events, journaledEventsPerSec: Math.round(s.events / jSec), journaledDecisions: s.decisions, journaledDurability: 'batched (20 ms), as replay' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return {
    bench: 'kernel',
    strategy: BENCH_CONFIG.strategy,
    data: 'synthetic L2 (snapshot, deltas, 10% trades), one instrument, simulated venue with 1 ms latencies; kernel timed alone, inputs made in 100k chunks outside the timing',
    quietDecisionsPerEvent: Number((large.decisions / opts.large).toFixed(4)),
    eventsSmall: opts.small,
    eventsPerSecSmall: Math.round(opts.small / small.sec),
    peakRssMiBSmall: rssSmall,
    eventsLarge: opts.large,
    eventsPerSecLarge: Math.round(opts.large / large.sec),
    eventsPerSecLargeWithInputGeneration: Math.round(opts.large / large.wallSec),
    peakRssMiBLarge: rssLarge,
    decisionsLarge: large.decisions,
    fillsLarge: large.fills,
    activeEventsPerSec: Math.round(opts.small / active.sec),
    activeDecisionsPerEvent: Number((active.decisions / opts.small).toFixed(4)),
    baselineGenerateEventsPerSec: Math.round(n / genSec),
    ...journaled,
  };
}
