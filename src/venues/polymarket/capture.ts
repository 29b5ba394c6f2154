/**
 * A recorded Polymarket market channel, for `tapedeck sim-venue polymarket --capture FILE` (sim.ts).
 *
 * The file: one line per WebSocket frame as Polymarket sent it, a JSON message or an array of them (blank
 * lines ignored; no receive-time prefix, like the Kalshi captures of kalshi/sim.ts). Messages of the market
 * channel in their recorded shapes: `book`, `price_change` (current schema with `price_changes`, or the
 * legacy one with `changes`), `last_trade_price`, `tick_size_change`. One binary market: every message
 * names the same condition id, and exactly two tokens appear — the first to appear is YES, the second NO.
 *
 * Hostile input: every line is checked (strict keys, decimal strings, prices inside (0, 1) at 4 decimals,
 * sizes at 6), and the first bad one stops the load with one error naming the file and the line.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { parseDecimalToInt } from '../../../domain/core/fixed.js';
import { PRICE_SCALE, QTY_SCALE } from './parse.js';

const MAX_BYTES = 256 * 1024 * 1024;
const MAX_LINES = 1_000_000;
const ONE = 10 ** PRICE_SCALE;

const decimal = z.string().max(40).regex(/^(?:\d+(?:\.\d*)?|\.\d+)$/, 'a decimal string');
const tokenId = z.string().regex(/^\d{1,80}$/, 'a token id (decimal digits)');
const conditionId = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a condition id (0x + 64 hex digits)');
const timestamp = z.string().regex(/^\d{1,16}$/, 'a timestamp in ms (digits)');
const hash = z.string().max(100);
const side = z.enum(['BUY', 'SELL']);
const level = z.strictObject({ price: decimal, size: decimal });

const SCHEMAS = {
  book: z.strictObject({
    event_type: z.literal('book'), asset_id: tokenId, market: conditionId, bids: z.array(level).max(100_000), asks: z.array(level).max(100_000),
    timestamp, hash: hash.optional(),
  }),
  price_change: z.strictObject({
    event_type: z.literal('price_change'), market: conditionId, timestamp,
    price_changes: z.array(z.strictObject({ asset_id: tokenId, price: decimal, side, size: decimal, hash: hash.optional(), best_bid: decimal.optional(), best_ask: decimal.optional() })).min(1).max(100_000),
  }),
  price_change_legacy: z.strictObject({
    event_type: z.literal('price_change'), asset_id: tokenId, market: conditionId, timestamp, hash: hash.optional(),
    changes: z.array(z.strictObject({ price: decimal, side, size: decimal })).min(1).max(100_000),
  }),
  last_trade_price: z.strictObject({
    event_type: z.literal('last_trade_price'), asset_id: tokenId, market: conditionId, price: decimal, side, size: decimal, timestamp,
    fee_rate_bps: decimal.optional(), transaction_hash: hash.optional(),
  }),
  tick_size_change: z.strictObject({
    event_type: z.literal('tick_size_change'), asset_id: tokenId, market: conditionId, new_tick_size: decimal, old_tick_size: decimal, timestamp,
    side: side.optional(),
  }),
} as const;

/** A level change: the new aggregate size at a price (0 removes the level). */
export interface LevelChange { token: string; side: 'BUY' | 'SELL'; priceTicks: number; lots: number }

export type CaptureMessage =
  | { kind: 'book'; token: string; bids: Array<[number, number]>; asks: Array<[number, number]>; raw: unknown }
  | { kind: 'changes'; tokens: string[]; changes: LevelChange[]; raw: unknown }
  | { kind: 'trade'; token: string; priceTicks: number; lots: number; aggressor: 'buy' | 'sell'; timestamp: string; raw: unknown }
  | { kind: 'tick'; token: string; tickTicks: number; raw: unknown };

/** One recorded frame: its messages, and whether Polymarket sent them as an array. */
export interface CaptureFrame { array: boolean; messages: CaptureMessage[] }

export interface PolymarketCapture { market: string; tokens: { yes: string; no: string }; frames: CaptureFrame[] }

export function loadPolymarketCapture(file: string): PolymarketCapture {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_BYTES) throw new TapedeckError('CAPTURE_SYNTAX', `the capture is larger than ${MAX_BYTES} bytes`, { file });
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TapedeckError) throw e;
    throw new TapedeckError('CAPTURE_READ', `cannot read the capture ${file}`, { file });
  }
  let market: string | null = null;
  const tokens: string[] = [];
  const frames: CaptureFrame[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = { file, line: i + 1 };
    const bad = (why: string): never => {
      throw new TapedeckError('CAPTURE_SYNTAX', `not a recorded Polymarket market-channel frame: ${why}`, where);
    };
    if (frames.length >= MAX_LINES) bad(`more than ${MAX_LINES} frames`);
    let json: unknown;
    try {
      json = JSON.parse(line) as unknown;
    } catch {
      return bad('invalid JSON');
    }
    const array = Array.isArray(json);
    const items = array ? (json as unknown[]) : [json];
    if (items.length === 0) bad('an empty array');
    const messages = items.map((item, k) => {
      const at = array ? `[${k}]` : '';
      const m = toMessage(item, (why) => bad(at ? `${at} ${why}` : why));
      const mk = (item as { market: string }).market;
      if (market === null) market = mk;
      else if (mk !== market) bad(`${at ? `${at} ` : ''}market ${mk} is not the capture's market ${market} (a capture holds one binary market)`);
      for (const t of m.kind === 'changes' ? m.tokens : [m.token]) {
        if (tokens.includes(t)) continue;
        if (tokens.length === 2) bad(`${at ? `${at} ` : ''}a third token ${t} (a binary market has a YES and a NO token)`);
        tokens.push(t);
      }
      return m;
    });
    frames.push({ array, messages });
  }
  if (frames.length === 0) throw new TapedeckError('CAPTURE_EMPTY', 'the capture holds no messages', { file });
  if (tokens.length < 2) throw new TapedeckError('CAPTURE_SYNTAX', 'the capture names one token: a binary market needs its YES and NO tokens', { file });
  return { market: market!, tokens: { yes: tokens[0]!, no: tokens[1]! }, frames };
}

function toMessage(item: unknown, bad: (why: string) => never): CaptureMessage {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return bad('a message is not a JSON object');
  const type = (item as { event_type?: unknown }).event_type;
  const legacy = type === 'price_change' && 'changes' in item;
  const schema = legacy ? SCHEMAS.price_change_legacy : typeof type === 'string' && Object.hasOwn(SCHEMAS, type) && type !== 'price_change_legacy' ? SCHEMAS[type as keyof typeof SCHEMAS] : null;
  if (schema === null) return bad(`event_type ${JSON.stringify(type)} is not one of book, price_change, last_trade_price, tick_size_change`);
  const r = schema.safeParse(item);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return bad(`${type as string}${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`);
  }
  const num = (text: string, scale: number, field: string, min: number, max: number): number => {
    let n: number;
    try {
      n = parseDecimalToInt(text, scale, field);
    } catch (e) {
      return bad(e instanceof TapedeckError ? e.message : `${field}: not a decimal`);
    }
    if (n < min || n > max) bad(`${field}: ${text} is out of range`);
    return n;
  };
  const price = (t: string, field: string) => num(t, PRICE_SCALE, field, 1, ONE - 1);
  const size = (t: string, field: string, min: number) => num(t, QTY_SCALE, field, min, Number.MAX_SAFE_INTEGER);
  const v = r.data as Record<string, unknown>;
  switch (type) {
    case 'book': {
      const b = r.data as z.output<typeof SCHEMAS.book>;
      const ladder = (ls: typeof b.bids, name: string) => ls.map((l, k): [number, number] => [price(l.price, `book.${name}[${k}].price`), size(l.size, `book.${name}[${k}].size`, 1)]);
      return { kind: 'book', token: b.asset_id, bids: ladder(b.bids, 'bids'), asks: ladder(b.asks, 'asks'), raw: item };
    }
    case 'price_change': {
      const changes: LevelChange[] = legacy
        ? (v as z.output<typeof SCHEMAS.price_change_legacy>).changes.map((c, k) => ({ token: v.asset_id as string, side: c.side, priceTicks: price(c.price, `price_change.changes[${k}].price`), lots: size(c.size, `price_change.changes[${k}].size`, 0) }))
        : (v as z.output<typeof SCHEMAS.price_change>).price_changes.map((c, k) => ({ token: c.asset_id, side: c.side, priceTicks: price(c.price, `price_change.price_changes[${k}].price`), lots: size(c.size, `price_change.price_changes[${k}].size`, 0) }));
      return { kind: 'changes', tokens: [...new Set(changes.map((c) => c.token))], changes, raw: item };
    }
    case 'last_trade_price': {
      const t = r.data as z.output<typeof SCHEMAS.last_trade_price>;
      return {
        kind: 'trade', token: t.asset_id, priceTicks: price(t.price, 'last_trade_price.price'), lots: size(t.size, 'last_trade_price.size', 1),
        aggressor: t.side === 'BUY' ? 'buy' : 'sell', timestamp: t.timestamp, raw: item,
      };
    }
    default: {
      const t = r.data as z.output<typeof SCHEMAS.tick_size_change>;
      return { kind: 'tick', token: t.asset_id, tickTicks: price(t.new_tick_size, 'tick_size_change.new_tick_size'), raw: item };
    }
  }
}
