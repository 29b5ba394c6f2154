/**
 * Simple momentum taker: keeps the last `lookback` distinct mid prices (a ring in state) and, when the
 * mid has moved by at least `thresholdTicks` over that window, takes liquidity in the direction of the
 * move with an IOC limit at the touch plus `slippageTicks`, up to a position limit, one order at a time
 * and at most once per `cooldownNs` of event time.
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import type { TimedEvent } from '../events/event.js';
import { instrumentId, scale, timeNs, venue } from '../events/primitives.js';
import { bestAskTicks, bestBidTicks, type MarketView } from '../market/book.js';
import { newOwnOrders, trackOwnOrder, type OwnOrders } from './own-orders.js';
import { marketInstrument, NO_COMMANDS, type Strategy } from './strategy.js';

export const momentumParams = configObject({
  venue,
  instrument: instrumentId,
  priceScale: scale,
  qtyScale: scale,
  lookback: z.int().min(2).max(10_000).default(20),
  thresholdTicks: z.int().positive().default(5),
  qtyLots: z.int().positive().default(1),
  maxPositionLots: z.int().positive().default(5),
  slippageTicks: z.int().min(0).default(0),
  cooldownNs: timeNs.default(0n),
});
export type MomentumParams = z.output<typeof momentumParams>;

export interface MomentumState {
  p: MomentumParams;
  /** Ring of the last `lookback` distinct mids (doubled ticks: bid + ask, so no half ticks). */
  mids2: number[];
  head: number;
  count: number;
  positionLots: number;
  orders: OwnOrders;
  /** Earliest event time of the next order (last order + cooldown). */
  nextOrderNs: bigint;
}

export const momentum: Strategy<MomentumParams, MomentumState> = {
  name: 'momentum',
  description: 'takes liquidity in the direction of a mid-price move over a lookback window',
  version: '1.0.0',
  params: momentumParams,
  initialState(p) {
    return { p, mids2: new Array<number>(p.lookback).fill(0), head: 0, count: 0, positionLots: 0, orders: newOwnOrders(), nextOrderNs: -(2n ** 62n) };
  },
  evolve(s, event, market) {
    const instr = marketInstrument(event);
    if (instr !== null) {
      if (instr !== s.p.instrument) return s;
      const bid = bestBidTicks(market, instr);
      const ask = bestAskTicks(market, instr);
      if (bid === null || ask === null) return s;
      const m2 = bid + ask;
      // Only changes of the mid enter the window, so book churn away from the top does not age it.
      if (s.count > 0 && s.mids2[(s.head + s.p.lookback - 1) % s.p.lookback] === m2) return s;
      s.mids2[s.head] = m2;
      s.head = (s.head + 1) % s.p.lookback;
      if (s.count < s.p.lookback) s.count++;
      return s;
    }
    const f = trackOwnOrder(s.orders, event);
    if (f !== null && f.instrument === s.p.instrument) s.positionLots += f.side === 'buy' ? f.qtyLots : -f.qtyLots;
    if (event.type === 'OrderIntended') s.nextOrderNs = event.eventTimeNs + s.p.cooldownNs;
    return s;
  },
  decide(s, event: TimedEvent, market: MarketView) {
    const p = s.p;
    if (marketInstrument(event) !== p.instrument) return NO_COMMANDS;
    if (s.count < p.lookback || s.orders.list.length > 0) return NO_COMMANDS;
    if (event.eventTimeNs < s.nextOrderNs) return NO_COMMANDS;
    const newest = s.mids2[(s.head + p.lookback - 1) % p.lookback]!;
    const oldest = s.mids2[s.head]!;
    const move2 = newest - oldest;
    const up = move2 >= 2 * p.thresholdTicks;
    const down = move2 <= -2 * p.thresholdTicks;
    if (!up && !down) return NO_COMMANDS;
    const side = up ? 'buy' : 'sell';
    const room = up ? p.maxPositionLots - s.positionLots : p.maxPositionLots + s.positionLots;
    const qty = Math.min(p.qtyLots, room);
    if (qty <= 0) return NO_COMMANDS;
    const touch = up ? bestAskTicks(market, p.instrument) : bestBidTicks(market, p.instrument);
    if (touch === null) return NO_COMMANDS;
    return [{
      kind: 'PlaceOrder', tag: 'momentum', venue: p.venue, instrument: p.instrument, side, orderType: 'limit',
      priceTicks: up ? touch + p.slippageTicks : touch - p.slippageTicks, qtyLots: qty, priceScale: p.priceScale,
      qtyScale: p.qtyScale, timeInForce: 'IOC', postOnly: false, reduceOnly: false,
    }];
  },
  // State is one instrument's mids, position and orders: nothing is shared across instruments.
  forInstrument: (p, instrument) => ({ ...p, instrument }),
};
