/**
 * A loopback server that plays a recorded capture to a live adapter as if it were the venue:
 *
 * - websocket (the `ws` package): each connection replays one recorded connection's received frames,
 *   paced by the capture timestamps, in real time (`speed: 1`), N times faster (`speed: N`) or as fast
 *   as the socket takes them (`speed: 0` or `'max'`). Where the recording shows the client sending a
 *   message (a subscription), the replay waits for the client to send one, then re-bases its clock.
 *   At the end of the capture the server closes with 1000 ("end of capture").
 * - HTTP (node:http): the REST answers recorded with the capture, by path and query; the n-th request
 *   for a URL gets the n-th recorded answer, and 404 once they are used up (a capture holds only the
 *   snapshots that were taken). They are served when asked, whatever the replay clock: the book
 *   procedure drops the diffs a later snapshot already covers.
 *
 * Choosing the recorded connection for a new socket: by URL path; a Binance combined stream
 * (`/stream?streams=a/b`) may ask for a subset of the recorded streams and gets only those frames; when
 * several recordings share a path (Kraken's three connections to `/`), the client's first message picks
 * the one whose first sent message is the same JSON.
 *
 * Loopback only (127.0.0.1 by default). Everything is loaded into memory at start (captures are MBs).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { TapedeckError } from '../../../domain/core/errors.js';
import { canonicalJson } from '../../../domain/core/canonical.js';
import { wallClockNs } from '../common/clock.js';
import { loadWs } from '../common/ws.js';
import {
  detectCaptureVenue, findRestCompanions, readCapture,
  type CaptureIssue, type CaptureReadOptions, type CaptureVenue,
} from './capture.js';

export interface ReplayServerOptions {
  /** Websocket capture files: each is one recorded connection. */
  captures: string | string[];
  /** REST files to serve; default: the companions beside the first capture. */
  restFiles?: string[];
  /** 1 = real time, N = N times faster, 0 or 'max' = as fast as possible. Default 1. */
  speed?: number | 'max';
  host?: string;
  /** 0 = any free port. */
  port?: number;
  onBadLine?: CaptureReadOptions['onBadLine'];
  onIssue?: (issue: CaptureIssue) => void;
}

type Step =
  | { kind: 'recv'; timeNs: bigint; text: string; stream: string | null }
  | { kind: 'send'; timeNs: bigint; text: string };

interface Recording {
  file: string;
  venue: CaptureVenue;
  url: string;
  path: string;
  connectNs: bigint;
  steps: Step[];
  firstSent: string | null;
  streams: Set<string> | null;
}

export interface RecordedConnection {
  file: string;
  venue: CaptureVenue;
  /** The URL the recording connected to. */
  url: string;
  /** Messages the recording sent, in order (subscriptions), as text. */
  sent: string[];
  frames: number;
}

export interface ReplayServer {
  readonly port: number;
  readonly wsBaseUrl: string;
  readonly httpBaseUrl: string;
  readonly venue: CaptureVenue;
  readonly connections: RecordedConnection[];
  /** The REST URLs recorded (as recorded), for clients that fetch metadata first. */
  readonly restUrls: string[];
  /** The local URL standing for a recorded one: same path and query, this server's scheme and port. */
  urlFor(recordedUrl: string): string;
  /** Resolves when every websocket replay started so far has finished. */
  idle(): Promise<void>;
  /**
   * The capture's own time at this point of the replay: the recorded time of the last frame or REST
   * answer served. Paper trading uses it as the live adapter's receive clock, so an old capture
   * replays on its own timeline the way live data arrives on the wall clock.
   */
  captureNowNs(): bigint;
  close(): Promise<void>;
}

export async function startCaptureReplayServer(options: ReplayServerOptions): Promise<ReplayServer> {
  const files = Array.isArray(options.captures) ? options.captures : [options.captures];
  if (files.length === 0) throw new TapedeckError('CAPTURE_NONE', 'no capture file given');
  const speed = options.speed === undefined ? 1 : options.speed === 'max' ? 0 : options.speed;
  if (!(speed >= 0) || !Number.isFinite(speed)) throw new TapedeckError('REPLAY_SPEED', `speed must be a number >= 0 or 'max', got ${String(options.speed)}`, { field: 'speed' });
  const readOpts: CaptureReadOptions = {
    ...(options.onBadLine !== undefined ? { onBadLine: options.onBadLine } : {}),
    ...(options.onIssue !== undefined ? { onIssue: options.onIssue } : {}),
  };

  const venue = detectCaptureVenue(files[0]!);
  const recordings: Recording[] = [];
  for (const f of files) recordings.push(await loadRecording(f, readOpts));
  const rest = new Map<string, Uint8Array[]>();
  const restTimes = new Map<string, bigint[]>();
  const clock = { nowNs: null as bigint | null };
  const restUrls: string[] = [];
  for (const f of options.restFiles ?? findRestCompanions(files[0]!, venue)) {
    for await (const r of readCapture(f, readOpts)) {
      if (r.kind !== 'http' || r.url === null) continue;
      const key = sortedKey(restKey(r.url));
      const list = rest.get(key) ?? [];
      list.push(r.payload);
      rest.set(key, list);
      restTimes.set(key, [...(restTimes.get(key) ?? []), r.timeNs ?? 0n]);
      restUrls.push(r.url);
    }
  }
  const served = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const key = sortedKey(req.url ?? '/');
    const list = rest.get(key);
    const n = served.get(key) ?? 0;
    if (req.method !== 'GET' || list === undefined || n >= list.length) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: -1, msg: list === undefined ? `no recorded answer for ${req.url}` : `the ${list.length} recorded answer(s) for ${req.url} are used up` }));
      return;
    }
    served.set(key, n + 1);
    const t = restTimes.get(key)?.[n];
    if (t !== undefined && t > 0n && (clock.nowNs === null || t > clock.nowNs)) clock.nowNs = t;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(list[n]);
  });
  const { WebSocketServer } = await loadWs();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const running = new Set<Promise<void>>();
  wss.on('connection', (ws, req) => {
    const p = serveConnection(ws, req.url ?? '/', recordings, speed, clock).catch(() => ws.terminate());
    running.add(p);
    void p.finally(() => running.delete(p));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const wsBaseUrl = `ws://${host}:${port}`;
  const httpBaseUrl = `http://${host}:${port}`;

  return {
    port, wsBaseUrl, httpBaseUrl, venue, restUrls,
    connections: recordings.map((r) => ({
      file: r.file, venue: r.venue, url: r.url,
      sent: r.steps.filter((s) => s.kind === 'send').map((s) => s.text),
      frames: r.steps.filter((s) => s.kind === 'recv').length,
    })),
    urlFor(recordedUrl: string): string {
      const u = new URL(recordedUrl);
      const base = u.protocol.startsWith('ws') ? wsBaseUrl : httpBaseUrl;
      return `${base}${u.pathname}${u.search}`;
    },
    captureNowNs(): bigint {
      return clock.nowNs ?? recordings[0]?.connectNs ?? 0n;
    },
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all([...running]);
    },
    async close(): Promise<void> {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function loadRecording(file: string, opts: CaptureReadOptions): Promise<Recording> {
  const venue = detectCaptureVenue(file);
  let url: string | null = null;
  let connectNs: bigint | null = null;
  const steps: Step[] = [];
  const decoder = new TextDecoder();
  for await (const r of readCapture(file, opts)) {
    if (r.kind === 'connect') {
      if (url !== null) throw new TapedeckError('CAPTURE_MULTI_CONNECTION', 'the capture holds a second connection; give each connection its own file', { file, line: r.line });
      url = r.url;
      connectNs = r.timeNs;
    } else if (r.kind === 'received') {
      const text = decoder.decode(r.payload);
      steps.push({ kind: 'recv', timeNs: r.timeNs!, text, stream: /^\{"stream":"([^"]+)"/.exec(text)?.[1] ?? null });
    } else if (r.kind === 'sent') {
      url ??= r.url;
      steps.push({ kind: 'send', timeNs: r.timeNs!, text: decoder.decode(r.payload) });
    }
  }
  if (url === null) throw new TapedeckError('CAPTURE_NO_CONNECTION', 'no "<url> <-> <ts>" connection line: not a websocket capture', { file });
  const u = new URL(url);
  const streams = u.searchParams.get('streams');
  const firstSent = steps.find((s) => s.kind === 'send')?.text ?? null;
  return {
    file, venue, url, path: u.pathname || '/', connectNs: connectNs ?? steps[0]?.timeNs ?? 0n, steps,
    firstSent: firstSent === null ? null : canonical(firstSent),
    streams: streams === null ? null : new Set(streams.split('/')),
  };
}

async function serveConnection(ws: WebSocket, reqUrl: string, recordings: Recording[], speed: number, clock: { nowNs: bigint | null }): Promise<void> {
  const u = new URL(reqUrl, 'ws://x');
  const inbox: string[] = [];
  let waiter: (() => void) | null = null;
  let closed = false;
  // Aborts a sleep until the next frame when the socket goes, so no timer outlives the connection.
  const gone = new AbortController();
  ws.on('message', (d) => {
    inbox.push(d.toString());
    const w = waiter;
    waiter = null;
    w?.();
  });
  ws.on('close', () => {
    closed = true;
    gone.abort();
    const w = waiter;
    waiter = null;
    w?.();
  });
  const nextMessage = async (): Promise<string | null> => {
    while (inbox.length === 0 && !closed) await new Promise<void>((r) => (waiter = r));
    return inbox.shift() ?? null;
  };

  let candidates = recordings.filter((r) => r.path === (u.pathname || '/'));
  if (candidates.length === 0) {
    ws.close(1008, `no recorded connection to ${u.pathname}`);
    return;
  }
  let wanted: Set<string> | null = null;
  const streamsParam = u.searchParams.get('streams');
  if (streamsParam !== null) {
    wanted = new Set(streamsParam.split('/'));
    candidates = candidates.filter((r) => r.streams !== null && [...wanted!].every((s) => r.streams!.has(s)));
    if (candidates.length === 0) {
      ws.close(1008, 'streams not in the recording');
      return;
    }
  }
  let rec = candidates[0]!;
  let consumedFirst = false;
  if (candidates.length > 1 && candidates.some((r) => r.firstSent !== null)) {
    const first = await nextMessage();
    if (first === null) return;
    const match = candidates.find((r) => r.firstSent === canonical(first));
    if (match === undefined) {
      ws.close(1008, 'no recorded connection sent this first message');
      return;
    }
    rec = match;
    consumedFirst = true;
  }

  // Replay clock: wall ns = baseWall + (capture ns - baseCapture) / speed, re-based after each wait.
  let baseWall = wallClockNs();
  let baseCapture = rec.connectNs;
  let sinceYield = 0;
  for (const step of rec.steps) {
    if (closed) return;
    if (step.kind === 'send') {
      if (consumedFirst) consumedFirst = false;
      else if ((await nextMessage()) === null) return;
      baseWall = wallClockNs();
      baseCapture = step.timeNs;
      continue;
    }
    if (wanted !== null && step.stream !== null && !wanted.has(step.stream)) continue;
    if (speed > 0) {
      const dueNs = baseWall + BigInt(Math.round(Number(step.timeNs - baseCapture) / speed));
      const waitMs = Number(dueNs - wallClockNs()) / 1e6;
      if (waitMs >= 1) {
        try {
          await sleep(waitMs, undefined, { signal: gone.signal });
        } catch {
          return;
        }
      }
    }
    if (closed) return;
    if (clock.nowNs === null || step.timeNs > clock.nowNs) clock.nowNs = step.timeNs;
    // Backpressure: now and then (and whenever the socket is backed up) wait until a frame is written,
    // rather than buffer a whole capture in memory; it also lets the event loop breathe at 'max'.
    if (ws.bufferedAmount > 4 * 1024 * 1024 || ++sinceYield >= 256) {
      sinceYield = 0;
      await new Promise<void>((resolve) => ws.send(step.text, () => resolve()));
    } else ws.send(step.text);
  }
  if (!closed) ws.close(1000, 'end of capture');
}

function restKey(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

/** The same URL with its query parameters in sorted order, so parameter order does not matter. */
function sortedKey(key: string): string {
  const u = new URL(key, 'http://x');
  u.searchParams.sort();
  return `${u.pathname}${u.search}`;
}

function canonical(text: string): string {
  try {
    return canonicalJson(JSON.parse(text));
  } catch {
    return text;
  }
}
