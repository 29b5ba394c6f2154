/**
 * docker-compose.yml cannot be run on these machines (no container engine), so its structure is checked
 * here with the `yaml` package: every service has an image or a build, health checks where a service can
 * answer one, named volumes declared (and used), depends_on naming services that exist (waiting for
 * health only where there is a check), host ports on loopback, every mounted path and every repository
 * path a command names present, the Prometheus and Grafana files pointing at the right services and
 * paths, the worker's config valid for the CLI, and each tapedeck command line parsed by the real CLI
 * (the subcommand's --help lists every option the compose file passes), and Prometheus' config checked by
 * promtool where it is installed (always in CI).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { getStrategy } from '../../domain/strategies/registry.js';
import { parseRunConfig } from '../../src/runtime/config.js';
import { parseKurrentLocation } from '../../src/store/kurrentdb/mapping.js';
import { CLI } from '../helpers/cli.js';
import { repoRoot } from '../helpers/tmp.js';

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  environment?: Record<string, string | number> | string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; interval?: string; retries?: number };
}

const compose = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
/** promtool comes from Debian's `prometheus` package; .ci/run installs it, so in CI its absence fails. */
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!promtool && !inCi) process.stdout.write('compose: promtool is not installed here (apt-get install prometheus): prometheus.yml not checked by it\n');
const readYaml = (p: string) => parse(fs.readFileSync(path.join(repoRoot, p), 'utf8')) as any;

/** Services that can answer a health check, and so must have one. */
const HEALTHY = ['kurrentdb', 'kafka', 'server', 'prometheus', 'grafana'];
/** tapedeck's own services: built from this repository, the CLI as entrypoint. */
const TAPEDECK = ['gateway', 'worker', 'server'];

function commandOf(s: Service): string[] {
  expect(Array.isArray(s.command), 'commands are arrays, so no shell splits them').toBe(true);
  return s.command as string[];
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: repoRoot, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('docker-compose.yml', () => {
  it('has the whole deployment: KurrentDB, Kafka, Prometheus, Grafana, and tapedeck\'s gateway, worker and server', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'grafana', 'kafka', 'kurrentdb', 'prometheus', 'server', 'worker']);
    for (const [name, s] of Object.entries(services)) expect(s.image !== undefined || s.build !== undefined, `${name} has an image or a build`).toBe(true);
    for (const name of TAPEDECK) expect(services[name]!.build, `${name} is built from this repository`).toBe('.');
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]/);
    // Third-party images are pinned, never :latest.
    for (const [name, s] of Object.entries(services)) if (!TAPEDECK.includes(name)) expect(s.image, name).toMatch(/:[0-9v][^:]*$/);
  });

  it('health checks where a service can answer one; depends_on names services that exist and waits for health only where there is a check', () => {
    for (const name of HEALTHY) {
      const hc = services[name]!.healthcheck;
      expect(hc, `${name} has a healthcheck`).toBeDefined();
      expect(Array.isArray(hc!.test) && ['CMD', 'CMD-SHELL'].includes(hc!.test[0]!), `${name}: test is [CMD|CMD-SHELL, ...]`).toBe(true);
    }
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(services[dep], `${name} depends on ${dep}, a service`).toBeDefined();
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck, `${name} waits for ${dep} to be healthy`).toBeDefined();
      }
    }
    expect(Object.keys(services.worker!.depends_on as object).sort()).toEqual(['kafka', 'kurrentdb']);
    expect(Object.keys(services.server!.depends_on as object)).toEqual(['kurrentdb']);
    expect(Object.keys(services.gateway!.depends_on as object)).toEqual(['kafka']);
  });

  it('named volumes are declared and used; bind mounts and repository paths in commands exist; host ports are on loopback', () => {
    const declared = new Set(Object.keys(compose.volumes));
    const used = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [source, target] = v.split(':');
        expect(target, `${name}: ${v} names a container path`).toMatch(/^\//);
        if (source!.startsWith('.') || source!.startsWith('/')) {
          expect(source!.startsWith('./'), `${name}: ${v} is relative to the repository`).toBe(true);
          expect(fs.existsSync(path.join(repoRoot, source!)), `${name} mounts ${source}, which exists in the repository`).toBe(true);
        } else {
          expect(declared.has(source!), `${name} uses volume ${source}, declared at the top`).toBe(true);
          used.add(source!);
        }
      }
      for (const p of s.ports ?? []) expect(p, `${name} publishes ${p} on 127.0.0.1 only`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect([...declared].sort()).toEqual([...used].sort());
    expect(services.kurrentdb!.volumes).toContain('kurrentdb-data:/var/lib/kurrentdb');
    expect(services.kafka!.volumes).toContain('kafka-data:/var/lib/kafka/data');
    // The image holds the repository at /app: paths a command names there must exist in the repository.
    for (const name of TAPEDECK) {
      for (const arg of commandOf(services[name]!)) {
        if (arg.startsWith('/app/')) expect(fs.existsSync(path.join(repoRoot, arg.slice('/app/'.length))), `${name}: ${arg}`).toBe(true);
      }
    }
  });

  it('tapedeck services take the CLI\'s config file and environment: the worker\'s config is valid, stores are KurrentDB locations', () => {
    const worker = commandOf(services.worker!);
    const config = worker[worker.indexOf('--config') + 1]!;
    expect(config).toBe('/config/worker.json');
    expect(services.worker!.volumes).toContain('./deploy/tapedeck:/config:ro');
    expect(parseRunConfig(JSON.parse(fs.readFileSync(path.join(repoRoot, 'deploy/tapedeck/worker.json'), 'utf8')), 'deploy/tapedeck/worker.json')).toMatchObject({ seed: 1 });
    expect(getStrategy(worker[worker.indexOf('--strategy') + 1]!)).toBeDefined();
    for (const name of ['worker', 'server']) {
      const cmd = commandOf(services[name]!);
      const store = cmd[cmd.indexOf('--store') + 1]!;
      expect(parseKurrentLocation(store)).toMatchObject({ hosts: 'kurrentdb:2113', namespace: null });
    }
    expect((services.server!.environment as Record<string, string>).TAPEDECK_CONTROL_TOKEN).toBe('${TAPEDECK_CONTROL_TOKEN:-}');
    const gateway = commandOf(services.gateway!);
    expect(gateway[gateway.indexOf('--kafka') + 1]).toBe('kafka:9092');
    expect(worker[worker.indexOf('--kafka') + 1]).toBe('kafka:9092');
  });

  it('Prometheus scrapes the server and KurrentDB by service name; Grafana is provisioned with it and loads deploy/grafana/dashboards', () => {
    const prom = readYaml('deploy/prometheus/prometheus.yml');
    const targets = new Map<string, string[]>(prom.scrape_configs.map((c: any) => [c.job_name, c.static_configs.flatMap((s: any) => s.targets)]));
    expect(targets.get('tapedeck-server')).toEqual(['server:8080']);
    expect(targets.get('kurrentdb')).toEqual(['kurrentdb:2113']);
    expect(commandOf(services.server!)).toEqual(expect.arrayContaining(['--port', '8080']));
    expect(services.prometheus!.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(commandOf(services.prometheus!)).toContain('--config.file=/etc/prometheus/prometheus.yml');
    // Relative to the config file, so the same file works in the container and under promtool here; named,
    // not globbed: rules/ also holds tapedeck.test.yml, promtool's unit test, which is not a rule file.
    expect(prom.rule_files).toEqual(['rules/tapedeck.yml']);
    expect(fs.existsSync(path.join(repoRoot, 'deploy/prometheus/rules/tapedeck.yml'))).toBe(true);

    const ds = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml');
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' })]);
    const dash = readYaml('deploy/grafana/provisioning/dashboards/tapedeck.yml');
    const dashPath = dash.providers[0].options.path;
    expect(services.grafana!.volumes).toContain(`./deploy/grafana/dashboards:${dashPath}:ro`);
    expect(services.grafana!.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    // Dashboards present must be JSON Grafana can load, using the provisioned data source.
    for (const f of fs.readdirSync(path.join(repoRoot, 'deploy/grafana/dashboards')).filter((f) => f.endsWith('.json'))) {
      const d = JSON.parse(fs.readFileSync(path.join(repoRoot, 'deploy/grafana/dashboards', f), 'utf8'));
      expect(typeof d.title, f).toBe('string');
      expect(Array.isArray(d.panels), f).toBe(true);
    }
  });

  it.skipIf(!promtool && !inCi)('Prometheus accepts its config and the rules it loads (promtool check config)', () => {
    const r = spawnSync('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('each tapedeck command line parses with the real CLI: its subcommand exists and lists every option passed', () => {
    for (const name of TAPEDECK) {
      const cmd = commandOf(services[name]!);
      const sub = cmd[0]!;
      const help = cli([sub, '--help']);
      expect(help.code, `tapedeck ${sub} --help`).toBe(0);
      // commander answers `--help` after a subcommand it does not know with the program's own help.
      expect(help.stdout, `tapedeck has a ${sub} command`).toMatch(new RegExp(`^Usage: tapedeck ${sub} `));
      for (const flag of cmd.filter((a) => a.startsWith('--'))) expect(help.stdout, `tapedeck ${sub} takes ${flag}`).toMatch(new RegExp(`(^|\\s)${flag}[\\s=<,]`, 'm'));
    }
  });
});
