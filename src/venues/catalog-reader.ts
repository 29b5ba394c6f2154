/**
 * The dataset catalog's reader, provided by the shell (src/cli) at start-up: src/venues and src/runtime must
 * not import datasets/. A module of its own (re-exported by registry.ts) so that providing it loads nothing else.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';

/** Reads a catalog dataset's events back (datasets/catalog.ts `catalogEventSource`). */
export type CatalogReader = (dir: string, datasetId: string) => AsyncIterable<AnyEnvelope>;

let catalogLoader: (() => Promise<CatalogReader>) | null = null;

/**
 * The shell (src/cli) provides the dataset catalog's reader, loaded lazily (DuckDB and Arrow load only
 * when a catalog is read). src/runtime and src/venues never import datasets/ themselves.
 */
export function provideCatalogReader(load: () => Promise<CatalogReader>): void {
  catalogLoader = load;
}

export async function catalogReader(): Promise<CatalogReader> {
  if (catalogLoader === null) {
    throw new TapedeckError('SOURCE_KIND', 'dataset catalogs are not available here: the program did not provide a catalog reader (run it through the tapedeck CLI)');
  }
  return catalogLoader();
}
