/**
 * The simulated Binance as ccxt sees it. A peer test on ccxt's own recorded fixtures (the real exchange's
 * answers, test/fixtures/datasets/venues/ccxt/binance.response.json): for the calls tapedeck makes, the sim's
 * answer carries every field the real one does, and ccxt parses it into the same unified fields. Then Binance's
 * request signing as the sim enforces it, faults on demand, the user stream, and the registry's record.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { parseVenueConfig } from '../../../src/venues/registry.js';
import { binance } from '../../../src/venues/binance/adapter.js';
import type { SimBinance } from '../../../src/venues/binance/sim.js';
import { makeExchange, type CcxtExchange } from '../../../src/venues/ccxt/exchange.js';
import { datasetsDir } from '../../helpers/tmp.js';
import { CAPTURE, KEY, SECRET, startSim } from '../../live/helpers.js';

interface Case { description: string; input: unknown[]; httpResponse: unknown }
const fixtures = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'venues/ccxt/binance.response.json'), 'utf8')) as { methods: Record<string, Case[]> };
const real = (method: string, description: string): unknown => fixtures.methods[method]!.find((c) => c.description === description)!.httpResponse;
const defined = (o: object): string[] => Object.entries(o).filter(([, v]) => v !== undefined && v !== null).map(([k]) => k).sort();
const keys = (o: unknown): string[] => Object.keys(o as object).sort();

let sim: SimBinance;
let ex: CcxtExchange;

beforeAll(async () => {
  sim = await startSim({ speed: 1, startOnSubscribe: false });
  ex = await makeExchange({ id: 'binance', baseUrl: sim.urls.rest, credentials: { apiKey: KEY, secret: SECRET } });
  await ex.loadMarkets();
});
afterAll(async () => {
  await ex.close();
  await sim.close();
});

describe('the simulated Binance answers as Binance does (ccxt fixtures as the peer)', () => {
  it('createOrder, fetchOrder, fetchOpenOrders, fetchMyTrades, fetchBalance: the real fields, parsed alike', async () => {
    const created = await ex.createOrder('NKN/USDT', 'limit', 'buy', 10, 0.2, { clientOrderId: 'tpeer1' });
    const realCreate = real('createOrder', 'spot +selfTradePrevention +iceberg') as Record<string, unknown>;
    // Fields the fixture has because of its parameters (iceberg) are not asked of the sim.
    const missing = keys(realCreate).filter((k) => !(k in created.info) && k !== 'icebergQty');
    expect(missing).toEqual([]);
    const parsedReal = ex.parseOrder(realCreate);
    const parsedSim = ex.parseOrder(created.info, ex.market('NKN/USDT'));
    expect(defined(parsedReal).filter((k) => !defined(parsedSim).includes(k))).toEqual([]);
    expect(parsedSim).toMatchObject({ status: 'open', clientOrderId: 'tpeer1', amount: 10, price: 0.2, filled: 0 });

    const fetched = await ex.fetchOrder(created.id, 'NKN/USDT');
    expect(keys(real('fetchOrder', 'Fetch spot closed order')).filter((k) => !(k in fetched.info))).toEqual([]);
    const open = await ex.fetchOpenOrders('NKN/USDT');
    expect(keys((real('fetchOpenOrders', 'Fetch spot open orders') as unknown[])[0]).filter((k) => !(k in open[0].info))).toEqual([]);

    let book = await ex.fetchOrderBook('NKN/USDT', 5);
    for (let i = 0; i < 50 && book.asks.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      book = await ex.fetchOrderBook('NKN/USDT', 5);
    }
    const taker = await ex.createOrder('NKN/USDT', 'limit', 'buy', 5, book.asks[0][0], { clientOrderId: 'tpeer2' });
    expect(taker).toMatchObject({ status: 'closed', filled: 5 });
    expect(taker.trades.length).toBe(1);
    const trades = await ex.fetchMyTrades('NKN/USDT');
    const realTrade = (real('fetchMyTrades', 'Spot private trade') as unknown[])[0];
    expect(keys(realTrade).filter((k) => !(k in trades[0].info))).toEqual([]);
    expect(defined(ex.parseTrade(realTrade)).filter((k) => !defined(trades[0]).includes(k))).toEqual([]);

    const bal = await ex.fetchBalance();
    const realBal = real('fetchBalance', 'Spot balance') as Record<string, unknown>;
    expect(keys(realBal).filter((k) => !(k in bal.info))).toEqual([]);
    expect(bal.NKN.total).toBe(1_000_005);

    const canceled = await ex.cancelOrder(created.id, 'NKN/USDT');
    expect(canceled.status).toBe('canceled');
    const orders = (await (await fetch(`${sim.urls.rest}/_sim/orders`)).json()) as Array<{ clientOrderId: string }>;
    expect(orders.map((o) => o.clientOrderId)).toEqual(['tpeer1', 'tpeer2']);
  });

  it('editOrder is cancelReplace: a new order under the new client id, the old one canceled', async () => {
    const a = await ex.createOrder('NKN/USDT', 'limit', 'sell', 10, 0.9, { clientOrderId: 'tedit0', postOnly: true });
    const b = await ex.editOrder(a.id, 'NKN/USDT', 'limit', 'sell', 12, 0.91, { clientOrderId: 'tedit1', postOnly: true });
    expect(b).toMatchObject({ clientOrderId: 'tedit1', status: 'open', amount: 12, price: 0.91 });
    expect((await ex.fetchOrder(a.id, 'NKN/USDT')).status).toBe('canceled');
    await ex.cancelOrder(b.id, 'NKN/USDT');
  });

  it('signed requests are checked as Binance does: a bad signature, a wrong key, a stale timestamp are refused', async () => {
    const wrong = await makeExchange({ id: 'binance', baseUrl: sim.urls.rest, credentials: { apiKey: KEY, secret: 'not-the-secret' } });
    await expect(wrong.fetchBalance()).rejects.toThrow(/-1022.*Signature for this request is not valid/);
    await wrong.close();
    const sign = (q: string): string => crypto.createHmac('sha256', SECRET).update(q).digest('hex');
    const call = async (q: string, key = KEY): Promise<{ status: number; body: { code: number } }> => {
      const r = await fetch(`${sim.urls.rest}/api/v3/account?${q}&signature=${sign(q)}`, { headers: { 'X-MBX-APIKEY': key } });
      return { status: r.status, body: (await r.json()) as { code: number } };
    };
    expect(await call(`timestamp=${Date.now()}`)).toMatchObject({ status: 200 });
    expect(await call(`timestamp=${Date.now() - 60_000}`)).toMatchObject({ status: 400, body: { code: -1021 } });
    expect(await call(`timestamp=${Date.now() - 7000}&recvWindow=10000`)).toMatchObject({ status: 200 });
    expect(await call(`timestamp=${Date.now()}`, 'someone-else')).toMatchObject({ status: 401, body: { code: -2015 } });
    // The signature covers the body too (POST with form parameters).
    const body = `symbol=NKNUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=tbody1&timestamp=${Date.now()}`;
    const r = await fetch(`${sim.urls.rest}/api/v3/order`, { method: 'POST', headers: { 'X-MBX-APIKEY': KEY, 'content-type': 'application/x-www-form-urlencoded' }, body: `${body}&signature=${sign(body)}` });
    expect(r.status).toBe(200);
  });

  it('faults on demand: 429 and 5xx refuse without processing; a duplicate client order id is refused', async () => {
    sim.setFaults(undefined, ['429']);
    await expect(ex.fetchBalance()).rejects.toBeInstanceOf((await import('ccxt')).default.DDoSProtection);
    sim.setFaults(undefined, ['5xx']);
    await expect(ex.fetchBalance()).rejects.toThrow();
    await expect(ex.createOrder('NKN/USDT', 'limit', 'buy', 1, 0.1, { clientOrderId: 'tbody1' })).rejects.toThrow(/Duplicate order sent/);
  });

  it('the user stream (ws-api, as ccxt 4.5 subscribes on spot) delivers execution reports', async () => {
    const watching = ex.watchOrders('NKN/USDT');
    await new Promise((r) => setTimeout(r, 300));
    await ex.createOrder('NKN/USDT', 'limit', 'buy', 3, 0.15, { clientOrderId: 'tws1' });
    const orders = await watching;
    expect(orders.some((o: { clientOrderId: string; status: string }) => o.clientOrderId === 'tws1' && o.status === 'open')).toBe(true);
  });

  it('the registry\'s record: startSim and an execution client that connects, sends and hears back', async () => {
    const credentials = { apiKey: 'reg-key-123456', secret: 'reg-secret-654321' };
    const s = await binance.execution!.startSim!({ credentials, capture: CAPTURE });
    const client = binance.execution!.newClient(parseVenueConfig(binance, { restUrl: `http://127.0.0.1:${s.port}` }), { credentials });
    try {
      const reports: AnyEnvelope[] = [];
      client.onReport((e) => reports.push(e));
      await client.connect();
      await client.send({ kind: 'SubmitOrder', orderId: '31111111-2222-8333-8444-555555555555', venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', side: 'buy', orderType: 'limit', priceTicks: 10_000_000, qtyLots: 100_000_000, priceScale: 8, qtyScale: 8, timeInForce: 'GTC', postOnly: true, reduceOnly: false });
      for (let i = 0; i < 50 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(reports.map((e) => e.type)).toContain('OrderAccepted');
      expect((await client.queryOrder('31111111-2222-8333-8444-555555555555')).state).toBe('open');
      // Production endpoints are refused without confirmLive.
      const prod = binance.execution!.newClient(parseVenueConfig(binance, {}), { credentials });
      await expect(prod.connect()).rejects.toThrow(/--confirm-live/);
    } finally {
      await client.close();
      await s.close();
    }
  });
});
