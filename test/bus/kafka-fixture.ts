import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { decisionsByInstrument } from '../../replay/instruments.js';
import { KafkaBus } from '../../src/bus/kafka.js';
import { runGateway } from '../../src/runtime/gateway.js';
import { resolveSource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventStore } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { assertBrokerReachable, brokers } from '../helpers/kafka.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

export const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');
export const EVENTS = 266; // tapedeck capture info: 4 instruments, 266 events

/** Every input of the given runs: id → how many times it was applied. */
export async function inputIds(store: EventStore, runIds: string[], into = new Map<string, number>()): Promise<Map<string, number>> {
  for (const id of runIds) for await (const e of store.readStream(`run-${id}`)) if (e.metadata.role === 'input') into.set(e.id, (into.get(e.id) ?? 0) + 1);
  return into;
}

export async function withStore<T>(dir: string, fn: (s: EventStore) => Promise<T>): Promise<T> {
  const s = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/**
 * A killed worker's run stays open (no RunEnded) so a restart can resume it, and parity says so
 * (INCOMPLETE, exit 1); what it did compare must match: no divergence.
 */
export function expectOpenRunParity(store: string, runId: string): void {
  const p = tapedeck(['parity', '--store', store, '--run', runId, '--json']);
  expect(p.code, p.stdout + p.stderr).toBe(1);
  const r = JSON.parse(p.stdout);
  expect(r.complete).toBe(false);
  expect(r.firstDivergence).toBeUndefined();
  expect(r.divergence).toBeUndefined();
}

/** A gracefully stopped worker ended its run (RunEnded): parity is complete and identical (exit 0), matching what the worker reported. */
export function expectEndedRunParity(store: string, runId: string, summary?: { events: number; decisions: number; decisionsHash: string }): void {
  const p = tapedeck(['parity', '--store', store, '--run', runId, '--json']);
  expect(p.code, p.stdout + p.stderr).toBe(0);
  const r = JSON.parse(p.stdout);
  expect({ identical: r.identical, complete: r.complete }).toEqual({ identical: true, complete: true });
  expect(r.firstDivergence).toBeUndefined();
  if (summary) expect({ decisions: r.decisions, inputs: r.inputs, hash: r.hash }).toEqual({ decisions: summary.decisions, inputs: summary.events, hash: summary.decisionsHash });
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
