/**
 * `replay` and `paper` over several sources at once (issue 11: strategies that trade across venues need
 * both venues' data in one run): the merge is in the run, parity replays it, bad combinations are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openReplaySource, resolveSource } from '../../src/runtime/sources.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const CAP = path.join(datasetsDir, 'recorded_ws', 'cryptofeed');
const BINANCE = path.join(CAP, 'BINANCE.ws.1.0');
const COINBASE = path.join(CAP, 'COINBASE.ws.28.0');
const t = tmpDir('td-multi-');

async function count(file: string): Promise<number> {
  let n = 0;
  for await (const _ of await openReplaySource(resolveSource(file))) n++;
  return n;
}
afterAll(() => t.cleanup());

describe('runs over several sources', () => {
  it('replay merges two venues, every input once, and parity of the merged run is identical', async () => {
    const store = path.join(t.dir, 'replay');
    const both = tapedeck(['replay', BINANCE, COINBASE, '--strategy', 'momentum', '--store', store, '--json']);
    expect(both.code, both.stderr).toBe(0);
    const a = JSON.parse(both.stdout);
    expect(a.events).toBe(await count(BINANCE) + await count(COINBASE));
    const parity = tapedeck(['parity', '--store', store, '--run', a.runId, '--json']);
    expect(parity.code, parity.stderr).toBe(0);
    expect(JSON.parse(parity.stdout)).toMatchObject({ identical: true, complete: true, decisions: a.decisions });
  });

  it('paper reads each venue through its own live adapter at once, and parity of what it saw is identical', () => {
    const store = path.join(t.dir, 'paper');
    const r = tapedeck(['paper', BINANCE, COINBASE, '--strategy', 'momentum', '--speed', '0', '--store', store, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.events).toBeGreaterThan(0);
    const parity = tapedeck(['parity', '--store', store, '--run', s.runId, '--json']);
    expect(parity.code, parity.stderr).toBe(0);
    expect(JSON.parse(parity.stdout)).toMatchObject({ identical: true, complete: true });
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
