/**
 * Order amounts from price, size and tick size, rounded exactly as Polymarket's clob-client
 * (src/order-builder/helpers.ts: ROUNDING_CONFIG, getOrderRawAmounts, getMarketOrderRawAmounts) but in
 * exact rational arithmetic (bigint), never floats.
 *
 * clob-client's rules, per tick size `{price, size, amount}` decimals:
 *   0.1 → {1, 2, 3}   0.01 → {2, 2, 4}   0.001 → {3, 2, 5}   0.0001 → {4, 2, 6}
 *   limit:  price = roundNormal(price, price dp) (half up); shares = roundDown(size, size dp);
 *           BUY pays USDC = shares × price, SELL receives it.
 *   market: price = roundDown(price, price dp); q = roundDown(amount, size dp);
 *           BUY spends q USDC for q / price shares; SELL gives q shares for q × price USDC.
 *   the derived amount, when it has more than `amount` decimals: roundUp to amount+4 decimals, then,
 *   if it still has more than `amount`, roundDown to `amount` (the +4 step is clob-client's guard
 *   against float error; kept exactly so a value within 1e-(amount+4) below a boundary rounds up as
 *   there).
 * Both amounts are then integers of 1e-6 (collateral and outcome tokens have 6 decimals).
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { Side } from './signing.js';

export type TickSize = '0.1' | '0.01' | '0.001' | '0.0001';
export const TICK_SIZES: readonly TickSize[] = ['0.1', '0.01', '0.001', '0.0001'];

export interface RoundConfig { price: number; size: number; amount: number }

export const ROUNDING_CONFIG: Readonly<Record<TickSize, RoundConfig>> = Object.freeze({
  '0.1': { price: 1, size: 2, amount: 3 },
  '0.01': { price: 2, size: 2, amount: 4 },
  '0.001': { price: 3, size: 2, amount: 5 },
  '0.0001': { price: 4, size: 2, amount: 6 },
});

/** Token amounts have 6 decimals. */
export const TOKEN_DECIMALS = 6;

/** A non-negative rational n/d, d > 0. */
interface Q { n: bigint; d: bigint }

const TEN = 10n;
const pow10 = (k: number): bigint => TEN ** BigInt(k);

/** A decimal string (`0.56`, `.48`, `21`) as an exact rational; anything else is refused, naming the field. */
export function parseDecimal(s: string, field: string): Q {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (m === null || (m[1] === '' && (m[2] ?? '') === '') || s.length > 40) {
    throw new TapedeckError('POLYMARKET_AMOUNT', `${field} "${s}" is not a non-negative decimal number`, { field });
  }
  const frac = m[2] ?? '';
  return { n: BigInt(`${m[1] || '0'}${frac}`), d: pow10(frac.length) };
}

const mul = (a: Q, b: Q): Q => ({ n: a.n * b.n, d: a.d * b.d });
const div = (a: Q, b: Q): Q => ({ n: a.n * b.d, d: a.d * b.n });
/** Has at most k decimals. */
const fitsDecimals = (q: Q, k: number): boolean => (q.n * pow10(k)) % q.d === 0n;
const floorDiv = (a: bigint, b: bigint): bigint => a / b; // non-negative operands
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const roundDown = (q: Q, k: number): Q => (fitsDecimals(q, k) ? q : { n: floorDiv(q.n * pow10(k), q.d), d: pow10(k) });
const roundUp = (q: Q, k: number): Q => (fitsDecimals(q, k) ? q : { n: ceilDiv(q.n * pow10(k), q.d), d: pow10(k) });
/** Half up (clob-client: Math.round((x + EPSILON) · 10^k) / 10^k; positive values). */
const roundNormal = (q: Q, k: number): Q => (fitsDecimals(q, k) ? q : { n: floorDiv(2n * q.n * pow10(k) + q.d, 2n * q.d), d: pow10(k) });

function fixAmount(q: Q, cfg: RoundConfig): Q {
  if (fitsDecimals(q, cfg.amount)) return q;
  const up = roundUp(q, cfg.amount + 4);
  return fitsDecimals(up, cfg.amount) ? up : roundDown(up, cfg.amount);
}

/** q in 1e-6 units; q has at most 6 decimals here (amount ≤ 6, size ≤ 2). */
function toUnits(q: Q, field: string): bigint {
  if (!fitsDecimals(q, TOKEN_DECIMALS)) throw new TapedeckError('POLYMARKET_AMOUNT', `${field} has more than ${TOKEN_DECIMALS} decimals`, { field });
  return (q.n * pow10(TOKEN_DECIMALS)) / q.d;
}

export interface OrderAmounts {
  side: Side;
  /** What the maker gives, 1e-6 units: USDC for a BUY, outcome tokens for a SELL. */
  makerAmount: bigint;
  /** What the maker receives, 1e-6 units. */
  takerAmount: bigint;
}

function config(tickSize: string): RoundConfig {
  const c = ROUNDING_CONFIG[tickSize as TickSize];
  if (c === undefined) throw new TapedeckError('POLYMARKET_TICK', `tick size "${tickSize}" is not one of ${TICK_SIZES.join(', ')}`, { field: 'tickSize' });
  return c;
}

/** clob-client's priceValid: tick ≤ price ≤ 1 − tick. */
export function checkPrice(price: string, tickSize: string): void {
  config(tickSize);
  const p = parseDecimal(price, 'price');
  const t = parseDecimal(tickSize, 'tickSize');
  const lo = p.n * t.d >= t.n * p.d;
  const hi = p.n * t.d <= (t.d - t.n) * p.d;
  if (!lo || !hi) throw new TapedeckError('POLYMARKET_PRICE', `price ${price} is outside [${tickSize}, 1 - ${tickSize}]`, { field: 'price' });
}

/** A limit order of `size` shares at `price` (clob-client getOrderRawAmounts). */
export function limitOrderAmounts(side: Side, price: string, size: string, tickSize: string): OrderAmounts {
  const cfg = config(tickSize);
  const p = roundNormal(parseDecimal(price, 'price'), cfg.price);
  const shares = roundDown(parseDecimal(size, 'size'), cfg.size);
  const usdc = fixAmount(mul(shares, p), cfg);
  return side === 'BUY'
    ? { side, makerAmount: toUnits(usdc, 'makerAmount'), takerAmount: toUnits(shares, 'takerAmount') }
    : { side, makerAmount: toUnits(shares, 'makerAmount'), takerAmount: toUnits(usdc, 'takerAmount') };
}

/** A market order: BUY spends `amount` USDC, SELL sells `amount` shares, at worst `price` (getMarketOrderRawAmounts). */
export function marketOrderAmounts(side: Side, price: string, amount: string, tickSize: string): OrderAmounts {
  const cfg = config(tickSize);
  const p = roundDown(parseDecimal(price, 'price'), cfg.price);
  if (p.n === 0n) throw new TapedeckError('POLYMARKET_PRICE', `price ${price} rounds to 0 at tick ${tickSize}`, { field: 'price' });
  const q = roundDown(parseDecimal(amount, 'amount'), cfg.size);
  if (side === 'BUY') {
    const shares = fixAmount(div(q, p), cfg);
    return { side, makerAmount: toUnits(q, 'makerAmount'), takerAmount: toUnits(shares, 'takerAmount') };
  }
  const usdc = fixAmount(mul(q, p), cfg);
  return { side, makerAmount: toUnits(q, 'makerAmount'), takerAmount: toUnits(usdc, 'takerAmount') };
}
