/**
 * The scaffold of a simulated venue on loopback (shared by the simulated Polymarket, Kalshi and Alpaca):
 * one HTTP server and one WebSocket server on the same 127.0.0.1 port, requests read whole and handed to
 * the venue as plain records, connections tracked so `restart` can drop them all, and seeded faults.
 * The venue keeps its own routes, auth, message shapes and matching; this file knows none of them.
 *
 *   const server = await SimServer.start({ port, http: (req) => ..., ws: (socket, url, req) => ... });
 *   server.urls  // { rest: 'http://127.0.0.1:N', ws: 'ws://127.0.0.1:N' }: the first JSON line of `tapedeck sim-venue`
 *
 * Faults are `name:probability[:ms]` items, comma separated (`--faults`), drawn from a seeded PRNG so a
 * run is reproducible; `once` names faults that hit the next eligible moment exactly once.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { nextFloat, seedPrng, type PrngState } from '../../../domain/core/prng.js';

export interface SimRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What to answer; `destroy` drops the connection without an answer (a lost acknowledgement). */
export type SimResponse = { status: number; body: unknown; headers?: Record<string, string> } | { destroy: true };

export interface SimServerOptions {
  host?: string;
  port?: number;
  http: (req: SimRequest) => SimResponse | Promise<SimResponse>;
  ws?: (socket: WebSocket, url: URL, req: http.IncomingMessage) => void;
  /** Request bodies above this are refused with 413 (default 1 MiB). */
  maxBodyBytes?: number;
}

export class SimServer {
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private refuseUntilMs = 0;
  private closed = false;

  private constructor(private readonly o: SimServerOptions) {
    this.server = http.createServer((req, res) => void this.onHttp(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ server: this.server, perMessageDeflate: false, maxPayload: 1 << 20 });
    this.wss.on('connection', (ws, req) => {
      if (Date.now() < this.refuseUntilMs || this.o.ws === undefined) {
        ws.terminate();
        return;
      }
      this.o.ws(ws, new URL(req.url ?? '/', 'ws://127.0.0.1'), req);
    });
  }

  static async start(o: SimServerOptions): Promise<SimServer> {
    const s = new SimServer(o);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (e: NodeJS.ErrnoException) => reject(new TapedeckError('USAGE', `the simulated venue cannot listen on port ${o.port ?? 0}: ${e.code ?? e.message}`, { field: '--port' })));
      s.server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
    });
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get urls(): { rest: string; ws: string } {
    return { rest: `http://127.0.0.1:${this.port}`, ws: `ws://127.0.0.1:${this.port}` };
  }

  /** Every WebSocket client connected now. */
  get clients(): Set<WebSocket> {
    return this.wss.clients;
  }

  /** Drops every WebSocket connection (the venue's streams go away; clients must reconnect). */
  dropWebsockets(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  /** Drops every connection and refuses new ones for `ms`; the venue's state is kept. */
  restart(ms: number): void {
    this.refuseUntilMs = Date.now() + ms;
    this.dropWebsockets();
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropWebsockets();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (Date.now() < this.refuseUntilMs) {
      req.socket.destroy();
      return;
    }
    const max = this.o.maxBodyBytes ?? 1 << 20;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > max) {
          res.writeHead(413, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'request body too large' }));
          return;
        }
        chunks.push(c as Buffer);
      }
    } catch {
      return; // the client went away
    }
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    let out: SimResponse;
    try {
      out = await this.o.http({ method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    } catch (e) {
      out = { status: 500, body: { error: `simulated venue bug: ${e instanceof Error ? e.message : String(e)}` } };
    }
    if ('destroy' in out) {
      req.socket.destroy();
      return;
    }
    res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
    res.end(JSON.stringify(out.body));
  }
}

// ---------------------------------------------------------------- faults

export interface FaultRule {
  prob: number;
  ms: number;
}

/** Parses `name:probability[:ms],...` against the venue's known fault names (with their default ms). */
export function parseFaults(spec: string | undefined, known: Readonly<Record<string, number>>): Map<string, FaultRule> {
  const out = new Map<string, FaultRule>();
  if (spec === undefined || spec.trim() === '') return out;
  for (const item of spec.split(',')) {
    const [name, probText, msText] = item.trim().split(':');
    if (name === undefined || !(name in known)) throw new TapedeckError('USAGE', `--faults: unknown fault "${name ?? ''}" (known: ${Object.keys(known).join(', ')})`, { field: '--faults' });
    const prob = Number(probText ?? '1');
    if (!(prob >= 0 && prob <= 1)) throw new TapedeckError('USAGE', `--faults: ${name} needs a probability in [0, 1], got "${probText}"`, { field: '--faults' });
    const ms = msText === undefined ? known[name]! : Number(msText);
    if (!(Number.isInteger(ms) && ms >= 0 && ms <= 60_000)) throw new TapedeckError('USAGE', `--faults: ${name} needs a delay in ms 0..60000, got "${msText}"`, { field: '--faults' });
    out.set(name, { prob, ms });
  }
  return out;
}

/** Seeded fault draws: `hit(name)` is the fault's delay in ms when it strikes now, else null. */
export class Faults {
  private readonly rules: Map<string, FaultRule>;
  private readonly once = new Set<string>();
  private readonly rng: PrngState;
  readonly counts: Record<string, number> = {};

  constructor(private readonly known: Readonly<Record<string, number>>, spec: string | undefined, seed = 7) {
    this.rules = parseFaults(spec, known);
    this.rng = seedPrng(seed);
  }

  /** A new probabilistic spec (when given) and faults that strike once. */
  set(spec: string | undefined, once: readonly string[] = []): void {
    if (spec !== undefined) {
      this.rules.clear();
      for (const [k, v] of parseFaults(spec, this.known)) this.rules.set(k, v);
    }
    parseFaults(once.join(','), this.known);
    for (const f of once) this.once.add(f);
  }

  hit(name: string): number | null {
    let strikes = false;
    if (this.once.delete(name)) strikes = true;
    else {
      const r = this.rules.get(name);
      strikes = r !== undefined && r.prob > 0 && nextFloat(this.rng) < r.prob;
    }
    if (!strikes) return null;
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    return this.rules.get(name)?.ms ?? this.known[name] ?? 0;
  }
}
