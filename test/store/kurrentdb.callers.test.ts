/**
 * Callers that follow a store by position, on KurrentDB's sparse positions (the adapter over the
 * simulated client of kurrentdb-sim.ts, which refuses a read from a position that is not an event's,
 * as KurrentDB cannot read from the middle of a record): the Kafka outbox (`tapedeck publish`) and the
 * server's live projections (`tapedeck serve`) each run twice, the second time from their checkpoint,
 * and pick up exactly the events appended in between.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { POSITION_HEADER, publishLog } from '../../src/bus/outbox.js';
import type { Bus, BusMessage, ConsumedMessage } from '../../src/bus/port.js';
import { LiveProjections } from '../../src/server/live-projections.js';
import { KurrentDbEventStore } from '../../src/store/kurrentdb/store.js';
import { collect, type EventData } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { SimKurrentClient } from './kurrentdb-sim.js';

const ev = (i: number): EventData => ({ id: randomUUID(), type: 'Note', data: { i }, metadata: { $correlationId: 'c' } });

/** One topic, one partition, in memory: the part of the bus the outbox uses. */
function memoryBus(): Bus & { records: BusMessage[] } {
  const records: BusMessage[] = [];
  return {
    records,
    async ensureTopic() {},
    async endOffsets() {
      return new Map([[0, BigInt(records.length)]]);
    },
    async *readPartition(topic: string, partition: number, fromOffset: bigint): AsyncIterable<ConsumedMessage> {
      for (let o = Number(fromOffset); o < records.length; o++) {
        const m = records[o]!;
        yield { topic, partition, offset: BigInt(o), key: m.key, eventId: m.eventId, value: m.value, headers: m.headers ?? {} };
      }
    },
    async producer() {
      return { send: async (_topic: string, messages: BusMessage[]) => void records.push(...messages), close: async () => {} };
    },
  } as unknown as Bus & { records: BusMessage[] };
}

async function kurrent() {
  return KurrentDbEventStore.withClient(new SimKurrentClient() as unknown as KurrentDBClient, 'kurrentdb://sim:2113?tls=false');
}

describe('following a KurrentDB store by position (simulated client)', () => {
  it('the outbox publishes the log, then resumes after its checkpoint with only what came since', async () => {
    const store = await kurrent();
    for (let i = 0; i < 5; i++) await store.appendToStream(`s-${i % 2}`, [ev(i)]);
    const bus = memoryBus();
    const first = await publishLog(bus, store, 'tapedeck.log');
    expect(first).toMatchObject({ checkpoint: -1, published: 5 });
    for (let i = 5; i < 8; i++) await store.appendToStream('s-0', [ev(i)]);
    const second = await publishLog(bus, store, 'tapedeck.log');
    expect(second).toMatchObject({ checkpoint: first.head, published: 3 });
    const positions = (await collect(store.readAll())).map((e) => String(e.position));
    expect(bus.records.map((m) => m.headers![POSITION_HEADER])).toEqual(positions);
    expect(await publishLog(bus, store, 'tapedeck.log')).toMatchObject({ published: 0 });
    await store.close();
  });

  it("the server's live projections catch up, then follow the log from their checkpoint", async () => {
    const t = tmpDir('td-kdb-live-');
    const store = await kurrent();
    for (let i = 0; i < 4; i++) await store.appendToStream('notes', [ev(i)]);
    const live = await LiveProjections.open(store, path.join(t.dir, 'serve.duckdb'));
    try {
      await live.catchUp();
      expect(live.lastError).toBeNull();
      expect(live.position).toBe(await store.headPosition());
      await store.appendToStream('notes', [ev(4), ev(5)]);
      await live.catchUp();
      expect(live.lastError).toBeNull();
      expect(live.position).toBe(await store.headPosition());
      expect(live.projectedEvents).toBe(6);
    } finally {
      await live.close();
      await store.close();
      t.cleanup();
    }
  });
});
