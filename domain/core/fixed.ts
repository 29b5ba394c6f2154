/**
 * Exact fixed-point numbers. A value is an integer mantissa and a scale (number of decimal places):
 * mantissa 123450 at scale 4 is 12.3450. Prices and quantities on the hot path are safe integers
 * (`priceTicks`, `qtyLots`); money and products of price and quantity are bigint. No floats, ever.
 */
import { TapedeckError } from './errors.js';

export const MAX_SCALE = 18;

const DECIMAL_RE = /^(-)?(\d+)(?:\.(\d+))?$/;

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 36; i++, p *= 10n) POW10.push(p);

export function pow10(n: number): bigint {
  const p = POW10[n];
  if (p === undefined) throw new TapedeckError('FIXED_SCALE', `scale ${n} is out of range 0..36`);
  return p;
}

/** Parses a decimal string into a bigint mantissa at `scale`. Extra non-zero digits are an error, never rounded. */
export function parseDecimal(text: string, scale: number, field = 'value'): bigint {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new TapedeckError('FIXED_PARSE', `${field}: "${text}" is not a decimal number`, { field });
  const [, sign, whole, fracRaw = ''] = m;
  let frac = fracRaw;
  if (frac.length > scale) {
    const extra = frac.slice(scale);
    if (/[^0]/.test(extra)) {
      throw new TapedeckError('FIXED_PRECISION', `${field}: "${text}" has more than ${scale} decimal places`, { field });
    }
    frac = frac.slice(0, scale);
  }
  const mantissa = BigInt((whole ?? '0') + frac.padEnd(scale, '0'));
  return sign ? -mantissa : mantissa;
}

/** Parses a decimal string into a safe-integer mantissa (ticks or lots). */
export function parseDecimalToInt(text: string, scale: number, field = 'value'): number {
  const m = parseDecimal(text, scale, field);
  if (m > BigInt(Number.MAX_SAFE_INTEGER) || m < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new TapedeckError('FIXED_RANGE', `${field}: "${text}" at scale ${scale} exceeds the safe integer range`, { field });
  }
  return Number(m);
}

/** Formats a mantissa at `scale` as an exact decimal string with exactly `scale` decimals. */
export function formatDecimal(mantissa: bigint | number, scale: number): string {
  const m = typeof mantissa === 'bigint' ? mantissa : BigInt(mantissa);
  const neg = m < 0n;
  const digits = (neg ? -m : m).toString();
  if (scale === 0) return (neg ? '-' : '') + digits;
  const padded = digits.padStart(scale + 1, '0');
  const whole = padded.slice(0, padded.length - scale);
  const frac = padded.slice(padded.length - scale);
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/** Changes the scale of a mantissa; going down must be exact unless a rounding mode is given. */
export function rescale(mantissa: bigint, from: number, to: number, rounding: 'exact' | 'floor' | 'ceil' | 'half-even' = 'exact'): bigint {
  if (to >= from) return mantissa * pow10(to - from);
  const div = pow10(from - to);
  return divRound(mantissa, div, rounding);
}

/** Integer division with an explicit rounding mode. */
export function divRound(n: bigint, d: bigint, rounding: 'exact' | 'floor' | 'ceil' | 'half-even'): bigint {
  if (d === 0n) throw new TapedeckError('FIXED_DIV_ZERO', 'division by zero');
  let q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const negative = (n < 0n) !== (d < 0n);
  switch (rounding) {
    case 'exact':
      throw new TapedeckError('FIXED_INEXACT', `${n}/${d} is not exact`);
    case 'floor':
      return negative ? q - 1n : q;
    case 'ceil':
      return negative ? q : q + 1n;
    case 'half-even': {
      const twice = (r < 0n ? -r : r) * 2n;
      const ad = d < 0n ? -d : d;
      if (twice > ad || (twice === ad && (q & 1n) !== 0n)) q += negative ? -1n : 1n;
      return q;
    }
  }
}

/** Asserts an integer mantissa is a safe integer: the hot-path representation of ticks and lots. */
export function isSafeInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n);
}
