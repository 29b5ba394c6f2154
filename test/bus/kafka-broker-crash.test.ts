/**
 * The broker killed (SIGKILL) and restarted mid-stream, on a private broker instance (its own state
 * directory and port, so the shared test broker is left alone): the gateway's idempotent producer
 * and a worker ride it out; every event is in the topic once, and applied by the worker once, and
 * the decisions are a replay's.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsByInstrument } from '../../replay/instruments.js';
import { KafkaBus } from '../../src/bus/kafka.js';
import { KIND_HEADER, runGateway } from '../../src/runtime/gateway.js';
import { resolveSource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { tapedeck } from '../helpers/cli.js';
import { assertBrokerReachable, CliProcess, kafkaScript, notRunLine, runKafka, until } from '../helpers/kafka.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');
const EVENTS = 266;
notRunLine('test/bus/kafka-broker-crash.test.ts');

describe.runIf(runKafka)('the broker killed mid-stream', () => {
  const tmp = tmpDir('tapedeck-kafka-crash-');
  const state = path.join(tmp.dir, 'broker');
  let brokers = '';
  let bus: KafkaBus;

  beforeAll(async () => {
    // The shared broker's presence says the jars are cached (.ci/run started it with the same script).
    await assertBrokerReachable();
    brokers = await kafkaScript('start', state);
    // Keeps retrying while the broker restarts (which takes a while on a busy machine).
    bus = new KafkaBus({ brokers, retryForMs: 180_000 });
  });
  afterAll(async () => {
    await bus?.close();
    // Its data is thrown away: a kill is as good as a graceful stop here, and quicker.
    await kafkaScript('crash', state).catch(() => undefined);
    tmp.cleanup();
  });

  it('loses nothing and duplicates nothing, in the topic and in the worker store', async () => {
    const r = tapedeck(['replay', CAPTURE, '--strategy', 'market-maker', '--store', path.join(tmp.dir, 'replay'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const replayStore = await EmbeddedEventStore.open(path.join(tmp.dir, 'replay'), { readOnly: true });
    const replay = Object.fromEntries(await decisionsByInstrument(replayStore, [JSON.parse(r.stdout).runId]));
    await replayStore.close();

    const topic = `t-crash-${randomUUID()}`;
    const group = `g-crash-${randomUUID()}`;
    await bus.ensureTopic(topic, 4);
    const store = path.join(tmp.dir, 'worker');
    const worker = new CliProcess(['worker', '--kafka', brokers, '--group', group, '--topic', topic, '--strategy', 'market-maker', '--store', store, '--session-timeout-ms', '3000', '--json']);
    let restarted: Promise<unknown> | null = null;
    let sentAtCrash = 0;
    try {
      await worker.waitFor((l) => l.event === 'assigned' && l.partitions.length === 4);
      const g = await runGateway({
        bus, source: resolveSource(CAPTURE), venue: 'BINANCE', topic, batch: 5,
        onProgress: (n) => {
          if (restarted === null && n >= 100) {
            sentAtCrash = n;
            restarted = kafkaScript('crash', state).then(() => kafkaScript('start', state));
          }
        },
      });
      expect(g.events).toBe(EVENTS);
      expect(restarted).not.toBeNull();
      await restarted;
      expect(sentAtCrash).toBeLessThan(EVENTS);
      const allCommitted = async () => {
        const end = await bus.endOffsets(topic);
        const done = await bus.committedOffsets(group, topic);
        return [...end].every(([p, o]) => done.get(p) === o);
      };
      const workerGone = worker.exited.then((code) => {
        throw new Error(`the worker exited (${code}) before committing everything: ${worker.stderr}`);
      });
      await Promise.race([until(allCommitted, 'the worker to commit every record', 150_000, 200), workerGone]);
    } finally {
      worker.kill('SIGTERM');
    }
    const stopped = await worker.waitFor((l) => l.event === 'stopped');
    expect(await worker.exited).toBe(0);

    // The topic: every event once (the idempotent producer's retries wrote nothing twice).
    const inTopic = new Map<string, number>();
    for (const p of [0, 1, 2, 3]) {
      for await (const m of bus.readPartition(topic, p, 0n)) if (m.headers[KIND_HEADER] !== 'survey') inTopic.set(m.eventId, (inTopic.get(m.eventId) ?? 0) + 1);
    }
    expect(inTopic.size).toBe(EVENTS);
    expect([...inTopic.values()].every((n) => n === 1)).toBe(true);

    // The worker: every event applied once; the decisions a replay's.
    const s = await EmbeddedEventStore.open(store, { readOnly: true });
    try {
      const runIds = stopped.runs.map((x: { runId: string }) => x.runId);
      const applied = new Map<string, number>();
      for (const id of runIds) for await (const e of s.readStream(`run-${id}`)) if (e.metadata.role === 'input') applied.set(e.id, (applied.get(e.id) ?? 0) + 1);
      expect(applied.size).toBe(EVENTS);
      expect([...applied.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(applied.keys())).toEqual(new Set(inTopic.keys()));
      expect(Object.fromEntries(await decisionsByInstrument(s, runIds))).toEqual(replay);
    } finally {
      await s.close();
    }
  }, 300_000); // a JVM restarting on a loaded 2-core machine can take half a minute
});
