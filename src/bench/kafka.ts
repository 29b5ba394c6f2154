/**
 * `tapedeck bench kafka`: events/s through the bus on a real broker, with 1, 2 and 4 partitions
 * (one synthetic instrument each): (1) the bus producer publishing pre-encoded events (idempotent,
 * acks=all, 1,000 per awaited send); (2) end to end: producer → a worker's kernels (one per partition)
 * → the embedded store (fsync), timed from the first send until every offset is committed; and the
 * same-run baseline: the raw kafkajs client producing the same records with the same settings and a
 * raw consumer group reading them back.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { uuidFromName } from '../../domain/core/sha256.js';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import { encodeEvent } from '../bus/codec.js';
import { KafkaBus, parseBrokers } from '../bus/kafka.js';
import type { BusMessage } from '../bus/port.js';
import { KIND_HEADER, type SurveyRecord } from '../runtime/gateway.js';
import { startWorker } from '../runtime/worker.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';
import { BENCH_CONFIG } from './kernel.js';

const SEND_BATCH = 1000;

function sec(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function records(events: number, partitions: number): BusMessage[] {
  const instruments: SurveyRecord['instruments'] = [];
  const data: BusMessage[][] = [];
  for (let p = 0; p < partitions; p++) {
    const symbol = p === 0 ? 'BTCUSD' : `SYM${p}`;
    instruments.push({ instrument: `SIMX:${symbol}`, venue: 'SIMX', symbol, priceScale: 2, qtyScale: 4, events: Math.floor(events / partitions), partition: p });
    data.push([...syntheticL2({ seed: p + 1, events: Math.floor(events / partitions), symbol, cheapIds: true })].map((e) => encodeEvent(e, p)));
  }
  const survey = Buffer.from(JSON.stringify({ source: 'bench', partitions, instruments } satisfies SurveyRecord));
  const out: BusMessage[] = [];
  for (let p = 0; p < partitions; p++) out.push({ key: `survey:${p}`, eventId: uuidFromName('bench', `survey:${p}`), value: survey, partition: p, headers: { [KIND_HEADER]: 'survey' } });
  // Interleaved, as a feed would be.
  for (let i = 0; ; i++) {
    let any = false;
    for (const d of data) {
      if (i >= d.length) continue;
      out.push(d[i]!);
      any = true;
    }
    if (!any) break;
  }
  return out;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('the bench timed out waiting for the consumers');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runKafkaBench(o: { brokers: string; events: number; partitions: number[] }): Promise<Record<string, unknown>> {
  parseBrokers(o.brokers);
  const bus = new KafkaBus({ brokers: o.brokers, clientId: 'tapedeck-bench' });
  const raw = new Kafka({ clientId: 'tapedeck-bench-raw', brokers: parseBrokers(o.brokers), logLevel: logLevel.NOTHING });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-kafka-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const partitions of o.partitions) {
      const msgs = records(o.events, partitions);
      const n = msgs.length;
      const run = randomUUID().slice(0, 8);

      // Baseline: the raw client, same records, same producer settings.
      const rawTopic = `bench-raw-${run}-p${partitions}`;
      await bus.ensureTopic(rawTopic, partitions);
      const rp = raw.producer({ idempotent: true, maxInFlightRequests: 1 });
      await rp.connect();
      let t0 = sec();
      for (let i = 0; i < n; i += SEND_BATCH) {
        await rp.send({ topic: rawTopic, acks: -1, messages: msgs.slice(i, i + SEND_BATCH).map((m) => ({ key: m.key, value: m.value, partition: m.partition!, headers: { ...(m.headers ?? {}), 'event-id': m.eventId } })) });
      }
      const rawProduce = n / (sec() - t0);
      await rp.disconnect();
      const rc = raw.consumer({ groupId: `bench-raw-${run}-${partitions}`, maxWaitTimeInMs: 100 });
      await rc.connect();
      await rc.subscribe({ topic: rawTopic, fromBeginning: true });
      let seen = 0;
      t0 = sec();
      await rc.run({ eachBatch: async ({ batch }) => void (seen += batch.messages.length) });
      await until(async () => seen >= n, 120_000);
      const rawConsume = n / (sec() - t0);
      await rc.disconnect();

      // The bus: producer alone, then producer → worker kernels → store.
      const topic = `bench-bus-${run}-p${partitions}`;
      await bus.ensureTopic(topic, partitions);
      const producer = await bus.producer();
      t0 = sec();
      for (let i = 0; i < n; i += SEND_BATCH) await producer.send(topic, msgs.slice(i, i + SEND_BATCH));
      const busProduce = n / (sec() - t0);

      const e2eTopic = `bench-e2e-${run}-p${partitions}`;
      await bus.ensureTopic(e2eTopic, partitions);
      const store = await EmbeddedEventStore.open(path.join(dir, `store-${partitions}`));
      const group = `bench-e2e-${run}-${partitions}`;
      let assigned = 0;
      let batches = 0;
      const worker = await startWorker({
        bus, store, group, topic: e2eTopic, strategy: 'market-maker',
        config: { seed: BENCH_CONFIG.seed, params: BENCH_CONFIG.params, risk: BENCH_CONFIG.risk, venues: BENCH_CONFIG.venues },
        onAssignment: (ps) => void (assigned = ps.length),
        onBatch: () => void batches++,
      });
      await until(async () => assigned === partitions, 60_000);
      t0 = sec();
      for (let i = 0; i < n; i += SEND_BATCH) await producer.send(e2eTopic, msgs.slice(i, i + SEND_BATCH));
      const end = await bus.endOffsets(e2eTopic);
      await until(async () => {
        const c = await bus.committedOffsets(group, e2eTopic);
        return [...end].every(([p, off]) => c.get(p) === off);
      }, 300_000);
      const e2e = n / (sec() - t0);
      const runs = await worker.stop();
      await store.close();
      await producer.close();
      results.push({
        partitions,
        events: n,
        busProduceEventsPerSec: Math.round(busProduce),
        endToEndEventsPerSec: Math.round(e2e),
        decisions: runs.reduce((a, r) => a + r.decisions, 0),
        workerBatches: batches,
        baselineRawProduceEventsPerSec: Math.round(rawProduce),
        baselineRawConsumeEventsPerSec: Math.round(rawConsume),
      });
    }
  } finally {
    await bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { client: 'kafkajs 2.2.4', node: process.version, runs: results };
}
