/**
 * The simulated venue's config as the venue sees it once parsed: every default, what an instrument
 * inherits from the venue's fees, per-lot fees at the fee scale, and the field each refusal names.
 * Written from the survivors of `npm run mutate` on domain/venue (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { parseSimVenueConfig } from '../../domain/venue/config.js';

const ZERO_FEES = { makerBps4: 0n, takerBps4: 0n, makerPerLot: 0n, takerPerLot: 0n, feeCurrency: null, feeScale: 8 };

function refusal(raw: unknown): { field: unknown; message: string } {
  try {
    parseSimVenueConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(TapedeckError);
    expect((e as TapedeckError).code).toBe('SIM_VENUE_CONFIG');
    return { field: (e as TapedeckError).where?.field, message: (e as TapedeckError).message };
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

describe('simulated venue config', () => {
  it('a venue code alone: every default', () => {
    expect(parseSimVenueConfig({ venue: 'SIM' })).toEqual({
      venue: 'SIM', submitLatencyNs: 0n, ackLatencyNs: 0n, cancelLatencyNs: 0n, jitterNs: 0, seed: 0, fillOnBookCross: true,
      dayEndOffsetNs: 0n, maxLiveOrders: 100_000, maxInFlight: 1_000_000,
      defaultRules: { tickSizeTicks: 1, lotSizeLots: 1, minQtyLots: 1, quoteCurrency: null, fees: ZERO_FEES },
      instruments: new Map(),
    });
    // Latency given in part: the rest defaults to zero.
    expect(parseSimVenueConfig({ venue: 'SIM', latency: { ackNs: 5 } })).toMatchObject({ submitLatencyNs: 0n, ackLatencyNs: 5n, cancelLatencyNs: 0n, jitterNs: 0 });
  });

  it('every field given: taken as written, decimals at their scales', () => {
    const c = parseSimVenueConfig({
      venue: 'SIM', latency: { submitNs: '100', ackNs: 50, cancelNs: 7, jitterNs: 3 }, seed: 42, fillOnBookCross: false, dayEndOffsetNs: 3_600, maxLiveOrders: 9, maxInFlight: 11,
      fees: { makerBps: '-0.25', takerBps: 2, makerPerLot: '0.001', takerPerLot: '-0.5', feeCurrency: 'USD', feeScale: 4 },
    });
    expect(c).toMatchObject({ submitLatencyNs: 100n, ackLatencyNs: 50n, cancelLatencyNs: 7n, jitterNs: 3, seed: 42, fillOnBookCross: false, dayEndOffsetNs: 3_600n, maxLiveOrders: 9, maxInFlight: 11 });
    expect(c.defaultRules.fees).toEqual({ makerBps4: -2_500n, takerBps4: 20_000n, makerPerLot: 10n, takerPerLot: -5_000n, feeCurrency: 'USD', feeScale: 4 });
  });

  it('an instrument inherits the venue fees field by field, and its minimum defaults to its lot', () => {
    const c = parseSimVenueConfig({
      venue: 'SIM', fees: { makerBps: 1, takerBps: 2, makerPerLot: '0.01', takerPerLot: '0.02', feeCurrency: 'USD', feeScale: 2 },
      instruments: {
        'SIM:A': { tickSizeTicks: 5, lotSizeLots: 10, quoteCurrency: 'EUR', takerBps: 3 },
        'SIM:B': { minQtyLots: 4, feeScale: 4, makerPerLot: '0.0001', feeCurrency: 'USDT' },
      },
    });
    expect(c.instruments.get('SIM:A')).toEqual({
      tickSizeTicks: 5, lotSizeLots: 10, minQtyLots: 10, quoteCurrency: 'EUR',
      fees: { makerBps4: 10_000n, takerBps4: 30_000n, makerPerLot: 1n, takerPerLot: 2n, feeCurrency: 'USD', feeScale: 2 },
    });
    expect(c.instruments.get('SIM:B')).toEqual({
      tickSizeTicks: 1, lotSizeLots: 1, minQtyLots: 4, quoteCurrency: null,
      fees: { makerBps4: 10_000n, takerBps4: 20_000n, makerPerLot: 1n, takerPerLot: 2n, feeCurrency: 'USDT', feeScale: 4 },
    });
  });

  it('refusals name the field', () => {
    expect(refusal({ venue: 'SIM', fees: { makerBps: '1.5x' } }).field).toBe('fees.makerBps');
    expect(refusal({ venue: 'SIM', fees: { makerBps: 'x1.5' } }).field).toBe('fees.makerBps');
    expect(refusal({ venue: 'SIM', fees: { makerBps: '1.' } }).field).toBe('fees.makerBps');
    expect(refusal({ venue: 'SIM', latency: { ackNs: -1 } })).toMatchObject({ field: 'latency.ackNs', message: expect.stringContaining('must be ≥ 0 ns') });
    expect(refusal({ venue: 'SIM', latency: { jitterNs: -1 } }).field).toBe('latency.jitterNs');
    expect(refusal({ venue: 'SIM', latency: { jitterNs: 2 ** 32 } }).field).toBe('latency.jitterNs');
    expect(refusal({ venue: 'SIM', dayEndOffsetNs: -1 }).field).toBe('dayEndOffsetNs');
    expect(refusal({ venue: 'SIM', maxLiveOrders: 0 }).field).toBe('maxLiveOrders');
    expect(refusal({ venue: 'SIM', maxInFlight: 0 }).field).toBe('maxInFlight');
    expect(refusal({ venue: 'SIM', instruments: { 'SIM:A': { lotSizeLots: 0 } } }).field).toBe('instruments.SIM:A.lotSizeLots');
    // A fee finer than its scale names the field where it was written.
    expect(() => parseSimVenueConfig({ venue: 'SIM', instruments: { 'SIM:A': { feeScale: 2, takerPerLot: '0.001' } } })).toThrow(/instruments\.SIM:A\.takerPerLot/);
    expect(() => parseSimVenueConfig({ venue: 'SIM', fees: { takerBps: '0.00001' } })).toThrow(/fees\.takerBps/);
    expect(() => parseSimVenueConfig({ venue: 'SIM', fees: { makerBps: '0.00001' } })).toThrow(/fees\.makerBps/);
    expect(() => parseSimVenueConfig({ venue: 'SIM', fees: { feeScale: 2, makerPerLot: '0.001' } })).toThrow(/fees\.makerPerLot/);
    // The limits themselves are accepted.
    expect(parseSimVenueConfig({ venue: 'SIM', latency: { jitterNs: 2 ** 32 - 1 }, dayEndOffsetNs: 0 }).jitterNs).toBe(2 ** 32 - 1);
  });
});
