/**
 * `tapedeck bench serve`: the server under load. A store receives a live session's events (a synthetic
 * live run in the RUN_LAYOUT shape, appended at a steady rate with wall-clock receive times) while a
 * separate process holds N WebSocket clients on the event stream and sends API reads on an open-loop
 * schedule. Reported: API latency p50/p99, event delivery lag (append to client) p50/p99, and whether
 * every client got every event. Baseline in the same run: /healthz latency with no load, so the
 * figures can be read against the machine's own floor.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { syntheticRun } from '../../projections/synthetic.js';
import { createServer } from '../server/app.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';

export interface ServeBenchOptions {
  seconds: number;
  clients: number;
  rps: number;
  eventsPerSecond: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function idleHealthLatencyMs(url: string, n: number): Promise<{ p50: number; p99: number }> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return { p50: Math.round(xs[Math.floor(n / 2)]! * 1000) / 1000, p99: Math.round(xs[Math.floor(n * 0.99)]! * 1000) / 1000 };
}

export async function runServeBench(o: ServeBenchOptions): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'td-bench-serve-'));
  const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
  const server = await createServer({ store, dbPath: path.join(dir, 'serve.duckdb'), token: null, writable: true });
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const url = await server.listen(0, '127.0.0.1');
    const baseline = await idleHealthLatencyMs(url, 200);
    // The live session's events: batches of 10, paced to eventsPerSecond, receive time = wall clock now.
    const batches = syntheticRun({ runId: 'bench-serve-live', seed: 7, trades: 10_000_000, mode: 'live', unfinished: true, batchSize: 10, deltasPerTrade: 2 })[Symbol.iterator]();
    let appended = 0;
    let appending = true;
    const t0 = performance.now();
    const appender = (async () => {
      while (appending) {
        const due = Math.floor(o.eventsPerSecond * (performance.now() - t0) / 1000);
        if (appended >= due) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const next = batches.next();
        if (next.done) break;
        const nowNs = String(BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)));
        const batch = next.value.map((e) => ({ ...e, metadata: { ...e.metadata, receiveTimeNs: nowNs } }));
        await store.appendToStream('run-bench-serve-live', batch);
        appended += batch.length;
      }
    })();
    const start = (role: 'ws' | 'http') => {
      const p = spawn(process.execPath, [path.join(here, 'serve-load.js'), JSON.stringify({ role, url, clients: o.clients, rps: o.rps, seconds: o.seconds })], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(p);
      return { p, lines: jsonLines(p) };
    };
    // The WebSocket clients and the API readers in two processes, so neither's work delays the other's clock.
    const ws = start('ws');
    await ws.lines.next(); // {ready}
    const http = start('http');
    const reads = (await http.lines.next()).value?.result as Record<string, unknown> | undefined;
    appending = false;
    await appender;
    ws.p.stdin!.write(JSON.stringify({ head: await store.headPosition() }) + '\n');
    const stream = (await ws.lines.next()).value?.result as Record<string, unknown> | undefined;
    const result = reads && stream ? { ...reads, ...stream } : null;
    if (result === null) throw new Error('the load process ended without a result');
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...result,
      eventsAppended: appended,
      appendRate: Math.round(appended / seconds),
      projectionPosition: server.projections.position,
      baselineIdleHealthzMs: baseline,
      // The machine's load while measuring: on a shared machine, figures are only comparable at similar load.
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      cpus: os.cpus().length,
      ok: result.clientsMissingEvents === 0,
    };
  } finally {
    for (const c of children) c.kill();
    await server.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The JSON lines a child prints, one at a time. */
async function* jsonLines(child: ReturnType<typeof spawn>): AsyncGenerator<Record<string, unknown>> {
  let buf = '';
  for await (const chunk of child.stdout!) {
    buf += String(chunk);
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      yield JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      buf = buf.slice(i + 1);
    }
  }
}
