/**
 * `tapedeck live` on two venues at once, through the CLI: the cross-venue arbitrage on the simulated Kalshi
 * and Polymarket (in this process), `--venue kalshi,polymarket --base-url KALSHI=…,POLYMARKET=…` and the
 * per-venue settings under live.venues. The runner itself (both legs, reconciliation, slippage) is
 * test/live/arb-session.test.ts; this is the command's wiring, and its refusals.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kalshiCredentials } from '../../src/venues/kalshi/credentials.js';
import { SimKalshi } from '../../src/venues/kalshi/sim.js';
import { polymarketCredentials } from '../../src/venues/polymarket/credentials.js';
import { SimPolymarket } from '../../src/venues/polymarket/sim.js';
import { CLI, tapedeck, type CliResult } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const TICKER = 'KXSIM-26DEC31-T50';
const t = tmpDir('td-arb-cli-');
const keyFile = path.join(t.dir, 'k.pem');
const ENV = { KALSHI_API_KEY_ID: 'arb-cli-key', KALSHI_PRIVATE_KEY_PATH: keyFile, POLYMARKET_PRIVATE_KEY: `0x${'5a'.repeat(32)}` };
let ks: SimKalshi;
let pm: SimPolymarket;

function run(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: { ...process.env, ...ENV } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end();
  });
}

beforeAll(async () => {
  fs.writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey);
  const k = kalshiCredentials(ENV);
  ks = await SimKalshi.start({ keyId: k.keyId, publicKey: k.publicKey(), stepMs: 50, seed: 4, markets: [TICKER] });
  pm = await SimPolymarket.start({ credentials: polymarketCredentials(ENV), stepMs: 50, seed: 4 });
});

afterAll(async () => {
  await ks?.close();
  await pm?.close();
  t.cleanup();
});

describe('tapedeck live on two venues', () => {
  it('trades the arbitrage on both, reconciles both, and parity of the run is identical', { timeout: 120_000 }, async () => {
    const cfg = path.join(t.dir, 'arb.json');
    fs.writeFileSync(cfg, JSON.stringify({
      seed: 1,
      params: {
        legs: [{ venue: 'KALSHI', instrument: `KALSHI:${TICKER}` }, { venue: 'POLYMARKET', instrument: `POLYMARKET:${pm.tokens.yes}` }],
        priceScale: 4, qtyScale: 6, minEdgeTicks: 100, maxQtyLots: 1_000_000, maxPositionLots: 4_000_000, cooldownNs: '200000000',
      },
      risk: { maxOpenOrders: 10, allowUnknownInstruments: true },
      live: { venues: { KALSHI: { priceScale: 4, qtyScale: 6 } } },
    }));
    const store = path.join(t.dir, 'store');
    // Until both venues show fills (the walks part within seconds: one run of 3 s shows several on each), at most 10 runs of 3 s.
    let out: { runId: string; orders: number; fills: number; venues: string[]; reconciliation: { start: { ok: boolean }; end: { ok: boolean; differences: unknown[] } } } | null = null;
    const venueFills = async () => ({
      k: ((await (await fetch(`${ks.urls.rest.replace('/trade-api/v2', '')}/_sim/fills`)).json()) as unknown[]).length,
      p: ((await (await fetch(`${pm.info.rest}/_sim/fills`)).json()) as unknown[]).length,
    });
    for (let i = 0; i < 10; i++) {
      const r = await run(['live', '--venue', 'kalshi,polymarket', '--base-url', `kalshi=${ks.urls.rest},polymarket=${pm.info.rest}`,
        '--strategy', 'cross-venue-arb', '--config', cfg, '--store', store, '--duration', '3', '--json']);
      expect(r.code, r.stderr).toBe(0);
      out = JSON.parse(r.stdout);
      expect(out!.venues).toEqual(['KALSHI', 'POLYMARKET']);
      expect(out!.reconciliation.start.ok).toBe(true);
      expect(out!.reconciliation.end).toMatchObject({ ok: true, differences: [] });
      const v = await venueFills();
      if (v.k > 0 && v.p > 0) break;
    }
    const v = await venueFills();
    expect(v.k).toBeGreaterThan(0);
    expect(v.p).toBeGreaterThan(0);
    const parity = tapedeck(['parity', '--store', store, '--run', out!.runId, '--json']);
    expect(parity.code, parity.stderr).toBe(0);
    expect(JSON.parse(parity.stdout)).toMatchObject({ identical: true, complete: true });
    // No credential in what the run wrote or printed.
    const secret = fs.readFileSync(keyFile, 'utf8').split('\n')[1]!;
    for (const f of fs.readdirSync(store, { recursive: true }) as string[]) {
      const file = path.join(store, f);
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(file).includes(secret), file).toBe(false);
    }
  });

  it('refuses a plain --base-url for two venues, and one naming a venue not traded, with exit 2 and nothing written', async () => {
    const store = path.join(t.dir, 'refused');
    const a = await run(['live', '--venue', 'kalshi,polymarket', '--base-url', ks.urls.rest, '--strategy', 'cross-venue-arb', '--store', store]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--base-url: with several venues give VENUE=URL for each/);
    const b = await run(['live', '--venue', 'kalshi,polymarket', '--base-url', `kalshi=${ks.urls.rest},alpaca=http://127.0.0.1:1`, '--strategy', 'cross-venue-arb', '--store', store]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--base-url names ALPACA, which is not one of --venue/);
    expect(`${a.stderr}${b.stderr}`).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(store)).toBe(false);
  });
});
