/**
 * The outbox: the store's log, in global order, streamed to one topic (one partition, so order is the
 * log's), for projections and dashboards on other machines. Each record is keyed by its stream and
 * carries the event id and its store position in headers. Resumable: the checkpoint is the position
 * in the topic's last record, so a second run (or one after a crash or a broker restart) continues
 * after it; with the idempotent producer, nothing is lost or sent twice.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import type { EventStore, RecordedEvent } from '../store/port.js';
import type { Bus, BusMessage } from './port.js';

export const POSITION_HEADER = 'store-position';

export interface PublishSummary {
  topic: string;
  /** Position the topic held before this run (-1: empty). */
  checkpoint: number;
  published: number;
  /** Position the topic holds now. */
  head: number;
}

export function encodeRecorded(e: RecordedEvent): BusMessage {
  const body = { stream: e.stream, revision: e.revision, position: e.position, id: e.id, type: e.type, metadata: e.metadata, ...(e.isJson ? { data: e.data } : { dataBase64: Buffer.from(e.data as Uint8Array).toString('base64') }) };
  return { key: e.stream, eventId: e.id, value: Buffer.from(JSON.stringify(body), 'utf8'), partition: 0, headers: { [POSITION_HEADER]: String(e.position) } };
}

/** The store position of the topic's last record, or -1 when the topic is empty. */
export async function outboxCheckpoint(bus: Bus, topic: string): Promise<number> {
  const end = (await bus.endOffsets(topic)).get(0) ?? 0n;
  if (end === 0n) return -1;
  for await (const m of bus.readPartition(topic, 0, end - 1n)) {
    const p = Number(m.headers[POSITION_HEADER]);
    if (!Number.isSafeInteger(p) || p < 0) throw new TapedeckError('BUS_RECORD_INVALID', `the last record of ${topic} has no valid ${POSITION_HEADER} header: is it a tapedeck outbox topic?`, { topic, kafkaOffset: m.offset.toString() });
    return p;
  }
  throw new TapedeckError('BUS_UNAVAILABLE', `could not read the last record of ${topic}`, { topic });
}

export async function publishLog(bus: Bus, store: EventStore, topic: string, batch = 1000, onProgress?: (n: number) => void): Promise<PublishSummary> {
  await bus.ensureTopic(topic, 1);
  const checkpoint = await outboxCheckpoint(bus, topic);
  const producer = await bus.producer();
  let published = 0;
  let head = checkpoint;
  try {
    let buf: BusMessage[] = [];
    // From the checkpoint itself, a position the store gave (KurrentDB's are sparse: checkpoint + 1 would
    // point into the middle of a record); the read includes it, so it is skipped.
    for await (const e of store.readAll({ fromPosition: checkpoint < 0 ? 'start' : checkpoint })) {
      if (e.position <= checkpoint) continue;
      buf.push(encodeRecorded(e));
      head = e.position;
      if (buf.length >= batch) {
        await producer.send(topic, buf);
        published += buf.length;
        buf = [];
        onProgress?.(published);
      }
    }
    await producer.send(topic, buf);
    published += buf.length;
  } finally {
    await producer.close();
  }
  return { topic, checkpoint, published, head };
}
