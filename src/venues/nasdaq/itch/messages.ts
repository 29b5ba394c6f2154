/**
 * NASDAQ TotalView-ITCH 5.0 message layouts: the one table both the object codec (codec.ts) and the
 * tests read. Field names are the spec's, in camelCase. Layouts and lengths follow the Nasdaq spec as
 * transcribed by Open Markets Initiative (c-structs Nasdaq.Equities.TotalView.Itch.v5.0.h) and checked
 * against RITCH, itchy and real BX bytes; see test/fixtures/datasets/itch/NOTES_itch_ouch_soupbintcp_moldudp64.md.
 *
 * Every message starts with the same 11-byte header: type u8, stock locate u16, tracking number u16,
 * timestamp u48 (ns since midnight, Eastern local time). Integers are big-endian; alpha fields are ASCII,
 * left-justified and space-padded, and are kept padded here (trimming is the caller's choice) so that
 * decode then encode gives back the same bytes.
 *
 * Value types: u16/u32/u48 and Price(4) are numbers (exact: all below 2^53); u64 and Price(8) are bigint.
 * Price(4) is an integer with 4 implied decimals (129600 = 12.9600), Price(8) one with 8.
 */

/** Wire kinds. `price4`/`price8` are u32/u64 integers with 4/8 implied decimals. */
export type FieldKind = 'char' | 'alpha' | 'u16' | 'u32' | 'u48' | 'u64' | 'price4' | 'price8';

type FieldDef = readonly [name: string, kind: FieldKind, width?: number];

interface LayoutDef {
  readonly name: string;
  readonly fields: readonly FieldDef[];
}

/** Type byte → layout of the fields after the common header, in wire order. */
export const ITCH_LAYOUTS = {
  S: { name: 'systemEvent', fields: [['eventCode', 'char']] },
  R: {
    name: 'stockDirectory',
    fields: [
      ['stock', 'alpha', 8], ['marketCategory', 'char'], ['financialStatusIndicator', 'char'], ['roundLotSize', 'u32'],
      ['roundLotsOnly', 'char'], ['issueClassification', 'char'], ['issueSubType', 'alpha', 2], ['authenticity', 'char'],
      ['shortSaleThresholdIndicator', 'char'], ['ipoFlag', 'char'], ['luldReferencePriceTier', 'char'], ['etpFlag', 'char'],
      ['etpLeverageFactor', 'u32'], ['inverseIndicator', 'char'],
    ],
  },
  H: { name: 'stockTradingAction', fields: [['stock', 'alpha', 8], ['tradingState', 'char'], ['reserved', 'char'], ['reason', 'alpha', 4]] },
  Y: { name: 'regShoRestriction', fields: [['stock', 'alpha', 8], ['regShoAction', 'char']] },
  L: {
    name: 'marketParticipantPosition',
    fields: [['mpid', 'alpha', 4], ['stock', 'alpha', 8], ['primaryMarketMaker', 'char'], ['marketMakerMode', 'char'], ['marketParticipantState', 'char']],
  },
  V: { name: 'mwcbDeclineLevel', fields: [['level1', 'price8'], ['level2', 'price8'], ['level3', 'price8']] },
  W: { name: 'mwcbStatus', fields: [['breachedLevel', 'char']] },
  K: {
    name: 'ipoQuotingPeriodUpdate',
    fields: [['stock', 'alpha', 8], ['ipoQuotationReleaseTime', 'u32'], ['ipoQuotationReleaseQualifier', 'char'], ['ipoPrice', 'price4']],
  },
  J: {
    name: 'luldAuctionCollar',
    fields: [
      ['stock', 'alpha', 8], ['auctionCollarReferencePrice', 'price4'], ['upperAuctionCollarPrice', 'price4'],
      ['lowerAuctionCollarPrice', 'price4'], ['auctionCollarExtension', 'u32'],
    ],
  },
  h: { name: 'operationalHalt', fields: [['stock', 'alpha', 8], ['marketCode', 'char'], ['operationalHaltAction', 'char']] },
  A: {
    name: 'addOrder',
    fields: [['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4']],
  },
  F: {
    name: 'addOrderMpid',
    fields: [
      ['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4'],
      ['attribution', 'alpha', 4],
    ],
  },
  E: { name: 'orderExecuted', fields: [['orderReferenceNumber', 'u64'], ['executedShares', 'u32'], ['matchNumber', 'u64']] },
  C: {
    name: 'orderExecutedWithPrice',
    fields: [['orderReferenceNumber', 'u64'], ['executedShares', 'u32'], ['matchNumber', 'u64'], ['printable', 'char'], ['executionPrice', 'price4']],
  },
  X: { name: 'orderCancel', fields: [['orderReferenceNumber', 'u64'], ['cancelledShares', 'u32']] },
  D: { name: 'orderDelete', fields: [['orderReferenceNumber', 'u64']] },
  U: {
    name: 'orderReplace',
    fields: [['originalOrderReferenceNumber', 'u64'], ['newOrderReferenceNumber', 'u64'], ['shares', 'u32'], ['price', 'price4']],
  },
  P: {
    name: 'trade',
    fields: [
      ['orderReferenceNumber', 'u64'], ['buySellIndicator', 'char'], ['shares', 'u32'], ['stock', 'alpha', 8], ['price', 'price4'],
      ['matchNumber', 'u64'],
    ],
  },
  Q: { name: 'crossTrade', fields: [['shares', 'u64'], ['stock', 'alpha', 8], ['crossPrice', 'price4'], ['matchNumber', 'u64'], ['crossType', 'char']] },
  B: { name: 'brokenTrade', fields: [['matchNumber', 'u64']] },
  I: {
    name: 'netOrderImbalanceIndicator',
    fields: [
      ['pairedShares', 'u64'], ['imbalanceShares', 'u64'], ['imbalanceDirection', 'char'], ['stock', 'alpha', 8], ['farPrice', 'price4'],
      ['nearPrice', 'price4'], ['currentReferencePrice', 'price4'], ['crossType', 'char'], ['priceVariationIndicator', 'char'],
    ],
  },
  N: { name: 'retailPriceImprovementIndicator', fields: [['stock', 'alpha', 8], ['interestFlag', 'char']] },
  O: {
    name: 'directListingWithCapitalRaise',
    fields: [
      ['stock', 'alpha', 8], ['openEligibilityStatus', 'char'], ['minimumAllowablePrice', 'price4'], ['maximumAllowablePrice', 'price4'],
      ['nearExecutionPrice', 'price4'], ['nearExecutionTime', 'u64'], ['lowerPriceRangeCollar', 'price4'], ['upperPriceRangeCollar', 'price4'],
    ],
  },
} as const satisfies Record<string, LayoutDef>;

export type ItchMessageType = keyof typeof ITCH_LAYOUTS;

/** All types in the order the spec lists them. */
export const ITCH_MESSAGE_TYPES = ['S', 'R', 'H', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'B', 'I', 'N', 'O'] as const satisfies readonly ItchMessageType[];

type ValueOf<K extends FieldKind> = K extends 'u64' | 'price8' ? bigint : K extends 'char' | 'alpha' ? string : number;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type FieldsOf<F extends readonly FieldDef[]> = { [D in F[number] as D[0]]: ValueOf<D[1]> };

/** The fields every message carries. `timestamp` is ns since midnight (u48, exact as a number). */
export interface ItchHeader {
  stockLocate: number;
  trackingNumber: number;
  timestamp: number;
}

export type ItchMessageOf<T extends ItchMessageType> = Simplify<{ messageType: T } & ItchHeader & FieldsOf<(typeof ITCH_LAYOUTS)[T]['fields']>>;
export type ItchMessage = { [T in ItchMessageType]: ItchMessageOf<T> }[ItchMessageType];

export type SystemEvent = ItchMessageOf<'S'>;
export type StockDirectory = ItchMessageOf<'R'>;
export type StockTradingAction = ItchMessageOf<'H'>;
export type RegShoRestriction = ItchMessageOf<'Y'>;
export type MarketParticipantPosition = ItchMessageOf<'L'>;
export type MwcbDeclineLevel = ItchMessageOf<'V'>;
export type MwcbStatus = ItchMessageOf<'W'>;
export type IpoQuotingPeriodUpdate = ItchMessageOf<'K'>;
export type LuldAuctionCollar = ItchMessageOf<'J'>;
export type OperationalHalt = ItchMessageOf<'h'>;
export type AddOrder = ItchMessageOf<'A'>;
export type AddOrderMpid = ItchMessageOf<'F'>;
export type OrderExecuted = ItchMessageOf<'E'>;
export type OrderExecutedWithPrice = ItchMessageOf<'C'>;
export type OrderCancel = ItchMessageOf<'X'>;
export type OrderDelete = ItchMessageOf<'D'>;
export type OrderReplace = ItchMessageOf<'U'>;
export type Trade = ItchMessageOf<'P'>;
export type CrossTrade = ItchMessageOf<'Q'>;
export type BrokenTrade = ItchMessageOf<'B'>;
export type NetOrderImbalanceIndicator = ItchMessageOf<'I'>;
export type RetailPriceImprovementIndicator = ItchMessageOf<'N'>;
export type DirectListingWithCapitalRaise = ItchMessageOf<'O'>;

export const ITCH_HEADER_LENGTH = 11;

const KIND_WIDTH: Record<FieldKind, number> = { char: 1, alpha: 0, u16: 2, u32: 4, u48: 6, u64: 8, price4: 4, price8: 8 };

export interface CompiledField {
  name: string;
  kind: FieldKind;
  /** From the type byte. */
  offset: number;
  width: number;
}

export interface CompiledLayout {
  type: ItchMessageType;
  typeByte: number;
  name: string;
  /** Whole message, type byte included, length prefix excluded. */
  length: number;
  fields: CompiledField[];
}

function compile(type: ItchMessageType, def: LayoutDef): CompiledLayout {
  const fields: CompiledField[] = [];
  let offset = ITCH_HEADER_LENGTH;
  for (const [name, kind, w] of def.fields) {
    const width = kind === 'alpha' ? (w ?? 0) : KIND_WIDTH[kind];
    fields.push({ name, kind, offset, width });
    offset += width;
  }
  return { type, typeByte: type.charCodeAt(0), name: def.name, length: offset, fields };
}

/** Indexed by type byte; undefined for bytes that are not an ITCH 5.0 type. */
export const LAYOUT_BY_BYTE: readonly (CompiledLayout | undefined)[] = (() => {
  const table: (CompiledLayout | undefined)[] = new Array(256).fill(undefined);
  for (const t of ITCH_MESSAGE_TYPES) table[t.charCodeAt(0)] = compile(t, ITCH_LAYOUTS[t]);
  return table;
})();

/**
 * Type byte → message length (0 = not an ITCH 5.0 type). A table, not a function, so framing code can
 * use it in its hot loop without knowing anything else about ITCH.
 */
export const ITCH_MESSAGE_LENGTHS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const l of LAYOUT_BY_BYTE) if (l) t[l.typeByte] = l.length;
  return t;
})();

export function layoutOf(type: ItchMessageType): CompiledLayout {
  return LAYOUT_BY_BYTE[type.charCodeAt(0)]!;
}

export function isItchMessageType(s: string): s is ItchMessageType {
  return s.length === 1 && LAYOUT_BY_BYTE[s.charCodeAt(0)] !== undefined;
}
