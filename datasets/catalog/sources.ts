/**
 * The ORIGINAL event sources of each importable format: what `tapedeck replay FILE` would read. The
 * importer stores exactly what these yield, and catalogEventSource must give the same envelopes back.
 *
 *   itch         src/venues/nasdaq/itch/to-events.ts itchEventSource (framing errors: skip + report)
 *   cryptofeed   src/venues/cryptofeed/capture.ts captureEventSource (Binance book procedure included)
 *   binance-csv  binanceCsvEventSource below: trades and aggTrades → TradeReported (ids, tradeIds and
 *                aggressor as the Binance websocket parser names them); klines have no catalogue event
 *                (they go to the dataset's bars Parquet), so a klines file yields no envelopes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TapedeckError, isTapedeckError, type TapedeckErrorCode } from '../../domain/core/errors.js';
import { rescale } from '../../domain/core/fixed.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { makeEvent, type AnyEnvelope } from '../../domain/events/envelope.js';
import { binanceCsvKind, readBinanceCsv, type BinanceCsvRow, type FixedDecimal, type KlineRow } from '../binance/csv.js';
import { captureEventSource, cryptofeedVenueIds, detectCaptureVenue, findWsCaptures, type CaptureVenue } from '../../src/venues/cryptofeed/capture.js';
import { itchEventSource, nasdaqMidnightNs } from '../../src/venues/nasdaq/itch/to-events.js';
import { marketDataStream } from '../../src/venues/common/frame.js';
import { venueOfFormat } from '../../src/venues/registry.js';
import type { DatasetFormat, RowIssue } from './manifest.js';

/** The formats this catalog has a reader for (originalSource below); the venue registry names the formats a user may ask for. */
export const CATALOG_FORMATS: readonly DatasetFormat[] = ['itch', 'binance-csv', 'cryptofeed'];

export function isCatalogFormat(format: string): format is DatasetFormat {
  return (CATALOG_FORMATS as readonly string[]).includes(format);
}

export interface SourceOptions {
  strict?: boolean;
  venue?: string;
  onIssue?: (issue: RowIssue) => void;
  /** Klines of a Binance CSV (no catalogue event), with the scales they were read at. */
  onKline?: (row: KlineRow, instrument: string) => void;
}

/** The venue a format belongs to, from the registry (`binance-csv` → BINANCE, `itch` → NASDAQ). */
export function formatVenue(format: DatasetFormat): string {
  const v = venueOfFormat(format);
  if (v === null) throw new TapedeckError('IMPORT_VENUE', `the venue of ${format} files cannot be told from the format: pass --venue`, { field: '--venue' });
  return v.id;
}

/** Options that change the events a source yields (kept in the manifest so the catalogue can compare). */
export function sourceOptionsFor(format: DatasetFormat, files: string[], venue: string | undefined): Record<string, unknown> {
  switch (format) {
    case 'itch':
      // As `tapedeck replay FILE` reads it: ids named by the file's base name, times since midnight.
      return { fileId: path.basename(files[0]!), ...(venue !== undefined ? { venue } : {}) };
    case 'cryptofeed':
      return { venue: venue ?? detectCaptureVenue(files[0]!) };
    case 'binance-csv':
      return { venue: venue ?? formatVenue(format), kind: binanceCsvKind(files[0]!) };
  }
}

/** The original source of a dataset's files, with its options. */
export function originalSource(format: DatasetFormat, files: string[], sourceOptions: Record<string, unknown>, options: SourceOptions = {}): AsyncIterable<AnyEnvelope> {
  switch (format) {
    case 'itch': {
      const date = typeof sourceOptions.sessionDate === 'string' ? sourceOptions.sessionDate : undefined;
      const file = files[0]!;
      return itchEventSource(file, {
        fileId: String(sourceOptions.fileId ?? path.basename(file)),
        ...(date !== undefined ? { sessionMidnightNs: nasdaqMidnightNs(date) } : {}),
        ...(typeof sourceOptions.venue === 'string' ? { venue: sourceOptions.venue } : {}),
        onError: options.strict ? 'stop' : 'skip',
        onSummary: (s) => {
          for (const e of s.firstErrors) options.onIssue?.({ code: e.code, message: e.message, file, offset: e.offset });
          if (s.errors > s.firstErrors.length) {
            options.onIssue?.({ code: 'ITCH_MORE_ERRORS', message: `${s.errors - s.firstErrors.length} more framing errors (${JSON.stringify(s.errorsByCode)})`, file });
          }
        },
      });
    }
    case 'cryptofeed': {
      const venue = String(sourceOptions.venue) as CaptureVenue;
      return captureEventSource(files, {
        venue,
        onBadLine: options.strict ? 'stop' : 'skip',
        onIssue: (i) => options.onIssue?.({ code: i.code, message: i.message, file: i.file, line: i.line, ...(i.offset !== undefined ? { offset: i.offset } : {}), ...(i.field !== undefined ? { field: i.field } : {}) }),
      });
    }
    case 'binance-csv':
      return binanceCsvEventSource(files[0]!, { ...options, venue: String(sourceOptions.venue ?? formatVenue(format)) });
  }
}

/** The files a PATH names for a format: a file, or for cryptofeed a directory of one venue's captures. */
export function sourceGroups(format: DatasetFormat, input: string, venue?: string): string[][] {
  if (!fs.existsSync(input)) throw new TapedeckError('IMPORT_NOT_FOUND', `no such file or directory: ${input}`, { file: input });
  const isDir = fs.statSync(input).isDirectory();
  if (!isDir) return [[input]];
  if (format === 'cryptofeed') {
    const venues = venue !== undefined ? [venue.toUpperCase()] : cryptofeedVenueIds();
    const groups = venues.map((v) => findWsCaptures(input, v)).filter((g) => g.length > 0);
    if (groups.length === 0) throw new TapedeckError('IMPORT_EMPTY', `no <VENUE>.ws.* capture files in ${input}`, { file: input });
    return groups;
  }
  const ext = format === 'binance-csv' ? /\.csv$/i : /(ITCH|itch)/;
  const files = fs.readdirSync(input).filter((n) => ext.test(n) && !n.endsWith('.json') && !n.endsWith('.md')).sort().map((n) => path.join(input, n));
  if (files.length === 0) throw new TapedeckError('IMPORT_EMPTY', `no ${format} files in ${input}`, { file: input });
  return files.map((f) => [f]);
}

// ---------------------------------------------------------------- Binance CSV

const ID_NAMESPACE = (venue: string): string => `tapedeck/marketdata/${venue}`;

/** `ADABTC` from `ADABTC-aggTrades-2025-01-01.csv`. */
export function binanceCsvSymbol(file: string): string {
  const s = path.basename(file).split('-')[0] ?? '';
  if (!/^[A-Z0-9]+$/.test(s)) throw new TapedeckError('CSV_SYMBOL', `cannot read the symbol from the name "${path.basename(file)}" (expected <SYMBOL>-...)`, { file });
  return s;
}

/**
 * TradeReported envelopes from a data.binance.vision trades or aggTrades CSV. The price and quantity
 * scales are those of the first good row (Binance writes a fixed number of decimals per symbol); a later
 * value needing more decimals is a bad row. Event ids follow the websocket parser (`aggTrade:<a>:<inst>`,
 * `trade:<t>:<inst>`), so the same trade has the same id from the archive and from the stream.
 */
export async function* binanceCsvEventSource(file: string, options: SourceOptions & { venue?: string } = {}): AsyncGenerator<AnyEnvelope> {
  const venue = options.venue ?? 'BINANCE';
  const symbol = binanceCsvSymbol(file);
  const instrument = `${venue}:${symbol}`;
  const ns = ID_NAMESPACE(venue);
  let priceScale: number | null = null;
  let qtyScale: number | null = null;
  const bad = (row: { line: number }, field: string, message: string, code: TapedeckErrorCode = 'CSV_ROW'): void => {
    const issue: RowIssue = { code, message, file, line: row.line, field };
    if (options.strict) throw new TapedeckError(code, message, { file, line: row.line, field });
    options.onIssue?.(issue);
  };
  const at = (d: FixedDecimal, scale: number): number | null => {
    try {
      const m = rescale(d.mantissa, d.scale, scale, 'exact');
      if (m > BigInt(Number.MAX_SAFE_INTEGER)) return null;
      return Number(m);
    } catch (e) {
      if (isTapedeckError(e)) return null;
      throw e;
    }
  };
  const rows = readBinanceCsv(file, {
    strict: options.strict ?? false,
    onIssue: (i) => options.onIssue?.({ code: i.code, message: i.message, file: i.file, line: i.line, ...(i.field !== undefined ? { field: i.field } : {}) }),
  });
  for await (const row of rows as AsyncIterable<BinanceCsvRow>) {
    if (row.kind === 'klines') {
      options.onKline?.(row, instrument);
      continue;
    }
    priceScale ??= row.price.scale;
    qtyScale ??= row.qty.scale;
    const p = at(row.price, priceScale);
    const q = at(row.qty, qtyScale);
    if (p === null) {
      bad(row, 'price', `price has more decimals than the file's first price (${priceScale}) or is too large`);
      continue;
    }
    if (q === null) {
      bad(row, row.kind === 'aggTrades' ? 'quantity' : 'qty', `quantity has more decimals than the file's first quantity (${qtyScale}) or is too large`);
      continue;
    }
    const agg = row.kind === 'aggTrades';
    const tradeNo = agg ? row.aggTradeId : row.tradeId;
    yield makeEvent({
      id: uuidFromName(ns, `${agg ? 'aggTrade' : 'trade'}:${tradeNo}:${instrument}`),
      type: 'TradeReported',
      stream: marketDataStream(instrument),
      eventTimeNs: row.timeNs,
      receiveTimeNs: row.timeNs,
      data: {
        venue, instrument, tradeId: agg ? `agg:${tradeNo}` : String(tradeNo), priceTicks: p, qtyLots: q, priceScale, qtyScale,
        aggressor: row.isBuyerMaker ? 'sell' : 'buy',
      },
    });
  }
}
