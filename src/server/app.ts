/**
 * `tapedeck serve`: the operator's surface over the log. fastify serves JSON read from the
 * projections (projections/, replay/), a WebSocket stream of new events from one store subscription,
 * health and readiness, Prometheus metrics (prom-client), the dashboard (public/), and control: the
 * kill switch and cancel-all, appended to the control stream as events before any session obeys them.
 *
 * Nothing here reads an engine's memory: every answer is a fold of the log.
 * Control needs a bearer token, compared in constant time; requests are rate limited; the token is
 * never logged (fastify's logger is off, and errors never echo headers).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { isTapedeckError, TapedeckError } from '../../domain/core/errors.js';
import { envelopeToStored, makeEvent, toJsonValue } from '../../domain/events/envelope.js';
import { venue as venueSchema } from '../../domain/events/primitives.js';
import { auditOrderWith } from '../../projections/audit.js';
import { trimDecimal, sqlString } from '../../projections/db.js';
import { checkParity, type ParityResult } from '../../replay/parity.js';
import { slippage } from '../../replay/slippage.js';
import { CONTROL_STREAM } from '../runtime/control.js';
import type { EventStore, RecordedEvent, Subscription } from '../store/port.js';
import { LiveProjections } from './live-projections.js';
import { ALL_VENUES, Observer } from './observer.js';

export interface ServerOptions {
  store: EventStore;
  /** The projections database the server keeps (default `<storeDir>/serve.duckdb`). */
  dbPath: string;
  /** Bearer token for control; null disables control (every control request gets 401). */
  token: string | null;
  /** False when the store was opened read-only (another process writes it): control answers 503. */
  writable: boolean;
  /** A venue is 'stale' after this long without a message (default 30 s). */
  staleAfterMs?: number;
  /** Projections further behind than this many events make /readyz fail (default 10,000). */
  readyLagEvents?: number;
  /** Control requests per minute per client (default 30). */
  controlPerMinute?: number;
  /** WebSocket clients whose unsent backlog grows beyond this are disconnected (never silently skipped). */
  maxClientBacklogBytes?: number;
}

export interface Server {
  app: FastifyInstance;
  observer: Observer;
  projections: LiveProjections;
  /** Listens and returns the URL. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository (or installed package) root, from src/server or dist/src/server. */
function packageRoot(): string {
  const up = path.resolve(here, '../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

const BROADCAST_EVERY_MS = 25;
const PROJECT_EVERY_MS = 250;

const runIdParam = z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, 'a run id: letters, digits, . _ : -');
const limitParam = z.coerce.number().int().min(1).max(10_000).default(500);
const runQuery = z.strictObject({ run: runIdParam.optional(), limit: limitParam });

export const killSwitchBody = z.strictObject({
  state: z.enum(['HALTED', 'REDUCING', 'ACTIVE']),
  venue: venueSchema.optional(),
  reason: z.string().trim().min(1, 'say why').max(500),
  operator: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/).optional(),
});
export const cancelAllBody = z.strictObject({
  venue: venueSchema.optional(),
  reason: z.string().trim().min(1, 'say why').max(500),
  operator: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/).optional(),
});

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time: both sides hashed to 32 bytes first, so neither length nor content leaks by timing. */
export function tokenMatches(expected: string | null, header: string | undefined): boolean {
  if (expected === null || header === undefined) return false;
  const m = /^Bearer (.+)$/.exec(header);
  const given = m ? m[1]! : '';
  return timingSafeEqual(digest(expected), digest(given)) && given.length > 0;
}

/** DECIMAL text without padding zeros, in every string cell (exact: only trailing zeros go). */
function clean(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) o[k] = typeof v === 'string' ? trimDecimal(v) : v;
    return o;
  });
}

function badRequest(reply: FastifyReply, error: z.ZodError, where: string): FastifyReply {
  const first = error.issues[0];
  const field = first ? first.path.map(String).join('.') || '(root)' : '(root)';
  return reply.code(400).send({ error: 'BAD_REQUEST', message: `${where}: ${first ? `${field}: ${first.message}` : 'invalid'}`, field });
}

function parse<T extends z.ZodType>(schema: T, value: unknown, reply: FastifyReply, where: string): z.output<T> | null {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    badRequest(reply, r.error, where);
    return null;
  }
  return r.data;
}

/** One event as the stream sends it: JSON data, or base64 for binary payloads. */
export function wireEvent(e: RecordedEvent): string {
  return JSON.stringify({
    position: e.position, stream: e.stream, revision: e.revision, id: e.id, type: e.type,
    eventTimeNs: e.metadata.eventTimeNs ?? null, receiveTimeNs: e.metadata.receiveTimeNs ?? null, role: e.metadata.role ?? null,
    data: e.isJson ? e.data : toJsonValue(e.data),
  });
}

export async function createServer(o: ServerOptions): Promise<Server> {
  const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
  const observer = new Observer({ staleAfterMs: o.staleAfterMs ?? 30_000, nowNs });
  const projections = await LiveProjections.open(o.store, o.dbPath);
  const readyLag = o.readyLagEvents ?? 10_000;
  const maxBacklog = o.maxClientBacklogBytes ?? 16 * 1024 * 1024;
  const bootHead = await o.store.headPosition();
  const clients = new Set<WebSocket>();
  let closed = false;
  let lastProjected = 0;

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, trustProxy: false });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  const root = packageRoot();
  await app.register(fastifyStatic, { root: path.join(root, 'src/server/public'), prefix: '/', index: ['index.html'] });
  const uplotDir = path.join(root, 'node_modules/uplot/dist');
  await app.register(fastifyStatic, { root: uplotDir, prefix: '/vendor/uplot/', decorateReply: false, allowedPath: (p) => /^\/?uPlot\.(iife\.min\.js|min\.css)$/.test(p) });

  app.setErrorHandler((err, _req, reply) => {
    if (isTapedeckError(err)) {
      const notFound = /NOT_FOUND|UNKNOWN_ORDER/.test(err.code);
      return reply.code(notFound ? 404 : 400).send({ error: err.code, message: err.message });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error: status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: status >= 500 ? 'internal error' : (err as Error).message });
  });

  // ---------- the log, followed: metrics, the event stream, the projections ----------
  const sub: Subscription = o.store.subscribeToAll({ fromPosition: 'start' });
  // The projections catch up at most every PROJECT_EVERY_MS: reads between two catch-ups share one
  // cached answer per question, so hundreds of readers a second cost what a few do.
  let projectTimer: NodeJS.Timeout | null = null;
  let projecting: Promise<void> = Promise.resolve();
  const scheduleProjection = (): void => {
    if (projectTimer !== null || closed) return;
    projectTimer = setTimeout(() => {
      projectTimer = null;
      projecting = projecting.then(() => projections.catchUp()).then(afterProjection).catch(() => undefined);
    }, PROJECT_EVERY_MS);
  };
  // New events go out in small batches (one message: a JSON array, in log order) so that a busy log
  // costs each client one write per batch, not one per event.
  let outgoing: string[] = [];
  let outgoingLast = -1;
  /** Every event up to here went out to the clients connected then (a new client starts after it). */
  let sentThrough = bootHead;
  let sendTimer: NodeJS.Timeout | null = null;
  const flushOutgoing = (): void => {
    sendTimer = null;
    if (outgoing.length === 0) return;
    const message = `[${outgoing.join(',')}]`;
    outgoing = [];
    sentThrough = outgoingLast;
    for (const ws of clients) {
      if (ws.bufferedAmount > maxBacklog) {
        clients.delete(ws);
        ws.close(1013, 'too far behind');
        continue;
      }
      ws.send(message);
    }
  };
  const follow = (async () => {
    try {
      for await (const e of sub) {
        observer.observe(e);
        if (e.position <= bootHead || (clients.size === 0 && outgoing.length === 0)) {
          sentThrough = Math.max(sentThrough, e.position);
        } else {
          outgoing.push(wireEvent(e));
          outgoingLast = e.position;
          if (outgoing.length >= 256) flushOutgoing();
          else sendTimer ??= setTimeout(flushOutgoing, BROADCAST_EVERY_MS);
        }
        scheduleProjection();
      }
    } catch {
      /* the store closed */
    }
  })();

  async function afterProjection(): Promise<void> {
    if (closed) return;
    observer.eventsProjected.inc(projections.projectedEvents - lastProjected);
    lastProjected = projections.projectedEvents;
    const head = await o.store.headPosition();
    observer.headPosition.set(head);
    observer.projectionLag.set(Math.max(0, head - projections.position));
    await refreshExposure();
  }

  async function refreshExposure(): Promise<void> {
    const running = observer.runningLiveRuns().map((r) => sqlString(r.runId));
    observer.exposure.reset();
    observer.pnl.reset();
    if (running.length === 0) return;
    const rows = await projections.rows(
      `SELECT venue, instrument, sum(abs(quantity::DECIMAL(38,8) * coalesce(mark_price, 0)::DECIMAL(38,8)))::DOUBLE AS exposure,
              sum(realized_pnl)::DOUBLE AS realized, sum(coalesce(unrealized_pnl, 0))::DOUBLE AS unrealized, sum(net_pnl)::DOUBLE AS net
       FROM pnl WHERE run_id IN (${running.join(',')}) GROUP BY venue, instrument`,
    );
    for (const r of rows) {
      const l = { venue: String(r.venue), instrument: String(r.instrument) };
      observer.exposure.set(l, Number(r.exposure));
      observer.pnl.set({ ...l, kind: 'realized' }, Number(r.realized));
      observer.pnl.set({ ...l, kind: 'unrealized' }, Number(r.unrealized));
      observer.pnl.set({ ...l, kind: 'net' }, Number(r.net));
    }
  }

  // ---------- health ----------
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    let storeOk = true;
    let head = -1;
    try {
      head = await o.store.headPosition();
    } catch {
      storeOk = false;
    }
    const lag = Math.max(0, head - projections.position);
    const venues = observer.venues();
    const checks = {
      store: { ok: storeOk, head },
      projections: { ok: lag <= readyLag && projections.lastError === null, position: projections.position, lagEvents: lag, error: projections.lastError },
      venues: venues.map((v) => ({ venue: v.venue, ok: v.state !== 'stale', state: v.state, lastMessageAgeMs: v.lastMessageAgeMs })),
    };
    const ok = checks.store.ok && checks.projections.ok && checks.venues.every((v) => v.ok);
    return reply.code(ok ? 200 : 503).send({ ok, ...checks });
  });
  app.get('/metrics', async (_req, reply) => {
    observer.venues(); // refreshes the time-dependent gauges
    const head = await o.store.headPosition();
    observer.headPosition.set(head);
    observer.projectionLag.set(Math.max(0, head - projections.position));
    return reply.header('content-type', observer.registry.contentType).send(await observer.registry.metrics());
  });

  // ---------- reads ----------
  const runFilter = (run: string | undefined, col = 'run_id'): string => (run === undefined ? '' : `WHERE ${col} = ${sqlString(run)}`);
  app.get('/api/runs', async () => {
    const at = await projections.rowsAt(
      `SELECT run_id, mode, strategy, source, outcome, reason, events, inputs, orders, fills, decisions_hash, config_hash, code_hash,
              started_time::VARCHAR AS started_time, ended_time::VARCHAR AS ended_time, first_position, last_position, ended_position
       FROM runs ORDER BY first_position`,
    );
    const rows = clean(at.rows);
    for (const r of rows) r.parity = parityStatus(String(r.run_id), r.ended_position);
    return { position: at.position, runs: rows };
  });
  const table = (pathName: string, sql: (run: string | undefined, limit: number) => string) =>
    app.get(pathName, async (req, reply) => {
      const q = parse(runQuery, req.query, reply, pathName);
      if (q === null) return reply;
      const r = await projections.rowsAt(sql(q.run, q.limit));
      return { position: r.position, rows: clean(r.rows) };
    });
  table('/api/positions', (run) => `SELECT run_id, strategy, venue, instrument, quantity, avg_price, cost_basis, realized_pnl, fees, quote_currency, fill_count, last_position FROM positions ${runFilter(run)} ORDER BY run_id, venue, instrument`);
  table('/api/pnl', (run) => `SELECT run_id, strategy, venue, instrument, quote_currency, quantity, realized_pnl, unrealized_pnl, mark_price, fees, net_pnl FROM pnl ${runFilter(run)} ORDER BY run_id, venue, instrument`);
  table('/api/exposure', (run) =>
    `SELECT venue, quote_currency, sum(abs(quantity::DECIMAL(38,8) * coalesce(mark_price, 0)::DECIMAL(38,8))) AS gross_exposure,
            sum(quantity::DECIMAL(38,8) * coalesce(mark_price, 0)::DECIMAL(38,8)) AS net_exposure, sum(net_pnl) AS net_pnl, count(*) AS instruments
     FROM pnl ${runFilter(run)} GROUP BY venue, quote_currency ORDER BY venue, quote_currency`);
  table('/api/orders/open', (run, limit) => `SELECT order_id, run_id, venue, instrument, side, order_type, price, quantity, filled_quantity, state, intended_time::VARCHAR AS intended_time FROM open_orders ${runFilter(run)} ORDER BY intended_position DESC LIMIT ${limit}`);
  table('/api/orders', (run, limit) => `SELECT order_id, run_id, venue, instrument, side, order_type, price, quantity, filled_quantity, avg_fill_price, state, deny_code, reject_reason, intended_time::VARCHAR AS intended_time, intended_position FROM orders ${runFilter(run)} ORDER BY intended_position DESC LIMIT ${limit}`);
  table('/api/fills', (run, limit) => `SELECT fill_id, order_id, run_id, venue, instrument, side, price, quantity, fee, fee_currency, liquidity, event_time::VARCHAR AS event_time, position FROM fills ${runFilter(run)} ORDER BY position DESC LIMIT ${limit}`);
  table('/api/decisions', (run, limit) => `SELECT * EXCLUDE (event_time), event_time::VARCHAR AS event_time FROM decisions ${runFilter(run)} ORDER BY position DESC LIMIT ${limit}`);
  table('/api/equity', (run) =>
    `WITH d AS (
       SELECT run_id, position, event_time, fill_id,
              realized_pnl - coalesce(lag(realized_pnl) OVER (PARTITION BY run_id, strategy, venue, instrument ORDER BY position), 0) AS delta
       FROM position_history ${runFilter(run)})
     SELECT run_id, position, event_time::VARCHAR AS event_time, epoch_ns(event_time) AS event_time_ns,
            sum(delta) OVER (PARTITION BY run_id ORDER BY position) AS realized_pnl
     FROM d ORDER BY run_id, position`);
  // Price bars of the instruments traded (those with a position), for the charts.
  table('/api/prices', (run, limit) =>
    `SELECT run_id, venue, instrument, epoch_ns(minute) AS minute_ns, open, high, low, close, volume, trades FROM bars
     WHERE (run_id, venue, instrument) IN (SELECT run_id, venue, instrument FROM positions)${run === undefined ? '' : ` AND run_id = ${sqlString(run)}`}
     ORDER BY run_id, venue, instrument, minute LIMIT ${limit}`);

  app.get('/api/orders/:orderId/audit', async (req, reply) => {
    const p = parse(z.strictObject({ orderId: z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/) }), req.params, reply, 'order id');
    const q = parse(z.strictObject({ run: runIdParam.optional() }), req.query, reply, 'query');
    if (p === null || q === null) return reply;
    await projections.catchUp();
    return auditOrderWith(projections.connection, async () => o.store, p.orderId, q.run !== undefined ? { runId: q.run } : {});
  });

  // Parity: one check at a time, cached per run and its end position (a finished run's answer never changes).
  const parity = new Map<string, { key: string; status: 'checking' | 'identical' | 'diverged' | 'error'; result?: ParityResult; error?: string }>();
  let parityQueue: Promise<void> = Promise.resolve();
  function parityStatus(runId: string, endedPosition: unknown): string {
    const key = String(endedPosition ?? 'running');
    const c = parity.get(runId);
    if (c && c.key === key) return c.status;
    return endedPosition === null || endedPosition === undefined ? 'running' : 'not-checked';
  }
  function startParity(runId: string, key: string): Promise<void> {
    const entry = { key, status: 'checking' as const };
    parity.set(runId, entry);
    parityQueue = parityQueue.then(async () => {
      try {
        const r = await checkParity(o.store, runId);
        parity.set(runId, { key, status: r.identical ? 'identical' : 'diverged', result: r });
      } catch (e) {
        parity.set(runId, { key, status: 'error', error: isTapedeckError(e) ? e.message : String(e) });
      }
    });
    return parityQueue;
  }
  app.get('/api/runs/:runId/parity', async (req, reply) => {
    const p = parse(z.strictObject({ runId: runIdParam }), req.params, reply, 'run id');
    const q = parse(z.strictObject({ wait: z.enum(['true', 'false']).default('false') }), req.query, reply, 'query');
    if (p === null || q === null) return reply;
    const [run] = await projections.fresh(`SELECT ended_position FROM runs WHERE run_id = ${sqlString(p.runId)}`);
    if (run === undefined) return reply.code(404).send({ error: 'RUN_NOT_FOUND', message: `no run "${p.runId}" in the projections` });
    if (run.ended_position === null) return { runId: p.runId, status: 'running' };
    const key = String(run.ended_position);
    let c = parity.get(p.runId);
    if (!c || c.key !== key || c.status === 'error') {
      const done = startParity(p.runId, key);
      if (q.wait === 'true') await done;
      c = parity.get(p.runId)!;
    } else if (c.status === 'checking' && q.wait === 'true') {
      await parityQueue;
      c = parity.get(p.runId)!;
    }
    return { runId: p.runId, status: c.status, ...(c.result ? { decisions: c.result.decisions, hash: c.result.hash, recordedHash: c.result.recordedHash, divergence: c.result.divergence ?? null } : {}), ...(c.error ? { error: c.error } : {}) };
  });

  app.get('/api/runs/:runId/slippage', async (req, reply) => {
    const p = parse(z.strictObject({ runId: runIdParam }), req.params, reply, 'run id');
    const q = parse(z.strictObject({ backtest: runIdParam.optional() }), req.query, reply, 'query');
    if (p === null || q === null) return reply;
    let backtest = q.backtest;
    if (backtest === undefined) {
      // The backtest paired with a live or paper run: the latest replay of the same source and strategy.
      const [pair] = await projections.rows(
        `SELECT b.run_id FROM runs l JOIN runs b ON b.source = l.source AND b.strategy = l.strategy AND b.mode = 'replay' AND b.run_id <> l.run_id
         WHERE l.run_id = ${sqlString(p.runId)} ORDER BY b.first_position DESC LIMIT 1`,
      );
      if (pair === undefined) return reply.code(404).send({ error: 'NO_BACKTEST', message: `no replay run of the same source and strategy as ${p.runId}; pass ?backtest=RUN` });
      backtest = String(pair.run_id);
    }
    return slippage(o.store, p.runId, backtest);
  });

  app.get('/api/venues', async () => ({ venues: observer.venues(), killSwitch: [...observer.killSwitch.values()] }));
  app.get('/api/control', async () => ({
    controlEnabled: o.token !== null && o.writable,
    killSwitch: observer.killSwitch.get(ALL_VENUES) ?? { venue: ALL_VENUES, state: 'ACTIVE', reason: '', by: '', eventTimeNs: '', position: -1 },
    venues: [...observer.killSwitch.values()].filter((k) => k.venue !== ALL_VENUES),
    position: observer.position,
  }));

  // ---------- the event stream ----------
  app.get('/api/stream', { websocket: true }, (socket: WebSocket) => {
    clients.add(socket);
    socket.send(JSON.stringify({ hello: true, position: sentThrough }));
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
  });

  // ---------- control ----------
  const controlLimit = { rateLimit: { max: o.controlPerMinute ?? 30, timeWindow: 60_000 } };
  async function control(kind: 'kill-switch' | 'cancel-all', req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!tokenMatches(o.token, req.headers.authorization)) {
      observer.controlRequests.inc({ kind, result: 'unauthorized' });
      return reply.code(401).header('www-authenticate', 'Bearer').send({
        error: 'UNAUTHORIZED',
        message: o.token === null ? 'control is disabled: start serve with TAPEDECK_CONTROL_TOKEN or --token-file' : 'a valid bearer token is required',
      });
    }
    if (!o.writable) {
      observer.controlRequests.inc({ kind, result: 'unavailable' });
      return reply.code(503).send({ error: 'STORE_READ_ONLY', message: 'another process holds the store for writing; control goes through the server that holds it' });
    }
    const ks = kind === 'kill-switch' ? parse(killSwitchBody, req.body, reply, kind) : null;
    const ca = kind === 'cancel-all' ? parse(cancelAllBody, req.body, reply, kind) : null;
    const body = ks ?? ca;
    if (body === null) {
      observer.controlRequests.inc({ kind, result: 'invalid' });
      return reply;
    }
    const at = nowNs();
    const by = `${body.operator ?? 'operator'}@${req.ip}`;
    const common = { id: randomUUID(), stream: CONTROL_STREAM, eventTimeNs: at, receiveTimeNs: at };
    const env = ks !== null
      ? makeEvent({ ...common, type: 'KillSwitchChanged', data: { state: ks.state, reason: ks.reason, by, ...(ks.venue ? { venue: ks.venue } : {}) } })
      : makeEvent({ ...common, type: 'CancelAllRequested', data: { reason: body.reason, by, ...(body.venue ? { venue: body.venue } : {}) } });
    const stored = envelopeToStored(env);
    const r = await o.store.appendToStream(CONTROL_STREAM, [{ id: stored.id, type: stored.type, data: stored.data, metadata: { ...stored.metadata, role: 'control' } }]);
    observer.controlRequests.inc({ kind, result: 'accepted' });
    return reply.code(202).send({ accepted: true, eventId: env.id, type: env.type, position: r.position, ...toJsonValue(env.data) as object });
  }
  app.post('/api/control/kill-switch', { config: controlLimit }, (req, reply) => control('kill-switch', req, reply));
  app.post('/api/control/cancel-all', { config: controlLimit }, (req, reply) => control('cancel-all', req, reply));

  await projections.catchUp();
  await afterProjection();

  return {
    app, observer, projections,
    async listen(port, host) {
      const addr = await app.listen({ port, host });
      const u = new URL(addr);
      return `http://${host.includes(':') ? `[${host}]` : host}:${u.port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (projectTimer) clearTimeout(projectTimer);
      if (sendTimer) clearTimeout(sendTimer);
      await projecting;
      for (const ws of clients) ws.terminate();
      await app.close();
      await sub.close(); // its loop ends at the next commit or when the store closes
      void follow;
      await projections.close();
    },
  };
}

/** Reads a token file: one line, no surrounding whitespace, at least 16 characters. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TapedeckError('TOKEN_FILE', `cannot read the token file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
  const token = text.trim();
  if (token.length < 16 || /\s/.test(token)) throw new TapedeckError('TOKEN_FILE', 'the token file must hold one token of at least 16 characters and no spaces', { file });
  return token;
}
