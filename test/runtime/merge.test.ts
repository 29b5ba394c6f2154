import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { mergeArrivals, mergeByEventTime } from '../../src/runtime/merge.js';

/** A stand-in envelope: only the event time and where it came from matter to the merge. */
function ev(source: number, seq: number, t: number): AnyEnvelope {
  return { id: `${source}:${seq}`, eventTimeNs: BigInt(t) } as unknown as AnyEnvelope;
}

async function* from(list: AnyEnvelope[], delayMs = 0): AsyncGenerator<AnyEnvelope> {
  for (const e of list) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield e;
  }
}

async function collect(it: AsyncIterable<AnyEnvelope>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(e.id);
  return out;
}

const sourcesArb = fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 15 }), { minLength: 1, maxLength: 5 });
const build = (times: number[][], sorted: boolean) =>
  times.map((ts, s) => (sorted ? [...ts].sort((a, b) => a - b) : ts).map((t, i) => ev(s, i, t)));

describe('merging several sources', () => {
  it('replay: every event once, each source in its own order, and by (event time, source order) when sources are sorted (property)', async () => {
    await fc.assert(fc.asyncProperty(sourcesArb, async (times) => {
      const lists = build(times, true);
      const out = await collect(mergeByEventTime(lists.map((l) => from(l))));
      // The same as a stable sort of all events by (time, source index, position in source).
      const expected = lists.flat().sort((a, b) => {
        const [sa, qa] = a.id.split(':').map(Number);
        const [sb, qb] = b.id.split(':').map(Number);
        return Number(a.eventTimeNs - b.eventTimeNs) || sa! - sb! || qa! - qb!;
      }).map((e) => e.id);
      expect(out).toEqual(expected);
    }), { numRuns: 200 });
  });

  it('replay: a source out of time order keeps its own order, and the merge is the same every time (property)', async () => {
    await fc.assert(fc.asyncProperty(sourcesArb, async (times) => {
      const lists = build(times, false);
      const a = await collect(mergeByEventTime(lists.map((l) => from(l))));
      const b = await collect(mergeByEventTime(lists.map((l) => from(l))));
      expect(a).toEqual(b);
      expect(a.length).toBe(lists.flat().length);
      lists.forEach((l, s) => expect(a.filter((id) => id.startsWith(`${s}:`))).toEqual(l.map((e) => e.id)));
    }), { numRuns: 200 });
  });

  it('paper: delivers every event once in each source\'s order without waiting for a quiet source', async () => {
    const quick = [ev(0, 0, 5), ev(0, 1, 6), ev(0, 2, 7)];
    const slow = [ev(1, 0, 1)];
    const seen: string[] = [];
    const merged = mergeArrivals([from(quick), from(slow, 200)]);
    for await (const e of merged) seen.push(e.id);
    // The slow source's event is the earliest in time; a merge that waited for it would put it first.
    expect(seen).toEqual(['0:0', '0:1', '0:2', '1:0']);
  });

  it('paper: among events already waiting, the earliest event time goes first', async () => {
    const a = [ev(0, 0, 9)];
    const b = [ev(1, 0, 3)];
    expect(await collect(mergeArrivals([from(a), from(b)]))).toEqual(['1:0', '0:0']);
  });

  it('paper: a failing source ends the merge with its error', async () => {
    async function* bad(): AsyncGenerator<AnyEnvelope> {
      yield ev(1, 0, 1);
      throw new Error('socket gone');
    }
    await expect(collect(mergeArrivals([from([ev(0, 0, 5)], 50), bad()]))).rejects.toThrow('socket gone');
  });
});
