/**
 * Opens the event store named by a location. Today: a directory, the embedded store (the default).
 * Later: `kurrentdb://host:2113` for KurrentDB and `kafka://...`; callers only see the EventStore port.
 */
import { EmbeddedEventStore, type EmbeddedStoreOptions } from './embedded/store.js';

export type { EmbeddedStoreOptions };

export async function openStore(location: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedEventStore> {
  return EmbeddedEventStore.open(location, options);
}
