/**
 * A live MarketDataClient for venues whose feed is JSON over websocket with subscribe messages and
 * REST metadata (Kraken, Coinbase): fetch the metadata, open each connection, send its subscriptions,
 * parse every frame with the venue parser. Several connections are merged in arrival order (each
 * connection's own order is kept; across connections the order is the network's).
 *
 * Failure is as in the Binance client: a rejected frame ends the stream (or is skipped and reported
 * with `onBadFrame: 'skip'`), a non-1000 close ends it with FEED_CLOSED, no automatic reconnection.
 */
import type WebSocket from 'ws';
import { TapedeckError, isTapedeckError, type TapedeckErrorCode } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { MarketDataClient } from '../port.js';
import { AsyncQueue } from './async-queue.js';
import { closeSocket } from './socket.js';
import { wallClockNs } from './clock.js';
import { loadWs } from './ws.js';
import type { FrameContext, VenueParser } from './frame.js';

export interface JsonFeedConnection {
  url: string;
  /** Messages sent once the socket is open, in order. */
  subscribe: string[];
}

export interface FeedIssue {
  code: TapedeckErrorCode;
  message: string;
  file: string;
  line: number;
  field?: string;
}

export interface JsonFeedOptions {
  parser: VenueParser;
  connections: JsonFeedConnection[];
  /** REST GETs made first (instrument metadata), answers given to parser.parseHttp. */
  metadataUrls: string[];
  clock?: () => bigint;
  onBadFrame?: 'stop' | 'skip';
  onIssue?: (issue: FeedIssue) => void;
  highWaterMark?: number;
  httpTimeoutMs?: number;
}

export class JsonFeedMarketDataClient implements MarketDataClient {
  readonly venue: string;
  readonly issues: FeedIssue[] = [];
  private readonly sockets: WebSocket[] = [];
  private readonly queue: AsyncQueue<AnyEnvelope>;
  private readonly clock: () => bigint;
  private started = false;
  private closing = false;
  private open = 0;

  constructor(private readonly options: JsonFeedOptions) {
    if (options.connections.length === 0) throw new TapedeckError('FEED_CONFIG', 'no connection to open', { field: 'connections' });
    this.venue = options.parser.venue;
    this.clock = options.clock ?? wallClockNs;
    this.queue = new AsyncQueue<AnyEnvelope>({
      highWaterMark: options.highWaterMark ?? 10_000,
      onHigh: () => this.sockets.forEach((s) => s.pause()),
      onLow: () => this.sockets.forEach((s) => s.resume()),
    });
  }

  events(): AsyncIterable<AnyEnvelope> {
    if (!this.started) {
      this.started = true;
      this.start().catch((e) => this.queue.end(e));
    }
    return this.queue;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.sockets.map(closeSocket));
    this.queue.end();
  }

  private async start(): Promise<void> {
    for (const url of this.options.metadataUrls) {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 10_000) });
      const body = new Uint8Array(await res.arrayBuffer());
      if (!res.ok) throw new TapedeckError('HTTP_STATUS', `GET ${url} answered ${res.status}`, { file: url });
      this.options.parser.parseHttp(url, body, { file: url, line: 1, receiveTimeNs: this.clock() });
    }
    const { default: Socket } = await loadWs();
    if (this.closing) return;
    for (const c of this.options.connections) this.connect(c, Socket);
  }

  private connect(c: JsonFeedConnection, Socket: typeof WebSocket): void {
    const ws = new Socket(c.url, { perMessageDeflate: false });
    this.sockets.push(ws);
    this.open++;
    let frameNo = 0;
    ws.on('open', () => {
      for (const m of c.subscribe) ws.send(m);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.queue.isEnded) return;
      frameNo++;
      const ctx: FrameContext = { file: c.url, line: frameNo, receiveTimeNs: this.clock() };
      const body = Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : data instanceof ArrayBuffer ? new Uint8Array(data) : Uint8Array.from(data);
      try {
        for (const e of this.options.parser.parseFrame(body, ctx)) this.queue.push(e);
      } catch (e) {
        if (this.options.onBadFrame !== 'skip' || !isTapedeckError(e)) {
          this.queue.end(e);
          for (const s of this.sockets) s.terminate();
          return;
        }
        const field = e.where?.field;
        const issue: FeedIssue = { code: e.code, message: e.message, file: ctx.file, line: ctx.line, ...(typeof field === 'string' ? { field } : {}) };
        this.issues.push(issue);
        this.options.onIssue?.(issue);
      }
    });
    ws.on('error', (err) => {
      if (!this.queue.isEnded) this.queue.end(new TapedeckError('FEED_CLOSED', `${this.venue} stream ${c.url}: ${err.message}`, { file: c.url, line: frameNo }));
    });
    ws.on('close', (code, reason) => {
      this.open--;
      if (this.queue.isEnded) return;
      if (code !== 1000 && !this.closing) {
        this.queue.end(new TapedeckError('FEED_CLOSED', `${this.venue} stream closed with code ${code}${reason.length ? ` (${reason.toString()})` : ''}`, { file: c.url, line: frameNo }));
        return;
      }
      if (this.open === 0) {
        for (const e of this.options.parser.flush?.() ?? []) this.queue.push(e);
        this.queue.end();
      }
    });
  }
}
