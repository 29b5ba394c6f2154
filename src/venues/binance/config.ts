/**
 * Binance spot settings (zod, strict keys). Defaults are the public production endpoints; a test or a
 * paper run points them at a loopback server instead.
 */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

export const BinanceConfig = configObject({
  /** Combined-stream websocket base (`/stream?streams=...` is appended from `streams`). */
  wsUrl: z.url({ protocol: /^wss?$/ }).default('wss://stream.binance.com:9443/stream'),
  /** REST base for depth snapshots and exchangeInfo. */
  restUrl: z.url({ protocol: /^https?$/ }).default('https://api.binance.com'),
  /** Streams to subscribe, as Binance names them: `btcusdt@depth@100ms`, `btcusdt@aggTrade`, `btcusdt@bookTicker`. */
  streams: z.array(z.string().regex(/^[a-z0-9]+@[A-Za-z0-9_@]+$/, 'a Binance stream name such as btcusdt@aggTrade')).max(1024).default([]),
  /** Levels asked of /api/v3/depth (Binance allows up to 5000). */
  depthLimit: z.int().min(1).max(5000).default(1000),
  /** GET /api/v3/exchangeInfo first, for real tick and lot sizes. */
  fetchExchangeInfo: z.boolean().default(false),
  /** Execution on the production endpoints (restUrl left at its default) must be asked for. */
  confirmLive: z.boolean().default(false),
});
export type BinanceConfig = z.output<typeof BinanceConfig>;

/** The combined-stream URL for the configured streams. */
export function binanceStreamUrl(config: BinanceConfig): string {
  return `${config.wsUrl}?streams=${config.streams.join('/')}`;
}
