/**
 * Risk limits, validated with zod once at start-up (never on the hot path). A failing config is a
 * TapedeckError RISK_CONFIG naming the field. Money limits are decimal strings in the quote currency
 * (all instruments' quote currencies are taken as equal in value: USD, USDT and USDC alike; tapedeck
 * does no FX here) and are held as bigint at `moneyScale` decimals.
 */
import { z } from 'zod';
import { configObject } from '../core/config-object.js';
import { TapedeckError } from '../core/errors.js';
import { parseDecimal } from '../core/fixed.js';
import { formatIssues } from '../events/envelope.js';
import { instrumentId, timeNs, venue } from '../events/primitives.js';

const decimal = z.union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((s) => /^\d+(\.\d+)?$/.test(s), 'expected a non-negative decimal, e.g. "250000.50"');

const perInstrumentLimits = {
  maxOrderQtyLots: z.int().positive().optional(),
  maxOrderNotional: decimal.optional(),
  maxPositionLots: z.int().positive().optional(),
  /** Fat-finger collar: a limit price must lie within this many basis points of the reference price. */
  collarBps: z.int().positive().optional(),
};

export const riskConfigSchema = configObject({
  /** Decimal places of money limits and of notional comparisons. */
  moneyScale: z.int().min(0).max(18).default(8),
  /** Limits for instruments not listed in `instruments`. */
  defaults: configObject(perInstrumentLimits).default({}),
  instruments: z.record(instrumentId, configObject(perInstrumentLimits)).default({}),
  /** When false, an order for an instrument not in `instruments` is denied UNKNOWN_INSTRUMENT. */
  allowUnknownInstruments: z.boolean().default(true),
  /**
   * Deny (INVALID_ORDER) an order off the instrument's tick or lot grid, as recorded by InstrumentDefined (the
   * venue's own rules, e.g. a ccxt exchange's markets). Off by default: captures define the wire format's grid.
   */
  instrumentRules: z.boolean().default(false),
  /** Per venue: cap on the gross notional of all positions (and worst-case open orders) there. */
  venues: z.record(venue, configObject({ maxGrossNotional: decimal })).default({}),
  maxGrossExposure: decimal.optional(),
  maxNetExposure: decimal.optional(),
  maxOpenOrders: z.int().positive().optional(),
  /** At most `maxOrders` new orders and replaces in any `windowNs` of event time. */
  orderRate: configObject({ maxOrders: z.int().positive().max(100_000), windowNs: timeNs }).optional(),
  /** Loss (realized today + unrealized − fees today) at which only reducing orders pass. */
  maxDailyLoss: decimal.optional(),
  /** The trading day starts this many ns after UTC midnight (e.g. 0 for crypto, 13.5 h for US equities in UTC terms). */
  dayStartOffsetNs: timeNs.default(0n),
});

export type RiskConfigInput = z.input<typeof riskConfigSchema>;

export interface InstrumentLimits {
  maxOrderQtyLots: number | null;
  maxOrderNotional: bigint | null;
  maxPositionLots: number | null;
  collarBps: number | null;
}

/** The validated, normalized config the risk reducer keeps in its state. */
export interface RiskConfig {
  moneyScale: number;
  defaults: InstrumentLimits;
  instruments: Map<string, InstrumentLimits>;
  allowUnknownInstruments: boolean;
  instrumentRules: boolean;
  venueMaxGrossNotional: Map<string, bigint>;
  maxGrossExposure: bigint | null;
  maxNetExposure: bigint | null;
  maxOpenOrders: number | null;
  orderRate: { maxOrders: number; windowNs: bigint } | null;
  maxDailyLoss: bigint | null;
  dayStartOffsetNs: bigint;
}

/** Validates and normalizes a risk config. Throws TapedeckError RISK_CONFIG naming the field. */
export function parseRiskConfig(raw: unknown): RiskConfig {
  const r = riskConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new TapedeckError('RISK_CONFIG', `risk config: ${message}`, { field });
  }
  const c = r.data;
  const ms = c.moneyScale;
  const money = (s: string | undefined, field: string): bigint | null => (s === undefined ? null : parseDecimal(s, ms, field));
  const limits = (l: z.output<ReturnType<typeof configObject<typeof perInstrumentLimits>>>, at: string): InstrumentLimits => ({
    maxOrderQtyLots: l.maxOrderQtyLots ?? null,
    maxOrderNotional: money(l.maxOrderNotional, `${at}.maxOrderNotional`),
    maxPositionLots: l.maxPositionLots ?? null,
    collarBps: l.collarBps ?? null,
  });
  const instruments = new Map<string, InstrumentLimits>();
  for (const [id, l] of Object.entries(c.instruments)) {
    // Unset fields fall back to the defaults, so a per-instrument entry only says what differs.
    const d = c.defaults;
    instruments.set(id, limits({
      maxOrderQtyLots: l.maxOrderQtyLots ?? d.maxOrderQtyLots,
      maxOrderNotional: l.maxOrderNotional ?? d.maxOrderNotional,
      maxPositionLots: l.maxPositionLots ?? d.maxPositionLots,
      collarBps: l.collarBps ?? d.collarBps,
    }, `instruments.${id}`));
  }
  const venueMax = new Map<string, bigint>();
  for (const [v, l] of Object.entries(c.venues)) venueMax.set(v, parseDecimal(l.maxGrossNotional, ms, `venues.${v}.maxGrossNotional`));
  if (c.orderRate && c.orderRate.windowNs <= 0n) {
    throw new TapedeckError('RISK_CONFIG', 'risk config: orderRate.windowNs: must be positive', { field: 'orderRate.windowNs' });
  }
  return {
    moneyScale: ms,
    defaults: limits(c.defaults, 'defaults'),
    instruments,
    allowUnknownInstruments: c.allowUnknownInstruments,
    instrumentRules: c.instrumentRules,
    venueMaxGrossNotional: venueMax,
    maxGrossExposure: money(c.maxGrossExposure, 'maxGrossExposure'),
    maxNetExposure: money(c.maxNetExposure, 'maxNetExposure'),
    maxOpenOrders: c.maxOpenOrders ?? null,
    orderRate: c.orderRate ? { maxOrders: c.orderRate.maxOrders, windowNs: c.orderRate.windowNs } : null,
    maxDailyLoss: money(c.maxDailyLoss, 'maxDailyLoss'),
    dayStartOffsetNs: c.dayStartOffsetNs,
  };
}
