/**
 * The strategy registry: name → Strategy. Adding a strategy: write it beside the others (decider shape,
 * zod params with defaults, tests in test/domain/strategies/) and add it to STRATEGIES.
 */
import { TapedeckError } from '../core/errors.js';
import { formatIssues } from '../events/envelope.js';
import { binaryMarketMaker } from './binary-market-maker.js';
import { crossVenueArb } from './cross-venue-arb.js';
import { marketMaker } from './market-maker.js';
import { momentum } from './momentum.js';
import type { Strategy } from './strategy.js';

export const STRATEGIES: Readonly<Record<string, Strategy>> = Object.freeze({
  [marketMaker.name]: marketMaker,
  [crossVenueArb.name]: crossVenueArb,
  [momentum.name]: momentum,
  [binaryMarketMaker.name]: binaryMarketMaker,
});

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES).sort();
}

export function getStrategy(name: string): Strategy {
  const s = Object.prototype.hasOwnProperty.call(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (s === undefined) {
    throw new TapedeckError('STRATEGY_UNKNOWN', `no strategy named "${name}" (known: ${strategyNames().join(', ')})`, { field: 'strategy' });
  }
  return s;
}

/** Validates raw params (from a config file or the CLI) and fills in defaults. Throws STRATEGY_PARAMS naming the field. */
export function parseStrategyParams<P>(strategy: Strategy<P>, raw: unknown): P {
  const r = strategy.params.safeParse(raw ?? {});
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('STRATEGY_PARAMS', `${strategy.name} params: ${message}`, { field: `params.${field}` });
  }
  return r.data;
}

/** `name@version`: the strategy's identity in run manifests and decision contexts. */
export function strategyIdentity(strategy: Strategy): string {
  return `${strategy.name}@${strategy.version}`;
}
