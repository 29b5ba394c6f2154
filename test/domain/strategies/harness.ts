// A tiny stand-in for the kernel's loop, for strategy tests: market view + evolve-then-decide, and a
// way to feed back the events the kernel would record for a command (OrderIntended with the tag).
import type { TimedEvent } from '../../../domain/events/event.js';
import { applyMarketEvent, initialMarketState, type MarketState } from '../../../domain/market/book.js';
import type { StrategyCommand } from '../../../domain/orders/commands.js';
import type { Strategy } from '../../../domain/strategies/strategy.js';
import { at, DECISION } from '../builders.js';

export class Harness<P, S> {
  market: MarketState = initialMarketState();
  state: S;
  private n = 0;
  constructor(readonly strategy: Strategy<P, S>, params: P, seed = 1) {
    this.state = strategy.initialState(params, seed);
  }

  /** When: one event. Then: the commands decided. */
  on(e: TimedEvent): readonly StrategyCommand[] {
    applyMarketEvent(this.market, e);
    this.state = this.strategy.evolve(this.state, e, this.market);
    return this.strategy.decide(this.state, e, this.market);
  }

  /** The kernel's answer to a PlaceOrder: OrderIntended (and RiskApproved) fed back. Returns the order id. */
  accept(cmd: StrategyCommand, t = 0n, opts: { ack?: boolean } = {}): string {
    if (cmd.kind !== 'PlaceOrder') throw new Error(`not a PlaceOrder: ${cmd.kind}`);
    const orderId = `k${++this.n}`;
    const { kind: _k, tag, ...spec } = cmd;
    this.on(at('OrderIntended', { orderId, ...spec, clientTag: tag, decision: DECISION }, t));
    this.on(at('RiskApproved', { orderId, checks: [] }, t));
    if (opts.ack !== false) this.on(at('OrderAccepted', { orderId, venueOrderId: `v${orderId}` }, t));
    return orderId;
  }
}
