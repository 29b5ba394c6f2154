/**
 * The alert rules (deploy/prometheus/rules/tapedeck.yml) are valid (`promtool check rules`), every alert
 * fires on a recorded metric scenario (`promtool test rules`), and every metric they read is one that
 * `tapedeck serve` exports. promtool comes from Debian's `prometheus` package (.ci/run installs it);
 * in CI (CI=true) a missing promtool fails this test, elsewhere it says so and skips.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Observer } from '../../src/server/observer.js';
import { repoRoot } from '../helpers/tmp.js';

const rulesDir = path.join(repoRoot, 'deploy/prometheus/rules');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!promtool && !inCi) console.warn('promtool is not installed here (apt-get install prometheus): the promtool checks cannot run and are skipped');

describe('Prometheus alert rules', () => {
  it('promtool is available in CI', () => {
    if (inCi) expect(promtool, 'promtool missing in CI: .ci/run installs Debian prometheus').toBe(true);
  });

  it.skipIf(!promtool && !inCi)('pass promtool check rules and promtool test rules', () => {
    const check = spawnSync('promtool', ['check', 'rules', 'tapedeck.yml'], { cwd: rulesDir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 8 rules found/);
    const test = spawnSync('promtool', ['test', 'rules', 'tapedeck.test.yml'], { cwd: rulesDir, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/SUCCESS/);
  });

  it('every alert has a scenario where it fires, and reads only metrics the server exports', async () => {
    const rules = YAML.parse(fs.readFileSync(path.join(rulesDir, 'tapedeck.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const tests = YAML.parse(fs.readFileSync(path.join(rulesDir, 'tapedeck.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.sort()).toEqual(['TapedeckAbnormalOrderRate', 'TapedeckErrorRateHigh', 'TapedeckExposureOverLimit', 'TapedeckKillSwitchEngaged', 'TapedeckProjectionLag', 'TapedeckReconciliationFailed', 'TapedeckRejectRateHigh', 'TapedeckVenueDisconnected']);
    const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    for (const a of alerts) expect(firing.has(a), `${a} has no scenario in which it fires`).toBe(true);
    const exported = new Set((await new Observer({ staleAfterMs: 1000, nowNs: () => 0n }).registry.getMetricsAsJSON()).map((m) => m.name));
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      for (const name of r.expr.match(/tapedeck_[a-z_]+/g) ?? []) expect(exported.has(name), `${r.alert} reads ${name}, which serve does not export`).toBe(true);
    }
  });
});
