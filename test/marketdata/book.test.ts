/**
 * The L2 book and the Binance sync decider: properties against naive models, and the Kraken book
 * checked against the venue's own CRC32 checksum of the top 10 levels after every update.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { L2Book, L2BookSet } from '../../domain/book/l2.js';
import { initialSyncState, step, type DepthDiff, type SyncEvent } from '../../domain/book/binance-sync.js';
import { formatDecimal } from '../../domain/core/fixed.js';
import { isTapedeckError } from '../../domain/core/errors.js';
import { captureEventSource, findWsCaptures } from '../../src/venues/cryptofeed/capture.js';
import { datasetsDir } from '../helpers/tmp.js';

type Op =
  | { kind: 'snapshot'; bids: Array<[number, number]>; asks: Array<[number, number]> }
  | { kind: 'change'; side: 'buy' | 'sell'; price: number; qty: number };

const price = fc.integer({ min: 1, max: 60 });
const qty = fc.integer({ min: 0, max: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), bids: fc.array(fc.tuple(price, qty), { maxLength: 12 }), asks: fc.array(fc.tuple(price, qty), { maxLength: 12 }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('change' as const), side: fc.constantFrom('buy' as const, 'sell' as const), price, qty }) },
);

/** Naive model: a Map per side, sorted on read, truncated to depth by sorting. */
class NaiveBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  constructor(private readonly depth: number) {}
  snapshot(bids: Array<[number, number]>, asks: Array<[number, number]>): void {
    this.bids = new Map(bids.filter(([, q]) => q > 0));
    this.asks = new Map(asks.filter(([, q]) => q > 0));
    this.trim();
  }
  change(side: 'buy' | 'sell', p: number, q: number): void {
    const m = side === 'buy' ? this.bids : this.asks;
    if (q === 0) m.delete(p);
    else m.set(p, q);
    this.trim();
  }
  top(side: 'buy' | 'sell', n: number): Array<[number, number]> {
    const m = side === 'buy' ? this.bids : this.asks;
    return [...m].sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0])).slice(0, n);
  }
  private trim(): void {
    this.bids = new Map(this.top('buy', this.depth));
    this.asks = new Map(this.top('sell', this.depth));
  }
}

/** Snapshots with a price listed twice are refused; the model keeps unique prices. */
const dedupe = (levels: Array<[number, number]>): Array<[number, number]> => [...new Map(levels)];

describe('L2 book', () => {
  it('top N and BBO equal a naive model; no level ever shows zero or negative quantity', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }), (ops, n, depth) => {
      const book = new L2Book(depth === undefined ? {} : { maxDepth: depth });
      const model = new NaiveBook(depth ?? Number.MAX_SAFE_INTEGER);
      for (const o of ops) {
        if (o.kind === 'snapshot') {
          book.applySnapshot(dedupe(o.bids), dedupe(o.asks));
          model.snapshot(dedupe(o.bids), dedupe(o.asks));
        } else {
          book.applyChange(o.side, o.price, o.qty);
          model.change(o.side, o.price, o.qty);
        }
        for (const side of ['buy', 'sell'] as const) {
          const top = book.top(side, n);
          expect(top).toEqual(model.top(side, n));
          expect(top.every(([, q]) => q > 0)).toBe(true);
          expect(book.depth(side)).toBe(model.top(side, Number.MAX_SAFE_INTEGER).length);
        }
        expect(book.bestBid()).toEqual(model.top('buy', 1)[0] ?? null);
        expect(book.bestAsk()).toEqual(model.top('sell', 1)[0] ?? null);
      }
    }), { numRuns: 300 });
  });

  it('refuses a negative quantity and a snapshot listing a price twice, naming the fault', () => {
    const book = new L2Book();
    book.applySnapshot([[10, 1]], [[11, 1]]);
    try {
      book.applyChange('buy', 10, -1);
      expect.unreachable();
    } catch (e) {
      expect(isTapedeckError(e) && e.code).toBe('BOOK_NEGATIVE_QTY');
    }
    expect(book.qtyAt('buy', 10)).toBe(1);
    expect(() => book.applySnapshot([[10, 1], [10, 2]], [])).toThrow(/twice/);
  });

  it('a sequence-gap anomaly marks the book unsynced until the next snapshot', () => {
    const set = new L2BookSet();
    const base = { venue: 'BINANCE', instrument: 'BINANCE:X', priceScale: 2, qtyScale: 0 };
    const env = (type: string, data: object) => ({ id: 'x', type, schemaVersion: 1, stream: 's', eventTimeNs: 0n, receiveTimeNs: 0n, causationId: null, correlationId: null, data }) as never;
    set.apply(env('BookSnapshotted', { ...base, bids: [[100, 1]], asks: [[101, 1]], sequence: 5 }));
    expect(set.get('BINANCE:X')!.synced).toBe(true);
    set.apply(env('BookAnomalyReported', { venue: 'BINANCE', instrument: 'BINANCE:X', kind: 'sequence-gap', detail: '' }));
    expect(set.get('BINANCE:X')!.synced).toBe(false);
    set.apply(env('BookSnapshotted', { ...base, bids: [], asks: [], sequence: 9 }));
    expect(set.get('BINANCE:X')!.synced).toBe(true);
  });
});

describe('Binance sync decider', () => {
  /** The documented procedure written plainly: which diffs apply, and the first that breaks it. */
  function naive(diffs: Array<DepthDiff<number>>, L: number): { applied: number[]; gap: number | null; last: number } {
    const applied: number[] = [];
    let last: number | null = null;
    for (const d of diffs) {
      if (d.finalUpdateId <= L) continue;
      const ok = last === null ? d.firstUpdateId <= L + 1 && L + 1 <= d.finalUpdateId : d.firstUpdateId === last + 1;
      if (!ok) return { applied, gap: d.payload, last: last ?? L };
      applied.push(d.payload);
      last = d.finalUpdateId;
    }
    return { applied, gap: null, last: last ?? L };
  }

  const scenario = fc.record({
    start: fc.integer({ min: 1, max: 1000 }),
    sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 30 }),
    snapshotOffset: fc.integer({ min: -5, max: 60 }),
    removeAt: fc.option(fc.nat(), { nil: undefined }),
    deliverAfter: fc.nat(),
  });

  it('applies exactly the diffs the procedure allows, in order, and reports the first gap with its ids', () => {
    fc.assert(fc.property(scenario, ({ start, sizes, snapshotOffset, removeAt, deliverAfter }) => {
      // A gap-free chain U = prev u + 1, then optionally one diff removed.
      let U = start;
      let diffs: Array<DepthDiff<number>> = sizes.map((n, i) => {
        const d = { firstUpdateId: U, finalUpdateId: U + n - 1, payload: i };
        U += n;
        return d;
      });
      if (removeAt !== undefined) diffs = diffs.filter((_, i) => i !== removeAt % sizes.length);
      const L = start - 1 + snapshotOffset;
      const expected = naive(diffs, L);

      let state = initialSyncState<number, string>();
      const events: Array<SyncEvent<number, string>> = [];
      const at = Math.min(deliverAfter % (diffs.length + 1), diffs.length);
      const feed = (input: Parameters<typeof step<number, string>>[1]): void => {
        const r = step(state, input);
        state = r.state;
        events.push(...r.events);
      };
      diffs.forEach((d, i) => {
        feed({ kind: 'diff', diff: d });
        if (i + 1 === Math.max(at, 1)) feed({ kind: 'snapshot', snapshot: { lastUpdateId: L, payload: 'snap' } });
      });
      // With every diff removed the snapshot still arrives (unsolicited), then the stream ends.
      if (diffs.length === 0) feed({ kind: 'snapshot', snapshot: { lastUpdateId: L, payload: 'snap' } });
      feed({ kind: 'end' });

      const firstGap = events.findIndex((e) => e.kind === 'GapDetected');
      const upToGap = firstGap < 0 ? events : events.slice(0, firstGap);
      expect(upToGap.filter((e) => e.kind === 'DiffApplied').map((e) => (e as { diff: DepthDiff<number> }).diff.payload)).toEqual(expected.applied);
      if (expected.gap === null) {
        expect(firstGap).toBe(-1);
        // The snapshot is emitted once: before the first applied diff, or at the end.
        const emitted = events.map((e, i) => ({ e, i })).filter(({ e }) => e.kind === 'SnapshotEmitted');
        expect(emitted).toHaveLength(1);
        const firstApplied = events.findIndex((e) => e.kind === 'DiffApplied');
        if (firstApplied >= 0) expect(emitted[0]!.i).toBe(firstApplied - 1);
        expect(state.phase).toBe('synced');
      } else {
        const g = events[firstGap]!;
        if (g.kind !== 'GapDetected') throw new Error();
        expect(g.diff.payload).toBe(expected.gap);
        expect(g.expectedFirstUpdateId).toBe(expected.last + 1);
        expect(events[firstGap + 1]).toEqual({ kind: 'SnapshotRequested', reason: 'gap' });
        // Nothing is applied after the gap without a new snapshot.
        expect(events.slice(firstGap).some((e) => e.kind === 'DiffApplied')).toBe(false);
        expect(state.phase).toBe('awaiting-snapshot');
      }
    }), { numRuns: 400 });
  });

  it('a new snapshot after a gap resynchronises the book', () => {
    let s = initialSyncState<string, string>();
    const run = (input: Parameters<typeof step<string, string>>[1]) => {
      const r = step(s, input);
      s = r.state;
      return r.events.map((e) => e.kind);
    };
    expect(run({ kind: 'diff', diff: { firstUpdateId: 10, finalUpdateId: 12, payload: 'a' } })).toEqual(['SnapshotRequested', 'DiffBuffered']);
    expect(run({ kind: 'snapshot', snapshot: { lastUpdateId: 11, payload: 's1' } })).toEqual(['SnapshotAccepted', 'SnapshotEmitted', 'DiffApplied']);
    expect(run({ kind: 'diff', diff: { firstUpdateId: 15, finalUpdateId: 16, payload: 'b' } })).toEqual(['GapDetected', 'SnapshotRequested', 'DiffBuffered']);
    expect(run({ kind: 'diff', diff: { firstUpdateId: 17, finalUpdateId: 18, payload: 'c' } })).toEqual(['DiffBuffered']);
    expect(run({ kind: 'snapshot', snapshot: { lastUpdateId: 16, payload: 's2' } })).toEqual(['SnapshotAccepted', 'DiffDropped', 'SnapshotEmitted', 'DiffApplied']);
    expect(s.phase).toBe('synced');
    expect(s.lastUpdateId).toBe(18);
    expect(s.gaps).toBe(1);
    expect(run({ kind: 'snapshot-unavailable', reason: 'x' })).toEqual([]);
  });
});

describe('Kraken book against the venue checksum', () => {
  it('after every update, CRC32 of our top 10 asks and bids equals the "c" Kraken sent', async () => {
    const dir = path.join(datasetsDir, 'recorded_ws/cryptofeed');
    const set = new L2BookSet();
    /** Kraken's checksum uses the wire strings; the decimals it writes per pair are read from its first snapshot. */
    const wireDecimals = new Map<string, [number, number]>();
    let checked = 0;
    const key = (mantissa: number, scale: number, wire: number): string =>
      formatDecimal(BigInt(mantissa) * 10n ** BigInt(wire - scale), wire).replace('.', '').replace(/^0+/, '');
    for await (const e of captureEventSource(findWsCaptures(dir, 'KRAKEN'))) {
      set.apply(e);
      if (e.type === 'BookSnapshotted') {
        const raw = JSON.parse(new TextDecoder().decode(e.raw!.bytes)) as [number, { as: string[][] }];
        const [p, v] = raw[1].as[0]!;
        wireDecimals.set(e.data.instrument, [p!.split('.')[1]!.length, v!.split('.')[1]!.length]);
        expect(e.data.depth).toBe(1000);
      }
      if (e.type !== 'BookDeltaApplied') continue;
      const raw = JSON.parse(new TextDecoder().decode(e.raw!.bytes)) as unknown[];
      const c = raw.slice(1, -2).map((x) => (x as { c?: string }).c).find((x) => x !== undefined);
      if (c === undefined) continue;
      const [pw, qw] = wireDecimals.get(e.data.instrument)!;
      const book = set.get(e.data.instrument)!;
      const text = [...book.top('sell', 10), ...book.top('buy', 10)]
        .map(([p, q]) => key(p, e.data.priceScale, pw) + key(q, e.data.qtyScale, qw)).join('');
      expect(String(zlib.crc32(text)), `${e.data.instrument} ${e.id}`).toBe(c);
      checked++;
    }
    const expectedChecked = fs.readFileSync(path.join(dir, 'KRAKEN.ws.50.0'), 'utf8').split('\n').filter((l) => /"c":"\d+"/.test(l)).length;
    expect(checked).toBe(expectedChecked);
    expect(checked).toBeGreaterThan(4000);
  });
});
