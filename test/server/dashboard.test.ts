/**
 * The dashboard in a real browser: playwright-core driving Debian's Chromium, headless, against
 * `serve` on a store with real runs (the bundled Binance recording: a backtest and a paper run).
 * The figures on the page equal `tapedeck query` on the same store; the audit drills from a fill to
 * the triggering tick with its raw bytes decoded; HALT asks for confirmation and the token, then
 * shows in the page and as a KillSwitchChanged in the log; without the token nothing changes.
 * Screenshots of each view go to test-artifacts/dashboard/ (gitignored).
 * Chromium comes from apt (.ci/run installs it): in CI a missing Chromium fails; elsewhere it says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../../src/server/app.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';
import { storeQuery, writeDemoRuns } from './fixture.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const TOKEN = 'dashboard-test-token-0123456789';
const ARTIFACTS = path.join(repoRoot, 'test-artifacts/dashboard');
if (!CHROMIUM && !inCi) console.warn('Chromium is not installed here (apt-get install chromium): the browser tests cannot run and are skipped');

describe.skipIf(!CHROMIUM && !inCi)('the dashboard in Chromium', () => {
  const t = tmpDir('td-dash-');
  let store: EmbeddedEventStore;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let url: string;
  let runs: Awaited<ReturnType<typeof writeDemoRuns>>;

  beforeAll(async () => {
    expect(CHROMIUM, 'Chromium missing in CI: .ci/run installs Debian chromium').toBeDefined();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    runs = await writeDemoRuns(t.dir);
    store = await EmbeddedEventStore.open(t.dir);
    server = await createServer({ store, dbPath: path.join(t.dir, 'serve.duckdb'), token: TOKEN, writable: true });
    url = await server.listen(0, '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // No outside network: every request the page makes goes to this server.
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith(url.replace('http', 'ws'))) outside.push(r.url());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(outside).toEqual([]);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
    t.cleanup();
  });

  /** `tapedeck query --json`, in process; the first call brings the projections up to date, later ones read them as they are. */
  const query = storeQuery(t.dir);
  const cells = (tableId: string, fields: string[]) =>
    page.$$eval(`#${tableId} tr[data-key]`, (trs, fs) => trs.map((tr) => fs.map((f) => tr.querySelector(`td[data-field="${f}"]`)?.textContent ?? null)), fields);
  const shot = (view: string) => page.locator(`#${view}`).screenshot({ path: path.join(ARTIFACTS, `${view}.png`) });

  it('shows positions, P&L, orders and fills equal to tapedeck query on the same store', async () => {
    expect(await cells('positions-table', ['run_id', 'instrument', 'quantity', 'avg_price', 'realized_pnl'])).toEqual(
      (await query('SELECT run_id, instrument, quantity, avg_price, realized_pnl FROM positions ORDER BY run_id, venue, instrument')).map((r) => [r.run_id, r.instrument, r.quantity, r.avg_price, r.realized_pnl]));
    expect(await cells('pnl-table', ['run_id', 'net_pnl'])).toEqual((await query('SELECT run_id, net_pnl FROM pnl ORDER BY run_id, venue, instrument')).map((r) => [r.run_id, r.net_pnl]));
    expect(await cells('fills-table', ['fill_id', 'price', 'quantity', 'fee'])).toEqual(
      (await query('SELECT fill_id, price, quantity, fee FROM fills ORDER BY position DESC')).map((r) => [r.fill_id, r.price, r.quantity, r.fee]));
    const orders = await query('SELECT order_id, state, filled_quantity FROM orders ORDER BY intended_position DESC');
    expect(orders.length).toBe(runs.backtest.orders + runs.paper!.orders);
    expect(await cells('orders-table', ['order_id', 'state', 'filled_quantity'])).toEqual(orders.map((r) => [r.order_id, r.state, r.filled_quantity]));
    expect(await page.locator('#equity-chart canvas').count()).toBeGreaterThan(0);
    await shot('positions');
    await shot('equity');
    await shot('blotter');
  });

  it('reports each run identical under parity, and venue health', async () => {
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('#runs-table td[data-field="parity"]')].every((td: any) => td.textContent === 'identical'), undefined, { timeout: 30_000, polling: 250 })
      .catch(async () => {
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]');
      });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await cells('runs-table', ['run_id', 'parity'])).toEqual([[runs.backtest.runId, 'identical'], [runs.paper!.runId, 'identical']]);
    await shot('parity');
    await shot('venues');
  });

  it('drills from a fill back to the triggering tick, raw bytes decoded', async () => {
    await page.locator('#fills-table tr[data-key]').first().click();
    await page.waitForSelector('#audit-cause');
    const cause = await page.locator('#audit-cause').textContent();
    expect(cause).toMatch(/BookDeltaApplied|BookSnapshotted|QuoteUpdated|TradeReported/);
    expect(await page.locator('#audit-cause .raw-hex').textContent()).toMatch(/^[0-9a-f]+$/);
    expect(await page.locator('#audit-cause .raw-decoded').textContent()).toMatch(/lastUpdateId|"e":|"stream"/);
    await shot('audit');
  });

  it('shows the paper run against its backtest: the slippage distribution and per-order table', async () => {
    await page.selectOption('#run-select', runs.paper!.runId);
    await page.waitForFunction(() => /against backtest/.test((globalThis as any).document.getElementById('slippage-note').textContent ?? ''));
    expect(await page.locator('#slippage-note').textContent()).toContain(`${runs.backtest.runId.slice(0, 8)}`);
    expect(await page.locator('#slippage-table tr[data-key]').count()).toBe(runs.paper!.orders);
    await shot('slippage');
    await page.selectOption('#run-select', '');
  });

  it('refuses control without the token and changes nothing; with it, HALT shows in the page and in the log', async () => {
    // No token: refused in the page, nothing sent.
    await page.fill('#control-reason', 'browser test');
    await page.click('#btn-halt');
    await expect.poll(() => page.locator('#control-result').textContent()).toMatch(/refused: enter the control token/);
    // A wrong token: the confirmation is asked, then the server refuses (401).
    await page.fill('#token', 'not-the-right-token-at-all');
    await page.click('#btn-halt');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await expect.poll(() => page.locator('#control-result').textContent()).toMatch(/refused \(401\)/);
    // Declining the confirmation sends nothing.
    await page.fill('#token', TOKEN);
    await page.click('#btn-halt');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    await expect.poll(() => page.locator('#control-result').textContent()).toBe('not sent');
    expect(await store.streamRevision('control')).toBe(-1);
    expect(await page.locator('#kill-state').getAttribute('data-state')).toBe('ACTIVE');

    await page.click('#btn-halt');
    await page.waitForSelector('#confirm[open]');
    expect(await page.locator('#confirm-text').textContent()).toMatch(/kill switch to HALTED for all venues/);
    await shot('control');
    await page.click('#confirm-yes');
    await expect.poll(() => page.locator('#control-result').textContent()).toMatch(/recorded: KillSwitchChanged/);
    await expect.poll(() => page.locator('#kill-state').getAttribute('data-state'), { timeout: 5000 }).toBe('HALTED');
    const events = await collect(store.readStream('control'));
    expect(events.map((e) => [e.type, (e.data as { state: string }).state, (e.data as { reason: string }).reason])).toEqual([['KillSwitchChanged', 'HALTED', 'browser test']]);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    await shot('control');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: false });
  });
});
