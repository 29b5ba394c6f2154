/**
 * The OUCH capture reader (src/venues/nasdaq/ouch42/capture.ts) on our own SoupBinTCP + OUCH 4.2 capture
 * fixtures (test/fixtures/ouch-capture, written field by field from the spec by generate.ts there), in the
 * shapes of the nluka packet-capture exercise. The exercise's own files have no licence, so they are not
 * in the repository: they are an extra check that runs only when TAPEDECK_EXTERNAL_FIXTURES names a
 * folder holding them (the datasets folder, or the exercise folder itself), and otherwise says in one
 * line that it did not run (reported as skipped, never as passed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeVenueMessage } from '../../../src/venues/nasdaq/ouch42/codec.js';
import { formatCaptureSummary, readCaptureRecords, summarizeOuchCapture } from '../../../src/venues/nasdaq/ouch42/capture.js';
import { SoupFramer } from '../../../src/venues/nasdaq/soupbintcp/framer.js';
import { TapedeckError, isTapedeckError } from '../../../domain/core/errors.js';
import { LENGTHS, ouchCaptureFixtures } from '../../fixtures/ouch-capture/generate.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const dir = path.join(repoRoot, 'test/fixtures/ouch-capture');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.packets')).sort();
const read = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));

/** Every OUCH message of every stream of a capture, decoded, in stream order. */
function messages(file: Uint8Array): Map<number, ReturnType<typeof decodeVenueMessage>[]> {
  const out = new Map<number, ReturnType<typeof decodeVenueMessage>[]>();
  const framers = new Map<number, SoupFramer>();
  for (const r of readCaptureRecords(file)) {
    let f = framers.get(r.streamId);
    if (!f) {
      const list: ReturnType<typeof decodeVenueMessage>[] = [];
      out.set(r.streamId, list);
      f = new SoupFramer((type, payload) => {
        expect(String.fromCharCode(type)).toBe('S');
        list.push(decodeVenueMessage(payload));
      });
      framers.set(r.streamId, f);
    }
    f.push(r.bytes);
  }
  return out;
}

describe('our SoupBinTCP + OUCH 4.2 capture fixtures', () => {
  it('are exactly what generate.ts writes (regenerate with it, never by hand)', () => {
    const generated = ouchCaptureFixtures();
    expect(fixtures).toEqual(generated.map((g) => `${g.name}.packets`).sort());
    for (const g of generated) {
      expect(Buffer.from(read(`${g.name}.packets`)).equals(Buffer.from(g.packets)), g.name).toBe(true);
      expect(readFileSync(path.join(dir, `${g.name}.expected`), 'utf8')).toBe(g.expected);
    }
  });

  for (const name of fixtures) {
    it(`${name} matches its .expected counts and executed shares`, () => {
      const expected = readFileSync(path.join(dir, name.replace(/\.packets$/, '.expected')), 'utf8');
      const summary = summarizeOuchCapture(read(name), name);
      expect(formatCaptureSummary(summary)).toBe(expected);
      // Every stream ends on a packet boundary: nothing left half-read.
      expect([...summary.incomplete.entries()]).toEqual([]);
    });
  }

  it('all-complete: the fields decode as written (65-byte Accepted and 79-byte Replaced, the earlier 4.2 revision)', () => {
    const bytes = read('all-complete.packets');
    const s = summarizeOuchCapture(bytes);
    expect(s.streams.get(0)).toMatchObject({ accepted: 1, systemEvent: 1, executed: 1, executedShares: 100 });
    expect(s.streams.get(65535)).toMatchObject({ replaced: 1, canceled: 1 });
    const recs = [...readCaptureRecords(bytes)];
    expect(recs.map((r) => r.bytes.length)).toEqual([LENGTHS.SystemEvent, LENGTHS.Accepted, LENGTHS.Executed, LENGTHS.Replaced, LENGTHS.Canceled].map((n) => n + 3));
    const m = messages(bytes);
    expect(m.get(0)).toMatchObject([
      { kind: 'SystemEvent', timestampNs: 34_200_000_000_000n, eventCode: 'S' },
      { kind: 'Accepted', orderToken: 'TD0000000001', side: 'B', shares: 100, stock: 'AAPL', priceTicks: 1_502_500, firm: 'TDCK', orderReferenceNumber: 7_001n, bboWeightIndicator: null },
      { kind: 'Executed', orderToken: 'TD0000000001', executedShares: 100, executionPriceTicks: 1_502_500, liquidityFlag: 'A', matchNumber: 90_001n },
    ]);
    expect(m.get(65535)).toMatchObject([
      { kind: 'Replaced', replacementOrderToken: 'TD0000000003', previousOrderToken: 'TD0000000002', side: 'S', shares: 300, stock: 'MSFT', priceTicks: 1_499_900 },
      { kind: 'Canceled', orderToken: 'TD0000000003', decrementShares: 300, reason: 'U' },
    ]);
  });

  it('a capture cut inside a record header is a typed error with the offset', () => {
    // The first record is 6 + 13 bytes (a System Event packet); the second record's header is cut after 2.
    const cut = read('all-complete.packets').subarray(0, 6 + 13 + 2);
    let err: unknown;
    try {
      summarizeOuchCapture(cut, 'cut.packets');
    } catch (e) {
      err = e;
    }
    expect(isTapedeckError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('CAPTURE_TRUNCATED');
    expect((err as { where: { offset: number } }).where.offset).toBe(19);
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

/** Where the nluka exercise's files are, when TAPEDECK_EXTERNAL_FIXTURES names them; null otherwise. */
function externalNluka(): string | null {
  const root = process.env.TAPEDECK_EXTERNAL_FIXTURES;
  if (!root) return null;
  for (const d of [path.join(root, 'ouch_soupbintcp/nluka_packet_capture_exercise'), root]) {
    if (existsSync(d) && readdirSync(d).some((f) => f.endsWith('.packets'))) return d;
  }
  throw new Error(`TAPEDECK_EXTERNAL_FIXTURES=${root} holds no nluka .packets files (looked in it and in ouch_soupbintcp/nluka_packet_capture_exercise)`);
}

const nluka = externalNluka();
if (nluka === null) {
  process.stdout.write('nluka OUCH capture check: NOT RUN: TAPEDECK_EXTERNAL_FIXTURES is not set (those files have no licence and are not in the repository)\n');
  describe('external: nluka packet-capture exercise', () => {
    it.skip('not run: TAPEDECK_EXTERNAL_FIXTURES is not set', () => undefined);
  });
} else {
  describe(`external: nluka packet-capture exercise (${nluka})`, () => {
    const files = readdirSync(nluka).filter((f) => f.endsWith('.packets')).sort();
    it('has its six fixture pairs', () => {
      expect(files).toEqual([
        '1stream-2msgs-4partials.packets', '2-consec-partials.packets', '3-consec-partials.packets', 'all-complete.packets',
        'msg-end-and-start-in-partial.packets', 'partials-ladder.packets',
      ]);
    });
    for (const name of files) {
      it(`${name} matches its .expected`, () => {
        const summary = summarizeOuchCapture(new Uint8Array(readFileSync(path.join(nluka, name))), name);
        expect(formatCaptureSummary(summary).trimEnd()).toBe(readFileSync(path.join(nluka, name.replace(/\.packets$/, '.expected')), 'utf8').trimEnd());
        expect([...summary.incomplete.entries()]).toEqual([]);
      });
    }
  });
}

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
    const files = fixtures.map(read);
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
    expect(r.stdout).toBe(readFileSync(path.join(dir, 'partials-ladder.expected'), 'utf8'));
  });

  it('a truncated capture is one line on stderr with the place, exit 2', () => {
    const cut = path.join(tmpdir(), `tapedeck-cut-${process.pid}.packets`);
    writeFileSync(cut, readFileSync(path.join(dir, 'all-complete.packets')).subarray(0, 15));
    const r = run([cut]);
    rmSync(cut, { force: true });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('CAPTURE_TRUNCATED');
    expect(r.stderr).toContain('offset 0');
  });
});
