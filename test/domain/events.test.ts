/**
 * The event model: exact serialization (envelope → stored JSON → envelope is the identity), fixed point,
 * errors that name the field, and the hashing and id primitives the pure domain relies on.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, canonicalJson } from '../../domain/core/canonical.js';
import { TapedeckError } from '../../domain/core/errors.js';
import { formatDecimal, parseDecimal, rescale } from '../../domain/core/fixed.js';
import { sha256Hex, uuidFromName, UUID_RE } from '../../domain/core/sha256.js';
import { CATALOG, type EventType } from '../../domain/events/catalog.js';
import { envelopeToStored, makeEvent, parsePayload, storedToEnvelope, TYPES_WITH_BIGINT, type AnyEnvelope } from '../../domain/events/envelope.js';

const safeInt = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const lots = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const ns = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });
const money = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });
const uuid = fc.uuid().map((u) => u.toLowerCase());

const payloads: Partial<Record<EventType, fc.Arbitrary<unknown>>> = {
  TradeReported: fc.record({
    venue: fc.constant('BINANCE'), instrument: fc.constant('BINANCE:BTCUSDT'), tradeId: fc.string({ minLength: 1 }), priceTicks: safeInt, qtyLots: fc.nat(),
    priceScale: fc.integer({ min: 0, max: 18 }), qtyScale: fc.integer({ min: 0, max: 18 }), aggressor: fc.constantFrom('buy', 'sell', 'unknown'),
  }),
  BookSnapshotted: fc.record({
    venue: fc.constant('KRAKEN'), instrument: fc.constant('KRAKEN:XBT/USD'), bids: fc.array(fc.tuple(safeInt, fc.nat())), asks: fc.array(fc.tuple(safeInt, fc.nat())),
    priceScale: fc.integer({ min: 0, max: 18 }), qtyScale: fc.integer({ min: 0, max: 18 }),
  }),
  OrderFilled: fc.record({
    orderId: uuid, venue: fc.constant('NASDAQ'), instrument: fc.constant('NASDAQ:AAPL'), fillId: fc.string({ minLength: 1 }), side: fc.constantFrom('buy', 'sell'),
    priceTicks: safeInt, qtyLots: lots, priceScale: fc.constant(4), qtyScale: fc.constant(0), fee: money, feeScale: fc.integer({ min: 0, max: 18 }),
    feeCurrency: fc.constant('USD'), liquidity: fc.constantFrom('maker', 'taker', 'unknown'), leavesLots: fc.nat(),
  }),
  BalanceReported: fc.record({ venue: fc.constant('COINBASE'), currency: fc.constant('USD'), total: money, available: money, scale: fc.integer({ min: 0, max: 18 }) }),
  RunEnded: fc.record({
    runId: uuid, outcome: fc.constantFrom('completed', 'failed', 'stopped', 'halted'), events: fc.nat(), decisions: fc.nat(), decisionsHash: fc.stringMatching(/^[0-9a-f]{0,64}$/),
    dataRange: fc.record({ fromNs: fc.option(ns, { nil: null }), toNs: fc.option(ns, { nil: null }) }),
  }),
  RunAbandoned: fc.record({
    runId: uuid, reason: fc.string(), lastPosition: fc.nat(), lastRevision: fc.nat(),
    owner: fc.record({ pid: fc.integer({ min: 1, max: 4_194_304 }), host: fc.string() }),
  }),
};

function envelope(type: EventType, data: unknown, raw: Uint8Array | null, times: [bigint, bigint], ids: [string, string | null, string | null]): AnyEnvelope {
  return makeEvent({
    id: ids[0], type, stream: 'test-stream', eventTimeNs: times[0], receiveTimeNs: times[1], causationId: ids[1], correlationId: ids[2],
    data: parsePayload(type, data) as never, ...(raw ? { raw: { format: 'itch50' as const, bytes: raw } } : {}),
  }) as AnyEnvelope;
}

describe('event serialization', () => {
  it('round-trips exactly through the stored JSON form, bigints, bytes and all', () => {
    const arb = fc.oneof(...Object.entries(payloads).map(([type, p]) => p!.map((data) => [type as EventType, data] as const)));
    fc.assert(
      fc.property(arb, fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }), fc.tuple(ns, ns), fc.tuple(uuid, fc.option(uuid, { nil: null }), fc.option(uuid, { nil: null })), ([type, data], raw, times, ids) => {
        const env = envelope(type, data, raw, times, ids);
        const text = JSON.stringify(envelopeToStored(env));
        const back = storedToEnvelope('test-stream', JSON.parse(text));
        expect(back).toEqual(env);
        expect(canonicalJson(back)).toBe(canonicalJson(env));
      }),
      { numRuns: 300 },
    );
  });

  it('names the field path of an invalid payload', () => {
    const bad = { venue: 'BINANCE', instrument: 'BINANCE:BTCUSDT', tradeId: 't1', priceTicks: 1.5, qtyLots: 1, priceScale: 2, qtyScale: 2, aggressor: 'buy' };
    expect(() => parsePayload('TradeReported', bad)).toThrow(expect.objectContaining({ code: 'EVENT_INVALID', where: expect.objectContaining({ field: 'data.priceTicks' }) }));
    const nested = { venue: 'KRAKEN', instrument: 'KRAKEN:XBT/USD', bids: [[1, 2], [3, -1]], asks: [], priceScale: 1, qtyScale: 1 };
    expect(() => parsePayload('BookSnapshotted', nested)).toThrow(expect.objectContaining({ where: expect.objectContaining({ field: 'data.bids.1.1' }) }));
    expect(() => storedToEnvelope('s', { id: 'x', type: 'Nope', data: {}, metadata: {} })).toThrow(expect.objectContaining({ code: 'EVENT_UNKNOWN_TYPE' }));
  });

  it('lists exactly the event types whose schemas can hold a bigint', () => {
    const holdsBigint = (s: unknown): boolean => {
      const def = (s as { _zod: { def: Record<string, any> } })._zod.def;
      switch (def.type) {
        case 'bigint': return true;
        case 'object': return Object.values(def.shape).some(holdsBigint);
        case 'union': return def.options.some(holdsBigint);
        case 'optional': case 'nullable': case 'default': case 'readonly': return holdsBigint(def.innerType);
        case 'array': return holdsBigint(def.element);
        case 'tuple': return def.items.some(holdsBigint);
        case 'record': return holdsBigint(def.valueType);
        case 'pipe': return holdsBigint(def.in) || holdsBigint(def.out);
        default: return false;
      }
    };
    const found = Object.entries(CATALOG).filter(([, e]) => holdsBigint(e.schema)).map(([t]) => t).sort();
    expect(found).toEqual([...TYPES_WITH_BIGINT].sort());
  });
});

describe('fixed point', () => {
  it('parses and formats decimals exactly, never rounding silently', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 18 }), (m, scale) => {
        expect(parseDecimal(formatDecimal(m, scale), scale)).toBe(m);
        expect(rescale(rescale(m, scale, scale + 3), scale + 3, scale)).toBe(m);
      }),
    );
    expect(parseDecimal('12.3400', 2)).toBe(1234n);
    expect(() => parseDecimal('12.345', 2, 'price')).toThrow(expect.objectContaining({ code: 'FIXED_PRECISION' }));
    expect(() => parseDecimal('1e5', 2)).toThrow(TapedeckError);
    expect(rescale(125n, 2, 1, 'half-even')).toBe(12n);
    expect(rescale(135n, 2, 1, 'half-even')).toBe(14n);
    expect(() => rescale(125n, 2, 1)).toThrow(expect.objectContaining({ code: 'FIXED_INEXACT' }));
  });
});

describe('hashing and ids in the pure domain', () => {
  it('sha256 agrees with node:crypto, and base64 round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
      }),
    );
  });

  it('derives the same UUID from the same name, and different ones from different names', () => {
    const a = uuidFromName('binance-trade', 'BTCUSDT:123');
    expect(a).toMatch(UUID_RE);
    expect(a[14]).toBe('8'); // RFC 9562 version 8
    expect(uuidFromName('binance-trade', 'BTCUSDT:123')).toBe(a);
    expect(uuidFromName('binance-trade', 'BTCUSDT:124')).not.toBe(a);
    expect(uuidFromName('kraken-trade', 'BTCUSDT:123')).not.toBe(a);
  });
});
