/** `tapedeck itch ...` through the compiled CLI (npm test builds dist/ first). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDecimal } from '../../domain/core/fixed.js';
import { ASK, BID } from '../../domain/book/l3.js';
import { ItchBookListener } from '../../src/venues/nasdaq/itch/book-listener.js';
import { readItchFile } from '../../src/venues/nasdaq/itch/reader.js';
import { jsonLines, tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const FILE = path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50');
const tmp = tmpDir('tapedeck-itch-cli-');
afterAll(() => tmp.cleanup());

/** A user error: exit 2, one line on stderr naming the code, no stack trace. */
function expectUserError(r: { code: number; stderr: string; stdout: string }, code: string): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^tapedeck: error ${code}: `));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

describe('tapedeck itch decode', () => {
  it('--limit and --types, u64 as strings', () => {
    const r = tapedeck(['itch', 'decode', FILE, '--types', 'A,F', '--limit', '4', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(4);
    for (const m of lines) {
      expect(['A', 'F']).toContain(m.messageType);
      expect(typeof m.orderReferenceNumber).toBe('string');
      expect(m.orderReferenceNumber).toMatch(/^\d+$/);
      expect(typeof m.price).toBe('number');
    }
    const first = jsonLines(tapedeck(['itch', 'decode', FILE, '--limit', '1', '--json']).stdout);
    expect(first).toEqual([{ messageType: 'S', stockLocate: 0, trackingNumber: 0, timestamp: 11202475298710, eventCode: 'O' }]);
  });

  it('without --json prints one readable line per message', () => {
    const r = tapedeck(['itch', 'decode', `${FILE}.gz`, '--limit', '2']);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stdout).toContain('messageType="R"');
  });
});

describe('tapedeck itch book', () => {
  it('prints the levels the library computes, prices as 4-decimal strings', async () => {
    const r = tapedeck(['itch', 'book', `${FILE}.gz`, '--stock', 'CHAR', '--levels', '4', '--json']);
    expect(r.code).toBe(0);
    const [out] = jsonLines(r.stdout);
    const l = new ItchBookListener();
    await readItchFile(FILE, l);
    const locate = l.locateOf('CHAR')!;
    const fmt = (x: { priceTicks: number; shares: number; orders: number }) => ({ price: formatDecimal(x.priceTicks, 4), shares: x.shares, orders: x.orders });
    expect(out).toEqual({ stock: 'CHAR', bids: l.book.depth(locate, BID, 4).map(fmt), asks: l.book.depth(locate, ASK, 4).map(fmt) });
    expect(out.bids).toHaveLength(4);
    for (const lv of [...out.bids, ...out.asks]) expect(lv.price).toMatch(/^\d+\.\d{4}$/);
  });

  it('reads a generated day (true length prefixes) and a book that is never crossed', () => {
    const file = path.join(tmp.dir, 'day.itch.gz');
    const g = tapedeck(['itch', 'generate', file, '--seed', '9', '--messages', '20000', '--symbols', '3', '--json']);
    expect(g.code).toBe(0);
    const stats = jsonLines(tapedeck(['itch', 'stats', file, '--json']).stdout)[0];
    expect(stats.messages).toBe(20000);
    expect(stats.prefixStyle).toBe('true-length');
    const sym = jsonLines(tapedeck(['itch', 'decode', file, '--types', 'R', '--limit', '1', '--json']).stdout)[0].stock.trim();
    const [book] = jsonLines(tapedeck(['itch', 'book', file, '--stock', sym, '--json']).stdout);
    expect(book.bids.length).toBeGreaterThan(0);
    expect(book.asks.length).toBeGreaterThan(0);
    expect(Number(book.bids[0].price)).toBeLessThan(Number(book.asks[0].price));
  });
});

describe('tapedeck itch: errors are one line and exit 2', () => {
  it('missing file', () => {
    for (const cmd of [['stats'], ['decode'], ['book', '--stock', 'X']]) {
      expectUserError(tapedeck(['itch', cmd[0]!, path.join(tmp.dir, 'missing.itch'), ...cmd.slice(1), '--json']), 'FILE_NOT_FOUND');
    }
  });

  it('unknown --stock names the symbols the file has', () => {
    const r = tapedeck(['itch', 'book', FILE, '--stock', 'NOPE', '--json']);
    expectUserError(r, 'ITCH_UNKNOWN_STOCK');
    expect(r.stderr).toContain('ALC, BOB, CHAR');
  });

  it('unknown --types', () => {
    expectUserError(tapedeck(['itch', 'decode', FILE, '--types', 'A,Z', '--json']), 'CLI_TYPES');
  });

  it('bad bytes stop with the offset; --skip-errors counts them', () => {
    const good = fs.readFileSync(FILE).subarray(0, 14 + 41); // S and R, zero prefixes
    const bad = path.join(tmp.dir, 'bad.itch');
    fs.writeFileSync(bad, Buffer.concat([good, Buffer.from([0x00, 0x00, 0x5a, 1, 2, 3])]));
    const r = tapedeck(['itch', 'stats', bad, '--json']);
    expectUserError(r, 'ITCH_UNKNOWN_TYPE');
    expect(r.stderr).toContain('offset 57');
    const s = tapedeck(['itch', 'stats', bad, '--json', '--skip-errors']);
    expect(s.code).toBe(0);
    expect(jsonLines(s.stdout)[0]).toMatchObject({ messages: 2, errors: 1, errorsByCode: { ITCH_UNKNOWN_TYPE: 1 } });
    const truncated = path.join(tmp.dir, 'truncated.itch');
    fs.writeFileSync(truncated, good.subarray(0, good.length - 3));
    expect(tapedeck(['itch', 'stats', truncated]).stderr).toMatch(/ITCH_TRUNCATED: .*offset 14/);
  });
});

it('tapedeck bench itch --json prints one line of figures', () => {
  const r = tapedeck(['bench', 'itch', '--messages', '20000', '--symbols', '5', '--repeats', '1', '--object-messages', '2000', '--json']);
  expect(r.code).toBe(0);
  const lines = jsonLines(r.stdout);
  expect(lines).toHaveLength(1);
  for (const k of ['decodeMsgsPerSec', 'bookMsgsPerSec', 'memcpyBytesPerSec', 'decodeBytesPerSec', 'messages', 'peakRssBytes']) {
    expect(lines[0][k], k).toBeGreaterThan(0);
  }
  expect(lines[0].messages).toBe(20000);
  expect(lines[0].bookAnomalies).toBe(0);
});
