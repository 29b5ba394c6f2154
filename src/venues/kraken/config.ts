/** Kraken spot (websocket v1) settings (zod, strict keys). Defaults are the public production endpoints. */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

export const KrakenConfig = configObject({
  wsUrl: z.url({ protocol: /^wss?$/ }).default('wss://ws.kraken.com'),
  /** REST base for AssetPairs (instrument scales). */
  restUrl: z.url({ protocol: /^https?$/ }).default('https://api.kraken.com'),
  /** Websocket pair names, as Kraken writes them: `XBT/USD`. */
  pairs: z.array(z.string().regex(/^[A-Z0-9.]+\/[A-Z0-9.]+$/, 'a Kraken websocket pair such as XBT/USD')).max(1024).default([]),
  /** Channels to subscribe. */
  channels: z.array(z.enum(['trade', 'ticker', 'book'])).min(1).default(['trade', 'ticker', 'book']),
  /** Book depth for the `book` channel (Kraken offers 10, 25, 100, 500, 1000). */
  bookDepth: z.union([z.literal(10), z.literal(25), z.literal(100), z.literal(500), z.literal(1000)]).default(10),
});
export type KrakenConfig = z.output<typeof KrakenConfig>;
