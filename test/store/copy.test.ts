/**
 * copyStore and checkByReading (src/store/copy.ts) through the port: embedded → embedded with every event
 * identical (id, type, stream, revision, position, JSON data, raw bytes, metadata), a destination that is
 * not empty refused, a copy that fails part-way saying how far it got and finishing with resume, and the
 * read-through check finding gaps, disorder and events that do not decode.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { checkByReading, copyStore } from '../../src/store/copy.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type EventData, type EventStore, type RecordedEvent } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(dir: string, readOnly = false): Promise<EmbeddedEventStore> {
  const s = await EmbeddedEventStore.open(dir, { readOnly });
  cleanups.push(() => s.close());
  return s;
}

function newDir(): string {
  const t = tmpDir('td-copy-');
  cleanups.push(t.cleanup);
  return t.dir;
}

const meta = (i: number) => ({ schemaVersion: 1, eventTimeNs: `${1_700_000_000_000_000_000n + BigInt(i)}`, receiveTimeNs: `${1_700_000_000_000_000_100n + BigInt(i)}`, $causationId: i % 2 ? randomUUID() : null, $correlationId: 'run-7', raw: { format: 'itch50', base64: Buffer.from([i, 0, 255]).toString('base64') } });

/** A source with interleaved streams, multi-event appends, JSON, pre-encoded JSON, raw bytes and metadata. */
async function fillSource(s: EventStore): Promise<number> {
  let n = 0;
  const json = (i: number): EventData => ({ id: randomUUID(), type: 'TradeReported', data: { priceTicks: 6_500_000 + i, qtyLots: i, note: `é ${i}` }, metadata: meta(i) });
  const bytes = (i: number): EventData => ({ id: randomUUID(), type: 'ItchMessage', data: Uint8Array.from([0, i & 255, 250, 255, 10, 13]), metadata: { i } });
  const pre = (i: number): EventData => ({ id: randomUUID(), type: 'Quote', data: new TextEncoder().encode(`{"bid":${i},"ask":${i + 1}}`), contentType: 'application/json' });
  for (let round = 0; round < 12; round++) {
    await s.appendToStream('md-BTC', [json(n++), json(n++), pre(n++)]);
    await s.appendToStream(`run-${round % 3}`, [bytes(n++)], { expectedRevision: round < 3 ? 'no_stream' : 'stream_exists' });
    if (round % 4 === 0) await s.appendToStream('md-ETH', Array.from({ length: 7 }, () => json(n++)));
  }
  await s.appendToStream('empty-meta', [{ id: randomUUID(), type: 'Bare', data: { ok: true } }]);
  return n + 1;
}

function comparable(e: RecordedEvent): unknown {
  return { ...e, data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('hex') };
}

describe('store copy (through the port)', () => {
  it('embedded → embedded: every event identical, ids, order, revisions, positions, JSON, raw bytes and metadata', async () => {
    const srcDir = newDir();
    const src = await open(srcDir);
    const total = await fillSource(src);
    const dst = await open(newDir());
    const report = await copyStore(src, dst, { batchEvents: 4 });
    expect(report).toMatchObject({ copied: total, alreadyThere: 0, events: total, streams: 6 });
    const a = await collect(src.readAll());
    const b = await collect(dst.readAll());
    expect(a.length).toBe(total);
    expect(b.map(comparable)).toEqual(a.map(comparable));
    // Raw bytes verbatim, byte for byte, and metadata as written (KurrentDB's $causationId/$correlationId keys).
    const raw = b.find((e) => e.type === 'ItchMessage')!;
    expect(raw.isJson).toBe(false);
    expect(Buffer.from(raw.data as Uint8Array).toString('hex')).toBe('0003faff0a0d');
    expect(b.find((e) => e.type === 'TradeReported')!.metadata).toMatchObject({ $correlationId: 'run-7', raw: { format: 'itch50' } });
    for (const stream of ['md-BTC', 'md-ETH', 'run-0', 'run-1', 'run-2', 'empty-meta']) {
      expect((await collect(dst.readStream(stream))).map(comparable)).toEqual((await collect(src.readStream(stream))).map(comparable));
      expect(await dst.streamRevision(stream)).toBe(await src.streamRevision(stream));
    }
    expect(await dst.headPosition()).toBe(await src.headPosition());
    expect(await checkByReading(dst)).toMatchObject({ ok: true, events: total, streams: 6, problems: [] });
  });

  it('refuses a destination that is not empty, and writes nothing to it', async () => {
    const src = await open(newDir());
    await fillSource(src);
    const dst = await open(newDir());
    await dst.appendToStream('mine', [{ id: randomUUID(), type: 'X', data: {} }]);
    await expect(copyStore(src, dst)).rejects.toMatchObject({ code: 'COPY_DESTINATION_NOT_EMPTY', message: expect.stringMatching(/first is mine@0.*--resume/) });
    expect((await collect(dst.readAll())).map((e) => e.stream)).toEqual(['mine']);
    // Resuming into it fails too: it is not a copy of this source.
    await expect(copyStore(src, dst, { resume: true })).rejects.toMatchObject({ code: 'COPY_DIVERGED' });
    expect((await collect(dst.readAll())).length).toBe(1);
  });

  it('a copy that fails part-way says how far it got; resuming checks the destination and finishes it identical', async () => {
    const src = await open(newDir());
    const total = await fillSource(src);
    const dst = await open(newDir());
    let appends = 0;
    const failing: EventStore = Object.assign(Object.create(dst) as EventStore, {
      appendToStream: (...args: Parameters<EventStore['appendToStream']>) => {
        if (++appends === 5) return Promise.reject(new TapedeckError('STORE_UNAVAILABLE', 'disk went away'));
        return dst.appendToStream(...args);
      },
    });
    const err = await copyStore(src, failing, { batchEvents: 3 }).then(() => null, (e: unknown) => e as TapedeckError);
    expect(err).toBeInstanceOf(TapedeckError);
    expect(err!.code).toBe('COPY_FAILED');
    const copied = (await collect(dst.readAll())).length;
    expect(copied).toBeGreaterThan(0);
    expect(err!.message).toContain(`stopped after ${copied} of the source's events were in the destination`);
    expect(err!.message).toMatch(/STORE_UNAVAILABLE: disk went away.*--resume/);
    await expect(copyStore(src, dst)).rejects.toMatchObject({ code: 'COPY_DESTINATION_NOT_EMPTY' });
    const report = await copyStore(src, dst, { resume: true });
    expect(report).toMatchObject({ alreadyThere: copied, copied: total - copied, events: total });
    expect((await collect(dst.readAll())).map(comparable)).toEqual((await collect(src.readAll())).map(comparable));
    // A second resume has nothing left to do.
    expect(await copyStore(src, dst, { resume: true })).toMatchObject({ alreadyThere: total, copied: 0 });
  });

  it('an empty source copies nothing and succeeds', async () => {
    const src = await open(newDir());
    const dst = await open(newDir());
    expect(await copyStore(src, dst)).toEqual({ copied: 0, alreadyThere: 0, events: 0, streams: 0, appends: 0 });
  });
});

describe('checkByReading (store verify on a backend without a log check)', () => {
  /** A port whose readAll yields the given events (and streamRevision agrees with them), or throws after them. */
  function fake(events: Array<Partial<RecordedEvent>>, thenThrow?: Error): EventStore {
    const full = events.map((e, i) => ({ id: randomUUID(), type: 'T', isJson: true, data: {}, metadata: {}, stream: 's', revision: i, position: i * 100, ...e }) as RecordedEvent);
    return {
      async *readAll() {
        yield* full;
        if (thenThrow) throw thenThrow;
      },
      async streamRevision(stream: string) {
        return Math.max(-1, ...full.filter((e) => e.stream === stream).map((e) => e.revision));
      },
    } as unknown as EventStore;
  }

  it('accepts sparse positions and contiguous revisions', async () => {
    const r = await checkByReading(fake([{ stream: 'a', revision: 0, position: 7 }, { stream: 'b', revision: 0, position: 900 }, { stream: 'a', revision: 1, position: 1_000_000 }]));
    expect(r).toEqual({ ok: true, events: 3, streams: 2, lastPosition: 1_000_000, problems: [] });
  });

  it('reports a revision gap, a repeated revision and a position that goes back', async () => {
    const r = await checkByReading(fake([{ stream: 'a', revision: 0, position: 10 }, { stream: 'a', revision: 2, position: 20 }, { stream: 'a', revision: 2, position: 15 }]));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.reason)).toEqual(['stream "a" goes from revision 0 to 2', 'position 15 does not follow 20', 'stream "a" goes from revision 2 to 2']);
  });

  it('reports an event that does not decode, with its place, and rethrows an unreachable store', async () => {
    const bad = new TapedeckError('EVENT_DECODE', 'event x at revision 1: data is marked JSON but does not parse', { stream: 'a', id: 'x', position: 200 });
    const r = await checkByReading(fake([{ stream: 'a', revision: 0, position: 100 }], bad));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([{ position: 200, stream: 'a', id: 'x', reason: expect.stringMatching(/^EVENT_DECODE: event x at revision 1: data is marked JSON but does not parse/) }]);
    await expect(checkByReading(fake([], new TapedeckError('STORE_UNAVAILABLE', 'gone')))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
