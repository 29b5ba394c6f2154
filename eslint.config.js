// Lint rules. The block for domain/ is the enforcement of principle 1: the domain is pure. The layers
// block keeps the effects in src/store, src/venues and src/runtime below projections/, replay/ and
// datasets/ (those read the log and may use them, never the other way round); the shell (src/cli,
// src/bench, src/server) may import anything.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers',
  'tls', 'tty', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

/** Import patterns for a top-level folder, as written from any depth below the repository root. */
const folder = (name) => [`**/${name}/**`, ...[1, 2, 3, 4, 5].map((d) => `${'../'.repeat(d)}${name}/**`)];
const layerMessage = 'src/store, src/venues and src/runtime must not import projections/, replay/ or datasets/ (they build on the log, not the other way round); move the shared code down a layer, or do it in the shell (src/cli, src/bench, src/server)';
const embeddedByName = {
  selector: "Identifier[name='EmbeddedEventStore']",
  message: 'open stores with openStore(location) (src/store/open.ts) and use the EventStore port; ask store.capabilities for fast paths. Only src/store/, the benchmarks and tests name the embedded class.',
};
const sharedProcess = 'test files share their worker process (vitest.config.ts: isolate: false): pass settings to the child or function under test instead of changing this process (env, cwd, exit code, mocks, timers)';
const domainOutside = 'domain/ imports nothing outside domain/ (and packages): it is the pure core everything else builds on.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.d.ts', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The dashboard's front end (tapedeck serve) runs in the browser.
    files: ['src/server/public/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'location', 'fetch', 'WebSocket', 'setTimeout', 'clearTimeout', 'console', 'URL', 'uPlot'].map((g) => [g, 'readonly'])),
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'domain/ is pure: no Node built-ins (I/O belongs in src/).' })),
        patterns: [
          { group: ['node:*'], message: 'domain/ is pure: no Node built-ins (I/O belongs in src/).' },
          { group: ['**/src/**', '../src/*', '../../src/*', '../../../src/*'], message: 'domain/ must not import from src/.' },
          { group: ['projections', 'replay', 'datasets', 'test', 'scripts'].flatMap(folder), message: domainOutside },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'domain/ is pure: pass configuration in, do not read process.' },
        { name: 'setTimeout', message: 'domain/ is pure: time is an input (timer events), not a timer.' },
        { name: 'setInterval', message: 'domain/ is pure: time is an input (timer events), not a timer.' },
        { name: 'setImmediate', message: 'domain/ is pure: time is an input.' },
        { name: 'queueMicrotask', message: 'domain/ is pure: no scheduling.' },
        { name: 'performance', message: 'domain/ is pure: no clock.' },
        { name: 'fetch', message: 'domain/ is pure: no I/O.' },
        { name: 'require', message: 'domain/ is pure: no dynamic loading.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'domain/ is pure: Date.now() is a clock; take time as an input.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'domain/ is pure: new Date() is a clock; take time as an input.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'domain/ is pure: Math.random() is hidden randomness; keep a seeded generator in state.' },
        { selector: "ImportExpression", message: 'domain/ is pure: no dynamic import.' },
        { selector: "MemberExpression[object.name='crypto'][property.name='getRandomValues']", message: 'domain/ is pure: no hidden randomness.' },
        { selector: "MemberExpression[object.name='crypto'][property.name='randomUUID']", message: 'domain/ is pure: no hidden randomness.' },
      ],
    },
  },
  {
    // One store port: outside src/store/ (and the benchmarks and tests, which measure or test the embedded log itself).
    files: ['**/*.ts'],
    ignores: ['src/store/**', 'src/bench/**', 'test/**', 'scripts/**', 'domain/**'],
    rules: { 'no-restricted-syntax': ['error', embeddedByName] },
  },
  {
    files: ['src/store/**/*.ts', 'src/venues/**/*.ts', 'src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['projections', 'replay', 'datasets'].flatMap(folder), message: layerMessage }] }],
      'no-restricted-syntax': ['error',
        { selector: 'ImportExpression[source.value=/(^|\\/)(projections|replay|datasets)\\//]', message: layerMessage },
      ],
    },
  },
  {
    files: ['src/venues/**/*.ts', 'src/runtime/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'ImportExpression[source.value=/(^|\\/)(projections|replay|datasets)\\//]', message: layerMessage },
        embeddedByName,
      ],
    },
  },
  {
    // Test files share their worker's process (vitest.config.ts: isolate: false), so none may leave
    // process-wide state behind for the next file.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "AssignmentExpression[left.object.object.name='process'][left.object.property.name='env']", message: sharedProcess },
        { selector: "UnaryExpression[operator='delete'][argument.object.object.name='process']", message: sharedProcess },
        { selector: "CallExpression[callee.object.name='process'][callee.property.name=/^(chdir|umask|setUncaughtExceptionCaptureCallback)$/]", message: sharedProcess },
        { selector: "AssignmentExpression[left.object.name='process'][left.property.name='exitCode']", message: sharedProcess },
        { selector: "CallExpression[callee.object.name='vi'][callee.property.name=/^(mock|doMock|stubEnv|stubGlobal|useFakeTimers|setSystemTime)$/]", message: sharedProcess },
      ],
    },
  },
);
