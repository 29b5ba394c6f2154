/**
 * The EventStore contract: every backend (embedded today; KurrentDB and Kafka-backed later) must pass
 * this same suite. Call `defineStoreContract(name, harness)` from a backend's test file.
 *
 * Positions are the store's to assign: strictly increasing along $all, but not contiguous and not
 * starting at 0 (KurrentDB's are byte offsets). So this suite never expects a position it was not
 * given: it compares positions with those that appends and reads returned, and with each other.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, WrongExpectedRevisionError, type EventData, type EventStore, type ExpectedRevision, type RecordedEvent } from '../../src/store/port.js';

export interface StoreHarness {
  /** A new, empty store. */
  create(): Promise<EventStore>;
  /** Closes and reopens the same store (durability); omit for backends that cannot. */
  reopen?(store: EventStore): Promise<EventStore>;
  /** Releases everything create() made. */
  cleanup(): Promise<void>;
}

/**
 * The harness of a backend that opens one store again and again on the same data: `create` opens it, `reopen`
 * closes and opens it, `cleanup` closes everything opened, then runs `release` (a temporary folder, say).
 */
export function reopeningHarness(open: () => Promise<EventStore>, release: () => void = () => undefined): StoreHarness {
  const opened: EventStore[] = [];
  const openTracked = async (): Promise<EventStore> => {
    const s = await open();
    opened.push(s);
    return s;
  };
  return {
    create: openTracked,
    async reopen(store) {
      await store.close();
      return openTracked();
    },
    async cleanup() {
      for (const s of opened) await s.close();
      release();
    },
  };
}

export function ev(type = 'Tick', data: unknown = { n: 1 }, id: string = randomUUID()): EventData {
  return { id, type, data, metadata: { source: 'contract' } };
}

async function take(sub: AsyncIterable<RecordedEvent>, n: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  if (n === 0) return out;
  for await (const e of sub) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

export function defineStoreContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`EventStore contract: ${name}`, () => {
    let h: StoreHarness;
    const open = async () => {
      h = makeHarness();
      return h.create();
    };
    afterEach(async () => {
      await h?.cleanup();
    });

    it('appends to a new stream with no_stream and returns revision and position', async () => {
      const s = await open();
      expect(await s.headPosition()).toBe(-1);
      const r = await s.appendToStream('orders-1', [ev(), ev(), ev()], { expectedRevision: 'no_stream' });
      expect(r.nextExpectedRevision).toBe(2);
      expect(Number.isSafeInteger(r.position) && r.position >= 0).toBe(true);
      const r2 = await s.appendToStream('orders-2', [ev()], { expectedRevision: 'no_stream' });
      expect(r2.nextExpectedRevision).toBe(0);
      expect(r2.position).toBeGreaterThan(r.position);
      expect(await s.streamRevision('orders-1')).toBe(2);
      expect(await s.streamRevision('missing')).toBe(-1);
      expect(await s.headPosition()).toBe(r2.position);
      // The position an append reports is the one reads report for its last event.
      const all = await collect(s.readAll());
      expect(all.map((e) => e.position)).toEqual([...all.map((e) => e.position)].sort((a, b) => a - b));
      expect(all[2]!.position).toBe(r.position);
      expect(all[3]!.position).toBe(r2.position);
    });

    it('rejects a wrong expected revision with a typed error and writes nothing', async () => {
      const s = await open();
      await s.appendToStream('a', [ev()], { expectedRevision: 'no_stream' });
      await expect(s.appendToStream('a', [ev()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(s.appendToStream('a', [ev(), ev()], { expectedRevision: 5 })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_REVISION', actual: 0 });
      await expect(s.appendToStream('b', [ev()], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(s.appendToStream('b', [ev()], { expectedRevision: 0 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect((await collect(s.readAll())).length).toBe(1);
      await s.appendToStream('a', [ev()], { expectedRevision: 0 });
      await s.appendToStream('a', [ev()], { expectedRevision: 'stream_exists' });
      expect(await s.streamRevision('a')).toBe(2);
    });

    it('makes a multi-event append atomic: one bad event and none is written', async () => {
      const s = await open();
      const bad = { id: randomUUID(), type: 'Tick', data: { n: 10n } } as EventData; // bigint is not JSON
      await expect(s.appendToStream('a', [ev(), ev(), bad])).rejects.toMatchObject({ code: 'EVENT_DATA' });
      await expect(s.appendToStream('a', [ev(), { id: '', type: 'X', data: {} }])).rejects.toMatchObject({ code: 'EVENT_ID' });
      expect(await collect(s.readAll())).toEqual([]);
      expect(await s.streamRevision('a')).toBe(-1);
    });

    it('is idempotent: the same ids at the same expected revision are not stored twice', async () => {
      const s = await open();
      const batch = [ev(), ev(), ev()];
      const first = await s.appendToStream('x', batch, { expectedRevision: 'no_stream' });
      const again = await s.appendToStream('x', batch, { expectedRevision: 'no_stream' });
      expect(again).toEqual(first);
      const more = [ev()];
      const r3 = await s.appendToStream('x', more, { expectedRevision: 2 });
      expect(await s.appendToStream('x', more, { expectedRevision: 2 })).toEqual(r3);
      const anyBatch = [ev(), ev()];
      const r4 = await s.appendToStream('x', anyBatch);
      expect(await s.appendToStream('x', anyBatch)).toEqual(r4);
      const all = await collect(s.readStream('x'));
      expect(all.map((e) => e.id)).toEqual([...batch, ...more, ...anyBatch].map((e) => e.id));
      // Same expected revision but different ids is a conflict, not a silent success.
      await expect(s.appendToStream('x', [ev()], { expectedRevision: 2 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    });

    it('reads a stream forwards and backwards, from a revision, with a max count', async () => {
      const s = await open();
      for (let i = 0; i < 5; i++) await s.appendToStream('s', [ev('T', { i: i * 2 }), ev('T', { i: i * 2 + 1 })]);
      await s.appendToStream('other', [ev()]);
      const fwd = await collect(s.readStream('s'));
      expect(fwd.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(fwd.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(fwd.every((e) => e.stream === 's' && e.isJson && e.metadata.source === 'contract')).toBe(true);
      const from3 = await collect(s.readStream('s', { fromRevision: 3, maxCount: 4 }));
      expect(from3.map((e) => e.revision)).toEqual([3, 4, 5, 6]);
      const back = await collect(s.readStream('s', { direction: 'backwards', maxCount: 3 }));
      expect(back.map((e) => e.revision)).toEqual([9, 8, 7]);
      const backFrom = await collect(s.readStream('s', { direction: 'backwards', fromRevision: 4 }));
      expect(backFrom.map((e) => e.revision)).toEqual([4, 3, 2, 1, 0]);
      expect(await collect(s.readStream('nope'))).toEqual([]);
    });

    it('reads $all in global order, filtered by stream prefix or event type, both directions', async () => {
      const s = await open();
      await s.appendToStream('md-BTC', [ev('TradeReported'), ev('QuoteUpdated')]);
      await s.appendToStream('orders-1', [ev('OrderIntended')]);
      await s.appendToStream('md-ETH', [ev('TradeReported')]);
      const all = await collect(s.readAll());
      const p = all.map((e) => e.position);
      expect(p.every((x, i) => i === 0 || x > p[i - 1]!)).toBe(true);
      expect(all.map((e) => e.stream)).toEqual(['md-BTC', 'md-BTC', 'orders-1', 'md-ETH']);
      const md = await collect(s.readAll({ filter: { streamPrefixes: ['md-'] } }));
      expect(md.map((e) => e.position)).toEqual([p[0], p[1], p[3]]);
      const trades = await collect(s.readAll({ filter: { eventTypes: ['TradeReported'] } }));
      expect(trades.map((e) => e.position)).toEqual([p[0], p[3]]);
      const back = await collect(s.readAll({ direction: 'backwards', maxCount: 3 }));
      expect(back.map((e) => e.position)).toEqual([p[3], p[2], p[1]]);
      // A read from a position the store gave includes the event there, both directions.
      const from2 = await collect(s.readAll({ fromPosition: p[2]! }));
      expect(from2.map((e) => e.position)).toEqual([p[2], p[3]]);
      const backFrom2 = await collect(s.readAll({ fromPosition: p[2]!, direction: 'backwards' }));
      expect(backFrom2.map((e) => e.position)).toEqual([p[2], p[1], p[0]]);
      const end = await collect(s.readAll({ fromPosition: 'end' }));
      expect(end).toEqual([]);
    });

    it('stores bytes verbatim and JSON as JSON', async () => {
      const s = await open();
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      await s.appendToStream('b', [{ id: randomUUID(), type: 'Raw', data: bytes }, { id: randomUUID(), type: 'J', data: new TextEncoder().encode('{"a":1}'), contentType: 'application/json' }]);
      const [raw, json] = await collect(s.readStream('b'));
      expect(raw!.isJson).toBe(false);
      expect(new Uint8Array(raw!.data as Uint8Array)).toEqual(bytes);
      expect(json!.isJson).toBe(true);
      expect(json!.data).toEqual({ a: 1 });
    });

    it('subscribes to $all: history then live, no gap and no duplicate, resumable from a checkpoint', { timeout: 10_000 }, async () => {
      const s = await open();
      await s.appendToStream('a', [ev(), ev()]);
      const sub = s.subscribeToAll();
      const got: RecordedEvent[] = [];
      const done = (async () => {
        for await (const e of sub) {
          got.push(e);
          if (got.length === 6) break;
        }
      })();
      await s.appendToStream('b', [ev()]);
      await s.appendToStream('a', [ev(), ev(), ev()]);
      await done;
      await sub.close();
      const stored = await collect(s.readAll());
      expect(got.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      expect(got.map((e) => e.position)).toEqual(stored.map((e) => e.position));
      // Resuming from a checkpoint delivers what comes strictly after it.
      const resumed = s.subscribeToAll({ fromPosition: got[3]!.position });
      const c = ev();
      await s.appendToStream('c', [c]);
      const rest = await take(resumed, 3);
      await resumed.close();
      expect(rest.map((e) => e.id)).toEqual([got[4]!.id, got[5]!.id, c.id]);
      expect(rest[2]!.position).toBeGreaterThan(got[5]!.position);
      const filtered = s.subscribeToAll({ filter: { streamPrefixes: ['c'] } });
      expect((await take(filtered, 1)).map((e) => e.stream)).toEqual(['c']);
      await filtered.close();
    });

    it('subscribes to one stream: history then live, resumable from a revision', { timeout: 10_000 }, async () => {
      const s = await open();
      await s.appendToStream('a', [ev(), ev()]);
      await s.appendToStream('b', [ev()]);
      const sub = s.subscribeToStream('a', { fromRevision: 0 });
      const p = take(sub, 3);
      await s.appendToStream('b', [ev()]);
      await s.appendToStream('a', [ev(), ev()]);
      const got = await p;
      await sub.close();
      expect(got.map((e) => [e.stream, e.revision])).toEqual([['a', 1], ['a', 2], ['a', 3]]);
      const resumed = s.subscribeToStream('a', { fromRevision: 2 });
      const rest = take(resumed, 1);
      await s.appendToStream('a', [ev()]);
      expect((await rest).map((e) => e.revision)).toEqual([3]);
      await resumed.close();
    });

    it('keeps every acknowledged event across a reopen', async () => {
      let s = await open();
      if (!h.reopen) return;
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const batch = [ev('T', { i }), ev('T', { i })];
        ids.push(...batch.map((e) => e.id));
        await s.appendToStream(`s-${i % 3}`, batch);
      }
      s = await h.reopen(s);
      const all = await collect(s.readAll());
      expect(all.map((e) => e.id)).toEqual(ids);
      await s.appendToStream('s-0', [ev()], { expectedRevision: 13 });
    });

    it('property: concurrent writers with random expectations behave like the model', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              writer: fc.integer({ min: 0, max: 3 }),
              stream: fc.constantFrom('s0', 's1', 's2'),
              size: fc.integer({ min: 1, max: 4 }),
              expect: fc.constantFrom<'any' | 'no_stream' | 'stream_exists' | 'exact' | 'stale'>('any', 'no_stream', 'stream_exists', 'exact', 'stale'),
            }),
            { minLength: 1, maxLength: 25 },
          ),
          async (ops) => {
            const harness = makeHarness();
            const s = await harness.create();
            try {
              // Each writer issues its ops in order; writers run interleaved (all appends in flight at once).
              const model = new Map<string, string[]>();
              const order: string[] = [];
              const results = await Promise.allSettled(
                ops.map((op) => {
                  const events = Array.from({ length: op.size }, () => ev('T', { w: op.writer }));
                  const cur = (model.get(op.stream)?.length ?? 0) - 1;
                  let expected: ExpectedRevision;
                  switch (op.expect) {
                    case 'any': expected = 'any'; break;
                    case 'no_stream': expected = 'no_stream'; break;
                    case 'stream_exists': expected = 'stream_exists'; break;
                    case 'exact': expected = cur; break;
                    case 'stale': expected = cur - 1; break;
                  }
                  const ok = expected === 'any' || (expected === 'no_stream' && cur === -1) || (expected === 'stream_exists' && cur >= 0) || (typeof expected === 'number' && expected === cur && expected >= -1);
                  const validNumber = typeof expected !== 'number' || expected >= -1;
                  if (ok && validNumber) {
                    model.set(op.stream, [...(model.get(op.stream) ?? []), ...events.map((e) => e.id)]);
                    order.push(...events.map((e) => e.id));
                  }
                  const p = s.appendToStream(op.stream, events, { expectedRevision: expected === -1 ? 'no_stream' : expected });
                  return p.then((r) => ({ r, ok: ok && validNumber }), (e) => { if (ok && validNumber) throw e; return { r: null, ok: false, e }; });
                }),
              );
              for (const r of results) expect(r.status).toBe('fulfilled');
              const all = await collect(s.readAll());
              expect(all.map((e) => e.id)).toEqual(order);
              expect(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position)).toBe(true);
              for (const [stream, ids] of model) {
                const got = await collect(s.readStream(stream));
                expect(got.map((e) => e.id)).toEqual(ids);
                expect(got.map((e) => e.revision)).toEqual(ids.map((_, i) => i));
              }
            } finally {
              await s.close();
              await harness.cleanup();
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('property: idempotent retries never duplicate', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ size: fc.integer({ min: 1, max: 3 }), retries: fc.integer({ min: 0, max: 2 }), exact: fc.boolean() }), { minLength: 1, maxLength: 12 }),
          async (ops) => {
            const harness = makeHarness();
            const s = await harness.create();
            try {
              const ids: string[] = [];
              for (const op of ops) {
                const events = Array.from({ length: op.size }, () => ev());
                const expected: ExpectedRevision = op.exact ? (ids.length === 0 ? 'no_stream' : ids.length - 1) : 'any';
                const first = await s.appendToStream('st', events, { expectedRevision: expected });
                ids.push(...events.map((e) => e.id));
                for (let k = 0; k < op.retries; k++) {
                  expect(await s.appendToStream('st', events, { expectedRevision: expected })).toEqual(first);
                }
              }
              expect((await collect(s.readStream('st'))).map((e) => e.id)).toEqual(ids);
            } finally {
              await s.close();
              await harness.cleanup();
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    it('property: a subscription sees every event exactly once, however appends and resumes interleave', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 12 }),
          fc.nat(),
          fc.nat(),
          async (sizes, splitSeed, resumeSeed) => {
            const harness = makeHarness();
            const s = await harness.create();
            try {
              const split = splitSeed % (sizes.length + 1);
              const ids: string[] = [];
              const append = async (i: number) => {
                const events = Array.from({ length: sizes[i]! }, () => ev());
                ids.push(...events.map((e) => e.id));
                await s.appendToStream(`s${i % 2}`, events);
              };
              for (let i = 0; i < split; i++) await append(i);
              const total = sizes.reduce((a, b) => a + b, 0);
              const resumeAt = resumeSeed % (total + 1);
              const sub = s.subscribeToAll();
              const firstPart = take(sub, resumeAt);
              const rest = (async () => {
                for (let i = split; i < sizes.length; i++) await append(i);
              })();
              const a = await firstPart;
              await sub.close();
              await rest;
              const checkpoint = a.length === 0 ? 'start' : a[a.length - 1]!.position;
              const sub2 = s.subscribeToAll({ fromPosition: checkpoint });
              const b = await take(sub2, total - a.length);
              await sub2.close();
              expect([...a, ...b].map((e) => e.id)).toEqual(ids);
            } finally {
              await s.close();
              await harness.cleanup();
            }
          },
        ),
        { numRuns: 30 },
      );
    });
  });
}
