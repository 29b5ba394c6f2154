/**
 * Polymarket CLOB user channel (wss://ws-subscriptions-clob.polymarket.com/ws/user): our orders and our
 * trades, as venue-level records the execution client turns into order events once it has matched the
 * order hash to our order (the hash is stored with the signed order before it is sent).
 *
 *   order  {type PLACEMENT | UPDATE | CANCELLATION, id = order hash, original_size, size_matched, ...}
 *          → PolymarketOrderUpdate. A CANCELLATION can come for an order already fully matched
 *          (size_matched = original_size): it says nothing about fills.
 *   trade  {id, status MATCHED → MINED → CONFIRMED, or (RETRYING →) FAILED, ...} → PolymarketTrade with
 *          OUR fills only:
 *            - we are the maker (trader_side MAKER): our fills are the `maker_orders` entries whose
 *              `owner` is our API key — one per maker order, an owner can have several in one trade —
 *              at the entry's price and matched_amount (the top-level price and size are the taker's);
 *            - we are the taker (trader_side TAKER): the top-level taker_order_id, price, size, side.
 *          A maker entry without `side` (older messages) on the taker's token took the other side; one
 *          on the complementary token (a YES taker matched against a NO maker) took the same side.
 *
 * The same trade id is re-sent at each status: `TradeFolder` folds it once. The first non-failed status
 * seen books the fills; later statuses book nothing; FAILED after a booking reverses exactly what was
 * booked; a FAILED trade never books again. Fill keys are (trade id, our order hash).
 *
 * Times: `timestamp` is ms on some messages and seconds on others (recorded both): told by magnitude.
 */
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { epochToNs, frameText, parseJson, toInt, validate, type FrameContext } from '../common/frame.js';
import { VenueClock } from '../common/event-time.js';
import { PRICE_SCALE, QTY_SCALE, polymarketInstrumentId } from './parse.js';

const dec = z.string().regex(/^\d*\.?\d+$/, 'a decimal string');
const epoch = z.string().regex(/^\d{1,16}$/, 'an epoch time');
const sideWire = z.enum(['BUY', 'SELL']);
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'an order hash');

const OrderMsg = z.looseObject({
  event_type: z.literal('order'),
  id: hash,
  asset_id: z.string().regex(/^\d{1,80}$/),
  market: z.string().min(1),
  side: sideWire,
  price: dec,
  original_size: dec,
  size_matched: dec,
  type: z.enum(['PLACEMENT', 'UPDATE', 'CANCELLATION']),
  status: z.string().optional(),
  owner: z.string().optional(),
  timestamp: epoch,
});

const MakerOrder = z.looseObject({
  order_id: hash,
  owner: z.string().min(1),
  asset_id: z.string().regex(/^\d{1,80}$/),
  matched_amount: dec,
  price: dec,
  side: sideWire.optional(),
  fee_rate_bps: dec.optional(),
});

export const TRADE_STATUSES = ['MATCHED', 'MINED', 'CONFIRMED', 'RETRYING', 'FAILED'] as const;
export type TradeStatus = (typeof TRADE_STATUSES)[number];

const TradeMsg = z.looseObject({
  event_type: z.literal('trade'),
  id: z.string().min(1).max(128),
  asset_id: z.string().regex(/^\d{1,80}$/),
  market: z.string().min(1),
  side: sideWire,
  price: dec,
  size: dec,
  status: z.enum(TRADE_STATUSES),
  taker_order_id: hash,
  owner: z.string().min(1).optional(),
  trader_side: z.enum(['MAKER', 'TAKER']).optional(),
  maker_orders: z.array(MakerOrder).default([]),
  fee_rate_bps: dec.optional(),
  timestamp: epoch,
});

export interface PolymarketOrderUpdate {
  kind: 'order';
  /** The order hash. */
  venueOrderId: string;
  instrument: string;
  update: 'PLACEMENT' | 'UPDATE' | 'CANCELLATION';
  side: 'buy' | 'sell';
  priceTicks: number;
  originalLots: number;
  matchedLots: number;
  eventTimeNs: bigint;
}

export interface OurFill {
  /** (trade id, our order hash): one trade can fill several of our orders. */
  fillKey: string;
  tradeId: string;
  venueOrderId: string;
  instrument: string;
  side: 'buy' | 'sell';
  priceTicks: number;
  qtyLots: number;
  liquidity: 'maker' | 'taker';
}

export interface PolymarketTrade {
  kind: 'trade';
  tradeId: string;
  status: TradeStatus;
  fills: OurFill[];
  eventTimeNs: bigint;
}

export type UserMessage = PolymarketOrderUpdate | PolymarketTrade;

const opposite = (s: 'buy' | 'sell'): 'buy' | 'sell' => (s === 'buy' ? 'sell' : 'buy');
const lower = (s: 'BUY' | 'SELL'): 'buy' | 'sell' => (s === 'BUY' ? 'buy' : 'sell');

/** Parses user-channel frames for the account whose API key is `apiKey` (maker entries are told by owner). */
export class PolymarketUserParser {
  private readonly clock = new VenueClock();
  constructor(private readonly apiKey: string) {}

  parseFrame(body: Uint8Array, ctx: FrameContext): UserMessage[] {
    const text = frameText(body, ctx, 'POLYMARKET');
    if (text === 'PONG' || text === 'PING') return [];
    const json = parseJson(text, ctx, 'POLYMARKET');
    const list = Array.isArray(json) ? json : [json];
    return list.map((m, i) => this.parseMessage(m, ctx, Array.isArray(json) ? `${i}` : ''));
  }

  parseMessage(m: unknown, ctx: FrameContext, where = ''): UserMessage {
    const kind = (m as { event_type?: unknown } | null)?.event_type;
    if (kind === 'order') return this.order(validate(OrderMsg, m, ctx, 'Polymarket order', where), ctx);
    if (kind === 'trade') return this.trade(validate(TradeMsg, m, ctx, 'Polymarket trade', where), ctx);
    throw new TapedeckError('FRAME_INVALID', `Polymarket user channel: unknown event_type ${JSON.stringify(kind)}`, { file: ctx.file, line: ctx.line, field: where ? `${where}.event_type` : 'event_type' });
  }

  private order(o: z.output<typeof OrderMsg>, ctx: FrameContext): PolymarketOrderUpdate {
    return {
      kind: 'order',
      venueOrderId: o.id.toLowerCase(),
      instrument: polymarketInstrumentId(o.asset_id),
      update: o.type,
      side: lower(o.side),
      priceTicks: toInt(o.price, PRICE_SCALE, ctx, 'price'),
      originalLots: toInt(o.original_size, QTY_SCALE, ctx, 'original_size'),
      matchedLots: toInt(o.size_matched, QTY_SCALE, ctx, 'size_matched'),
      eventTimeNs: this.clock.stamp(epochToNs(BigInt(o.timestamp) < 100_000_000_000n ? BigInt(o.timestamp) * 1000n : BigInt(o.timestamp))),
    };
  }

  private trade(t: z.output<typeof TradeMsg>, ctx: FrameContext): PolymarketTrade {
    const takerSide = lower(t.side);
    const fills: OurFill[] = [];
    const asTaker = t.trader_side === 'TAKER' || (t.trader_side === undefined && t.owner === this.apiKey && !t.maker_orders.some((m) => m.owner === this.apiKey));
    if (asTaker) {
      const venueOrderId = t.taker_order_id.toLowerCase();
      fills.push({
        fillKey: `${t.id}:${venueOrderId}`, tradeId: t.id, venueOrderId, instrument: polymarketInstrumentId(t.asset_id), side: takerSide,
        priceTicks: toInt(t.price, PRICE_SCALE, ctx, 'price'), qtyLots: toInt(t.size, QTY_SCALE, ctx, 'size'), liquidity: 'taker',
      });
    } else {
      t.maker_orders.forEach((m, i) => {
        if (m.owner !== this.apiKey) return;
        const venueOrderId = m.order_id.toLowerCase();
        const side = m.side !== undefined ? lower(m.side) : m.asset_id === t.asset_id ? opposite(takerSide) : takerSide;
        fills.push({
          fillKey: `${t.id}:${venueOrderId}`, tradeId: t.id, venueOrderId, instrument: polymarketInstrumentId(m.asset_id), side,
          priceTicks: toInt(m.price, PRICE_SCALE, ctx, `maker_orders.${i}.price`),
          qtyLots: toInt(m.matched_amount, QTY_SCALE, ctx, `maker_orders.${i}.matched_amount`),
          liquidity: 'maker',
        });
      });
    }
    const ts = BigInt(t.timestamp);
    return { kind: 'trade', tradeId: t.id, status: t.status, fills, eventTimeNs: this.clock.stamp(epochToNs(ts < 100_000_000_000n ? ts * 1000n : ts)) };
  }
}

// ---------------------------------------------------------------- folding trades once by id

export interface TradeFoldState {
  /** trade id → what was booked (null: nothing yet) and whether it failed. */
  readonly trades: ReadonlyMap<string, { status: TradeStatus; booked: readonly OurFill[] | null; failed: boolean }>;
}

export type TradeOutcome =
  | { kind: 'book'; fills: readonly OurFill[] }
  | { kind: 'reverse'; fills: readonly OurFill[] }
  | { kind: 'none'; why: 'repeat' | 'failed-unbooked' | 'after-failure' | 'not-ours' };

export function initialTradeFold(): TradeFoldState {
  return { trades: new Map() };
}

/**
 * Folds one trade message: what to book or reverse (pure; returns the next state). A trade that does
 * not concern us (no fills of ours) still has its status recorded.
 */
export function foldTrade(state: TradeFoldState, t: PolymarketTrade): { state: TradeFoldState; outcome: TradeOutcome } {
  const prev = state.trades.get(t.tradeId);
  const next = new Map(state.trades);
  let outcome: TradeOutcome;
  if (prev?.failed === true) {
    outcome = { kind: 'none', why: 'after-failure' };
  } else if (t.status === 'FAILED') {
    const booked = prev?.booked ?? null;
    next.set(t.tradeId, { status: 'FAILED', booked, failed: true });
    outcome = booked !== null && booked.length > 0 ? { kind: 'reverse', fills: booked } : { kind: 'none', why: 'failed-unbooked' };
    return { state: { trades: next }, outcome };
  } else if (prev?.booked != null) {
    next.set(t.tradeId, { ...prev, status: t.status });
    outcome = { kind: 'none', why: 'repeat' };
    return { state: { trades: next }, outcome };
  } else {
    next.set(t.tradeId, { status: t.status, booked: t.fills, failed: false });
    outcome = t.fills.length > 0 ? { kind: 'book', fills: t.fills } : { kind: 'none', why: 'not-ours' };
    return { state: { trades: next }, outcome };
  }
  return { state, outcome };
}
