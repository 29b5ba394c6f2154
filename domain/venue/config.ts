/**
 * Simulated-venue configuration, validated with zod once when the venue is created (never per event).
 * A failing config is a TapedeckError SIM_VENUE_CONFIG naming the field.
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import { TapedeckError } from '../core/errors.js';
import { parseDecimal } from '../core/fixed.js';
import { formatIssues } from '../events/envelope.js';
import { currency, instrumentId, scale, timeNs, venue } from '../events/primitives.js';

const decimal = z.union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((s) => /^-?\d+(\.\d+)?$/.test(s), 'expected a decimal, e.g. "-0.25"');

const nsValue = timeNs.refine((v) => v >= 0n, 'must be ≥ 0 ns');

const feeFields = {
  /** Basis points of notional; negative for a rebate (up to 4 decimals: "-0.25"). */
  makerBps: decimal.optional(),
  takerBps: decimal.optional(),
  /** Fee per lot in the fee currency (per-share schedules); negative for a rebate. */
  makerPerLot: decimal.optional(),
  takerPerLot: decimal.optional(),
  feeCurrency: currency.optional(),
  feeScale: scale.optional(),
};

export const simVenueConfigSchema = configObject({
  venue,
  latency: configObject({
    /** Strategy → venue for a new order or a replace. */
    submitNs: nsValue.default(0n),
    /** Venue → kernel for every report (acks, fills, cancels). */
    ackNs: nsValue.default(0n),
    /** Strategy → venue for a cancel. */
    cancelNs: nsValue.default(0n),
    /** Uniform extra delay in [0, jitterNs] on each leg, from the seeded PRNG in state. */
    jitterNs: z.int().min(0).max(0xffffffff).default(0),
  }).default({ submitNs: 0n, ackNs: 0n, cancelNs: 0n, jitterNs: 0 }),
  fees: configObject(feeFields).default({}),
  instruments: z.record(instrumentId, configObject({
    tickSizeTicks: z.int().positive().optional(),
    lotSizeLots: z.int().positive().optional(),
    minQtyLots: z.int().positive().optional(),
    quoteCurrency: currency.optional(),
    ...feeFields,
  })).default({}),
  seed: z.int().default(0),
  /** A resting order fills (as maker, at its price) when the opposite displayed book moves strictly through it. */
  fillOnBookCross: z.boolean().default(true),
  /** DAY orders expire at this offset after UTC midnight (default: midnight). */
  dayEndOffsetNs: nsValue.default(0n),
  /** Bounds (TigerBeetle's habit): beyond them commands are rejected, never queued without limit. */
  maxLiveOrders: z.int().positive().default(100_000),
  maxInFlight: z.int().positive().default(1_000_000),
});

export type SimVenueConfigInput = z.input<typeof simVenueConfigSchema>;

export interface FeeSchedule {
  /** bps at scale 4 (1 bps = 10_000). */
  makerBps4: bigint;
  takerBps4: bigint;
  /** Per-lot fee at feeScale. */
  makerPerLot: bigint;
  takerPerLot: bigint;
  feeCurrency: string | null;
  feeScale: number;
}

export interface SimInstrumentRules {
  tickSizeTicks: number;
  lotSizeLots: number;
  minQtyLots: number;
  quoteCurrency: string | null;
  fees: FeeSchedule;
}

export interface SimVenueConfig {
  venue: string;
  submitLatencyNs: bigint;
  ackLatencyNs: bigint;
  cancelLatencyNs: bigint;
  jitterNs: number;
  seed: number;
  fillOnBookCross: boolean;
  dayEndOffsetNs: bigint;
  maxLiveOrders: number;
  maxInFlight: number;
  defaultRules: SimInstrumentRules;
  instruments: Map<string, SimInstrumentRules>;
}

type FeeInput = { [K in keyof typeof feeFields]?: string | number | undefined };

function fees(f: FeeInput, base: FeeSchedule | null, at: string): FeeSchedule {
  const feeScale = (f.feeScale as number | undefined) ?? base?.feeScale ?? 8;
  const d = (v: string | number | undefined, sc: number, field: string, dflt: bigint): bigint =>
    v === undefined ? dflt : parseDecimal(String(v), sc, `${at}.${field}`);
  return {
    makerBps4: d(f.makerBps, 4, 'makerBps', base?.makerBps4 ?? 0n),
    takerBps4: d(f.takerBps, 4, 'takerBps', base?.takerBps4 ?? 0n),
    makerPerLot: d(f.makerPerLot, feeScale, 'makerPerLot', base?.makerPerLot ?? 0n),
    takerPerLot: d(f.takerPerLot, feeScale, 'takerPerLot', base?.takerPerLot ?? 0n),
    feeCurrency: (f.feeCurrency as string | undefined) ?? base?.feeCurrency ?? null,
    feeScale,
  };
}

export function parseSimVenueConfig(raw: unknown): SimVenueConfig {
  const r = simVenueConfigSchema.safeParse(raw);
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('SIM_VENUE_CONFIG', `simulated venue config: ${message}`, { field });
  }
  const c = r.data;
  const baseFees = fees(c.fees, null, 'fees');
  const defaultRules: SimInstrumentRules = { tickSizeTicks: 1, lotSizeLots: 1, minQtyLots: 1, quoteCurrency: null, fees: baseFees };
  const instruments = new Map<string, SimInstrumentRules>();
  for (const [id, i] of Object.entries(c.instruments)) {
    instruments.set(id, {
      tickSizeTicks: i.tickSizeTicks ?? 1,
      lotSizeLots: i.lotSizeLots ?? 1,
      minQtyLots: i.minQtyLots ?? i.lotSizeLots ?? 1,
      quoteCurrency: i.quoteCurrency ?? null,
      fees: fees(i, baseFees, `instruments.${id}`),
    });
  }
  return {
    venue: c.venue,
    submitLatencyNs: c.latency.submitNs,
    ackLatencyNs: c.latency.ackNs,
    cancelLatencyNs: c.latency.cancelNs,
    jitterNs: c.latency.jitterNs,
    seed: c.seed,
    fillOnBookCross: c.fillOnBookCross,
    dayEndOffsetNs: c.dayEndOffsetNs,
    maxLiveOrders: c.maxLiveOrders,
    maxInFlight: c.maxInFlight,
    defaultRules,
    instruments,
  };
}
