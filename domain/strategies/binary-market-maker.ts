/**
 * Binary-outcome market maker (Polymarket, Kalshi): quotes a bid on the YES token and a bid on the NO
 * token of one market. A YES bid at p is the same liquidity as a NO ask at 1 - p, so two bids make a
 * two-sided market, and every YES lot bought with a NO lot is a complete set worth exactly 1 at
 * resolution. The complete-set constraint keeps that profitable: YES bid + NO bid ≤ 1 - `minEdgeTicks`,
 * always (a pair of fills can never cost 1 or more).
 *
 * Fair value of YES: the mid of the YES book, or 1 - the mid of the NO book, or their average when both
 * are two-sided. Quotes sit `halfSpreadTicks` below fair on each side and shift against the net exposure
 * (YES lots - NO lots: complete sets net out): long YES exposure lowers the YES bid and raises the NO
 * bid, so fills bring the exposure back. A side whose fill would take the exposure past
 * `maxExposureLots`, or a token past `maxPositionLots`, is not quoted (a live quote there is canceled).
 * Quotes are post-only, never cross their own book, stay within one tick of 0 and 1, and are replaced
 * when the target moves by at least `requoteThresholdTicks`.
 *
 * Prices are in ticks of `priceScale` (1 = 10^priceScale ticks); both tokens share the scales.
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import { instrumentId, scale, timeNs, venue } from '../events/primitives.js';
import { bestAskTicks, bestBidTicks, type MarketView } from '../market/book.js';
import type { StrategyCommand } from '../orders/commands.js';
import { byTag, newOwnOrders, nextActionAfter, trackOwnOrder, type OwnOrders } from './own-orders.js';
import { marketInstrument, NO_COMMANDS, type Strategy } from './strategy.js';

export const binaryMarketMakerParams = configObject({
  venue,
  yes: instrumentId,
  no: instrumentId,
  priceScale: scale.refine((s) => s >= 1 && s <= 6, 'a probability scale: 1 to 6 decimals'),
  qtyScale: scale,
  quoteQtyLots: z.int().positive().default(1),
  halfSpreadTicks: z.int().positive().default(2),
  /** YES bid + NO bid ≤ 1 - minEdgeTicks: what a complete set bought from our two quotes earns at least. */
  minEdgeTicks: z.int().positive().default(2),
  /** Quotes shift by skewTicks for every skewPerLots lots of net exposure. */
  skewTicks: z.int().min(0).default(1),
  skewPerLots: z.int().positive().default(1),
  maxExposureLots: z.int().positive().default(10),
  maxPositionLots: z.int().positive().default(50),
  requoteThresholdTicks: z.int().positive().default(1),
  minActionIntervalNs: timeNs.default(0n),
  backoffNs: timeNs.default(1_000_000n),
}).refine((p) => p.yes !== p.no, { message: 'yes and no must be different instruments', path: ['no'] });
export type BinaryMarketMakerParams = z.output<typeof binaryMarketMakerParams>;

export interface BinaryMarketMakerState {
  p: BinaryMarketMakerParams;
  /** Lots held of each token (bought; this strategy only buys). */
  yesLots: number;
  noLots: number;
  orders: OwnOrders;
  nextActionNs: bigint;
}

const YES = 'bmm-yes';
const NO = 'bmm-no';

/** 1 in ticks. */
function one(p: BinaryMarketMakerParams): number {
  return 10 ** p.priceScale;
}

function mid(market: MarketView, instrument: string): number | null {
  const b = bestBidTicks(market, instrument);
  const a = bestAskTicks(market, instrument);
  if (b === null || a === null || a <= b) return null;
  return (b + a) / 2;
}

/** Fair value of YES in ticks (may be a half tick), or null when neither book is two-sided. */
export function fairYesTicks(p: BinaryMarketMakerParams, market: MarketView): number | null {
  const y = mid(market, p.yes);
  const n = mid(market, p.no);
  if (y !== null && n !== null) return (y + one(p) - n) / 2;
  if (y !== null) return y;
  if (n !== null) return one(p) - n;
  return null;
}

/**
 * The two bids in ticks for a fair value and a net exposure (YES - NO lots), before the books' own
 * asks are considered: YES within [1, one - 1], NO at most one - 1 (below 1: not quoted), and their
 * sum ≤ one - minEdgeTicks.
 */
export function targetBids(p: BinaryMarketMakerParams, fairYes: number, exposureLots: number): { yes: number; no: number } {
  const o = one(p);
  const skew = Math.trunc(exposureLots / p.skewPerLots) * p.skewTicks;
  let yes = Math.floor(fairYes - p.halfSpreadTicks) - skew;
  let no = Math.floor(o - fairYes - p.halfSpreadTicks) + skew;
  const excess = yes + no - (o - p.minEdgeTicks);
  if (excess > 0) {
    // Take the excess from both sides, the odd tick from the side the exposure says to buy less of.
    const half = Math.floor(excess / 2);
    yes -= half;
    no -= half;
    if (excess % 2 === 1) {
      if (exposureLots > 0) yes -= 1;
      else no -= 1;
    }
  }
  yes = clamp(yes, 1, o - 1);
  // Raising a bid to the 1-tick floor must not break the constraint: the other side gives way (a side
  // below 1 tick is not quoted at all).
  no = Math.min(clamp(no, 1, o - 1), o - p.minEdgeTicks - yes);
  return { yes, no };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function sideCommand(s: BinaryMarketMakerState, isYes: boolean, target: number, market: MarketView): StrategyCommand | null {
  const p = s.p;
  const instrument = isYes ? p.yes : p.no;
  const tag = isYes ? YES : NO;
  const ask = bestAskTicks(market, instrument);
  // Post-only: never at or through the token's own best ask.
  const price = ask === null ? target : Math.min(target, ask - 1);
  const exposure = s.yesLots - s.noLots;
  const held = isYes ? s.yesLots : s.noLots;
  const after = isYes ? exposure + p.quoteQtyLots : exposure - p.quoteQtyLots;
  const allowed = price >= 1 && Math.abs(after) <= p.maxExposureLots && held + p.quoteQtyLots <= p.maxPositionLots;
  const o = byTag(s.orders, tag);
  if (!allowed) {
    return o !== undefined && o.phase === 'live' && !o.cancelPending && !o.replacePending ? { kind: 'CancelOrder', orderId: o.orderId, reason: 'exposure limit' } : null;
  }
  if (o === undefined) {
    return {
      kind: 'PlaceOrder', tag, venue: p.venue, instrument, side: 'buy', orderType: 'limit', priceTicks: price,
      qtyLots: p.quoteQtyLots, priceScale: p.priceScale, qtyScale: p.qtyScale, timeInForce: 'GTC', postOnly: true, reduceOnly: false,
    };
  }
  if (o.phase !== 'live' || o.cancelPending || o.replacePending || o.priceTicks === null) return null;
  if (Math.abs(o.priceTicks - price) < p.requoteThresholdTicks) return null;
  return { kind: 'ReplaceOrder', orderId: o.orderId, priceTicks: price, qtyLots: o.filledLots + p.quoteQtyLots };
}

export const binaryMarketMaker: Strategy<BinaryMarketMakerParams, BinaryMarketMakerState> = {
  name: 'binary-market-maker',
  description: 'bids YES and NO of one binary market around fair value, YES bid + NO bid below 1, skewed against net exposure',
  version: '1.0.0',
  params: binaryMarketMakerParams,
  initialState(p) {
    return { p, yesLots: 0, noLots: 0, orders: newOwnOrders(), nextActionNs: -(2n ** 62n) };
  },
  evolve(s, event) {
    if (marketInstrument(event) !== null) return s;
    const f = trackOwnOrder(s.orders, event);
    if (f !== null) {
      const signed = f.side === 'buy' ? f.qtyLots : -f.qtyLots;
      if (f.instrument === s.p.yes) s.yesLots += signed;
      else if (f.instrument === s.p.no) s.noLots += signed;
    }
    s.nextActionNs = nextActionAfter(event, s.nextActionNs, s.p.minActionIntervalNs, s.p.backoffNs);
    return s;
  },
  decide(s, event, market: MarketView) {
    const p = s.p;
    const instr = marketInstrument(event);
    if (instr !== p.yes && instr !== p.no && event.type !== 'OrderFilled') return NO_COMMANDS;
    if (event.eventTimeNs < s.nextActionNs) return NO_COMMANDS;
    const fair = fairYesTicks(p, market);
    if (fair === null) return NO_COMMANDS;
    const t = targetBids(p, fair, s.yesLots - s.noLots);
    const y = sideCommand(s, true, t.yes, market);
    const n = sideCommand(s, false, t.no, market);
    const out = y === null ? (n === null ? null : [n]) : n === null ? [y] : [y, n];
    return out ?? NO_COMMANDS;
  },
};
