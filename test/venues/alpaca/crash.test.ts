/**
 * Alpaca through the CLI: `tapedeck sim-venue alpaca` (seeded synthetic equities, keys from the environment)
 * stays up while `tapedeck live --venue alpaca` is SIGKILLed mid-session; reconciliation (read-only) then finds what
 * the venue did that the log lacks, every difference explainable, and the next `tapedeck live` reconciles first, restoring the ledger to the
 * venue's truth (fills, terminal states, positions) before it trades, with no client order id ever used twice
 * and every venue fill in the log exactly once. Neither key appears in the store or in any output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reconcileLiveVenue } from '../../../src/runtime/live-venue.js';
import { EmbeddedEventStore } from '../../../src/store/embedded/store.js';
import { collect } from '../../../src/store/port.js';
import type { SimAlpacaFillRecord, SimAlpacaOrderRecord } from '../../../src/venues/alpaca/sim.js';
import { getVenue, parseVenueConfig } from '../../../src/venues/registry.js';
import { CLI } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

const KEY = 'PKCRASHTEST1B2C3D';
const SECRET = 'alpaca-crash-SECRET-9e8f7a6b5c';

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

/** A CLI run, awaited without blocking the event loop (a blocked loop would reuse keep-alive sockets the server closed). */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

describe('Alpaca live through the CLI, SIGKILLed and restarted', () => {
  it('sim-venue alpaca serves; after a SIGKILL the next session restores the ledger to the venue with no order twice', { timeout: 90_000 }, async () => {
    const t = tmpDir('td-alpaca-crash-');
    const env = { ...process.env, ALPACA_API_KEY_ID: KEY, ALPACA_API_SECRET_KEY: SECRET };
    const store = path.join(t.dir, 'store');
    const cfg = path.join(t.dir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify({
      params: { instrument: 'ALPACA:AAPL', quoteQtyLots: 60, halfSpreadTicks: 1, maxInventoryLots: 120, skewPerLots: 120 },
      risk: { maxOpenOrders: 10 },
      live: { onEnd: 'cancel', venue: { symbols: ['AAPL'], priceScale: 2, postOnlyAsLimit: true } },
    }));
    const sim = spawn(process.execPath, [CLI, 'sim-venue', 'alpaca', '--seed', '5', '--speed', '3'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const outputs: string[] = [];
    try {
      const urls = JSON.parse(await firstLine(sim)) as { rest: string; ws: string };
      expect(urls.rest).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const get = async <T>(p: string): Promise<T> => (await (await fetch(`${urls.rest}${p}`)).json()) as T;

      // A session killed once the venue has filled something of ours and orders are working.
      const live = spawn(process.execPath, [CLI, 'live', '--venue', 'alpaca', '--base-url', urls.rest, '--strategy', 'market-maker', '--config', cfg, '--store', store, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      live.stdout!.on('data', (d: Buffer) => outputs.push(d.toString()));
      live.stderr!.on('data', (d: Buffer) => outputs.push(d.toString()));
      const exited = new Promise<void>((r) => live.once('exit', () => r()));
      for (let i = 0; i < 300; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const orders = await get<SimAlpacaOrderRecord[]>('/_sim/orders');
        if ((await get<SimAlpacaFillRecord[]>('/_sim/fills')).length >= 2 && orders.some((o) => o.status === 'new' || o.status === 'partially_filled')) break;
      }
      live.kill('SIGKILL');
      await exited;
      const killedFills = (await get<SimAlpacaFillRecord[]>('/_sim/fills')).length;
      expect(killedFills).toBeGreaterThanOrEqual(2);

      // The venue goes on without us (working orders may fill); reconcile says what the log lacks and changes nothing.
      const adapter = getVenue('alpaca');
      const session = await adapter.execution!.openLive!(parseVenueConfig(adapter, { symbols: ['AAPL'], priceScale: 2 }), { env, baseUrl: urls.rest, confirmLive: false });
      const ro = await EmbeddedEventStore.open(store, { readOnly: true });
      const rec = await reconcileLiveVenue(ro, session, { apply: false });
      await ro.close();
      await session.close();
      expect(rec.differences.filter((d) => !d.fixed), JSON.stringify(rec.differences)).toEqual([]);

      // The next session reconciles first (restoring the ledger), trades, ends and checks again.
      const fin = await run(['live', '--venue', 'alpaca', '--base-url', urls.rest, '--strategy', 'market-maker', '--config', cfg, '--store', store, '--duration', '1', '--json'], env);
      outputs.push(fin.stdout, fin.stderr);
      expect(fin.status, fin.stderr).toBe(0);
      const j = JSON.parse(fin.stdout) as { reconciliation: { start: { ok: boolean }; end: { ok: boolean; differences: unknown[] } } };
      expect(j.reconciliation.start.ok).toBe(true);
      expect(j.reconciliation.end).toMatchObject({ ok: true, differences: [] });

      // The venue's truth against the log: no client order id twice, every fill exactly once, positions equal.
      const orders = await get<SimAlpacaOrderRecord[]>('/_sim/orders');
      const ids = orders.map((o) => o.clientOrderId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(orders.some((o) => o.duplicate)).toBe(false);
      expect(orders.filter((o) => o.status === 'new' || o.status === 'partially_filled')).toEqual([]);
      const venueFills = await get<SimAlpacaFillRecord[]>('/_sim/fills');
      const s = await EmbeddedEventStore.open(store, { readOnly: true });
      const evs = await collect(s.readAll());
      await s.close();
      // By fill id: a fill reported twice (stream and query) is folded once, the second refused by the lifecycle.
      const logFills = [...new Map(evs.filter((e) => e.type === 'OrderFilled').map((e) => e.data as { fillId: string; side: string; qtyLots: number }).map((f) => [f.fillId, f])).values()];
      expect(logFills.map((f) => f.fillId).sort()).toEqual(venueFills.map((f) => `ALPACA:${f.executionId}`).sort());
      const net = logFills.reduce((a, f) => a + (f.side === 'buy' ? f.qtyLots : -f.qtyLots), 0);
      const pos = await get<Array<{ symbol: string; qty: string }>>('/_sim/positions');
      expect(Number(pos.find((p) => p.symbol === 'AAPL')?.qty ?? '0')).toBe(net);

      for (const f of filesUnder(t.dir)) {
        const bytes = fs.readFileSync(f);
        expect(bytes.includes(SECRET) || bytes.includes(KEY), `key in ${f}`).toBe(false);
      }
      const out = outputs.join('\n');
      expect(out.includes(SECRET) || out.includes(KEY)).toBe(false);
    } finally {
      sim.kill('SIGTERM');
      await new Promise<void>((r) => (sim.exitCode !== null ? r() : sim.once('exit', () => r())));
      t.cleanup();
    }
  });
});
