/**
 * The product's promise, end to end through the CLI: a replay and a paper session over real recorded Binance
 * traffic, each checked with `tapedeck parity`; a tampered input is caught; bad input fails clearly and closes
 * the run stream with RunEnded saying why. (ITCH and Coinbase: itch-coinbase-parity.test.ts.) Each strategy's replay
 * is made once (beforeAll, both at once) and shared by the tests that read it; independent CLI runs go side
 * by side, each in its own store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { tapedeck, tapedeckAsync, type CliResult } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const BINANCE = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const STRATEGIES = ['market-maker', 'momentum'] as const;
const tmp = tmpDir('td-replay-');
afterAll(() => tmp.cleanup());

async function runEvents(store: string, runId: string) {
  const s = await EmbeddedEventStore.open(store, { readOnly: true });
  const evs = await collect(s.readStream(`run-${runId}`));
  await s.close();
  return evs;
}

/** One replay of BINANCE per strategy, each in its own store. */
const replays = new Map<string, { store: string; r: CliResult }>();
beforeAll(async () => {
  await Promise.all(STRATEGIES.map(async (strategy) => {
    const store = path.join(tmp.dir, strategy);
    replays.set(strategy, { store, r: await tapedeckAsync(['replay', BINANCE, '--strategy', strategy, '--store', store, '--json']) });
  }));
});

describe('replay, paper and parity over recorded Binance traffic', () => {
  it.each(STRATEGIES)('replays with %s and parity finds every decision identical', async (strategy) => {
    const { store, r } = replays.get(strategy)!;
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
    // Parity (through the CLI: the run was made by the compiled strategy code) and, alongside it, a second
    // replay of the same recording, which decides exactly the same.
    const [p, again] = await Promise.all([
      tapedeckAsync(['parity', '--store', store, '--run', summary.runId, '--json']),
      tapedeckAsync(['replay', BINANCE, '--strategy', strategy, '--store', path.join(tmp.dir, `${strategy}-again`), '--json']),
    ]);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toEqual({ identical: true, complete: true, decisions: summary.decisions, inputs: summary.events, hash: summary.decisionsHash });
    expect(again.code, again.stderr).toBe(0);
    const a = JSON.parse(again.stdout);
    expect(a.runId).not.toBe(summary.runId);
    expect(a.decisionsHash).toBe(summary.decisionsHash);
  });

  it('a paper session through the live adapter over a socket is identical under parity and decides exactly as the backtest', async () => {
    const store = path.join(tmp.dir, 'paper');
    // 10x real time: the 30 s recording plays in about 3 s, through the Binance live adapter over a socket;
    // a paper session at full speed runs meanwhile. The backtest is the shared momentum replay.
    const [r, fl] = await Promise.all([
      tapedeckAsync(['paper', BINANCE, '--strategy', 'momentum', '--store', store, '--speed', '10', '--json']),
      tapedeckAsync(['paper', BINANCE, '--strategy', 'momentum', '--store', path.join(tmp.dir, 'paper-flat'), '--speed', '0', '--json']),
    ]);
    const bt = replays.get('momentum')!.r;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.events).toBeGreaterThan(200);
    expect(summary.fills).toBeGreaterThan(0);
    const evs = await runEvents(store, summary.runId);
    expect((evs[0]!.data as { manifest: { mode: string } }).manifest.mode).toBe('paper');
    const p = await tapedeckAsync(['parity', '--store', store, '--run', summary.runId, '--json']);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ identical: true, decisions: summary.decisions, hash: summary.decisionsHash });
    // And it decides exactly as the backtest: event time is venue time, set by frame order alone (untimed
    // messages take the latest venue time seen), so how fast the socket delivered does not matter.
    expect(bt.code, bt.stderr).toBe(0);
    const backtest = JSON.parse(bt.stdout);
    expect(summary.decisionsHash).toBe(backtest.decisionsHash);
    expect(summary.fills).toBe(backtest.fills);
    expect(fl.code, fl.stderr).toBe(0);
    expect(JSON.parse(fl.stdout).decisionsHash).toBe(backtest.decisionsHash);
  });

  it('parity reports the first divergence when a recorded input was altered', async () => {
    const { store: src, r } = replays.get('momentum')!;
    const summary = JSON.parse(r.stdout);
    const evs = await runEvents(src, summary.runId);
    // Forge a copy of the run, in a store of its own, in which one input before the first decision lies about the market.
    const store = path.join(tmp.dir, 'forged');
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
    const [p, missing] = await Promise.all([
      tapedeckAsync(['parity', '--store', store, '--run', forgedId, '--json']),
      tapedeckAsync(['parity', '--store', store, '--run', 'no-such-run', '--json']),
    ]);
    expect(p.code).toBe(1);
    const out = JSON.parse(p.stdout);
    expect(out.identical).toBe(false);
    expect(out.firstDivergence).toEqual(expect.objectContaining({ index: expect.any(Number) }));
    expect(out.firstDivergence.expected).not.toEqual(out.firstDivergence.actual);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/RUN_NOT_FOUND: no run "no-such-run"/);
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

  it('names the file and field of a config that fails validation', async () => {
    const t = tmpDir('td-badcfg-');
    const bad = [{ params: { halfSpreadTicks: -3 } }, { risk: { maxOpenOrders: 'many' } }];
    const cfgs = [...bad.map((c) => JSON.stringify(c)), '{"seed": 1, "unknownKey": true}'].map((text, i) => {
      const cfg = path.join(t.dir, `cfg${i}.json`);
      fs.writeFileSync(cfg, text);
      return cfg;
    });
    const [r, r2, r3] = await Promise.all(cfgs.map((cfg, i) => tapedeckAsync(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, `s${i}`)])));
    expect(r!.code).toBe(2);
    expect(r!.stderr).toMatch(new RegExp(`CONFIG_INVALID: .*halfSpreadTicks.*${cfgs[0]!.replace(/[/.]/g, '\\$&')}.*field params\\.halfSpreadTicks`));
    expect(r2!.code).toBe(2);
    expect(r2!.stderr).toMatch(/CONFIG_INVALID: .*maxOpenOrders.*field risk\.maxOpenOrders/);
    expect(r3!.code).toBe(2);
    expect(r3!.stderr).toMatch(/CONFIG_INVALID/);
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
