import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { decodeMessage, encodeMessage, encodeMessageInto } from '../../src/venues/nasdaq/itch/codec.js';
import { ITCH_MESSAGE_LENGTHS, ITCH_MESSAGE_TYPES, layoutOf, type ItchMessage } from '../../src/venues/nasdaq/itch/messages.js';
import { ItchListenerBase, ItchParser, type ItchListener } from '../../src/venues/nasdaq/itch/parser.js';
import { ItchMessageView } from '../../src/venues/nasdaq/itch/views.js';
import { datasetsDir } from '../helpers/tmp.js';
import { messageArb, rawMessageArb } from './arbitraries.js';

const snippets = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'itch/real_message_snippets.json'), 'utf8'));

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** The lengths in the spec notes' table, typed in independently of the layout table. */
const NOTES_LENGTHS: Record<string, number> = {
  S: 12, R: 39, H: 25, Y: 20, L: 26, V: 35, W: 12, K: 28, J: 35, h: 21, O: 48,
  A: 36, F: 40, E: 31, C: 36, X: 23, D: 19, U: 35, P: 44, Q: 40, B: 19, I: 50, N: 20,
};

/** Reads every field of the layout through the view, the way the property tests compare them. */
function viewValues(bytes: Uint8Array, offset: number): Record<string, unknown> {
  const v = new ItchMessageView().wrap(bytes, offset);
  const type = String.fromCharCode(v.messageType()) as ItchMessage['messageType'];
  const out: Record<string, unknown> = {
    messageType: type,
    stockLocate: v.stockLocate(),
    trackingNumber: v.trackingNumber(),
    timestamp: v.timestamp(),
  };
  const acc = v as unknown as Record<string, () => unknown>;
  for (const f of layoutOf(type).fields) {
    if (f.kind === 'u64' || f.kind === 'price8') {
      const big = acc[`${f.name}Big`]!.call(v) as bigint;
      out[f.name] = big;
      // The number twin must agree whenever the value is a safe integer.
      if (f.kind === 'u64' && big <= BigInt(Number.MAX_SAFE_INTEGER)) expect(acc[f.name]!.call(v)).toBe(Number(big));
    } else if (f.kind === 'char') {
      out[f.name] = String.fromCharCode(acc[f.name]!.call(v) as number);
    } else {
      out[f.name] = acc[f.name]!.call(v);
    }
  }
  return out;
}

describe('ITCH 5.0 layouts', () => {
  it('have the lengths of the spec notes for all 23 types', () => {
    expect(ITCH_MESSAGE_TYPES).toHaveLength(23);
    for (const t of ITCH_MESSAGE_TYPES) {
      expect(layoutOf(t).length, t).toBe(NOTES_LENGTHS[t]);
      expect(ITCH_MESSAGE_LENGTHS[t.charCodeAt(0)], t).toBe(NOTES_LENGTHS[t]);
    }
    const known = ITCH_MESSAGE_LENGTHS.reduce((n, l) => n + (l > 0 ? 1 : 0), 0);
    expect(known).toBe(23);
  });

  it('put the key payload fields at the offsets of the spec notes', () => {
    const at = (t: 'A' | 'F' | 'E' | 'C' | 'X' | 'D' | 'U' | 'P' | 'Q' | 'B', name: string) => layoutOf(t).fields.find((f) => f.name === name)!.offset;
    expect([at('A', 'orderReferenceNumber'), at('A', 'buySellIndicator'), at('A', 'shares'), at('A', 'stock'), at('A', 'price')]).toEqual([11, 19, 20, 24, 32]);
    expect(at('F', 'attribution')).toBe(36);
    expect([at('E', 'executedShares'), at('E', 'matchNumber'), at('C', 'printable'), at('C', 'executionPrice')]).toEqual([19, 23, 31, 32]);
    expect([at('X', 'cancelledShares'), at('D', 'orderReferenceNumber')]).toEqual([19, 11]);
    expect([at('U', 'newOrderReferenceNumber'), at('U', 'shares'), at('U', 'price')]).toEqual([19, 27, 31]);
    expect([at('P', 'stock'), at('P', 'price'), at('P', 'matchNumber')]).toEqual([24, 32, 36]);
    expect([at('Q', 'shares'), at('Q', 'stock'), at('Q', 'crossPrice'), at('Q', 'matchNumber'), at('Q', 'crossType')]).toEqual([11, 19, 27, 31, 39]);
    expect(at('B', 'matchNumber')).toBe(11);
  });
});

describe('real BX bytes (20191230.BX_ITCH_50) decode to the fields listed with them', () => {
  const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  for (const s of snippets.bx_20191230.messages as Array<{ label: string; framed_hex: string; decoded_independently: Record<string, unknown> }>) {
    it(s.label, () => {
      const framed = hex(s.framed_hex);
      const prefix = (framed[0]! << 8) | framed[1]!;
      expect(prefix).toBe(framed.length - 2);
      const m = decodeMessage(framed, 2, prefix) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(s.decoded_independently)) {
        if (k === 'timestamp_hms' || k === 'price') continue; // derived display values
        const name = k === 'type' ? 'messageType' : k === 'timestamp_ns' ? 'timestamp' : k === 'price_raw' ? 'price' : camel(k);
        const got = m[name];
        expect(got, name).toEqual(typeof got === 'bigint' ? BigInt(v as number) : v);
      }
      // The allocation-free view reads the same values, and re-encoding gives the same bytes.
      expect(viewValues(framed, 2)).toEqual(m);
      expect(Buffer.from(encodeMessage(m as unknown as ItchMessage)).toString('hex')).toBe(s.framed_hex.slice(4));
    });
  }

  it('the A message is USO at 12.9600 (price 129600 with 4 implied decimals)', () => {
    const a = snippets.bx_20191230.messages.find((m: { label: string }) => m.label.startsWith('A'));
    const m = decodeMessage(hex(a.framed_hex), 2) as ItchMessage & { messageType: 'A' };
    expect(m.stock).toBe('USO     ');
    expect(m.price).toBe(129600);
    expect(m.orderReferenceNumber).toBe(4n);
  });

  it("itchy's one-message vector decodes", () => {
    const v = snippets.itchy_one_message;
    const m = decodeMessage(hex(v.framed_hex), 2);
    expect(m).toEqual({ messageType: 'S', stockLocate: 0, trackingNumber: 0, timestamp: 44438604429977, eventCode: 'O' });
  });
});

describe('encode then decode is the identity for every type', () => {
  for (const t of ITCH_MESSAGE_TYPES) {
    it(`'${t}' (${layoutOf(t).name}): object path and view path`, () => {
      fc.assert(
        fc.property(messageArb(t), (m) => {
          const bytes = encodeMessage(m);
          expect(bytes.length).toBe(layoutOf(t).length);
          expect(decodeMessage(bytes)).toEqual(m);
          // At an offset inside a bigger buffer, through the parser's view.
          const buf = new Uint8Array(bytes.length + 7);
          expect(encodeMessageInto(m, buf, 5)).toBe(bytes.length);
          expect(viewValues(buf, 5)).toEqual(m);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('bytes → decode → encode gives the same bytes, for any bytes of a type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ITCH_MESSAGE_TYPES).chain(rawMessageArb), (bytes) => {
        const m = decodeMessage(bytes, 0, bytes.length);
        expect(encodeMessage(m)).toEqual(bytes);
        expect(viewValues(bytes, 0)).toEqual(m);
      }),
      { numRuns: 400 },
    );
  });

  it('the parser dispatches each type to its own listener method', () => {
    const seen: string[] = [];
    const listener = new Proxy(new ItchListenerBase(), {
      get(target, prop) {
        if (typeof prop === 'string' && prop in target) return (v: ItchMessageView) => seen.push(`${prop}:${String.fromCharCode(v.messageType())}`);
        return Reflect.get(target, prop);
      },
    }) as ItchListener;
    const parser = new ItchParser(listener);
    for (const t of ITCH_MESSAGE_TYPES) {
      const b = new Uint8Array(layoutOf(t).length);
      b[0] = t.charCodeAt(0);
      parser.parse(b, 0, b.length);
    }
    expect(seen).toEqual(ITCH_MESSAGE_TYPES.map((t) => `${layoutOf(t).name}:${t}`));
  });
});

describe('bad input', () => {
  it('random bytes never crash the decoders: a value or a TapedeckError', () => {
    const parser = new ItchParser(new ItchListenerBase());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(130), (bytes, offset) => {
        for (const run of [() => decodeMessage(bytes, offset), () => parser.parse(bytes, 0, bytes.length)]) {
          try {
            run();
          } catch (e) {
            expect(e).toBeInstanceOf(TapedeckError);
            expect((e as TapedeckError).where?.offset).toBeTypeOf('number');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('unknown type, truncated message and wrong frame length name the offset', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as TapedeckError;
      }
      throw new Error('expected an error');
    };
    const unknown = err(() => decodeMessage(Uint8Array.of(0, 0, 0x5a, 1, 2), 2, undefined, { offset: 100 }));
    expect([unknown.code, unknown.where?.offset]).toEqual(['ITCH_UNKNOWN_TYPE', 102]);
    expect(unknown.message).toContain("'Z' (0x5a)");
    const a = encodeMessage({ messageType: 'D', stockLocate: 1, trackingNumber: 0, timestamp: 5, orderReferenceNumber: 9n });
    const truncated = err(() => decodeMessage(a.subarray(0, 10)));
    expect([truncated.code, truncated.where?.offset]).toEqual(['ITCH_TRUNCATED', 0]);
    const mismatch = err(() => decodeMessage(a, 0, 20));
    expect(mismatch.code).toBe('ITCH_LENGTH_MISMATCH');
  });

  it('the encoder refuses values that do not fit, naming the field', () => {
    const base = { messageType: 'A', stockLocate: 1, trackingNumber: 0, timestamp: 0, orderReferenceNumber: 1n, buySellIndicator: 'B', shares: 100, stock: 'AAPL', price: 1 } as const;
    const field = (m: unknown) => {
      try {
        encodeMessage(m as ItchMessage);
      } catch (e) {
        return [(e as TapedeckError).code, (e as TapedeckError).where?.field];
      }
      return null;
    };
    expect(field({ ...base, shares: 2 ** 32 })).toEqual(['ITCH_FIELD', 'shares']);
    expect(field({ ...base, price: -1 })).toEqual(['ITCH_FIELD', 'price']);
    expect(field({ ...base, orderReferenceNumber: 1 << 20 })).toEqual(['ITCH_FIELD', 'orderReferenceNumber']);
    expect(field({ ...base, orderReferenceNumber: 1n << 64n })).toEqual(['ITCH_FIELD', 'orderReferenceNumber']);
    expect(field({ ...base, stock: 'TOOLONGNAME' })).toEqual(['ITCH_FIELD', 'stock']);
    expect(field({ ...base, buySellIndicator: 'BS' })).toEqual(['ITCH_FIELD', 'buySellIndicator']);
    expect(field({ ...base, stock: 'Ā' })).toEqual(['ITCH_FIELD', 'stock']);
    expect(field({ ...base, timestamp: 2 ** 48 })).toEqual(['ITCH_FIELD', 'timestamp']);
    expect(field({ ...base, messageType: 'Z' })).toEqual(['ITCH_FIELD', 'messageType']);
    // Short alpha fields are padded, as the spec's left-justified, space-padded alpha.
    expect((decodeMessage(encodeMessage(base as unknown as ItchMessage)) as { stock: string }).stock).toBe('AAPL    ');
  });
});
