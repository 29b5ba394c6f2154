/**
 * Exact position arithmetic with average cost. Money is bigint at the scale `priceScale + qtyScale`
 * (a price in ticks times a quantity in lots), so nothing is ever rounded except the one place average
 * cost must be split on a partial close, and there the rounding is booked so that
 *
 *     Σ (signed fill qty × fill price)  ==  costBasis − realizedPnl          (always, exactly)
 *
 * which is what makes cash conserved (tests check it with fast-check).
 */
import { divRound, formatDecimal, pow10 } from '../core/fixed.js';
import type { Side } from '../events/primitives.js';

/** An amount of money: a bigint mantissa at a decimal scale. */
export interface Money {
  amount: bigint;
  scale: number;
}

/** Adds `amount` at `scale` into `m` in place, widening m's scale when the amount is finer. Exact. */
export function addMoney(m: Money, amount: bigint, scale: number): void {
  if (scale > m.scale) {
    m.amount *= pow10(scale - m.scale);
    m.scale = scale;
    m.amount += amount;
  } else {
    m.amount += amount * pow10(m.scale - scale);
  }
}

/** `a` expressed at `scale` (≥ a.scale), exact. */
export function moneyAt(a: Money, scale: number): bigint {
  return a.amount * pow10(scale - a.scale);
}

export function formatMoney(m: Money): string {
  return formatDecimal(m.amount, m.scale);
}

export interface PositionCore {
  priceScale: number;
  qtyScale: number;
  /** Signed: long > 0, short < 0. */
  qtyLots: number;
  /** Σ signed qty × price of the lots still open, at scale priceScale + qtyScale. Negative when short. */
  costBasis: bigint;
  /** Realized P&L before fees, at scale priceScale + qtyScale, in the instrument's quote currency. */
  realizedPnl: bigint;
}

export function newPositionCore(priceScale: number, qtyScale: number): PositionCore {
  return { priceScale, qtyScale, qtyLots: 0, costBasis: 0n, realizedPnl: 0n };
}

/**
 * Applies a fill in place and returns the realized P&L it produced. A fill that crosses zero closes
 * the whole position (realizing all of its cost) and opens the rest at the fill price.
 */
export function applyFill(p: PositionCore, side: Side, qtyLots: number, priceTicks: number): bigint {
  const s = side === 'buy' ? 1 : -1;
  const px = BigInt(priceTicks);
  let remaining = qtyLots;
  let realized = 0n;
  const q = p.qtyLots;
  if (q !== 0 && (q > 0 ? -1 : 1) === s) {
    const open = q > 0 ? q : -q;
    const close = remaining < open ? remaining : open;
    // The share of cost that leaves with the closed lots; rounding lands in realized, keeping the identity.
    const removed = close === open ? p.costBasis : divRound(p.costBasis * BigInt(close), BigInt(open), 'half-even');
    realized = -BigInt(s * close) * px - removed;
    p.costBasis -= removed;
    p.qtyLots += s * close;
    remaining -= close;
  }
  if (remaining > 0) {
    p.costBasis += BigInt(s * remaining) * px;
    p.qtyLots += s * remaining;
  }
  p.realizedPnl += realized;
  return realized;
}

/** Unrealized P&L at a mark price, at scale priceScale + qtyScale. */
export function unrealizedPnl(p: PositionCore, markTicks: number): bigint {
  return BigInt(p.qtyLots) * BigInt(markTicks) - p.costBasis;
}

/**
 * Average cost of the open lots as an exact fraction of ticks (costBasis / qtyLots), or null when flat.
 * `averageCostDecimal` renders it at the price scale plus `extraDigits`, half-even.
 */
export function averageCost(p: PositionCore): { numerator: bigint; denominator: bigint } | null {
  if (p.qtyLots === 0) return null;
  return { numerator: p.costBasis, denominator: BigInt(p.qtyLots) };
}

export function averageCostDecimal(p: PositionCore, extraDigits = 4): string | null {
  const f = averageCost(p);
  if (f === null) return null;
  const mant = divRound(f.numerator * pow10(extraDigits), f.denominator, 'half-even');
  return formatDecimal(mant, p.priceScale + extraDigits);
}
