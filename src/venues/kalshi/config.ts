/**
 * Kalshi settings (zod, strict keys). Defaults are the public production endpoints. Credentials are not
 * settings: the key id and the private key's path come from the environment (credentials.ts).
 */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

const ticker = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a Kalshi market ticker');

export const KalshiConfig = configObject({
  /** REST base including the /trade-api/v2 prefix (what is signed starts there). */
  restUrl: z.url({ protocol: /^https?$/ }).default('https://api.elections.kalshi.com/trade-api/v2'),
  wsUrl: z.url({ protocol: /^wss?$/ }).default('wss://api.elections.kalshi.com/trade-api/ws/v2'),
  /** Markets to follow (order book, trades, fills, orders). */
  markets: z.array(ticker).max(200).default([]),
  /** Decimals of a price: 2 (cents) for linear_cent markets, 3 or 4 for finer price levels. */
  priceScale: z.int().min(2).max(4).default(2),
  /** Decimals of a quantity: 2 (Kalshi writes counts with 2), finer to share another venue's scale (Polymarket: 6). */
  qtyScale: z.int().min(2).max(6).default(2),
  /** Our request budget per second (Kalshi Basic: 10 writes/s, 20 reads/s). */
  requestsPerSecond: z.int().positive().max(100).default(10),
  /** Trading on the production endpoints must be asked for. */
  confirmLive: z.boolean().default(false),
});
export type KalshiConfig = z.output<typeof KalshiConfig>;
