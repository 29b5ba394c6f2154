import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { tmpDir } from '../helpers/tmp.js';
import { defineStoreContract, reopeningHarness } from './contract.js';

defineStoreContract('embedded (fsync)', () => {
  const t = tmpDir('td-contract-');
  return reopeningHarness(() => EmbeddedEventStore.open(t.dir), t.cleanup);
});

defineStoreContract('embedded (batched, tiny segments)', () => {
  const t = tmpDir('td-contract-b-');
  return reopeningHarness(() => EmbeddedEventStore.open(t.dir, { durability: 'batched', segmentBytes: 512 }), t.cleanup);
});
