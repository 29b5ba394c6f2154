import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { envelopeToStored, type AnyEnvelope } from '../../domain/events/envelope.js';
import { importDatasets } from '../../datasets/catalog/import.js';
import { listDatasets, readManifest } from '../../datasets/catalog/manifest.js';
import { readParquetBatches } from '../../datasets/catalog/parquet.js';
import { catalogEventSource, catalogRecordBatches } from '../../datasets/catalog/source.js';
import { binanceCsvEventSource, originalSource } from '../../datasets/catalog/sources.js';
import { openDb, queryRows } from '../../projections/db.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { jsonLines, tapedeck } from '../helpers/cli.js';

const tmp = tmpDir('tapedeck-catalog-');
afterAll(() => tmp.cleanup());
const ITCH = path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50');
const CF_FULL = path.join(datasetsDir, 'recorded_ws/cryptofeed');
const KLINES = path.join(datasetsDir, 'binance/data_binance_vision');

async function all(src: AsyncIterable<AnyEnvelope>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of src) out.push(JSON.stringify(envelopeToStored(e)));
  return out;
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

describe('catalogue import', () => {
  const catalog = path.join(tmp.dir, 'catalog');

  it('imports the ITCH file with row counts equal to the independent expected counts, and reads back the same events', async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'itch/ritch_ex20101224_expected.json'), 'utf8'));
    const [r] = await importDatasets(ITCH, { format: 'itch', catalog });
    const m = r!.manifest;
    const c = expected.count_by_type;
    expect(m.eventTypes.BookOrderAdded).toBe(c.A + c.F);
    expect(m.eventTypes.TradeReported).toBe(c.P + c.Q);
    expect(m.eventTypes.BookOrderExecuted).toBe(c.E + c.C);
    expect(m.eventTypes.BookOrderCanceled).toBe(c.X);
    expect(m.eventTypes.BookOrderDeleted).toBe(c.D);
    expect(m.eventTypes.BookOrderReplaced).toBe(c.U);
    expect(m.eventTypes.InstrumentDefined).toBe(c.R);
    expect(m.eventTypes.TradingStatusChanged).toBe(c.H);
    expect(m.rows.events).toBe(expected.total_messages - c.S);
    expect(m.rows.bad).toBe(0);
    expect(m.instruments).toEqual(['NASDAQ:ALC', 'NASDAQ:BOB', 'NASDAQ:CHAR']);
    expect(m.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(m.importer.version).toBeTruthy();
    // Trades by stock, straight from the Parquet file with SQL (an independent reader of the file).
    const db = await openDb(':memory:');
    try {
      const parquet = path.join(catalog, m.id, m.files[0]!.path);
      const rows = await queryRows(db.con, `SELECT instrument, count(*) n FROM read_parquet('${parquet}') WHERE type = 'TradeReported' GROUP BY 1 ORDER BY 1`);
      expect(Object.fromEntries(rows.map((x) => [String(x.instrument).slice(7), Number(x.n)]))).toEqual(expected.trades_P.by_stock);
    } finally {
      db.close();
    }
    const fromCatalog = await all(catalogEventSource(catalog, m.id));
    const fromFile = await all(originalSource('itch', [ITCH], m.sourceOptions));
    expect(fromCatalog.length).toBe(fromFile.length);
    expect(fromCatalog).toEqual(fromFile);
    // raw ITCH bytes survive the round trip
    expect(fromCatalog.every((l) => l.includes('"raw"'))).toBe(true);
    // importing the same bytes again finds the entry
    const [again] = await importDatasets(ITCH, { format: 'itch', catalog });
    expect(again!.existing).toBe(true);
    expect(again!.manifest.id).toBe(m.id);
  });

  it('imports every cryptofeed capture (one dataset per venue) with counts from the raw lines', async () => {
    // The captures as recorded, the two large ones cut to a prefix of whole lines (every message type of
    // theirs is in it): what is checked is per event, and the full sizes are parsed by test/marketdata.
    const CF = path.join(tmp.dir, 'cryptofeed');
    fs.mkdirSync(CF);
    const PREFIX_LINES: Record<string, number> = { 'COINBASE.ws.28.0': 2500, 'KRAKEN.ws.50.0': 1200 };
    for (const f of fs.readdirSync(CF_FULL)) {
      const prefix = PREFIX_LINES[f];
      if (prefix === undefined) fs.copyFileSync(path.join(CF_FULL, f), path.join(CF, f));
      else fs.writeFileSync(path.join(CF, f), fs.readFileSync(path.join(CF_FULL, f), 'utf8').split('\n').slice(0, prefix).join('\n') + '\n');
    }
    const rs = await importDatasets(CF, { format: 'cryptofeed', catalog });
    const byVenue = new Map(rs.map((r) => [r.manifest.venue, r.manifest]));
    expect([...byVenue.keys()].sort()).toEqual(['BINANCE', 'COINBASE', 'KRAKEN']);
    // Independent counts: parse the received frames here.
    const frames = (file: string): any[] => lines(file).filter((l) => /^\d+(\.\d+)?: /.test(l)).map((l) => JSON.parse(l.slice(l.indexOf(': ') + 2)));
    const cb = frames(path.join(CF, 'COINBASE.ws.28.0'));
    expect(byVenue.get('COINBASE')!.eventTypes.TradeReported).toBe(cb.filter((f) => f.type === 'match' || f.type === 'last_match').length);
    expect(byVenue.get('COINBASE')!.eventTypes.BookDeltaApplied).toBe(cb.filter((f) => f.type === 'l2update').length);
    expect(byVenue.get('COINBASE')!.eventTypes.BookSnapshotted).toBe(cb.filter((f) => f.type === 'snapshot').length);
    const bn = frames(path.join(CF, 'BINANCE.ws.1.0'));
    expect(byVenue.get('BINANCE')!.eventTypes.TradeReported).toBe(bn.filter((f) => f.data?.e === 'aggTrade').length);
    expect(byVenue.get('BINANCE')!.eventTypes.QuoteUpdated).toBe(bn.filter((f) => String(f.stream).endsWith('@bookTicker')).length);
    const kr = ['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0', 'KRAKEN.ws.50.0'].flatMap((f) => frames(path.join(CF, f)));
    const krTrades = kr.filter((f) => Array.isArray(f) && f[f.length - 2] === 'trade').reduce((a, f) => a + f[1].length, 0);
    expect(byVenue.get('KRAKEN')!.eventTypes.TradeReported).toBe(krTrades);
    for (const m of byVenue.values()) {
      expect(m.rows.bad).toBe(0);
      expect(await all(catalogEventSource(catalog, m.id))).toEqual(await all(originalSource('cryptofeed', m.source.paths, m.sourceOptions)));
    }
    // the batches really are Arrow record batches of typed columns
    const m = byVenue.get('KRAKEN')!;
    const batches = catalogRecordBatches(catalog, m.id);
    let rows = 0;
    for await (const b of batches) {
      expect(b.getChild('event_time_ns')!.toArray()).toBeInstanceOf(BigInt64Array);
      rows += b.numRows;
    }
    expect(rows).toBe(m.rows.events);
  });

  it('imports klines (bars) with one row per CSV line, exact decimals', async () => {
    const rs = await importDatasets(KLINES, { format: 'binance-csv', catalog });
    expect(rs).toHaveLength(2);
    for (const r of rs) {
      const src = r.manifest.source.paths[0]!;
      expect(r.manifest.rows.bars).toBe(lines(src).length);
      expect(r.manifest.rows.events).toBe(0);
      const bars = r.manifest.files.find((f) => f.kind === 'bars')!;
      const db = await openDb(':memory:');
      try {
        const got = await queryRows(db.con, `SELECT open::VARCHAR o, volume::VARCHAR v, trades FROM read_parquet('${path.join(catalog, r.manifest.id, bars.path)}') ORDER BY line`);
        const want = lines(src).map((l) => l.split(','));
        expect(got.map((g) => [String(g.o).replace(/0+$/, ''), String(g.v).replace(/0+$/, '').replace(/\.$/, ''), String(g.trades)]))
          .toEqual(want.map((w) => [w[1]!.replace(/0+$/, ''), w[5]!.replace(/0+$/, '').replace(/\.$/, ''), w[8]!]));
      } finally {
        db.close();
      }
    }
  });

  it('imports trades and aggTrades CSVs with µs timestamps, reporting bad rows by line unless --strict', async () => {
    const dir = path.join(tmp.dir, 'csv');
    fs.mkdirSync(dir, { recursive: true });
    const agg = path.join(dir, 'BTCUSDT-aggTrades-2025-01-01.csv');
    const good = Array.from({ length: 50 }, (_, i) => `${1000 + i},93500.${String(i).padStart(8, '0')},0.${String(100 + i).padStart(8, '0')},${2000 + i},${2000 + i},${1735689600010866 + i * 1000},${i % 2 ? 'True' : 'False'},True`);
    const badRows = ['1100,abc,0.1,1,1,1735689600010866,True,True', '1101,1.0,0.1,5,4,1735689600010866,True,True'];
    fs.writeFileSync(agg, [...good.slice(0, 10), badRows[0], ...good.slice(10, 30), badRows[1], ...good.slice(30)].join('\n') + '\n');
    const [r] = await importDatasets(agg, { format: 'binance-csv', catalog });
    expect(r!.manifest.rows.events).toBe(50);
    expect(r!.manifest.rows.bad).toBe(2);
    expect(r!.manifest.issues.map((i) => i.line)).toEqual([11, 32]);
    expect(r!.manifest.issues[0]!.field).toBe('price');
    expect(r!.manifest.timeRange.fromNs).toBe('1735689600010866000');
    const evs: AnyEnvelope[] = [];
    for await (const e of catalogEventSource(catalog, r!.manifest.id)) evs.push(e);
    expect(evs.map((e) => JSON.stringify(envelopeToStored(e)))).toEqual(await all(binanceCsvEventSource(agg, {})));
    const first = evs[0]!;
    expect(first.type).toBe('TradeReported');
    if (first.type === 'TradeReported') {
      expect(first.data).toMatchObject({ instrument: 'BINANCE:BTCUSDT', tradeId: 'agg:1000', priceTicks: 9350000000000, priceScale: 8, qtyLots: 100, aggressor: 'buy' });
    }
    const err = await importDatasets(agg, { format: 'binance-csv', catalog: path.join(tmp.dir, 'strict'), strict: true, force: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TapedeckError);
    expect((err as TapedeckError).where).toMatchObject({ line: 11 });
    expect(fs.readdirSync(path.join(tmp.dir, 'strict'))).toEqual([]);

    const trades = path.join(dir, 'ETHUSDT-trades-2025-01-02.csv');
    fs.writeFileSync(trades, '51175358,17.80180000,5.69000000,101.29224200,1735689600010866,True,True\n51175359,17.80190000,1.00000000,17.80190000,1735689600020866,False,True\n');
    const [t] = await importDatasets(trades, { format: 'binance-csv', catalog });
    expect(t!.manifest.rows.events).toBe(2);
    expect(t!.manifest.instruments).toEqual(['BINANCE:ETHUSDT']);
  });

  it('a changed or missing file, or an unknown id, is a clear error before any event, and nothing changes', async () => {
    const [r] = await importDatasets(path.join(CF_FULL, 'KRAKEN.ws.49.0'), { format: 'cryptofeed', catalog });
    const id = r!.manifest.id;
    const dir = path.join(catalog, id);
    const part = path.join(dir, r!.manifest.files[0]!.path);
    const snapshot = (): string => JSON.stringify(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));
    const original = fs.readFileSync(part);
    const bytes = Buffer.from(original);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    fs.writeFileSync(part, bytes);
    const before = snapshot();
    const read = async (): Promise<unknown> => {
      let n = 0;
      try {
        for await (const _ of catalogEventSource(catalog, id)) n++;
      } catch (e) {
        return { e, n };
      }
      return { e: null, n };
    };
    const bad = (await read()) as { e: TapedeckError; n: number };
    expect(bad.e).toBeInstanceOf(TapedeckError);
    expect(bad.e.code).toBe('CATALOG_CHECKSUM');
    expect(bad.n).toBe(0);
    expect(snapshot()).toBe(before);
    const cli = tapedeck(['datasets', 'verify', '--catalog', catalog, '--id', id]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/CATALOG_CHECKSUM/);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);

    fs.rmSync(part);
    const missing = (await read()) as { e: TapedeckError; n: number };
    expect(missing.e.code).toBe('CATALOG_FILE_MISSING');
    fs.writeFileSync(part, original);
    expect(((await read()) as { e: unknown }).e).toBeNull();

    expect(() => readManifest(catalog, 'no-such-dataset')).toThrow(/no dataset "no-such-dataset"/);
    const list = tapedeck(['datasets', 'list', '--catalog', catalog, '--json']);
    expect(list.code).toBe(0);
    const ids = jsonLines(list.stdout).map((x) => x.id);
    expect(ids).toEqual(listDatasets(catalog).map((m) => m.id));
    expect(ids).toContain(id);
  });

  it('reads Parquet batches with nulls intact', async () => {
    const m = listDatasets(catalog).find((x) => x.datasetFormat === 'itch')!;
    const files = m.files.map((f) => path.join(catalog, m.id, f.path));
    let nullPrices = 0;
    let rows = 0;
    for await (const b of readParquetBatches(files, { columns: ['seq', 'type', 'price_ticks'] })) {
      const types = b.getChild('type')!.toArray() as string[];
      const prices = b.getChild('price_ticks')!;
      for (let i = 0; i < b.numRows; i++) {
        rows++;
        const isNull = prices.get(i) === null;
        if (isNull) nullPrices++;
        expect(isNull).toBe(['BookOrderDeleted', 'BookOrderCanceled', 'InstrumentDefined', 'TradingStatusChanged'].includes(types[i]!) || (types[i] === 'BookOrderExecuted'));
      }
    }
    expect(rows).toBe(m.rows.events);
    expect(nullPrices).toBeGreaterThan(0);
  });
});
