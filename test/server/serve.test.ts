/**
 * `tapedeck serve` over a store with real runs (the bundled Binance recording, backtest and paper):
 * the JSON APIs equal `tapedeck query` on the same store; control without the token is refused and
 * changes nothing; with it, the kill switch is an event in the log and shows in /api/control and
 * /metrics; the WebSocket delivers new events; health, readiness; loopback-only without a token.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer, type Server } from '../../src/server/app.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { CLI, tapedeck } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';
import { storeQuery, writeDemoRuns } from './fixture.js';

const TOKEN = 'serve-test-token-abcdefghijkl';

describe('tapedeck serve', () => {
  const t = tmpDir('td-serve-');
  let store: EmbeddedEventStore;
  let server: Server;
  let runs: Awaited<ReturnType<typeof writeDemoRuns>>;

  beforeAll(async () => {
    runs = await writeDemoRuns(t.dir);
    store = await EmbeddedEventStore.open(t.dir);
    server = await createServer({ store, dbPath: `${t.dir}/serve.duckdb`, token: TOKEN, writable: true, controlPerMinute: 7 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await store?.close();
    t.cleanup();
  });

  const get = async (url: string) => {
    const r = await server.app.inject({ method: 'GET', url });
    return { status: r.statusCode, body: r.headers['content-type']?.toString().includes('json') ? r.json() : r.body };
  };

  it('answers runs, positions, fills, orders, P&L and decisions as tapedeck query does', async () => {
    // `tapedeck query --json`, in process: the first call catches the projections up, later ones read them as they are.
    const q = storeQuery(t.dir);
    const apiRuns = (await get('/api/runs')).body.runs as Array<Record<string, unknown>>;
    expect(apiRuns.map((r) => r.run_id)).toEqual([runs.backtest.runId, runs.paper!.runId]);
    expect(apiRuns.map((r) => r.mode)).toEqual(['replay', 'paper']);
    const positions = (await get('/api/positions')).body.rows;
    expect(positions.map((p: Record<string, unknown>) => [p.run_id, p.instrument, p.quantity, p.avg_price, p.realized_pnl]))
      .toEqual((await q('SELECT run_id, instrument, quantity, avg_price, realized_pnl FROM positions ORDER BY run_id, venue, instrument')).map((p) => [p.run_id, p.instrument, p.quantity, p.avg_price, p.realized_pnl]));
    const fills = (await get(`/api/fills?run=${runs.backtest.runId}`)).body.rows;
    expect(fills.length).toBe(runs.backtest.fills);
    expect(fills.map((f: Record<string, unknown>) => [f.fill_id, f.price, f.quantity])).toEqual(
      (await q(`SELECT fill_id, price, quantity FROM fills WHERE run_id = '${runs.backtest.runId}' ORDER BY position DESC`)).map((f) => [f.fill_id, f.price, f.quantity]));
    expect((await get('/api/orders?limit=10000')).body.rows.length).toBe(runs.backtest.orders + runs.paper!.orders);
    expect((await get('/api/decisions')).body.rows.length).toBe(Number((await q('SELECT count(*) AS n FROM decisions'))[0]!.n));
    const pnl = (await get('/api/pnl')).body.rows;
    expect(pnl.map((p: Record<string, unknown>) => p.net_pnl)).toEqual((await q('SELECT net_pnl FROM pnl ORDER BY run_id, venue, instrument')).map((p) => p.net_pnl));
    expect((await get('/api/positions?run=bad run')).status).toBe(400);
    expect((await get('/api/positions?nope=1')).status).toBe(400);
  });

  it("drills an order down to its triggering tick, checks parity, and pairs the paper run with its backtest", async () => {
    const [fill] = (await get(`/api/fills?run=${runs.backtest.runId}`)).body.rows;
    const audit = (await get(`/api/orders/${fill.order_id}/audit`)).body;
    expect(audit.orderId).toBe(fill.order_id);
    expect(audit.cause.type).toMatch(/Book|Quote|Trade/);
    expect(audit.cause.raw.format).toBe('json'); // the Binance frame as received
    expect(audit.fills.map((f: { fill_id: string }) => f.fill_id)).toContain(fill.fill_id);
    expect((await get('/api/orders/no-such-order/audit')).status).toBe(404);
    const parity = (await get(`/api/runs/${runs.backtest.runId}/parity?wait=true`)).body;
    expect(parity).toMatchObject({ status: 'identical', decisions: runs.backtest.decisions });
    expect((await get('/api/runs')).body.runs[0].parity).toBe('identical');
    const slip = (await get(`/api/runs/${runs.paper!.runId}/slippage`)).body;
    expect(slip).toMatchObject({ liveRun: runs.paper!.runId, backtestRun: runs.backtest.runId, liveOrders: runs.paper!.orders });
  });

  it('refuses control without the token and changes nothing; with it, the kill switch is an event in the log', async () => {
    const post = (url: string, payload: object, auth?: string) => server.app.inject({ method: 'POST', url, payload, headers: auth ? { authorization: auth } : {} });
    for (const auth of [undefined, 'Bearer wrong-token-wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const r = await post('/api/control/kill-switch', { state: 'HALTED', reason: 'x' }, auth);
      expect(r.statusCode).toBe(401);
      expect(r.body).not.toContain(TOKEN);
    }
    expect((await post('/api/control/cancel-all', { reason: 'x' })).statusCode).toBe(401);
    expect((await post('/api/control/kill-switch', { state: 'STOP', reason: 'x' }, `Bearer ${TOKEN}`)).statusCode).toBe(400);
    expect((await post('/api/control/kill-switch', { state: 'HALTED', reason: 'x', extra: 1 }, `Bearer ${TOKEN}`)).statusCode).toBe(400);
    expect(await store.streamRevision('control')).toBe(-1);
    expect((await get('/api/control')).body.killSwitch.state).toBe('ACTIVE');

    const r = await post('/api/control/kill-switch', { state: 'HALTED', venue: 'BINANCE', reason: 'maintenance' }, `Bearer ${TOKEN}`);
    expect(r.statusCode, r.body).toBe(202);
    const [ev] = await collect(store.readStream('control'));
    expect(ev).toMatchObject({ type: 'KillSwitchChanged', data: { state: 'HALTED', venue: 'BINANCE', reason: 'maintenance' } });
    expect(BigInt(String(ev!.metadata.eventTimeNs))).toBeGreaterThan(0n);
    await waitFor(async () => (await get('/api/control')).body.venues.some((v: { venue: string; state: string }) => v.venue === 'BINANCE' && v.state === 'HALTED'));
    expect((await get('/metrics')).body).toMatch(/tapedeck_kill_switch_state\{venue="BINANCE"\} 2/);
    // Rate limited per route: 7 a minute here, and 7 kill-switch requests came so far, authorized or not.
    const limited = await post('/api/control/kill-switch', { state: 'ACTIVE', reason: 'again' }, `Bearer ${TOKEN}`);
    expect(limited.statusCode).toBe(429);
    expect(await store.streamRevision('control')).toBe(0);
  });

  it('streams new events over a WebSocket, and reports health, readiness and metrics', async () => {
    const url = await server.listen(0, '127.0.0.1');
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/stream`);
    const got: Array<Record<string, unknown>> = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => got.length > 0);
    expect(got[0]).toMatchObject({ hello: true });
    await store.appendToStream('notes', [{ id: '0b9f6d0c-3f4e-4a53-9d55-0a4f2b2f9e11', type: 'Note', data: { text: 'hello' } }]);
    await waitFor(() => got.length > 1);
    // New events come in batches: a JSON array in log order.
    expect(got[1]).toMatchObject([{ stream: 'notes', type: 'Note', data: { text: 'hello' }, position: (await store.headPosition()) }]);
    ws.close();
    expect((await get('/healthz')).body).toEqual({ ok: true });
    await waitFor(async () => (await get('/readyz')).body.projections.lagEvents === 0);
    const ready = (await get('/readyz')).body;
    expect(ready).toMatchObject({ ok: true, store: { ok: true }, projections: { ok: true, lagEvents: 0 } });
    const metrics = (await get('/metrics')).body as string;
    for (const name of ['tapedeck_events_appended_total', 'tapedeck_events_projected_total', 'tapedeck_projection_lag_events', 'tapedeck_decision_latency_seconds', 'tapedeck_orders_total', 'tapedeck_fills_total', 'tapedeck_fill_ratio', 'tapedeck_open_exposure', 'tapedeck_pnl', 'tapedeck_reconciliation_ok', 'tapedeck_kill_switch_state', 'tapedeck_venue_up', 'tapedeck_order_rate_headroom']) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    expect(metrics).toMatch(new RegExp(`tapedeck_orders_total\\{venue="BINANCE",mode="paper",outcome="submitted"\\} ${runs.paper!.orders}`));
  });

  it('prints its URL first, and refuses to listen beyond loopback without a token', async () => {
    const refused = tapedeck(['serve', '--store', t.dir, '--bind', '0.0.0.0', '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 .* without a control token/);
    // This store is held by the server in this process: the CLI serves it read-only, control disabled.
    const child = spawn(process.execPath, [CLI, 'serve', '--store', t.dir, '--db', `${t.dir}/serve-cli.duckdb`, '--port', '0', '--json'], { cwd: repoRoot, env: { ...process.env, TAPEDECK_CONTROL_TOKEN: TOKEN } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const { url } = JSON.parse(first) as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const runsResponse = (await (await fetch(`${url}/api/runs`)).json()) as { runs: unknown[] };
      expect(runsResponse.runs.length).toBe(2);
      expect(stderr).toMatch(/serving it read-only, control disabled/);
      const refusedControl = await fetch(`${url}/api/control/kill-switch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ state: 'HALTED', reason: 'x' }) });
      expect(refusedControl.status).toBe(503);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, maxMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > maxMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
