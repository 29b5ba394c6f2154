/**
 * Every config object is strict: a key that names nothing (a misspelt limit) is an error naming the key,
 * its path and the closest known key, never a limit silently dropped. A partial risk config merges over
 * the default limits instead of replacing them.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { distance } from 'fastest-levenshtein';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { parseRiskConfig, riskConfigSchema } from '../../domain/risk/config.js';
import { getStrategy, strategyNames } from '../../domain/strategies/registry.js';
import { simVenueConfigSchema } from '../../domain/venue/config.js';
import { VENUES, parseVenueConfig } from '../../src/venues/registry.js';
import { DEFAULT_RISK, parseRunConfig, resolveRunConfig, runConfigSchema } from '../../src/runtime/config.js';
import type { SourceSurvey } from '../../src/runtime/sources.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const BINANCE = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const A = 'BINANCE:BTC-USDT';
const B = 'BINANCE:ETH-USDT';
const survey: SourceSurvey = {
  instruments: new Map([
    [A, { venue: 'BINANCE', symbol: 'BTC-USDT', priceScale: 2, qtyScale: 5, events: 10 }],
    [B, { venue: 'BINANCE', symbol: 'ETH-USDT', priceScale: 2, qtyScale: 4, events: 5 }],
  ]),
};

/** A valid config holding one of every kind of object (record entries and arrays included). */
function baseConfig(strategy: string): Record<string, unknown> {
  const params = strategy === 'cross-venue-arb'
    ? { legs: [{ venue: 'BINANCE', instrument: A }, { venue: 'BINANCE', instrument: B }], priceScale: 2, qtyScale: 5 }
    : strategy === 'binary-market-maker'
      ? { venue: 'BINANCE', yes: A, no: B, priceScale: 2, qtyScale: 5 }
      : { venue: 'BINANCE', instrument: A, priceScale: 2, qtyScale: 5 };
  return {
    seed: 1,
    params,
    risk: { defaults: {}, instruments: { [A]: {} }, venues: { BINANCE: { maxGrossNotional: '1000' } }, orderRate: { maxOrders: 10, windowNs: '1000' } },
    venues: [{ venue: 'BINANCE', latency: {}, fees: {}, instruments: { [A]: {} } }],
  };
}

/** Parses and resolves a config as `replay --config` does. */
function check(raw: unknown, strategy: string): void {
  resolveRunConfig(strategy, parseRunConfig(raw, 'cfg.json'), survey, 'cfg.json');
}

type Zod = { _zod: { def: Record<string, any> } };

/** Follows a zod schema along a config value: every object location with the keys its schema knows. */
function objectsIn(schema: Zod, value: unknown, at: string[], out: Array<{ path: string[]; keys: string[] }>): void {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional': case 'default': case 'nullable': case 'prefault':
      return objectsIn(def.innerType, value, at, out);
    case 'pipe':
      return objectsIn(def.in, value, at, out);
    case 'object': {
      if (value === null || typeof value !== 'object') return;
      out.push({ path: at, keys: Object.keys(def.shape) });
      for (const [k, sub] of Object.entries(def.shape)) if (k in (value as object)) objectsIn(sub as Zod, (value as Record<string, unknown>)[k], [...at, k], out);
      return;
    }
    case 'record':
      if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) objectsIn(def.valueType, v, [...at, k], out);
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => objectsIn(def.element, v, [...at, String(i)], out));
      return;
    case 'tuple':
      if (Array.isArray(value)) value.forEach((v, i) => def.items[i] && objectsIn(def.items[i], v, [...at, String(i)], out));
      return;
  }
}

/** Every config object of a strategy's config, with the schema that governs it. */
function configObjects(strategy: string): Array<{ path: string[]; keys: string[] }> {
  const cfg = baseConfig(strategy);
  const out: Array<{ path: string[]; keys: string[] }> = [{ path: [], keys: Object.keys(runConfigSchema.shape) }];
  objectsIn(getStrategy(strategy).params as unknown as Zod, cfg.params, ['params'], out);
  objectsIn(parseRiskSchema(), cfg.risk, ['risk'], out);
  (cfg.venues as unknown[]).forEach((v, i) => objectsIn(venueSchema(), v, ['venues', String(i)], out));
  return out;
}

const parseRiskSchema = (): Zod => riskConfigSchema as unknown as Zod;
const venueSchema = (): Zod => simVenueConfigSchema as unknown as Zod;

function at(obj: unknown, p: string[]): Record<string, unknown> {
  return p.reduce((o, k) => (o as Record<string, unknown>)[k], obj) as Record<string, unknown>;
}

const misspelling = (key: string) =>
  fc.tuple(fc.constantFrom('delete', 'insert', 'substitute', 'transpose'), fc.nat(key.length), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzNLTQ'.split(''))).map(([op, i, c]) => {
    const j = i % key.length;
    if (op === 'delete') return key.slice(0, j) + key.slice(j + 1);
    if (op === 'insert') return key.slice(0, i) + c + key.slice(i);
    if (op === 'substitute') return key.slice(0, j) + c + key.slice(j + 1);
    return j + 1 < key.length ? key.slice(0, j) + key[j + 1] + key[j] + key.slice(j + 2) : key + c;
  });

describe('strict config keys', () => {
  it('every strategy base config is valid as is (the property starts from a good config)', () => {
    for (const s of strategyNames()) expect(() => check(baseConfig(s), s)).not.toThrow();
    // and the walk found the nested objects a person writes
    const paths = configObjects('market-maker').map((o) => o.path.join('.'));
    for (const p of ['', 'params', 'risk', 'risk.defaults', `risk.instruments.${A}`, 'risk.venues.BINANCE', 'risk.orderRate', 'venues.0', 'venues.0.latency', 'venues.0.fees', `venues.0.instruments.${A}`]) {
      expect(paths).toContain(p);
    }
    expect(configObjects('cross-venue-arb').map((o) => o.path.join('.'))).toContain('params.legs.1');
  });

  it('property: a misspelling of any key of any config object is refused, naming the key, its path and the closest known key', () => {
    const cases = strategyNames().flatMap((s) => configObjects(s).flatMap((o) => o.keys.map((key) => ({ strategy: s, path: o.path, key, known: o.keys }))));
    expect(cases.length).toBeGreaterThan(80);
    fc.assert(
      fc.property(fc.constantFrom(...cases).chain((c) => fc.tuple(fc.constant(c), misspelling(c.key))), ([c, typo]) => {
        // only typos whose closest known key is unambiguous (and that are not a known key themselves)
        fc.pre(!c.known.includes(typo) && typo.length > 0 && c.known.every((k) => k === c.key || distance(typo, k) > distance(typo, c.key)));
        const cfg = structuredClone(baseConfig(c.strategy));
        at(cfg, c.path)[typo] = 1;
        let err: unknown;
        try {
          check(cfg, c.strategy);
        } catch (e) {
          err = e;
        }
        expect(err, `${c.path.join('.')}.${typo}`).toBeInstanceOf(TapedeckError);
        const e = err as TapedeckError;
        expect(e.code).toBe('CONFIG_INVALID');
        expect(e.where?.field).toBe([...c.path, typo].join('.'));
        expect(e.message).toContain(`unknown key "${typo}" (did you mean "${c.key}"?)`);
      }),
      { numRuns: 400 },
    );
  });

  it('the CLI refuses a misspelt limit in one line, exit 2, with the key, its path and the closest key', () => {
    const t = tmpDir('td-cfgkey-');
    const cfg = path.join(t.dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ risk: { defaults: { maxOrderQtyLot: 5 } } }));
    const r = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, 's')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown key "maxOrderQtyLot" (did you mean "maxOrderQtyLots"?)');
    expect(r.stderr).toContain('field risk.defaults.maxOrderQtyLot');
    expect(r.stderr).toContain(cfg);
    expect(fs.existsSync(path.join(t.dir, 's'))).toBe(false); // nothing was started
    fs.writeFileSync(cfg, JSON.stringify({ sed: 4 }));
    const r2 = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--config', cfg, '--store', path.join(t.dir, 's')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('unknown key "sed" (did you mean "seed"?)');
    t.cleanup();
  });
});

describe('live venue configs', () => {
  it('property: a misspelling of any key of a registered venue\'s config is refused with the closest known key', () => {
    const cases = VENUES.flatMap((v) => {
      const out: Array<{ path: string[]; keys: string[] }> = [];
      const base = JSON.parse(JSON.stringify(parseVenueConfig(v, {}))) as Record<string, unknown>;
      objectsIn(v.config as unknown as Zod, base, [], out);
      return out.flatMap((o) => o.keys.map((key) => ({ venue: v, base, path: o.path, key, known: o.keys })));
    });
    expect(cases.length).toBeGreaterThan(10);
    fc.assert(
      fc.property(fc.constantFrom(...cases).chain((c) => fc.tuple(fc.constant(c), misspelling(c.key))), ([c, typo]) => {
        fc.pre(!c.known.includes(typo) && typo.length > 0 && c.known.every((k) => k === c.key || distance(typo, k) > distance(typo, c.key)));
        const cfg = structuredClone(c.base);
        at(cfg, c.path)[typo] = 1;
        let err: unknown;
        try {
          parseVenueConfig(c.venue, cfg);
        } catch (e) {
          err = e;
        }
        expect(err, `${c.venue.id}.${[...c.path, typo].join('.')}`).toBeInstanceOf(TapedeckError);
        expect((err as TapedeckError).where?.field).toBe([c.venue.id, ...c.path, typo].join('.'));
        expect((err as TapedeckError).message).toContain(`unknown key "${typo}" (did you mean "${c.key}"?)`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('risk config merges over the defaults', () => {
  it('a partial risk config keeps the order-rate and open-order limits', () => {
    const r = resolveRunConfig('market-maker', parseRunConfig({ risk: { maxDailyLoss: '100', defaults: { maxOrderQtyLots: 3 } } }), survey);
    expect(r.risk).toMatchObject({ ...DEFAULT_RISK, maxDailyLoss: '100', defaults: { maxOrderQtyLots: 3 } });
    const parsed = parseRiskConfig(r.risk);
    expect(parsed.maxOpenOrders).toBe(50);
    expect(parsed.orderRate).toEqual({ maxOrders: 500, windowNs: 1_000_000_000n });
    expect(parsed.maxDailyLoss).not.toBeNull();
    expect(parsed.defaults.maxOrderQtyLots).toBe(3);
  });

  it('a key the config names replaces that default; null removes it', () => {
    const r = resolveRunConfig('market-maker', parseRunConfig({ risk: { maxOpenOrders: 7, orderRate: null } }), survey);
    const parsed = parseRiskConfig(r.risk);
    expect(parsed.maxOpenOrders).toBe(7);
    expect(parsed.orderRate).toBeNull();
    expect(r.risk).not.toHaveProperty('orderRate');
  });
});
