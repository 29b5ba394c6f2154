/**
 * The shared parsing helpers: content ids stay unique for repeated frames, time conversions are exact.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventIds, epochToNs, isoToNs, secondsToNs, significantDecimalsOf, decimalsOf } from '../../src/venues/common/frame.js';
import { uuidFromName, UUID_RE } from '../../domain/core/sha256.js';

const ctx = { file: 'f', line: 1, receiveTimeNs: 0n };

describe('EventIds', () => {
  it('venue ids are plain name-based UUIDs: the same trade id gives the same event id', () => {
    const ids = new EventIds('ns');
    expect(ids.venue('trade:1')).toBe(uuidFromName('ns', 'trade:1'));
    expect(ids.venue('trade:1')).toBe(ids.venue('trade:1'));
    expect(ids.venue('trade:1')).toMatch(UUID_RE);
  });

  it('content ids: a repeated frame gets #2, #3 while it stays in the window, and two readers agree', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 200 }), fc.integer({ min: 2, max: 16 }), (names, window) => {
      const a = new EventIds('ns', window);
      const b = new EventIds('ns', window);
      const ia = names.map((n) => a.content(`x${n}`));
      const ib = names.map((n) => b.content(`x${n}`));
      expect(ib).toEqual(ia);
      // Within any stretch of `window` consecutive frames, no id repeats.
      for (let i = 0; i < ia.length; i++) {
        const w = ia.slice(i, i + window);
        expect(new Set(w).size).toBe(w.length);
      }
    }), { numRuns: 200 });
    const ids = new EventIds('ns', 4);
    expect([ids.content('a'), ids.content('a'), ids.content('a')]).toEqual([uuidFromName('ns', 'a'), uuidFromName('ns', 'a#2'), uuidFromName('ns', 'a#3')]);
  });
});

describe('time conversions', () => {
  it('capture seconds to ns: exact, digits beyond ns dropped', () => {
    expect(secondsToNs('1633998512.0633569')).toBe(1633998512063356900n);
    expect(secondsToNs('1618678142.557535')).toBe(1618678142557535000n);
    expect(secondsToNs('1633998511')).toBe(1633998511000000000n);
    expect(secondsToNs('1.1234567891234')).toBe(1123456789n);
    expect(() => secondsToNs('1e9', ctx, 'ts')).toThrow(/not a decimal number of seconds/);
  });

  it('epoch ms / µs / ns told apart by magnitude', () => {
    expect(epochToNs(1633998512068)).toBe(1633998512068000000n);
    expect(epochToNs(1735689600010866)).toBe(1735689600010866000n);
    expect(epochToNs(1735689600010866123n)).toBe(1735689600010866123n);
  });

  it('ISO times with µs, and a bad one names the field', () => {
    expect(isoToNs('2021-04-17T16:43:37.075687Z', ctx, 'time')).toBe(BigInt(Date.UTC(2021, 3, 17, 16, 43, 37)) * 1_000_000n + 75_687_000n);
    expect(isoToNs('2021-04-17T16:43:37Z', ctx, 'time')).toBe(BigInt(Date.UTC(2021, 3, 17, 16, 43, 37)) * 1_000_000n);
    expect(() => isoToNs('yesterday', ctx, 'time')).toThrow(expect.objectContaining({ code: 'FRAME_TIME', where: expect.objectContaining({ field: 'time', line: 1 }) }));
  });

  it('decimal places written and significant', () => {
    expect([decimalsOf('0.35210000'), decimalsOf('12'), significantDecimalsOf('0.00010000'), significantDecimalsOf('1.0'), significantDecimalsOf('5')]).toEqual([8, 0, 4, 0, 0]);
  });
});
