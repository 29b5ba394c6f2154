import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest files start first, so none of them is left running alone at the end of the suite: the wall
 * time is bounded by whichever worker finishes last. Most of them wait on brokers, sockets and child
 * processes, so they overlap well with the CPU-bound files that follow. On a clean clone vitest has no
 * timings of its own (it would start with the largest files), hence the list. Longest first; a file
 * missing here runs after these, in vitest's own order.
 */
const LONGEST_FIRST = [
  'test/live/restart.test.ts',
  'test/bus/kafka-broker-crash.test.ts',
  'test/live/crash.test.ts',
  'test/bus/kafka.test.ts',
  'test/live/polymarket-session.test.ts',
  'test/kernel/replay-parity.test.ts',
  'test/projections/query-cli.test.ts',
  'test/live/kalshi-session.test.ts',
  'test/live/live-session.test.ts',
  'test/projections/projections.test.ts',
  'test/bus/kafka-publish.test.ts',
  'test/store/cli.test.ts',
  'test/server/dashboard.test.ts',
  'test/live/arb-cli.test.ts',
  'test/itch/cli.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.indexOf(path.relative(f.project.config.root, f.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return [...(await super.sort(files))].map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // One process per worker for all its files, not one per file: node_modules (ccxt, ethers, DuckDB, zod)
    // and our own modules load once a worker instead of once a file. Measured on a clean clone: import time
    // 62 s -> 19 s of worker time, the suite 158 s -> 131 s. So a test file must leave no process-wide state
    // behind (environment, cwd, module mocks, stubbed globals, fake timers): the lint block for test/ in
    // eslint.config.js refuses what would.
    isolate: false,
    // 3 on 2 cores: many files wait on sockets, child processes and the broker; measured 156 s against 196 s with 2.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
