/**
 * Recovery fails closed on damage it used to pass over: a segment missing from the middle or the
 * front of the log, a segment renamed, a junk file named like a segment, a whole record damaged at the
 * very end of the log (not a torn write), and a bad tail in an older segment. Each is corruption
 * reported with the positions it makes unreadable; a writer refuses the store and changes no byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { listSegments, segmentName, SEGMENTS_DIR } from '../../src/store/embedded/segments.js';
import { collect } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

/** A store of `n` one-event appends, rolled into small segments (several records each). */
async function makeStore(dir: string, n = 40, segmentBytes = 400): Promise<string[]> {
  const s = await EmbeddedEventStore.open(dir, { segmentBytes });
  for (let i = 0; i < n; i++) await s.appendToStream(`s${i % 3}`, [{ id: crypto.randomUUID(), type: 'T', data: { i } }]);
  await s.close();
  return listSegments(dir);
}

/** Every file of the store's segments, byte for byte (to prove a refused open changed nothing). */
function snapshot(dir: string): Map<string, string> {
  const segDir = path.join(dir, SEGMENTS_DIR);
  return new Map(fs.readdirSync(segDir).sort().map((f) => [f, fs.readFileSync(path.join(segDir, f)).toString('base64')]));
}

function firstPositionOf(name: string): number {
  return Number(name.slice(0, 20));
}

async function expectRefused(dir: string): Promise<void> {
  const before = snapshot(dir);
  await expect(EmbeddedEventStore.open(dir)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  expect(snapshot(dir)).toEqual(before);
}

describe('missing, renamed and foreign segments', () => {
  it('a segment deleted from the middle is a gap: reported with its positions, writes refused, verify exits 1', async () => {
    const t = tmpDir('td-gap-');
    const segs = await makeStore(t.dir);
    expect(segs.length).toBeGreaterThanOrEqual(4);
    const victim = segs[2]!;
    const from = firstPositionOf(victim);
    const to = firstPositionOf(segs[3]!) - 1;
    fs.rmSync(path.join(t.dir, SEGMENTS_DIR, victim));

    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    const h = ro.health();
    expect(h.ok).toBe(false);
    expect(h.corrupt).toContainEqual(expect.objectContaining({ segment: segs[3], fromPosition: from, toPosition: to }));
    await ro.close();
    await expectRefused(t.dir);

    const v = tapedeck(['store', 'verify', '--store', t.dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`positions ${from}..${to} unreadable`);
    const j = tapedeck(['store', 'verify', '--store', t.dir, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).corrupt).toContainEqual(expect.objectContaining({ fromPosition: from, toPosition: to }));
    const w = tapedeck(['store', 'append', '--store', t.dir, '--stream', 's0'], '{"type":"T","data":{}}\n');
    expect(w.code).toBe(2);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.stderr).toMatch(new RegExp(`STORE_CORRUPT: .*positions ${from}\\.\\.${to} unreadable`));
    t.cleanup();
  });

  it('the first segment deleted: positions from 0 are missing', async () => {
    const t = tmpDir('td-gap-front-');
    const segs = await makeStore(t.dir);
    fs.rmSync(path.join(t.dir, SEGMENTS_DIR, segs[0]!));
    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    expect(ro.health().corrupt).toContainEqual(expect.objectContaining({ segment: segs[1], fromPosition: 0, toPosition: firstPositionOf(segs[1]!) - 1 }));
    await ro.close();
    await expectRefused(t.dir);
    t.cleanup();
  });

  it('the newest segment deleted: the seal of the one before says the log went on', async () => {
    const t = tmpDir('td-gap-newest-');
    const segs = await makeStore(t.dir);
    fs.rmSync(path.join(t.dir, SEGMENTS_DIR, segs.at(-1)!));
    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    expect(ro.health().corrupt).toEqual([expect.objectContaining({ segment: segs.at(-2), fromPosition: firstPositionOf(segs.at(-1)!), toPosition: null })]);
    await ro.close();
    await expectRefused(t.dir);
    t.cleanup();
  });

  it('a roll-over cut short (new segment created, old one not yet sealed, or its seal torn) is no damage: a writer seals it', async () => {
    for (const cut of [36, 10]) { // the whole seal missing, or a torn prefix of it left
      const t = tmpDir('td-roll-');
      const segs = await makeStore(t.dir, 12, 300);
      const prev = path.join(t.dir, SEGMENTS_DIR, segs.at(-2)!);
      const last = path.join(t.dir, SEGMENTS_DIR, segs.at(-1)!);
      const next = firstPositionOf(segs.at(-1)!);
      const sealed = fs.readFileSync(prev);
      fs.writeFileSync(prev, sealed.subarray(0, sealed.length - cut)); // as if the crash came before (or during) the seal
      fs.writeFileSync(last, ''); // the new segment exists, still empty
      const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
      expect(ro.health().ok).toBe(true);
      await ro.close();
      const rw = await EmbeddedEventStore.open(t.dir, { segmentBytes: 300 });
      expect(rw.health().ok).toBe(true);
      expect(await rw.headPosition()).toBe(next - 1);
      await rw.appendToStream('s0', [{ id: crypto.randomUUID(), type: 'T', data: {} }]);
      await rw.close();
      expect(fs.readFileSync(prev)).toEqual(sealed); // sealed again, exactly as a finished roll-over would have
      const again = await EmbeddedEventStore.open(t.dir, { readOnly: true });
      expect(again.health()).toMatchObject({ ok: true, events: next + 1 });
      await again.close();
      t.cleanup();
    }
  });

  it('a junk file named like the next segment is not taken as the live segment, and is left as found', async () => {
    const t = tmpDir('td-junk-');
    await makeStore(t.dir, 10, 1 << 20);
    const junk = path.join(t.dir, SEGMENTS_DIR, segmentName(5000));
    fs.writeFileSync(junk, 'not a segment of this log, whatever its name says\n');
    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    const h = ro.health();
    expect(h.ok).toBe(false);
    expect(h.corrupt).toContainEqual(expect.objectContaining({ segment: segmentName(5000), fromPosition: 10, toPosition: 4999 }));
    await ro.close();
    await expectRefused(t.dir);
    t.cleanup();
  });

  it('property: any deletion of segments (the newest included), and any rename, is detected and refused', async () => {
    const t = tmpDir('td-gap-prop-');
    const pristine = path.join(t.dir, 'pristine');
    const segs = await makeStore(pristine, 60, 300);
    expect(segs.length).toBeGreaterThanOrEqual(6);
    let run = 0;
    const damage = fc.oneof(
      // delete any set of segments: the newest, the oldest, some in the middle, or all of them
      fc.subarray(segs, { minLength: 1 }).map((names) => ({ kind: 'delete' as const, names })),
      // rename one segment to any other segment-like name
      fc.record({ kind: fc.constant('rename' as const), index: fc.nat(segs.length - 1), to: fc.integer({ min: 0, max: 10_000 }) }),
      // swap two segments' names
      fc.record({ kind: fc.constant('swap' as const), a: fc.nat(segs.length - 1), b: fc.nat(segs.length - 1) }),
    );
    await fc.assert(
      fc.asyncProperty(damage, async (d) => {
        const dir = path.join(t.dir, `run-${run++}`);
        fs.cpSync(pristine, dir, { recursive: true });
        const segDir = path.join(dir, SEGMENTS_DIR);
        if (d.kind === 'delete') for (const n of d.names) fs.rmSync(path.join(segDir, n));
        else if (d.kind === 'rename') {
          const to = segmentName(d.to);
          fc.pre(!segs.includes(to));
          fs.renameSync(path.join(segDir, segs[d.index]!), path.join(segDir, to));
        } else {
          fc.pre(d.a !== d.b);
          fs.renameSync(path.join(segDir, segs[d.a]!), path.join(segDir, 'tmp'));
          fs.renameSync(path.join(segDir, segs[d.b]!), path.join(segDir, segs[d.a]!));
          fs.renameSync(path.join(segDir, 'tmp'), path.join(segDir, segs[d.b]!));
        }
        const ro = await EmbeddedEventStore.open(dir, { readOnly: true });
        const h = ro.health();
        await ro.close();
        expect(h.ok, JSON.stringify(d)).toBe(false);
        await expectRefused(dir);
        fs.rmSync(dir, { recursive: true });
      }),
      { numRuns: 40 },
    );
    t.cleanup();
  });
});

describe('torn tail or corruption', () => {
  it('property: a byte flipped anywhere in the last acknowledged record is corruption, never cut off as a torn tail', async () => {
    const t = tmpDir('td-lastflip-');
    const pristine = path.join(t.dir, 'pristine');
    await makeStore(pristine, 5, 1 << 20);
    const seg = listSegments(pristine)[0]!;
    const bytes = fs.readFileSync(path.join(pristine, SEGMENTS_DIR, seg));
    let lastOff = 0;
    for (let off = 0; off < bytes.length; off += 12 + bytes.readUInt32LE(off + 4)) lastOff = off;
    const lastLen = bytes.length - lastOff;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(lastLen - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const dir = path.join(t.dir, `run-${run++}`);
        fs.cpSync(pristine, dir, { recursive: true });
        const file = path.join(dir, SEGMENTS_DIR, seg);
        const damaged = Buffer.from(bytes);
        damaged[lastOff + at] = damaged[lastOff + at]! ^ xor;
        fs.writeFileSync(file, damaged);
        const ro = await EmbeddedEventStore.open(dir, { readOnly: true });
        const h = ro.health();
        expect(h.truncatedTail).toBe(false);
        expect(h.ok).toBe(false);
        expect(h.corrupt).toEqual([expect.objectContaining({ segment: seg, offset: lastOff, fromPosition: 4, toPosition: null })]);
        expect((await collect(ro.readAll())).length).toBe(4);
        await ro.close();
        await expectRefused(dir);
        expect(fs.statSync(file).size).toBe(bytes.length);
        fs.rmSync(dir, { recursive: true });
      }),
      { numRuns: 50 },
    );
    t.cleanup();
  });

  it('an incomplete last record is still a torn tail: cut by a writer, the store ok', async () => {
    const t = tmpDir('td-torn2-');
    await makeStore(t.dir, 5, 1 << 20);
    const file = path.join(t.dir, SEGMENTS_DIR, listSegments(t.dir)[0]!);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);
    const rw = await EmbeddedEventStore.open(t.dir);
    expect(rw.health()).toMatchObject({ ok: true, truncatedTail: true, events: 4 });
    await rw.close();
    t.cleanup();
  });

  it('a bad tail in an older segment is corruption, not a torn tail, and its positions are named', async () => {
    const t = tmpDir('td-oldtail-');
    const segs = await makeStore(t.dir);
    const older = path.join(t.dir, SEGMENTS_DIR, segs[1]!);
    const size = fs.statSync(older).size;
    fs.truncateSync(older, size - 36 - 3); // its seal and the end of its last record gone: impossible in a crash, a segment is durable before the next begins
    const ro = await EmbeddedEventStore.open(t.dir, { readOnly: true });
    const h = ro.health();
    expect(h.ok).toBe(false);
    expect(h.truncatedTail).toBe(false);
    expect(h.corrupt).toContainEqual(expect.objectContaining({ segment: segs[1], fromPosition: firstPositionOf(segs[2]!) - 1, toPosition: firstPositionOf(segs[2]!) - 1 }));
    await ro.close();
    await expectRefused(t.dir);
    t.cleanup();
  });
});
