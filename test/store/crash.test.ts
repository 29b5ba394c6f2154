/**
 * Crash safety: a child appending continuously is SIGKILLed at random moments, 50 times, on the same
 * store. After each reopen every acknowledged append is present, in order, exactly once; no append is
 * half-present; and the store verifies clean. Also: torn tails and flipped bytes are detected.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { listSegments, SEGMENTS_DIR } from '../../src/store/embedded/segments.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const CHILD = path.join(repoRoot, 'dist/test/fixtures/crash-writer.js');

interface Ack { run: string; w: number; batch: number; count: number; stream: string; lastRevision: number; position: number }

function runAndKill(dir: string, run: string, killAfterMs: number, segmentBytes: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, run, String(segmentBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === null && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own (${signal ?? _code}): ${err}`));
      const acks: Ack[] = [];
      for (const line of out.split('\n')) {
        const p = line.split(' ');
        if (p[0] !== 'ack' || p.length !== 8) continue; // a line cut by the kill is not an ack we saw
        acks.push({ run: p[1]!, w: Number(p[2]), batch: Number(p[3]), count: Number(p[4]), stream: p[5]!, lastRevision: Number(p[6]), position: Number(p[7]) });
      }
      resolve(acks);
    });
  });
}

describe('crash safety (SIGKILL while appending)', () => {
  const t = tmpDir('td-crash-');
  afterEach(() => undefined);

  it('keeps every acknowledged append, exactly once and in order, across 50 random kills', { timeout: 240_000 }, async () => {
    expect(fs.existsSync(CHILD), `build first: ${CHILD} is missing (npm test runs tsc before vitest)`).toBe(true);
    const allAcks: Ack[] = [];
    let truncations = 0;
    const rnd = fc.sample(fc.integer({ min: 5, max: 120 }), { numRuns: 50, seed: 20261121 });
    let injected = 0;
    for (let i = 0; i < 50; i++) {
      const acks = await runAndKill(t.dir, `r${i}`, rnd[i]!, 64 * 1024);
      allAcks.push(...acks);
      if (i % 5 === 4) {
        // A power cut mid-write leaves part of an unacknowledged record: a valid header start and a cut body.
        const segs = listSegments(t.dir);
        const last = path.join(t.dir, SEGMENTS_DIR, segs[segs.length - 1]!);
        const torn = Buffer.alloc(12 + (rnd[i]! % 200));
        torn.writeUInt32LE(0x31524454, 0);
        torn.writeUInt32LE(5000, 4);
        fs.appendFileSync(last, torn);
        injected++;
      }
      const s = await EmbeddedEventStore.open(t.dir);
      const h = s.health();
      if (h.truncatedTail) truncations++;
      expect(h.ok, JSON.stringify(h.corrupt)).toBe(true);
      const events = await collect(s.readAll());
      checkLog(events, allAcks);
      await s.close();
    }
    // Sanity: the runs really appended a lot and were really cut mid-stream.
    expect(allAcks.length).toBeGreaterThan(200);
    const verified = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    expect(verified.health()).toMatchObject({ ok: true, truncatedTail: false });
    await verified.close();
    expect(listSegments(t.dir).length).toBeGreaterThan(1);
    expect(truncations).toBeGreaterThanOrEqual(injected);
    console.log(`crash test: ${allAcks.length} acknowledged appends over 50 kills, ${truncations} torn tails truncated (${injected} injected), ${listSegments(t.dir).length} segments`);
    t.cleanup();
  });
});

function checkLog(events: RecordedEvent[], acks: Ack[]): void {
  // Positions are dense and strictly increasing: nothing duplicated, nothing reordered.
  events.forEach((e, i) => expect(e.position).toBe(i));
  // Group events into their appends; every append present must be complete (no half append).
  const batches = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    const m = e.metadata as { run: string; w: number; batch: number; idx: number; of: number };
    const key = `${m.run}/${m.w}/${m.batch}`;
    const list = batches.get(key) ?? [];
    list.push(e);
    batches.set(key, list);
  }
  for (const [key, list] of batches) {
    const of = (list[0]!.metadata as { of: number }).of;
    expect(list.length, `append ${key} is half-present`).toBe(of);
    expect(list.map((e) => (e.metadata as { idx: number }).idx)).toEqual([...Array(of).keys()]);
    for (let k = 1; k < list.length; k++) expect(list[k]!.position).toBe(list[k - 1]!.position + 1);
  }
  // Every acknowledged append is there, at the position and revision it was acknowledged with.
  for (const a of acks) {
    const list = batches.get(`${a.run}/${a.w}/${a.batch}`);
    expect(list, `acknowledged append ${a.run}/${a.w}/${a.batch} is missing`).toBeDefined();
    const last = list![list!.length - 1]!;
    expect(last.position).toBe(a.position);
    expect(last.revision).toBe(a.lastRevision);
    expect(last.stream).toBe(a.stream);
  }
  // Per writer and run, appends appear in the order they were made (batches 0..k with no hole).
  const seen = new Map<string, number[]>();
  for (const key of batches.keys()) {
    const [run, w, b] = key.split('/');
    const k = `${run}/${w}`;
    seen.set(k, [...(seen.get(k) ?? []), Number(b)]);
  }
  for (const [k, list] of seen) expect(list, `writer ${k}`).toEqual([...Array(list.length).keys()]);
}

describe('damage detection', () => {
  it('truncates a torn tail on open, reports it, and loses only the unacknowledged append', async () => {
    const t = tmpDir('td-torn-');
    const s = await EmbeddedEventStore.open(t.dir);
    for (let i = 0; i < 10; i++) await s.appendToStream('s', [{ id: crypto.randomUUID(), type: 'T', data: { i } }]);
    await s.close();
    const seg = path.join(t.dir, SEGMENTS_DIR, listSegments(t.dir).at(-1)!);
    const size = fs.statSync(seg).size;
    fs.truncateSync(seg, size - 7); // the last record loses its end, as in a crash mid-write
    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    expect(ro.health()).toMatchObject({ ok: true, truncatedTail: true, records: 9 });
    await ro.close();
    expect(fs.statSync(seg).size).toBe(size - 7); // read-only never modifies
    const rw = await EmbeddedEventStore.open(t.dir);
    expect(rw.health()).toMatchObject({ ok: true, truncatedTail: true });
    const evs = await collect(rw.readAll());
    expect(evs.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const r = await rw.appendToStream('s', [{ id: crypto.randomUUID(), type: 'T', data: { i: 99 } }], { expectedRevision: 8 });
    expect(r).toEqual({ nextExpectedRevision: 9, position: 9 });
    await rw.close();
    const again = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    expect(again.health()).toMatchObject({ ok: true, truncatedTail: false, records: 10 });
    await again.close();
    t.cleanup();
  });

  it('reports a flipped byte in the middle with its segment and offset, and never serves it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 18 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (victim, byteSeed, xor) => {
        const t = tmpDir('td-flip-');
        const s = await EmbeddedEventStore.open(t.dir);
        for (let i = 0; i < 20; i++) await s.appendToStream(`s${i % 2}`, [{ id: crypto.randomUUID(), type: 'T', data: { i } }, { id: crypto.randomUUID(), type: 'T', data: { i } }]);
        await s.close();
        const seg = path.join(t.dir, SEGMENTS_DIR, listSegments(t.dir)[0]!);
        const bytes = fs.readFileSync(seg);
        // find record `victim`'s offset by walking frames
        let off = 0;
        for (let k = 0; k < victim; k++) off += 12 + bytes.readUInt32LE(off + 4);
        const len = 12 + bytes.readUInt32LE(off + 4);
        const at = off + (byteSeed % len);
        bytes[at] = bytes[at]! ^ xor;
        fs.writeFileSync(seg, bytes);
        const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
        const h = ro.health();
        expect(h.ok).toBe(false);
        expect(h.corrupt[0]).toMatchObject({ segment: listSegments(t.dir)[0], offset: off });
        const evs = await collect(ro.readAll());
        expect(evs.length).toBe(38);
        expect(evs.some((e) => (e.data as { i: number }).i === victim)).toBe(false);
        await ro.close();
        await expect(EmbeddedEventStore.open(t.dir)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        t.cleanup();
      }),
      { numRuns: 25 },
    );
  });
});
