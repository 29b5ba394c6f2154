/**
 * The product's promise, end to end through the CLI: a replay and a paper session over real recorded
 * Binance traffic, each checked with `tapedeck parity`; a tampered input is caught; bad input fails
 * clearly and closes the run stream with RunEnded saying why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const BINANCE = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');

async function runEvents(store: string, runId: string) {
  const s = await EmbeddedEventStore.open(store, { readOnly: true });
  const evs = await collect(s.readStream(`run-${runId}`));
  await s.close();
  return evs;
}

describe('replay, paper and parity over recorded Binance traffic', () => {
  it.each(['market-maker', 'momentum'])('replays with %s and parity finds every decision identical', async (strategy) => {
    const t = tmpDir('td-replay-');
    const store = path.join(t.dir, 'store');
    const r = tapedeck(['replay', BINANCE, '--strategy', strategy, '--store', store, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toEqual(expect.objectContaining({ runId: expect.any(String), decisionsHash: expect.stringMatching(/^[0-9a-f]{32}$/) }));
    // The summary agrees with what the run stream holds.
    const evs = await runEvents(store, summary.runId);
    expect(evs[0]!.type).toBe('RunStarted');
    expect(evs.at(-1)!.type).toBe('RunEnded');
    expect(evs.filter((e) => e.metadata.role === 'input').length).toBe(summary.events);
    expect(evs.filter((e) => e.type === 'OrderFilled').length).toBe(summary.fills);
    expect(evs.filter((e) => e.type === 'OrderIntended').length).toBe(summary.orders);
    expect(evs.filter((e) => e.metadata.role === 'decision').length).toBe(summary.decisions);
    expect(summary.decisions).toBeGreaterThan(0);
    expect((evs.at(-1)!.data as { decisionsHash: string }).decisionsHash).toBe(summary.decisionsHash);
    // Every intent names the input that caused it, at that input's revision in the run stream.
    const byId = new Map(evs.map((e) => [e.id, e]));
    for (const e of evs.filter((x) => x.type === 'OrderIntended')) {
      const d = (e.data as { decision: { causeEventId: string; causeRevision: number; causePosition?: number; stateHash: string } }).decision;
      const cause = byId.get(d.causeEventId)!;
      expect(cause.metadata.role).toBe('input');
      expect(cause.revision).toBe(d.causeRevision);
      expect(d.causePosition).toBeUndefined();
      expect(e.metadata.$causationId).toBe(d.causeEventId);
    }
    const p = tapedeck(['parity', '--store', store, '--run', summary.runId, '--json']);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toEqual({ identical: true, complete: true, decisions: summary.decisions, inputs: summary.events, hash: summary.decisionsHash });
    // A second replay of the same recording decides exactly the same.
    const again = JSON.parse(tapedeck(['replay', BINANCE, '--strategy', strategy, '--store', store, '--json']).stdout);
    expect(again.runId).not.toBe(summary.runId);
    expect(again.decisionsHash).toBe(summary.decisionsHash);
    t.cleanup();
  });

  it('replays an ITCH 5.0 file through the kernel, and parity holds', async () => {
    const t = tmpDir('td-itch-replay-');
    const store = path.join(t.dir, 'store');
    const r = tapedeck(['replay', path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50'), '--strategy', 'momentum', '--store', store, '--json']);
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
    expect(JSON.parse(tapedeck(['parity', '--store', store, '--run', summary.runId, '--json']).stdout)).toMatchObject({ identical: true, decisions: summary.decisions });
    t.cleanup();
  });

  it('a paper session through the live adapter over a socket is identical under parity and decides exactly as the backtest', async () => {
    const t = tmpDir('td-paper-');
    const store = path.join(t.dir, 'store');
    // 10x real time: the 30 s recording plays in about 3 s, through the Binance live adapter over a socket.
    const r = tapedeck(['paper', BINANCE, '--strategy', 'momentum', '--store', store, '--speed', '10', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.events).toBeGreaterThan(200);
    expect(summary.fills).toBeGreaterThan(0);
    const evs = await runEvents(store, summary.runId);
    expect((evs[0]!.data as { manifest: { mode: string } }).manifest.mode).toBe('paper');
    const p = tapedeck(['parity', '--store', store, '--run', summary.runId, '--json']);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ identical: true, decisions: summary.decisions, hash: summary.decisionsHash });
    // And it decides exactly as the backtest: event time is venue time, set by frame order alone (untimed
    // messages take the latest venue time seen), so how fast the socket delivered does not matter.
    const backtest = JSON.parse(tapedeck(['replay', BINANCE, '--strategy', 'momentum', '--store', store, '--json']).stdout);
    expect(summary.decisionsHash).toBe(backtest.decisionsHash);
    expect(summary.fills).toBe(backtest.fills);
    const flat = JSON.parse(tapedeck(['paper', BINANCE, '--strategy', 'momentum', '--store', store, '--speed', '0', '--json']).stdout);
    expect(flat.decisionsHash).toBe(backtest.decisionsHash);
    t.cleanup();
  });

  it('Coinbase too: paper at full speed decides exactly as the backtest (snapshots take the venue time of their first update)', async () => {
    const t = tmpDir('td-paper-cb-');
    const store = path.join(t.dir, 'store');
    const COINBASE = path.join(datasetsDir, 'recorded_ws/cryptofeed/COINBASE.ws.28.0');
    const backtest = JSON.parse(tapedeck(['replay', COINBASE, '--strategy', 'momentum', '--store', store, '--json']).stdout);
    expect(backtest.fills).toBeGreaterThan(0);
    const paper = tapedeck(['paper', COINBASE, '--strategy', 'momentum', '--store', store, '--speed', '0', '--json']);
    expect(paper.stderr).toBe('');
    expect(JSON.parse(paper.stdout)).toMatchObject({ events: backtest.events, decisionsHash: backtest.decisionsHash, fills: backtest.fills });
    t.cleanup();
  });

  it('parity reports the first divergence when a recorded input was altered', async () => {
    const t = tmpDir('td-diverge-');
    const store = path.join(t.dir, 'store');
    const summary = JSON.parse(tapedeck(['replay', BINANCE, '--strategy', 'momentum', '--store', store, '--json']).stdout);
    const evs = await runEvents(store, summary.runId);
    // Forge a copy of the run in which one input before the first decision lies about the market.
    const firstDecision = evs.findIndex((e) => e.metadata.role === 'decision');
    const forgedId = '00000000-0000-8000-8000-00000000f00d';
    const s = await EmbeddedEventStore.open(store);
    const copy = evs.map((e, i) => {
      let data = e.data as Record<string, unknown>;
      if (i < firstDecision && e.metadata.role === 'input' && e.type === 'BookSnapshotted') {
        data = { ...data, bids: [], asks: [] };
      }
      return { id: e.id, type: e.type, data, metadata: e.metadata };
    });
    (copy[0]!.data as { manifest: { runId: string } }).manifest.runId = forgedId;
    await s.appendToStream(`run-${forgedId}`, copy);
    await s.close();
    const p = tapedeck(['parity', '--store', store, '--run', forgedId, '--json']);
    expect(p.code).toBe(1);
    const out = JSON.parse(p.stdout);
    expect(out.identical).toBe(false);
    expect(out.firstDivergence).toEqual(expect.objectContaining({ index: expect.any(Number) }));
    expect(out.firstDivergence.expected).not.toEqual(out.firstDivergence.actual);
    const missing = tapedeck(['parity', '--store', store, '--run', 'no-such-run', '--json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/RUN_NOT_FOUND: no run "no-such-run"/);
    t.cleanup();
  });

  it('lists the strategies with their parameters', () => {
    const r = tapedeck(['strategies', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.map((s: { name: string }) => s.name)).toEqual(['binary-market-maker', 'cross-venue-arb', 'market-maker', 'momentum']);
    const mm = list.find((s: { name: string }) => s.name === 'market-maker');
    expect(Object.keys(mm.parameters)).toEqual(expect.arrayContaining(['instrument', 'halfSpreadTicks', 'skewTicks', 'maxInventoryLots']));
  });
});

describe('bad input to a run', () => {
  it('names an unknown strategy and the strategies that exist', () => {
    const t = tmpDir('td-bad-');
    const r = tapedeck(['replay', BINANCE, '--strategy', 'nope', '--store', path.join(t.dir, 's'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/STRATEGY_UNKNOWN: no strategy named "nope" \(known: binary-market-maker, cross-venue-arb, market-maker, momentum\)/);
    t.cleanup();
  });

  it('names the file and field of a config that fails validation', () => {
    const t = tmpDir('td-badcfg-');
    const cfg = path.join(t.dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ params: { halfSpreadTicks: -3 } }));
    const r = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, 's')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`CONFIG_INVALID: .*halfSpreadTicks.*${cfg.replace(/[/.]/g, '\\$&')}.*field params\\.halfSpreadTicks`));
    fs.writeFileSync(cfg, JSON.stringify({ risk: { maxOpenOrders: 'many' } }));
    const r2 = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, 's')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/CONFIG_INVALID: .*maxOpenOrders.*field risk\.maxOpenOrders/);
    fs.writeFileSync(cfg, '{"seed": 1, "unknownKey": true}');
    const r3 = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, 's')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/CONFIG_INVALID/);
    t.cleanup();
  });

  it('a source that ends mid-record fails clearly and the run stream is closed saying why', async () => {
    const t = tmpDir('td-trunc-');
    const dir = path.join(t.dir, 'cap');
    fs.mkdirSync(dir);
    const bytes = fs.readFileSync(BINANCE);
    const cut = bytes.indexOf('\n', Math.floor(bytes.length * 0.6)) + 40; // in the middle of a line
    fs.writeFileSync(path.join(dir, 'BINANCE.ws.1.0'), bytes.subarray(0, cut));
    fs.copyFileSync(path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.http.0.0'), path.join(dir, 'BINANCE.http.0.0'));
    const store = path.join(t.dir, 'store');
    const r = tapedeck(['replay', path.join(dir, 'BINANCE.ws.1.0'), '--strategy', 'momentum', '--store', store, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BINANCE\.ws\.1\.0:\d+/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const s = await EmbeddedEventStore.open(store, { readOnly: true });
    const ends = (await collect(s.readAll({ filter: { eventTypes: ['RunEnded'] } })));
    await s.close();
    expect(ends.length).toBe(1);
    expect(ends[0]!.data).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/BINANCE\.ws\.1\.0/) });
    t.cleanup();
  });
});
