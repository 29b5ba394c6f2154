/**
 * Opens the event store named by a location; the one way any caller outside src/store/ gets a store.
 * Callers see only the EventStore port (fast paths are asked for through `store.capabilities`).
 *
 *   a directory (or file:///dir)        the embedded log, the default (embedded/)
 *   kurrentdb://host:2113, esdb://...   KurrentDB (kurrentdb/, to come)
 *
 * Any other `scheme://` is refused with one line naming the location (STORE_LOCATION, exit 2).
 */
import { fileURLToPath } from 'node:url';
import { TapedeckError } from '../../domain/core/errors.js';
import { EmbeddedEventStore, type EmbeddedStoreOptions } from './embedded/store.js';
import type { EventStore } from './port.js';

/**
 * How to open. `readOnly` and `create` mean the same for every backend; `durability` is what an
 * acknowledged append promises (the embedded store's fsync or batched; a server backend may ignore it).
 * The rest tunes the embedded log.
 */
export type OpenStoreOptions = EmbeddedStoreOptions;

/** The scheme of a `scheme://...` location, lower-cased; null for a plain path. */
export function locationScheme(location: string): string | null {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(location);
  return m ? m[1]!.toLowerCase() : null;
}

export const KURRENTDB_SCHEMES = ['kurrentdb', 'kurrentdb+discover', 'esdb', 'esdb+discover', 'kurrent', 'kurrent+discover'];

export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  if (typeof location !== 'string' || location.length === 0) {
    throw new TapedeckError('STORE_LOCATION', 'the store location is empty: give a directory or kurrentdb://host:2113', { field: '--store' });
  }
  const scheme = locationScheme(location);
  if (scheme === null) return EmbeddedEventStore.open(location, options);
  if (scheme === 'file') return EmbeddedEventStore.open(fileURLToPath(location), options);
  if (KURRENTDB_SCHEMES.includes(scheme)) return openKurrentDb(location, options);
  throw new TapedeckError(
    'STORE_LOCATION',
    `unknown store location scheme "${scheme}://" in ${location}: give a directory, or kurrentdb:// / esdb:// for KurrentDB`,
    { field: '--store' },
  );
}

/** The KurrentDB backend's hook: src/store/kurrentdb/ plugs in here. */
async function openKurrentDb(location: string, _options: OpenStoreOptions): Promise<EventStore> {
  throw new TapedeckError('STORE_BACKEND_MISSING', `the KurrentDB backend is not built yet, so ${location} cannot be opened; use a store directory`, { field: '--store' });
}
