import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { decisionsByInstrument } from '../../replay/instruments.js';
import { KafkaBus } from '../../src/bus/kafka.js';
import { runGateway } from '../../src/runtime/gateway.js';
import { resolveSource } from '../../src/runtime/sources.js';
import type { EventStore } from '../../src/store/port.js';
import { jsonLines, tapedeck } from '../helpers/cli.js';
import { assertBrokerReachable, brokers } from '../helpers/kafka.js';
import { withStore } from '../helpers/store.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

export { withStore };

export const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');
export const EVENTS = 266; // tapedeck capture info: 4 instruments, 266 events

/** Every input of the given runs: id → how many times it was applied. */
export async function inputIds(store: EventStore, runIds: string[], into = new Map<string, number>()): Promise<Map<string, number>> {
  for (const id of runIds) for await (const e of store.readStream(`run-${id}`)) if (e.metadata.role === 'input') into.set(e.id, (into.get(e.id) ?? 0) + 1);
  return into;
}

/** `tapedeck parity` on several runs of one store, in one process: one result line per run, in the order asked. */
function parityOf(store: string, runIds: string[]): { code: number; results: any[]; out: string } {
  const p = tapedeck(['parity', '--store', store, '--run', ...runIds, '--json']);
  const results = jsonLines(p.stdout);
  expect(results.length, p.stdout + p.stderr).toBe(runIds.length);
  // One run prints the single-run shape; several name each line by its run.
  if (runIds.length > 1) expect(results.map((r) => r.runId)).toEqual(runIds);
  return { code: p.code, results, out: p.stdout + p.stderr };
}

/**
 * A killed worker's runs stay open (no RunEnded) so a restart can resume them, and parity says so
 * (INCOMPLETE, exit 1); what it did compare must match: no divergence.
 */
export function expectOpenRunsParity(store: string, runIds: string[]): void {
  const p = parityOf(store, runIds);
  expect(p.code, p.out).toBe(1);
  for (const r of p.results) {
    expect({ identical: r.identical, complete: r.complete }).toEqual({ identical: false, complete: false });
    expect(r.firstDivergence).toBeUndefined();
    expect(r.divergence).toBeUndefined();
  }
}

/** A gracefully stopped worker ended its runs (RunEnded): parity is complete and identical (exit 0), matching what the worker reported of each. */
export function expectEndedRunsParity(store: string, runs: Array<{ runId: string; events: number; decisions: number; decisionsHash: string }>): void {
  const p = parityOf(store, runs.map((r) => r.runId));
  expect(p.code, p.out).toBe(0);
  for (const [i, r] of p.results.entries()) {
    expect({ identical: r.identical, complete: r.complete }).toEqual({ identical: true, complete: true });
    expect(r.firstDivergence).toBeUndefined();
    expect({ decisions: r.decisions, inputs: r.inputs, hash: r.hash }).toEqual({ decisions: runs[i]!.decisions, inputs: runs[i]!.events, hash: runs[i]!.decisionsHash });
  }
}

export async function runIdsOf(store: EventStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of store.readAll()) if (e.type === 'RunStarted') ids.push(e.id);
  return ids;
}

/**
 * The shared part of the worker tests (split over two files so two vitest workers run them side by side):
 * a replay of the capture to compare against, a bus, a scratch folder, and the gateways. Call inside a describe.
 */
export function kafkaWorkersFixture() {
  const tmp = tmpDir('tapedeck-kafka-');
  const bus = new KafkaBus({ brokers: brokers || '127.0.0.1:1' });
  const f = {
    tmp, bus,
    /** What one replay of the capture decides, per instrument, and its input ids (filled before the tests). */
    replayByInstrument: {} as Record<string, unknown>,
    replayIds: new Set<string>(),
    allCommitted: (group: string, topic: string) => async (): Promise<boolean> => {
      const end = await bus.endOffsets(topic);
      const done = await bus.committedOffsets(group, topic);
      return [...end].every(([p, o]) => o === 0n || done.get(p) === o);
    },
    /** `tapedeck gateway`, the command: publishes the capture to the topic. */
    gateway: (topic: string) => {
      const g = tapedeck(['gateway', '--venue', 'BINANCE', '--capture', CAPTURE, '--kafka', brokers, '--topic', topic, '--json']);
      expect(g.code, g.stderr).toBe(0);
      return JSON.parse(g.stdout);
    },
    /** The same gateway in process, 5 records per send, so workers fetch small batches and commit often (faults land mid-stream). */
    publishSmall: async (topic: string): Promise<void> => {
      const g = await runGateway({ bus, source: resolveSource(CAPTURE), venue: 'BINANCE', topic, batch: 5 });
      expect(g.events).toBe(EVENTS);
    },
  };
  beforeAll(async () => {
    await assertBrokerReachable();
    const r = tapedeck(['replay', CAPTURE, '--strategy', 'market-maker', '--store', path.join(tmp.dir, 'replay'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const runId = JSON.parse(r.stdout).runId as string;
    await withStore(path.join(tmp.dir, 'replay'), async (s) => {
      f.replayByInstrument = Object.fromEntries(await decisionsByInstrument(s, [runId]));
      f.replayIds = new Set((await inputIds(s, [runId])).keys());
    });
    expect(f.replayIds.size).toBe(EVENTS);
  });
  afterAll(async () => {
    await bus.close();
    tmp.cleanup();
  });
  return f;
}
