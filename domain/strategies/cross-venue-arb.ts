/**
 * Cross-venue arbitrage: the same asset quoted on two venues (the instrument mapping is the two
 * `legs` in params, e.g. BINANCE:BTCUSDT and COINBASE:BTC-USD). When one venue's bid exceeds the
 * other's ask by at least `minEdgeTicks`, it buys the cheap leg and sells the rich one with IOC limit
 * orders at the quoted prices, sized by the displayed quantities and its position limit. If only one
 * leg fills (legging risk), it flattens the difference with an IOC on the leg offering the better price
 * before trading again. Both legs must share price and quantity scales (they are checked at start).
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import { instrumentId, scale, timeNs, venue } from '../events/primitives.js';
import { bestPrice, bestQty, type MarketView } from '../market/book.js';
import type { StrategyCommand } from '../orders/commands.js';
import { newOwnOrders, trackOwnOrder, type OwnOrders } from './own-orders.js';
import { marketInstrument, NO_COMMANDS, type Strategy } from './strategy.js';

const leg = configObject({ venue, instrument: instrumentId });

export const crossVenueArbParams = configObject({
  legs: z.tuple([leg, leg]).refine((l) => l[0].instrument !== l[1].instrument, 'the two legs must be different instruments'),
  priceScale: scale,
  qtyScale: scale,
  minEdgeTicks: z.int().positive().default(1),
  maxQtyLots: z.int().positive().default(1),
  /** Largest absolute position per leg. */
  maxPositionLots: z.int().positive().default(10),
  cooldownNs: timeNs.default(0n),
});
export type CrossVenueArbParams = z.output<typeof crossVenueArbParams>;

export interface CrossVenueArbState {
  p: CrossVenueArbParams;
  /** Signed position per leg (index as in params.legs). */
  positionLots: [number, number];
  orders: OwnOrders;
  /** Earliest event time of the next round (last order + cooldown): a compare, not a subtraction, per event. */
  nextActionNs: bigint;
}

export interface Opportunity {
  buyLeg: 0 | 1;
  buyPriceTicks: number;
  sellPriceTicks: number;
  qtyLots: number;
}

/** The best arbitrage on the current books, or null. Exported for tests. */
export function findOpportunity(p: CrossVenueArbParams, pos: readonly [number, number], market: MarketView): Opportunity | null {
  const a = market.books.get(p.legs[0].instrument);
  const b = market.books.get(p.legs[1].instrument);
  if (a === undefined || b === undefined) return null;
  let best: Opportunity | null = null;
  for (const buyLeg of [0, 1] as const) {
    const buyBook = buyLeg === 0 ? a : b;
    const sellBook = buyLeg === 0 ? b : a;
    const ask = bestPrice(buyBook.asks);
    const bid = bestPrice(sellBook.bids);
    if (ask === null || bid === null || bid - ask < p.minEdgeTicks) continue;
    const room = Math.min(p.maxPositionLots - pos[buyLeg], p.maxPositionLots + pos[buyLeg === 0 ? 1 : 0]);
    const qty = Math.min(p.maxQtyLots, bestQty(buyBook.asks), bestQty(sellBook.bids), room);
    if (qty <= 0) continue;
    if (best === null || bid - ask > best.sellPriceTicks - best.buyPriceTicks) best = { buyLeg, buyPriceTicks: ask, sellPriceTicks: bid, qtyLots: qty };
  }
  return best;
}

export const crossVenueArb: Strategy<CrossVenueArbParams, CrossVenueArbState> = {
  name: 'cross-venue-arb',
  description: 'buys the cheaper of two venues and sells the richer when the spread between them exceeds an edge',
  version: '1.0.0',
  params: crossVenueArbParams,
  initialState(p) {
    return { p, positionLots: [0, 0], orders: newOwnOrders(), nextActionNs: -(2n ** 62n) };
  },
  evolve(s, event) {
    if (marketInstrument(event) !== null) return s;
    const f = trackOwnOrder(s.orders, event);
    if (f !== null) {
      const delta = f.side === 'buy' ? f.qtyLots : -f.qtyLots;
      if (f.instrument === s.p.legs[0].instrument) s.positionLots[0] += delta;
      else if (f.instrument === s.p.legs[1].instrument) s.positionLots[1] += delta;
    }
    if (event.type === 'OrderIntended') s.nextActionNs = event.eventTimeNs + s.p.cooldownNs;
    return s;
  },
  decide(s, event, market) {
    const p = s.p;
    const instr = marketInstrument(event);
    if (instr !== p.legs[0].instrument && instr !== p.legs[1].instrument && event.type !== 'OrderCanceled' && event.type !== 'OrderFilled') return NO_COMMANDS;
    // One round at a time: wait until both IOC legs have finished.
    if (s.orders.list.length > 0) return NO_COMMANDS;
    if (event.eventTimeNs < s.nextActionNs) return NO_COMMANDS;
    const [pa, pb] = s.positionLots;
    const imbalance = pa + pb;
    if (imbalance !== 0) return flatten(s, imbalance, market);
    const o = findOpportunity(p, s.positionLots, market);
    if (o === null) return NO_COMMANDS;
    const buy = p.legs[o.buyLeg];
    const sell = p.legs[o.buyLeg === 0 ? 1 : 0];
    const common = { orderType: 'limit' as const, qtyLots: o.qtyLots, priceScale: p.priceScale, qtyScale: p.qtyScale, timeInForce: 'IOC' as const, postOnly: false, reduceOnly: false };
    return [
      { kind: 'PlaceOrder', tag: 'arb-buy', venue: buy.venue, instrument: buy.instrument, side: 'buy', priceTicks: o.buyPriceTicks, ...common },
      { kind: 'PlaceOrder', tag: 'arb-sell', venue: sell.venue, instrument: sell.instrument, side: 'sell', priceTicks: o.sellPriceTicks, ...common },
    ];
  },
};

/** Legging risk: one leg filled more than the other. Trade the difference away on the better-priced leg. */
function flatten(s: CrossVenueArbState, imbalance: number, market: MarketView): readonly StrategyCommand[] {
  const p = s.p;
  const side = imbalance > 0 ? 'sell' : 'buy';
  let bestLeg = -1;
  let bestPx = 0;
  let bestQ = 0;
  for (const i of [0, 1]) {
    const b = market.books.get(p.legs[i]!.instrument);
    if (b === undefined) continue;
    const l = side === 'sell' ? b.bids : b.asks;
    const px = bestPrice(l);
    if (px === null) continue;
    if (bestLeg < 0 || (side === 'sell' ? px > bestPx : px < bestPx)) {
      bestLeg = i;
      bestPx = px;
      bestQ = bestQty(l);
    }
  }
  if (bestLeg < 0 || bestQ <= 0) return NO_COMMANDS;
  const l = p.legs[bestLeg]!;
  return [{
    kind: 'PlaceOrder', tag: 'arb-flatten', venue: l.venue, instrument: l.instrument, side, orderType: 'limit', priceTicks: bestPx,
    qtyLots: Math.min(Math.abs(imbalance), bestQ), priceScale: p.priceScale, qtyScale: p.qtyScale, timeInForce: 'IOC', postOnly: false, reduceOnly: false,
  }];
}
