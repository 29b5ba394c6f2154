/**
 * `tapedeck bench store`: append, read and group-commit throughput of the embedded store, with a
 * same-run baseline of plain sequential file writes of the same bytes at the same fsync cadence,
 * so the ratio shows what the log costs over the disk itself.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedEventStore } from '../store/embedded/store.js';
import type { EventData } from '../store/port.js';

export interface StoreBenchOptions {
  batches: number;
  batchSize: number;
  writers: number;
  groupCommitSeconds: number;
  dir?: string;
}

function nowSec(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** A pool of tick-sized payloads (~50 bytes of JSON), encoded once by the producer (the hot-path way). */
const PAYLOADS = Array.from({ length: 977 }, (_, n) => Buffer.from(`{"p":${6523145 + n},"q":${100 + (n % 31)},"s":"${n & 1 ? 'b' : 'a'}","t":${1634050000123 + n}}`));
const ID_PREFIX = randomUUID().slice(0, 24);

/** Builds one batch: unique UUID-shaped ids from a counter, payloads from the pool. Counted in the timing. */
function tickBatch(batch: number, size: number): EventData[] {
  const out: EventData[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const n = batch * size + i;
    out[i] = { id: ID_PREFIX + n.toString(16).padStart(12, '0'), type: 'Tick', data: PAYLOADS[n % PAYLOADS.length]!, contentType: 'application/json' };
  }
  return out;
}

export async function runStoreBench(opts: StoreBenchOptions): Promise<Record<string, unknown>> {
  const root = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-bench-'));
  try {
    // 1. Batched appends: one atomic append, and one fdatasync, per batch of `batchSize` events.
    //    Sequential: each append awaited before the next is built. Pipelined: the producer builds and
    //    encodes batch k+1 while batch k syncs (two in flight), still one sync per batch (counted).
    const eventBytes = PAYLOADS.reduce((a, p) => a + p.length, 0) / PAYLOADS.length;
    const seqDir = path.join(root, 'append-seq');
    const seqStore = await EmbeddedEventStore.open(seqDir, { durability: 'fsync' });
    const seqBatches = Math.max(1, Math.floor(opts.batches / 4));
    let t0 = nowSec();
    for (let b = 0; b < seqBatches; b++) await seqStore.appendToStream('ticks-BTCUSDT', tickBatch(b, opts.batchSize));
    const seqSec = nowSec() - t0;
    await seqStore.close();

    const appendDir = path.join(root, 'append');
    const store = await EmbeddedEventStore.open(appendDir, { durability: 'fsync' });
    t0 = nowSec();
    let inFlight: Promise<unknown> = Promise.resolve();
    for (let b = 0; b < opts.batches; b++) {
      const next = store.appendToStream('ticks-BTCUSDT', tickBatch(b, opts.batchSize));
      await inFlight;
      inFlight = next;
    }
    await inFlight;
    const appendSec = nowSec() - t0;
    const syncs = store.stats().syncs;
    const events = opts.batches * opts.batchSize;
    const logBytes = fs.readdirSync(path.join(appendDir, 'segments')).reduce((a, f) => a + fs.statSync(path.join(appendDir, 'segments', f)).size, 0);

    // 2. Sequential read through the allocation-light cursor, then as decoded objects.
    let seen = 0;
    let checksum = 0;
    const t1 = nowSec();
    store.scan(0, (c) => {
      seen++;
      checksum += c.position + c.dataEnd - c.dataStart;
    });
    const readSec = nowSec() - t1;
    if (seen !== events) throw new Error(`read ${seen} of ${events} events`);
    let objects = 0;
    const t2 = nowSec();
    for await (const e of store.readAll({ maxCount: Math.min(events, 500_000) })) {
      objects++;
      checksum += e.position;
    }
    const readObjSec = nowSec() - t2;
    await store.close();

    // 3. Group commit: many writers, one durable single-event append each at a time.
    const gcStore = await EmbeddedEventStore.open(path.join(root, 'group'), { durability: 'fsync' });
    let gcAppends = 0;
    const deadline = nowSec() + opts.groupCommitSeconds;
    const t3 = nowSec();
    await Promise.all(
      Array.from({ length: opts.writers }, async (_, w) => {
        const data = Buffer.from(`{"w":${w},"p":6523145,"q":100}`);
        while (nowSec() < deadline) {
          await gcStore.appendToStream(`writer-${w}`, [{ id: randomUUID(), type: 'Tick', data, contentType: 'application/json' }]);
          gcAppends++;
        }
      }),
    );
    const gcSec = nowSec() - t3;
    await gcStore.close();

    // 4. Baseline: the same number of bytes written sequentially, one fdatasync per batch-sized chunk.
    const chunk = Buffer.alloc(Math.ceil(logBytes / opts.batches), 0x5a);
    const fd = fs.openSync(path.join(root, 'raw.bin'), 'w');
    const t4 = nowSec();
    for (let b = 0; b < opts.batches; b++) {
      fs.writeSync(fd, chunk);
      fs.fdatasyncSync(fd);
    }
    const rawSec = nowSec() - t4;
    fs.closeSync(fd);

    return {
      bench: 'store',
      events,
      batchSize: opts.batchSize,
      eventDataBytes: Math.round(eventBytes),
      logBytesPerEvent: Math.round(logBytes / events),
      appendEventsPerSec: Math.round(events / appendSec),
      appendSyncsPerBatch: Number((syncs / opts.batches).toFixed(3)),
      appendSequentialEventsPerSec: Math.round((seqBatches * opts.batchSize) / seqSec),
      appendBytesPerSec: Math.round(logBytes / appendSec),
      rawWriteBytesPerSec: Math.round((chunk.length * opts.batches) / rawSec),
      appendVsRawRatio: Number((logBytes / appendSec / ((chunk.length * opts.batches) / rawSec)).toFixed(3)),
      readEventsPerSec: Math.round(events / readSec),
      readObjectsPerSec: Math.round(objects / readObjSec),
      groupCommitWriters: opts.writers,
      groupCommitAppendsPerSec: Math.round(gcAppends / gcSec),
      durability: 'one durable write per batch (append) or per group (group commit): O_DSYNC where the platform has it, else write + fdatasync; baseline: write + fdatasync per batch-sized chunk',
      checksum,
    };
  } finally {
    if (!opts.dir) fs.rmSync(root, { recursive: true, force: true });
  }
}
