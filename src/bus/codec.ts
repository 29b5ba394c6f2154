/**
 * Events on the bus: the value is the stored shape (KurrentDB's EventData: id, type, JSON data, JSON
 * metadata with times, causation, correlation and the raw venue bytes) plus the event's stream, as
 * UTF-8 JSON; the key is the instrument (or the stream when an event has none); the `event-id` header
 * repeats the id. What comes off the bus is hostile until validated: decode checks the JSON, the id
 * header, the type and the payload against the catalogue, and names the topic, partition and offset.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import { envelopeToStored, storedToEnvelope, type AnyEnvelope } from '../../domain/events/envelope.js';
import type { BusMessage, ConsumedMessage } from './port.js';

/** The instrument an event is about, or null (run events, kill switches). */
export function instrumentOf(env: AnyEnvelope): string | null {
  const i = (env.data as { instrument?: unknown }).instrument;
  return typeof i === 'string' ? i : null;
}

export function encodeEvent(env: AnyEnvelope, partition?: number): BusMessage {
  const stored = envelopeToStored(env);
  const value = Buffer.from(JSON.stringify({ stream: env.stream, id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata }), 'utf8');
  return { key: instrumentOf(env) ?? env.stream, eventId: env.id, value, ...(partition !== undefined ? { partition } : {}) };
}

export function decodeEvent(m: ConsumedMessage): AnyEnvelope {
  const where = { topic: m.topic, partition: m.partition, kafkaOffset: m.offset.toString() };
  let v: unknown;
  try {
    v = JSON.parse(m.value.toString('utf8'));
  } catch (e) {
    throw new TapedeckError('BUS_RECORD_INVALID', `record is not JSON: ${(e as Error).message}`, where);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TapedeckError('BUS_RECORD_INVALID', 'record is not a JSON object', where);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['stream', 'id', 'type', 'data', 'metadata'].includes(k)) throw new TapedeckError('BUS_RECORD_INVALID', `unknown key "${k}"`, { ...where, field: k });
  if (typeof o.stream !== 'string' || o.stream === '') throw new TapedeckError('BUS_RECORD_INVALID', 'stream must be a non-empty string', { ...where, field: 'stream' });
  if (typeof o.id !== 'string' || typeof o.type !== 'string') throw new TapedeckError('BUS_RECORD_INVALID', 'id and type must be strings', { ...where, field: 'id' });
  if (o.id !== m.eventId) throw new TapedeckError('BUS_RECORD_INVALID', `event-id header ${m.eventId || '(none)'} differs from the record's id ${o.id}`, { ...where, field: 'event-id' });
  if (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata)) throw new TapedeckError('BUS_RECORD_INVALID', 'metadata must be an object', { ...where, field: 'metadata' });
  return storedToEnvelope(o.stream, { id: o.id, type: o.type, data: o.data, metadata: o.metadata as Record<string, unknown> }, where);
}
