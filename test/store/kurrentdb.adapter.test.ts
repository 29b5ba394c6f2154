/**
 * The KurrentDB adapter's own logic (src/store/kurrentdb/store.ts) over a simulated client
 * (test/store/kurrentdb-sim.ts): paging through $all, hiding system streams, namespaces, idempotent
 * retries and their positions, inclusive starts both ways, subscriptions and their end, an unreachable
 * server. This is NOT the contract passing on KurrentDB (that is kurrentdb.contract.test.ts, with
 * KURRENTDB_URL): it checks what the adapter adds on top of the client, against the client's documented
 * behaviour. The same contract suite runs here too, over the simulated client, and is named so.
 */
import { randomUUID } from 'node:crypto';
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { checkByReading, copyStore } from '../../src/store/copy.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { KurrentDbEventStore } from '../../src/store/kurrentdb/store.js';
import { collect, WrongExpectedRevisionError, type EventData, type RecordedEvent } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { defineStoreContract, reopeningHarness } from './contract.js';
import { SimKurrentClient } from './kurrentdb-sim.js';

const ev = (type = 'Tick', data: unknown = { n: 1 }): EventData => ({ id: randomUUID(), type, data, metadata: { source: 'adapter', $correlationId: 'run-1' } });

async function openSim(sim = new SimKurrentClient(), location = 'kurrentdb://sim:2113?tls=false') {
  const store = await KurrentDbEventStore.withClient(sim as unknown as KurrentDBClient, location);
  return { sim, store };
}

async function take(sub: AsyncIterable<RecordedEvent>, n: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of sub) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

describe('KurrentDB adapter over a simulated client (not a server)', () => {
  it('appends: revisions, sparse increasing positions equal to what reads report; system events never show', async () => {
    const { sim, store } = await openSim();
    const a = await store.appendToStream('orders-1', [ev(), ev(), ev()], { expectedRevision: 'no_stream' });
    const b = await store.appendToStream('abc', [ev()], { expectedRevision: 'no_stream' }); // the sim writes $$abc metadata after it
    const c = await store.appendToStream('orders-1', [ev()], { expectedRevision: 2 });
    expect([a.nextExpectedRevision, b.nextExpectedRevision, c.nextExpectedRevision]).toEqual([2, 0, 3]);
    expect(a.position).toBeLessThan(b.position);
    expect(b.position).toBeLessThan(c.position);
    expect(b.position - a.position).toBeGreaterThan(1); // sparse
    const all = await collect(store.readAll());
    expect(all.map((e) => [e.stream, e.revision])).toEqual([['orders-1', 0], ['orders-1', 1], ['orders-1', 2], ['abc', 0], ['orders-1', 3]]);
    expect(all[2]!.position).toBe(a.position);
    expect(all[3]!.position).toBe(b.position);
    expect(all[4]!.position).toBe(c.position);
    expect(all.every((e) => e.metadata.$correlationId === 'run-1')).toBe(true);
    expect(sim.log.some((r) => r.streamId.startsWith('$'))).toBe(true);
    expect(await store.headPosition()).toBe(c.position);
    expect(await store.streamRevision('orders-1')).toBe(3);
    expect(await store.streamRevision('missing')).toBe(-1);
    expect(await collect(store.readStream('missing'))).toEqual([]);
    await store.close();
    expect(sim.disposed).toBe(true);
  });

  it('an idempotent retry (which the server answers without a position) returns the first result', async () => {
    const { store } = await openSim();
    const batch = [ev(), ev()];
    const first = await store.appendToStream('x', batch, { expectedRevision: 'no_stream' });
    await store.appendToStream('y', [ev()]);
    expect(await store.appendToStream('x', batch, { expectedRevision: 'no_stream' })).toEqual(first);
    const anyBatch = [ev()];
    const r = await store.appendToStream('x', anyBatch);
    expect(await store.appendToStream('x', anyBatch)).toEqual(r);
    await expect(store.appendToStream('x', [ev()], { expectedRevision: 0 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(store.appendToStream('x', [ev()], { expectedRevision: 'no_stream' })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_REVISION', actual: 2 });
    expect((await collect(store.readStream('x'))).length).toBe(3);
  });

  it('concurrent appends through one store land in call order, each against the revision before it', async () => {
    const { store } = await openSim();
    const results = await Promise.allSettled([
      store.appendToStream('s', [ev()], { expectedRevision: 'no_stream' }),
      store.appendToStream('s', [ev()], { expectedRevision: 0 }),
      store.appendToStream('s', [ev()], { expectedRevision: 'no_stream' }), // must fail: the first made the stream
      store.appendToStream('s', [ev(), ev()], { expectedRevision: 1 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await store.streamRevision('s')).toBe(3);
  });

  it('refuses bad events before sending anything, and $-streams', async () => {
    const { sim, store } = await openSim();
    await expect(store.appendToStream('a', [ev(), { id: randomUUID(), type: 'T', data: { n: 10n } }])).rejects.toMatchObject({ code: 'EVENT_DATA' });
    await expect(store.appendToStream('a', [ev(), { id: '', type: 'T', data: {} }])).rejects.toMatchObject({ code: 'EVENT_ID' });
    await expect(store.appendToStream('$all', [ev()])).rejects.toMatchObject({ code: 'STREAM_NAME' });
    await expect(store.appendToStream('a', [ev()], { expectedRevision: -2 })).rejects.toMatchObject({ code: 'EXPECTED_REVISION' });
    expect(sim.calls.append).toBe(0);
  });

  it('reads $all through pages, both directions, from a position inclusive, filtered by prefix and by type', async () => {
    const { sim, store } = await openSim();
    for (let i = 0; i < 12; i++) await store.appendToStream(i % 2 ? 'md-BTC' : 'orders', Array.from({ length: 200 }, (_, k) => ev(k % 3 ? 'Quote' : 'Trade', { i, k })));
    const all = await collect(store.readAll());
    expect(all.length).toBe(2400);
    expect(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position)).toBe(true);
    expect(sim.calls.readAll).toBeGreaterThanOrEqual(3); // 1000 per page
    const back = await collect(store.readAll({ direction: 'backwards' }));
    expect(back.map((e) => e.id)).toEqual([...all].reverse().map((e) => e.id));
    const mid = all[1234]!;
    expect((await collect(store.readAll({ fromPosition: mid.position, maxCount: 3 }))).map((e) => e.id)).toEqual(all.slice(1234, 1237).map((e) => e.id));
    expect((await collect(store.readAll({ fromPosition: mid.position, direction: 'backwards', maxCount: 3 }))).map((e) => e.id)).toEqual([all[1234], all[1233], all[1232]].map((e) => e!.id));
    const md = await collect(store.readAll({ filter: { streamPrefixes: ['md-'] } }));
    expect(md.map((e) => e.id)).toEqual(all.filter((e) => e.stream === 'md-BTC').map((e) => e.id));
    const trades = await collect(store.readAll({ filter: { eventTypes: ['Trade'] }, direction: 'backwards', maxCount: 5 }));
    expect(trades.map((e) => e.id)).toEqual(all.filter((e) => e.type === 'Trade').reverse().slice(0, 5).map((e) => e.id));
    const both = await collect(store.readAll({ filter: { streamPrefixes: ['md-'], eventTypes: ['Trade'] } }));
    expect(both.map((e) => e.id)).toEqual(all.filter((e) => e.stream === 'md-BTC' && e.type === 'Trade').map((e) => e.id));
    expect(await collect(store.readAll({ filter: { eventTypes: [] } }))).toEqual([]);
    const s = await collect(store.readStream('orders', { direction: 'backwards', fromRevision: 4 }));
    expect(s.map((e) => e.revision)).toEqual([4, 3, 2, 1, 0]);
  });

  it('namespaces: two stores on one server see only their own streams', async () => {
    const sim = new SimKurrentClient();
    const { store: a } = await openSim(sim, 'kurrentdb://sim:2113?tapedeckNamespace=paper');
    const { store: b } = await openSim(sim, 'kurrentdb://sim:2113?tls=false&tapedeckNamespace=live');
    await a.appendToStream('run-1', [ev(), ev()], { expectedRevision: 'no_stream' });
    await b.appendToStream('run-1', [ev()], { expectedRevision: 'no_stream' });
    expect(sim.log.filter((r) => r.streamId === 'paper/run-1').length).toBe(2);
    expect((await collect(a.readAll())).map((e) => e.stream)).toEqual(['run-1', 'run-1']);
    expect((await collect(b.readAll())).length).toBe(1);
    expect(await b.streamRevision('run-1')).toBe(0);
    expect(await a.headPosition()).toBeLessThan(await b.headPosition());
  });

  it('subscriptions: history then live, from a checkpoint with no repeat, ended by close()', async () => {
    const { store } = await openSim();
    await store.appendToStream('a', [ev(), ev()]);
    const sub = store.subscribeToAll();
    const first = take(sub, 4);
    await store.appendToStream('b', [ev(), ev()]);
    const got = await first;
    await sub.close();
    expect(got.map((e) => [e.stream, e.revision])).toEqual([['a', 0], ['a', 1], ['b', 0], ['b', 1]]);
    const resumed = store.subscribeToAll({ fromPosition: got[1]!.position, filter: { streamPrefixes: ['b'] } });
    expect((await take(resumed, 2)).map((e) => e.id)).toEqual(got.slice(2).map((e) => e.id));
    await resumed.close();
    const one = store.subscribeToStream('a', { fromRevision: 0 });
    const p = take(one, 2);
    await store.appendToStream('a', [ev()]);
    expect((await p).map((e) => e.revision)).toEqual([1, 2]);
    // close() from outside ends an iteration that is waiting for the next event.
    const idle = store.subscribeToStream('quiet');
    const waiting = collect(idle);
    await new Promise((r) => setImmediate(r));
    await idle.close();
    expect(await waiting).toEqual([]);
  });

  it('an unreachable server: open fails with STORE_UNAVAILABLE; a server lost later fails calls the same way', async () => {
    const down = new SimKurrentClient();
    down.down = true;
    await expect(openSim(down)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const { sim, store } = await openSim();
    sim.down = true;
    await expect(store.appendToStream('a', [ev()])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/ECONNREFUSED 127\.0\.0\.1:2113/) });
    await expect(collect(store.readAll())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('store copy: embedded → KurrentDB (simulated) → embedded keeps ids, order, revisions, data, raw bytes and metadata', async () => {
    const t = tmpDir('td-kdb-copy-');
    const src = await EmbeddedEventStore.open(`${t.dir}/a`);
    for (let i = 0; i < 30; i++) {
      await src.appendToStream(`s-${i % 4}`, [ev('T', { i }), { id: randomUUID(), type: 'Raw', data: Uint8Array.from([i, 255, 0]), metadata: { $causationId: randomUUID() } }]);
    }
    const { store: kdb } = await openSim();
    expect(await copyStore(src, kdb, { batchEvents: 7 })).toMatchObject({ copied: 60, streams: 4 });
    const back = await EmbeddedEventStore.open(`${t.dir}/b`);
    expect(await copyStore(kdb, back)).toMatchObject({ copied: 60 });
    const strip = (e: RecordedEvent) => ({ ...e, position: 0, data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('hex') });
    const original = await collect(src.readAll());
    expect((await collect(kdb.readAll())).map(strip)).toEqual(original.map(strip));
    expect(await collect(back.readAll())).toEqual(original); // positions too: an empty embedded store numbers them the same
    await src.close();
    await back.close();
    t.cleanup();
  });

  it('store verify reads $all: a clean store passes; an event whose metadata does not decode is reported with its place', async () => {
    const { sim, store } = await openSim();
    for (let i = 0; i < 5; i++) await store.appendToStream(`s-${i % 2}`, [ev(), ev()]);
    expect(await checkByReading(store)).toMatchObject({ ok: true, events: 10, streams: 2, problems: [] });
    const victim = sim.log.find((r) => r.streamId === 's-1' && r.revision === 1n)!;
    victim.metadata = Buffer.from('{not json');
    const r = await checkByReading(store);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ position: Number(victim.commit), stream: 's-1', id: victim.id, reason: expect.stringMatching(/^EVENT_DECODE: .*metadata is not a JSON object/) });
  });
});

defineStoreContract('kurrentdb adapter over a simulated client (not a KurrentDB server)', () => {
  const sim = new SimKurrentClient();
  const location = `kurrentdb://sim:2113?tls=false&tapedeckNamespace=contract-${randomUUID()}`;
  return reopeningHarness(() => KurrentDbEventStore.withClient(sim as unknown as KurrentDBClient, location));
});
