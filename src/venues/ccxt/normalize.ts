/**
 * ccxt's unified objects (orders, trades, balances) → what tapedeck records, for any ccxt exchange.
 *
 * - Client order ids are ours, derived from the kernel's order id (a UUID) and the replace count, in a form
 *   the venue accepts: `t` + the UUID's 16 bytes in base64url (+ `r<n>` for the n-th replacement); OKX wants
 *   ≤ 32 alphanumerics, so there it is the 32 hex digits (OKX amends in place and keeps the id); Kraken's
 *   cl_ord_id takes the UUID. Decoding gives the kernel's order id back, so a restart finds every order it sent.
 * - Acks are not states: Kraken, OKX and Bybit answer a create with ids only (ccxt: status, filled and amount
 *   null). That is an `ack`, never "open with 0 filled"; the state comes later from the stream or a query.
 * - An OKX per-order failure inside an HTTP 200 (`sCode` ≠ "0") is a rejection.
 * - Quantities and prices are decimal strings turned into mantissas exactly (no float arithmetic): ccxt's
 *   numbers are printed with ccxt's own numberToString and parsed at the instrument's scale.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { parseDecimal } from '../../../domain/core/fixed.js';
import { uuidFromName } from '../../../domain/core/sha256.js';

export type VenueState = 'open' | 'filled' | 'canceled' | 'rejected' | 'expired';

export interface NormalizedFill {
  /** Venue trade id. */
  tradeId: string;
  venueOrderId: string | null;
  price: string;
  qty: string;
  fee: string;
  feeCurrency: string | null;
  liquidity: 'maker' | 'taker' | 'unknown';
  timestampMs: number | null;
}

export interface NormalizedOrder {
  /** `ack`: ids only (no state to record); `state`: the venue said what the order is. */
  kind: 'ack' | 'state' | 'rejected';
  venueOrderId: string | null;
  clientOrderId: string | null;
  state: VenueState | null;
  /** Total quantity and filled quantity as decimal strings (null when the venue did not say). */
  amount: string | null;
  filled: string | null;
  price: string | null;
  fills: NormalizedFill[];
  reason?: string;
  venueCode?: string;
  timestampMs: number | null;
}

const HEX32 = /^[0-9a-f]{32}$/;

/** Our client order id for a kernel order id and its replace count, in the venue's allowed format. */
export function clientOrderIdFor(exchangeId: string, orderId: string, replaceCount = 0): string {
  const hex = orderId.replace(/-/g, '').toLowerCase();
  if (!HEX32.test(hex)) throw new TapedeckError('CLIENT_ORDER_ID', `order id ${orderId} is not a UUID`, { field: 'orderId' });
  if (exchangeId === 'okx') return hex; // ≤ 32 alphanumerics; OKX amends keep the id
  if (exchangeId === 'kraken' && replaceCount === 0) return orderId; // cl_ord_id: a UUID
  // 16 bytes in base64url (22 characters): Binance and Bybit allow ≤ 36 of [A-Za-z0-9_-], leaving room for r<n>.
  const b64 = Buffer.from(hex, 'hex').toString('base64url');
  return replaceCount === 0 ? `t${b64}` : `t${b64}r${replaceCount}`;
}

/** The kernel order id and replace count behind one of our client order ids, or null when it is not ours. */
export function orderIdFromClientId(clientOrderId: string | null | undefined): { orderId: string; replaceCount: number } | null {
  if (typeof clientOrderId !== 'string') return null;
  let hex: string;
  let n = 0;
  const m = /^t([A-Za-z0-9_-]{22})(?:r(\d{1,12}))?$/.exec(clientOrderId);
  if (m) {
    hex = Buffer.from(m[1]!, 'base64url').toString('hex');
    if (!HEX32.test(hex)) return null;
    n = m[2] === undefined ? 0 : Number(m[2]);
  } else if (HEX32.test(clientOrderId)) hex = clientOrderId;
  else if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(clientOrderId)) hex = clientOrderId.replace(/-/g, '');
  else return null;
  return { orderId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`, replaceCount: n };
}

/** Deterministic fill id from the venue's trade id (per symbol: Binance trade ids are per symbol). */
export function fillIdFor(venue: string, symbolId: string, tradeId: string): string {
  return `${venue}:${symbolId}:${tradeId}`;
}

/** Deterministic event id for a fact the venue reported (the same fact always gets the same id). */
export function venueEventId(venue: string, what: string): string {
  return uuidFromName(`venue:${venue}`, what);
}

/** ccxt's number (or numeric string) as an exact decimal string, or null. */
export function decimalText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  // Shortest round-trip form, never exponent notation.
  const s = String(v);
  if (!/e/i.test(s)) return s;
  return v.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** Decimal text → mantissa at `scale`; extra non-zero digits are an error (never rounded silently). */
export function toLots(text: string, scale: number, field: string): number {
  const m = parseDecimal(text, scale, field);
  if (m > BigInt(Number.MAX_SAFE_INTEGER) || m < BigInt(Number.MIN_SAFE_INTEGER)) throw new TapedeckError('FIXED_RANGE', `${field}: ${text} exceeds the safe integer range at scale ${scale}`, { field });
  return Number(m);
}

function stateOf(status: unknown): VenueState | null {
  switch (status) {
    case 'open':
      return 'open';
    case 'closed':
      return 'filled';
    case 'canceled':
    case 'cancelled':
      return 'canceled';
    case 'rejected':
      return 'rejected';
    case 'expired':
      return 'expired';
    default:
      return null;
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);

export function normalizeTrade(t: unknown): NormalizedFill {
  const x = obj(t);
  const fee = obj(x.fee);
  const tradeId = str(x.id);
  const price = decimalText(x.price);
  const qty = decimalText(x.amount);
  if (tradeId === null || price === null || qty === null) throw new TapedeckError('VENUE_TRADE', `a trade without id, price or amount: ${JSON.stringify(x).slice(0, 200)}`, { field: 'trade' });
  return {
    tradeId, venueOrderId: str(x.order), price, qty,
    fee: decimalText(fee.cost) ?? '0', feeCurrency: str(fee.currency),
    liquidity: x.takerOrMaker === 'maker' ? 'maker' : x.takerOrMaker === 'taker' ? 'taker' : 'unknown',
    timestampMs: typeof x.timestamp === 'number' ? x.timestamp : null,
  };
}

/**
 * A ccxt order → what it tells. `exchangeId` picks the venue quirks (OKX's per-order sCode). An order with
 * neither status nor filled quantity is an ack: ids only.
 */
export function normalizeOrder(exchangeId: string, order: unknown): NormalizedOrder {
  const o = obj(order);
  const info = obj(o.info);
  const base = {
    venueOrderId: str(o.id), clientOrderId: str(o.clientOrderId), amount: decimalText(o.amount), filled: decimalText(o.filled),
    price: decimalText(o.price), timestampMs: typeof o.timestamp === 'number' ? o.timestamp : null,
  };
  if (exchangeId === 'okx' && info.sCode !== undefined && String(info.sCode) !== '0') {
    return { ...base, kind: 'rejected', state: 'rejected', fills: [], reason: String(info.sMsg ?? 'rejected'), venueCode: String(info.sCode) };
  }
  const state = stateOf(o.status);
  // Kraken lists an order's trades as references (ids without price or amount): fills come from the trade
  // listing then, not from here.
  const complete = (t: unknown): boolean => decimalText(obj(t).price) !== null && decimalText(obj(t).amount) !== null && str(obj(t).id) !== null;
  const trades = Array.isArray(o.trades) ? o.trades.filter(complete).map(normalizeTrade) : [];
  if (state === null && base.filled === null) return { ...base, kind: 'ack', state: null, fills: [] };
  return { ...base, kind: 'state', state, fills: trades };
}

/** The free + used balance per currency as decimal strings (ccxt fetchBalance's `total`). */
export function normalizeBalances(balance: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const total = obj(obj(balance).total);
  for (const [cur, v] of Object.entries(total)) {
    const d = decimalText(v);
    if (d !== null) out.set(cur, d);
  }
  return out;
}
