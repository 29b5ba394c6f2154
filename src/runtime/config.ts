/**
 * Run configuration: `--config FILE` (JSON) validated with zod, then resolved against the source so
 * that what the run used is written in full into its manifest (and hashed): strategy params with the
 * source's instrument filled in, the simulated venues, the risk limits and the seed.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { TapedeckError } from '../../domain/core/errors.js';
import { formatIssues } from '../../domain/events/envelope.js';
import { parseRiskConfig } from '../../domain/risk/config.js';
import { getStrategy, parseStrategyParams } from '../../domain/strategies/registry.js';
import { parseSimVenueConfig } from '../../domain/venue/config.js';
import type { SourceSurvey } from './sources.js';

export const runConfigSchema = z.object({
  seed: z.int().default(1),
  params: z.record(z.string(), z.unknown()).default({}),
  risk: z.record(z.string(), z.unknown()).optional(),
  venues: z.array(z.record(z.string(), z.unknown())).optional(),
}).strict();

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
  const r = runConfigSchema.safeParse(raw);
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('CONFIG_INVALID', message, { file, field });
  }
  return r.data;
}

const DEFAULT_RISK = { maxOpenOrders: 50, orderRate: { maxOrders: 500, windowNs: '1000000000' } };

function defaultVenue(venue: string): Record<string, unknown> {
  return { venue, latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '1', takerBps: '5' } };
}

/** Fills what the config leaves open from the source, then validates every part (errors name the field). */
export function resolveRunConfig(strategyName: string, cfg: z.output<typeof runConfigSchema>, survey: SourceSurvey, file = 'config'): ResolvedRunConfig {
  const strategy = getStrategy(strategyName);
  const params: Record<string, unknown> = { ...cfg.params };
  if (params.instrument === undefined) {
    const best = [...survey.instruments.entries()].sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1))[0];
    if (best) {
      const [instrument, info] = best;
      params.instrument = instrument;
      params.venue ??= info.venue;
      params.priceScale ??= info.priceScale;
      params.qtyScale ??= info.qtyScale;
    }
  } else {
    const info = survey.instruments.get(String(params.instrument));
    if (info) {
      params.venue ??= info.venue;
      params.priceScale ??= info.priceScale;
      params.qtyScale ??= info.qtyScale;
    }
  }
  try {
    parseStrategyParams(strategy, params);
  } catch (e) {
    if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: e.where?.field ?? 'params' });
    throw e;
  }
  const venuesSeen = new Set<string>([...survey.instruments.values()].map((i) => i.venue));
  if (typeof params.venue === 'string') venuesSeen.add(params.venue);
  for (const key of ['venueA', 'venueB']) if (typeof params[key] === 'string') venuesSeen.add(params[key] as string);
  const venues = cfg.venues ?? [...venuesSeen].sort().map(defaultVenue);
  venues.forEach((v, i) => {
    try {
      parseSimVenueConfig(v);
    } catch (e) {
      if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: `venues.${i}.${e.where?.field ?? ''}` });
      throw e;
    }
  });
  const riskRaw = cfg.risk ?? DEFAULT_RISK;
  try {
    parseRiskConfig(riskRaw);
  } catch (e) {
    if (e instanceof TapedeckError) throw new TapedeckError('CONFIG_INVALID', e.message, { file, field: `risk.${e.where?.field ?? ''}` });
    throw e;
  }
  return { strategy: strategyName, seed: cfg.seed, params, risk: riskRaw, venues };
}
