/**
 * The Decider type (domain/core/decider.ts) and the Given/When/Then helper (test/helpers/decider.ts):
 * the helper passes what is right and fails what is wrong, so the specs written with it can fail.
 */
import { describe, expect, it } from 'vitest';
import { stateAfter, type Decider } from '../../domain/core/decider.js';
import { TapedeckError } from '../../domain/core/errors.js';
import { DeciderSpecification } from '../helpers/decider.js';

/** A counter that may be incremented up to a limit. */
type Ev = { type: 'Added'; n: number };
type Cmd = { add: number };
const counter: Decider<{ total: number }, Ev, Cmd, Ev> = {
  initialState: () => ({ total: 0 }),
  evolve: (s, e) => ({ total: s.total + e.n }),
  decide: (s, c) => {
    if (s.total + c.add > 10) throw new TapedeckError('USAGE', `would reach ${s.total + c.add}`);
    return c.add === 0 ? [] : [{ type: 'Added', n: c.add }];
  },
};
const spec = DeciderSpecification.for(counter);

describe('DeciderSpecification', () => {
  it('given events, when an input, then the commands decided', () => {
    spec.given([{ type: 'Added', n: 4 }]).when({ add: 3 }).then([{ type: 'Added', n: 3 }]);
    spec.given([]).when({ add: 0 }).then([]);
    spec.given([{ type: 'Added', n: 4 }]).when({ add: 3 }).then((cmds, s) => {
      expect(cmds).toHaveLength(1);
      expect(s.total).toBe(4);
    });
    spec.given([{ type: 'Added', n: 4 }, { type: 'Added', n: 2 }]).thenState((s) => expect(s).toEqual({ total: 6 }));
    expect(stateAfter(counter, [{ type: 'Added', n: 1 }, { type: 'Added', n: 1 }])).toEqual({ total: 2 });
  });

  it('thenThrows matches a TapedeckError code, a message pattern or a predicate', () => {
    const refused = spec.given([{ type: 'Added', n: 9 }]).when({ add: 2 });
    refused.thenThrows('USAGE');
    refused.thenThrows(/would reach 11/);
    refused.thenThrows((e) => e instanceof TapedeckError);
  });

  it('fails when the commands differ, when nothing is thrown, or when the wrong error is', () => {
    expect(() => spec.given([]).when({ add: 1 }).then([{ type: 'Added', n: 2 }])).toThrow();
    expect(() => spec.given([]).when({ add: 1 }).thenThrows('USAGE')).toThrow(/expected to throw/);
    expect(() => spec.given([{ type: 'Added', n: 9 }]).when({ add: 2 }).thenThrows('OTHER')).toThrow();
    expect(() => spec.given([{ type: 'Added', n: 9 }]).when({ add: 2 }).thenThrows(/nope/)).toThrow();
    expect(() => spec.given([]).thenState((s) => expect(s.total).toBe(1))).toThrow();
  });

  it('builds a fresh state for each check, so deciding twice does not compound', () => {
    const mutating: Decider<{ n: number }, number, null, number> = {
      initialState: () => ({ n: 0 }),
      evolve: (s, e) => { s.n += e; return s; },
      decide: (s) => [++s.n],
    };
    const when = DeciderSpecification.for(mutating).given([5]).when(null);
    when.then([6]);
    when.then([6]);
  });
});
