/**
 * `npm run crash:live [-- KILLS [MIN_MS MAX_MS]]`: the live crash test at full size (default 100 SIGKILLs of `tapedeck live`
 * against a simulated Binance that stays up). Prints progress on stderr and the figures as one JSON line;
 * exits 1 if any check failed. The suite runs the same test with a few kills (test/live/crash.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCrashTest } from '../test/live/crash.js';

const kills = Number(process.argv[2] ?? '100');
// Kill moments after each start: wide enough to land in start-up, reconciliation and trading on a loaded machine.
const minMs = Number(process.argv[3] ?? '1500');
const maxMs = Number(process.argv[4] ?? '8000');
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'td-crash-live-'));
try {
  const r = await runCrashTest({ repoRoot, dir, kills, minMs, maxMs, onProgress: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(JSON.stringify(r) + '\n');
  const pass = r.duplicateClientOrderIds === 0 && r.duplicateLogFills === 0 && r.missingLogFills === 0 && r.reconcileNotOk.length === 0 && r.finalSession.ok && r.positionsMatchBalances;
  process.exitCode = pass ? 0 : 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
