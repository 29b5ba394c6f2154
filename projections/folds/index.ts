/**
 * Every fold the projector runs, one per read model: the catch-up loop (catchup.ts foldBatch) feeds
 * each event to the projector, which decodes it once through the catalogue and hands it to the fold
 * registered for its type. Adding a read model: write its fold and list it here.
 */
import { balancesFold } from './balances.js';
import { instrumentsFold } from './instruments.js';
import { quotesFold, tradesFold } from './market.js';
import { ordersFold } from './orders.js';
import { runsFold } from './runs.js';
import type { Fold } from './state.js';

export const FOLDS: readonly Fold[] = [runsFold, instrumentsFold, balancesFold, tradesFold, quotesFold, ordersFold];

/** The fold of each event type (a type has at most one). */
export const FOLD_OF_TYPE: ReadonlyMap<string, Fold> = (() => {
  const m = new Map<string, Fold>();
  for (const f of FOLDS) {
    for (const t of f.types) {
      if (m.has(t)) throw new Error(`invariant violated: ${t} is folded by both ${m.get(t)!.name} and ${f.name}`);
      m.set(t, f);
    }
  }
  return m;
})();
