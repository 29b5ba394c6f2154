/**
 * Live trading on the simulated Kalshi on loopback (one end-to-end test, many checks):
 * 1. a market-maker session (runtime/live-venue.ts, the Kalshi session and clients) places orders, gets them
 *    partially filled, amends (replaces) and cancels them; reconciliation before and after agrees with the
 *    venue; parity replays the run identically; every venue fill is in the log once, no client order id twice;
 * 2. `tapedeck live --venue kalshi` (the CLI, a child process) is SIGKILLed mid-session; the next session
 *    reconciles first, and afterwards the log equals the venue's truth (/_sim/orders, /_sim/fills, positions)
 *    with no order sent twice;
 * 3. the RSA private key (a throwaway generated here) is nowhere in the store, the logs or the output.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkParity } from '../../replay/parity.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { reconcileLiveVenue, runLiveVenue } from '../../src/runtime/live-venue.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { kalshi } from '../../src/venues/kalshi/adapter.js';
import { kalshiCredentials } from '../../src/venues/kalshi/credentials.js';
import { openKalshiSession } from '../../src/venues/kalshi/session.js';
import { SimKalshi, type KalshiSimFill, type KalshiSimOrder } from '../../src/venues/kalshi/sim.js';
import { parseVenueConfig } from '../../src/venues/registry.js';
import { CLI } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const TICKER = 'KXSIM-26DEC31-T50';
const INSTRUMENT = `KALSHI:${TICKER}`;
// 10-contract quotes one cent inside the touch; after a refusal (a post-only that would cross a book that moved) wait 100 ms.
const PARAMS = { venue: 'KALSHI', instrument: INSTRUMENT, priceScale: 2, qtyScale: 2, quoteQtyLots: 1000, halfSpreadTicks: 1, maxInventoryLots: 3000, skewPerLots: 2000, backoffNs: '100000000' };
const RISK = { maxOpenOrders: 10, allowUnknownInstruments: true };
const MM: ResolvedRunConfig = { strategy: 'market-maker', seed: 1, params: PARAMS, risk: RISK, venues: [] };

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('live trading on the simulated Kalshi', () => {
  it('places, partially fills, amends and cancels; parity identical; after a SIGKILL the next session restores the ledger to the venue with no order twice; no key leaks', { timeout: 150_000 }, async () => {
    const t = tmpDir('td-kalshi-live-');
    const keyPem = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
    const keyPath = path.join(t.dir, 'kalshi-test-only.pem');
    fs.writeFileSync(keyPath, keyPem);
    const env = { KALSHI_API_KEY_ID: 'test-only-key-id', KALSHI_PRIVATE_KEY_PATH: keyPath };
    const creds = kalshiCredentials(env);
    const sim = await SimKalshi.start({ keyId: creds.keyId, publicKey: creds.publicKey(), stepMs: 50, seed: 5, markets: [TICKER] });
    const simBase = sim.urls.rest.replace('/trade-api/v2', '');
    const truth = async () => ({
      orders: (await (await fetch(`${simBase}/_sim/orders`)).json()) as KalshiSimOrder[],
      fills: (await (await fetch(`${simBase}/_sim/fills`)).json()) as KalshiSimFill[],
    });
    const logs: string[] = [];
    const storeDir = path.join(t.dir, 'store');
    const session = await openKalshiSession(parseVenueConfig(kalshi, {}), { env, baseUrl: sim.urls.rest, confirmLive: false, instruments: [INSTRUMENT] });
    try {
      // 1. A session that trades until the venue shows a partial fill (a fill smaller than its order) and an amend
      // (at most 60 s: a few seconds on a quiet machine, the rest is room for a loaded one); ending it cancels
      // what is open.
      let store = await EmbeddedEventStore.open(storeDir);
      const stop = new AbortController();
      const seen = async (): Promise<boolean> => {
        const v = await truth();
        const partial = v.fills.some((f) => { const o = v.orders.find((x) => x.order_id === f.order_id); return o !== undefined && Number(f.count_fp) < Number(o.initial_count); });
        return partial && v.orders.some((o) => o.amends > 0 && o.status === 'resting');
      };
      const poll = until('a partial fill and an amend at the venue', seen, 60_000).finally(() => stop.abort());
      const first = await runLiveVenue({ store, session, config: MM, onEnd: 'cancel', durationMs: 60_000, signal: stop.signal, onLog: (l) => logs.push(l) });
      await poll.catch(async (e) => {
        const v = await truth();
        throw new Error(`${String(e)}; venue orders [status, filled, total, amends]: ${JSON.stringify(v.orders.map((o) => [o.status, o.fill_count, o.initial_count, o.amends]))}; halt: ${first.haltReason}; logs: ${logs.slice(0, 10).join(' | ')}`);
      });
      const why = JSON.stringify({ start: first.startReconciliation, end: first.endReconciliation, halt: first.haltReason });
      expect(first.startReconciliation.ok, why).toBe(true);
      expect(first.endReconciliation, why).toMatchObject({ ok: true, differences: [] });
      const s = first.summary!;
      let evs = await collect(store.readAll());
      const of = (type: string) => evs.filter((e) => e.type === type);
      expect(of('OrderFilled').some((e) => (e.data as { leavesLots: number }).leavesLots > 0)).toBe(true);
      expect(of('OrderReplaced').length).toBeGreaterThan(0);
      expect(of('OrderCanceled').length).toBeGreaterThan(0);
      // Every command was in the log before the venue saw it.
      const run = evs.filter((e) => e.stream === `run-${s.runId}`);
      for (const m of run.filter((e) => e.type === 'VenueMessageSent' && (e.data as { messageType: string }).messageType === 'CreateOrder')) {
        const orderId = (m.data as { orderId: string }).orderId;
        expect(run.find((e) => e.type === 'OrderSubmitted' && (e.data as { orderId: string }).orderId === orderId)!.position).toBeLessThan(m.position);
      }
      expect(await checkParity(store, s.runId)).toMatchObject({ identical: true, decisions: s.decisions });
      await store.close();

      // 2. `tapedeck live` in a child process, SIGKILLed once it has orders at the venue.
      const cfg = path.join(t.dir, 'config.json');
      fs.writeFileSync(cfg, JSON.stringify({ params: PARAMS, risk: RISK }));
      const before = (await truth()).orders.length;
      let out = '';
      const child = spawn(process.execPath, [CLI, 'live', '--venue', 'kalshi', '--base-url', sim.urls.rest, '--strategy', 'market-maker', '--config', cfg, '--store', storeDir, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await until('the CLI session to place orders', async () => (await truth()).orders.length >= before + 4, 45_000).catch(async (e) => {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${String(e)}: ${out}`);
      });
      child.kill('SIGKILL');
      await exited;
      // What the killed session left, read from a venue held still (it would keep filling the open orders).
      sim.pause();
      store = await EmbeddedEventStore.open(storeDir, { readOnly: true });
      const dry = await reconcileLiveVenue(store, session, { apply: false });
      expect(dry.ok, JSON.stringify(dry.differences)).toBe(true);
      await store.close();
      sim.resume();

      // The next session reconciles first (records the fills and states the log missed, cancels the leftovers).
      store = await EmbeddedEventStore.open(storeDir);
      const second = await runLiveVenue({ store, session, config: MM, onEnd: 'cancel', durationMs: 1500, onLog: (l) => logs.push(l) });
      expect(second.startReconciliation.ok, JSON.stringify(second.startReconciliation)).toBe(true);
      expect(second.endReconciliation, JSON.stringify(second.endReconciliation)).toMatchObject({ ok: true, differences: [] });
      evs = await collect(store.readAll());
      const v = await truth();
      // No client order id twice at the venue, none refused as a duplicate.
      const ids = v.orders.map((o) => o.client_order_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(v.orders.filter((o) => o.duplicate === true)).toEqual([]);
      // The log holds every venue fill exactly once, and the same net position as the venue.
      const logFills = evs.filter((e) => e.type === 'OrderFilled').map((e) => e.data as { fillId: string; side: string; qtyLots: number });
      expect(new Set(logFills.map((f) => f.fillId)).size).toBe(logFills.length);
      expect(logFills.map((f) => f.fillId).sort()).toEqual(v.fills.map((f) => `KALSHI:${f.fill_id}`).sort());
      const venueNet = v.fills.reduce((a, f) => a + (f.book_side === 'bid' ? 1 : -1) * Math.round(Number(f.count_fp) * 100), 0);
      expect(logFills.reduce((a, f) => a + (f.side === 'buy' ? f.qtyLots : -f.qtyLots), 0)).toBe(venueNet);
      expect(v.orders.filter((o) => o.status === 'resting')).toEqual([]);
      await store.close();

      // 3. The private key is nowhere: store files, logs, the CLI's output.
      const body = keyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
      const chunks = [body.slice(0, 40), body.slice(400, 440), body.slice(-60, -20)];
      for (const f of filesUnder(storeDir)) {
        const bytes = fs.readFileSync(f);
        expect(bytes.includes('PRIVATE KEY'), f).toBe(false);
        for (const c of chunks) expect(bytes.includes(c), f).toBe(false);
      }
      const text = out + logs.join('\n') + JSON.stringify(first) + JSON.stringify(second);
      expect(text.includes('PRIVATE KEY')).toBe(false);
      for (const c of chunks) expect(text.includes(c)).toBe(false);
    } finally {
      await session.close();
      await sim.close();
      t.cleanup();
    }
  });
});
