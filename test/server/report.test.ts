/**
 * `tapedeck report`: a run's tearsheet is one HTML file that opens with no network (Chromium with every
 * request refused draws its charts), shows P&L and order figures equal to `tapedeck query`, and for the
 * paper run, the slippage against its backtest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tapedeck } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';
import { storeQuery, writeDemoRuns } from './fixture.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!CHROMIUM && !inCi) console.warn('Chromium is not installed here (apt-get install chromium): the tearsheet is checked without a browser');

describe('tapedeck report', () => {
  const t = tmpDir('td-report-');
  let runs: Awaited<ReturnType<typeof writeDemoRuns>>;
  beforeAll(async () => {
    runs = await writeDemoRuns(t.dir);
  }, 60_000);
  afterAll(() => t.cleanup());

  it('writes a self-contained tearsheet whose figures equal tapedeck query, with slippage for the paper run', async () => {
    const out = path.join(t.dir, 'paper.html');
    const r = tapedeck(['report', '--store', t.dir, '--run', runs.paper!.runId, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).out).toBe(out);
    const html = fs.readFileSync(out, 'utf8');
    // Nothing to fetch: no script or stylesheet by URL.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    const pnl = await storeQuery(t.dir, { update: false })(`SELECT net_pnl, realized_pnl FROM pnl WHERE run_id = '${runs.paper!.runId}'`);
    for (const p of pnl) expect(html).toContain(`<td>${p.net_pnl}</td>`);
    expect(html).toContain(`Slippage against backtest ${runs.backtest.runId}`);
    expect(tapedeck(['report', '--store', t.dir, '--run', 'nope', '--out', out]).stderr).toMatch(/no run "nope"/);

    if (!CHROMIUM) {
      expect(inCi, 'Chromium missing in CI').toBe(false);
      return;
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      await page.route('**/*', (route) => {
        requested.push(route.request().url());
        return route.request().url().startsWith('file:') ? route.continue() : route.abort();
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${out}`);
      await page.waitForSelector('#equity canvas, #equity .note');
      expect(errors).toEqual([]);
      expect(requested.filter((u) => !u.startsWith('file:'))).toEqual([]);
      expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(3);
      fs.mkdirSync(path.join(repoRoot, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(repoRoot, 'test-artifacts/tearsheet.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
