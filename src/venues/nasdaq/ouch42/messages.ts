/**
 * OUCH 4.2 messages as typed records, and the byte layout of each.
 *
 * Direction names: the Nasdaq spec calls client→Nasdaq messages "inbound" and Nasdaq→client "outbound";
 * tapedeck is the client, so to avoid the two opposite readings we say ClientMessage (sent by us in
 * SoupBinTCP 'U' packets) and VenueMessage (sent by Nasdaq in 'S' packets). Wire type codes overlap
 * between directions ('U' is Replace Order one way and Replaced the other, 'M' Modify Order / Order
 * Modified), so each direction has its own decoder and the records are told apart by `kind`.
 *
 * Layout sources (Nasdaq's OUCH4.2.pdf was not reachable; every layout below agrees in at least two):
 * - Open-Markets-Initiative/c-structs nasdaq/Nasdaq.Equities.Orders.Ouch.v4.2.h (generated from the
 *   2019 revision of OUCH4.2.pdf): field order and sizes of every message, incl. 'G', 'F' and 'N'.
 * - wireshark/wireshark epan/dissectors/packet-ouch.c (OUCH 4.x dissector): 'D' = AIQ Canceled, and
 *   Accepted 65/66 and Replaced 79/80 bytes (the BBO Weight Indicator was added within 4.2).
 * - i01 OE NASDAQ OUCH42 Types.hpp/Messages.hpp (a C++ OUCH 4.2 client, in the code search corpus):
 *   outbound 'M' = Order Modified and 'D' = AIQ Canceled. OMI's header gives both as duplicates of
 *   'U'/'C', which collide with Replaced/Canceled, so OMI's codes there are generator slips.
 * - test/fixtures/datasets/itch/NOTES_itch_ouch_soupbintcp_moldudp64.md section 5 (lengths).
 * Not included: 'K' Price Correction, which packet-ouch.c lists for earlier 4.x but no 4.2 source has.
 *
 * Integers are big-endian and unsigned. Prices are u32 with 4 implied decimals (`OUCH_PRICE_SCALE`),
 * so `priceTicks` here is always at scale 4. Timestamps are u64 ns since midnight (venue local time).
 * Alpha fields are ASCII, left-justified, space-padded; the records hold them without the padding.
 * One-character code fields are kept as the raw character: the codec checks framing (type, length),
 * `validate.ts` checks codes against the known values, so a new code from Nasdaq never breaks decoding.
 */

export const OUCH_PRICE_SCALE = 4;
/** Time in force values are seconds; these three are special. */
export const TIF_IMMEDIATE_OR_CANCEL = 0;
export const TIF_MARKET_HOURS = 99_998;
export const TIF_SYSTEM_HOURS = 99_999;
/** Largest ordinary price, $199,999.9900 (i01 OUCH42 Types.hpp); 0x7FFFFFFF is the market-cross price. */
export const OUCH_MAX_PRICE_TICKS = 0x7735939c;
export const OUCH_MARKET_CROSS_PRICE_TICKS = 0x7fffffff;
export const ORDER_TOKEN_LENGTH = 14;

// ---------- client → venue (Nasdaq "inbound") ----------

export interface EnterOrder {
  kind: 'EnterOrder';
  orderToken: string;
  /** 'B' buy, 'S' sell, 'T' sell short, 'E' sell short exempt. */
  side: string;
  shares: number;
  stock: string;
  priceTicks: number;
  timeInForceSeconds: number;
  firm: string;
  display: string;
  capacity: string;
  intermarketSweepEligibility: string;
  minimumQuantity: number;
  crossType: string;
  customerType: string;
}

export interface ReplaceOrder {
  kind: 'ReplaceOrder';
  existingOrderToken: string;
  replacementOrderToken: string;
  shares: number;
  priceTicks: number;
  timeInForceSeconds: number;
  display: string;
  intermarketSweepEligibility: string;
  minimumQuantity: number;
}

export interface CancelOrder {
  kind: 'CancelOrder';
  orderToken: string;
  /** The new intended size; 0 cancels the whole order. */
  shares: number;
}

export interface ModifyOrder {
  kind: 'ModifyOrder';
  orderToken: string;
  side: string;
  shares: number;
}

/** Only in the 2019 revision (OMI); kept so such a session decodes. */
export interface TradeNow {
  kind: 'TradeNow';
  orderToken: string;
}

export type OuchClientMessage = EnterOrder | ReplaceOrder | CancelOrder | ModifyOrder | TradeNow;

// ---------- venue → client (Nasdaq "outbound") ----------

export interface SystemEvent {
  kind: 'SystemEvent';
  timestampNs: bigint;
  /** 'S' start of day, 'E' end of day. */
  eventCode: string;
}

interface OrderDescription {
  side: string;
  shares: number;
  stock: string;
  priceTicks: number;
  timeInForceSeconds: number;
  firm: string;
  display: string;
  orderReferenceNumber: bigint;
  capacity: string;
  intermarketSweepEligibility: string;
  minimumQuantity: number;
  crossType: string;
  /** 'L' live, 'D' dead. */
  orderState: string;
  /** null when the message is in the earlier 4.2 revision without the field (65/79 bytes). */
  bboWeightIndicator: string | null;
}

export interface Accepted extends OrderDescription {
  kind: 'Accepted';
  timestampNs: bigint;
  orderToken: string;
}

export interface Replaced extends OrderDescription {
  kind: 'Replaced';
  timestampNs: bigint;
  replacementOrderToken: string;
  previousOrderToken: string;
}

export interface Canceled {
  kind: 'Canceled';
  timestampNs: bigint;
  orderToken: string;
  decrementShares: number;
  reason: string;
}

export interface AiqCanceled {
  kind: 'AiqCanceled';
  timestampNs: bigint;
  orderToken: string;
  decrementShares: number;
  reason: string;
  quantityPreventedFromTrading: number;
  executionPriceTicks: number;
  liquidityFlag: string;
}

export interface Executed {
  kind: 'Executed';
  timestampNs: bigint;
  orderToken: string;
  executedShares: number;
  executionPriceTicks: number;
  liquidityFlag: string;
  matchNumber: bigint;
}

export interface ExecutedWithReferencePrice {
  kind: 'ExecutedWithReferencePrice';
  timestampNs: bigint;
  orderToken: string;
  executedShares: number;
  executionPriceTicks: number;
  liquidityFlag: string;
  matchNumber: bigint;
  referencePriceTicks: number;
  referencePriceType: string;
}

export interface BrokenTrade {
  kind: 'BrokenTrade';
  timestampNs: bigint;
  orderToken: string;
  matchNumber: bigint;
  reason: string;
}

export interface TradeCorrection {
  kind: 'TradeCorrection';
  timestampNs: bigint;
  orderToken: string;
  executedShares: number;
  executionPriceTicks: number;
  liquidityFlag: string;
  matchNumber: bigint;
  reason: string;
}

export interface Rejected {
  kind: 'Rejected';
  timestampNs: bigint;
  orderToken: string;
  reason: string;
}

export interface CancelPending {
  kind: 'CancelPending';
  timestampNs: bigint;
  orderToken: string;
}

export interface CancelReject {
  kind: 'CancelReject';
  timestampNs: bigint;
  orderToken: string;
}

export interface OrderPriorityUpdate {
  kind: 'OrderPriorityUpdate';
  timestampNs: bigint;
  orderToken: string;
  priceTicks: number;
  display: string;
  orderReferenceNumber: bigint;
}

export interface OrderModified {
  kind: 'OrderModified';
  timestampNs: bigint;
  orderToken: string;
  side: string;
  shares: number;
}

export type OuchVenueMessage =
  | SystemEvent
  | Accepted
  | Replaced
  | Canceled
  | AiqCanceled
  | Executed
  | ExecutedWithReferencePrice
  | BrokenTrade
  | TradeCorrection
  | Rejected
  | CancelPending
  | CancelReject
  | OrderPriorityUpdate
  | OrderModified;

export type OuchMessage = OuchClientMessage | OuchVenueMessage;

// ---------- layouts ----------

/** `char` is one byte kept as a one-character string; `alpha` is space-padded text of `size` bytes. */
export type FieldType = 'char' | 'alpha' | 'u32' | 'u64';

export interface FieldSpec {
  name: string;
  type: FieldType;
  size: number;
}

export interface MessageLayout {
  kind: string;
  /** The wire type byte as a character. */
  type: string;
  /** Fields after the type byte, in wire order. */
  fields: readonly FieldSpec[];
  /** A trailing one-byte field present only in the later revision; null in the record when absent. */
  optionalTail?: FieldSpec;
}

const c = (name: string): FieldSpec => ({ name, type: 'char', size: 1 });
const a = (name: string, size: number): FieldSpec => ({ name, type: 'alpha', size });
const u32 = (name: string): FieldSpec => ({ name, type: 'u32', size: 4 });
const u64 = (name: string): FieldSpec => ({ name, type: 'u64', size: 8 });
const token = (name = 'orderToken'): FieldSpec => a(name, ORDER_TOKEN_LENGTH);
const ts = u64('timestampNs');

export const CLIENT_LAYOUTS: readonly MessageLayout[] = [
  {
    kind: 'EnterOrder', type: 'O',
    fields: [token(), c('side'), u32('shares'), a('stock', 8), u32('priceTicks'), u32('timeInForceSeconds'), a('firm', 4),
      c('display'), c('capacity'), c('intermarketSweepEligibility'), u32('minimumQuantity'), c('crossType'), c('customerType')],
  },
  {
    kind: 'ReplaceOrder', type: 'U',
    fields: [token('existingOrderToken'), token('replacementOrderToken'), u32('shares'), u32('priceTicks'), u32('timeInForceSeconds'),
      c('display'), c('intermarketSweepEligibility'), u32('minimumQuantity')],
  },
  { kind: 'CancelOrder', type: 'X', fields: [token(), u32('shares')] },
  { kind: 'ModifyOrder', type: 'M', fields: [token(), c('side'), u32('shares')] },
  { kind: 'TradeNow', type: 'N', fields: [token()] },
];

const orderDescription = [c('side'), u32('shares'), a('stock', 8), u32('priceTicks'), u32('timeInForceSeconds'), a('firm', 4), c('display'),
  u64('orderReferenceNumber'), c('capacity'), c('intermarketSweepEligibility'), u32('minimumQuantity'), c('crossType'), c('orderState')];

export const VENUE_LAYOUTS: readonly MessageLayout[] = [
  { kind: 'SystemEvent', type: 'S', fields: [ts, c('eventCode')] },
  { kind: 'Accepted', type: 'A', fields: [ts, token(), ...orderDescription], optionalTail: c('bboWeightIndicator') },
  {
    kind: 'Replaced', type: 'U',
    fields: [ts, token('replacementOrderToken'), ...orderDescription, token('previousOrderToken')],
    optionalTail: c('bboWeightIndicator'),
  },
  { kind: 'Canceled', type: 'C', fields: [ts, token(), u32('decrementShares'), c('reason')] },
  {
    kind: 'AiqCanceled', type: 'D',
    fields: [ts, token(), u32('decrementShares'), c('reason'), u32('quantityPreventedFromTrading'), u32('executionPriceTicks'), c('liquidityFlag')],
  },
  { kind: 'Executed', type: 'E', fields: [ts, token(), u32('executedShares'), u32('executionPriceTicks'), c('liquidityFlag'), u64('matchNumber')] },
  {
    kind: 'ExecutedWithReferencePrice', type: 'G',
    fields: [ts, token(), u32('executedShares'), u32('executionPriceTicks'), c('liquidityFlag'), u64('matchNumber'),
      u32('referencePriceTicks'), c('referencePriceType')],
  },
  { kind: 'BrokenTrade', type: 'B', fields: [ts, token(), u64('matchNumber'), c('reason')] },
  {
    kind: 'TradeCorrection', type: 'F',
    fields: [ts, token(), u32('executedShares'), u32('executionPriceTicks'), c('liquidityFlag'), u64('matchNumber'), c('reason')],
  },
  { kind: 'Rejected', type: 'J', fields: [ts, token(), c('reason')] },
  { kind: 'CancelPending', type: 'P', fields: [ts, token()] },
  { kind: 'CancelReject', type: 'I', fields: [ts, token()] },
  { kind: 'OrderPriorityUpdate', type: 'T', fields: [ts, token(), u32('priceTicks'), c('display'), u64('orderReferenceNumber')] },
  { kind: 'OrderModified', type: 'M', fields: [ts, token(), c('side'), u32('shares')] },
];

/** Message length including the type byte, without the optional tail. */
export function baseLength(layout: MessageLayout): number {
  let n = 1;
  for (const f of layout.fields) n += f.size;
  return n;
}
