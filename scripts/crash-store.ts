/**
 * `npm run crash:store [-- KILLS [SEED]]`: the embedded store's crash test at full size (default 100 SIGKILLs of
 * a child appending from six writers, a torn record injected after every other kill). Prints progress on stderr
 * and the figures as one JSON line; exits 1 if any check failed. The suite runs the same test with 6 kills
 * (test/store/crash.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStoreCrashTest } from '../test/store/crash.js';

const kills = Number(process.argv[2] ?? '100');
const seed = Number(process.argv[3] ?? '20261121');
if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: npm run crash:store -- [KILLS (a positive integer, default 100)] [SEED (an integer)]\n');
  process.exit(2);
}
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'td-crash-store-'));
try {
  const r = await runStoreCrashTest({ repoRoot, dir, kills, seed, onProgress: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(JSON.stringify(r) + '\n');
  const pass = r.problems.length === 0 && r.finalHealthy && r.tornTruncated >= r.tornInjected;
  process.exitCode = pass ? 0 : 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
