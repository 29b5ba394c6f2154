/**
 * A live session of the binary market maker against the simulated Polymarket CLOB on loopback: orders
 * placed, partially filled and canceled (Polymarket has no replace: a replace the strategy asks for is
 * refused by the client, nothing sent); every signed order stored before it was posted, its hash the one
 * the intent signs to; parity identical; the log equal to the venue's truth. Then `tapedeck live` killed
 * with SIGKILL mid-session and restarted: reconciliation brings the ledger to the venue's truth, and no
 * order reached the venue twice. No credential (private key, API secret, passphrase) in the stores, logs
 * or output. Every trade at that venue fails on chain a second after matching: each fill the log holds whose
 * trade failed is reversed once (FillReversed), also those the killed session never heard fail. A client signing orders of a version the exchange does not take: each order is in the log as
 * a rejection with the venue's reason.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkParity } from '../../replay/parity.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runLiveVenue } from '../../src/runtime/live-venue.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { PolymarketConfig } from '../../src/venues/polymarket/config.js';
import { polymarketCredentials } from '../../src/venues/polymarket/credentials.js';
import { PolymarketExecutionClient, polymarketFillId } from '../../src/venues/polymarket/execution.js';
import { openPolymarketSession } from '../../src/venues/polymarket/session.js';
import { SimPolymarket, deriveApiCreds, type SimFillRecord, type SimOrderRecord } from '../../src/venues/polymarket/sim.js';
import { CLI } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const KEY_HEX = '7e'.repeat(32);
const ENV = { POLYMARKET_PRIVATE_KEY: `0x${KEY_HEX}` };
const creds = polymarketCredentials(ENV);
const api = deriveApiCreds(creds);
const SECRETS = [KEY_HEX, api.secret, api.passphrase];

function mmConfig(sim: SimPolymarket): ResolvedRunConfig {
  return {
    strategy: 'binary-market-maker', seed: 1,
    params: {
      venue: 'POLYMARKET', yes: `POLYMARKET:${sim.tokens.yes}`, no: `POLYMARKET:${sim.tokens.no}`, priceScale: 4, qtyScale: 6,
      // 40-share bids one cent under fair; the book's levels hold 4 to 16 shares, so fills come in parts.
      quoteQtyLots: 40_000_000, halfSpreadTicks: 100, minEdgeTicks: 100, skewTicks: 100, skewPerLots: 40_000_000,
      maxExposureLots: 120_000_000, maxPositionLots: 400_000_000, requoteThresholdTicks: 200, minActionIntervalNs: 300_000_000,
    },
    risk: { instrumentRules: true }, venues: [],
  };
}

const json = async <T>(sim: SimPolymarket, p: string): Promise<T> => (await (await fetch(`${sim.info.rest}${p}`)).json()) as T;

/** The CLI in a child process, awaited (the simulated venue runs in this process: a blocking spawn would starve it). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

function expectNoSecret(text: string | Buffer, where: string): void {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  for (const secret of SECRETS) expect(s.includes(secret), `${where} holds a credential`).toBe(false);
}

describe('live trading on the simulated Polymarket', () => {
  it('places, partially fills, cancels (no replace on Polymarket); hashes stored first; parity holds; the log matches the venue; SIGKILL and restart reconcile with no duplicate order; no credential leaks', { timeout: 120_000 }, async () => {
    const t = tmpDir('td-pm-live-');
    const sim = await SimPolymarket.start({ credentials: creds, stepMs: 50, seed: 2 });
    const logs: string[] = [];
    try {
      // 1. In process: trade until the venue shows an order filled in part (at most 40 s; a few on a quiet machine).
      const session = await openPolymarketSession(PolymarketConfig.parse({}), { env: ENV, baseUrl: sim.info.rest, confirmLive: false, instruments: [`POLYMARKET:${sim.tokens.yes}`] });
      const store = await EmbeddedEventStore.open(path.join(t.dir, 'a'));
      const stop = new AbortController();
      const poller = (async () => {
        while (!stop.signal.aborted) {
          await new Promise((r) => setTimeout(r, 200));
          const orders = await json<SimOrderRecord[]>(sim, '/_sim/orders');
          if (orders.some((o) => Number(o.size_matched) > 0 && Number(o.size_matched) < Number(o.original_size))) stop.abort();
        }
      })();
      const r = await runLiveVenue({ store, session, config: mmConfig(sim), onEnd: 'cancel', durationMs: 40_000, signal: stop.signal, onLog: (l) => logs.push(l) });
      stop.abort();
      await poller;
      await session.close();
      expect(r.startReconciliation.ok).toBe(true);
      expect(r.endReconciliation).toMatchObject({ ok: true, differences: [] });
      const s = r.summary!;
      const evs = await collect(store.readAll());
      const run = evs.filter((e) => e.stream === `run-${s.runId}`);
      const of = (type: string) => evs.filter((e) => e.type === type);
      const fills = of('OrderFilled').map((e) => e.data as { orderId: string; fillId: string; leavesLots: number; liquidity: string });
      expect(fills.length).toBeGreaterThan(0);
      // Resting bids fill as makers: our fill is our entry in the trade's maker_orders.
      expect(fills.some((f) => f.liquidity === 'maker')).toBe(true);
      expect(fills.some((f) => f.leavesLots > 0)).toBe(true);
      expect(of('OrderCanceled').length).toBeGreaterThan(0);
      // The linked outcome market went in first, so YES and NO net in the portfolio.
      expect(run.some((e) => e.type === 'OutcomeMarketDefined')).toBe(true);
      // No replace on Polymarket: every replace the strategy asked for was refused, and none reached the venue.
      expect(of('OrderReplaced')).toHaveLength(0);
      // (Risk refuses some first, with its code: an off-tick price.)
      for (const e of of('ReplaceRejected').filter((x) => (x.data as { code?: string }).code === undefined)) expect((e.data as { reason: string }).reason).toMatch(/Polymarket has no replace/);
      // The signed order is in the log (VenueMessageSent, after the durable submission) before the venue saw it,
      // and the hash the venue knows the order by is the one its stored intent signs to.
      const sender = new PolymarketExecutionClient({ config: PolymarketConfig.parse({}), credentials: creds });
      for (const a of run.filter((e) => e.type === 'OrderAccepted')) {
        const { orderId, venueOrderId } = a.data as { orderId: string; venueOrderId: string };
        const intent = run.find((e) => e.type === 'OrderIntended' && (e.data as { orderId: string }).orderId === orderId)!.data as Parameters<PolymarketExecutionClient['hashOf']>[0];
        expect(sender.hashOf(intent)).toBe(venueOrderId);
        const submitted = run.find((e) => e.type === 'OrderSubmitted' && (e.data as { orderId: string }).orderId === orderId)!;
        const post = run.find((e) => e.type === 'VenueMessageSent' && (e.data as { orderId: string; messageType: string }).orderId === orderId && (e.data as { messageType: string }).messageType === 'PostOrder')!;
        expect(submitted.position).toBeLessThan(post.position);
        expect(a.position).toBeGreaterThan(post.position);
      }
      // The venue's truth: every fill in the log exactly once, by (trade id, order hash).
      const simFills = (await json<SimFillRecord[]>(sim, '/_sim/fills')).filter((f) => f.status !== 'FAILED');
      expect(simFills.length).toBe(fills.length);
      for (const f of simFills) expect(fills.filter((x) => x.fillId === polymarketFillId(f.tradeId, f.orderID))).toHaveLength(1);
      expect(await checkParity(store, s.runId)).toMatchObject({ identical: true, decisions: s.decisions });
      await store.close();

      // A client signing orders of a version this exchange does not take: each arrives in the log as a
      // rejection with the venue's reason.
      const v2 = await openPolymarketSession(PolymarketConfig.parse({ orderVersion: 2 }), { env: ENV, baseUrl: sim.info.rest, confirmLive: false, instruments: [`POLYMARKET:${sim.tokens.yes}`] });
      const storeV2 = await EmbeddedEventStore.open(path.join(t.dir, 'v2'));
      const rv2 = await runLiveVenue({ store: storeV2, session: v2, config: mmConfig(sim), onEnd: 'cancel', durationMs: 1500, onLog: (l) => logs.push(l) });
      await v2.close();
      const rejected = (await collect(storeV2.readAll())).filter((e) => e.type === 'OrderRejected').map((e) => (e.data as { reason: string }).reason);
      expect(rejected).toContain('venue: invalid order version');
      // (One still in flight when the run stopped is found missing at the venue by the last reconciliation.)
      for (const why of rejected) expect(why === 'venue: invalid order version' || why.startsWith('reconciliation: ')).toBe(true);
      expect(rv2.endReconciliation).toMatchObject({ ok: true });
      await storeV2.close();
    } finally {
      await sim.close();
    }

    // 2. `tapedeck live` killed mid-session (SIGKILL), then restarted on the same store, against a fresh venue.
    // Every trade there fails on chain a second after it matched, so the killed session's fills are undone while
    // no session listens: reconciliation must reverse them.
    const sim2 = await SimPolymarket.start({ credentials: creds, stepMs: 50, seed: 3, settleMs: 1000, faults: 'fail-trade:1' });
    const outputs: string[] = [];
    try {
      const cfgFile = path.join(t.dir, 'pm.json');
      const { strategy: _s, venues: _v, ...cfg } = mmConfig(sim2);
      fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, params: { ...cfg.params, requoteThresholdTicks: 1_000_000 }, live: { onEnd: 'cancel' } }));
      const storeB = path.join(t.dir, 'b');
      const args = ['live', '--venue', 'polymarket', '--base-url', sim2.info.rest, '--strategy', 'binary-market-maker', '--config', cfgFile, '--store', storeB, '--json'];
      const env = { ...process.env, ...ENV };
      const killed = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      killed.stdout.on('data', (d: Buffer) => outputs.push(d.toString()));
      killed.stderr.on('data', (d: Buffer) => outputs.push(d.toString()));
      const end = Date.now() + 40_000;
      while ((await json<SimFillRecord[]>(sim2, '/_sim/fills')).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 400)); // the session books the fill (MATCHED); it fails later
      killed.kill('SIGKILL');
      await new Promise((r) => killed.once('exit', r));
      expect((await json<SimFillRecord[]>(sim2, '/_sim/fills')).length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 700)); // the first trade has failed by now
      const failedBeforeRestart = (await json<SimFillRecord[]>(sim2, '/_sim/fills')).filter((f) => f.status === 'FAILED').map((f) => polymarketFillId(f.tradeId, f.orderID));
      expect(failedBeforeRestart.length).toBeGreaterThan(0);

      const again = await cli([...args, '--duration', '2'], env);
      outputs.push(again.stdout, again.stderr);
      expect(again.status, again.stdout + again.stderr).toBe(0);
      const out = JSON.parse(again.stdout) as { reconciliation: { start: { ok: boolean; canceledLeftovers: number }; end: { ok: boolean; differences: unknown[] } } };
      // The killed session's open orders were found by hash and canceled before anything new was sent.
      expect(out.reconciliation.start.ok).toBe(true);
      expect(out.reconciliation.end).toMatchObject({ ok: true, differences: [] });
      const check = await cli(['reconcile', '--venue', 'polymarket', '--base-url', sim2.info.rest, '--store', storeB, '--json'], env);
      outputs.push(check.stdout, check.stderr);
      expect([check.status, JSON.parse(check.stdout)]).toEqual([0, { ok: true, differences: [] }]);
      // No order reached the venue twice: every order hash once, none marked a duplicate, none left open.
      const truth = (await json<SimOrderRecord[]>(sim2, '/_sim/orders')).filter((o) => o.status !== 'REFUSED');
      expect(new Set(truth.map((o) => o.orderID)).size).toBe(truth.length);
      expect(truth.filter((o) => o.duplicate === true || o.status === 'LIVE')).toEqual([]);
      // Every fill of the log whose trade failed is reversed exactly once (in a run, or by a reconciliation).
      const logB = await EmbeddedEventStore.open(storeB, { readOnly: true });
      const evB = await collect(logB.readAll());
      await logB.close();
      // (Booked by the killed session and reversed by the restart's reconciliation, or never booked before the
      // kill and then both booked and reversed by it.)
      const filledIds = evB.filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
      const reversedIds = evB.filter((e) => e.type === 'FillReversed').map((e) => (e.data as { fillId: string }).fillId);
      for (const id of failedBeforeRestart) {
        expect(filledIds.filter((x) => x === id)).toHaveLength(1);
        expect(reversedIds.filter((x) => x === id)).toHaveLength(1);
      }
      const failed = new Set((await json<SimFillRecord[]>(sim2, '/_sim/fills')).filter((f) => f.status === 'FAILED').map((f) => polymarketFillId(f.tradeId, f.orderID)));
      for (const id of reversedIds) expect(failed.has(id)).toBe(true);
      for (const f of filesUnder(storeB)) expectNoSecret(fs.readFileSync(f), f);
    } finally {
      await sim2.close();
    }
    for (const f of [...filesUnder(path.join(t.dir, 'a')), ...filesUnder(path.join(t.dir, 'v2'))]) expectNoSecret(fs.readFileSync(f), f);
    expectNoSecret(logs.join('\n'), 'the logs');
    expectNoSecret(outputs.join('\n'), 'the output');
    t.cleanup();
  });
});
