/**
 * Parity beyond Binance (replay-parity.test.ts), end to end through the CLI: an ITCH 5.0 replay, and a Coinbase
 * paper session through the live adapter over a socket, which decides exactly as the backtest of the same
 * recording. Independent runs go side by side, each in its own store.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { capturePrefix } from '../helpers/capture.js';
import { tapedeckAsync } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('td-paper-');
// The first 4,000 of the Coinbase capture's 9,952 lines: all ten products' snapshots and their first updates
// (what the venue time of a snapshot is about) and 3,900 frames after them, through the same adapters; the
// backtest and the paper session read the same prefix. The full capture is parsed in test/marketdata.
const COINBASE = capturePrefix(path.join(datasetsDir, 'recorded_ws/cryptofeed/COINBASE.ws.28.0'), 4000, path.join(tmp.dir, 'coinbase'));
afterAll(() => tmp.cleanup());

async function runEvents(store: string, runId: string) {
  const s = await EmbeddedEventStore.open(store, { readOnly: true });
  const evs = await collect(s.readStream(`run-${runId}`));
  await s.close();
  return evs;
}

describe('parity over ITCH, and a Coinbase paper session', () => {
  it('replays an ITCH 5.0 file through the kernel, and parity holds', async () => {
    const store = path.join(tmp.dir, 'itch');
    const r = await tapedeckAsync(['replay', path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50'), '--strategy', 'momentum', '--store', store, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.events).toBeGreaterThan(12_000);
    expect(summary.orders).toBeGreaterThan(0);
    const evs = await runEvents(store, summary.runId);
    const intent = evs.find((e) => e.type === 'OrderIntended')!;
    const cause = evs.find((e) => e.id === (intent.data as { decision: { causeEventId: string } }).decision.causeEventId)!;
    // The decision is traceable to the exact ITCH message, bytes included.
    expect((cause.metadata.raw as { format: string }).format).toBe('itch50');
    expect(JSON.parse((await tapedeckAsync(['parity', '--store', store, '--run', summary.runId, '--json'])).stdout)).toMatchObject({ identical: true, decisions: summary.decisions });
  });

  it('Coinbase too: paper at full speed decides exactly as the backtest (snapshots take the venue time of their first update)', async () => {
    const [bt, paper] = await Promise.all([
      tapedeckAsync(['replay', COINBASE, '--strategy', 'momentum', '--store', path.join(tmp.dir, 'coinbase-backtest'), '--json']),
      tapedeckAsync(['paper', COINBASE, '--strategy', 'momentum', '--store', path.join(tmp.dir, 'coinbase-paper'), '--speed', '0', '--json']),
    ]);
    expect(bt.code, bt.stderr).toBe(0);
    const backtest = JSON.parse(bt.stdout);
    expect(backtest.fills).toBeGreaterThan(0);
    expect(paper.stderr).toBe('');
    expect(JSON.parse(paper.stdout)).toMatchObject({ events: backtest.events, decisionsHash: backtest.decisionsHash, fills: backtest.fills });
  });
});
