// A tiny stand-in for the kernel's loop, for strategy tests: the strategy as a Decider (evolve-then-decide
// over its own market view, domain/strategies/strategy.ts strategyDecider), and a way to feed back the
// events the kernel would record for a command (OrderIntended with the tag).
import type { TimedEvent } from '../../../domain/events/event.js';
import type { MarketState } from '../../../domain/market/book.js';
import type { StrategyCommand } from '../../../domain/orders/commands.js';
import { strategyDecider, type Strategy, type StrategyDeciderState } from '../../../domain/strategies/strategy.js';
import { at, DECISION } from '../builders.js';

export class Harness<P, S> {
  private readonly decider: ReturnType<typeof strategyDecider<P, S>>;
  private readonly current: StrategyDeciderState<S>;
  private n = 0;
  constructor(readonly strategy: Strategy<P, S>, params: P, seed = 1) {
    this.decider = strategyDecider(strategy, params, seed);
    this.current = this.decider.initialState();
  }

  get state(): S {
    return this.current.strategy;
  }

  get market(): MarketState {
    return this.current.market;
  }

  /** When: one event. Then: the commands decided. */
  on(e: TimedEvent): readonly StrategyCommand[] {
    return this.decider.decide(this.current, e);
  }

  /** The kernel's answer to a PlaceOrder: OrderIntended (and RiskApproved) fed back. Returns the order id. */
  accept(cmd: StrategyCommand, t = 0n, opts: { ack?: boolean } = {}): string {
    if (cmd.kind !== 'PlaceOrder') throw new Error(`not a PlaceOrder: ${cmd.kind}`);
    const orderId = `k${++this.n}`;
    this.on(placed(cmd, orderId, t));
    this.on(at('RiskApproved', { orderId, checks: [] }, t));
    if (opts.ack !== false) this.on(at('OrderAccepted', { orderId, venueOrderId: `v${orderId}` }, t));
    return orderId;
  }
}

/** The OrderIntended the kernel records for a PlaceOrder, under `orderId`. */
export function placed(cmd: StrategyCommand, orderId: string, t = 0n): TimedEvent {
  if (cmd.kind !== 'PlaceOrder') throw new Error(`not a PlaceOrder: ${cmd.kind}`);
  const { kind: _k, tag, ...spec } = cmd;
  return at('OrderIntended', { orderId, ...spec, clientTag: tag, decision: DECISION }, t);
}
