/**
 * The risk config as risk sees it once parsed: every default, per-instrument limits falling back to the
 * defaults field by field, money at its scale, and the field each refusal names. Written from the
 * survivors of `npm run mutate` on domain/risk (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { parseRiskConfig } from '../../domain/risk/config.js';

const NONE = { maxOrderQtyLots: null, maxOrderNotional: null, maxPositionLots: null, collarBps: null };

function refusal(raw: unknown): { code: string; field: unknown; message: string } {
  try {
    parseRiskConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(TapedeckError);
    const t = e as TapedeckError;
    return { code: t.code, field: t.where?.field, message: t.message };
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

describe('risk config', () => {
  it('nothing given: every default, no limit in force', () => {
    const expected = {
      moneyScale: 8, defaults: NONE, instruments: new Map(), allowUnknownInstruments: true, instrumentRules: false, venueMaxGrossNotional: new Map(),
      maxGrossExposure: null, maxNetExposure: null, maxOpenOrders: null, orderRate: null, maxDailyLoss: null, dayStartOffsetNs: 0n,
    };
    expect(parseRiskConfig(undefined)).toEqual(expected);
    expect(parseRiskConfig({})).toEqual(expected);
  });

  it('every field given: money at the money scale, decimals as strings or numbers', () => {
    expect(parseRiskConfig({
      moneyScale: 2, defaults: { maxOrderQtyLots: 5, maxOrderNotional: '250000.50', maxPositionLots: 7, collarBps: 30 },
      allowUnknownInstruments: false, instrumentRules: true, venues: { SIM: { maxGrossNotional: 1000 } },
      maxGrossExposure: '10', maxNetExposure: '5.5', maxOpenOrders: 3, orderRate: { maxOrders: 4, windowNs: '1000' }, maxDailyLoss: 50, dayStartOffsetNs: 3_600,
    })).toEqual({
      moneyScale: 2, defaults: { maxOrderQtyLots: 5, maxOrderNotional: 25_000_050n, maxPositionLots: 7, collarBps: 30 }, instruments: new Map(),
      allowUnknownInstruments: false, instrumentRules: true, venueMaxGrossNotional: new Map([['SIM', 100_000n]]),
      maxGrossExposure: 1_000n, maxNetExposure: 550n, maxOpenOrders: 3, orderRate: { maxOrders: 4, windowNs: 1_000n }, maxDailyLoss: 5_000n, dayStartOffsetNs: 3_600n,
    });
  });

  it('an instrument entry says only what differs: each unset field falls back to the defaults', () => {
    const c = parseRiskConfig({
      moneyScale: 0, defaults: { maxOrderQtyLots: 5, maxOrderNotional: '100', maxPositionLots: 7, collarBps: 30 },
      instruments: { 'SIM:A': { maxOrderQtyLots: 1 }, 'SIM:B': { maxOrderNotional: '9', maxPositionLots: 2, collarBps: 4 }, 'SIM:C': {} },
    });
    expect(c.instruments.get('SIM:A')).toEqual({ maxOrderQtyLots: 1, maxOrderNotional: 100n, maxPositionLots: 7, collarBps: 30 });
    expect(c.instruments.get('SIM:B')).toEqual({ maxOrderQtyLots: 5, maxOrderNotional: 9n, maxPositionLots: 2, collarBps: 4 });
    expect(c.instruments.get('SIM:C')).toEqual(c.defaults);
  });

  it('the edges of each range', () => {
    expect(parseRiskConfig({ moneyScale: 0 }).moneyScale).toBe(0);
    expect(parseRiskConfig({ moneyScale: 18 }).moneyScale).toBe(18);
    expect(parseRiskConfig({ orderRate: { maxOrders: 100_000, windowNs: 1 } }).orderRate).toEqual({ maxOrders: 100_000, windowNs: 1n });
    for (const [raw, field] of [
      [{ moneyScale: -1 }, 'moneyScale'], [{ moneyScale: 19 }, 'moneyScale'],
      [{ defaults: { maxOrderQtyLots: 0 } }, 'defaults.maxOrderQtyLots'], [{ defaults: { maxPositionLots: 0 } }, 'defaults.maxPositionLots'],
      [{ defaults: { collarBps: 0 } }, 'defaults.collarBps'], [{ maxOpenOrders: 0 }, 'maxOpenOrders'],
      [{ orderRate: { maxOrders: 100_001, windowNs: 1 } }, 'orderRate.maxOrders'], [{ orderRate: { maxOrders: 0, windowNs: 1 } }, 'orderRate.maxOrders'],
      [{ maxGrossExposure: '-1' }, 'maxGrossExposure'], [{ maxGrossExposure: 'x1' }, 'maxGrossExposure'], [{ maxGrossExposure: '1x' }, 'maxGrossExposure'],
      [{ maxGrossExposure: '1.' }, 'maxGrossExposure'], [{ maxNetExposure: '' }, 'maxNetExposure'],
    ] as const) {
      expect(refusal(raw), JSON.stringify(raw)).toMatchObject({ code: 'RISK_CONFIG', field });
    }
  });

  it('a window of zero is refused, naming it', () => {
    expect(refusal({ orderRate: { maxOrders: 1, windowNs: 0 } })).toEqual({ code: 'RISK_CONFIG', field: 'orderRate.windowNs', message: 'risk config: orderRate.windowNs: must be positive' });
  });

  it('money finer than the money scale is refused, naming where it was written', () => {
    expect(refusal({ moneyScale: 2, maxDailyLoss: '1.001' }).field).toBe('maxDailyLoss');
    expect(refusal({ moneyScale: 2, maxGrossExposure: '1.001' }).field).toBe('maxGrossExposure');
    expect(refusal({ moneyScale: 2, maxNetExposure: '1.001' }).field).toBe('maxNetExposure');
    expect(refusal({ moneyScale: 2, defaults: { maxOrderNotional: '1.001' } }).field).toBe('defaults.maxOrderNotional');
    expect(refusal({ moneyScale: 2, instruments: { 'SIM:A': { maxOrderNotional: '1.001' } } }).field).toBe('instruments.SIM:A.maxOrderNotional');
    expect(refusal({ moneyScale: 2, venues: { SIM: { maxGrossNotional: '1.001' } } }).field).toBe('venues.SIM.maxGrossNotional');
  });
});
