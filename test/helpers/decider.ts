/**
 * Given / When / Then for deciders (domain/core/decider.ts), in the manner of Emmett's DeciderSpecification:
 *
 *   const spec = DeciderSpecification.for(orderLifecycle);
 *   spec.given([intended, approved]).when({ orderId: 'o1', input: { kind: 'RequestCancel' } }).then([...]);
 *   spec.given([...]).when(request).thenThrows('ORDER_TRANSITION');
 *   spec.given([...]).when(request).then((commands, state) => expect(...));   // partial checks
 *   spec.given([...]).thenState((state) => expect(...));                         // evolve only
 *
 * Given folds the events with `evolve` from `initialState()` (an error there is a broken test, not an
 * outcome: it propagates). When runs `decide` once. Each `then...` builds a fresh state, so one spec can
 * be checked several ways.
 */
import { expect } from 'vitest';
import type { Decider } from '../../domain/core/decider.js';
import { isTapedeckError } from '../../domain/core/errors.js';

type Check<State, Command> = readonly Command[] | ((commands: readonly Command[], state: State) => void);

export interface Given<State, Input, Command> {
  when(input: Input): When<State, Command>;
  /** The state after the given events (evolve only). */
  thenState(check: (state: State) => void): void;
}

export interface When<State, Command> {
  /** The commands decided equal `expected`, or pass a check that also sees the state after deciding. */
  then(expected: Check<State, Command>): void;
  /** `decide` refuses: a TapedeckError with this code, or an error matching the pattern or predicate. */
  thenThrows(expected: string | RegExp | ((error: unknown) => boolean)): void;
}

export const DeciderSpecification = {
  for<State, Event, Input, Command>(decider: Decider<State, Event, Input, Command>) {
    const fold = (events: readonly Event[]): State => {
      let state = decider.initialState();
      for (const e of events) state = decider.evolve(state, e);
      return state;
    };
    return {
      given(events: readonly Event[]): Given<State, Input, Command> {
        return {
          thenState(check) {
            check(fold(events));
          },
          when(input) {
            return {
              then(expected) {
                const state = fold(events);
                const commands = decider.decide(state, input);
                if (typeof expected === 'function') expected(commands, state);
                else expect(commands).toEqual(expected);
              },
              thenThrows(expected) {
                const state = fold(events);
                let thrown: unknown = undefined;
                let threw = false;
                try {
                  decider.decide(state, input);
                } catch (e) {
                  thrown = e;
                  threw = true;
                }
                expect(threw, 'decide was expected to throw').toBe(true);
                if (typeof expected === 'string') {
                  expect(isTapedeckError(thrown) ? thrown.code : thrown).toBe(expected);
                } else if (expected instanceof RegExp) {
                  expect(thrown instanceof Error ? thrown.message : String(thrown)).toMatch(expected);
                } else {
                  expect(expected(thrown), `unexpected error: ${String(thrown)}`).toBe(true);
                }
              },
            };
          },
        };
      },
    };
  },
};
