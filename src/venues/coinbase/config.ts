/** Coinbase Exchange settings (zod, strict keys). Defaults are the public production endpoints. */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

export const CoinbaseConfig = configObject({
  wsUrl: z.url({ protocol: /^wss?$/ }).default('wss://ws-feed.exchange.coinbase.com'),
  /** REST base for /products (instrument scales). */
  restUrl: z.url({ protocol: /^https?$/ }).default('https://api.exchange.coinbase.com'),
  /** Product ids: `BTC-USD`. */
  products: z.array(z.string().regex(/^[A-Z0-9]+-[A-Z0-9]+$/, 'a Coinbase product id such as BTC-USD')).max(1024).default([]),
  channels: z.array(z.enum(['level2', 'matches', 'ticker', 'heartbeat'])).min(1).default(['level2', 'matches', 'ticker']),
});
export type CoinbaseConfig = z.output<typeof CoinbaseConfig>;
