/**
 * Run configuration: `--config FILE` (JSON) validated with zod, then resolved against the source so
 * that what the run used is written in full into its manifest (and hashed): strategy params with the
 * source's instrument filled in, the simulated venues, the risk limits and the seed.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { configObject } from '../../domain/core/config-object.js';
import { TapedeckError } from '../../domain/core/errors.js';
import { formatIssues } from '../../domain/events/envelope.js';
import { parseRiskConfig } from '../../domain/risk/config.js';
import { getStrategy, parseStrategyParams } from '../../domain/strategies/registry.js';
import { parseSimVenueConfig } from '../../domain/venue/config.js';
import type { SourceSurvey } from './sources.js';

export const runConfigSchema = configObject({
  seed: z.int().default(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Merged over DEFAULT_RISK key by key; a key set to null removes that default limit. */
  risk: z.record(z.string(), z.unknown()).optional(),
  venues: z.array(z.record(z.string(), z.unknown())).optional(),
  /** `tapedeck live` only: what to do with open orders at the end, our request budget, a testnet, a secrets file. */
  live: configObject({
    onEnd: z.enum(['cancel', 'leave']).default('cancel'),
    requestsPerSecond: z.number().positive().max(1000).default(20),
    sandbox: z.boolean().default(false),
    secretsFile: z.string().min(1).optional(),
    /** The venue's own settings (its config schema in src/venues/<venue>/config.ts), for venues with a live session. */
    venue: z.record(z.string(), z.unknown()).optional(),
    /** Several venues' settings, by venue id (`{"KALSHI": {...}, "POLYMARKET": {...}}`), for a run on several venues. */
    venues: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a venue id in capitals'), z.record(z.string(), z.unknown())).optional(),
  }).optional(),
});

/** The config as the run used it, in plain JSON (what the manifest records and the config hash covers). */
export interface ResolvedRunConfig {
  strategy: string;
  seed: number;
  params: Record<string, unknown>;
  risk: Record<string, unknown>;
  venues: Array<Record<string, unknown>>;
}

export function readConfigFile(file: string | undefined): z.output<typeof runConfigSchema> {
  if (file === undefined) return runConfigSchema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TapedeckError('CONFIG_READ', code === 'ENOENT' ? `config file not found` : `config is not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseRunConfig(raw, file);
}

/** Validates a run config already read (JSON); errors name `file` and the field. */
export function parseRunConfig(raw: unknown, file = 'config'): z.output<typeof runConfigSchema> {
  const r = runConfigSchema.safeParse(raw);
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('CONFIG_INVALID', message, { file, field });
  }
  return r.data;
}

/** Limits every run has unless its config changes them (risk.maxOpenOrders: null removes one). */
export const DEFAULT_RISK: Readonly<Record<string, unknown>> = Object.freeze({ maxOpenOrders: 50, orderRate: { maxOrders: 500, windowNs: '1000000000' } });

/** A partial risk config over the defaults: what it names replaces the default, null removes it. */
export function mergeRisk(risk: Record<string, unknown> | undefined): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...DEFAULT_RISK, ...risk };
  for (const [k, v] of Object.entries(merged)) if (v === null && k in DEFAULT_RISK) delete merged[k];
  return merged;
}

/** Keys a strategy's params object knows (its zod shape), so the source only fills in what it takes. */
function paramKeys(schema: unknown): Set<string> | null {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape && typeof shape === 'object' ? new Set(Object.keys(shape)) : null;
}

function defaultVenue(venue: string): Record<string, unknown> {
  return { venue, latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '1', takerBps: '5' } };
}

/** Fills what the config leaves open from the source, then validates every part (errors name the field). */
export function resolveRunConfig(strategyName: string, cfg: z.output<typeof runConfigSchema>, survey: SourceSurvey, file = 'config'): ResolvedRunConfig {
  const strategy = getStrategy(strategyName);
  const params: Record<string, unknown> = { ...cfg.params };
  // Filled from the source only where the strategy takes the key: strict params refuse any other.
  const takes = paramKeys(strategy.params);
  const fill = (key: string, value: unknown): void => {
    if (params[key] === undefined && (takes === null || takes.has(key))) params[key] = value;
  };
  // The instrument the scales come from: `instrument`, or a binary market's `yes` token.
  const named = params.instrument ?? params.yes;
  const wanted = named !== undefined ? String(named) : undefined;
  const best = wanted !== undefined
    ? (survey.instruments.has(wanted) ? ([wanted, survey.instruments.get(wanted)!] as const) : undefined)
    : [...survey.instruments.entries()].sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1))[0];
  if (best) {
    const [instrument, info] = best;
    fill('instrument', instrument);
    fill('venue', info.venue);
    fill('priceScale', info.priceScale);
    fill('qtyScale', info.qtyScale);
  }
  try {
    parseStrategyParams(strategy, params);
  } catch (e) {
    if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: e.where?.field ?? 'params' });
    throw e;
  }
  const venuesSeen = new Set<string>([...survey.instruments.values()].map((i) => i.venue));
  if (typeof params.venue === 'string') venuesSeen.add(params.venue);
  if (Array.isArray(params.legs)) for (const leg of params.legs) if (typeof (leg as { venue?: unknown })?.venue === 'string') venuesSeen.add((leg as { venue: string }).venue);
  const venues = cfg.venues ?? [...venuesSeen].sort().map(defaultVenue);
  venues.forEach((v, i) => {
    try {
      parseSimVenueConfig(v);
    } catch (e) {
      if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: `venues.${i}.${e.where?.field ?? ''}` });
      throw e;
    }
  });
  const riskRaw = mergeRisk(cfg.risk);
  try {
    parseRiskConfig(riskRaw);
  } catch (e) {
    if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: `risk.${e.where?.field ?? ''}` });
    throw e;
  }
  return { strategy: strategyName, seed: cfg.seed, params, risk: riskRaw, venues };
}
