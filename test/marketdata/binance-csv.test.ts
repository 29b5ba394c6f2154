/**
 * data.binance.vision CSVs: the real ADABTC klines and Binance's documented example rows. Expected
 * values are the file's own strings (exact round trip) and times computed here from the raw columns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binanceCsvKind, loadBinanceCsv, parseBinanceCsvLine, readBinanceCsv, type CsvRowIssue, type FixedDecimal, type KlineRow } from '../../datasets/binance/csv.js';
import { formatDecimal } from '../../domain/core/fixed.js';
import { isTapedeckError } from '../../domain/core/errors.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const vision = path.join(datasetsDir, 'binance/data_binance_vision');
const format = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'binance/data_binance_vision_format.json'), 'utf8')) as Record<string, Record<string, { example_row: string }>>;
const text = (d: FixedDecimal): string => formatDecimal(d.mantissa, d.scale);

describe('Binance CSV klines', () => {
  for (const name of ['ADABTC-1m-2021-11-27.csv', 'ADABTC-1m-2021-11-28.csv']) {
    it(`${name}: every row parses, every decimal round-trips to the file's string, times are exact`, async () => {
      const file = path.join(vision, name);
      expect(binanceCsvKind(file)).toBe('klines');
      const raw = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
      const { rows, issues } = await loadBinanceCsv(file);
      expect(issues).toEqual([]);
      expect(rows).toHaveLength(raw.length);
      rows.forEach((r, i) => {
        const cols = raw[i]!.trim().split(',');
        const k = r as KlineRow;
        expect(k.line).toBe(i + 1);
        expect([k.open, k.high, k.low, k.close, k.volume].map(text)).toEqual(cols.slice(1, 6));
        expect([k.quoteVolume, k.takerBuyBaseVolume, k.takerBuyQuoteVolume].map(text)).toEqual([cols[7], cols[9], cols[10]]);
        expect(k.trades).toBe(Number(cols[8]));
        expect(k.timeUnit).toBe('ms');
        expect(k.openTimeNs).toBe(BigInt(cols[0]!) * 1_000_000n);
        expect(k.closeTimeNs).toBe(BigInt(cols[6]!) * 1_000_000n);
        // 1m klines: close time is open time + 59.999 s.
        expect(k.closeTimeNs - k.openTimeNs).toBe(59_999_000_000n);
      });
    });
  }

  it('a 2025 spot row in microseconds is told apart by magnitude', () => {
    const row = format.spot!.klines!.example_row;
    const k = parseBinanceCsvLine('klines', row, 'doc', 1) as KlineRow;
    expect(k.timeUnit).toBe('us');
    expect(k.openTimeNs).toBe(1735689600000000n * 1000n);
    expect(k.openTimeNs).toBe(BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n);
    expect(text(k.close)).toBe(row.split(',')[4]);
  });

  it('bad rows are reported by file:line and column while the good rows keep coming; strict stops at the first', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const good = fs.readFileSync(path.join(vision, 'ADABTC-1m-2021-11-27.csv'), 'utf8').split('\n').filter((l) => l !== '');
      const lines = [...good.slice(0, 3)];
      lines.push(good[3]!.split(',').slice(0, 11).join(','));                 // line 4: 11 columns
      lines.push(good[4]!.replace(/^(\d+),0\.00002856/, '$1,0.0000x856'));     // line 5: open not a decimal
      lines.push(good[5]!.replace(/^(\d+),([\d.]+),([\d.]+),([\d.]+)/, '$1,$2,0.00000001,$4')); // line 6: high below low
      lines.push(...good.slice(6));
      const file = path.join(dir, 'ADABTC-1m-2021-11-27.csv');
      fs.writeFileSync(file, lines.join('\n') + '\n');

      const { rows, issues } = await loadBinanceCsv(file);
      expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 7, 8, 9, 10]);
      expect(issues.map((i) => [i.line, i.field])).toEqual([[4, '(row)'], [5, 'open'], [6, 'low']]);
      expect(issues.every((i) => i.file === file)).toBe(true);

      let err: unknown = null;
      try {
        for await (const _ of readBinanceCsv(file, { strict: true })) void _;
      } catch (e) {
        err = e;
      }
      expect(isTapedeckError(err) && err.describe()).toContain(`${file}:4`);

      // Without a listener, skipped rows are still announced at the end, never lost silently.
      const seen: number[] = [];
      err = null;
      try {
        for await (const r of readBinanceCsv(file)) seen.push(r.line);
      } catch (e) {
        err = e;
      }
      expect(seen).toEqual([1, 2, 3, 7, 8, 9, 10]);
      expect(isTapedeckError(err) && err.code).toBe('CSV_BAD_ROWS');
      expect(isTapedeckError(err) && err.where).toMatchObject({ file, line: 4 });
    } finally {
      cleanup();
    }
  });
});

describe('Binance CSV trades and aggTrades (documented example rows)', () => {
  it('spot trades (µs, True/False) and futures trades (ms, true/false)', () => {
    const spot = parseBinanceCsvLine('trades', format.spot!.trades!.example_row, 'doc', 1);
    if (spot.kind !== 'trades') throw new Error();
    expect([spot.tradeId, text(spot.price), text(spot.qty), text(spot.quoteQty), spot.timeUnit, spot.isBuyerMaker, spot.isBestMatch])
      .toEqual([51175358, '17.80180000', '5.69000000', '101.29224200', 'us', true, true]);
    expect(spot.timeNs).toBe(1735689600010866000n);
    const fut = parseBinanceCsvLine('trades', format.futures_um!.trades!.example_row, 'doc', 1);
    if (fut.kind !== 'trades') throw new Error();
    expect([fut.timeUnit, fut.isBuyerMaker, fut.isBestMatch, text(fut.quoteQty)]).toEqual(['ms', true, undefined, '48.00']);
  });

  it('spot and futures aggTrades', () => {
    const spot = parseBinanceCsvLine('aggTrades', format.spot!.aggTrades!.example_row, 'doc', 1);
    if (spot.kind !== 'aggTrades') throw new Error();
    expect([spot.aggTradeId, text(spot.price), spot.firstTradeId, spot.lastTradeId, spot.timeUnit, spot.isBuyerMaker, spot.isBestMatch])
      .toEqual([0, '0.20000000', 0, 0, 'us', false, true]);
    const fut = parseBinanceCsvLine('aggTrades', format.futures_um!.aggTrades!.example_row, 'doc', 1);
    if (fut.kind !== 'aggTrades') throw new Error();
    expect([fut.aggTradeId, fut.firstTradeId, fut.lastTradeId, fut.timeNs]).toEqual([26129, 27781, 27781, 1498793709153n * 1_000_000n]);
  });

  it('a futures file with a header line skips the header; a row with a float exponent is refused', async () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, 'BTCUSDT-aggTrades-2017-06-30.csv');
      fs.writeFileSync(file, `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n${format.futures_um!.aggTrades!.example_row}\n26130,1e-2,1,27782,27782,1498793709154,false\n`);
      const issues: CsvRowIssue[] = [];
      const rows = [];
      for await (const r of readBinanceCsv(file, { onIssue: (i) => issues.push(i) })) rows.push(r);
      expect(rows.map((r) => r.line)).toEqual([2]);
      expect(issues).toEqual([expect.objectContaining({ line: 3, field: 'price', file })]);
    } finally {
      cleanup();
    }
  });
});
