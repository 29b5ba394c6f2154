/**
 * Our normalization of ccxt's answers, checked on ccxt's own recorded response fixtures
 * (test/fixtures/datasets/venues/ccxt, provenance in venues/PROVENANCE.md): acks are not states (Kraken, OKX,
 * Bybit creates carry ids only), an OKX per-order sCode ≠ 0 inside an HTTP 200 is a rejection, fills keep the
 * venue's trade id and exact decimals; and our client order ids fit each venue and decode back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRedactor } from '../../../src/venues/ccxt/exchange.js';
import { clientOrderIdFor, normalizeBalances, normalizeOrder, normalizeTrade, orderIdFromClientId } from '../../../src/venues/ccxt/normalize.js';
import { datasetsDir } from '../../helpers/tmp.js';

interface Case { description: string; input: unknown[]; httpResponse: unknown; parsedResponse?: unknown; parsedResponse_partial?: unknown }
function cases(exchange: string, method: string): Case[] {
  const f = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'venues/ccxt', `${exchange}.response.json`), 'utf8')) as { methods: Record<string, Case[]> };
  const list = f.methods[method];
  if (!list) throw new Error(`${exchange}.response.json has no ${method}`);
  return list;
}

describe('ccxt answers → what tapedeck records', () => {
  it('Kraken, OKX and Bybit acknowledge a create or an edit with ids only: an ack, never "open with 0 filled"', () => {
    const acks = [
      ['kraken', cases('kraken', 'createOrder')[0]!.parsedResponse],
      ['okx', cases('okx', 'createOrder')[0]!.parsedResponse],
      ['bybit', cases('bybit', 'editOrder')[0]!.parsedResponse],
      ['bybit', cases('bybit', 'createMarketBuyOrderWithCost')[0]!.parsedResponse],
    ] as const;
    for (const [ex, parsed] of acks) {
      const n = normalizeOrder(ex, parsed);
      expect(n.kind, ex).toBe('ack');
      expect(n.state).toBeNull();
      expect(n.filled).toBeNull();
      expect(n.venueOrderId).toBe((parsed as { id: string }).id);
    }
  });

  it('OKX: sCode ≠ "0" inside an HTTP 200 is a rejection of that order', () => {
    const c = cases('okx', 'createOrder')[0]!;
    const ok = normalizeOrder('okx', { ...(c.parsedResponse as object), info: (c.httpResponse as { data: unknown[] }).data[0] });
    expect(ok.kind).toBe('ack');
    const refused = normalizeOrder('okx', { ...(c.parsedResponse as object), info: { ...((c.httpResponse as { data: object[] }).data[0]), sCode: '51008', sMsg: 'Order failed. Insufficient USDT balance in account.' } });
    expect(refused).toMatchObject({ kind: 'rejected', state: 'rejected', venueCode: '51008', reason: 'Order failed. Insufficient USDT balance in account.' });
  });

  it('Kraken fetchOrder answers carry states: open (post-only limit) and closed (filled market order)', () => {
    const [open, closed] = cases('kraken', 'fetchOrder');
    expect(normalizeOrder('kraken', open!.parsedResponse)).toMatchObject({ kind: 'state', state: 'open', venueOrderId: 'OR6EGN-KQSEG-AMI6CL', filled: '0', amount: expect.any(String) });
    const c = normalizeOrder('kraken', closed!.parsedResponse);
    expect(c).toMatchObject({ kind: 'state', state: 'filled' });
    expect(c.filled).toBe(c.amount);
  });

  it('Coinbase fills keep the trade id, the order id, exact decimals, liquidity and the fee', () => {
    const [spot] = cases('coinbase', 'fetchMyTrades');
    const f = normalizeTrade((spot!.parsedResponse as unknown[])[0]);
    expect(f).toMatchObject({ tradeId: '19fc7eee-f4b4-40a7-8104-033da1db5311', venueOrderId: '01b6e467-b659-432f-9490-c7cefe949564', price: '0.392', qty: '10', liquidity: 'taker', timestampMs: 1700993987504 });
    expect(f.feeCurrency).toBe('USDT');
    expect(Number(f.fee)).toBeGreaterThanOrEqual(0);
  });

  it('Coinbase closed orders and Binance spot answers: states and fills', () => {
    for (const c of cases('coinbase', 'fetchClosedOrders')) {
      const parsed = c.parsedResponse ?? c.parsedResponse_partial;
      for (const o of (Array.isArray(parsed) ? parsed : [parsed])) expect(normalizeOrder('coinbase', o)).toMatchObject({ kind: 'state', state: 'filled' });
    }
    const created = normalizeOrder('binance', cases('binance', 'createOrder')[0]!.parsedResponse);
    expect(created.kind).toBe('state');
    expect(created.state).not.toBeNull();
    const trade = normalizeTrade((cases('binance', 'fetchMyTrades')[0]!.parsedResponse as unknown[])[0]);
    expect(trade.tradeId).toMatch(/^\d+$/);
    const bal = normalizeBalances(cases('binance', 'fetchBalance')[0]!.parsedResponse);
    expect(bal.get('LTC')).toBeDefined();
  });

  it('client order ids: ours, in each venue\'s format, decodable back to the kernel order id and replace count', () => {
    const orderId = 'b7b7de9c-04b8-831f-b002-000000000002';
    for (const [ex, re] of [['binance', /^[A-Za-z0-9_-]{1,36}$/], ['bybit', /^[A-Za-z0-9_-]{1,36}$/], ['okx', /^[A-Za-z0-9]{1,32}$/], ['kraken', /^[0-9a-f-]{36}$/]] as const) {
      const id = clientOrderIdFor(ex, orderId);
      expect(id, ex).toMatch(re);
      expect(orderIdFromClientId(id)).toEqual({ orderId, replaceCount: 0 });
    }
    const r = clientOrderIdFor('binance', orderId, 12345);
    expect(r.length).toBeLessThanOrEqual(36);
    expect(orderIdFromClientId(r)).toEqual({ orderId, replaceCount: 12345 });
    // Never ccxt's broker-prefixed defaults, and foreign ids are not ours.
    expect(orderIdFromClientId('x-R4BD3S82abcdef')).toBeNull();
    expect(orderIdFromClientId('6b9ad766b55dBCDE63969a1144bfb943')).toBeNull();
  });

  it('the redactor removes the key, the secret and the password, URL-encoded too', () => {
    const red = makeRedactor({ apiKey: 'AKIA-key-1234', secret: 'sec/ret+==', password: 'pass word' });
    expect(red('key AKIA-key-1234 secret sec/ret+== enc sec%2Fret%2B%3D%3D pw pass word')).toBe('key [redacted] secret [redacted] enc [redacted] pw [redacted]');
  });
});
