/**
 * The RITCH sample (synthetic, all-zero length prefixes) against its independent expected values:
 * per-type counts through the library (both decode paths) and through the compiled CLI, and the other
 * figures of ritch_ex20101224_expected.json that the messages let us derive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/venues/nasdaq/itch/codec.js';
import { ITCH_MESSAGE_TYPES, type ItchMessage } from '../../src/venues/nasdaq/itch/messages.js';
import { ItchListenerBase, type ItchListener } from '../../src/venues/nasdaq/itch/parser.js';
import { readItchFile } from '../../src/venues/nasdaq/itch/reader.js';
import type { ItchMessageView } from '../../src/venues/nasdaq/itch/views.js';
import { jsonLines, tapedeck } from '../helpers/cli.js';
import { datasetsDir } from '../helpers/tmp.js';

const FILE = path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50');
const expected = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'itch/ritch_ex20101224_expected.json'), 'utf8'));

let messages: ItchMessage[] = [];
beforeAll(async () => {
  const out: ItchMessage[] = [];
  const s = await readItchFile(FILE, { payload: (b, o, l) => void out.push(decodeMessage(b, o, l)) });
  expect(s.messages).toBe(expected.total_messages);
  messages = out;
});

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

const of = <T extends ItchMessage['messageType']>(t: T) => messages.filter((m): m is Extract<ItchMessage, { messageType: T }> => m.messageType === t);

describe('RITCH sample: library', () => {
  it('counts by type match (object path), and the file size', () => {
    const counts = countBy(messages, (m) => m.messageType);
    for (const [t, n] of Object.entries(expected.count_by_type as Record<string, number>)) expect(counts[t] ?? 0, t).toBe(n);
    expect(fs.statSync(FILE).size).toBe(expected.file_size_bytes);
  });

  it('counts by type match through the allocation-free listener, for the file and its .gz', async () => {
    for (const file of [FILE, `${FILE}.gz`]) {
      const counts: Record<string, number> = {};
      // A listener that counts each method by the view's type byte.
      const listener = new Proxy(new ItchListenerBase(), {
        get: (target, prop) =>
          typeof prop === 'string' && prop in target
            ? (v: ItchMessageView) => {
                const t = String.fromCharCode(v.messageType());
                counts[t] = (counts[t] ?? 0) + 1;
              }
            : Reflect.get(target, prop),
      }) as ItchListener;
      const s = await readItchFile(file, listener, { chunkSize: 65536 });
      expect(s.messages).toBe(expected.total_messages);
      expect(s.bytes).toBe(expected.file_size_bytes);
      for (const t of ITCH_MESSAGE_TYPES) expect(counts[t] ?? 0, `${file} ${t}`).toBe(expected.count_by_type[t] ?? 0);
    }
  });

  it('stock directory and trading status', () => {
    const dir = Object.fromEntries(of('R').map((r) => [String(r.stockLocate), r.stock.trimEnd()]));
    expect(dir).toEqual(expected.stock_directory);
    const h = of('H');
    expect(h).toHaveLength(expected.trading_status_H.rows);
    expect(h.map((m) => m.stockLocate)).toEqual(expected.trading_status_H.stock_locate);
    expect(new Set(h.map((m) => m.tradingState))).toEqual(new Set([expected.trading_status_H.trading_state]));
  });

  it('system events come in the order O S Q M E C', () => {
    expect(of('S').map((m) => m.eventCode)).toEqual(expected.system_event_codes_in_order);
  });

  it('orders (A+F) by stock and side', () => {
    const orders = [...of('A'), ...of('F')];
    expect(orders).toHaveLength(expected.orders_A_F.total);
    expect(countBy(orders, (o) => o.stock.trimEnd())).toEqual(expected.orders_A_F.by_stock);
    expect(orders.filter((o) => o.buySellIndicator === 'B')).toHaveLength(expected.orders_A_F.buy_true);
    expect(orders.filter((o) => o.buySellIndicator !== 'B')).toHaveLength(expected.orders_A_F.buy_false);
  });

  it('trades (P) by stock, all with indicator B', () => {
    const p = of('P');
    expect(p).toHaveLength(expected.trades_P.total);
    expect(countBy(p, (t) => t.stock.trimEnd())).toEqual(expected.trades_P.by_stock);
    expect(p.every((t) => t.buySellIndicator === 'B')).toBe(expected.trades_P.all_buy_indicator_B);
  });

  it('modifications (E X D U): totals and which fields they carry', () => {
    const mods = messages.filter((m) => 'EXDU'.includes(m.messageType));
    const e = expected.modifications;
    expect(mods).toHaveLength(e.total);
    expect(countBy(mods, (m) => m.messageType)).toEqual(e.by_type);
    const has = (name: string) => mods.filter((m) => name in m).length;
    expect(has('executedShares') + has('cancelledShares') + has('shares')).toBe(e.shares_present);
    expect(has('matchNumber')).toBe(e.match_number_present);
    expect(has('price')).toBe(e.price_present_U_only);
    expect(has('newOrderReferenceNumber')).toBe(e.new_order_ref_present_U_only);
  });

  it('first and last timestamps', () => {
    expect(messages[0]!.timestamp).toBe(expected.derived_independently.first_timestamp_ns);
    expect(messages[messages.length - 1]!.timestamp).toBe(expected.derived_independently.last_timestamp_ns);
  });
});

describe('RITCH sample: CLI (dist/)', () => {
  for (const file of [FILE, `${FILE}.gz`]) {
    it(`tapedeck itch stats ${path.basename(file)} --json`, () => {
      const r = tapedeck(['itch', 'stats', file, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [out] = jsonLines(r.stdout);
      expect(out.messages).toBe(expected.total_messages);
      expect(out.bytes).toBe(expected.file_size_bytes);
      for (const [t, n] of Object.entries(expected.count_by_type as Record<string, number>)) expect(out.countByType[t], t).toBe(n);
    });
  }

  it('tapedeck itch decode --types S --json gives the system events in order', () => {
    const r = tapedeck(['itch', 'decode', `${FILE}.gz`, '--types', 'S', '--json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((m) => m.eventCode)).toEqual(expected.system_event_codes_in_order);
  });
});
