/**
 * Reading a catalogue entry back: `catalogEventSource(catalogDir, id)` yields the same envelopes (same
 * ids, same order, same payloads and raw bytes) as the original file's source did when it was imported,
 * read from Parquet in Arrow record batches. The dataset's files are checked against the manifest
 * (size and SHA-256) before the first event: a changed or missing file is an error, never wrong data.
 */
import type { RecordBatch } from 'apache-arrow';
import { TapedeckError } from '../../domain/core/errors.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { readManifest, verifyDataset, type DatasetManifest } from './manifest.js';
import { envelopesFromBatches, readParquetBatches, type ReadOptions } from './parquet.js';

/** The dataset's event Parquet parts as Arrow RecordBatches, in order, after the checksum check. */
export function catalogRecordBatches(catalogDir: string, datasetId: string, options: ReadOptions = {}): AsyncIterable<RecordBatch> & { manifest: DatasetManifest } {
  const manifest = readManifest(catalogDir, datasetId);
  const files = verifyDataset(catalogDir, manifest, 'events');
  const it = readParquetBatches(files, options);
  return Object.assign(it, { manifest });
}

export interface CatalogSource extends AsyncIterable<AnyEnvelope> {
  readonly manifest: DatasetManifest;
}

/** Catalogue envelopes of a dataset, in source order (optionally only one instrument's). */
export function catalogEventSource(catalogDir: string, datasetId: string, options: { instrument?: string } = {}): CatalogSource {
  const where = options.instrument === undefined ? undefined : `instrument = '${options.instrument.replace(/'/g, "''")}'`;
  const batches = catalogRecordBatches(catalogDir, datasetId, where === undefined ? {} : { where });
  let used = false;
  return {
    manifest: batches.manifest,
    [Symbol.asyncIterator](): AsyncIterator<AnyEnvelope> {
      if (used) throw new TapedeckError('CATALOG_REUSED', 'a catalogue source can be iterated once; create a new one');
      used = true;
      return envelopesFromBatches(batches)[Symbol.asyncIterator]();
    },
  };
}
