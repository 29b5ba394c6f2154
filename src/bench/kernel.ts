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
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import type { ResolvedRunConfig } from '../runtime/config.js';
import { kernelSetup, runKernel } from '../runtime/engine.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';

export const BENCH_CONFIG: ResolvedRunConfig = {
  strategy: 'market-maker',
  seed: 7,
  params: { venue: 'SIMX', instrument: 'SIMX:BTCUSD', priceScale: 2, qtyScale: 4, quoteQtyLots: 100, halfSpreadTicks: 2, maxInventoryLots: 100_000, minActionIntervalNs: '50000000' },
  risk: { maxOpenOrders: 50, orderRate: { maxOrders: 10_000, windowNs: '1000000000' } },
  venues: [{ venue: 'SIMX', latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '-0.5', takerBps: '5' } }],
};

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
function runCore(events: number): { sec: number; wallSec: number; decisions: number; fills: number } {
  const k = initKernel(kernelSetup('bench-kernel', BENCH_CONFIG));
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
      out.length = 0;
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

  runCore(Math.min(opts.small, 200_000)); // warm-up
  const small = runCore(opts.small);
  const rssSmall = maxRssMiB();
  const large = runCore(opts.large);
  const rssLarge = maxRssMiB();

  // End to end: the engine, journaling every input and output durably (fsync per 1,000-event batch).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-kernel-'));
  let journaled: Record<string, unknown> = {};
  try {
    const store = await EmbeddedEventStore.open(dir);
    t0 = sec();
    const s = await runKernel({ mode: 'replay', store, config: BENCH_CONFIG, sourceLabel: 'synthetic-l2', events: (async function* () { yield* syntheticL2({ seed: 1, events: opts.journaled, cheapIds: true }); })() });
    const jSec = sec() - t0;
    await store.close();
    journaled = { journaledEvents: s.events, journaledEventsPerSec: Math.round(s.events / jSec), journaledDecisions: s.decisions };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return {
    bench: 'kernel',
    strategy: BENCH_CONFIG.strategy,
    data: 'synthetic L2 (snapshot, deltas, 10% trades), one instrument, simulated venue with 1 ms latencies',
    eventsSmall: opts.small,
    eventsPerSecSmall: Math.round(opts.small / small.sec),
    peakRssMiBSmall: rssSmall,
    eventsLarge: opts.large,
    eventsPerSecLarge: Math.round(opts.large / large.sec),
    eventsPerSecLargeWithInputGeneration: Math.round(opts.large / large.wallSec),
    peakRssMiBLarge: rssLarge,
    decisionsLarge: large.decisions,
    fillsLarge: large.fills,
    baselineGenerateEventsPerSec: Math.round(n / genSec),
    ...journaled,
  };
}
