/**
 * Kalshi's numbers on the wire and ours. Kalshi writes money as fixed-point dollar strings (`*_dollars`, up to 6
 * decimals in answers, "0.5600") and counts as fixed-point strings with 2 decimals (`*_fp`, "10.00"); older
 * fields are integer cents and whole contracts. Here a price is ticks at the instrument's price scale (2 =
 * cents, the linear_cent markets; 3 or 4 for finer ones) and a count is lots at scale 2 (one contract = 100
 * lots). Strings are parsed exactly: a digit the scale cannot hold is an error, never rounded.
 *
 * Instruments: one per market, its YES contract, `KALSHI:<ticker>`. Kalshi's V2 order routes trade one book:
 * `bid` buys YES, `ask` sells YES (the same as buying NO at one − price), so a kernel buy is a bid and a sell
 * an ask. Our client order id comes from the intent id (`clientOrderIdFor`) and decodes back.
 */
import { formatDecimal, parseDecimal, pow10, rescale } from '../../../domain/core/fixed.js';
import { TapedeckError } from '../../../domain/core/errors.js';
import { clientOrderIdFor, orderIdFromClientId } from '../ccxt/normalize.js';

export const KALSHI = 'KALSHI';
/** The default qty scale (Kalshi writes counts with 2 decimals); a session may use a finer one (up to 6). */
export const QTY_SCALE = 2;
/** Lots in one contract at QTY_SCALE. */
export const CONTRACT_LOTS = 100;

/** Lots in one contract at `qtyScale`. */
export function contractLots(qtyScale: number): number {
  return 10 ** qtyScale;
}

/** Ticks in one cent at `priceScale` (the grid of linear_cent markets). */
export function centTicks(priceScale: number): number {
  return 10 ** (priceScale - 2);
}
export const DEFAULT_PRICE_SCALE = 2;
export const REST_PREFIX = '/trade-api/v2';
export const WS_PATH = '/trade-api/ws/v2';

export function kalshiInstrumentId(ticker: string): string {
  return `${KALSHI}:${ticker}`;
}

export function tickerOf(instrument: string): string {
  if (!instrument.startsWith(`${KALSHI}:`)) throw new TapedeckError('UNKNOWN_INSTRUMENT', `${instrument} is not a Kalshi instrument (KALSHI:<ticker>)`, { field: 'instrument' });
  return instrument.slice(KALSHI.length + 1);
}

/** A dollar string ("0.5600", "0.56", "1") → ticks at `scale`. */
export function dollarsToTicks(text: string, scale: number, field: string): number {
  const m = parseDecimal(text, scale, field);
  if (m < 0n || m > pow10(scale)) throw new TapedeckError('FIXED_RANGE', `${field}: "${text}" is not a price between 0 and 1 dollar`, { field });
  return Number(m);
}

/** Legacy integer cents → ticks at `scale` (scale ≥ 2). */
export function centsToTicks(cents: number, scale: number, field: string): number {
  if (!Number.isInteger(cents) || cents < 0 || cents > 100) throw new TapedeckError('FIXED_RANGE', `${field}: ${cents} is not a price in cents 0..100`, { field });
  return cents * Number(pow10(scale - 2));
}

export function ticksToDollars(ticks: number, scale: number): string {
  // Requests take 2-4 decimals: four always.
  return formatDecimal(BigInt(ticks) * pow10(Math.max(0, 4 - scale)), Math.max(4, scale));
}

/** A count string ("10.00", "-54.00", "10") → lots at `qtyScale` (signed allowed). */
export function countToLots(text: string, field: string, qtyScale = QTY_SCALE): number {
  const m = parseDecimal(text, qtyScale, field);
  if (m > BigInt(Number.MAX_SAFE_INTEGER) || m < -BigInt(Number.MAX_SAFE_INTEGER)) throw new TapedeckError('FIXED_RANGE', `${field}: "${text}" is out of range`, { field });
  return Number(m);
}

/** Lots at `qtyScale` → a count string with Kalshi's 2 decimals (exact: a finer count is an error). */
export function lotsToCount(lots: number, qtyScale = QTY_SCALE): string {
  return formatDecimal(rescale(BigInt(lots), qtyScale, QTY_SCALE, 'exact'), QTY_SCALE);
}

/** Money (fees, costs) as a dollar string → mantissa at scale 6 (the finest Kalshi writes). */
export function dollarsToMicros(text: string, field: string): bigint {
  return parseDecimal(text, 6, field);
}

/** Our client order id for the n-th venue order of a kernel order (n = amends so far). */
export function kalshiClientOrderId(orderId: string, amends = 0): string {
  return clientOrderIdFor('kalshi', orderId, amends);
}

/** The kernel order id and amend count behind a client order id of ours, or null. */
export function orderIdFromKalshiClientId(clientOrderId: string | null | undefined): { orderId: string; amends: number } | null {
  const r = orderIdFromClientId(clientOrderId);
  return r === null ? null : { orderId: r.orderId, amends: r.replaceCount };
}

/** Our fill id for a Kalshi fill (fill_id; trade_id is its legacy name). */
export function kalshiFillId(fillId: string): string {
  return `${KALSHI}:${fillId}`;
}
