import { EmbeddedEventStore } from '../../src/store/embedded/store.js';

/** `fn` on the embedded store in `dir`, opened read-only and closed after, whatever `fn` does. */
export async function withStore<T>(dir: string, fn: (s: EmbeddedEventStore) => Promise<T>): Promise<T> {
  const s = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
