import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventStore } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { defineStoreContract } from './contract.js';

defineStoreContract('embedded (fsync)', () => {
  const t = tmpDir('td-contract-');
  const opened: EventStore[] = [];
  return {
    async create() {
      const s = await EmbeddedEventStore.open(t.dir);
      opened.push(s);
      return s;
    },
    async reopen(store) {
      await store.close();
      const s = await EmbeddedEventStore.open(t.dir);
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      t.cleanup();
    },
  };
});

defineStoreContract('embedded (batched, tiny segments)', () => {
  const t = tmpDir('td-contract-b-');
  const opened: EventStore[] = [];
  return {
    async create() {
      const s = await EmbeddedEventStore.open(t.dir, { durability: 'batched', segmentBytes: 512 });
      opened.push(s);
      return s;
    },
    async reopen(store) {
      await store.close();
      const s = await EmbeddedEventStore.open(t.dir, { durability: 'batched', segmentBytes: 512 });
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      t.cleanup();
    },
  };
});
