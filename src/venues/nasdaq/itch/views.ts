/**
 * The allocation-free path: flyweight views over the bytes of one ITCH 5.0 message. The parser keeps one
 * view per type and re-points it at each message, so reading a day allocates nothing per message.
 * A view is only valid inside the listener call that received it (the next message moves it).
 *
 * Offsets are written out here by hand from the spec, independently of the layout table that drives
 * the object codec; a property test checks that both read the same values from the same bytes.
 *
 * Conventions (hot-path friendly): integers are numbers; u64 fields are numbers too (exact below 2^53,
 * which real order refs and match numbers are; check with Number.isSafeInteger) with a `…Big()` twin
 * that is always exact; single-character fields return their byte (`buySellIndicator() === 0x42` is 'B');
 * alpha fields return the padded string (this allocates; use stockLocate on hot paths).
 */

const TWO_32 = 0x100000000;

export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function readU32(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function readU48(b: Uint8Array, o: number): number {
  return readU16(b, o) * TWO_32 + readU32(b, o + 2);
}

/** Exact below 2^53; above, the nearest double (which Number.isSafeInteger rejects). */
export function readU64(b: Uint8Array, o: number): number {
  return readU32(b, o) * TWO_32 + readU32(b, o + 4);
}

export function readU64Big(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32(b, o)) << 32n) | BigInt(readU32(b, o + 4));
}

export function readAlpha(b: Uint8Array, o: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) s += String.fromCharCode(b[o + i]!);
  return s;
}

const EMPTY = new Uint8Array(0);

export class ItchView {
  bytes: Uint8Array = EMPTY;
  /** Offset of the type byte in `bytes`. */
  offset = 0;

  wrap(bytes: Uint8Array, offset: number): this {
    this.bytes = bytes;
    this.offset = offset;
    return this;
  }

  messageType(): number {
    return this.bytes[this.offset]!;
  }
  stockLocate(): number {
    return readU16(this.bytes, this.offset + 1);
  }
  trackingNumber(): number {
    return readU16(this.bytes, this.offset + 3);
  }
  /** Nanoseconds since midnight. */
  timestamp(): number {
    return readU48(this.bytes, this.offset + 5);
  }
  protected u8(at: number): number {
    return this.bytes[this.offset + at]!;
  }
  protected u32(at: number): number {
    return readU32(this.bytes, this.offset + at);
  }
  protected u64(at: number): number {
    return readU64(this.bytes, this.offset + at);
  }
  protected u64Big(at: number): bigint {
    return readU64Big(this.bytes, this.offset + at);
  }
  protected alpha(at: number, width: number): string {
    return readAlpha(this.bytes, this.offset + at, width);
  }
}

/** 'S', 12 bytes. */
export class SystemEventView extends ItchView {
  eventCode(): number { return this.u8(11); }
}

/** 'R', 39 bytes. */
export class StockDirectoryView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  marketCategory(): number { return this.u8(19); }
  financialStatusIndicator(): number { return this.u8(20); }
  roundLotSize(): number { return this.u32(21); }
  roundLotsOnly(): number { return this.u8(25); }
  issueClassification(): number { return this.u8(26); }
  issueSubType(): string { return this.alpha(27, 2); }
  authenticity(): number { return this.u8(29); }
  shortSaleThresholdIndicator(): number { return this.u8(30); }
  ipoFlag(): number { return this.u8(31); }
  luldReferencePriceTier(): number { return this.u8(32); }
  etpFlag(): number { return this.u8(33); }
  etpLeverageFactor(): number { return this.u32(34); }
  inverseIndicator(): number { return this.u8(38); }
}

/** 'H', 25 bytes. */
export class StockTradingActionView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  tradingState(): number { return this.u8(19); }
  reserved(): number { return this.u8(20); }
  reason(): string { return this.alpha(21, 4); }
}

/** 'Y', 20 bytes. */
export class RegShoRestrictionView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  regShoAction(): number { return this.u8(19); }
}

/** 'L', 26 bytes. */
export class MarketParticipantPositionView extends ItchView {
  mpid(): string { return this.alpha(11, 4); }
  stock(): string { return this.alpha(15, 8); }
  primaryMarketMaker(): number { return this.u8(23); }
  marketMakerMode(): number { return this.u8(24); }
  marketParticipantState(): number { return this.u8(25); }
}

/** 'V', 35 bytes. Price(8): 8 implied decimals, so always bigint. */
export class MwcbDeclineLevelView extends ItchView {
  level1Big(): bigint { return this.u64Big(11); }
  level2Big(): bigint { return this.u64Big(19); }
  level3Big(): bigint { return this.u64Big(27); }
}

/** 'W', 12 bytes. */
export class MwcbStatusView extends ItchView {
  breachedLevel(): number { return this.u8(11); }
}

/** 'K', 28 bytes. */
export class IpoQuotingPeriodUpdateView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  /** Seconds since midnight. */
  ipoQuotationReleaseTime(): number { return this.u32(19); }
  ipoQuotationReleaseQualifier(): number { return this.u8(23); }
  ipoPrice(): number { return this.u32(24); }
}

/** 'J', 35 bytes. */
export class LuldAuctionCollarView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  auctionCollarReferencePrice(): number { return this.u32(19); }
  upperAuctionCollarPrice(): number { return this.u32(23); }
  lowerAuctionCollarPrice(): number { return this.u32(27); }
  auctionCollarExtension(): number { return this.u32(31); }
}

/** 'h', 21 bytes. */
export class OperationalHaltView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  marketCode(): number { return this.u8(19); }
  operationalHaltAction(): number { return this.u8(20); }
}

/** 'A', 36 bytes. */
export class AddOrderView extends ItchView {
  orderReferenceNumber(): number { return this.u64(11); }
  orderReferenceNumberBig(): bigint { return this.u64Big(11); }
  buySellIndicator(): number { return this.u8(19); }
  shares(): number { return this.u32(20); }
  stock(): string { return this.alpha(24, 8); }
  price(): number { return this.u32(32); }
}

/** 'F', 40 bytes: an 'A' with the market participant's attribution. */
export class AddOrderMpidView extends AddOrderView {
  attribution(): string { return this.alpha(36, 4); }
}

/** 'E', 31 bytes. */
export class OrderExecutedView extends ItchView {
  orderReferenceNumber(): number { return this.u64(11); }
  orderReferenceNumberBig(): bigint { return this.u64Big(11); }
  executedShares(): number { return this.u32(19); }
  matchNumber(): number { return this.u64(23); }
  matchNumberBig(): bigint { return this.u64Big(23); }
}

/** 'C', 36 bytes. */
export class OrderExecutedWithPriceView extends OrderExecutedView {
  printable(): number { return this.u8(31); }
  executionPrice(): number { return this.u32(32); }
}

/** 'X', 23 bytes. */
export class OrderCancelView extends ItchView {
  orderReferenceNumber(): number { return this.u64(11); }
  orderReferenceNumberBig(): bigint { return this.u64Big(11); }
  cancelledShares(): number { return this.u32(19); }
}

/** 'D', 19 bytes. */
export class OrderDeleteView extends ItchView {
  orderReferenceNumber(): number { return this.u64(11); }
  orderReferenceNumberBig(): bigint { return this.u64Big(11); }
}

/** 'U', 35 bytes. */
export class OrderReplaceView extends ItchView {
  originalOrderReferenceNumber(): number { return this.u64(11); }
  originalOrderReferenceNumberBig(): bigint { return this.u64Big(11); }
  newOrderReferenceNumber(): number { return this.u64(19); }
  newOrderReferenceNumberBig(): bigint { return this.u64Big(19); }
  shares(): number { return this.u32(27); }
  price(): number { return this.u32(31); }
}

/** 'P', 44 bytes: a match against a non-displayed order. */
export class TradeView extends ItchView {
  orderReferenceNumber(): number { return this.u64(11); }
  orderReferenceNumberBig(): bigint { return this.u64Big(11); }
  buySellIndicator(): number { return this.u8(19); }
  shares(): number { return this.u32(20); }
  stock(): string { return this.alpha(24, 8); }
  price(): number { return this.u32(32); }
  matchNumber(): number { return this.u64(36); }
  matchNumberBig(): bigint { return this.u64Big(36); }
}

/** 'Q', 40 bytes. Shares is a u64 here. */
export class CrossTradeView extends ItchView {
  shares(): number { return this.u64(11); }
  sharesBig(): bigint { return this.u64Big(11); }
  stock(): string { return this.alpha(19, 8); }
  crossPrice(): number { return this.u32(27); }
  matchNumber(): number { return this.u64(31); }
  matchNumberBig(): bigint { return this.u64Big(31); }
  crossType(): number { return this.u8(39); }
}

/** 'B', 19 bytes. */
export class BrokenTradeView extends ItchView {
  matchNumber(): number { return this.u64(11); }
  matchNumberBig(): bigint { return this.u64Big(11); }
}

/** 'I', 50 bytes. */
export class NetOrderImbalanceIndicatorView extends ItchView {
  pairedShares(): number { return this.u64(11); }
  pairedSharesBig(): bigint { return this.u64Big(11); }
  imbalanceShares(): number { return this.u64(19); }
  imbalanceSharesBig(): bigint { return this.u64Big(19); }
  imbalanceDirection(): number { return this.u8(27); }
  stock(): string { return this.alpha(28, 8); }
  farPrice(): number { return this.u32(36); }
  nearPrice(): number { return this.u32(40); }
  currentReferencePrice(): number { return this.u32(44); }
  crossType(): number { return this.u8(48); }
  priceVariationIndicator(): number { return this.u8(49); }
}

/** 'N', 20 bytes. */
export class RetailPriceImprovementIndicatorView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  interestFlag(): number { return this.u8(19); }
}

/** 'O', 48 bytes. */
export class DirectListingWithCapitalRaiseView extends ItchView {
  stock(): string { return this.alpha(11, 8); }
  openEligibilityStatus(): number { return this.u8(19); }
  minimumAllowablePrice(): number { return this.u32(20); }
  maximumAllowablePrice(): number { return this.u32(24); }
  nearExecutionPrice(): number { return this.u32(28); }
  nearExecutionTime(): number { return this.u64(32); }
  nearExecutionTimeBig(): bigint { return this.u64Big(32); }
  lowerPriceRangeCollar(): number { return this.u32(40); }
  upperPriceRangeCollar(): number { return this.u32(44); }
}
