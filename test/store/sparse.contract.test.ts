/** The contract suite, unchanged, on a backend whose positions are sparse (neither contiguous nor from 0). */
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { tmpDir } from '../helpers/tmp.js';
import { defineStoreContract, reopeningHarness } from './contract.js';
import { SparsePositionStore } from './sparse.js';

defineStoreContract('sparse positions (embedded, every position moved to 1000003 + 7p)', () => {
  const t = tmpDir('td-contract-sparse-');
  return reopeningHarness(async () => new SparsePositionStore(await EmbeddedEventStore.open(t.dir, { durability: 'batched' })), t.cleanup);
});
