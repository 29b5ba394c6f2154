/**
 * The cryptofeed captures parsed end to end. Every expected number here is computed in the test from
 * the raw lines by a different method (string matching, a plain Map replay), never copied from a run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureEventSource, findWsCaptures, readCapture } from '../../src/venues/cryptofeed/capture.js';
import { L2BookSet } from '../../domain/book/l2.js';
import { formatDecimal } from '../../domain/core/fixed.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { isTapedeckError, TapedeckError } from '../../domain/core/errors.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const dir = path.join(datasetsDir, 'recorded_ws/cryptofeed');
const BINANCE_WS = path.join(dir, 'BINANCE.ws.1.0');
const BINANCE_HTTP = path.join(dir, 'BINANCE.http.0.0');
const COINBASE_WS = path.join(dir, 'COINBASE.ws.28.0');

const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n');
const countMatching = (file: string, re: RegExp): number => lines(file).filter((l) => re.test(l)).length;

async function collect<T>(src: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of src) out.push(e);
  return out;
}

function countTypes(evs: AnyEnvelope[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const e of evs) c[e.type] = (c[e.type] ?? 0) + 1;
  return c;
}

/** Canonical decimal text, so "0.35210000" and "0.3521" compare equal. */
const canon = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
const isZero = (s: string): boolean => /^0+(\.0+)?$/.test(s);

/** The raw-line replay: snapshot + diffs with u > lastUpdateId, into plain Maps keyed by price text. */
function independentBinanceBooks(wsLines: string[], httpLines: string[]) {
  const books = new Map<string, { L: number; bids: Map<string, string>; asks: Map<string, string>; lastU: number | null; chainOk: boolean }>();
  for (const l of httpLines) {
    const m = /symbol=(\w+)&limit=\d+ -> [\d.]+: (.*)$/.exec(l);
    if (!m) continue;
    const snap = JSON.parse(m[2]!) as { lastUpdateId: number; bids: string[][]; asks: string[][] };
    books.set(m[1]!, {
      L: snap.lastUpdateId,
      bids: new Map(snap.bids.map(([p, q]) => [canon(p!), canon(q!)])),
      asks: new Map(snap.asks.map(([p, q]) => [canon(p!), canon(q!)])),
      lastU: null,
      chainOk: true,
    });
  }
  for (const l of wsLines) {
    if (!l.includes('"e":"depthUpdate"')) continue;
    const d = JSON.parse(l.slice(l.indexOf(': ') + 2)).data as { s: string; U: number; u: number; b: string[][]; a: string[][] };
    const book = books.get(d.s)!;
    if (d.u <= book.L) continue;
    if (book.lastU !== null && d.U !== book.lastU + 1) book.chainOk = false;
    if (book.lastU === null && !(d.U <= book.L + 1 && book.L + 1 <= d.u)) book.chainOk = false;
    book.lastU = d.u;
    for (const [side, levels] of [['bids', d.b], ['asks', d.a]] as const) {
      for (const [p, q] of levels) {
        if (isZero(q!)) book[side].delete(canon(p!));
        else book[side].set(canon(p!), canon(q!));
      }
    }
  }
  return books;
}

function bookAsMaps(set: L2BookSet, instrument: string, priceScale: number, qtyScale: number) {
  const b = set.get(instrument)!;
  const side = (s: 'buy' | 'sell') => new Map(b.top(s, Number.MAX_SAFE_INTEGER).map(([p, q]) => [canon(formatDecimal(p, priceScale)), canon(formatDecimal(q, qtyScale))]));
  return { bids: side('buy'), asks: side('sell'), synced: b.synced };
}

describe('Binance capture (BINANCE.ws.1.0 + BINANCE.http.0.0)', () => {
  it('parses every frame; counts per type match string counts of the raw lines', async () => {
    const src = captureEventSource(BINANCE_WS);
    expect(src.venue).toBe('BINANCE');
    expect(src.restFiles).toEqual([BINANCE_HTTP]);
    const evs = await collect(src);
    expect(src.issues).toEqual([]);

    const depth = countMatching(BINANCE_WS, /"e":"depthUpdate"/);
    const bookTicker = countMatching(BINANCE_WS, /^[\d.]+: \{"stream":"\w+@bookTicker"/);
    const aggTrade = countMatching(BINANCE_WS, /"e":"aggTrade"/);
    const kline = countMatching(BINANCE_WS, /"e":"kline"/);
    const snapshots = countMatching(BINANCE_HTTP, /\/api\/v3\/depth\?symbol=\w+.* -> /);
    const symbols = new Set(lines(BINANCE_WS).flatMap((l) => [...l.matchAll(/"s":"(\w+)"/g)].map((m) => m[1])));
    // Stale diffs: u <= the symbol's snapshot lastUpdateId, found by regex.
    const L = new Map(lines(BINANCE_HTTP).flatMap((l) => {
      const m = /symbol=(\w+).*"lastUpdateId":(\d+)/.exec(l);
      return m ? [[m[1]!, Number(m[2])] as const] : [];
    }));
    const stale = lines(BINANCE_WS).filter((l) => {
      const m = /"e":"depthUpdate".*"s":"(\w+)".*"u":(\d+)/.exec(l);
      return m !== null && Number(m[2]) <= L.get(m[1]!)!;
    }).length;

    expect(src.parser.frameCounts.get('depthUpdate')).toBe(depth);
    expect(src.parser.frameCounts.get('bookTicker')).toBe(bookTicker);
    expect(src.parser.frameCounts.get('kline')).toBe(kline);
    expect(countTypes(evs)).toEqual({
      InstrumentDefined: symbols.size,
      BookSnapshotted: snapshots,
      BookDeltaApplied: depth - stale,
      QuoteUpdated: bookTicker,
      TradeReported: aggTrade,
    });
    expect(stale).toBeGreaterThan(0); // the fixture exercises the drop rule
    expect(src.sequencer!.stats.diffsStale).toBe(stale);
    expect(new Set(evs.map((e) => e.id)).size).toBe(evs.length);
  });

  it('the book built through the sync procedure equals a plain Map replay of the raw lines, all four symbols', async () => {
    const evs = await collect(captureEventSource(BINANCE_WS));
    const set = new L2BookSet();
    for (const e of evs) set.apply(e);
    const expected = independentBinanceBooks(lines(BINANCE_WS), lines(BINANCE_HTTP));
    expect([...expected.keys()].sort()).toEqual(['BLZETH', 'LRCBTC', 'NKNUSDT', 'RUNEEUR']);
    for (const [symbol, exp] of expected) {
      expect(exp.chainOk, `${symbol} chain in the raw capture`).toBe(true);
      const def = evs.find((e) => e.type === 'InstrumentDefined' && e.data.symbol === symbol);
      if (def?.type !== 'InstrumentDefined') throw new Error('no InstrumentDefined');
      const got = bookAsMaps(set, `BINANCE:${symbol}`, def.data.priceScale, def.data.qtyScale);
      expect(got.synced).toBe(true);
      expect(got.bids).toEqual(exp.bids);
      expect(got.asks).toEqual(exp.asks);
      expect(set.get(`BINANCE:${symbol}`)!.sequence).toBe(exp.lastU ?? exp.L);
    }
  });

  it('every event keeps its raw frame, ids are deterministic across reads, times are exact', async () => {
    const a = await collect(captureEventSource(BINANCE_WS));
    const b = await collect(captureEventSource(BINANCE_WS));
    expect(b.map((e) => e.id)).toEqual(a.map((e) => e.id));
    const first = a.find((e) => e.type === 'BookDeltaApplied')!;
    const text = new TextDecoder().decode(first.raw!.bytes);
    expect(text).toContain('"e":"depthUpdate"');
    const E = Number(/"E":(\d+)/.exec(text)![1]);
    expect(first.eventTimeNs).toBe(BigInt(E) * 1_000_000n);
    const line = lines(BINANCE_WS).find((l) => l.includes(text))!;
    const [sec, frac] = line.slice(0, line.indexOf(':')).split('.');
    expect(first.receiveTimeNs).toBe(BigInt(sec!) * 1_000_000_000n + BigInt((frac ?? '').padEnd(9, '0')));
  });

  it('a gap injected into the diff chain is detected, reported with the update ids, and the book is unsynced', async () => {
    const { dir: tmp, cleanup } = tmpDir();
    try {
      const ws = lines(BINANCE_WS);
      // Remove the third NKNUSDT diff that lies after its snapshot (u > lastUpdateId).
      const L = 499869752;
      const idx = ws.map((l, i) => ({ l, i })).filter(({ l }) => {
        const m = /"s":"NKNUSDT","U":(\d+),"u":(\d+)/.exec(l);
        return m !== null && Number(m[2]) > L;
      })[2]!;
      const removed = /"U":(\d+),"u":(\d+)/.exec(idx.l)!;
      const prev = ws.slice(0, idx.i).reverse().find((l) => l.includes('"s":"NKNUSDT","U"'))!;
      const prevU = Number(/"u":(\d+)/.exec(prev)![1]);
      const next = ws.slice(idx.i + 1).find((l) => l.includes('"s":"NKNUSDT","U"'))!;
      const nextM = /"U":(\d+),"u":(\d+)/.exec(next)!;
      fs.writeFileSync(path.join(tmp, 'BINANCE.ws.1.0'), ws.filter((_, i) => i !== idx.i).join('\n'));
      fs.copyFileSync(BINANCE_HTTP, path.join(tmp, 'BINANCE.http.0.0'));

      const evs = await collect(captureEventSource(path.join(tmp, 'BINANCE.ws.1.0')));
      const anomalies = evs.filter((e) => e.type === 'BookAnomalyReported');
      expect(anomalies.map((e) => e.data.kind)).toEqual(['sequence-gap', 'snapshot-unavailable']);
      const gap = anomalies[0]!;
      if (gap.type !== 'BookAnomalyReported') throw new Error();
      expect(gap.data.instrument).toBe('BINANCE:NKNUSDT');
      expect(gap.data.expectedSequence).toBe(prevU + 1);
      expect(gap.data.firstSequence).toBe(Number(nextM[1]));
      expect(gap.data.sequence).toBe(Number(nextM[2]));
      expect(Number(removed[1])).toBe(prevU + 1);
      expect(gap.data.detail).toContain(`expected U=${prevU + 1}`);

      // After the gap no NKNUSDT diff is emitted (no second snapshot in the capture); the book is unsynced.
      const at = evs.indexOf(gap);
      expect(evs.slice(at).some((e) => e.type === 'BookDeltaApplied' && e.data.instrument === 'BINANCE:NKNUSDT')).toBe(false);
      const set = new L2BookSet();
      for (const e of evs) set.apply(e);
      expect(set.get('BINANCE:NKNUSDT')!.synced).toBe(false);
      expect(set.get('BINANCE:LRCBTC')!.synced).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe('Kraken captures (KRAKEN.ws.48/49/50 + KRAKEN.0)', () => {
  it('parses every frame of the three connections; counts match string counts', async () => {
    const files = findWsCaptures(dir, 'KRAKEN');
    expect(files.map((f) => path.basename(f))).toEqual(['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0', 'KRAKEN.ws.50.0']);
    const src = captureEventSource(files);
    const evs = await collect(src);
    expect(src.issues).toEqual([]);
    const all = files.flatMap(lines);
    const tradeRows = all.filter((l) => /,"trade","[A-Z/]+"\]$/.test(l)).reduce((n, l) => n + [...l.matchAll(/\["[\d.]+","[\d.]+","[\d.]+","[bs]"/g)].length, 0);
    const tickers = all.filter((l) => /,"ticker","[A-Z/]+"\]$/.test(l)).length;
    const bookMsgs = all.filter((l) => /,"book-\d+","[A-Z/]+"\]$/.test(l));
    const snapshots = bookMsgs.filter((l) => l.includes('{"as":')).length;
    const pairs = new Set(all.flatMap((l) => [...l.matchAll(/,"(?:trade|ticker|book-\d+)","([A-Z/]+)"\]$/g)].map((m) => m[1])));
    expect(countTypes(evs)).toEqual({
      InstrumentDefined: pairs.size,
      TradeReported: tradeRows,
      QuoteUpdated: tickers,
      BookSnapshotted: snapshots,
      BookDeltaApplied: bookMsgs.length - snapshots,
    });
    expect(src.parser.frameCounts.get('heartbeat')).toBe(all.filter((l) => l.includes('{"event":"heartbeat"}')).length);
    expect(new Set(evs.map((e) => e.id)).size).toBe(evs.length);
    // Merged by receive time.
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.receiveTimeNs >= evs[i - 1]!.receiveTimeNs).toBe(true);
  });

  it('scales come from AssetPairs pair_decimals / lot_decimals', async () => {
    const evs = await collect(captureEventSource(findWsCaptures(dir, 'KRAKEN')));
    const rest = JSON.parse(lines(path.join(dir, 'KRAKEN.0'))[0]!.replace(/^\S+ -> [\d.]+: /, '')) as { result: Record<string, { wsname?: string; pair_decimals: number; lot_decimals: number }> };
    const byWs = new Map(Object.values(rest.result).filter((p) => p.wsname).map((p) => [p.wsname!, p]));
    const defs = evs.filter((e) => e.type === 'InstrumentDefined');
    expect(defs.length).toBe(10);
    for (const d of defs) {
      if (d.type !== 'InstrumentDefined') continue;
      const p = byWs.get(d.data.symbol)!;
      expect(d.data.instrument).toBe(`KRAKEN:${d.data.symbol}`);
      expect([d.data.priceScale, d.data.qtyScale]).toEqual([p.pair_decimals, p.lot_decimals]);
    }
  });
});

describe('Coinbase capture (COINBASE.ws.28.0 + COINBASE.0)', () => {
  it('parses every frame; counts match string counts', async () => {
    const src = captureEventSource(COINBASE_WS);
    const evs = await collect(src);
    expect(src.issues).toEqual([]);
    const n = (t: string): number => countMatching(COINBASE_WS, new RegExp(`^[\\d.]+: \\{"type":"${t}"`));
    const products = new Set(lines(COINBASE_WS).flatMap((l) => [...l.matchAll(/"product_id":"([A-Z-]+)"/g)].map((m) => m[1])));
    expect(countTypes(evs)).toEqual({
      InstrumentDefined: products.size,
      BookSnapshotted: n('snapshot'),
      BookDeltaApplied: n('l2update'),
      TradeReported: n('match') + n('last_match'),
      QuoteUpdated: n('ticker'),
    });
    expect([n('snapshot'), n('l2update'), n('match'), n('last_match'), n('ticker')]).toEqual([10, 9719, 97, 10, 107]);
  });

  it('a match reports the taker as aggressor and exact decimals; tickers without sizes say so', async () => {
    const evs = await collect(captureEventSource(COINBASE_WS));
    const t = evs.find((e) => e.type === 'TradeReported' && e.data.tradeId === '280232');
    if (t?.type !== 'TradeReported') throw new Error('trade 280232 missing');
    // {"side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC"}: the maker sold, the taker bought.
    expect(t.data.aggressor).toBe('buy');
    expect(formatDecimal(t.data.priceTicks, t.data.priceScale)).toBe('0.00001305');
    expect(formatDecimal(t.data.qtyLots, t.data.qtyScale)).toBe('985.0');
    expect(t.eventTimeNs).toBe(BigInt(Date.UTC(2021, 3, 17, 16, 43, 37)) * 1_000_000n + 89_723_000n);
    const q = evs.find((e) => e.type === 'QuoteUpdated');
    if (q?.type !== 'QuoteUpdated') throw new Error();
    expect(q.data.sizesReported).toBe(false);
  });
});

describe('bad input', () => {
  function writeCapture(name: string, content: string): { file: string; cleanup: () => void } {
    const { dir: tmp, cleanup } = tmpDir();
    fs.copyFileSync(BINANCE_HTTP, path.join(tmp, 'BINANCE.http.0.0'));
    const file = path.join(tmp, name);
    fs.writeFileSync(file, content);
    return { file, cleanup };
  }

  async function failure(p: Promise<unknown>): Promise<TapedeckError> {
    try {
      await p;
    } catch (e) {
      if (isTapedeckError(e)) return e;
      throw e;
    }
    throw new Error('expected a TapedeckError');
  }

  it('a malformed JSON line stops the read with an error naming file and line; skip reports it and goes on', async () => {
    const ws = lines(BINANCE_WS);
    ws[9] = '1633998513.1: {"stream":"nknusdt@depth@100ms","data":{"e":"depthUpd';
    const { file, cleanup } = writeCapture('BINANCE.ws.1.0', ws.join('\n'));
    try {
      const e = await failure(collect(captureEventSource(file)));
      expect(e.code).toBe('FRAME_JSON');
      expect(e.where).toMatchObject({ file, line: 10 });
      expect(e.describe()).toContain(`${file}:10`);

      const src = captureEventSource(file, { onBadLine: 'skip' });
      const evs = await collect(src);
      expect(src.issues).toHaveLength(1);
      expect(src.issues[0]).toMatchObject({ code: 'FRAME_JSON', file, line: 10 });
      expect(evs.length).toBeGreaterThan(200);
    } finally {
      cleanup();
    }
  });

  it('a bad field names the field path; a price finer than the scale is refused, never rounded', async () => {
    const ws = lines(BINANCE_WS);
    ws[4] = ws[4]!.replace(/"U":\d+/, '"U":"x"');
    const f1 = writeCapture('BINANCE.ws.1.0', ws.join('\n'));
    try {
      const e = await failure(collect(captureEventSource(f1.file)));
      expect(e.code).toBe('FRAME_INVALID');
      expect(e.where).toMatchObject({ line: 5, field: 'data.U' });
    } finally {
      f1.cleanup();
    }
    const ws2 = lines(BINANCE_WS);
    ws2[2] = ws2[2]!.replace('"b":[["0.35170000"', '"b":[["0.351700001"');
    const f2 = writeCapture('BINANCE.ws.1.0', ws2.join('\n'));
    try {
      const e = await failure(collect(captureEventSource(f2.file)));
      expect(e.code).toBe('FIXED_PRECISION');
      expect(e.where).toMatchObject({ file: f2.file, line: 3, field: 'data.b.0.0' });
    } finally {
      f2.cleanup();
    }
  });

  it('a truncated last line is an error naming the line; skip reports a partial record and keeps the rest', async () => {
    const ws = lines(BINANCE_WS).filter((l) => l !== '');
    const last = ws.length;
    const cut = ws.slice(0, -1).join('\n') + '\n' + ws[last - 1]!.slice(0, 60);
    const { file, cleanup } = writeCapture('BINANCE.ws.1.0', cut);
    try {
      const e = await failure(collect(readCapture(file)));
      expect(e.code).toBe('CAPTURE_TRUNCATED');
      expect(e.where).toMatchObject({ file, line: last });
      expect(typeof e.where!.offset).toBe('number');
      const issues: unknown[] = [];
      const recs = await collect(readCapture(file, { onBadLine: 'skip', onIssue: (i) => issues.push(i) }));
      expect(recs).toHaveLength(last - 1);
      expect(issues).toEqual([expect.objectContaining({ code: 'CAPTURE_TRUNCATED', line: last })]);
    } finally {
      cleanup();
    }
  });

  it('a complete last line without a newline is accepted; a line that is no record is a syntax error', async () => {
    const ws = lines(BINANCE_WS).filter((l) => l !== '');
    const a = writeCapture('BINANCE.ws.1.0', ws.join('\n'));
    try {
      expect((await collect(readCapture(a.file))).length).toBe(ws.length);
    } finally {
      a.cleanup();
    }
    const b = writeCapture('BINANCE.ws.1.0', [ws[0], ws[1], 'garbage here', ws[2]].join('\n') + '\n');
    try {
      const e = await failure(collect(readCapture(b.file)));
      expect(e.code).toBe('CAPTURE_SYNTAX');
      expect(e.where).toMatchObject({ line: 3 });
    } finally {
      b.cleanup();
    }
  });

  it('a missing file is a clear error; a venue it cannot tell is refused', async () => {
    const e = await failure(collect(readCapture('/nonexistent/BINANCE.ws.9.9')));
    expect(e.code).toBe('CAPTURE_READ');
    const { dir: tmp, cleanup } = tmpDir();
    try {
      const f = path.join(tmp, 'mystery.txt');
      fs.writeFileSync(f, 'wss://example.org/feed <-> 1.0\n');
      expect(() => captureEventSource(f)).toThrow(/cannot tell the venue/);
    } finally {
      cleanup();
    }
  });
});
