/** The contract suite, unchanged, on a backend whose positions are sparse (neither contiguous nor from 0). */
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventStore } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { defineStoreContract } from './contract.js';
import { SparsePositionStore } from './sparse.js';

defineStoreContract('sparse positions (embedded, every position moved to 1000003 + 7p)', () => {
  const t = tmpDir('td-contract-sparse-');
  const opened: EventStore[] = [];
  const open = async () => {
    const s = new SparsePositionStore(await EmbeddedEventStore.open(t.dir, { durability: 'batched' }));
    opened.push(s);
    return s;
  };
  return {
    create: open,
    async reopen(store) {
      await store.close();
      return open();
    },
    async cleanup() {
      for (const s of opened) await s.close();
      t.cleanup();
    },
  };
});
