/**
 * `replay` and `paper` over several sources at once (issue 11: strategies that trade across venues need
 * both venues' data in one run): the merge is in the run, parity replays it, bad combinations are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReplaySource, resolveSource } from '../../src/runtime/sources.js';
import { capturePrefix } from '../helpers/capture.js';
import { tapedeck, tapedeckAsync, type CliResult } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const CAP = path.join(datasetsDir, 'recorded_ws', 'cryptofeed');
const BINANCE = path.join(CAP, 'BINANCE.ws.1.0');
const t = tmpDir('td-multi-');
// The first 1,500 lines of the Coinbase capture (1,500 events of its 10k: every product's snapshot and a
// stretch of updates): the point is the merge of two venues, not the length of either; full-size Coinbase
// runs are in itch-coinbase-parity.test.ts.
const COINBASE = capturePrefix(path.join(CAP, 'COINBASE.ws.28.0'), 1500, path.join(t.dir, 'coinbase'));

async function count(file: string): Promise<number> {
  let n = 0;
  for await (const _ of await openReplaySource(resolveSource(file))) n++;
  return n;
}
afterAll(() => t.cleanup());

// The replay and the paper session are independent (each its own store): they run side by side, and so do
// their parity checks.
let replayRun: CliResult;
let paperRun: CliResult;
let replayParity: CliResult | undefined;
let paperParity: CliResult | undefined;
beforeAll(async () => {
  [replayRun, paperRun] = await Promise.all([
    tapedeckAsync(['replay', BINANCE, COINBASE, '--strategy', 'momentum', '--store', path.join(t.dir, 'replay'), '--json']),
    tapedeckAsync(['paper', BINANCE, COINBASE, '--strategy', 'momentum', '--speed', '0', '--store', path.join(t.dir, 'paper'), '--json']),
  ]);
  const parity = (r: CliResult, store: string) =>
    r.code === 0 ? tapedeckAsync(['parity', '--store', path.join(t.dir, store), '--run', JSON.parse(r.stdout).runId, '--json']) : undefined;
  [replayParity, paperParity] = await Promise.all([parity(replayRun, 'replay'), parity(paperRun, 'paper')]);
});

describe('runs over several sources', () => {
  it('replay merges two venues, every input once, and parity of the merged run is identical', async () => {
    expect(replayRun.code, replayRun.stderr).toBe(0);
    const a = JSON.parse(replayRun.stdout);
    expect(a.events).toBe(await count(BINANCE) + await count(COINBASE));
    expect(replayParity!.code, replayParity!.stderr).toBe(0);
    expect(JSON.parse(replayParity!.stdout)).toMatchObject({ identical: true, complete: true, decisions: a.decisions });
  });

  it('paper reads each venue through its own live adapter at once, and parity of what it saw is identical', () => {
    expect(paperRun.code, paperRun.stderr).toBe(0);
    const s = JSON.parse(paperRun.stdout);
    expect(s.events).toBeGreaterThan(0);
    expect(paperParity!.code, paperParity!.stderr).toBe(0);
    expect(JSON.parse(paperParity!.stdout)).toMatchObject({ identical: true, complete: true });
  });

  it('refuses the same source twice (its events would count twice), naming it, with exit 2 and nothing written', () => {
    const store = path.join(t.dir, 'dup');
    const r = tapedeck(['replay', BINANCE, BINANCE, '--strategy', 'momentum', '--store', store]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/source .*BINANCE\.ws\.1\.0 is given twice/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(store)).toBe(false);
  });
});
