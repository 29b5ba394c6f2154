// Event builders for the pure-domain tests: Given (past events) / When (input) / Then (events or error).
import type { EventType, PayloadOf } from '../../domain/events/catalog.js';
import type { TimedEvent } from '../../domain/events/event.js';

export function at<K extends EventType>(type: K, data: PayloadOf<K>, t: bigint = 0n): TimedEvent {
  return { type, data, eventTimeNs: t } as TimedEvent;
}

export const DECISION = {
  strategyId: 's1', strategyCodeHash: 'code', configHash: 'cfg', stateHash: 'state', causeEventId: 'cause', causePosition: null,
};

export const VENUE = 'SIM';
export const INSTR = 'SIM:BTCUSD';

export function intended(orderId: string, over: Partial<PayloadOf<'OrderIntended'>> = {}, t = 0n): TimedEvent {
  return at('OrderIntended', {
    orderId, venue: VENUE, instrument: INSTR, side: 'buy', orderType: 'limit', priceTicks: 100, qtyLots: 10,
    priceScale: 2, qtyScale: 0, timeInForce: 'GTC', postOnly: false, reduceOnly: false, decision: DECISION, ...over,
  }, t);
}

export function filled(orderId: string, qtyLots: number, priceTicks: number, leavesLots: number, over: Partial<PayloadOf<'OrderFilled'>> = {}, t = 0n): TimedEvent {
  return at('OrderFilled', {
    orderId, venue: VENUE, instrument: INSTR, fillId: `${orderId}-f${leavesLots}-${qtyLots}`, side: 'buy', priceTicks, qtyLots,
    priceScale: 2, qtyScale: 0, fee: 0n, feeScale: 2, feeCurrency: 'USD', liquidity: 'taker', leavesLots, ...over,
  }, t);
}

export function snapshot(bids: Array<[number, number]>, asks: Array<[number, number]>, t = 0n, instrument = INSTR, venue = VENUE): TimedEvent {
  return at('BookSnapshotted', { venue, instrument, bids, asks, priceScale: 2, qtyScale: 0 }, t);
}

export function delta(changes: Array<['buy' | 'sell', number, number]>, t = 0n, instrument = INSTR, venue = VENUE): TimedEvent {
  return at('BookDeltaApplied', {
    venue, instrument, changes: changes.map(([side, priceTicks, qtyLots]) => ({ side, priceTicks, qtyLots })), priceScale: 2, qtyScale: 0,
  }, t);
}

export function quote(bid: number | null, bidQty: number, ask: number | null, askQty: number, t = 0n, instrument = INSTR, venue = VENUE): TimedEvent {
  return at('QuoteUpdated', { venue, instrument, bidPriceTicks: bid, bidQtyLots: bidQty, askPriceTicks: ask, askQtyLots: askQty, priceScale: 2, qtyScale: 0 }, t);
}

export function trade(priceTicks: number, qtyLots: number, aggressor: 'buy' | 'sell' | 'unknown', t = 0n, instrument = INSTR, venue = VENUE): TimedEvent {
  return at('TradeReported', { venue, instrument, tradeId: `t${t}-${priceTicks}-${qtyLots}`, priceTicks, qtyLots, priceScale: 2, qtyScale: 0, aggressor }, t);
}
