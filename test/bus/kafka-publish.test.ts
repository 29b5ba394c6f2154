/**
 * Workers on a real Kafka broker (KAFKA_BROKERS; .ci/run starts one), continued from test/bus/kafka.test.ts
 * (split so two vitest workers run them side by side; the shared set-up is kafka-fixture.ts):
 * - a worker stopped gracefully ends its runs (parity identical) and, restarted, continues in new runs;
 * - publish streams the log and resumes from its checkpoint.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { tapedeck } from '../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { CliProcess, until, brokers, notRunLine, runKafka } from '../helpers/kafka.js';
import { EVENTS, inputIds, withStore, expectEndedRunsParity, runIdsOf, kafkaWorkersFixture } from './kafka-fixture.js';

notRunLine('test/bus/kafka-publish.test.ts');

describe.runIf(runKafka)('workers on a real Kafka broker', () => {
  const f = kafkaWorkersFixture();

  it('a worker stopped gracefully mid-run ends its runs (parity identical); restarted, it continues in new runs from the stored offsets', async () => {
    const topic = `t-stop-${randomUUID()}`;
    const group = `g-stop-${randomUUID()}`;
    await f.publishSmall(topic);
    const store = path.join(f.tmp.dir, 'stopped');
    const args = ['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', store, '--session-timeout-ms', '3000', '--max-batch-bytes', '1024', '--json'];
    const first = new CliProcess(args);
    try {
      await until(async () => [...(await f.bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n) >= 40n, 'the worker to commit 40 records', 60_000, 20);
    } finally {
      first.kill('SIGTERM');
    }
    const firstStopped = await first.waitFor((l) => l.event === 'stopped');
    expect(await first.exited).toBe(0);
    const committedAtStop = [...(await f.bus.committedOffsets(group, topic)).values()].reduce((a, b) => a + b, 0n);
    const total = [...(await f.bus.endOffsets(topic)).values()].reduce((a, b) => a + b, 0n);
    expect(committedAtStop).toBeLessThan(total); // stopped mid-run, not after
    const firstRuns = firstStopped.runs.map((r: { runId: string }) => r.runId);
    expect(firstRuns.length).toBeGreaterThan(0);
    expectEndedRunsParity(store, firstStopped.runs);
    const firstInputs = await withStore(store, (s) => inputIds(s, firstRuns));

    const second = new CliProcess(args);
    try {
      await until(f.allCommitted(group, topic), 'the restarted worker to commit every record');
    } finally {
      second.kill('SIGTERM');
    }
    const secondStopped = await second.waitFor((l) => l.event === 'stopped');
    expect(await second.exited).toBe(0);
    const secondRuns = secondStopped.runs.map((r: { runId: string }) => r.runId);
    expect(secondRuns.length).toBeGreaterThan(0);
    expect(secondRuns.filter((id: string) => firstRuns.includes(id))).toEqual([]); // new runs, not the ended ones
    expectEndedRunsParity(store, secondStopped.runs);
    await withStore(store, async (s) => {
      const all = await runIdsOf(s);
      expect(new Set(all)).toEqual(new Set([...firstRuns, ...secondRuns]));
      const ids = await inputIds(s, all);
      expect(ids.size).toBe(EVENTS);
      expect([...ids.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      expect(new Set(ids.keys())).toEqual(f.replayIds);
      // The new runs start after the stored offsets: none of the first runs' inputs again.
      expect([...(await inputIds(s, secondRuns)).keys()].filter((id) => firstInputs.has(id))).toEqual([]);
    });
  });

  it('publish streams the log to a topic and resumes after its checkpoint: every position once, in order', async () => {
    const topic = `t-log-${randomUUID()}`;
    const store = path.join(f.tmp.dir, 'replay');
    const first = tapedeck(['publish', '--store', store, '--kafka', brokers, '--topic', topic, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.checkpoint).toBe(-1);
    expect(a.published).toBe(a.head + 1);
    // The log grows after the checkpoint (appended here: what is appended is not the point, a CLI start-up saved).
    const s = await EmbeddedEventStore.open(store);
    try {
      await s.appendToStream('notes', Array.from({ length: 20 }, (_, i) => ({ id: randomUUID(), type: 'Note', data: { i } })));
    } finally {
      await s.close();
    }
    const second = JSON.parse(tapedeck(['publish', '--store', store, '--kafka', brokers, '--topic', topic, '--json']).stdout);
    expect(second.checkpoint).toBe(a.head);
    expect(second.published).toBeGreaterThan(0);
    const positions: number[] = [];
    for await (const m of f.bus.readPartition(topic, 0, 0n)) positions.push(Number(m.headers['store-position']));
    expect(positions).toEqual(Array.from({ length: second.head + 1 }, (_, i) => i));
  });
});
