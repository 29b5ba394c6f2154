/**
 * Alpaca settings (zod, strict keys). Defaults are the paper endpoints (trading API v2, the trade_updates
 * stream, the IEX market-data stream); a test points them at the simulated Alpaca on loopback.
 * Credentials are not config: ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY come from the shell (credentials.ts).
 */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

export const ALPACA = 'ALPACA';

/** An equity symbol as Alpaca writes it (AAPL, BRK.B). */
const symbol = z.string().regex(/^[A-Z][A-Z0-9.]{0,11}$/, 'an equity symbol such as AAPL or BRK.B');
const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal number such as 0.01');

export const AlpacaConfig = configObject({
  /** Trading REST base (the /v2 routes are appended). Paper by default; live is https://api.alpaca.markets. */
  restUrl: z.url({ protocol: /^https?$/ }).default('https://paper-api.alpaca.markets'),
  /** The trade_updates stream (paper sends binary frames, live text frames: both are read). */
  tradeStreamUrl: z.url({ protocol: /^wss?$/ }).default('wss://paper-api.alpaca.markets/stream'),
  /** Market-data stream v2 (`/v2/iex` or `/v2/sip`). */
  dataStreamUrl: z.url({ protocol: /^wss?$/ }).default('wss://stream.data.alpaca.markets/v2/iex'),
  /** Symbols traded and subscribed (trades, quotes, bars). */
  symbols: z.array(symbol).max(30).default([]),
  /** Bars subscribed too (minute bars, `b`). */
  bars: z.boolean().default(true),
  /** Decimals of every price (Alpaca prices stocks at $1+ in cents and below $1 in 1/100 cents). */
  priceScale: z.int().min(0).max(9).default(4),
  /** Decimals of quantities (0: whole shares; fractional trading takes up to 9). */
  qtyScale: z.int().min(0).max(9).default(0),
  /** Smallest price increment of an order (Alpaca refuses sub-penny limit prices at $1 and above). */
  tickSize: decimal.default('0.01'),
  /** Alpaca has no post-only orders: with true, a post-only order goes out as a plain limit order; false refuses it. */
  postOnlyAsLimit: z.boolean().default(false),
  /** Execution on the live endpoints (restUrl https://api.alpaca.markets) must be asked for. */
  confirmLive: z.boolean().default(false),
});
export type AlpacaConfig = z.output<typeof AlpacaConfig>;

/** The config for a simulated (or any) Alpaca whose REST and both streams live at one base URL. */
export function alpacaConfigAt(baseUrl: string, rest: Partial<z.input<typeof AlpacaConfig>> = {}): z.input<typeof AlpacaConfig> {
  const u = new URL(baseUrl);
  const ws = `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}`;
  return { ...rest, restUrl: `${u.protocol}//${u.host}`, tradeStreamUrl: `${ws}/stream`, dataStreamUrl: `${ws}/v2/iex` };
}
