/**
 * The gateway: market data normalized once (the venue adapter's catalogue events, raw bytes kept) and
 * published to the bus, one partition per instrument, each record keyed by its instrument and carrying
 * its event id. Every partition opens with the source's survey (its instruments, scales and activity),
 * so a worker resolves its run config exactly as `tapedeck replay` does on the same source.
 */
import { createHash } from 'node:crypto';
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { encodeEvent, instrumentOf } from '../bus/codec.js';
import type { Bus, BusMessage } from '../bus/port.js';
import { openReplaySource, surveySource, type SourceSpec, type SourceSurvey } from './sources.js';

/** The header that marks a survey record (every other record is an event). */
export const KIND_HEADER = 'tapedeck-kind';

export interface SurveyRecord {
  source: string;
  partitions: number;
  instruments: Array<{ instrument: string; venue: string; symbol: string; priceScale: number; qtyScale: number; events: number; partition: number }>;
}

export function defaultTopic(venue: string): string {
  return `tapedeck.md.${venue.toLowerCase()}`;
}

export function surveyFromRecord(r: SurveyRecord): SourceSurvey {
  return { instruments: new Map(r.instruments.map((i) => [i.instrument, { venue: i.venue, symbol: i.symbol, priceScale: i.priceScale, qtyScale: i.qtyScale, events: i.events }])) };
}

export interface GatewayOptions {
  bus: Bus;
  source: SourceSpec;
  venue: string;
  topic: string;
  /** Default: one per instrument. */
  partitions?: number;
  /** Records per acknowledged send. */
  batch?: number;
  onProgress?: (events: number) => void;
}

export interface GatewaySummary {
  topic: string;
  partitions: number;
  events: number;
  byInstrument: Record<string, { partition: number; events: number }>;
}

/** A partition for keys the survey did not list (a stable hash of the key). */
function hashPartition(key: string, partitions: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % partitions;
}

export async function runGateway(o: GatewayOptions): Promise<GatewaySummary> {
  const survey = await surveySource(await openReplaySource(o.source));
  const sorted = [...survey.instruments.keys()].sort();
  for (const id of sorted) {
    const v = survey.instruments.get(id)!.venue;
    if (v !== o.venue) throw new TapedeckError('VENUE_MISMATCH', `${o.source.label} holds ${v} market data (${id}), not ${o.venue}`, { field: '--venue' });
  }
  const partitions = o.partitions ?? Math.max(1, sorted.length);
  const partitionOf = new Map(sorted.map((id, i) => [id, i % partitions]));
  const record: SurveyRecord = {
    source: o.source.label,
    partitions,
    instruments: sorted.map((id) => ({ instrument: id, ...survey.instruments.get(id)!, partition: partitionOf.get(id)! })),
  };
  await o.bus.ensureTopic(o.topic, partitions);
  const producer = await o.bus.producer();
  const byInstrument: GatewaySummary['byInstrument'] = {};
  let events = 0;
  try {
    const value = Buffer.from(JSON.stringify(record), 'utf8');
    const surveys: BusMessage[] = [];
    for (let p = 0; p < partitions; p++) {
      surveys.push({ key: `survey:${p}`, eventId: uuidFromName(o.topic, `survey:${o.source.label}:${p}`), value, partition: p, headers: { [KIND_HEADER]: 'survey' } });
    }
    await producer.send(o.topic, surveys);
    const batch = o.batch ?? 500;
    let buf: BusMessage[] = [];
    const source: AsyncIterable<AnyEnvelope> = await openReplaySource(o.source);
    for await (const env of source) {
      const inst = instrumentOf(env);
      const key = inst ?? env.stream;
      const partition = partitionOf.get(key) ?? hashPartition(key, partitions);
      buf.push(encodeEvent(env, partition));
      if (inst !== null) {
        const s = (byInstrument[inst] ??= { partition, events: 0 });
        s.events++;
      }
      events++;
      if (buf.length >= batch) {
        await producer.send(o.topic, buf);
        buf = [];
        o.onProgress?.(events);
      }
    }
    await producer.send(o.topic, buf);
    o.onProgress?.(events);
  } finally {
    await producer.close();
  }
  return { topic: o.topic, partitions, events, byInstrument };
}
