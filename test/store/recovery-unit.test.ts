/**
 * The embedded store's recovery on segment files written byte by byte (in process, no CLI): what a
 * segment scan finds (good records, corruption followed by good records, a torn tail only at the end of
 * the last segment, a whole record with a bad checksum as corruption), and what `recover` makes of the
 * segments (one unbroken run of positions from 0 across contiguous, sealed segments; every break a
 * corrupt range naming the positions it leaves unreadable; a writer refuses a damaged store and cuts a
 * torn tail or finishes a roll-over only on a whole one; the rebuilt indexes serve reads, revisions and
 * idempotent retries).
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAppendRecord, encodeSealRecord, RECORD_MAGIC, SEAL_RECORD_BYTES, WriteBuffer } from '../../src/store/embedded/record.js';
import { listSegments, scanSegment, segmentFirstPosition, segmentName, SEGMENTS_DIR } from '../../src/store/embedded/segments.js';
import { EmbeddedEventStore, MARKER_FILE } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function dir(): string {
  const t = tmpDir('td-recunit-');
  cleanups.push(() => t.cleanup());
  return t.dir;
}

/** One append record: `n` events of `stream` from position `pos`, revision `rev`; ids `<stream>-<rev>`. */
function rec(stream: string, pos: number, rev: number, n = 1): Buffer {
  const out = new WriteBuffer(256);
  const events = Array.from({ length: n }, (_, i) => ({ id: `${stream}-${rev + i}`, type: 'T', data: { pos: pos + i } }));
  const len = encodeAppendRecord(out, stream, pos, rev, events);
  return Buffer.from(out.buf.subarray(0, len));
}
const seal = (next: number): Buffer => encodeSealRecord(next);

/** A version-2 store (or 1: no seals) whose segments are the given files, named by their first position. */
function store(segments: Array<[number, Buffer[]]>, version = 2): string {
  const d = dir();
  fs.mkdirSync(path.join(d, SEGMENTS_DIR), { recursive: true });
  fs.writeFileSync(path.join(d, MARKER_FILE), JSON.stringify({ format: 'tapedeck-embedded-log', version }));
  for (const [first, parts] of segments) fs.writeFileSync(path.join(d, SEGMENTS_DIR, segmentName(first)), Buffer.concat(parts));
  return d;
}
const segFile = (d: string, first: number): string => path.join(d, SEGMENTS_DIR, segmentName(first));
const sizes = (d: string): number[] => listSegments(d).map((n) => fs.statSync(path.join(d, SEGMENTS_DIR, n)).size);

async function health(d: string) {
  const ro = await EmbeddedEventStore.open(d, { readOnly: true });
  try {
    return { ...ro.health(), events: (await collect(ro.readAll())).map((e) => (e.data as { pos: number }).pos) };
  } finally {
    await ro.close();
  }
}

/** A writer refuses the store, naming the first damage, and changes no byte. */
async function refused(d: string, first: RegExp): Promise<void> {
  const before = listSegments(d).map((n) => fs.readFileSync(path.join(d, SEGMENTS_DIR, n)).toString('base64'));
  const err = await EmbeddedEventStore.open(d).then(async (s) => {
    await s.close();
    return null;
  }, (e: unknown) => e);
  expect(err).toMatchObject({ code: 'STORE_CORRUPT' });
  expect((err as Error).message).toMatch(first);
  expect((err as Error).message).toMatch(/^store has \d+ corrupt range\(s\), first: .*; refusing to write \(run "tapedeck store verify"\)$/);
  expect(listSegments(d).map((n) => fs.readFileSync(path.join(d, SEGMENTS_DIR, n)).toString('base64'))).toEqual(before);
}

describe('segment names', () => {
  it('a segment is named by its first position in 20 digits; other files are not segments', () => {
    expect(segmentName(0)).toBe('00000000000000000000.log');
    expect(segmentName(1234)).toBe('00000000000000001234.log');
    expect(segmentFirstPosition('00000000000000001234.log')).toBe(1234);
    expect(segmentFirstPosition('99999999999999999999.log')).toBeNull();
    expect(segmentFirstPosition('abc')).toBeNull();
    const d = dir();
    expect(listSegments(d)).toEqual([]);
    fs.mkdirSync(path.join(d, SEGMENTS_DIR));
    for (const f of [segmentName(7), segmentName(0), 'x.log', '0001.log', `${segmentName(3)}.tmp`, `a${segmentName(3).slice(1)}`]) fs.writeFileSync(path.join(d, SEGMENTS_DIR, f), '');
    expect(listSegments(d)).toEqual([segmentName(0), segmentName(7)]);
  });
});

describe('scanSegment', () => {
  const write = (parts: Buffer[]): string => {
    const f = path.join(dir(), 'seg.log');
    fs.writeFileSync(f, Buffer.concat(parts));
    return f;
  };

  it('reads every good record, handing each with the buffer it sits in', () => {
    const parts = [rec('a', 0, 0), rec('b', 1, 0, 3), rec('a', 4, 1)];
    const seen: Array<[number, number]> = [];
    const s = scanSegment(write(parts), true, (h, buf, at) => {
      expect(buf.readUInt32LE(at)).toBe(RECORD_MAGIC);
      seen.push([h.offset, h.firstPosition]);
    });
    expect(s.corrupt).toEqual([]);
    expect(s.tornTailAt).toBeNull();
    expect(s.size).toBe(parts.reduce((n, p) => n + p.length, 0));
    expect(s.records.map((r) => [r.stream, r.firstPosition, r.firstRevision, r.eventCount])).toEqual([['a', 0, 0, 1], ['b', 1, 0, 3], ['a', 4, 1, 1]]);
    expect(seen).toEqual([[0, 0], [parts[0]!.length, 1], [parts[0]!.length + parts[1]!.length, 4]]);
  });

  it('bad bytes followed by good records are corruption (offset, length up to the next good record), in any segment', () => {
    const a = rec('a', 0, 0);
    const junk = Buffer.from('not a record at all, but it mentions TDR1 without a frame');
    const b = rec('a', 1, 1);
    for (const isLast of [true, false]) {
      const s = scanSegment(write([a, junk, b]), isLast);
      expect(s.records.map((r) => r.firstPosition)).toEqual([0, 1]);
      expect(s.corrupt).toEqual([{ segment: 'seg.log', offset: a.length, length: junk.length, reason: 'magic' }]);
      expect(s.tornTailAt).toBeNull();
    }
  });

  it('a record whose body was damaged, with good records after it, is skipped as corrupt', () => {
    const a = rec('a', 0, 0);
    const b = Buffer.from(rec('a', 1, 1));
    b[b.length - 2] = b[b.length - 2]! ^ 0x55;
    const c = rec('a', 2, 2);
    const s = scanSegment(write([a, b, c]), true);
    expect(s.records.map((r) => r.firstPosition)).toEqual([0, 2]);
    expect(s.corrupt).toEqual([{ segment: 'seg.log', offset: a.length, length: b.length, reason: 'checksum' }]);
  });

  it('an incomplete record at the end is a torn tail in the last segment only; elsewhere it is corruption to the end', () => {
    const a = rec('a', 0, 0);
    const b = rec('a', 1, 1);
    for (const cut of [1, 5, 12, 20, b.length - 1]) {
      const f = write([a, b.subarray(0, cut)]);
      expect(scanSegment(f, true)).toMatchObject({ corrupt: [], tornTailAt: a.length, size: a.length + cut });
      const older = scanSegment(f, false);
      expect(older.tornTailAt).toBeNull();
      expect(older.corrupt).toEqual([{ segment: 'seg.log', offset: a.length, length: cut, reason: expect.any(String) }]);
      expect(older.records).toHaveLength(1);
    }
  });

  it('a whole last record with a bad checksum, or a damaged header over a body that still checks, is corruption, not a torn tail', () => {
    const a = rec('a', 0, 0);
    const body = Buffer.from(rec('a', 1, 1));
    body[body.length - 1] = body[body.length - 1]! ^ 1;
    expect(scanSegment(write([a, body]), true)).toMatchObject({ tornTailAt: null, corrupt: [{ offset: a.length, length: body.length, reason: 'checksum' }] });
    const magic = Buffer.from(rec('a', 1, 1));
    magic[0] = magic[0]! ^ 0xff;
    expect(scanSegment(write([a, magic]), true)).toMatchObject({ tornTailAt: null, corrupt: [{ offset: a.length, length: magic.length, reason: 'magic' }] });
    const length = Buffer.from(rec('a', 1, 1));
    length.writeUInt32LE(length.length * 2, 4); // says it is longer than it is: a prefix, were the checksum not to hold
    expect(scanSegment(write([a, length]), true)).toMatchObject({ tornTailAt: null, corrupt: [{ offset: a.length, reason: 'short' }] });
    // A damaged header over a body that does not check, or too little of a body to hold one: torn.
    const both = Buffer.from(magic);
    both[both.length - 1] = both[both.length - 1]! ^ 1;
    expect(scanSegment(write([a, both]), true)).toMatchObject({ tornTailAt: a.length, corrupt: [] });
    expect(scanSegment(write([a, magic.subarray(0, 12 + 23)]), true)).toMatchObject({ tornTailAt: a.length, corrupt: [] });
    // A seal with a wrong shape (events) is a whole record too.
    const shape = Buffer.from(seal(5));
    shape[12] = 9;
    shape.writeUInt32LE(0, 8);
    shape.writeUInt32LE(crc32(shape.subarray(12)), 8);
    expect(scanSegment(write([a, shape]), true)).toMatchObject({ tornTailAt: null, corrupt: [{ offset: a.length, reason: 'shape' }] });
  });

  it('a candidate frame inside junk that runs past the end of the file is not taken as the next record', () => {
    const a = rec('a', 0, 0);
    const fake = Buffer.alloc(12);
    fake.writeUInt32LE(RECORD_MAGIC, 0);
    fake.writeUInt32LE(1_000, 4);
    const b = rec('a', 1, 1);
    const s = scanSegment(write([a, Buffer.from('xx'), b, fake]), false);
    expect(s.records.map((r) => r.firstPosition)).toEqual([0, 1]);
    expect(s.corrupt).toEqual([
      { segment: 'seg.log', offset: a.length, length: 2, reason: 'magic' },
      { segment: 'seg.log', offset: a.length + 2 + b.length, length: 12, reason: 'short' },
    ]);
  });

  it('junk longer than the 8 MiB search window: the next good record is still found, even across the window edge', () => {
    const a = rec('a', 0, 0);
    const b = rec('a', 1, 1);
    // The search reads windows of 8 MiB + 12 bytes from just after the bad offset, overlapping by 3: here
    // the good record's magic starts 2 bytes before the first window ends.
    for (const junkBytes of [(8 << 20) + 11]) {
      const junk = Buffer.alloc(junkBytes, 0x41);
      const s = scanSegment(write([a, junk, b]), true);
      expect(s.records.map((r) => r.firstPosition)).toEqual([0, 1]);
      expect(s.corrupt).toEqual([{ segment: 'seg.log', offset: a.length, length: junkBytes, reason: 'magic' }]);
    }
  });

  it('records across the 8 MiB read chunk, and one larger than it, are read whole', () => {
    const big = (pos: number, bytes: number): Buffer => {
      const out = new WriteBuffer(bytes + 256);
      const len = encodeAppendRecord(out, 'big', pos, pos, [{ id: `big-${pos}`, type: 'T', data: new Uint8Array(bytes).fill(pos + 1) }]);
      return Buffer.from(out.buf.subarray(0, len));
    };
    const parts = [big(0, 5 << 20), big(1, 5 << 20), big(2, 9 << 20), rec('a', 3, 0)];
    const s = scanSegment(write(parts), true);
    expect(s.corrupt).toEqual([]);
    expect(s.tornTailAt).toBeNull();
    expect(s.records.map((r) => [r.firstPosition, r.length])).toEqual(parts.map((p, i) => [i, p.length]));
    // The same with junk before a record beyond the first chunk: found again past the junk.
    const junkFirst = scanSegment(write([parts[0]!, Buffer.from('junk'), parts[1]!, parts[3]!]), true);
    expect(junkFirst.records.map((r) => r.firstPosition)).toEqual([0, 1, 3]);
    expect(junkFirst.corrupt).toEqual([{ segment: 'seg.log', offset: parts[0]!.length, length: 4, reason: 'magic' }]);
  });
});

describe('recover: contiguous segments', () => {
  const three = (): Array<[number, Buffer[]]> => [
    [0, [rec('a', 0, 0), rec('b', 1, 0, 2), seal(3)]],
    [3, [rec('a', 3, 1), rec('a', 4, 2, 2), seal(6)]],
    [6, [rec('b', 6, 2)]],
  ];

  it('sealed segments holding one run of positions from 0: whole, every event served, streams at their revisions', async () => {
    const d = store(three());
    expect(await health(d)).toMatchObject({ ok: true, corrupt: [], records: 5, events: [0, 1, 2, 3, 4, 5, 6], streams: 2, truncatedTail: false, tornTailBytes: 0 });
    const s = await EmbeddedEventStore.open(d);
    expect(await s.streamRevision('a')).toBe(3);
    expect(await s.streamRevision('b')).toBe(2);
    expect((await collect(s.readStream('a'))).map((e) => [e.revision, e.position])).toEqual([[0, 0], [1, 3], [2, 4], [3, 5]]);
    // The writer goes on after the last position, in the last segment.
    const r = await s.appendToStream('a', [{ id: 'a-4', type: 'T', data: { pos: 7 } }], { expectedRevision: 3 });
    expect(r).toEqual({ nextExpectedRevision: 4, position: 7 });
    await s.close();
    expect(sizes(d)[2]).toBeGreaterThan(three()[2]![1][0]!.length);
    expect((await health(d)).events).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a retried append is recognized from the ids recovery remembers, even after the id cache rolled over', async () => {
    const d = store(three());
    const s = await EmbeddedEventStore.open(d, { idCacheSize: 2 });
    // The record of a-2 (positions 4, 5) and of b-2 (6) are remembered; a retry returns where they landed.
    expect(await s.appendToStream('a', [{ id: 'a-2', type: 'T', data: {} }, { id: 'a-3', type: 'T', data: {} }], { expectedRevision: 'any' })).toEqual({ nextExpectedRevision: 3, position: 5 });
    expect(await s.appendToStream('b', [{ id: 'b-2', type: 'T', data: {} }], { expectedRevision: 'stream_exists' })).toEqual({ nextExpectedRevision: 2, position: 6 });
    expect(await s.appendToStream('a', [{ id: 'a-1', type: 'T', data: {} }], { expectedRevision: 'any' })).toEqual({ nextExpectedRevision: 1, position: 3 });
    expect(await s.streamRevision('a')).toBe(3);
    // Two generations of ids are kept: the first records' ids were dropped, so a-0 is appended anew.
    expect(await s.appendToStream('a', [{ id: 'a-0', type: 'T', data: {} }], { expectedRevision: 'any' })).toEqual({ nextExpectedRevision: 4, position: 7 });
    await s.close();
  });

  it('a version-1 store has no seals to check', async () => {
    const d = store([[0, [rec('a', 0, 0)]], [1, [rec('a', 1, 1)]]], 1);
    expect(await health(d)).toMatchObject({ ok: true, events: [0, 1] });
    const v2 = store([[0, [rec('a', 0, 0)]], [1, [rec('a', 1, 1)]]]);
    const h = await health(v2);
    expect(h.ok).toBe(false);
    expect(h.corrupt).toEqual([{ segment: segmentName(0), offset: rec('a', 0, 0).length, length: 0, reason: `the segment has no seal, yet newer segments follow it (from ${segmentName(1)}): it was cut short or replaced` }]);
  });

  it('a sealed store with no segment at all lost its log; a new empty store is whole', async () => {
    const d = store([]);
    const h = await health(d);
    expect(h.ok).toBe(false);
    expect(h.corrupt).toEqual([{ segment: segmentName(0), offset: 0, length: 0, reason: 'the store has no segment at all: its log was deleted', fromPosition: 0, toPosition: null }]);
    await refused(d, /no segment at all/);
    const fresh = dir();
    const s = await EmbeddedEventStore.open(path.join(fresh, 'new'));
    expect(s.health()).toMatchObject({ ok: true, events: 0, records: 0 });
    await s.close();
    expect(await health(path.join(fresh, 'new'))).toMatchObject({ ok: true, events: [] });
    expect(await health(store([[0, []]]))).toMatchObject({ ok: true, events: [], corrupt: [] });
  });
});

describe('recover: breaks in the run of positions', () => {
  it('positions missing inside a segment', async () => {
    const d = store([[0, [rec('a', 0, 0), rec('a', 3, 1), rec('a', 4, 2)]]]);
    const h = await health(d);
    expect(h.corrupt).toEqual([{ segment: segmentName(0), offset: rec('a', 0, 0).length, length: 0, reason: 'positions 1..2 are missing inside the segment', fromPosition: 1, toPosition: 2 }]);
    expect(h.events).toEqual([0, 3, 4]);
    await refused(d, /positions 1\.\.2 are missing inside the segment/);
  });

  it('bad bytes before the record that resumes the log are the cause of its gap, naming the positions', async () => {
    const bad = Buffer.from(rec('a', 1, 1, 2));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    const d = store([[0, [rec('a', 0, 0), bad, rec('a', 3, 3)]]]);
    const h = await health(d);
    expect(h.corrupt).toEqual([{ segment: segmentName(0), offset: rec('a', 0, 0).length, length: bad.length, reason: 'checksum', fromPosition: 1, toPosition: 2 }]);
    expect(h.events).toEqual([0, 3]);
  });

  it('a position that goes backwards is corruption, and the record is not served', async () => {
    const d = store([[0, [rec('a', 0, 0, 2), rec('b', 1, 0), rec('a', 2, 2)]]]);
    const h = await health(d);
    expect(h.corrupt).toEqual([{ segment: segmentName(0), offset: rec('a', 0, 0, 2).length, length: rec('b', 1, 0).length, reason: 'position 1 goes backwards (expected >= 2)' }]);
    expect(h.events).toEqual([0, 1, 2]);
    expect(h.streams).toBe(1);
  });

  it('a segment missing from the middle: the positions are in no segment; the bad tail before it is the cause when there is one', async () => {
    const d = store([[0, [rec('a', 0, 0), seal(1)]], [2, [rec('a', 2, 2)]]]);
    const h = await health(d);
    expect(h.corrupt).toContainEqual({ segment: segmentName(2), offset: 0, length: 0, reason: `positions 1..1 are in no segment: a segment before ${segmentName(2)} is missing (deleted or renamed)`, fromPosition: 1, toPosition: 1 });
    await refused(d, /./);
    // The older segment's tail damaged (no seal, a cut record): that damage names the lost positions.
    const cut = rec('a', 1, 1).subarray(0, 20);
    const d2 = store([[0, [rec('a', 0, 0), cut]], [2, [rec('a', 2, 2)]]]);
    const h2 = await health(d2);
    expect(h2.corrupt).toContainEqual(expect.objectContaining({ segment: segmentName(0), offset: rec('a', 0, 0).length, length: 20, fromPosition: 1, toPosition: 1 }));
    expect(h2.corrupt.some((c) => c.reason.includes('in no segment'))).toBe(false);
    expect(h2.truncatedTail).toBe(false);
  });

  it('a segment whose first record is not the position it is named for was renamed', async () => {
    const d = store([[0, [rec('a', 0, 0), seal(5)]], [5, [rec('a', 1, 1)]]]);
    const h = await health(d);
    expect(h.corrupt).toContainEqual({ segment: segmentName(5), offset: 0, length: 0, reason: 'the segment is named for position 5 but its first record holds position 1: renamed, or not a segment of this log' });
  });

  it('an empty segment: only the last may be, named where the log goes on; an empty one before it, or misnamed, is damage', async () => {
    // Empty last segment named past the end: the positions between are in no segment.
    const gap = await health(store([[0, [rec('a', 0, 0), seal(3)]], [3, []]]));
    expect(gap.corrupt).toContainEqual({ segment: segmentName(3), offset: 0, length: 0, reason: `positions 1..2 are in no segment: a segment before ${segmentName(3)} is missing (deleted or renamed)`, fromPosition: 1, toPosition: 2 });
    // Empty last segment named before the end: renamed.
    const back = await health(store([[0, [rec('a', 0, 0, 2), seal(1)]], [1, []]]));
    expect(back.corrupt).toContainEqual({ segment: segmentName(1), offset: 0, length: 0, reason: 'the segment is named for position 1 but the log there is at position 2: renamed, or not a segment of this log' });
    // An empty segment before the last one.
    const mid = await health(store([[0, [rec('a', 0, 0), seal(1)]], [1, [seal(1)]], [1e6, []]]));
    expect(mid.ok).toBe(false);
    const midEmpty = await health(store([[0, [rec('a', 0, 0), seal(1)]], [1, []], [2, [rec('a', 1, 1)]]]));
    expect(midEmpty.corrupt).toContainEqual({ segment: segmentName(1), offset: 0, length: 0, reason: 'an empty segment before the last one: the log never leaves one behind' });
  });
});

describe('recover: seals', () => {
  it('the last segment sealed: a newer segment is missing, from the position the seal names', async () => {
    const d = store([[0, [rec('a', 0, 0), seal(1)]], [1, [rec('a', 1, 1), seal(2)]]]);
    const h = await health(d);
    const sealAt = rec('a', 1, 1).length;
    expect(h.corrupt).toEqual([{ segment: segmentName(1), offset: sealAt, length: SEAL_RECORD_BYTES, reason: 'the segment is sealed, so the log went on at position 2 in a newer segment, which is missing (deleted or renamed)', fromPosition: 2, toPosition: null }]);
    await refused(d, /which is missing/);
  });

  it('a seal naming another next segment than the one that follows', async () => {
    const d = store([[0, [rec('a', 0, 0), seal(1)]], [1, [rec('a', 1, 1), seal(9)]], [2, [rec('a', 2, 2)]]]);
    const h = await health(d);
    expect(h.corrupt).toContainEqual({ segment: segmentName(1), offset: rec('a', 1, 1).length, length: SEAL_RECORD_BYTES, reason: `the seal says the next segment starts at position 9, but the next segment is ${segmentName(2)}` });
  });

  it('a record after the seal, or a second seal, in one segment', async () => {
    const a = rec('a', 0, 0);
    const h = await health(store([[0, [a, seal(1), rec('a', 1, 1), seal(2)]], [2, [rec('a', 2, 2)]]]));
    expect(h.corrupt).toContainEqual({ segment: segmentName(0), offset: a.length + SEAL_RECORD_BYTES, length: rec('a', 1, 1).length, reason: `a record after the segment's seal (at offset ${a.length})` });
    expect(h.corrupt).toContainEqual({ segment: segmentName(0), offset: a.length + SEAL_RECORD_BYTES + rec('a', 1, 1).length, length: SEAL_RECORD_BYTES, reason: 'a second seal in one segment' });
    // Reported in file order.
    const offsets = h.corrupt.filter((c) => c.segment === segmentName(0)).map((c) => c.offset);
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
  });

  it('a roll-over cut short (old segment unsealed, new one empty): no damage; a writer seals the old one, a reader leaves it', async () => {
    const a = rec('a', 0, 0);
    const b = rec('a', 1, 1);
    const d = store([[0, [a, b]], [2, []]]);
    expect(await health(d)).toMatchObject({ ok: true, events: [0, 1] });
    expect(sizes(d)).toEqual([a.length + b.length, 0]);
    const s = await EmbeddedEventStore.open(d);
    expect(sizes(d)).toEqual([a.length + b.length + SEAL_RECORD_BYTES, 0]);
    expect(fs.readFileSync(segFile(d, 0)).subarray(a.length + b.length)).toEqual(seal(2));
    expect(await s.appendToStream('a', [{ id: 'a-2', type: 'T', data: { pos: 2 } }], { expectedRevision: 1 })).toEqual({ nextExpectedRevision: 2, position: 2 });
    await s.close();
    expect(await health(d)).toMatchObject({ ok: true, events: [0, 1, 2] });
  });

  it('a roll-over cut short inside the old segment\'s last record: a torn tail there, cut, then sealed', async () => {
    const a = rec('a', 0, 0);
    const torn = rec('a', 1, 1).subarray(0, 15);
    const d = store([[0, [a, torn]], [1, []]]);
    expect(await health(d)).toMatchObject({ ok: true, truncatedTail: true, tornTailBytes: 15, events: [0] });
    expect(sizes(d)).toEqual([a.length + 15, 0]);
    const s = await EmbeddedEventStore.open(d);
    expect(s.health()).toMatchObject({ ok: true, truncatedTail: true, tornTailBytes: 15 });
    await s.close();
    expect(sizes(d)).toEqual([a.length + SEAL_RECORD_BYTES, 0]);
    expect(await health(d)).toMatchObject({ ok: true, truncatedTail: false, events: [0] });
  });

  it('an unsealed segment followed by a non-empty one, or by an empty one that is not the last, is damage', async () => {
    const d = store([[0, [rec('a', 0, 0)]], [1, []], [2, [rec('a', 1, 1)]]]);
    const h = await health(d);
    expect(h.corrupt.map((c) => c.reason)).toContain(`the segment has no seal, yet newer segments follow it (from ${segmentName(1)}): it was cut short or replaced`);
  });
});

describe('recover: the torn tail', () => {
  it('in the last segment: reported, cut by a writer (never by a reader), and the log goes on from there', async () => {
    const a = rec('a', 0, 0);
    const b = rec('b', 1, 0);
    const d = store([[0, [a, seal(1)]], [1, [b, rec('a', 2, 1).subarray(0, 30)]]]);
    expect(await health(d)).toMatchObject({ ok: true, truncatedTail: true, tornTailBytes: 30, events: [0, 1] });
    expect(sizes(d)[1]).toBe(b.length + 30);
    const s = await EmbeddedEventStore.open(d);
    expect(sizes(d)[1]).toBe(b.length);
    expect(await s.appendToStream('a', [{ id: 'a-1', type: 'T', data: { pos: 2 } }], { expectedRevision: 0 })).toEqual({ nextExpectedRevision: 1, position: 2 });
    await s.close();
    expect(await health(d)).toMatchObject({ ok: true, truncatedTail: false, tornTailBytes: 0, events: [0, 1, 2] });
  });

  it('a damaged store is left as found: its torn tail is not cut', async () => {
    const bad = Buffer.from(rec('a', 1, 1));
    bad[bad.length - 3] = bad[bad.length - 3]! ^ 8;
    const d = store([[0, [rec('a', 0, 0), bad, rec('a', 2, 2), rec('a', 3, 3).subarray(0, 14)]]]);
    const h = await health(d);
    expect(h).toMatchObject({ ok: false, truncatedTail: true, tornTailBytes: 14 });
    await refused(d, /checksum/);
  });

  it('a bad tail at the end of the last segment names the positions from the end of the log on', async () => {
    const bad = Buffer.from(rec('a', 2, 2));
    bad[20] = bad[20]! ^ 1;
    const d = store([[0, [rec('a', 0, 0), seal(1)]], [1, [rec('a', 1, 1), bad]]]);
    const h = await health(d);
    expect(h.truncatedTail).toBe(false);
    expect(h.corrupt).toEqual([{ segment: segmentName(1), offset: rec('a', 1, 1).length, length: bad.length, reason: 'checksum', fromPosition: 2, toPosition: null }]);
  });

  it('with allowCorrupt a writer opens a damaged store', async () => {
    const d = store([[0, [rec('a', 0, 0), rec('a', 5, 1)]]]);
    const s = await EmbeddedEventStore.open(d, { allowCorrupt: true });
    expect(s.health().ok).toBe(false);
    await s.close();
  });
});
