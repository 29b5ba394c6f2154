/**
 * The layers, enforced by `npm run lint` (eslint.config.js): src/store, src/venues and src/runtime never
 * import projections/, replay/ or datasets/ (statically or by a literal dynamic import); domain/ imports
 * nothing outside domain/; the shell (src/cli, src/bench, src/server) may import anything. The committed
 * tree itself is checked by `npm run lint`, which `npm test` runs before the tests.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/tmp.js';

const eslint = new ESLint({ cwd: repoRoot });

async function lint(code: string, file: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return r!.messages.filter((m) => m.severity === 2).map((m) => m.message);
}

const LAYER = /must not import projections\/, replay\/ or datasets\//;

describe('layering lint', () => {
  it.each([
    ['src/store/example.ts', "import { projectFrom } from '../../projections/catchup.js';\nexport const x = projectFrom;"],
    ['src/store/embedded/example.ts', "import { checkParity } from '../../../replay/parity.js';\nexport const x = checkParity;"],
    ['src/venues/nasdaq/itch/example.ts', "import * as g from '../../../../datasets/itch/generate.js';\nexport const x = g;"],
    ['src/runtime/example.ts', "export { catalogEventSource } from '../../datasets/catalog.js';"],
    ['src/runtime/example.ts', "export const load = () => import('../../projections/catchup.js');"],
  ])('rejects %s importing a higher layer', async (file, code) => {
    const msgs = await lint(code, file);
    expect(msgs.some((m) => LAYER.test(m)), msgs.join(' | ')).toBe(true);
  });

  it('rejects domain/ importing anything outside domain/', async () => {
    for (const target of ['../../projections/catchup.js', '../../replay/parity.js', '../../datasets/catalog.js', '../../src/store/port.js', '../../test/helpers/tmp.js']) {
      const msgs = await lint(`import * as m from '${target}';\nexport const x = m;`, 'domain/kernel/example.ts');
      expect(msgs.length, target).toBeGreaterThan(0);
    }
  });

  it('lets the shell import anything, and the layers import what is below them', async () => {
    const up = "import { projectFrom } from '../../projections/catchup.js';\nimport { checkParity } from '../../replay/parity.js';\nexport const x = [projectFrom, checkParity];";
    expect(await lint(up, 'src/cli/example.ts')).toEqual([]);
    expect(await lint(up, 'src/bench/example.ts')).toEqual([]);
    expect(await lint(up, 'src/server/example.ts')).toEqual([]);
    expect(await lint("import { openStore } from '../src/store/open.js';\nexport const x = openStore;", 'projections/example.ts')).toEqual([]);
    expect(await lint("import type { EventStore } from '../port.js';\nexport type X = EventStore;", 'src/store/embedded/example.ts')).toEqual([]);
  });

  it('npm run lint fails on a file under src/store that imports projections/ (the eslint CLI, exit 1)', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', 'src/store/example.ts'], {
      cwd: repoRoot, input: "import { projectFrom } from '../../projections/catchup.js';\nexport const x = projectFrom;\n", encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(LAYER);
  });
});

describe('one store port', () => {
  it.each(['src/cli/example.ts', 'src/server/example.ts', 'src/runtime/example.ts', 'projections/example.ts', 'replay/example.ts'])('%s may not name the embedded store class', async (file) => {
    const depth = file.split('/').length - 1;
    const code = `export const load = async () => (await import('${'../'.repeat(depth)}src/store/embedded/store.js')).EmbeddedEventStore;\nimport { EmbeddedEventStore } from '${'../'.repeat(depth)}src/store/embedded/store.js';\nexport const x = EmbeddedEventStore;`;
    const msgs = await lint(code, file);
    expect(msgs.some((m) => /openStore\(location\)/.test(m)), msgs.join(' | ')).toBe(true);
  });

  it('src/store/, the benchmarks and tests may', async () => {
    const code = "import { EmbeddedEventStore } from './embedded/store.js';\nexport const x = EmbeddedEventStore;";
    expect(await lint(code, 'src/store/example.ts')).toEqual([]);
    expect(await lint(code, 'src/bench/example.ts')).toEqual([]);
    expect(await lint(code, 'test/store/example.ts')).toEqual([]);
  });
});

describe('test files leave the shared worker process as they found it (vitest.config.ts: isolate: false)', () => {
  const SHARED = /share their worker process/;
  it.each([
    "process.env.TAPEDECK_X = '1';",
    "process.env['TAPEDECK_X'] = '1';",
    'delete process.env.TAPEDECK_X;',
    "process.chdir('/tmp');",
    'process.exitCode = 1;',
    "import { vi } from 'vitest';\nvi.mock('node:fs');",
    "import { vi } from 'vitest';\nvi.useFakeTimers();",
    "import { vi } from 'vitest';\nvi.stubEnv('TZ', 'UTC');",
  ])('refuses %s in a test file', async (code) => {
    const msgs = await lint(code, 'test/store/example.test.ts');
    expect(msgs.some((m) => SHARED.test(m)), msgs.join(' | ')).toBe(true);
  });

  it('lets tests read the environment and give a child its own', async () => {
    const code = "import { spawnSync } from 'node:child_process';\nexport const r = spawnSync('node', [], { env: { ...process.env, TAPEDECK_X: process.env.HOME ?? '' } });";
    expect(await lint(code, 'test/store/example.test.ts')).toEqual([]);
    // The rule is for tests: the shell may set its own exit code.
    expect(await lint('process.exitCode = 1;\nexport {};', 'src/cli/example.ts')).toEqual([]);
  });
});
