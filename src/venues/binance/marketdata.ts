/**
 * The live Binance market-data client: a combined-stream websocket (the `ws` package) plus the REST
 * depth snapshot, fed through the same parser and book procedure as capture replay. Pointed at the
 * capture replay server (src/venues/cryptofeed/replay-server.ts) it is how paper trading runs: the real
 * adapter, over a real socket, on recorded traffic.
 *
 * Determinism: events come out in websocket frame order, with REST snapshots placed by the book
 * procedure (see depth-sequencer.ts), so against a replay server it yields exactly what
 * captureEventSource yields from the file (ids, order, payloads, raw bytes; only receive times differ).
 *
 * Failure: a frame the parser rejects ends the stream with its TapedeckError (`onBadFrame: 'stop'`, the
 * default) or is reported to `onIssue` and skipped. A failed REST snapshot is reported in the stream as
 * a BookAnomalyReported (`snapshot-unavailable`) and the symbol stays unsynced. A connection that closes
 * normally (code 1000, as the replay server does at the end of a capture) ends the stream; any other
 * close or error ends it with a FEED_CLOSED error. There is no automatic reconnection: the runtime
 * decides (a reconnect is a new client, and the book procedure starts over with a new snapshot).
 */
import type WebSocket from 'ws';
import { TapedeckError, isTapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { MarketDataClient } from '../port.js';
import { closeSocket } from '../common/socket.js';
import { AsyncQueue } from '../common/async-queue.js';
import { wallClockNs } from '../common/clock.js';
import { loadWs } from '../common/ws.js';
import type { FrameContext } from '../common/frame.js';
import type { FeedIssue } from '../common/json-feed-client.js';
import { BinanceParser, binanceDepthUrl } from './parse.js';
import { BinanceDepthSequencer } from './depth-sequencer.js';

export interface BinanceMarketDataOptions {
  /** The combined-stream URL, e.g. wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade */
  wsUrl: string;
  /** REST base for depth snapshots and exchangeInfo, e.g. https://api.binance.com */
  restUrl: string;
  /** Levels asked of /api/v3/depth (Binance allows up to 5000). */
  depthLimit?: number;
  /** GET /api/v3/exchangeInfo first, for real tick and lot sizes (default false). */
  fetchExchangeInfo?: boolean;
  /** Run the book procedure (default true). */
  bookSync?: boolean;
  venue?: string;
  /** Receive clock, ns since the epoch. */
  clock?: () => bigint;
  onBadFrame?: 'stop' | 'skip';
  onIssue?: (issue: FeedIssue) => void;
  /** Events queued before the socket is paused (backpressure towards the venue). */
  highWaterMark?: number;
  httpTimeoutMs?: number;
}

export class BinanceMarketDataClient implements MarketDataClient {
  readonly venue: string;
  readonly parser: BinanceParser;
  readonly issues: FeedIssue[] = [];
  sequencer: BinanceDepthSequencer | null = null;
  private ws: WebSocket | null = null;
  private readonly queue: AsyncQueue<AnyEnvelope>;
  private readonly pending = new Set<Promise<void>>();
  private readonly clock: () => bigint;
  private started = false;
  private closing = false;
  private frameNo = 0;

  constructor(private readonly options: BinanceMarketDataOptions) {
    this.parser = new BinanceParser(options.venue !== undefined ? { venue: options.venue } : {});
    this.venue = this.parser.venue;
    this.clock = options.clock ?? wallClockNs;
    this.queue = new AsyncQueue<AnyEnvelope>({
      highWaterMark: options.highWaterMark ?? 10_000,
      onHigh: () => this.ws?.pause(),
      onLow: () => this.ws?.resume(),
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
    if (this.ws !== null) await closeSocket(this.ws);
    this.queue.end();
  }

  private async start(): Promise<void> {
    const o = this.options;
    if (o.fetchExchangeInfo) {
      const url = `${o.restUrl.replace(/\/+$/, '')}/api/v3/exchangeInfo`;
      const body = await this.get(url);
      this.parser.parseHttp(url, body, { file: url, line: 1, receiveTimeNs: this.clock() });
    }
    if (o.bookSync !== false) {
      const seq = new BinanceDepthSequencer({ requestSnapshot: (instrument) => this.fetchSnapshot(instrument) });
      this.sequencer = seq;
    }
    const { default: Socket } = await loadWs();
    if (this.closing) return;
    const ws = new Socket(o.wsUrl, { perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('error', (err) => {
      if (!this.queue.isEnded) this.queue.end(new TapedeckError('FEED_CLOSED', `Binance stream ${o.wsUrl}: ${err.message}`, { file: o.wsUrl, line: this.frameNo }));
    });
    ws.on('close', (code, reason) => void this.onClose(code, reason.toString()));
  }

  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.queue.isEnded) return;
    this.frameNo++;
    const ctx: FrameContext = { file: this.options.wsUrl, line: this.frameNo, receiveTimeNs: this.clock() };
    const body = toBytes(data);
    if (isBinary) {
      this.bad(ctx, new TapedeckError('FRAME_BINARY', 'Binance sent a binary frame; JSON text frames were expected', { file: ctx.file, line: ctx.line }));
      return;
    }
    let evs: AnyEnvelope[];
    try {
      evs = this.parser.parseFrame(body, ctx);
    } catch (e) {
      this.bad(ctx, e);
      return;
    }
    this.emit(evs);
  }

  private emit(evs: AnyEnvelope[]): void {
    const seq = this.sequencer;
    if (seq === null) {
      for (const e of evs) this.queue.push(e);
      return;
    }
    for (const e of evs) seq.push(e);
    for (const e of seq.take()) this.queue.push(e);
  }

  private bad(ctx: FrameContext, e: unknown): void {
    if (this.options.onBadFrame !== 'skip' || !isTapedeckError(e)) {
      this.queue.end(e);
      this.ws?.terminate();
      return;
    }
    const field = e.where?.field;
    const issue: FeedIssue = { code: e.code, message: e.message, file: ctx.file, line: ctx.line, ...(typeof field === 'string' ? { field } : {}) };
    this.issues.push(issue);
    this.options.onIssue?.(issue);
  }

  private fetchSnapshot(instrument: string): void {
    const seq = this.sequencer!;
    const symbol = instrument.slice(instrument.indexOf(':') + 1);
    const url = binanceDepthUrl(this.options.restUrl, symbol, this.options.depthLimit ?? 1000);
    const p = (async () => {
      let body: Uint8Array;
      try {
        body = await this.get(url);
      } catch (e) {
        seq.snapshotUnavailable(instrument, `GET ${url} failed: ${e instanceof Error ? e.message : String(e)}`);
        this.flush();
        return;
      }
      try {
        const evs = this.parser.parseHttp(url, body, { file: url, line: 1, receiveTimeNs: this.clock() });
        const snap = evs.find((e) => e.type === 'BookSnapshotted');
        if (snap?.type !== 'BookSnapshotted') throw new TapedeckError('FRAME_INVALID', `GET ${url} gave no depth snapshot`, { file: url });
        seq.deliverSnapshot(snap);
      } catch (e) {
        seq.snapshotUnavailable(instrument, isTapedeckError(e) ? e.describe() : String(e));
      }
      this.flush();
    })();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private flush(): void {
    if (this.sequencer !== null && !this.queue.isEnded) for (const e of this.sequencer.take()) this.queue.push(e);
  }

  private async onClose(code: number, reason: string): Promise<void> {
    // Snapshots in flight still belong before the end of the stream.
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.queue.isEnded) return;
    if (code === 1000 || this.closing) {
      if (this.sequencer !== null) {
        this.sequencer.end();
        this.flush();
      }
      this.queue.end();
    } else {
      this.queue.end(new TapedeckError('FEED_CLOSED', `Binance stream closed with code ${code}${reason ? ` (${reason})` : ''}`, { file: this.options.wsUrl, line: this.frameNo }));
    }
  }

  private async get(url: string): Promise<Uint8Array> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.options.httpTimeoutMs ?? 10_000) });
    const body = new Uint8Array(await res.arrayBuffer());
    if (!res.ok) {
      throw new TapedeckError('HTTP_STATUS', `GET ${url} answered ${res.status}: ${new TextDecoder().decode(body.subarray(0, 200))}`, { file: url });
    }
    return body;
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // A Buffer from ws may share a pooled ArrayBuffer: copy so kept raw bytes do not pin it.
  const out = new Uint8Array(data.length);
  out.set(data);
  return out;
}
