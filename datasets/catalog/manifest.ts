/**
 * The catalogue on disk:
 *
 *   <catalog>/<id>/manifest.json       what the dataset is (see DatasetManifest)
 *   <catalog>/<id>/events-00000.parquet  catalogue envelopes, in source order, in parts
 *   <catalog>/<id>/bars-00000.parquet    klines (Binance klines files only)
 *
 * A dataset directory appears only complete: the importer writes into `.tmp-<id>-<pid>` and renames it.
 * Reading checks every file's size and SHA-256 against the manifest first: a changed or missing file is
 * a clear error before anything is read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TapedeckError, type TapedeckErrorCode } from '../../domain/core/errors.js';
import { formatIssues } from '../../domain/events/envelope.js';
import { confinedPath } from '../../src/runtime/confine.js';

export const CATALOG_FORMAT = 'tapedeck-catalog';
export const IMPORTER_NAME = 'tapedeck-datasets';
/** Bump when the Parquet layout or the mapping of a source changes. */
export const IMPORTER_VERSION = '1';

export type DatasetFormat = 'itch' | 'binance-csv' | 'cryptofeed';

export interface ManifestFile {
  path: string;
  /** What the file holds: catalogue envelopes or bars. */
  kind: 'events' | 'bars';
  rows: number;
  bytes: number;
  sha256: string;
}

export interface RowIssue {
  code: TapedeckErrorCode;
  message: string;
  file: string;
  line?: number;
  offset?: number;
  field?: string;
}

export interface DatasetManifest {
  format: typeof CATALOG_FORMAT;
  id: string;
  datasetFormat: DatasetFormat;
  /** Source files, as given, with their SHA-256 (provenance: the same bytes give the same id). */
  source: { paths: string[]; sha256: Record<string, string> };
  /** Options the source was read with: catalogEventSource reproduces the original source's events with them. */
  sourceOptions: Record<string, unknown>;
  venue: string;
  instruments: string[];
  /** Event times (ns since the epoch, as strings); null when the dataset has no events. */
  timeRange: { fromNs: string | null; toNs: string | null };
  rows: { events: number; bars: number; bad: number };
  eventTypes: Record<string, number>;
  files: ManifestFile[];
  importer: { name: string; version: string };
  createdAt: string;
  /** Bad rows skipped (first 100 kept; `rows.bad` counts all). */
  issues: RowIssue[];
}

export function manifestPath(catalogDir: string, id: string): string {
  return path.join(catalogDir, id, 'manifest.json');
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Reads one manifest; CATALOG_NOT_FOUND when the catalogue or the entry does not exist. */
export function readManifest(catalogDir: string, id: string): DatasetManifest {
  if (!fs.existsSync(catalogDir) || !fs.statSync(catalogDir).isDirectory()) {
    throw new TapedeckError('CATALOG_NOT_FOUND', `no catalogue at ${path.resolve(catalogDir)}`, { file: path.resolve(catalogDir) });
  }
  if (!ID_RE.test(id)) throw new TapedeckError('CATALOG_ID', `"${id}" is not a dataset id (run "tapedeck datasets list")`, { field: 'id' });
  const file = manifestPath(catalogDir, id);
  if (!fs.existsSync(file)) {
    const known = listDatasetIds(catalogDir);
    throw new TapedeckError('CATALOG_NOT_FOUND', `no dataset "${id}" in the catalogue${known.length > 0 ? ` (it has: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''})` : ' (it is empty)'}`, { file });
  }
  let m: DatasetManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetManifest;
  } catch (e) {
    throw new TapedeckError('CATALOG_MANIFEST', `manifest is not valid JSON: ${(e as Error).message}`, { file });
  }
  if (m === null || typeof m !== 'object' || m.format !== CATALOG_FORMAT || m.id !== id || !Array.isArray(m.files)) {
    throw new TapedeckError('CATALOG_MANIFEST', `not a tapedeck dataset manifest for "${id}"`, { file });
  }
  const files = z.array(manifestFileSchema).safeParse(m.files);
  if (!files.success) {
    const { field, message } = formatIssues(files.error);
    throw new TapedeckError('CATALOG_MANIFEST', `manifest files: ${message}`, { file, field: `files.${field}` });
  }
  // Every file it lists lies inside the dataset's own folder.
  m.files.forEach((f, i) => confinedPath(path.join(catalogDir, id), f.path, { file, field: `files.${i}.path` }, 'CATALOG_MANIFEST'));
  return m;
}

const manifestFileSchema = z.object({
  path: z.string().min(1),
  kind: z.enum(['events', 'bars']),
  rows: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex'),
});

export function listDatasetIds(catalogDir: string): string[] {
  if (!fs.existsSync(catalogDir)) return [];
  return fs.readdirSync(catalogDir)
    .filter((n) => !n.startsWith('.') && fs.existsSync(path.join(catalogDir, n, 'manifest.json')))
    .sort();
}

export function listDatasets(catalogDir: string): DatasetManifest[] {
  if (!fs.existsSync(catalogDir) || !fs.statSync(catalogDir).isDirectory()) {
    throw new TapedeckError('CATALOG_NOT_FOUND', `no catalogue at ${path.resolve(catalogDir)}`, { file: path.resolve(catalogDir) });
  }
  return listDatasetIds(catalogDir).map((id) => readManifest(catalogDir, id));
}

/**
 * Checks that every file of the dataset exists with the size and SHA-256 the manifest records; returns
 * their absolute paths. Throws CATALOG_FILE_MISSING or CATALOG_CHECKSUM naming the file.
 */
export function verifyDataset(catalogDir: string, m: DatasetManifest, kind?: ManifestFile['kind']): string[] {
  const out: string[] = [];
  for (const f of m.files) {
    if (kind !== undefined && f.kind !== kind) continue;
    const file = confinedPath(path.join(catalogDir, m.id), f.path, { file: manifestPath(catalogDir, m.id), field: 'files.path' }, 'CATALOG_MANIFEST');
    if (!fs.existsSync(file)) {
      throw new TapedeckError('CATALOG_FILE_MISSING', `dataset "${m.id}" lists ${f.path} but the file is missing; re-import the source (${m.source.paths.join(', ')})`, { file });
    }
    const size = fs.statSync(file).size;
    if (size !== f.bytes) {
      throw new TapedeckError('CATALOG_CHECKSUM', `${f.path} is ${size} bytes, the manifest says ${f.bytes}: the file was changed or truncated`, { file });
    }
    const sum = sha256File(file);
    if (sum !== f.sha256) {
      throw new TapedeckError('CATALOG_CHECKSUM', `${f.path} has SHA-256 ${sum.slice(0, 16)}..., the manifest says ${f.sha256.slice(0, 16)}...: the file was changed`, { file });
    }
    out.push(file);
  }
  return out;
}
