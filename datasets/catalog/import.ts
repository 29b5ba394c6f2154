/**
 * `importDataset`: one source (file, or a venue's capture files) → one catalogue entry. Every row is
 * validated by the source's own reader; bad rows are reported (file, line or byte offset, field) and
 * skipped, or stop the import with `strict`. The entry appears only when complete (written to a
 * temporary directory, then renamed); a failed import leaves the catalogue as it was.
 *
 * Ids are derived from the content: `<format>-<name>-<12 hex of SHA-256 over the source bytes, the
 * importer version and the source options>`, so importing the same bytes again finds the same entry.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { toDec18, type TableSpec } from '../../projections/columns.js';
import type { KlineRow } from '../binance/csv.js';
import {
  CATALOG_FORMAT, IMPORTER_NAME, IMPORTER_VERSION, readManifest, sha256File,
  type DatasetFormat, type DatasetManifest, type ManifestFile, type RowIssue,
} from './manifest.js';
import { EVENTS_SPEC, ParquetPartWriter, addEnvelopeRow } from './parquet.js';
import { formatVenue, originalSource, sourceGroups, sourceOptionsFor } from './sources.js';

export const BARS_SPEC: TableSpec = {
  name: 'bars',
  about: 'klines as in the source file',
  key: ['open_time_ns'],
  upsert: false,
  columns: [
    { name: 'line', kind: 'bigint' },
    { name: 'venue', kind: 'text' },
    { name: 'instrument', kind: 'text' },
    { name: 'interval', kind: 'text' },
    { name: 'open_time', kind: 'ts' },
    { name: 'close_time', kind: 'ts' },
    { name: 'open', kind: 'dec' },
    { name: 'high', kind: 'dec' },
    { name: 'low', kind: 'dec' },
    { name: 'close', kind: 'dec' },
    { name: 'volume', kind: 'dec' },
    { name: 'quote_volume', kind: 'dec' },
    { name: 'trades', kind: 'bigint' },
    { name: 'taker_buy_base_volume', kind: 'dec' },
    { name: 'taker_buy_quote_volume', kind: 'dec' },
    { name: 'time_unit', kind: 'text' },
  ],
};

export interface ImportOptions {
  format: DatasetFormat;
  catalog: string;
  venue?: string;
  strict?: boolean;
  /** Events per Parquet part file. */
  partRows?: number;
  /** Re-import even when the entry exists. */
  force?: boolean;
}

export interface ImportResult {
  manifest: DatasetManifest;
  /** true when the entry already existed and nothing was written. */
  existing: boolean;
}

const KEEP_ISSUES = 100;

function slug(name: string): string {
  return name.replace(/\.(gz|csv|parquet)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48) || 'data';
}

export async function importDatasets(input: string, options: ImportOptions): Promise<ImportResult[]> {
  const groups = sourceGroups(options.format, input, options.venue);
  const out: ImportResult[] = [];
  for (const files of groups) out.push(await importGroup(files, options));
  return out;
}

async function importGroup(files: string[], options: ImportOptions): Promise<ImportResult> {
  const catalog = path.resolve(options.catalog);
  const venueOpt = options.venue?.toUpperCase();
  const sourceOptions = sourceOptionsFor(options.format, files, venueOpt);
  const sums: Record<string, string> = {};
  for (const f of files) sums[path.resolve(f)] = sha256File(f);
  const idHash = createHash('sha256')
    .update(JSON.stringify({ format: options.format, files: files.map((f) => sums[path.resolve(f)]), importer: IMPORTER_VERSION, sourceOptions }))
    .digest('hex')
    .slice(0, 12);
  const id = `${options.format}-${slug(path.basename(files[0]!))}-${idHash}`;
  const finalDir = path.join(catalog, id);
  if (fs.existsSync(path.join(finalDir, 'manifest.json')) && !options.force) {
    return { manifest: readManifest(catalog, id), existing: true };
  }
  fs.mkdirSync(catalog, { recursive: true });
  const tmp = path.join(catalog, `.tmp-${id}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const events = new ParquetPartWriter(EVENTS_SPEC, tmp, 'events', options.partRows ?? 1_000_000);
  const bars = new ParquetPartWriter(BARS_SPEC, tmp, 'bars', options.partRows ?? 1_000_000);
  const issues: RowIssue[] = [];
  let bad = 0;
  const eventTypes: Record<string, number> = {};
  const instruments = new Set<string>();
  let fromNs: bigint | null = null;
  let toNs: bigint | null = null;
  let seq = 0;
  let venueSeen: string | null = null;
  const interval = options.format === 'binance-csv' ? (path.basename(files[0]!).split('-')[1] ?? '') : '';
  try {
    const source = originalSource(options.format, files, sourceOptions, {
      strict: options.strict ?? false,
      onIssue: (i) => {
        bad++;
        if (issues.length < KEEP_ISSUES) issues.push(i);
      },
      onKline: (k: KlineRow, instrument: string) => {
        instruments.add(instrument);
        const venue = instrument.slice(0, instrument.indexOf(':'));
        venueSeen ??= venue;
        bars.buffer.add(
          k.line, venue, instrument, interval, k.openTimeNs, k.closeTimeNs,
          toDec18(k.open.mantissa, k.open.scale), toDec18(k.high.mantissa, k.high.scale), toDec18(k.low.mantissa, k.low.scale),
          toDec18(k.close.mantissa, k.close.scale), toDec18(k.volume.mantissa, k.volume.scale), toDec18(k.quoteVolume.mantissa, k.quoteVolume.scale),
          k.trades, toDec18(k.takerBuyBaseVolume.mantissa, k.takerBuyBaseVolume.scale), toDec18(k.takerBuyQuoteVolume.mantissa, k.takerBuyQuoteVolume.scale),
          k.timeUnit,
        );
        if (fromNs === null || k.openTimeNs < fromNs) fromNs = k.openTimeNs;
        if (toNs === null || k.closeTimeNs > toNs) toNs = k.closeTimeNs;
      },
    });
    for await (const env of source) {
      addEnvelopeRow(events.buffer, seq++, env);
      eventTypes[env.type] = (eventTypes[env.type] ?? 0) + 1;
      const d = env.data as { instrument?: unknown; venue?: unknown };
      if (typeof d.instrument === 'string') instruments.add(d.instrument);
      if (typeof d.venue === 'string') venueSeen ??= d.venue;
      if (fromNs === null || env.eventTimeNs < fromNs) fromNs = env.eventTimeNs;
      if (toNs === null || env.eventTimeNs > toNs) toNs = env.eventTimeNs;
      if (events.buffer.length >= 8192) await events.drain();
      if (bars.buffer.length >= 8192) await bars.drain();
    }
    const eventParts = await events.finish();
    const barParts = await bars.finish();
    const manifestFiles: ManifestFile[] = [
      ...eventParts.map((p) => ({ kind: 'events' as const, p })),
      ...barParts.map((p) => ({ kind: 'bars' as const, p })),
    ].map(({ kind, p }) => {
      const file = path.join(tmp, p.path);
      return { path: p.path, kind, rows: p.rows, bytes: fs.statSync(file).size, sha256: sha256File(file) };
    });
    const manifest: DatasetManifest = {
      format: CATALOG_FORMAT,
      id,
      datasetFormat: options.format,
      source: { paths: files.map((f) => path.resolve(f)), sha256: sums },
      sourceOptions,
      venue: venueOpt ?? venueSeen ?? String(sourceOptions.venue ?? formatVenue(options.format)),
      instruments: [...instruments].sort(),
      timeRange: { fromNs: fromNs === null ? null : String(fromNs), toNs: toNs === null ? null : String(toNs) },
      rows: { events: seq, bars: barParts.reduce((a, p) => a + p.rows, 0), bad },
      eventTypes,
      files: manifestFiles,
      importer: { name: IMPORTER_NAME, version: IMPORTER_VERSION },
      createdAt: new Date().toISOString(),
      issues,
    };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(tmp, finalDir);
    return { manifest, existing: false };
  } catch (e) {
    events.close();
    bars.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
