/**
 * The event catalogue: every event type tapedeck writes, with its zod schema and schema version.
 * Events are named in the past tense (`OrderFilled`); commands, elsewhere, in the imperative.
 * Adding a type: add its schema here and to CATALOG; bump `version` when a payload changes shape.
 */
import { z } from 'zod';
import { bigMantissa, currency, instrumentId, lots, nonEmpty, scale, side, signedLots, ticks, timeNs, venue } from './primitives.js';

// ---------- market data ----------
const instrumentRef = { venue, instrument: instrumentId };

export const InstrumentDefined = z.object({
  ...instrumentRef,
  symbol: nonEmpty,
  kind: z.enum(['spot', 'perpetual', 'future', 'option', 'equity', 'prediction', 'other']),
  baseCurrency: currency.optional(),
  quoteCurrency: currency,
  priceScale: scale,
  qtyScale: scale,
  tickSizeTicks: ticks.positive(),
  lotSizeLots: lots.positive(),
  /** NASDAQ stock locate, venue-native numeric ids. */
  locate: z.int().nonnegative().optional(),
});

export const TradeReported = z.object({
  ...instrumentRef,
  tradeId: nonEmpty,
  priceTicks: ticks,
  qtyLots: lots,
  priceScale: scale,
  qtyScale: scale,
  aggressor: z.enum(['buy', 'sell', 'unknown']),
  /** ITCH cross trades and similar prints that do not take displayed liquidity. */
  cross: z.boolean().optional(),
});

export const QuoteUpdated = z.object({
  ...instrumentRef,
  bidPriceTicks: ticks.nullable(),
  bidQtyLots: lots,
  askPriceTicks: ticks.nullable(),
  askQtyLots: lots,
  priceScale: scale,
  qtyScale: scale,
  sequence: z.int().nonnegative().optional(),
  /** false when the venue sent prices without sizes (Coinbase ticker before 2022): the qty fields are 0, not "empty". */
  sizesReported: z.boolean().optional(),
});

const level = z.tuple([ticks, lots]);

export const BookSnapshotted = z.object({
  ...instrumentRef,
  /** [priceTicks, qtyLots], bids best (highest) first, asks best (lowest) first. */
  bids: z.array(level),
  asks: z.array(level),
  priceScale: scale,
  qtyScale: scale,
  sequence: z.int().nonnegative().optional(),
  /** Levels per side the venue maintains for this subscription (Kraken book-N): keep only the best `depth` after each delta. */
  depth: z.int().positive().optional(),
});

export const BookDeltaApplied = z.object({
  ...instrumentRef,
  /** qtyLots 0 removes the level. */
  changes: z.array(z.object({ side, priceTicks: ticks, qtyLots: lots })),
  priceScale: scale,
  qtyScale: scale,
  firstSequence: z.int().nonnegative().optional(),
  sequence: z.int().nonnegative().optional(),
});

const l3 = { ...instrumentRef, orderRef: nonEmpty, priceScale: scale, qtyScale: scale };

export const BookOrderAdded = z.object({ ...l3, side, priceTicks: ticks, qtyLots: lots, mpid: z.string().optional() });
export const BookOrderExecuted = z.object({
  ...l3,
  executedLots: lots,
  matchNumber: nonEmpty,
  /** Present when the execution happened at a price other than the order's (ITCH 'C'). */
  priceTicks: ticks.optional(),
  printable: z.boolean().optional(),
});
export const BookOrderCanceled = z.object({ ...l3, canceledLots: lots });
export const BookOrderDeleted = z.object({ ...l3 });
export const BookOrderReplaced = z.object({ ...l3, newOrderRef: nonEmpty, priceTicks: ticks, qtyLots: lots });
/** An execute or cancel for an order the book never saw: reported, never thrown. */
export const BookAnomalyReported = z.object({
  ...instrumentRef,
  kind: nonEmpty,
  detail: z.string(),
  orderRef: z.string().optional(),
  /** Sequence gaps (kind `sequence-gap`): the update id the book expected next, and the ids it got instead. */
  expectedSequence: z.int().nonnegative().optional(),
  firstSequence: z.int().nonnegative().optional(),
  sequence: z.int().nonnegative().optional(),
});

export const TradingStatusChanged = z.object({
  ...instrumentRef,
  status: z.enum(['trading', 'halted', 'paused', 'quotation-only', 'closed', 'pre-open', 'unknown']),
  reason: z.string().optional(),
});

// ---------- order lifecycle ----------
const orderRef = { orderId: nonEmpty };

/** Why an order was decided: enough to audit it back to the tick. */
export const DecisionContext = z.object({
  strategyId: nonEmpty,
  strategyCodeHash: nonEmpty,
  configHash: nonEmpty,
  stateHash: nonEmpty,
  causeEventId: nonEmpty,
  /** The cause's revision in the run stream (its global position is known only once stored: projections resolve it). */
  causeRevision: z.int().nonnegative().nullable().optional(),
  /** Written by runs recorded before causeRevision (a predicted global position); read, never written now. */
  causePosition: z.int().nonnegative().nullable().optional(),
  /**
   * In a run that references its inputs (InputsReferenced) instead of holding them: the cause's number
   * among the referenced inputs, from 0 in the order the kernel read them (causeRevision is then null).
   */
  causeInput: z.int().nonnegative().optional(),
  runId: z.string().optional(),
});

export const OrderIntended = z.object({
  ...orderRef,
  ...instrumentRef,
  side,
  orderType: z.enum(['limit', 'market']),
  priceTicks: ticks.nullable(),
  qtyLots: lots.positive(),
  priceScale: scale,
  qtyScale: scale,
  timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'DAY']),
  postOnly: z.boolean().default(false),
  reduceOnly: z.boolean().default(false),
  clientTag: z.string().optional(),
  decision: DecisionContext,
});

export const riskDenialCode = z.enum([
  'MAX_ORDER_QTY', 'MAX_ORDER_NOTIONAL', 'PRICE_COLLAR', 'POSITION_LIMIT', 'VENUE_POSITION_LIMIT',
  'GROSS_EXPOSURE', 'NET_EXPOSURE', 'MAX_OPEN_ORDERS', 'ORDER_RATE', 'DAILY_LOSS', 'REDUCE_ONLY',
  'KILL_SWITCH', 'NO_REFERENCE_PRICE', 'UNKNOWN_INSTRUMENT', 'INVALID_ORDER',
]);
export type RiskDenialCode = z.infer<typeof riskDenialCode>;

export const RiskApproved = z.object({ ...orderRef, checks: z.array(nonEmpty) });
export const RiskDenied = z.object({ ...orderRef, code: riskDenialCode, detail: z.string() });
export const OrderSubmitted = z.object({ ...orderRef, venue, attempt: z.int().positive().default(1) });
export const OrderAccepted = z.object({ ...orderRef, venueOrderId: nonEmpty });
export const OrderRejected = z.object({ ...orderRef, reason: z.string(), venueCode: z.string().optional() });
export const OrderReplaced = z.object({
  ...orderRef,
  priceTicks: ticks.nullable(),
  qtyLots: lots.positive(),
  venueOrderId: z.string().optional(),
});
export const CancelRequested = z.object({ ...orderRef, reason: z.string().optional() });
export const OrderCanceled = z.object({ ...orderRef, canceledLots: lots, reason: z.string().optional() });
export const OrderExpired = z.object({ ...orderRef });
export const OrderFilled = z.object({
  ...orderRef,
  ...instrumentRef,
  /** Deterministic: derived from the venue's trade/execution id. */
  fillId: nonEmpty,
  side,
  priceTicks: ticks,
  qtyLots: lots.positive(),
  priceScale: scale,
  qtyScale: scale,
  /** Fee in `feeCurrency` at `feeScale`; negative for a rebate. */
  fee: bigMantissa,
  feeScale: scale,
  feeCurrency: currency,
  liquidity: z.enum(['maker', 'taker', 'unknown']),
  leavesLots: lots,
});
export const OrderStatusUnknown = z.object({ ...orderRef, reason: z.string() });
/** A message as it went out on the wire to a venue (its bytes in the envelope's raw), for audit. */
export const VenueMessageSent = z.object({ ...orderRef, venue, messageType: nonEmpty });
/**
 * A replace on its way to the venue (after risk passed it). Lets the lifecycle and the strategy know a
 * replace is in flight, as CancelRequested does for cancels. `qtyLots` is the new TOTAL order quantity.
 */
export const ReplaceRequested = z.object({ ...orderRef, priceTicks: ticks.nullable(), qtyLots: lots.positive() });
/** A replace that did not happen: denied by risk (`code` set) or refused by the venue; the order is unchanged. */
export const ReplaceRejected = z.object({ ...orderRef, reason: z.string(), code: riskDenialCode.optional() });
/** A cancel the venue refused (unknown order, already done); the order is unchanged. */
export const CancelRejected = z.object({ ...orderRef, reason: z.string() });

// ---------- account and reconciliation ----------
export const BalanceReported = z.object({ venue, currency, total: bigMantissa, available: bigMantissa, scale });
export const PositionReported = z.object({ ...instrumentRef, qtyLots: signedLots, qtyScale: scale });
export const ReconciliationCompleted = z.object({
  venue,
  ok: z.boolean(),
  mismatches: z.array(z.object({ what: nonEmpty, key: nonEmpty, expected: z.string(), actual: z.string() })),
});

/**
 * A venue's session started afresh (SoupBinTCP: another session id, or sequence numbers that went back):
 * what it said in the old session and we did not read is unknown. Trading halts until reconciled.
 */
export const VenueSessionReset = z.object({ venue, previousSession: z.string(), session: z.string(), reason: z.string() });

// ---------- control ----------
/**
 * The kill switch: ACTIVE, REDUCING (only orders that lower risk), HALTED (only cancels). Without
 * `venue` it holds for every venue; with it, for that venue (the stricter of the two applies). `by`
 * names who set it (an operator through `tapedeck serve`, or `engine`); the envelope's time says when.
 */
export const KillSwitchChanged = z.object({
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string(),
  by: nonEmpty,
  venue: venue.optional(),
});
/** An operator asked to cancel every working order (of `venue`, or of every venue): who, and why. */
export const CancelAllRequested = z.object({
  reason: z.string(),
  by: nonEmpty,
  venue: venue.optional(),
});
export const TimerFired = z.object({ timerId: nonEmpty, scheduledNs: timeNs });

// ---------- run lifecycle ----------
export const RunManifest = z.object({
  runId: nonEmpty,
  mode: z.enum(['replay', 'paper', 'live', 'parity']),
  strategy: nonEmpty,
  codeHash: nonEmpty,
  configHash: nonEmpty,
  seed: z.int(),
  source: z.string(),
  dataRange: z.object({ fromNs: timeNs.nullable(), toNs: timeNs.nullable() }),
  config: z.record(z.string(), z.unknown()).optional(),
  /** The process that writes the run: the next writer marks the run abandoned once it is gone. */
  owner: z.object({ pid: z.int().positive(), host: z.string() }).optional(),
});
export const RunStarted = z.object({ manifest: RunManifest });
export const RunEnded = z.object({
  runId: nonEmpty,
  /** `halted`: the source ended (or was stopped) while the kill switch was HALTED; `reason` says why it halted. */
  outcome: z.enum(['completed', 'failed', 'stopped', 'halted']),
  reason: z.string().optional(),
  events: z.int().nonnegative(),
  decisions: z.int().nonnegative(),
  decisionsHash: z.string(),
  /** Event times of the first and last input: a streaming source learns its range only at the end. */
  dataRange: z.object({ fromNs: timeNs.nullable(), toNs: timeNs.nullable() }).optional(),
});

/**
 * A run whose owner process is gone without RunEnded (killed, crashed), marked by the next writer to
 * open the store. What the run kept ends at `lastPosition`/`lastRevision`; nothing after it was durable.
 * Not an end: a run that can be resumed (a bus worker) may continue after it and end normally.
 */
export const RunAbandoned = z.object({
  runId: nonEmpty,
  reason: z.string(),
  lastPosition: z.int().nonnegative(),
  lastRevision: z.int().nonnegative(),
  owner: z.object({ pid: z.int().positive(), host: z.string() }).optional(),
});

// ---------- outcome markets (prediction markets: Polymarket, Kalshi) ----------
/**
 * A fill the venue undid after reporting it: a Polymarket trade that went MATCHED → FAILED on chain.
 * The same facts as the OrderFilled it reverses (`fillId`); the portfolio takes back exactly what that
 * fill booked. The order's lifecycle is not changed (the venue's matched size does not go back either).
 */
export const FillReversed = z.object({
  ...orderRef,
  ...instrumentRef,
  fillId: nonEmpty,
  side,
  priceTicks: ticks,
  qtyLots: lots.positive(),
  priceScale: scale,
  qtyScale: scale,
  fee: bigMantissa,
  feeScale: scale,
  feeCurrency: currency,
  reason: z.string(),
});
/**
 * The outcome tokens of one binary market (YES and NO): one of each is a complete set, worth
 * `payoutTicks` (1 at `priceScale`) at resolution. Positions held in both net against complete sets.
 */
export const OutcomeMarketDefined = z.object({
  venue,
  market: nonEmpty,
  yes: instrumentId,
  no: instrumentId,
  priceScale: scale,
  payoutTicks: ticks.positive(),
});
/** A market resolved: every position in its outcome tokens settles at the token's payout (1 or 0). */
export const MarketResolved = z.object({
  venue,
  market: nonEmpty,
  payouts: z.array(z.object({ instrument: instrumentId, payoutTicks: ticks.nonnegative() })).min(1),
  priceScale: scale,
});

/**
 * A run's inputs are market data stored once elsewhere, not copied into its stream: this names them, right
 * after RunStarted. Inputs are numbered from 0 in the order the kernel read them; a decision cites its cause
 * by id and number (DecisionContext.causeInput), and every other event of the run stream carries
 * `metadata.inputs`, how many inputs the kernel had read when it was made, so a reader can put the two
 * back in the kernel's order. Readers (parity, audit, slippage) check the checksums before use and refuse
 * when the data is missing or changed.
 */
export const InputsReferenced = z.object({
  runId: nonEmpty,
  source: z.discriminatedUnion('kind', [
    z.object({
      /** A dataset of the Parquet catalog (datasets/catalog): its files and their SHA-256, as its manifest had them. */
      kind: z.literal('catalog'),
      /** The catalog directory as the run saw it (absolute); a reader may be pointed elsewhere. */
      catalog: z.string().min(1),
      datasetId: nonEmpty,
      files: z.array(z.object({ path: nonEmpty, rows: z.int().nonnegative(), bytes: z.int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
    }),
    z.object({
      /** A recording read as is (an ITCH day, a capture): its inputs are what its reader yields, in order. */
      kind: z.literal('file'),
      /** The recording replayed, absolute, as the run read it. */
      path: z.string().min(1),
      /** Every file its reader read (the recording, and a capture's REST companions beside it), absolute. */
      files: z.array(z.object({ path: z.string().min(1), bytes: z.int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
    }),
    z.object({
      /**
       * A market-data stream of this store that a paper or live session wrote as the data arrived (input n is
       * its revision n). Only market data is referenced: venue reports and control inputs stay in the run stream.
       */
      kind: z.literal('stream'),
      stream: nonEmpty,
    }),
  ]),
  /**
   * Inputs in the referenced data, or null when not known as the run starts (a file read as it goes). The
   * run reads them from the first; RunEnded.events says how many it read.
   */
  inputs: z.int().nonnegative().nullable(),
});

/**
 * A time bar the venue computed and sent (Alpaca's `b`): open, high, low, close and volume over the bar that
 * starts at `startNs` and lasts `durationNs`. The event time is the venue's bar time as sent.
 */
export const BarClosed = z.object({
  ...instrumentRef,
  startNs: timeNs,
  durationNs: timeNs,
  openTicks: ticks,
  highTicks: ticks,
  lowTicks: ticks,
  closeTicks: ticks,
  volumeLots: lots,
  trades: z.int().nonnegative().optional(),
  priceScale: scale,
  qtyScale: scale,
});

/** type → { schema, version }. The store accepts any type; `--strict` and the kernel check this. */
export const CATALOG = {
  InstrumentDefined: { schema: InstrumentDefined, version: 1, category: 'market' },
  TradeReported: { schema: TradeReported, version: 1, category: 'market' },
  QuoteUpdated: { schema: QuoteUpdated, version: 1, category: 'market' },
  BookSnapshotted: { schema: BookSnapshotted, version: 1, category: 'market' },
  BookDeltaApplied: { schema: BookDeltaApplied, version: 1, category: 'market' },
  BookOrderAdded: { schema: BookOrderAdded, version: 1, category: 'market' },
  BookOrderExecuted: { schema: BookOrderExecuted, version: 1, category: 'market' },
  BookOrderCanceled: { schema: BookOrderCanceled, version: 1, category: 'market' },
  BookOrderDeleted: { schema: BookOrderDeleted, version: 1, category: 'market' },
  BookOrderReplaced: { schema: BookOrderReplaced, version: 1, category: 'market' },
  BookAnomalyReported: { schema: BookAnomalyReported, version: 1, category: 'market' },
  TradingStatusChanged: { schema: TradingStatusChanged, version: 1, category: 'market' },
  OrderIntended: { schema: OrderIntended, version: 1, category: 'order' },
  RiskApproved: { schema: RiskApproved, version: 1, category: 'order' },
  RiskDenied: { schema: RiskDenied, version: 1, category: 'order' },
  OrderSubmitted: { schema: OrderSubmitted, version: 1, category: 'order' },
  OrderAccepted: { schema: OrderAccepted, version: 1, category: 'order' },
  OrderRejected: { schema: OrderRejected, version: 1, category: 'order' },
  OrderReplaced: { schema: OrderReplaced, version: 1, category: 'order' },
  CancelRequested: { schema: CancelRequested, version: 1, category: 'order' },
  OrderCanceled: { schema: OrderCanceled, version: 1, category: 'order' },
  OrderExpired: { schema: OrderExpired, version: 1, category: 'order' },
  OrderFilled: { schema: OrderFilled, version: 1, category: 'order' },
  OrderStatusUnknown: { schema: OrderStatusUnknown, version: 1, category: 'order' },
  VenueMessageSent: { schema: VenueMessageSent, version: 1, category: 'order' },
  ReplaceRequested: { schema: ReplaceRequested, version: 1, category: 'order' },
  ReplaceRejected: { schema: ReplaceRejected, version: 1, category: 'order' },
  CancelRejected: { schema: CancelRejected, version: 1, category: 'order' },
  BalanceReported: { schema: BalanceReported, version: 1, category: 'account' },
  PositionReported: { schema: PositionReported, version: 1, category: 'account' },
  ReconciliationCompleted: { schema: ReconciliationCompleted, version: 1, category: 'account' },
  VenueSessionReset: { schema: VenueSessionReset, version: 1, category: 'account' },
  KillSwitchChanged: { schema: KillSwitchChanged, version: 1, category: 'control' },
  CancelAllRequested: { schema: CancelAllRequested, version: 1, category: 'control' },
  TimerFired: { schema: TimerFired, version: 1, category: 'control' },
  RunStarted: { schema: RunStarted, version: 1, category: 'run' },
  RunEnded: { schema: RunEnded, version: 1, category: 'run' },
  RunAbandoned: { schema: RunAbandoned, version: 1, category: 'run' },
  FillReversed: { schema: FillReversed, version: 1, category: 'order' },
  OutcomeMarketDefined: { schema: OutcomeMarketDefined, version: 1, category: 'market' },
  MarketResolved: { schema: MarketResolved, version: 1, category: 'market' },
  InputsReferenced: { schema: InputsReferenced, version: 1, category: 'run' },
  BarClosed: { schema: BarClosed, version: 1, category: 'market' },
} as const;

export type EventType = keyof typeof CATALOG;
export type PayloadOf<T extends EventType> = z.output<(typeof CATALOG)[T]['schema']>;
export type PayloadInput<T extends EventType> = z.input<(typeof CATALOG)[T]['schema']>;
export const EVENT_TYPES = Object.keys(CATALOG) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(CATALOG, type);
}
