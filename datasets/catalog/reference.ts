/**
 * Runs that reference a catalog dataset instead of copying its events into their stream
 * (InputsReferenced in domain/events/catalog.ts): how the reference is made from a manifest, and how a
 * reader (parity, audit, slippage) gets the inputs back through it.
 *
 * A reader refuses, in one line, when the data is not what the run read: INPUTS_MISSING when the catalog,
 * the dataset or one of its files is gone (exit 2: point it at the right catalog), INPUTS_CHANGED when a
 * file's size or SHA-256 differs from what the run recorded, or the manifest lists other files (exit 1:
 * the check failed; the run's inputs are no longer there).
 */
import path from 'node:path';
import { TapedeckError } from '../../domain/core/errors.js';
import type { PayloadOf } from '../../domain/events/catalog.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { readManifest, verifyDataset, type DatasetManifest } from './manifest.js';

export type InputsReference = PayloadOf<'InputsReferenced'>;
export type CatalogReference = Extract<InputsReference['source'], { kind: 'catalog' }>;

/** The reference a run records for reading the whole dataset `manifest` of `catalogDir`, from its first event. */
export function datasetReference(catalogDir: string, manifest: DatasetManifest): Omit<InputsReference, 'runId'> {
  const files = manifest.files.filter((f) => f.kind === 'events').map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes, sha256: f.sha256 }));
  return { source: { kind: 'catalog', catalog: path.resolve(catalogDir), datasetId: manifest.id, files }, inputs: manifest.rows.events };
}

export interface ReferenceOptions {
  /** Read the dataset from this catalog directory instead of the one the run recorded (it was moved). */
  catalog?: string;
}

/**
 * Checks that the referenced dataset is there with exactly the files the run recorded (size and SHA-256
 * of every file, hashed again) and returns the catalog directory to read. Throws INPUTS_MISSING or
 * INPUTS_CHANGED naming the run, the dataset and the file.
 */
export function verifyReference(runId: string, ref: InputsReference, options: ReferenceOptions = {}): { catalog: string; files: string[] } {
  const src = ref.source;
  if (src.kind !== 'catalog') throw new Error(`invariant violated: not a catalog reference (${src.kind})`);
  const catalog = options.catalog ?? src.catalog;
  const what = `run ${runId} reads its inputs from dataset "${src.datasetId}" of the catalog ${catalog}`;
  let manifest: DatasetManifest;
  try {
    manifest = readManifest(catalog, src.datasetId);
  } catch (e) {
    if (e instanceof TapedeckError && (e.code === 'CATALOG_NOT_FOUND' || e.code === 'CATALOG_ID')) {
      throw new TapedeckError('INPUTS_MISSING', `${what}, which is not there (${e.message}); pass the catalog it was moved to`, { ...e.where, field: 'InputsReferenced.source' });
    }
    throw e;
  }
  const listed = manifest.files.filter((f) => f.kind === 'events');
  const same = listed.length === src.files.length && listed.every((f, i) => f.path === src.files[i]!.path && f.sha256 === src.files[i]!.sha256 && f.bytes === src.files[i]!.bytes);
  if (!same) {
    const differs = src.files.find((f, i) => listed[i]?.path !== f.path || listed[i]?.sha256 !== f.sha256 || listed[i]?.bytes !== f.bytes) ?? src.files[0]!;
    throw new TapedeckError('INPUTS_CHANGED', `${what}, whose manifest no longer lists the files the run read (${differs.path}, SHA-256 ${differs.sha256.slice(0, 16)}...): the data changed since the run`, { file: path.join(catalog, src.datasetId, 'manifest.json') });
  }
  try {
    return { catalog, files: verifyDataset(catalog, manifest, 'events') };
  } catch (e) {
    if (e instanceof TapedeckError && e.code === 'CATALOG_FILE_MISSING') throw new TapedeckError('INPUTS_MISSING', `${what}: ${e.message}`, e.where);
    if (e instanceof TapedeckError && e.code === 'CATALOG_CHECKSUM') throw new TapedeckError('INPUTS_CHANGED', `${what}: ${e.message} since the run`, e.where);
    throw e;
  }
}

/**
 * The referenced inputs, numbered from 0 in the order the run read them, after verifyReference (the files
 * are hashed once, there). DuckDB and Arrow are loaded only here, when a run's inputs are read.
 */
export async function openReferencedInputs(runId: string, ref: InputsReference, options: ReferenceOptions = {}): Promise<AsyncIterable<AnyEnvelope>> {
  const { files } = verifyReference(runId, ref, options);
  const { envelopesFromBatches, readParquetBatches } = await import('./parquet.js');
  return envelopesFromBatches(readParquetBatches(files));
}

/** Referenced input number `n` (its row `seq` in the dataset), after verifyReference; null when the dataset has no such row. */
export async function referencedInput(runId: string, ref: InputsReference, n: number, options: ReferenceOptions = {}): Promise<AnyEnvelope | null> {
  const { files } = verifyReference(runId, ref, options);
  const { envelopesFromBatches, readParquetBatches } = await import('./parquet.js');
  for await (const env of envelopesFromBatches(readParquetBatches(files, { where: `seq = ${Math.trunc(n)}` }))) return env;
  return null;
}
