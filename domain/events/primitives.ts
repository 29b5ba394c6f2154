/**
 * Field schemas shared by the catalogue. In memory, ticks and lots are safe integers, money and
 * times are bigint; in JSON, bigint travels as a decimal string and is parsed back exactly.
 */
import { z } from 'zod';

/** A safe-integer mantissa: price in ticks or quantity in lots at the instrument's scale. */
export const ticks = z.int();
export const lots = z.int().nonnegative();
export const signedLots = z.int();
/** Decimal scale (decimal places) of a mantissa. */
export const scale = z.int().min(0).max(18);
/** A bigint mantissa; JSON carries it as a string of digits. */
export const bigMantissa = z.union([z.bigint(), z.string().regex(/^-?\d+$/, 'expected an integer string').transform((s) => BigInt(s))]);
/** Nanoseconds (since the Unix epoch unless a field says otherwise), bigint in memory. */
export const timeNs = z.union([
  z.bigint(),
  z.string().regex(/^-?\d+$/, 'expected integer nanoseconds').transform((s) => BigInt(s)),
  z.int().transform((n) => BigInt(n)),
]);
export const side = z.enum(['buy', 'sell']);
export type Side = z.infer<typeof side>;
export const nonEmpty = z.string().min(1);
/** Identifies an instrument at a venue: `BINANCE:BTCUSDT`, `NASDAQ:AAPL`. */
export const instrumentId = z.string().regex(/^[A-Z0-9_.-]+:[^\s:]+$/, 'expected VENUE:SYMBOL');
export const venue = z.string().regex(/^[A-Z0-9_.-]+$/, 'expected an upper-case venue code');
export const currency = z.string().min(1).max(16);

export function instrumentKey(venueCode: string, symbol: string): string {
  return `${venueCode}:${symbol}`;
}
