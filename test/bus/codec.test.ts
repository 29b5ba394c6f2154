/**
 * Events on the bus without a broker: what the gateway encodes the worker decodes to the same envelope
 * (raw bytes included), and a hostile record is refused with one line naming topic, partition and offset.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envelopeToStored, type AnyEnvelope } from '../../domain/events/envelope.js';
import { decodeEvent, encodeEvent } from '../../src/bus/codec.js';
import { parseBrokers } from '../../src/bus/kafka.js';
import type { ConsumedMessage } from '../../src/bus/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { repoRoot } from '../helpers/tmp.js';

const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');

function consumed(value: Buffer | string, eventId: string, offset = 7n): ConsumedMessage {
  return { topic: 't', partition: 2, offset, key: 'k', eventId, value: Buffer.isBuffer(value) ? value : Buffer.from(value), headers: { 'event-id': eventId } };
}

describe('the bus codec', () => {
  it('round-trips every event of the Binance capture, keyed by instrument, raw bytes kept', async () => {
    let n = 0;
    for await (const env of captureEventSource(CAPTURE) as AsyncIterable<AnyEnvelope>) {
      const m = encodeEvent(env, 3);
      expect(m.partition).toBe(3);
      expect(m.eventId).toBe(env.id);
      expect(m.key).toBe((env.data as { instrument?: string }).instrument ?? env.stream);
      const back = decodeEvent(consumed(m.value, m.eventId));
      expect(back.stream).toBe(env.stream);
      expect(envelopeToStored(back)).toEqual(envelopeToStored(env));
      n++;
    }
    expect(n).toBe(266);
  });

  it('refuses hostile records, naming where they are', async () => {
    let env: AnyEnvelope | undefined;
    for await (const e of captureEventSource(CAPTURE) as AsyncIterable<AnyEnvelope>) if (e.type === 'QuoteUpdated') (env ??= e);
    const good = JSON.parse(encodeEvent(env!).value.toString());
    const cases: Array<[string, string, string]> = [
      ['{not json', env!.id, 'not JSON'],
      ['[1,2]', env!.id, 'not a JSON object'],
      [JSON.stringify({ ...good, extra: 1 }), env!.id, 'unknown key "extra"'],
      [JSON.stringify(good), '00000000-0000-4000-8000-000000000000', 'differs from the record'],
      [JSON.stringify({ ...good, type: 'NoSuchEvent' }), env!.id, 'unknown event type'],
      [JSON.stringify({ ...good, data: { ...good.data, bidPriceTicks: 'x' } }), env!.id, 'QuoteUpdated'],
      [JSON.stringify({ ...good, metadata: 'x' }), env!.id, 'metadata'],
    ];
    for (const [value, id, message] of cases) {
      let err: any;
      try {
        decodeEvent(consumed(value, id));
      } catch (e) {
        err = e;
      }
      expect(err?.message, value).toContain(message);
      expect(err.describe()).toContain('partition 2');
      expect(err.where.kafkaOffset).toBe('7');
    }
  });

  it('validates --kafka', () => {
    expect(parseBrokers('127.0.0.1:9092, localhost:9093')).toEqual(['127.0.0.1:9092', 'localhost:9093']);
    for (const bad of ['', 'localhost', 'host:0', 'host:70000', 'a b:1']) expect(() => parseBrokers(bad)).toThrow(/--kafka/);
  });
});
