/** The risk tests' world: a market with quotes on two venues, a risk state given its config and history, orders. */
import type { TimedEvent } from '../../domain/events/event.js';
import { applyMarketEvent, initialMarketState, type MarketState } from '../../domain/market/book.js';
import { parseRiskConfig, type RiskConfigInput } from '../../domain/risk/config.js';
import { evolve, initialState, type PlaceOrderFacts, type RiskState } from '../../domain/risk/risk.js';
import { at, filled, INSTR, intended, VENUE } from './builders.js';

export const OTHER = 'ALT:BTCUSD';

export function market(...events: TimedEvent[]): MarketState {
  const m = initialMarketState();
  for (const e of events) applyMarketEvent(m, e);
  return m;
}

/** Risk with this config after these events. */
export function given(cfg: RiskConfigInput, ...events: TimedEvent[]): RiskState {
  const s = initialState(parseRiskConfig(cfg));
  for (const e of events) evolve(s, e);
  return s;
}

/** A limit buy of 1 lot at 10,000 (scales 2 and 0), with `over` on top. */
export function order(over: Partial<PlaceOrderFacts> = {}): PlaceOrderFacts {
  return { orderId: 'n1', venue: VENUE, instrument: INSTR, side: 'buy', orderType: 'limit', priceTicks: 10_000, qtyLots: 1, priceScale: 2, qtyScale: 0, reduceOnly: false, ...over };
}

/** An order intended and approved at t, then filled `fill` lots (if given), as the kernel would record them. */
export function approvedOrder(id: string, over: Partial<PlaceOrderFacts> & { fill?: number } = {}, t = 0n): TimedEvent[] {
  const o = order({ orderId: id, ...over });
  const ev: TimedEvent[] = [
    intended(id, { venue: o.venue, instrument: o.instrument, side: o.side, orderType: o.orderType, priceTicks: o.priceTicks, qtyLots: o.qtyLots, reduceOnly: o.reduceOnly }, t),
    at('RiskApproved', { orderId: id, checks: [] }, t),
  ];
  if (over.fill) ev.push(filled(id, over.fill, o.priceTicks ?? 10_000, o.qtyLots - over.fill, { side: o.side, instrument: o.instrument, venue: o.venue, fillId: `${id}-f` }, t));
  return ev;
}
