/**
 * The live crash test, driven through the CLI: a simulated Binance that stays up (`tapedeck sim-venue`), and
 * `tapedeck live` SIGKILLed at random moments, again and again, on the same store. After each kill the venue's
 * truth is checked against the log: no client order id twice at /_sim/orders, no venue fill twice in the log,
 * and `tapedeck reconcile` (which changes nothing) finds ledger and venue in agreement once the explainable
 * fixes are counted, positions equal to balances included. At the end one clean session runs (it reconciles
 * first, then trades, then ends), and every venue fill must be in the log exactly once.
 *
 * Used by test/live/crash.test.ts (a few kills, in the suite) and scripts/crash-live.ts (`npm run crash:live`,
 * 100 kills).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { nextInt, seedPrng } from '../../domain/core/prng.js';
import { openVenueSession, reconcileVenue } from '../../src/runtime/live.js';

export interface CrashOptions {
  repoRoot: string;
  dir: string;
  kills: number;
  seed?: number;
  /** Kill moments are uniform in [minMs, maxMs] after the session starts. */
  minMs?: number;
  maxMs?: number;
  speed?: number;
  onProgress?: (line: string) => void;
}

export interface CrashReport {
  kills: number;
  venueOrders: number;
  venueFills: number;
  logFills: number;
  duplicateClientOrderIds: number;
  duplicateLogFills: number;
  missingLogFills: number;
  reconcileNotOk: Array<{ kill: number; differences: unknown }>;
  finalSession: { ok: boolean; output: string };
  positionsMatchBalances: boolean;
  seconds: number;
}

const KEY = 'crash-test-key-1b2c3d';
const SECRET = 'crash-test-SECRET-9e8f7a6b';

export async function runCrashTest(o: CrashOptions): Promise<CrashReport> {
  const t0 = Date.now();
  const cli = path.join(o.repoRoot, 'dist/src/cli/main.js');
  const env = { ...process.env, BINANCE_API_KEY: KEY, BINANCE_API_SECRET: SECRET };
  const store = path.join(o.dir, 'store');
  const cfg = path.join(o.dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({
    params: { instrument: 'BINANCE:NKNUSDT', quoteQtyLots: 50_000_000_000, halfSpreadTicks: 1, maxInventoryLots: 50_000_000_000, skewPerLots: 100_000_000_000 },
    risk: { maxOpenOrders: 10, allowUnknownInstruments: true },
  }));
  const sim = spawn(process.execPath, [cli, 'sim-venue', 'binance', '--capture', path.join(o.repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0'), '--speed', String(o.speed ?? 8), '--loop'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const urls = await firstLine(sim);
    const base = (JSON.parse(urls) as { rest: string }).rest;
    const get = async <T>(p: string): Promise<T> => (await (await fetch(`${base}${p}`)).json()) as T;
    const rng = seedPrng(o.seed ?? 42);
    const min = o.minMs ?? 1500;
    const max = o.maxMs ?? 8000;
    // Reconciliation after each kill runs here (one ccxt session for the whole test), read-only: it changes nothing.
    const session = await openVenueSession({ venue: 'binance', baseUrl: base, env });
    const reconcileNotOk: CrashReport['reconcileNotOk'] = [];
    let duplicateLogFills = 0;
    let duplicateClientOrderIds = 0;
    for (let k = 1; k <= o.kills; k++) {
      const live = spawn(process.execPath, [cli, 'live', '--venue', 'binance', '--base-url', base, '--strategy', 'market-maker', '--config', cfg, '--store', store, '--json'], { env, stdio: 'ignore' });
      const exited = new Promise<void>((r) => live.once('exit', () => r()));
      await new Promise((r) => setTimeout(r, min + nextInt(rng, max - min + 1)));
      live.kill('SIGKILL');
      await exited;
      const orders = await get<Array<{ clientOrderId: string; duplicate?: boolean }>>('/_sim/orders');
      const ids = orders.map((x) => x.clientOrderId);
      duplicateClientOrderIds = ids.length - new Set(ids).size + orders.filter((x) => x.duplicate).length;
      const fills = await logFills(store);
      duplicateLogFills = fills.length - new Set(fills).size;
      let ok = true;
      let differences: unknown = [];
      if (fs.existsSync(store)) {
        const ro = await EmbeddedEventStore.open(store, { readOnly: true });
        try {
          const r = await reconcileVenue(ro, session, { apply: false });
          ok = r.ok;
          differences = r.differences.filter((d) => !d.fixed);
        } catch (e) {
          ok = false;
          differences = String(e);
        } finally {
          await ro.close();
        }
      }
      if (!ok) reconcileNotOk.push({ kill: k, differences });
      o.onProgress?.(`kill ${k}/${o.kills}: venue orders ${orders.length}, log fills ${fills.length}, reconcile ${ok ? 'ok' : 'NOT OK'}${duplicateClientOrderIds + duplicateLogFills > 0 ? ' DUPLICATES' : ''}`);
      if (duplicateClientOrderIds > 0 || duplicateLogFills > 0) break;
    }
    await session.close();
    // One clean session: reconciles, trades, ends.
    const fin = spawnSync(process.execPath, [cli, 'live', '--venue', 'binance', '--base-url', base, '--strategy', 'market-maker', '--config', cfg, '--store', store, '--duration', '2', '--json'], { env, encoding: 'utf8' });
    let finOk = false;
    try {
      const j = JSON.parse(fin.stdout) as { reconciliation: { start: { ok: boolean }; end: { ok: boolean } } };
      finOk = fin.status === 0 && j.reconciliation.start.ok && j.reconciliation.end.ok;
    } catch {
      finOk = false;
    }
    const venueFills = await get<Array<{ symbol: string; tradeId: number; side: string; qty: string }>>('/_sim/fills');
    const venueOrders = await get<unknown[]>('/_sim/orders');
    const fills = await logFills(store);
    const logSet = new Set(fills);
    const missing = venueFills.filter((f) => !logSet.has(`BINANCE:${f.symbol}:${f.tradeId}`)).length;
    // Positions: the venue's NKN balance moved exactly by the log's net fills (fees are in USDT).
    const balances = await get<Record<string, string>>('/_sim/balances');
    const net = await logNetLots(store);
    const nkn = BigInt(balances.NKN!.replace('.', '')) - 1_000_000n * 100_000_000n;
    return {
      kills: o.kills, venueOrders: venueOrders.length, venueFills: venueFills.length, logFills: fills.length,
      duplicateClientOrderIds, duplicateLogFills: fills.length - logSet.size, missingLogFills: missing, reconcileNotOk,
      finalSession: { ok: finOk, output: (fin.stdout + fin.stderr).slice(0, 2000) }, positionsMatchBalances: net === nkn,
      seconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    sim.kill('SIGTERM');
    await new Promise<void>((r) => (sim.exitCode !== null ? r() : sim.once('exit', () => r())));
  }
}

async function logFills(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return [];
  const store = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    return (await collect(store.readAll())).filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
  } finally {
    await store.close();
  }
}

async function logNetLots(dir: string): Promise<bigint> {
  const store = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    const seen = new Set<string>();
    let net = 0n;
    for (const e of await collect(store.readAll())) {
      if (e.type !== 'OrderFilled') continue;
      const d = e.data as { fillId: string; side: string; qtyLots: number };
      if (seen.has(d.fillId)) continue;
      seen.add(d.fillId);
      net += (d.side === 'buy' ? 1n : -1n) * BigInt(d.qtyLots);
    }
    return net;
  } finally {
    await store.close();
  }
}

function firstLine(p: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    p.once('exit', (code) => reject(new Error(`sim-venue exited with ${code}: ${err}`)));
  });
}
