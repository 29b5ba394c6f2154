/**
 * Inventory-skewed market maker: quotes one bid and one ask around the mid, shifted against its
 * inventory (long → both quotes lower, so it sells more readily than it buys), and stops quoting the
 * side that would push inventory past its limit. Quotes are post-only limit orders that it replaces
 * when the target moves by at least `requoteThresholdTicks`. An optional size jitter, drawn from the
 * seeded PRNG in state, shows how a strategy uses randomness without losing determinism.
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import { nextInt, seedPrng, type PrngState } from '../core/prng.js';
import { instrumentId, scale, timeNs, venue } from '../events/primitives.js';
import { bestAskTicks, bestBidTicks, type MarketView } from '../market/book.js';
import type { StrategyCommand } from '../orders/commands.js';
import { byTag, newOwnOrders, nextActionAfter, trackOwnOrder, type OwnOrders } from './own-orders.js';
import { marketInstrument, NO_COMMANDS, type Strategy } from './strategy.js';

export const marketMakerParams = configObject({
  venue,
  instrument: instrumentId,
  priceScale: scale,
  qtyScale: scale,
  quoteQtyLots: z.int().positive().default(1),
  /** Extra lots, uniform in [0, sizeJitterLots], added to each new quote (seeded). */
  sizeJitterLots: z.int().min(0).default(0),
  halfSpreadTicks: z.int().positive().default(2),
  /** Quotes shift by skewTicks for every skewPerLots lots of inventory. */
  skewTicks: z.int().min(0).default(1),
  skewPerLots: z.int().positive().default(1),
  maxInventoryLots: z.int().positive().default(10),
  requoteThresholdTicks: z.int().positive().default(1),
  /** Minimum event time between two order actions. */
  minActionIntervalNs: timeNs.default(0n),
  /** After a refusal (risk denial, venue reject), wait this long before acting again: no retry storm. */
  backoffNs: timeNs.default(1_000_000n),
});
export type MarketMakerParams = z.output<typeof marketMakerParams>;

export interface MarketMakerState {
  p: MarketMakerParams;
  inventoryLots: number;
  orders: OwnOrders;
  rng: PrngState;
  /** Pre-drawn jitter for the next new quote (drawn in evolve, so decide stays pure). */
  nextJitterLots: number;
  /** Earliest event time of the next action (last action + interval): a compare, not a bigint subtraction, per event. */
  nextActionNs: bigint;
}

const BID = 'mm-bid';
const ASK = 'mm-ask';

function draw(s: MarketMakerState): number {
  return s.p.sizeJitterLots > 0 ? nextInt(s.rng, s.p.sizeJitterLots + 1) : 0;
}

/** Target quotes in ticks for the current book and inventory, or null when the book is one-sided. */
export function targetQuotes(p: MarketMakerParams, inventoryLots: number, bid: number | null, ask: number | null): { bid: number; ask: number } | null {
  if (bid === null || ask === null || ask <= bid) return null;
  return { bid: targetPrice(p, inventoryLots, bid, ask, true), ask: targetPrice(p, inventoryLots, bid, ask, false) };
}

/** One side's target (no allocation: decide runs on every market event). The book must be two-sided. */
function targetPrice(p: MarketMakerParams, inventoryLots: number, bid: number, ask: number, isBid: boolean): number {
  const mid = Math.floor((bid + ask) / 2);
  // Truncate toward zero so a small inventory does not skew at all.
  const center = mid - Math.trunc(inventoryLots / p.skewPerLots) * p.skewTicks;
  // Post-only quotes must not cross the book.
  return isBid ? Math.min(center - p.halfSpreadTicks, ask - 1) : Math.max(center + p.halfSpreadTicks, bid + 1);
}

/** The command for one side, or null. */
function sideCommand(s: MarketMakerState, isBid: boolean, bid: number, ask: number): StrategyCommand | null {
  const p = s.p;
  const tag = isBid ? BID : ASK;
  const target = targetPrice(p, s.inventoryLots, bid, ask, isBid);
  const allowed = isBid ? s.inventoryLots + p.quoteQtyLots <= p.maxInventoryLots : s.inventoryLots - p.quoteQtyLots >= -p.maxInventoryLots;
  const o = byTag(s.orders, tag);
  if (!allowed) {
    return o !== undefined && o.phase === 'live' && !o.cancelPending ? { kind: 'CancelOrder', orderId: o.orderId, reason: 'inventory limit' } : null;
  }
  if (o === undefined) {
    return {
      kind: 'PlaceOrder', tag, venue: p.venue, instrument: p.instrument, side: isBid ? 'buy' : 'sell', orderType: 'limit', priceTicks: target,
      qtyLots: p.quoteQtyLots + s.nextJitterLots, priceScale: p.priceScale, qtyScale: p.qtyScale,
      timeInForce: 'GTC', postOnly: true, reduceOnly: false,
    };
  }
  if (o.phase !== 'live' || o.cancelPending || o.replacePending || o.priceTicks === null) return null;
  if (Math.abs(o.priceTicks - target) < p.requoteThresholdTicks) return null;
  return { kind: 'ReplaceOrder', orderId: o.orderId, priceTicks: target, qtyLots: o.filledLots + p.quoteQtyLots };
}

export const marketMaker: Strategy<MarketMakerParams, MarketMakerState> = {
  name: 'market-maker',
  description: 'quotes both sides around the mid, skewed against inventory, within an inventory limit',
  version: '1.0.0',
  params: marketMakerParams,
  initialState(p, seed) {
    const s: MarketMakerState = { p, inventoryLots: 0, orders: newOwnOrders(), rng: seedPrng(seed), nextJitterLots: 0, nextActionNs: -(2n ** 62n) };
    s.nextJitterLots = draw(s);
    return s;
  },
  evolve(s, event) {
    if (marketInstrument(event) !== null) return s;
    const f = trackOwnOrder(s.orders, event);
    if (f !== null && f.instrument === s.p.instrument) s.inventoryLots += f.side === 'buy' ? f.qtyLots : -f.qtyLots;
    if (event.type === 'OrderIntended') s.nextJitterLots = draw(s);
    s.nextActionNs = nextActionAfter(event, s.nextActionNs, s.p.minActionIntervalNs, s.p.backoffNs);
    return s;
  },
  decide(s, event, market: MarketView) {
    const p = s.p;
    const instr = marketInstrument(event);
    // React to our market and to our own fills (requote after inventory changes).
    if (instr !== p.instrument && event.type !== 'OrderFilled') return NO_COMMANDS;
    if (event.eventTimeNs < s.nextActionNs) return NO_COMMANDS;
    const bid = bestBidTicks(market, p.instrument);
    const ask = bestAskTicks(market, p.instrument);
    if (bid === null || ask === null || ask <= bid) return NO_COMMANDS;
    const b = sideCommand(s, true, bid, ask);
    const a = sideCommand(s, false, bid, ask);
    // Allocate only when there is something to say.
    const out = b === null ? (a === null ? null : [a]) : a === null ? [b] : [b, a];
    return out ?? NO_COMMANDS;
  },
  // State is one instrument's quotes and inventory: nothing is shared across instruments.
  forInstrument: (p, instrument) => ({ ...p, instrument }),
};
