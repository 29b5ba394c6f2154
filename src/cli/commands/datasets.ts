/**
 * `tapedeck datasets import|list|verify` (the Parquet catalogue of historical data) and
 * `tapedeck book` (an instrument's order book from a catalogue dataset at a time).
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { listDatasets, readManifest, verifyDataset, type DatasetManifest } from '../../../datasets/catalog/manifest.js';
import { isCatalogFormat } from '../../../datasets/catalog/sources.js';
import { datasetFormats, venueIds } from '../../venues/registry.js';
import { action, intOption, printJson } from '../run.js';

// DuckDB and Arrow load only when a dataset command runs, so the rest of the CLI starts fast.
const book = () => import('../../../datasets/catalog/book.js');
const importer = () => import('../../../datasets/catalog/import.js');

/** The formats of the registered venues (captures and archives) that the catalog can read. */
const FORMATS: string[] = datasetFormats().filter(isCatalogFormat);

function summary(m: DatasetManifest): Record<string, unknown> {
  return {
    id: m.id, format: m.datasetFormat, venue: m.venue, instruments: m.instruments, timeRange: m.timeRange, rows: m.rows,
    eventTypes: m.eventTypes, files: m.files.map((f) => ({ path: f.path, kind: f.kind, rows: f.rows, sha256: f.sha256 })),
    source: m.source.paths, importer: m.importer, createdAt: m.createdAt,
  };
}

export function register(program: Command): void {
  const ds = program.command('datasets').description('import historical data into a Parquet catalogue, list and verify it');

  ds.command('import')
    .description('import ITCH files, data.binance.vision CSVs or cryptofeed captures (a file, or a directory of them)')
    .argument('<path>', 'a file, or a directory (cryptofeed: one dataset per venue found)')
    .requiredOption('--format <format>', `one of ${FORMATS.join(', ')}`)
    .requiredOption('--catalog <dir>', 'the catalogue directory (created when missing)')
    .option('--venue <venue>', `venue code (default: from the file: ${venueIds().join(', ')})`)
    .option('--strict', 'stop at the first bad row instead of reporting and skipping it', false)
    .option('--force', 'import again even when the catalogue has this source already', false)
    .option('--json', 'one JSON line per dataset', false)
    .action(
      action(async (input: string, o: { format: string; catalog: string; venue?: string; strict: boolean; force: boolean; json: boolean }) => {
        const format = o.format;
        if (!FORMATS.includes(format) || !isCatalogFormat(format)) {
          throw new TapedeckError('IMPORT_FORMAT', `--format must be one of ${FORMATS.join(', ')}, got "${format}"`, { field: '--format' });
        }
        const results = await (await importer()).importDatasets(input, {
          format, catalog: o.catalog, strict: o.strict, force: o.force, ...(o.venue !== undefined ? { venue: o.venue } : {}),
        });
        for (const r of results) {
          const m = r.manifest;
          if (o.json) printJson({ ...summary(m), existing: r.existing, issues: m.issues });
          else {
            process.stdout.write(`${r.existing ? 'exists  ' : 'imported'} ${m.id}: ${m.rows.events} events, ${m.rows.bars} bars, ${m.rows.bad} bad rows, ${m.instruments.length} instruments\n`);
            for (const i of m.issues.slice(0, 10)) process.stdout.write(`  bad row ${i.file}${i.line !== undefined ? `:${i.line}` : ''}${i.offset !== undefined ? ` @${i.offset}` : ''}: ${i.message}\n`);
          }
        }
      }),
    );

  ds.command('list')
    .description('list the catalogue')
    .requiredOption('--catalog <dir>', 'the catalogue directory')
    .option('--json', 'one JSON line per dataset', false)
    .action(
      action(async (o: { catalog: string; json: boolean }) => {
        for (const m of listDatasets(o.catalog)) {
          if (o.json) printJson(summary(m));
          else process.stdout.write(`${m.id}  ${m.datasetFormat}  ${m.venue}  ${m.rows.events} events  ${m.rows.bars} bars  ${m.instruments.length} instruments\n`);
        }
      }),
    );

  ds.command('verify')
    .description('check every file of a dataset (or all) against its manifest checksums')
    .requiredOption('--catalog <dir>', 'the catalogue directory')
    .option('--id <id>', 'one dataset (default: all)')
    .option('--json', 'one JSON line per dataset', false)
    .action(
      action(async (o: { catalog: string; id?: string; json: boolean }) => {
        const ms = o.id !== undefined ? [readManifest(o.catalog, o.id)] : listDatasets(o.catalog);
        for (const m of ms) {
          verifyDataset(o.catalog, m);
          if (o.json) printJson({ id: m.id, ok: true, files: m.files.length });
          else process.stdout.write(`ok ${m.id} (${m.files.length} files)\n`);
        }
      }),
    );

  program
    .command('book')
    .description("an instrument's order book from a catalogue dataset, at a time (Binance: snapshot + diffs with gap detection)")
    .requiredOption('--catalog <dir>', 'the catalogue directory')
    .requiredOption('--dataset <id>', 'dataset id (tapedeck datasets list)')
    .requiredOption('--instrument <symbol>', 'SYMBOL or VENUE:SYMBOL')
    .option('--at <time>', 'ns since the epoch or ISO-8601 (default: the end of the dataset)')
    .option('--levels <n>', 'levels per side', intOption('--levels', 1), 10)
    .option('--json', 'one JSON document', false)
    .action(
      action(async (o: { catalog: string; dataset: string; instrument: string; at?: string; levels: number; json: boolean }) => {
        const b = await book();
        const view = await b.bookAt(o.catalog, o.dataset, o.instrument, { levels: o.levels, ...(o.at !== undefined ? { at: b.parseTime(o.at) } : {}) });
        if (o.json) {
          printJson(view);
          return;
        }
        process.stdout.write(`${view.instrument} at ${view.time} (${view.eventsApplied} events, ${view.synced ? 'synced' : 'NOT synced'}${view.lastUpdateId !== null ? `, update id ${view.lastUpdateId}` : ''})\n`);
        const w = Math.max(...view.bids.map((l) => l.price.length), ...view.asks.map((l) => l.price.length), 5);
        for (const l of [...view.asks].reverse()) process.stdout.write(`  ask ${l.price.padStart(w)}  ${l.quantity}\n`);
        for (const l of view.bids) process.stdout.write(`  bid ${l.price.padStart(w)}  ${l.quantity}\n`);
        for (const g of view.gaps) process.stdout.write(`  gap (${g.kind}) at ${g.timeNs}: ${g.detail}\n`);
      }),
    );
}
