import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../../domain/core/errors.js';
import { decodeClientMessage, decodeVenueMessage, encodeOuch, encodedLength } from '../../../src/venues/nasdaq/ouch42/codec.js';
import { CLIENT_LAYOUTS, VENUE_LAYOUTS, baseLength, type Accepted, type EnterOrder, type Executed } from '../../../src/venues/nasdaq/ouch42/messages.js';
import { validateOuch } from '../../../src/venues/nasdaq/ouch42/validate.js';
import { clientMessageArb, layoutArb, venueMessageArb } from './arbitraries.js';

function thrown(fn: () => unknown): TapedeckError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TapedeckError) return e;
    throw new Error(`expected a TapedeckError, got ${String(e)}`);
  }
  throw new Error('expected a TapedeckError, nothing was thrown');
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const u32be = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u64be = (n: bigint) => [...u32be(Number(n >> 32n)), ...u32be(Number(n & 0xffffffffn))];

describe('OUCH 4.2 layouts', () => {
  it('have the lengths of the notes (type byte included)', () => {
    const lengths = Object.fromEntries([...CLIENT_LAYOUTS, ...VENUE_LAYOUTS].map((l) => [`${l.kind}`, baseLength(l)]));
    expect(lengths).toEqual({
      EnterOrder: 49, ReplaceOrder: 47, CancelOrder: 19, ModifyOrder: 20, TradeNow: 15,
      SystemEvent: 10, Accepted: 65, Replaced: 79, Canceled: 28, AiqCanceled: 37, Executed: 40,
      ExecutedWithReferencePrice: 45, BrokenTrade: 32, TradeCorrection: 41, Rejected: 24, CancelPending: 23,
      CancelReject: 23, OrderPriorityUpdate: 36, OrderModified: 28,
    });
  });

  it('Enter Order encodes to the hand-assembled bytes', () => {
    const msg: EnterOrder = {
      kind: 'EnterOrder', orderToken: 'TOK1', side: 'B', shares: 100, stock: 'AAPL', priceTicks: 1_234_500,
      timeInForceSeconds: 99_998, firm: 'FIRM', display: 'Y', capacity: 'A', intermarketSweepEligibility: 'N',
      minimumQuantity: 0, crossType: 'N', customerType: ' ',
    };
    const expected = [
      ...ascii('O'), ...ascii('TOK1          '), ...ascii('B'), ...u32be(100), ...ascii('AAPL    '), ...u32be(1_234_500),
      ...u32be(99_998), ...ascii('FIRM'), ...ascii('Y'), ...ascii('A'), ...ascii('N'), ...u32be(0), ...ascii('N'), ...ascii(' '),
    ];
    expect(expected.length).toBe(49);
    expect([...encodeOuch(msg)]).toEqual(expected);
    expect(decodeClientMessage(new Uint8Array(expected))).toEqual(msg);
  });

  it('Executed decodes shares, price and match number from their offsets', () => {
    const bytes = new Uint8Array([
      ...ascii('E'), ...u64be(34_200_000_000_123n), ...ascii('ORD-7         '), ...u32be(300), ...u32be(99_900), ...ascii('R'), ...u64be(0x0102030405060708n),
    ]);
    const msg = decodeVenueMessage(bytes) as Executed;
    expect(msg).toEqual({
      kind: 'Executed', timestampNs: 34_200_000_000_123n, orderToken: 'ORD-7', executedShares: 300, executionPriceTicks: 99_900,
      liquidityFlag: 'R', matchNumber: 0x0102030405060708n,
    });
  });

  it('Accepted is read in both 4.2 revisions: 65 bytes (no BBO weight) and 66', () => {
    const base = [
      ...ascii('A'), ...u64be(1n), ...ascii('T'.padEnd(14)), ...ascii('S'), ...u32be(10), ...ascii('MSFT    '), ...u32be(5000),
      ...u32be(0), ...ascii('FRM1'), ...ascii('A'), ...u64be(77n), ...ascii('P'), ...ascii('Y'), ...u32be(5), ...ascii('N'), ...ascii('L'),
    ];
    const old = decodeVenueMessage(new Uint8Array(base)) as Accepted;
    expect(old.bboWeightIndicator).toBeNull();
    expect(old.orderReferenceNumber).toBe(77n);
    expect(old.orderState).toBe('L');
    const newer = decodeVenueMessage(new Uint8Array([...base, ...ascii('2')])) as Accepted;
    expect(newer.bboWeightIndicator).toBe('2');
    expect(encodeOuch(old).length).toBe(65);
    expect(encodeOuch(newer).length).toBe(66);
  });

  it('Order Modified (venue) and Modify Order (client) share the type byte M but decode by direction', () => {
    const venue = decodeVenueMessage(new Uint8Array([...ascii('M'), ...u64be(5n), ...ascii('X'.padEnd(14)), ...ascii('T'), ...u32be(9)]));
    expect(venue.kind).toBe('OrderModified');
    const client = decodeClientMessage(new Uint8Array([...ascii('M'), ...ascii('X'.padEnd(14)), ...ascii('T'), ...u32be(9)]));
    expect(client.kind).toBe('ModifyOrder');
  });
});

describe('OUCH 4.2 bad input', () => {
  it('an unknown type names the byte, the direction and offset', () => {
    const e = thrown(() => decodeVenueMessage(new Uint8Array([0x51, 1, 2]), { offset: 100 }));
    expect(e.code).toBe('OUCH_UNKNOWN_TYPE');
    expect(e.message).toContain("'Q' (0x51)");
    expect(e.message).toContain('venue');
    expect(e.where).toMatchObject({ offset: 100, field: 'type' });
    // 'O' is a client type, not a venue one.
    expect(thrown(() => decodeVenueMessage(encodeOuch({ kind: 'TradeNow', orderToken: 'x' }))).code).toBe('OUCH_UNKNOWN_TYPE');
  });

  it('a wrong length names the message, both lengths and where it ended', () => {
    const e = thrown(() => decodeVenueMessage(new Uint8Array(41).fill(0x45 /* E */, 0, 1)));
    expect(e.code).toBe('OUCH_LENGTH');
    expect(e.message).toBe("Executed ('E' (0x45)) is 40 bytes long, got 41");
    const short = thrown(() => decodeVenueMessage(new Uint8Array([0x41, 0, 0]), { offset: 10 }));
    expect(short.message).toContain('65 or 66');
    expect(short.where).toMatchObject({ offset: 13, field: 'length' });
  });

  it('empty input is an error, not a crash', () => {
    expect(thrown(() => decodeClientMessage(new Uint8Array(0))).code).toBe('OUCH_EMPTY');
  });

  it('encoding rejects out-of-range fields, naming the field', () => {
    const good: EnterOrder = {
      kind: 'EnterOrder', orderToken: 'A', side: 'B', shares: 1, stock: 'X', priceTicks: 1, timeInForceSeconds: 0, firm: '',
      display: 'Y', capacity: 'A', intermarketSweepEligibility: 'N', minimumQuantity: 0, crossType: 'N', customerType: ' ',
    };
    expect(thrown(() => encodeOuch({ ...good, orderToken: 'X'.repeat(15) })).where).toMatchObject({ field: 'EnterOrder.orderToken' });
    expect(thrown(() => encodeOuch({ ...good, shares: 2 ** 32 })).where).toMatchObject({ field: 'EnterOrder.shares' });
    expect(thrown(() => encodeOuch({ ...good, shares: 1.5 })).code).toBe('OUCH_FIELD');
    expect(thrown(() => encodeOuch({ ...good, side: 'BB' })).where).toMatchObject({ field: 'EnterOrder.side' });
    expect(thrown(() => encodeOuch({ ...good, stock: 'Ā' })).code).toBe('OUCH_FIELD');
  });

  it('validateOuch reports unknown codes and accepts known ones', () => {
    const good: EnterOrder = {
      kind: 'EnterOrder', orderToken: 'A1', side: 'B', shares: 1, stock: 'X', priceTicks: 1, timeInForceSeconds: 0, firm: 'F',
      display: 'Y', capacity: 'A', intermarketSweepEligibility: 'N', minimumQuantity: 0, crossType: 'N', customerType: ' ',
    };
    expect(validateOuch(good)).toBeNull();
    const bad = validateOuch({ ...good, side: 'Q' });
    expect(bad?.code).toBe('OUCH_CODE');
    expect(bad?.where).toMatchObject({ field: 'EnterOrder.side' });
    expect(validateOuch({ kind: 'Rejected', timestampNs: 0n, orderToken: 'A', reason: '?' })?.where).toMatchObject({ field: 'Rejected.reason' });
  });
});

describe('OUCH 4.2 properties', () => {
  it('encode then decode is the identity for every venue message type', () => {
    for (const layout of VENUE_LAYOUTS) {
      fc.assert(
        fc.property(layoutArb(layout), (msg) => {
          const bytes = encodeOuch(msg);
          expect(bytes.length).toBe(encodedLength(msg));
          expect(decodeVenueMessage(bytes)).toEqual(msg);
        }),
        { numRuns: 150 },
      );
    }
  });

  it('encode then decode is the identity for every client message type', () => {
    for (const layout of CLIENT_LAYOUTS) {
      fc.assert(fc.property(layoutArb(layout), (msg) => { expect(decodeClientMessage(encodeOuch(msg))).toEqual(msg); }), { numRuns: 150 });
    }
  });

  it('any bytes of a valid type and length decode, and re-encode to the same bytes', () => {
    const layouts = [...VENUE_LAYOUTS.map((l) => ['venue', l] as const), ...CLIENT_LAYOUTS.map((l) => ['client', l] as const)];
    fc.assert(
      fc.property(fc.constantFrom(...layouts), fc.boolean(), fc.uint8Array({ minLength: 80, maxLength: 80 }), ([dir, layout], tail, body) => {
        const len = baseLength(layout) + (tail && layout.optionalTail ? 1 : 0);
        const bytes = body.slice(0, len);
        bytes[0] = layout.type.charCodeAt(0);
        const msg = dir === 'venue' ? decodeVenueMessage(bytes) : decodeClientMessage(bytes);
        expect(msg.kind).toBe(layout.kind);
        expect([...encodeOuch(msg)]).toEqual([...bytes]);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes never crash the decoders: a message or a TapedeckError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        for (const decode of [decodeVenueMessage, decodeClientMessage]) {
          try {
            decode(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(TapedeckError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mixed random messages round-trip in both directions', () => {
    fc.assert(fc.property(venueMessageArb, (m) => { expect(decodeVenueMessage(encodeOuch(m))).toEqual(m); }), { numRuns: 200 });
    fc.assert(fc.property(clientMessageArb, (m) => { expect(decodeClientMessage(encodeOuch(m))).toEqual(m); }), { numRuns: 200 });
  });
});
