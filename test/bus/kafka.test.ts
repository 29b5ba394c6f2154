/**
 * Workers on a real Kafka broker (KAFKA_BROKERS; .ci/run starts one): a gateway publishes the bundled
 * Binance capture, one partition per instrument, and workers in a consumer group run the kernel.
 * - two workers splitting the instruments decide, together, exactly what one replay of the capture decides;
 * - a worker killed (SIGKILL) mid-run and restarted on its store loses nothing and repeats nothing;
 * - a worker stopped gracefully ends its runs (parity identical) and, restarted, continues in new runs;
 * - a worker joining and another leaving mid-stream: every event applied once, in one store or the other;
 * - publish streams the log and resumes from its checkpoint.
 * The broker killed mid-stream is test/bus/kafka-broker-crash.test.ts (on a broker of its own).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsByInstrument } from '../../replay/instruments.js';
import { KafkaBus } from '../../src/bus/kafka.js';
import { runGateway } from '../../src/runtime/gateway.js';
import { resolveSource } from '../../src/runtime/sources.js';
import { startWorker } from '../../src/runtime/worker.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventStore } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { assertBrokerReachable, brokers, CliProcess, notRunLine, runKafka, until } from '../helpers/kafka.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');
const EVENTS = 266; // tapedeck capture info: 4 instruments, 266 events
notRunLine('test/bus/kafka.test.ts');

/** Every input of the given runs: id → how many times it was applied. */
async function inputIds(store: EventStore, runIds: string[], into = new Map<string, number>()): Promise<Map<string, number>> {
  for (const id of runIds) for await (const e of store.readStream(`run-${id}`)) if (e.metadata.role === 'input') into.set(e.id, (into.get(e.id) ?? 0) + 1);
  return into;
}

async function withStore<T>(dir: string, fn: (s: EventStore) => Promise<T>): Promise<T> {
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
function expectOpenRunParity(store: string, runId: string): void {
  const p = tapedeck(['parity', '--store', store, '--run', runId, '--json']);
  expect(p.code, p.stdout + p.stderr).toBe(1);
  const r = JSON.parse(p.stdout);
  expect(r.complete).toBe(false);
  expect(r.firstDivergence).toBeUndefined();
  expect(r.divergence).toBeUndefined();
}

/** A gracefully stopped worker ended its run (RunEnded): parity is complete and identical (exit 0), matching what the worker reported. */
function expectEndedRunParity(store: string, runId: string, summary?: { events: number; decisions: number; decisionsHash: string }): void {
  const p = tapedeck(['parity', '--store', store, '--run', runId, '--json']);
  expect(p.code, p.stdout + p.stderr).toBe(0);
  const r = JSON.parse(p.stdout);
  expect({ identical: r.identical, complete: r.complete }).toEqual({ identical: true, complete: true });
  expect(r.firstDivergence).toBeUndefined();
  if (summary) expect({ decisions: r.decisions, inputs: r.inputs, hash: r.hash }).toEqual({ decisions: summary.decisions, inputs: summary.events, hash: summary.decisionsHash });
}

async function runIdsOf(store: EventStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of store.readAll()) if (e.type === 'RunStarted') ids.push(e.id);
  return ids;
}

describe.runIf(runKafka)('workers on a real Kafka broker', () => {
  const tmp = tmpDir('tapedeck-kafka-');
  const bus = new KafkaBus({ brokers: brokers || '127.0.0.1:1' });
  let replayByInstrument: Record<string, unknown>;
  let replayIds: Set<string>;

  beforeAll(async () => {
    await assertBrokerReachable();
    const r = tapedeck(['replay', CAPTURE, '--strategy', 'market-maker', '--store', path.join(tmp.dir, 'replay'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const runId = JSON.parse(r.stdout).runId as string;
    await withStore(path.join(tmp.dir, 'replay'), async (s) => {
      replayByInstrument = Object.fromEntries(await decisionsByInstrument(s, [runId]));
      replayIds = new Set((await inputIds(s, [runId])).keys());
    });
    expect(replayIds.size).toBe(EVENTS);
  });
  afterAll(async () => {
    await bus.close();
    tmp.cleanup();
  });

  const allCommitted = (group: string, topic: string) => async () => {
    const end = await bus.endOffsets(topic);
    const done = await bus.committedOffsets(group, topic);
    return [...end].every(([p, o]) => o === 0n || done.get(p) === o);
  };
  /** `tapedeck gateway`, the command: publishes the capture to the topic. */
  const gateway = (topic: string) => {
    const g = tapedeck(['gateway', '--venue', 'BINANCE', '--capture', CAPTURE, '--kafka', brokers, '--topic', topic, '--json']);
    expect(g.code, g.stderr).toBe(0);
    return JSON.parse(g.stdout);
  };
  /** The same gateway in process, 5 records per send, so workers fetch small batches and commit often (faults land mid-stream). */
  const publishSmall = async (topic: string) => {
    const g = await runGateway({ bus, source: resolveSource(CAPTURE), venue: 'BINANCE', topic, batch: 5 });
    expect(g.events).toBe(EVENTS);
  };

  it('two workers splitting the instruments make the decisions of one replay, instrument by instrument', async () => {
    const topic = `t-split-${randomUUID()}`;
    const group = `g-split-${randomUUID()}`;
    // The topic exists first, so both workers hold their partitions before the first record.
    await bus.ensureTopic(topic, 4);
    const stores = [path.join(tmp.dir, 'split-1'), path.join(tmp.dir, 'split-2')];
    const workers = stores.map((s) => new CliProcess(['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', s, '--session-timeout-ms', '3000', '--json']));
    try {
      await until(async () => workers.every((w) => w.lines.filter((l) => l.event === 'assigned').at(-1)?.partitions.length === 2), 'each worker to hold 2 partitions', 60_000);
      const g = gateway(topic);
      expect(g.events).toBe(EVENTS);
      await until(allCommitted(group, topic), 'the group to commit every record');
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
    const stopped = await Promise.all(workers.map((w) => w.waitFor((l) => l.event === 'stopped')));
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);

    const byInstrument: Record<string, unknown> = {};
    const ids = new Map<string, number>();
    for (let i = 0; i < 2; i++) {
      const runIds = stopped[i].runs.map((r: { runId: string }) => r.runId);
      expect(runIds.length).toBe(2);
      await withStore(stores[i]!, async (s) => {
        for (const [k, v] of await decisionsByInstrument(s, runIds)) {
          expect(byInstrument[k], `${k} decided in both workers`).toBeUndefined();
          byInstrument[k] = v;
        }
        await inputIds(s, runIds, ids);
      });
    }
    expect(byInstrument).toEqual(replayByInstrument);
    expect(Object.values(replayByInstrument).length).toBeGreaterThan(0);
    expect(ids.size).toBe(EVENTS);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(ids.keys())).toEqual(replayIds);
    // Stopped gracefully, each worker run has ended and passes parity on its own.
    const active = stopped.flatMap((s, i) => s.runs.filter((r: { decisions: number }) => r.decisions > 0).map((r: { runId: string }) => [stores[i], r.runId]));
    expect(active.length).toBe(1);
    for (const [i, s] of stopped.entries()) for (const r of s.runs) expectEndedRunParity(stores[i]!, r.runId, r);
  });

  it('a worker killed mid-run and restarted on its store loses nothing and applies nothing twice (the capture published twice)', async () => {
    const topic = `t-kill-${randomUUID()}`;
    const group = `g-kill-${randomUUID()}`;
    await publishSmall(topic);
    await publishSmall(topic); // published twice: the worker dedupes by event id
    const total = [...(await bus.endOffsets(topic)).values()].reduce((a, b) => a + b, 0n);
    const store = path.join(tmp.dir, 'killed');
    const args = ['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', store, '--session-timeout-ms', '3000', '--max-batch-bytes', '1024', '--json'];
    const first = new CliProcess(args);
    let committedAtKill = 0n;
    try {
      await until(async () => {
        committedAtKill = [...(await bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n);
        return committedAtKill >= 40n;
      }, 'the worker to commit 40 records', 60_000, 20);
    } finally {
      first.kill('SIGKILL');
    }
    await first.exited;
    expect(committedAtKill).toBeLessThan(total); // killed mid-run, not after
    // Killed, the worker ended nothing: its runs are open (parity INCOMPLETE) and the restart resumes them.
    const killedRuns = await withStore(store, runIdsOf);
    expect(killedRuns.length).toBeGreaterThan(0);
    for (const id of killedRuns) expectOpenRunParity(store, id);
    const second = new CliProcess(args);
    try {
      await until(allCommitted(group, topic), 'the restarted worker to commit every record');
    } finally {
      second.kill('SIGTERM');
    }
    const stopped = await second.waitFor((l) => l.event === 'stopped');
    expect(await second.exited).toBe(0);
    await withStore(store, async (s) => {
      const runIds = await runIdsOf(s);
      expect(runIds.length).toBe(4);
      expect(runIds).toEqual(expect.arrayContaining(killedRuns)); // resumed, not restarted
      const ids = await inputIds(s, runIds);
      expect(ids.size).toBe(EVENTS);
      expect([...ids.values()].every((n) => n === 1)).toBe(true);
      expect(Object.fromEntries(await decisionsByInstrument(s, runIds))).toEqual(replayByInstrument);
    });
    // The restarted worker was stopped gracefully: it ended all four runs, resumed ones included.
    expect(stopped.runs.length).toBe(4);
    for (const r of stopped.runs) expectEndedRunParity(store, r.runId, r);
  });

  it('a worker stopped gracefully mid-run ends its runs (parity identical); restarted, it continues in new runs from the stored offsets', async () => {
    const topic = `t-stop-${randomUUID()}`;
    const group = `g-stop-${randomUUID()}`;
    await publishSmall(topic);
    const store = path.join(tmp.dir, 'stopped');
    const args = ['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', store, '--session-timeout-ms', '3000', '--max-batch-bytes', '1024', '--json'];
    const first = new CliProcess(args);
    try {
      await until(async () => [...(await bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n) >= 40n, 'the worker to commit 40 records', 60_000, 20);
    } finally {
      first.kill('SIGTERM');
    }
    const firstStopped = await first.waitFor((l) => l.event === 'stopped');
    expect(await first.exited).toBe(0);
    const committedAtStop = [...(await bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n);
    const total = [...(await bus.endOffsets(topic)).values()].reduce((a, b) => a + b, 0n);
    expect(committedAtStop).toBeLessThan(total); // stopped mid-run, not after
    const firstRuns = firstStopped.runs.map((r: { runId: string }) => r.runId);
    expect(firstRuns.length).toBeGreaterThan(0);
    for (const r of firstStopped.runs) expectEndedRunParity(store, r.runId, r);
    const firstInputs = await withStore(store, (s) => inputIds(s, firstRuns));

    const second = new CliProcess(args);
    try {
      await until(allCommitted(group, topic), 'the restarted worker to commit every record');
    } finally {
      second.kill('SIGTERM');
    }
    const secondStopped = await second.waitFor((l) => l.event === 'stopped');
    expect(await second.exited).toBe(0);
    const secondRuns = secondStopped.runs.map((r: { runId: string }) => r.runId);
    expect(secondRuns.length).toBeGreaterThan(0);
    expect(secondRuns.filter((id: string) => firstRuns.includes(id))).toEqual([]); // new runs, not the ended ones
    for (const r of secondStopped.runs) expectEndedRunParity(store, r.runId, r);
    await withStore(store, async (s) => {
      const all = await runIdsOf(s);
      expect(new Set(all)).toEqual(new Set([...firstRuns, ...secondRuns]));
      const ids = await inputIds(s, all);
      expect(ids.size).toBe(EVENTS);
      expect([...ids.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(new Set(ids.keys())).toEqual(replayIds);
      // The new runs start after the stored offsets: none of the first runs' inputs again.
      expect([...(await inputIds(s, secondRuns)).keys()].filter((id) => firstInputs.has(id))).toEqual([]);
    });
  });

  it('a worker joining and another leaving mid-stream: every event applied exactly once across the group', async () => {
    const topic = `t-rebalance-${randomUUID()}`;
    const group = `g-rebalance-${randomUUID()}`;
    await publishSmall(topic);
    const dirs = [path.join(tmp.dir, 'reb-a'), path.join(tmp.dir, 'reb-b')];
    const [sa, sb] = await Promise.all(dirs.map((d) => EmbeddedEventStore.open(d)));
    const opts = { bus, group, topic, strategy: 'market-maker', config: { seed: 1, params: {} }, sessionTimeoutMs: 3000, maxBatchBytes: 1024 };
    let batchesA = 0;
    let batchesB = 0;
    const assignedB: number[][] = [];
    // Worker A takes its time per batch so the group changes while it is mid-stream.
    const a = await startWorker({ ...opts, store: sa!, onBatch: async () => { batchesA++; await new Promise((r) => setTimeout(r, 15)); } });
    a.failed.catch(() => undefined);
    await until(async () => batchesA >= 10, 'worker A to handle 10 batches', 30_000);
    const b = await startWorker({ ...opts, store: sb!, onBatch: () => void batchesB++, onAssignment: (p) => assignedB.push(p) });
    await until(async () => batchesB >= 1, 'worker B (joined) to handle a batch', 30_000);
    const batchesAWhenBJoined = batchesA;
    const runsA = await a.stop(); // leaves: B takes every partition
    await until(async () => assignedB.at(-1)?.length === 4, 'worker B to hold all 4 partitions');
    await until(allCommitted(group, topic), 'the group to commit every record');
    const runsB = await b.stop();
    await sa!.close();
    await sb!.close();
    const ids = new Map<string, number>();
    const perStore: number[] = [];
    for (const [i, runs] of [runsA, runsB].entries()) {
      await withStore(dirs[i]!, async (s) => {
        const before = ids.size;
        await inputIds(s, runs.map((r) => r.runId), ids);
        perStore.push(ids.size - before);
      });
    }
    expect(perStore.every((n) => n > 0)).toBe(true); // both workers did part of the work
    expect(batchesAWhenBJoined).toBeGreaterThan(0);
    expect(ids.size).toBe(EVENTS);
    expect([...ids.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(ids.keys())).toEqual(replayIds);
  });

  it('publish streams the log to a topic and resumes after its checkpoint: every position once, in order', async () => {
    const topic = `t-log-${randomUUID()}`;
    const store = path.join(tmp.dir, 'replay');
    const first = tapedeck(['publish', '--store', store, '--kafka', brokers, '--topic', topic, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.checkpoint).toBe(-1);
    expect(a.published).toBe(a.head + 1);
    const r = tapedeck(['replay', CAPTURE, '--strategy', 'momentum', '--store', store, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const second = JSON.parse(tapedeck(['publish', '--store', store, '--kafka', brokers, '--topic', topic, '--json']).stdout);
    expect(second.checkpoint).toBe(a.head);
    expect(second.published).toBeGreaterThan(0);
    const positions: number[] = [];
    for await (const m of bus.readPartition(topic, 0, 0n)) positions.push(Number(m.headers['store-position']));
    expect(positions).toEqual(Array.from({ length: second.head + 1 }, (_, i) => i));
  });
});
