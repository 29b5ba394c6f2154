/** The `balances` read model: cash per venue and currency as the venue reports it. */
import { evolve as evolvePortfolio } from '../../domain/portfolio/portfolio.js';
import type { DomainEvent } from '../../domain/events/event.js';
import { runFor, type Fold } from './state.js';

export const balancesFold: Fold = {
  name: 'balances',
  types: ['BalanceReported'],
  fold(ctx, input) {
    const { ev, data } = input;
    const run = runFor(ctx, input);
    evolvePortfolio(run.portfolio, { type: 'BalanceReported', data } as DomainEvent);
    run.cashAsOf.set(`${data.venue}|${data.currency}`, ev.position);
    ctx.dirtyOf(run).cash = true;
  },
};
