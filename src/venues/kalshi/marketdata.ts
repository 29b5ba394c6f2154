/**
 * The live Kalshi market-data client (MarketDataClient): one signed websocket (the upgrade signs
 * GET/trade-api/ws/v2), subscribed to orderbook_delta and trade for the configured markets; frames go
 * through KalshiParser. A sequence gap (the parser names the subscription) is healed as Kalshi says: the
 * subscription is dropped (unsubscribe) and made again, and its fresh snapshots rebuild the books; until
 * then the parser applies nothing of it. A dropped socket ends the stream with an error (the live runner
 * reconnects with a new client).
 */
import WebSocket from 'ws';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { AsyncQueue } from '../common/async-queue.js';
import { wallClockNs } from '../common/clock.js';
import { closeSocket } from '../common/socket.js';
import type { MarketDataClient } from '../port.js';
import type { KalshiCredentials } from './credentials.js';
import { KalshiParser } from './parse.js';
import { KALSHI, WS_PATH } from './wire.js';

export interface KalshiMarketDataOptions {
  wsUrl: string;
  credentials: KalshiCredentials;
  tickers: string[];
  priceScale: number;
  qtyScale?: number;
  clock?: () => bigint;
  onLog?: (line: string) => void;
}

export class KalshiMarketDataClient implements MarketDataClient {
  readonly venue = KALSHI;
  readonly parser: KalshiParser;
  readonly stats = { frames: 0, gaps: 0, resubscribes: 0 };
  private ws: WebSocket | null = null;
  private readonly queue = new AsyncQueue<AnyEnvelope>({ highWaterMark: 100_000 });
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: KalshiMarketDataOptions) {
    this.parser = new KalshiParser({ priceScale: o.priceScale, ...(o.qtyScale !== undefined ? { qtyScale: o.qtyScale } : {}) });
  }

  events(): AsyncIterable<AnyEnvelope> {
    if (this.ws === null && !this.closed) this.open();
    return this.queue;
  }

  private open(): void {
    const ws = new WebSocket(this.o.wsUrl, { headers: { ...this.o.credentials.sign(Date.now(), 'GET', WS_PATH) } });
    this.ws = ws;
    ws.on('open', () => this.subscribe());
    ws.on('message', (m, isBinary) => {
      if (isBinary) return;
      this.stats.frames++;
      const body = new Uint8Array(m as Buffer);
      try {
        for (const e of this.parser.parseFrame(body, { file: this.o.wsUrl, line: this.stats.frames, receiveTimeNs: (this.o.clock ?? wallClockNs)() })) this.queue.push(e);
      } catch (e) {
        this.o.onLog?.(`Kalshi market frame ${this.stats.frames} skipped: ${e instanceof Error ? e.message : String(e)}`);
      }
      for (const gap of this.parser.takeGaps()) {
        this.stats.gaps++;
        this.o.onLog?.(`Kalshi orderbook sequence gap on subscription ${gap.sid} (expected ${gap.expectedSeq}, got ${gap.gotSeq}): resubscribing for a fresh snapshot`);
        this.resubscribe(gap.sid, gap.tickers);
      }
    });
    ws.once('unexpected-response', (_req, res) => this.queue.end(new Error(`Kalshi market stream refused: HTTP ${res.statusCode}`)));
    ws.once('error', (e) => this.queue.end(e));
    ws.once('close', () => {
      if (this.closed) this.queue.end();
      else this.queue.end(new Error('Kalshi market stream closed'));
    });
  }

  private subscribe(): void {
    this.ws?.send(JSON.stringify({ id: this.nextId++, cmd: 'subscribe', params: { channels: ['orderbook_delta', 'trade'], market_tickers: this.o.tickers } }));
  }

  private resubscribe(sid: number, tickers: string[]): void {
    this.stats.resubscribes++;
    this.parser.dropSid(sid);
    this.ws?.send(JSON.stringify({ id: this.nextId++, cmd: 'unsubscribe', params: { sids: [sid] } }));
    this.ws?.send(JSON.stringify({ id: this.nextId++, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_tickers: tickers.length > 0 ? tickers : this.o.tickers } }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ws) await closeSocket(this.ws);
    this.queue.end();
  }
}
