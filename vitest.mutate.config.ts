import { defineConfig } from 'vitest/config';

/**
 * The unit tests StrykerJS runs against each mutant (`npm run mutate`, see stryker.config.json): the
 * in-process tests of the mutated modules only. Tests that spawn the CLI, a browser or a broker cannot
 * see a mutant (they run the built dist/) and would only slow every run down; so would the whole-engine
 * kernel and store contract tests (each mutant runs every test that covers it), which the unit tests here
 * cover in less time.
 *
 * MUTATE_TESTS (comma-separated test files) narrows the set for a per-module run, e.g. the store's recovery
 * against its own tests only: every test that opens a store covers recovery, so without it each surviving
 * recovery mutant would re-run the engine and parity tests too (docs/mutation.md lists the invocations).
 */
const only = process.env.MUTATE_TESTS?.split(',').map((f) => f.trim()).filter((f) => f.length > 0);

export default defineConfig({
  test: {
    include: only && only.length > 0 ? only : [
      'test/domain/**/*.test.ts',
      'test/kernel/parity.test.ts',
      'test/kernel/parity-referenced.test.ts',
      'test/runtime/engine-live-failures.test.ts',
      'test/runtime/engine-send.test.ts',
      'test/store/recovery.test.ts',
      'test/store/recovery-unit.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
