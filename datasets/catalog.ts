/** The catalogue's public entry points (`tapedeck replay catalog:DIR#DATASET` imports catalogEventSource from here). */
export { catalogEventSource, catalogRecordBatches, type CatalogSource } from './catalog/source.js';
export { importDatasets, type ImportOptions, type ImportResult } from './catalog/import.js';
export { listDatasets, readManifest, verifyDataset, type DatasetManifest } from './catalog/manifest.js';
export { bookAt } from './catalog/book.js';
