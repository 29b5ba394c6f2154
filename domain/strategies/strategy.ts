/**
 * The Strategy interface: a decider over market data and the strategy's own order events.
 *
 *   initialState(params, seed)         → state   (params already validated by `params`, the zod schema)
 *   evolve(state, event, market)       → state   (updated in place and returned; state owned by the kernel)
 *   decide(state, event, market)       → StrategyCommand[]   (pure: reads, never mutates)
 *
 * The kernel calls evolve THEN decide for each event, so decide sees the state including the event.
 * `strategyDecider` below is the same strategy seen as a Decider (domain/core/decider.ts).
 * `market` is the kernel's read-only MarketView (one book per instrument maintained once for all
 * consumers), so a strategy need not rebuild books from L2 deltas. Commands a strategy returns come
 * back to it as events before its next input: PlaceOrder → OrderIntended (its `tag` becomes
 * `clientTag`, and the kernel's orderId is how the strategy cancels or replaces it) → RiskApproved or
 * RiskDenied → venue reports; CancelOrder → CancelRequested; ReplaceOrder → ReplaceRequested or
 * ReplaceRejected. So a strategy never has to guess whether it already asked for something.
 *
 * Randomness: a seeded PRNG in state (domain/core/prng.ts), drawn in evolve only (decide is pure).
 * State must be plain data (objects, arrays, Maps, bigint): the kernel hashes it (canonicalJson) into
 * each decision's DecisionContext.stateHash.
 *
 * Hot path: decide runs on every market event; return NO_COMMANDS (a shared frozen array) when there
 * is nothing to do, and filter on the event type and instrument first.
 */
import type { z } from 'zod';
import type { Decider } from '../core/decider.js';
import type { TimedEvent } from '../events/event.js';
import { applyMarketEvent, initialMarketState, type MarketState, type MarketView } from '../market/book.js';
import type { StrategyCommand } from '../orders/commands.js';

export interface Strategy<P = any, S = any> {
  readonly name: string;
  readonly description: string;
  /** Semantic version of the strategy's logic; part of its identity in RunManifest and decisions. */
  readonly version: string;
  /** Parameters with defaults; the registry validates raw params with it (never on the hot path). */
  readonly params: z.ZodType<P>;
  initialState(params: P, seed: number): S;
  evolve(state: S, event: TimedEvent, market: MarketView): S;
  decide(state: S, event: TimedEvent, market: MarketView): readonly StrategyCommand[];
  /**
   * Declared only by a strategy that keeps no state across instruments (each instrument's decisions
   * depend on that instrument's events and its own orders alone): the params that aim it at one
   * instrument. A replay may then run one kernel per instrument, on several worker threads, and merge
   * their outputs (src/runtime/partitioned.ts). A strategy that reads several instruments at once
   * (cross-venue arbitrage) leaves it out and always runs as one kernel.
   */
  forInstrument?(params: P, instrument: string): P;
}

/** The answer when there is nothing to do: shared, so the hot path allocates nothing. */
export const NO_COMMANDS: readonly StrategyCommand[] = Object.freeze([]) as readonly StrategyCommand[];

/** The instrument a market-data event is about, or null for any other event. */
export function marketInstrument(event: TimedEvent): string | null {
  switch (event.type) {
    case 'QuoteUpdated': case 'BookSnapshotted': case 'BookDeltaApplied': case 'TradeReported':
    case 'BookOrderAdded': case 'BookOrderExecuted': case 'BookOrderCanceled': case 'BookOrderDeleted':
    case 'BookOrderReplaced':
      return event.data.instrument;
    default:
      return null;
  }
}

/** A strategy's state with the market view it reads (the kernel keeps the market once for everyone). */
export interface StrategyDeciderState<S> {
  strategy: S;
  market: MarketState;
}

/**
 * A strategy as a Decider (domain/core/decider.ts) over the events it sees (market data and its own
 * order events), with its own market view. Its input is itself an event: `decide` folds it in first and
 * then decides, as the kernel calls evolve THEN decide.
 */
export function strategyDecider<P, S>(strategy: Strategy<P, S>, params: P, seed = 1): Decider<StrategyDeciderState<S>, TimedEvent, TimedEvent, StrategyCommand> {
  const evolve = (state: StrategyDeciderState<S>, event: TimedEvent): StrategyDeciderState<S> => {
    applyMarketEvent(state.market, event);
    state.strategy = strategy.evolve(state.strategy, event, state.market);
    return state;
  };
  return {
    initialState: () => ({ strategy: strategy.initialState(params, seed), market: initialMarketState() }),
    evolve,
    decide: (state, event) => strategy.decide(evolve(state, event).strategy, event, state.market),
  };
}
