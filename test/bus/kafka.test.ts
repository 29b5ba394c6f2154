/**
 * Workers on a real Kafka broker (KAFKA_BROKERS; .ci/run starts one): a gateway publishes the bundled
 * Binance capture, one partition per instrument, and workers in a consumer group run the kernel.
 * - two workers splitting the instruments decide, together, exactly what one replay of the capture decides;
 * - a worker killed (SIGKILL) mid-run and restarted on its store loses nothing and repeats nothing;
 * - a worker joining and another leaving mid-stream: every event applied once, in one store or the other;
 * Graceful stops and publish: test/bus/kafka-publish.test.ts (the two files run side by side).
 * The broker killed mid-stream is test/bus/kafka-broker-crash.test.ts (on a broker of its own).
 */

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { startWorker } from '../../src/runtime/worker.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { decisionsByInstrument } from '../../replay/instruments.js';
import { describe, expect, it } from 'vitest';
import { CliProcess, until, brokers, notRunLine, runKafka } from '../helpers/kafka.js';
import { EVENTS, inputIds, withStore, expectOpenRunsParity, expectEndedRunsParity, runIdsOf, kafkaWorkersFixture } from './kafka-fixture.js';

notRunLine('test/bus/kafka.test.ts');

describe.runIf(runKafka)('workers on a real Kafka broker', () => {
  const f = kafkaWorkersFixture();

  it('two workers splitting the instruments make the decisions of one replay, instrument by instrument', async () => {
    const topic = `t-split-${randomUUID()}`;
    const group = `g-split-${randomUUID()}`;
    // The topic exists first, so both workers hold their partitions before the first record.
    await f.bus.ensureTopic(topic, 4);
    const stores = [path.join(f.tmp.dir, 'split-1'), path.join(f.tmp.dir, 'split-2')];
    const workers = stores.map((s) => new CliProcess(['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', s, '--session-timeout-ms', '3000', '--json']));
    try {
      await until(async () => workers.every((w) => w.lines.filter((l) => l.event === 'assigned').at(-1)?.partitions.length === 2), 'each worker to hold 2 partitions', 60_000);
      const g = f.gateway(topic);
      expect(g.events).toBe(EVENTS);
      await until(f.allCommitted(group, topic), 'the group to commit every record');
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
    expect(byInstrument).toEqual(f.replayByInstrument);
    expect(Object.values(f.replayByInstrument).length).toBeGreaterThan(0);
    expect(ids.size).toBe(EVENTS);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(ids.keys())).toEqual(f.replayIds);
    // Stopped gracefully, each worker run has ended and passes parity on its own.
    const active = stopped.flatMap((s, i) => s.runs.filter((r: { decisions: number }) => r.decisions > 0).map((r: { runId: string }) => [stores[i], r.runId]));
    expect(active.length).toBe(1);
    for (const [i, s] of stopped.entries()) expectEndedRunsParity(stores[i]!, s.runs);
  });

  it('a worker killed mid-run and restarted on its store loses nothing and applies nothing twice (the capture published twice)', async () => {
    const topic = `t-kill-${randomUUID()}`;
    const group = `g-kill-${randomUUID()}`;
    await f.publishSmall(topic);
    await f.publishSmall(topic); // published twice: the worker dedupes by event id
    const total = [...(await f.bus.endOffsets(topic)).values()].reduce((a, b) => a + b, 0n);
    const store = path.join(f.tmp.dir, 'killed');
    const args = ['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', store, '--session-timeout-ms', '3000', '--max-batch-bytes', '1024', '--json'];
    const first = new CliProcess(args);
    let committedAtKill = 0n;
    try {
      await until(async () => {
        committedAtKill = [...(await f.bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n);
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
    expectOpenRunsParity(store, killedRuns);
    const second = new CliProcess(args);
    try {
      await until(f.allCommitted(group, topic), 'the restarted worker to commit every record');
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
      expect(Object.fromEntries(await decisionsByInstrument(s, runIds))).toEqual(f.replayByInstrument);
    });
    // The restarted worker was stopped gracefully: it ended all four runs, resumed ones included.
    expect(stopped.runs.length).toBe(4);
    expectEndedRunsParity(store, stopped.runs);
  });

  it('a worker joining and another leaving mid-stream: every event applied exactly once across the group', async () => {
    const topic = `t-rebalance-${randomUUID()}`;
    const group = `g-rebalance-${randomUUID()}`;
    await f.publishSmall(topic);
    const dirs = [path.join(f.tmp.dir, 'reb-a'), path.join(f.tmp.dir, 'reb-b')];
    const [sa, sb] = await Promise.all(dirs.map((d) => EmbeddedEventStore.open(d)));
    const opts = { bus: f.bus, group, topic, strategy: 'market-maker', config: { seed: 1, params: {} }, sessionTimeoutMs: 3000, maxBatchBytes: 1024 };
    let batchesA = 0;
    let batchesB = 0;
    const assignedB: number[][] = [];
    // Worker A takes its time per batch so the group changes while it is mid-stream, and once B has been
    // started, more of it: A must not drain the topic before the rebalance (slower when the broker is busy)
    // gives B its partitions.
    let bStarted = false;
    const a = await startWorker({ ...opts, store: sa!, onBatch: async () => { batchesA++; await new Promise((r) => setTimeout(r, bStarted ? 200 : 15)); } });
    a.failed.catch(() => undefined);
    await until(async () => batchesA >= 10, 'worker A to handle 10 batches', 30_000);
    bStarted = true;
    const b = await startWorker({ ...opts, store: sb!, onBatch: () => void batchesB++, onAssignment: (p) => assignedB.push(p) });
    await until(async () => batchesB >= 1, 'worker B (joined) to handle a batch', 30_000);
    const batchesAWhenBJoined = batchesA;
    const runsA = await a.stop(); // leaves: B takes every partition
    await until(async () => assignedB.at(-1)?.length === 4, 'worker B to hold all 4 partitions');
    await until(f.allCommitted(group, topic), 'the group to commit every record');
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
    expect(new Set(ids.keys())).toEqual(f.replayIds);
  });
});
