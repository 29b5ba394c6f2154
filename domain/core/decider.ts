/**
 * The decider, written down once (Jérémie Chassaing's functional event sourcing, as Emmett spells it):
 *
 *   initialState()           the state before anything happened
 *   evolve(state, event)     the state after an event (a fact: it happened, it cannot be refused)
 *   decide(state, input)     what to do about an input (a command, a request, a market event, a clock
 *                            tick): the commands or events that carry it out. A refused input throws a
 *                            TapedeckError naming why (the thing asked for is impossible in this state)
 *
 * Every piece of trading logic has this shape: strategies (strategies/strategy.ts `strategyDecider`),
 * risk (risk/risk.ts `riskDecider`), the order lifecycle (orders/lifecycle.ts `orderLifecycle`) and the
 * simulated venue (venue/simulated.ts `simulatedVenue`). Their module functions stay the kernel's fast
 * path (context arguments, out-arrays, errors as values); the decider records are those functions seen
 * through one type, for readers, tests (test/helpers/decider.ts, Given/When/Then) and new pieces.
 *
 * State ownership (domain/README.md): the kernel owns reducer state and `evolve` may update it in place
 * and return it; `decide` reads it. The simulated venue is the documented exception (its matching and
 * the state change it causes are one computation): its `decide` moves the venue's clock.
 */

export interface Decider<State, Event, Input, Command> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(state: State, input: Input): readonly Command[];
}

/** The state after `events`, from the initial state (a fold; `evolve` may reuse the state object). */
export function stateAfter<State, Event>(decider: Pick<Decider<State, Event, unknown, unknown>, 'initialState' | 'evolve'>, events: Iterable<Event>): State {
  let state = decider.initialState();
  for (const e of events) state = decider.evolve(state, e);
  return state;
}
