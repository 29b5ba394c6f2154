import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookAt } from '../../datasets/catalog/book.js';
import { importDatasets } from '../../datasets/catalog/import.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { tapedeck } from '../helpers/cli.js';

const tmp = tmpDir('tapedeck-book-');
const CF = path.join(datasetsDir, 'recorded_ws/cryptofeed');
const catalog = path.join(tmp.dir, 'catalog');
let id = '';
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  const [r] = await importDatasets(path.join(CF, 'BINANCE.ws.1.0'), { format: 'cryptofeed', catalog });
  id = r!.manifest.id;
});

/** An exact decimal string as a comparable key ("0.35330000" → "0.3533"). */
function norm(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
function cmp(a: string, b: string): number {
  const [ai, af = ''] = norm(a).split('.');
  const [bi, bf = ''] = norm(b).split('.');
  if (ai!.length !== bi!.length) return ai!.length - bi!.length;
  const w = Math.max(af.length, bf.length);
  const x = ai + af.padEnd(w, '0');
  const y = bi + bf.padEnd(w, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Binance's documented procedure, written here from the raw capture lines without any tapedeck code:
 * REST snapshot (lastUpdateId L), drop diffs with u <= L, first diff must have U <= L+1 <= u, then each
 * diff U = previous u + 1. Levels are kept as decimal strings.
 */
function independentBook(symbol: string, atSeconds: number | null): { bids: Array<[string, string]>; asks: Array<[string, string]>; gaps: number } {
  const rec = (l: string): { ts: number; json: any } => {
    const at = l.indexOf(': ');
    const head = l.slice(0, at);
    return { ts: Number(head.split(' ').pop()), json: JSON.parse(l.slice(at + 2)) };
  };
  const http = fs.readFileSync(path.join(CF, 'BINANCE.http.0.0'), 'utf8').split('\n').filter((l) => l.includes(`symbol=${symbol}&`));
  const snap = rec(http[0]!).json;
  const bids = new Map<string, string>(snap.bids.map(([p, q]: [string, string]) => [norm(p), q]));
  const asks = new Map<string, string>(snap.asks.map(([p, q]: [string, string]) => [norm(p), q]));
  let last = snap.lastUpdateId as number;
  let first = true;
  let gaps = 0;
  for (const l of fs.readFileSync(path.join(CF, 'BINANCE.ws.1.0'), 'utf8').split('\n')) {
    if (!/^\d/.test(l)) continue;
    const { ts, json } = rec(l);
    if (atSeconds !== null && ts > atSeconds) break;
    const d = json.data;
    if (d?.e !== 'depthUpdate' || d.s !== symbol) continue;
    if (d.u <= last) continue;
    if (first ? !(d.U <= last + 1 && last + 1 <= d.u) : d.U !== last + 1) {
      gaps++;
      continue;
    }
    first = false;
    for (const [side, book] of [[d.b, bids], [d.a, asks]] as const) {
      for (const [p, q] of side as Array<[string, string]>) {
        if (Number(q) === 0) book.delete(norm(p));
        else book.set(norm(p), q);
      }
    }
    last = d.u;
  }
  const b = [...bids.entries()].sort((x, y) => cmp(y[0], x[0]));
  const a = [...asks.entries()].sort((x, y) => cmp(x[0], y[0]));
  return { bids: b, asks: a, gaps };
}

const levels = (ls: Array<{ price: string; quantity: string }>): Array<[string, string]> => ls.map((l) => [norm(l.price), norm(l.quantity)]);
const top = (ls: Array<[string, string]>, n: number): Array<[string, string]> => ls.slice(0, n).map(([p, q]) => [norm(p), norm(q)]);

describe('tapedeck book (Binance snapshot + diffs from the catalogue)', () => {
  it('matches a book computed independently from the raw capture lines, at the end and in the middle', async () => {
    for (const symbol of ['NKNUSDT', 'BLZETH', 'LRCBTC', 'RUNEEUR']) {
      const want = independentBook(symbol, null);
      const got = await bookAt(catalog, id, symbol, { levels: 15 });
      expect(got.gaps).toEqual([]);
      expect(want.gaps).toBe(0);
      expect(got.synced).toBe(true);
      expect(levels(got.bids)).toEqual(top(want.bids, 15));
      expect(levels(got.asks)).toEqual(top(want.asks, 15));
    }
    // In the middle: the capture timestamp of a depth line half way through.
    const depthLines = fs.readFileSync(path.join(CF, 'BINANCE.ws.1.0'), 'utf8').split('\n').filter((l) => l.includes('"nknusdt@depth'));
    const mid = depthLines[Math.floor(depthLines.length / 2)]!;
    const ts = mid.slice(0, mid.indexOf(': '));
    const atNs = BigInt(ts.replace('.', '').padEnd(ts.indexOf('.') + 10, '0').slice(0, ts.indexOf('.') + 9));
    const want = independentBook('NKNUSDT', Number(ts));
    const got = await bookAt(catalog, id, 'NKNUSDT', { levels: 5, at: atNs });
    expect(levels(got.bids)).toEqual(top(want.bids, 5));
    expect(levels(got.asks)).toEqual(top(want.asks, 5));
  });

  it('detects and reports a gap in update ids', async () => {
    const dir = path.join(tmp.dir, 'gap');
    fs.mkdirSync(dir, { recursive: true });
    const ws = fs.readFileSync(path.join(CF, 'BINANCE.ws.1.0'), 'utf8').split('\n');
    const nkn = ws.map((l, i) => [l, i] as const).filter(([l]) => l.includes('"nknusdt@depth'));
    const dropped = nkn[Math.floor(nkn.length / 2)]![1];
    fs.writeFileSync(path.join(dir, 'BINANCE.ws.1.0'), ws.filter((_, i) => i !== dropped).join('\n'));
    fs.copyFileSync(path.join(CF, 'BINANCE.http.0.0'), path.join(dir, 'BINANCE.http.0.0'));
    const [r] = await importDatasets(path.join(dir, 'BINANCE.ws.1.0'), { format: 'cryptofeed', catalog: path.join(tmp.dir, 'gapcat') });
    const view = await bookAt(path.join(tmp.dir, 'gapcat'), r!.manifest.id, 'NKNUSDT', { levels: 5 });
    expect(view.gaps.length).toBeGreaterThan(0);
    const droppedDiff = JSON.parse(ws[dropped]!.slice(ws[dropped]!.indexOf(': ') + 2)).data;
    expect(view.gaps[0]!.expectedFirstUpdateId).toBe(droppedDiff.U);
    expect(view.synced).toBe(false);
    // Another symbol in the same capture is unaffected.
    const other = await bookAt(path.join(tmp.dir, 'gapcat'), r!.manifest.id, 'BLZETH', { levels: 5 });
    expect(other.gaps).toEqual([]);
  });

  it('prints the documented JSON shape from the CLI', () => {
    const r = tapedeck(['book', '--catalog', catalog, '--dataset', id, '--instrument', 'NKNUSDT', '--levels', '3', '--json']);
    expect(r.stderr).toBe('');
    const v = JSON.parse(r.stdout);
    expect(Object.keys(v)).toEqual(expect.arrayContaining(['instrument', 'time', 'bids', 'asks']));
    expect(v.instrument).toBe('BINANCE:NKNUSDT');
    expect(v.bids).toHaveLength(3);
    expect(v.bids[0]).toEqual({ price: expect.stringMatching(/^\d+\.\d+$/), quantity: expect.stringMatching(/^\d+\.\d+$/) });
    const bad = tapedeck(['book', '--catalog', catalog, '--dataset', id, '--instrument', 'NOPE', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/BOOK_INSTRUMENT/);
  });
});
