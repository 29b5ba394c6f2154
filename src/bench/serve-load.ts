/**
 * The load side of `tapedeck bench serve`, in its own process so it does not share an event loop with
 * the server: N WebSocket clients on /api/stream and an open-loop schedule of API reads (a fixed number
 * per second whatever the answers' speed, so a slow server shows as latency, not as fewer requests).
 * Each client checks that the positions it receives follow each other with no gap; at the end each must
 * have every event from its first (after its hello) up to the final head. Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

interface LoadArgs {
  /** 'ws': the WebSocket clients, until told the final head on stdin; 'http': the API reads, for `seconds`. */
  role: 'ws' | 'http';
  url: string;
  clients: number;
  rps: number;
  seconds: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as LoadArgs;
const MAX_INFLIGHT = 256;
const wallNs = (): number => (performance.timeOrigin + performance.now()) * 1e6;

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

interface ClientState {
  ws: WebSocket;
  first: number | null;
  last: number | null;
  received: number;
  gaps: number;
  closedEarly: boolean;
}

async function wsClients(): Promise<void> {
  const wsUrl = `${args.url.replace(/^http/, 'ws')}/api/stream`;
  const clients: ClientState[] = [];
  const lagsMs: number[] = [];
  let lagSample = 0;
  let stopping = false;
  await Promise.all(Array.from({ length: args.clients }, () => new Promise<void>((resolve, reject) => {
    const c: ClientState = { ws: new WebSocket(wsUrl), first: null, last: null, received: 0, gaps: 0, closedEarly: false };
    clients.push(c);
    c.ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { hello?: boolean; position: number } | Array<{ position: number; receiveTimeNs?: string | null }>;
      if (!Array.isArray(msg)) {
        if (msg.hello) {
          c.last = msg.position;
          resolve();
        }
        return;
      }
      const now = wallNs();
      for (const m of msg) {
        if (c.last !== null && m.position !== c.last + 1) c.gaps++;
        c.first ??= m.position;
        c.last = m.position;
        c.received++;
        // Delivery lag: from the appender's wall clock (in the event) to this client's; every 10th event.
        if (m.receiveTimeNs && lagSample++ % 10 === 0) lagsMs.push((now - Number(m.receiveTimeNs)) / 1e6);
      }
    });
    c.ws.on('close', () => {
      if (!stopping) c.closedEarly = true;
    });
    c.ws.on('error', reject);
  })));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  const finalHead = await new Promise<number>((resolve) => {
    process.stdin.once('data', (d) => resolve(Number(JSON.parse(String(d)).head)));
  });
  // Wait until every client has the final head, or 15 s.
  const until = performance.now() + 15_000;
  while (clients.some((c) => !c.closedEarly && (c.last ?? -1) < finalHead) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  stopping = true;
  for (const c of clients) c.ws.close();
  lagsMs.sort((a, b) => a - b);
  const missing = clients.filter((c) => c.gaps > 0 || c.closedEarly || (c.last ?? -1) < finalHead);
  process.stdout.write(JSON.stringify({
    result: {
      clients: args.clients,
      eventsDeliveredPerClient: { min: Math.min(...clients.map((c) => c.received)), max: Math.max(...clients.map((c) => c.received)) },
      deliveryLagMs: { p50: round(quantile(lagsMs, 0.5)), p99: round(quantile(lagsMs, 0.99)), max: round(lagsMs.at(-1) ?? null), samples: lagsMs.length },
      clientsMissingEvents: missing.length, gaps: clients.reduce((s, c) => s + c.gaps, 0), disconnected: clients.filter((c) => c.closedEarly).length,
      finalHead,
    },
  }) + '\n');
}

async function httpReads(): Promise<void> {
  const paths = ['/api/runs', '/api/positions', '/api/fills?limit=50', '/api/orders/open', '/api/pnl', '/api/orders?limit=50', '/api/venues', '/api/equity'];
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  let dropped = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (elapsed >= args.seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Open loop: the schedule is by elapsed time, so a late timer sends what it owes.
      // A bounded number in flight: past it, a request due is counted as dropped (the server is behind).
      const owed = Math.floor(args.rps * elapsed / 1000) - sent - dropped;
      for (let i = 0; i < owed; i++) {
        if (inflight.size >= MAX_INFLIGHT) {
          dropped++;
          continue;
        }
        const path = paths[sent % paths.length]!;
        sent++;
        const start = performance.now();
        const p = fetch(args.url + path, { signal: AbortSignal.timeout(10_000) }).then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) errors++;
          latencies.push(performance.now() - start);
        }, () => {
          errors++;
        }).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }, 5);
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({
    result: {
      seconds: round(wallSeconds), targetRps: args.rps, requests: sent, errors, droppedBehindSchedule: dropped, achievedRps: round(sent / wallSeconds),
      latencyMs: { p50: round(quantile(latencies, 0.5)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? null) },
    },
  }) + '\n');
}

await (args.role === 'ws' ? wsClients() : httpReads());
