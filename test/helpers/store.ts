import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventStore, RecordedEvent } from '../../src/store/port.js';

/** `fn` on the embedded store in `dir`, opened read-only and closed after, whatever `fn` does. */
export async function withStore<T>(dir: string, fn: (s: EmbeddedEventStore) => Promise<T>): Promise<T> {
  const s = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** A store that serves `events` as their streams (revisions as given), and nothing else: what parity reads. */
export function storeView(events: RecordedEvent[]): EventStore {
  return {
    async *readStream(stream: string, opts: { maxCount?: number } = {}) {
      let n = 0;
      for (const e of events) {
        if (e.stream !== stream) continue;
        if (opts.maxCount !== undefined && n++ >= opts.maxCount) return;
        yield e;
      }
    },
  } as unknown as EventStore;
}
