/**
 * Opens the event store named by a location; the one way any caller outside src/store/ gets a store.
 * Callers see only the EventStore port (fast paths are asked for through `store.capabilities`).
 *
 *   a directory (or file:///dir)        the embedded log, the default (embedded/)
 *   kurrentdb://host:2113, esdb://...   KurrentDB (kurrentdb/; `?tapedeckNamespace=NAME` for one store of several)
 *
 * Any other `scheme://` is refused with one line naming the location (STORE_LOCATION, exit 2).
 */
import { fileURLToPath } from 'node:url';
import { TapedeckError } from '../../domain/core/errors.js';
import { EmbeddedEventStore, type EmbeddedStoreOptions } from './embedded/store.js';
import { KURRENTDB_SCHEMES as CLIENT_SCHEMES } from './kurrentdb/mapping.js';
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

export const KURRENTDB_SCHEMES: readonly string[] = CLIENT_SCHEMES;

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

/**
 * KurrentDB (src/store/kurrentdb/). Loaded on demand: the client (gRPC and a native addon) takes about
 * 200 ms to load, which users of the embedded store need not pay. Fails fast (STORE_UNAVAILABLE) when
 * the server does not answer. `durability` is the server's business; `create` has nothing to create.
 */
async function openKurrentDb(location: string, options: OpenStoreOptions): Promise<EventStore> {
  const { KurrentDbEventStore } = await import('./kurrentdb/store.js');
  return KurrentDbEventStore.open(location, { readOnly: options.readOnly });
}
