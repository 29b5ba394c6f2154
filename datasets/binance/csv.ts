/**
 * data.binance.vision CSV files (the unzipped CSV inside each .zip): klines, trades and aggTrades, spot
 * and futures layouts. Every row is validated; a bad row is reported with file, line and column and the
 * good rows keep coming (`strict: true` stops at the first bad row instead).
 *
 * Layouts (github.com/binance/binance-public-data README):
 *   klines (12 columns): open time, open, high, low, close, volume, close time, quote asset volume,
 *     number of trades, taker buy base volume, taker buy quote volume, ignore
 *   trades: id, price, qty, quoteQty, time, isBuyerMaker[, isBestMatch]   (spot 7 columns, futures 6)
 *   aggTrades: aggId, price, qty, firstId, lastId, time, isBuyerMaker[, isBestMatch]  (spot 8, futures 7)
 * Futures files start with a header line; spot files have none. Booleans are True/False (spot) or
 * true/false (futures).
 *
 * Timestamps: spot files use MILLISECONDS before 2025-01-01 and MICROSECONDS from then on; futures stay
 * in ms. The unit is told by magnitude (see epochToNs: below 1e14 is ms, below 1e17 µs), per value, and
 * reported in `timeUnit`; a kline whose open and close times are in different units is a bad row.
 *
 * Decimals are exact: each is kept as a bigint mantissa at the scale the file wrote it with, so
 * formatDecimal(mantissa, scale) gives back the very string of the file. Rescale to an instrument's
 * scale with domain/core/fixed.ts `rescale` (exact, or an explicit rounding mode).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { TapedeckError, type TapedeckErrorCode } from '../../domain/core/errors.js';
import { parseDecimal } from '../../domain/core/fixed.js';
import { epochToNs } from '../../src/venues/common/frame.js';

export type BinanceCsvKind = 'klines' | 'trades' | 'aggTrades';
export type TimeUnit = 'ms' | 'us' | 'ns';

/** An exact decimal as written in the file. */
export interface FixedDecimal {
  mantissa: bigint;
  scale: number;
}

export interface KlineRow {
  kind: 'klines';
  line: number;
  openTimeNs: bigint;
  closeTimeNs: bigint;
  timeUnit: TimeUnit;
  open: FixedDecimal;
  high: FixedDecimal;
  low: FixedDecimal;
  close: FixedDecimal;
  volume: FixedDecimal;
  quoteVolume: FixedDecimal;
  trades: number;
  takerBuyBaseVolume: FixedDecimal;
  takerBuyQuoteVolume: FixedDecimal;
}

export interface TradeRow {
  kind: 'trades';
  line: number;
  tradeId: number;
  price: FixedDecimal;
  qty: FixedDecimal;
  quoteQty: FixedDecimal;
  timeNs: bigint;
  timeUnit: TimeUnit;
  isBuyerMaker: boolean;
  /** Spot only. */
  isBestMatch?: boolean;
}

export interface AggTradeRow {
  kind: 'aggTrades';
  line: number;
  aggTradeId: number;
  price: FixedDecimal;
  qty: FixedDecimal;
  firstTradeId: number;
  lastTradeId: number;
  timeNs: bigint;
  timeUnit: TimeUnit;
  isBuyerMaker: boolean;
  /** Spot only. */
  isBestMatch?: boolean;
}

export type BinanceCsvRow = KlineRow | TradeRow | AggTradeRow;

export interface CsvRowIssue {
  code: TapedeckErrorCode;
  message: string;
  file: string;
  line: number;
  field?: string;
}

export interface BinanceCsvOptions {
  /** Default: from the file name (`ADABTC-1m-2021-11-27.csv` → klines, `-trades-`, `-aggTrades-`). */
  kind?: BinanceCsvKind;
  /** Stop at the first bad row (a TapedeckError naming file, line and column). Default false. */
  strict?: boolean;
  /**
   * Receives each bad row. Without it, bad rows are still skipped, but when the file ends a CSV_BAD_ROWS
   * error names how many there were and the first one: bad input is never lost silently.
   */
  onIssue?: (issue: CsvRowIssue) => void;
}

const INTERVALS = new Set(['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1mo']);

/** The kind of a data.binance.vision file from its name. */
export function binanceCsvKind(file: string): BinanceCsvKind {
  const parts = path.basename(file).replace(/\.csv$/i, '').split('-');
  if (parts.includes('aggTrades')) return 'aggTrades';
  if (parts.includes('trades')) return 'trades';
  if (parts.length >= 2 && INTERVALS.has(parts[1]!)) return 'klines';
  throw new TapedeckError('CSV_KIND', `cannot tell klines, trades or aggTrades from the name "${path.basename(file)}" (expected <SYMBOL>-<interval>-<date>.csv, <SYMBOL>-trades-<date>.csv or <SYMBOL>-aggTrades-<date>.csv); pass kind`, { file });
}

const KLINE_COLUMNS = ['open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time', 'quote_volume', 'count', 'taker_buy_volume', 'taker_buy_quote_volume', 'ignore'];
const TRADE_COLUMNS = ['id', 'price', 'qty', 'quote_qty', 'time', 'is_buyer_maker', 'is_best_match'];
const AGG_COLUMNS = ['agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'transact_time', 'is_buyer_maker', 'is_best_match'];

class RowError extends Error {
  constructor(readonly field: string, message: string, readonly code: TapedeckErrorCode = 'CSV_ROW') {
    super(message);
  }
}

function dec(cols: string[], i: number, names: string[]): FixedDecimal {
  const text = cols[i]!;
  const m = /^\d+(?:\.(\d+))?$/.exec(text);
  if (!m) throw new RowError(names[i]!, `${names[i]}: "${text}" is not a non-negative decimal`);
  const scale = m[1]?.length ?? 0;
  if (scale > 36) throw new RowError(names[i]!, `${names[i]}: "${text}" has more than 36 decimals`);
  return { mantissa: parseDecimal(text, scale, names[i]), scale };
}

function int(cols: string[], i: number, names: string[]): number {
  const text = cols[i]!;
  if (!/^\d+$/.test(text)) throw new RowError(names[i]!, `${names[i]}: "${text}" is not a non-negative integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RowError(names[i]!, `${names[i]}: ${text} exceeds the safe integer range`);
  return n;
}

function time(cols: string[], i: number, names: string[]): { ns: bigint; unit: TimeUnit } {
  const text = cols[i]!;
  if (!/^\d{1,19}$/.test(text)) throw new RowError(names[i]!, `${names[i]}: "${text}" is not an epoch timestamp`);
  const v = BigInt(text);
  return { ns: epochToNs(v), unit: v < 100_000_000_000_000n ? 'ms' : v < 100_000_000_000_000_000n ? 'us' : 'ns' };
}

function bool(cols: string[], i: number, names: string[]): boolean {
  const t = cols[i]!;
  if (t === 'True' || t === 'true') return true;
  if (t === 'False' || t === 'false') return false;
  throw new RowError(names[i]!, `${names[i]}: "${t}" is not True/False`);
}

const cmp = (a: FixedDecimal, b: FixedDecimal): number => {
  const s = Math.max(a.scale, b.scale);
  const x = a.mantissa * 10n ** BigInt(s - a.scale);
  const y = b.mantissa * 10n ** BigInt(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Parses one data row (no header). Throws RowError-derived TapedeckErrors via parseBinanceCsvLine. */
function parseRow(kind: BinanceCsvKind, cols: string[], line: number): BinanceCsvRow {
  switch (kind) {
    case 'klines': {
      const n = KLINE_COLUMNS;
      if (cols.length !== 12) throw new RowError('(row)', `a kline row has 12 columns, this one has ${cols.length}`);
      const open = time(cols, 0, n);
      const close = time(cols, 6, n);
      if (open.unit !== close.unit) throw new RowError('close_time', `open_time is in ${open.unit} but close_time in ${close.unit}`);
      if (close.ns <= open.ns) throw new RowError('close_time', `close_time ${cols[6]} is not after open_time ${cols[0]}`);
      const row: KlineRow = {
        kind, line, openTimeNs: open.ns, closeTimeNs: close.ns, timeUnit: open.unit,
        open: dec(cols, 1, n), high: dec(cols, 2, n), low: dec(cols, 3, n), close: dec(cols, 4, n), volume: dec(cols, 5, n),
        quoteVolume: dec(cols, 7, n), trades: int(cols, 8, n), takerBuyBaseVolume: dec(cols, 9, n), takerBuyQuoteVolume: dec(cols, 10, n),
      };
      if (cmp(row.low, row.high) > 0) throw new RowError('low', `low ${cols[3]} is above high ${cols[2]}`);
      for (const [f, v] of [['open', row.open], ['close', row.close]] as const) {
        if (cmp(v, row.low) < 0 || cmp(v, row.high) > 0) throw new RowError(f, `${f} ${cols[f === 'open' ? 1 : 4]} is outside low..high ${cols[3]}..${cols[2]}`);
      }
      if (cmp(row.takerBuyBaseVolume, row.volume) > 0) throw new RowError('taker_buy_volume', `taker buy volume ${cols[9]} exceeds volume ${cols[5]}`);
      return row;
    }
    case 'trades': {
      const n = TRADE_COLUMNS;
      if (cols.length !== 6 && cols.length !== 7) throw new RowError('(row)', `a trade row has 7 columns (spot) or 6 (futures), this one has ${cols.length}`);
      const t = time(cols, 4, n);
      return {
        kind, line, tradeId: int(cols, 0, n), price: dec(cols, 1, n), qty: dec(cols, 2, n), quoteQty: dec(cols, 3, n),
        timeNs: t.ns, timeUnit: t.unit, isBuyerMaker: bool(cols, 5, n), ...(cols.length === 7 ? { isBestMatch: bool(cols, 6, n) } : {}),
      };
    }
    case 'aggTrades': {
      const n = AGG_COLUMNS;
      if (cols.length !== 7 && cols.length !== 8) throw new RowError('(row)', `an aggTrade row has 8 columns (spot) or 7 (futures), this one has ${cols.length}`);
      const t = time(cols, 5, n);
      const first = int(cols, 3, n);
      const last = int(cols, 4, n);
      if (last < first) throw new RowError('last_trade_id', `last trade id ${last} is before first trade id ${first}`);
      return {
        kind, line, aggTradeId: int(cols, 0, n), price: dec(cols, 1, n), qty: dec(cols, 2, n), firstTradeId: first, lastTradeId: last,
        timeNs: t.ns, timeUnit: t.unit, isBuyerMaker: bool(cols, 6, n), ...(cols.length === 8 ? { isBestMatch: bool(cols, 7, n) } : {}),
      };
    }
  }
}

/** One CSV line as a row; a bad line is a TapedeckError (CSV_ROW) naming file, line and column. */
export function parseBinanceCsvLine(kind: BinanceCsvKind, text: string, file: string, line: number): BinanceCsvRow {
  try {
    return parseRow(kind, text.split(','), line);
  } catch (e) {
    if (e instanceof RowError) throw new TapedeckError(e.code, e.message, { file, line, field: e.field });
    if (e instanceof TapedeckError) throw new TapedeckError(e.code, e.message, { ...e.where, file, line });
    throw e;
  }
}

/** Rows of a data.binance.vision CSV file, streamed. Bad rows are reported (or stop the read when strict). */
export async function* readBinanceCsv(file: string, options: BinanceCsvOptions = {}): AsyncGenerator<BinanceCsvRow> {
  const kind = options.kind ?? binanceCsvKind(file);
  const input = fs.createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (e) => reject(new TapedeckError('CSV_READ', `cannot read: ${e.message}`, { file })));
  });
  await opened;
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let bad = 0;
  let firstBad: CsvRowIssue | null = null;
  try {
    for await (const raw of rl) {
      line++;
      const text = raw.trim();
      if (text === '') continue;
      // Futures files open with a header; a first line that does not start with a digit is one.
      if (line === 1 && !/^\d/.test(text)) continue;
      try {
        yield parseBinanceCsvLine(kind, text, file, line);
      } catch (e) {
        if (options.strict || !(e instanceof TapedeckError)) throw e;
        const field = e.where?.field;
        const issue: CsvRowIssue = { code: e.code, message: e.message, file, line, ...(typeof field === 'string' ? { field } : {}) };
        bad++;
        firstBad ??= issue;
        options.onIssue?.(issue);
      }
    }
  } finally {
    rl.close();
    input.destroy();
  }
  if (bad > 0 && options.onIssue === undefined && firstBad !== null) {
    throw new TapedeckError('CSV_BAD_ROWS', `${bad} bad row(s) skipped; the first: ${firstBad.message}`, { file, line: firstBad.line, ...(firstBad.field ? { field: firstBad.field } : {}) });
  }
}

/** A whole (small) file: the good rows and the bad-row reports. */
export async function loadBinanceCsv(file: string, options: Omit<BinanceCsvOptions, 'onIssue'> = {}): Promise<{ rows: BinanceCsvRow[]; issues: CsvRowIssue[] }> {
  const rows: BinanceCsvRow[] = [];
  const issues: CsvRowIssue[] = [];
  for await (const r of readBinanceCsv(file, { ...options, onIssue: (i) => issues.push(i) })) rows.push(r);
  return { rows, issues };
}
