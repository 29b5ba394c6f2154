import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCaptureSummary, readCaptureRecords, summarizeOuchCapture } from '../../../src/venues/nasdaq/ouch42/capture.js';
import { TapedeckError, isTapedeckError } from '../../../domain/core/errors.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const dir = path.resolve(repoRoot, '../shared/datasets/ouch_soupbintcp/nluka_packet_capture_exercise');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.packets')).sort();

describe('nluka packet-capture fixtures: reassembled SoupBinTCP + OUCH 4.2', () => {
  it('has all six fixture pairs', () => {
    expect(fixtures).toEqual([
      '1stream-2msgs-4partials.packets',
      '2-consec-partials.packets',
      '3-consec-partials.packets',
      'all-complete.packets',
      'msg-end-and-start-in-partial.packets',
      'partials-ladder.packets',
    ]);
  });

  for (const name of fixtures) {
    it(`${name} matches its .expected counts and executed shares`, () => {
      const bytes = new Uint8Array(readFileSync(path.join(dir, name)));
      const expected = readFileSync(path.join(dir, name.replace(/\.packets$/, '.expected')), 'utf8');
      const summary = summarizeOuchCapture(bytes, name);
      expect(formatCaptureSummary(summary).trimEnd()).toBe(expected.trimEnd());
      // Every stream ends on a packet boundary: nothing left half-read.
      expect([...summary.incomplete.entries()]).toEqual([]);
    });
  }

  it('all-complete: the Accepted is the 65-byte revision and the Executed carries 100 shares', () => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, 'all-complete.packets')));
    const s = summarizeOuchCapture(bytes);
    expect(s.streams.get(0)).toMatchObject({ accepted: 1, systemEvent: 1, executed: 1, executedShares: 100 });
    expect(s.streams.get(65535)).toMatchObject({ replaced: 1, canceled: 1 });
  });

  it('a capture cut inside a record header is a typed error with the offset', () => {
    const bytes = new Uint8Array(readFileSync(path.join(dir, 'all-complete.packets')));
    const cut = bytes.subarray(0, 76); // first record is 6 + 68 bytes; the second header is cut after 2
    let err: unknown;
    try {
      summarizeOuchCapture(cut, 'cut.packets');
    } catch (e) {
      err = e;
    }
    expect(isTapedeckError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('CAPTURE_TRUNCATED');
    expect((err as { where: { offset: number } }).where.offset).toBe(74);
  });

  it('an OUCH message of the wrong length inside a stream names the stream and byte offset', () => {
    // One record: SoupBinTCP length 11 ('S' + 10 bytes) carrying an Executed type byte: 'E' is 40 bytes.
    const rec = new Uint8Array([0, 7, 0, 0, 0, 13, 0, 11, 0x53, 0x45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let err: unknown;
    try {
      summarizeOuchCapture(rec, 'bad.packets');
    } catch (e) {
      err = e;
    }
    expect(isTapedeckError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('OUCH_LENGTH');
    expect((err as Error).message).toContain('Executed');
    expect((err as { where: Record<string, unknown> }).where).toMatchObject({ file: 'bad.packets', stream: 'capture stream 7' });
  });
});

/** Re-cuts each stream's bytes into records at other places, interleaving streams in turn. */
function recut(file: Uint8Array, cuts: number[]): Uint8Array {
  const streams = new Map<number, number[]>();
  for (const r of readCaptureRecords(file)) {
    const bytes = streams.get(r.streamId) ?? [];
    bytes.push(...r.bytes);
    streams.set(r.streamId, bytes);
  }
  const out: number[] = [];
  const pos = new Map([...streams.keys()].map((k) => [k, 0]));
  let c = 0;
  while ([...streams].some(([id, b]) => pos.get(id)! < b.length)) {
    for (const [id, b] of streams) {
      const at = pos.get(id)!;
      if (at >= b.length) continue;
      const n = Math.min(b.length - at, cuts[c++ % cuts.length]!);
      out.push(id >> 8, id & 0xff, 0, 0, n >> 8, n & 0xff, ...b.slice(at, at + n));
      pos.set(id, at + n);
    }
  }
  return new Uint8Array(out);
}

describe('capture reassembly properties', () => {
  it('the counts do not depend on where the records cut the streams', () => {
    const files = fixtures.map((f) => new Uint8Array(readFileSync(path.join(dir, f))));
    fc.assert(fc.property(fc.constantFrom(...files.keys()), fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 20 }), (i, cuts) => {
      const original = summarizeOuchCapture(files[i]!);
      const again = summarizeOuchCapture(recut(files[i]!, cuts));
      expect([...again.streams]).toEqual([...original.streams]);
      expect(again.totals).toEqual(original.totals);
    }), { numRuns: 200 });
  });

  it('random bytes: a summary or a TapedeckError, never a crash or a hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        summarizeOuchCapture(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(TapedeckError);
      }
    }), { numRuns: 1000 });
  });
});

describe('scripts/ouch-capture-summary (compiled; npm test builds first)', () => {
  const script = path.join(repoRoot, 'dist/scripts/ouch-capture-summary.js');
  const run = (args: string[]) => {
    if (!existsSync(script)) throw new Error(`${script} is missing: run "npx tsc -p ." first`);
    return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });
  };

  it('prints the .expected text for a fixture', () => {
    const r = run([path.join(dir, 'partials-ladder.packets')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(dir, 'partials-ladder.expected'), 'utf8').trimEnd() + '\n');
  });

  it('a truncated capture is one line on stderr with the place, exit 2', () => {
    const cut = path.join(tmpdir(), `tapedeck-cut-${process.pid}.packets`);
    writeFileSync(cut, readFileSync(path.join(dir, 'all-complete.packets')).subarray(0, 70));
    const r = run([cut]);
    rmSync(cut, { force: true });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('CAPTURE_TRUNCATED');
    expect(r.stderr).toContain('offset 0');
  });
});
