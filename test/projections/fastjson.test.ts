import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlatScanner } from '../../projections/fastjson.js';

const KEYS = ['a', 'eventTimeNs', 'role', 'n', 'b', 'x'];

describe('FlatScanner', () => {
  it('finds the same values JSON.parse does, or declines (undefined) but never lies', () => {
    const value = fc.oneof(
      fc.string(), fc.integer({ min: -1e15, max: 1e15 }), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((b) => b.toString()),
      fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.array(fc.oneof(fc.string(), fc.integer())),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), value), fc.constantFrom('', ' ', '\n'), (obj, ws) => {
        const text = ws + JSON.stringify(obj, null, ws === '' ? undefined : 1) + ws;
        const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(text), Buffer.from('yy')]);
        const s = new FlatScanner(KEYS);
        expect(s.scan(buf, 2, buf.length - 2)).toBe(true);
        // The oracle is JSON.parse of the same text, not the generated object: JSON writes -0 as 0.
        const parsed = JSON.parse(text) as Record<string, unknown>;
        KEYS.forEach((k, i) => {
          const has = Object.prototype.hasOwnProperty.call(parsed, k);
          expect(s.has(i)).toBe(has);
          const v = parsed[k];
          const str = s.str(i);
          if (str !== undefined) expect(str).toBe(v);
          const n = s.int(i);
          if (n !== undefined) expect(n).toBe(v);
          const b = s.bigint(i);
          // (a number beyond 2^53 is exact here and rounded by JSON.parse, so only exact sources compare)
          if (b !== undefined && (typeof v === 'string' || Number.isSafeInteger(v))) expect(b).toBe(BigInt(v as string | number));
          const bo = s.bool(i);
          if (bo !== undefined) expect(bo).toBe(v);
          // simple values are never declined
          if (typeof v === 'string' && JSON.stringify(v) === `"${v}"`) expect(str).toBe(v);
          if (typeof v === 'number' && Number.isSafeInteger(v)) expect(n).toBe(v);
          if (typeof v === 'boolean') expect(bo).toBe(v);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects what is not one object', () => {
    const s = new FlatScanner(['a']);
    for (const t of ['', '[]', '{"a":1', '{"a" 1}', '{"a":"x}', '{"a":1,}x', 'null']) {
      const b = Buffer.from(t);
      expect(s.scan(b, 0, b.length), t).toBe(false);
    }
  });
});
