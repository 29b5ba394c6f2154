/**
 * The simulated Kalshi on loopback (src/venues/kalshi/sim.ts) with the real clients: it verifies RSA-PSS
 * signatures with the account's public key (a request or websocket signed with another key is refused); a
 * sequence gap in orderbook_delta makes the market-data client resubscribe and rebuild the same book as the
 * venue's; the execution client places (bid/ask, dollar-string prices, fixed-point counts), amends and cancels
 * through the V2 routes and gets fills once; fills before the historical cutoff are found in /historical/fills.
 * Keys are generated here with node:crypto (throwaway).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { kalshiCredentials, type KalshiCredentials } from '../../../src/venues/kalshi/credentials.js';
import { KalshiExecutionClient } from '../../../src/venues/kalshi/execution.js';
import { KalshiMarketDataClient } from '../../../src/venues/kalshi/marketdata.js';
import { kalshiVenueReport } from '../../../src/venues/kalshi/reconcile.js';
import { KalshiRest } from '../../../src/venues/kalshi/rest.js';
import { SimKalshi } from '../../../src/venues/kalshi/sim.js';
import { kalshiClientOrderId } from '../../../src/venues/kalshi/wire.js';
import { CLI } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

const TICKER = 'KXSIM-26DEC31-T50';
const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
const t = tmpDir('td-kalshi-sim-');
let creds: KalshiCredentials;
let stranger: KalshiCredentials;
let sim: SimKalshi;

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  fs.writeFileSync(path.join(t.dir, 'ours.pem'), pem());
  fs.writeFileSync(path.join(t.dir, 'other.pem'), pem());
  creds = kalshiCredentials({ KALSHI_API_KEY_ID: 'test-key-id', KALSHI_PRIVATE_KEY_PATH: path.join(t.dir, 'ours.pem') });
  // Another key registered under the same key id: what a stolen key id with a wrong key looks like.
  stranger = kalshiCredentials({ KALSHI_API_KEY_ID: 'test-key-id', KALSHI_PRIVATE_KEY_PATH: path.join(t.dir, 'other.pem') });
  sim = await SimKalshi.start({ keyId: creds.keyId, publicKey: creds.publicKey(), stepMs: 15, seed: 3 });
});

afterAll(async () => {
  await sim.close();
  t.cleanup();
});

describe('the simulated Kalshi', () => {
  it('refuses a request or a websocket signed with the wrong key, takes the account\'s own, and keeps public routes public', async () => {
    const good = new KalshiRest(sim.urls.rest, creds);
    const bad = new KalshiRest(sim.urls.rest, stranger);
    expect((await good.request('GET', '/portfolio/balance')).status).toBe(200);
    const refused = await bad.request('GET', '/portfolio/balance');
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.json)).toContain('bad-signature');
    // Unsigned: refused too; the public order book is not.
    expect((await fetch(`${sim.urls.rest}/portfolio/positions`)).status).toBe(401);
    const book = (await (await fetch(`${sim.urls.rest}/markets/${TICKER}/orderbook`)).json()) as { orderbook_fp: { yes_dollars: string[][]; no_dollars: string[][] } };
    expect(book.orderbook_fp.yes_dollars.length).toBeGreaterThan(0);
    // Bids only on both sides: best YES bid + best NO bid < 1 (the YES ask is 1 − best NO bid).
    const best = (l: string[][]) => Math.max(...l.map((x) => Math.round(Number(x[0]) * 100)));
    expect(best(book.orderbook_fp.yes_dollars) + best(book.orderbook_fp.no_dollars)).toBeLessThan(100);
    // The websocket handshake is signed too.
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(sim.urls.ws, { headers: { ...stranger.sign(Date.now(), 'GET', '/trade-api/ws/v2') } });
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(status).toBe(401);
    const before = (await (await fetch(`${sim.urls.rest.replace('/trade-api/v2', '')}/_sim/stats`)).json()) as { signatureFailures: number };
    expect(before.signatureFailures).toBeGreaterThanOrEqual(3);
  });

  it('a sequence gap in the book stream is detected, resubscribed and rebuilt to the venue\'s book', { timeout: 30_000 }, async () => {
    const md = new KalshiMarketDataClient({ wsUrl: sim.urls.ws, credentials: creds, tickers: [TICKER], priceScale: 2 });
    const seen: AnyEnvelope[] = [];
    const pump = (async () => {
      for await (const e of md.events()) seen.push(e);
    })();
    try {
      await until('the first snapshot', () => seen.some((e) => e.type === 'BookSnapshotted'));
      const same = () => JSON.stringify(md.parser.book(TICKER)) === JSON.stringify(sim.yesBook(TICKER));
      await until('the client book to match the venue', same);
      sim.setFaults(undefined, ['gap']);
      await until('a resubscribe after the gap', () => md.stats.resubscribes >= 1);
      expect(md.stats.gaps).toBeGreaterThanOrEqual(1);
      const snapshots = () => seen.filter((e) => e.type === 'BookSnapshotted').length;
      await until('a fresh snapshot', () => snapshots() >= 2);
      // Rebuilt: the client's book is the venue's again (checked between market steps).
      await until('the rebuilt book to match the venue', same);
      expect(md.parser.book(TICKER)!.bids.length).toBeGreaterThan(0);
    } finally {
      await md.close();
      await pump;
    }
  });

  it('places, fills, amends and cancels through the V2 routes; fills are reported once; old fills come from /historical/fills', { timeout: 30_000 }, async () => {
    const client = new KalshiExecutionClient({ restUrl: sim.urls.rest, wsUrl: sim.urls.ws, credentials: creds, priceScale: 2, tickers: [TICKER] });
    const reports: AnyEnvelope[] = [];
    const sent: AnyEnvelope[] = [];
    client.onReport((e) => reports.push(e));
    client.onSent((e) => sent.push(e));
    await client.connect();
    const rest = new KalshiRest(sim.urls.rest, creds);
    try {
      const book = sim.yesBook(TICKER);
      const bid = book.bids[0]![0];
      const spec = { venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, orderType: 'limit' as const, priceScale: 2, qtyScale: 2, timeInForce: 'GTC' as const, reduceOnly: false };
      // A resting bid joining the best bid (maker), and an ask that crosses (taker: fills at once).
      const maker = randomUUID();
      const taker = randomUUID();
      await client.send({ kind: 'SubmitOrder', orderId: maker, side: 'buy', priceTicks: bid, qtyLots: 10000, postOnly: true, ...spec });
      await client.send({ kind: 'SubmitOrder', orderId: taker, side: 'sell', priceTicks: bid, qtyLots: 100, postOnly: false, ...spec });
      const of = (id: string, type: string) => reports.filter((e) => e.type === type && (e.data as { orderId: string }).orderId === id);
      await until('both accepted', () => of(maker, 'OrderAccepted').length === 1 && of(taker, 'OrderAccepted').length === 1);
      await until('the taker filled', () => of(taker, 'OrderFilled').length >= 1);
      // The request as sent: V2 body, dollar-string price, fixed-point count, our client order id.
      const create = new TextDecoder().decode((sent.find((e) => (e.data as { orderId: string }).orderId === maker)!.raw as { bytes: Uint8Array }).bytes);
      expect(create).toContain('POST http://127.0.0.1:');
      expect(JSON.parse(create.slice(create.indexOf('\n') + 1))).toMatchObject({ ticker: TICKER, side: 'bid', count: '100.00', price: `0.${String(bid).padStart(2, '0')}00`, client_order_id: kalshiClientOrderId(maker), post_only: true });
      expect(create).not.toMatch(/SIGNATURE|BEGIN/i);
      // A post-only ask at the bid would take: refused by the venue with its reason.
      const refused = randomUUID();
      await client.send({ kind: 'SubmitOrder', orderId: refused, side: 'sell', priceTicks: 1, qtyLots: 100, postOnly: true, ...spec });
      await until('the post-only refusal', () => of(refused, 'OrderRejected').length === 1);
      expect((of(refused, 'OrderRejected')[0]!.data as { venueCode?: string }).venueCode).toBe('post_only_cross');
      // Amend the maker: a lower price (never crossing) and a new total; the venue order keeps its id and takes
      // our next client order id.
      const filledBefore = of(maker, 'OrderFilled').reduce((a, e) => a + (e.data as { qtyLots: number }).qtyLots, 0);
      const total = filledBefore + 6000;
      await client.send({ kind: 'ReplaceOrder', orderId: maker, venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, priceTicks: Math.max(1, sim.yesBook(TICKER).bids[0]![0] - 2), qtyLots: total });
      await until('the amend', () => of(maker, 'OrderReplaced').length === 1);
      const venueOrders = (await (await fetch(`${sim.urls.rest.replace('/trade-api/v2', '')}/_sim/orders`)).json()) as Array<{ client_order_id: string; amends: number; previous_client_order_ids: string[] }>;
      const m = venueOrders.find((o) => o.previous_client_order_ids.includes(kalshiClientOrderId(maker)))!;
      expect(m.client_order_id).toBe(kalshiClientOrderId(maker, 1));
      // Cancel it: OrderCanceled for what was left.
      await client.send({ kind: 'CancelOrder', orderId: maker, venue: 'KALSHI', instrument: `KALSHI:${TICKER}` });
      await until('the cancel', () => of(maker, 'OrderCanceled').length === 1);
      const filledMaker = of(maker, 'OrderFilled').reduce((a, e) => a + (e.data as { qtyLots: number }).qtyLots, 0);
      expect((of(maker, 'OrderCanceled')[0]!.data as { canceledLots: number }).canceledLots).toBe(total - filledMaker);
      // Each venue fill of ours is in the reports once.
      const fills = reports.filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
      expect(new Set(fills).size).toBe(fills.length);
      const q = await client.queryOrder(taker);
      expect(q).toMatchObject({ state: 'filled', filledLots: 100 });

      // The historical cutoff moves past our fills: /portfolio/fills no longer lists them, the report still finds them.
      await fetch(`${sim.urls.rest.replace('/trade-api/v2', '')}/_sim/cutoff`, { method: 'POST', body: '{}' });
      expect(((await rest.get('/portfolio/fills', { ticker: TICKER })).fills as unknown[]).length).toBe(0);
      expect(((await rest.get('/historical/fills', { ticker: TICKER })).fills as unknown[]).length).toBeGreaterThanOrEqual(fills.length);
      const report = await kalshiVenueReport(rest, { instruments: [`KALSHI:${TICKER}`], priceScale: 2 });
      expect(report.fills.map((f) => f.fillId).sort()).toEqual([...fills].sort());
      expect(report.orders.find((o) => o.orderId === maker)).toMatchObject({ state: 'canceled', filledLots: filledMaker });
      // Positions: the venue's net contracts equal our net fills.
      const net = reports.filter((e) => e.type === 'OrderFilled').reduce((a, e) => { const d = e.data as { side: string; qtyLots: number }; return a + (d.side === 'buy' ? d.qtyLots : -d.qtyLots); }, 0);
      expect(report.positions).toEqual([{ instrument: `KALSHI:${TICKER}`, qtyLots: net, qtyScale: 2 }]);
    } finally {
      await client.close();
    }
  });

  it('a lost answer to a create is an unknown outcome; the query finds the order by our client order id, and nothing is sent twice', { timeout: 20_000 }, async () => {
    const client = new KalshiExecutionClient({ restUrl: sim.urls.rest, wsUrl: sim.urls.ws, credentials: creds, priceScale: 2, tickers: [TICKER] });
    const reports: AnyEnvelope[] = [];
    client.onReport((e) => reports.push(e));
    await client.connect();
    try {
      const id = randomUUID();
      sim.setFaults(undefined, ['lose-ack']);
      await client.send({ kind: 'SubmitOrder', orderId: id, venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, side: 'buy', orderType: 'limit', priceTicks: 2, qtyLots: 100, priceScale: 2, qtyScale: 2, timeInForce: 'GTC', postOnly: true, reduceOnly: false });
      await until('the unknown outcome', () => reports.some((e) => e.type === 'OrderStatusUnknown' && (e.data as { orderId: string }).orderId === id));
      const q = await client.queryOrder(id);
      expect(q).toMatchObject({ orderId: id, state: 'open', filledLots: 0, leavesLots: 100 });
      expect(q.venueOrderId).toMatch(/^[0-9a-f-]{36}$/);
      const venueOrders = (await (await fetch(`${sim.urls.rest.replace('/trade-api/v2', '')}/_sim/orders`)).json()) as Array<{ client_order_id: string }>;
      expect(venueOrders.filter((o) => o.client_order_id === kalshiClientOrderId(id))).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('a dropped user stream reconnects, re-reads the working orders over REST, and still reports every fill once', { timeout: 30_000 }, async () => {
    const client = new KalshiExecutionClient({ restUrl: sim.urls.rest, wsUrl: sim.urls.ws, credentials: creds, priceScale: 2, tickers: [TICKER] });
    const reports: AnyEnvelope[] = [];
    client.onReport((e) => reports.push(e));
    await client.connect();
    try {
      const id = randomUUID();
      await client.send({ kind: 'SubmitOrder', orderId: id, venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, side: 'buy', orderType: 'limit', priceTicks: sim.yesBook(TICKER).bids[0]![0], qtyLots: 20000, priceScale: 2, qtyScale: 2, timeInForce: 'GTC', postOnly: true, reduceOnly: false });
      const fillsOf = () => reports.filter((e) => e.type === 'OrderFilled' && (e.data as { orderId: string }).orderId === id).map((e) => (e.data as { fillId: string }).fillId);
      await until('accepted', () => reports.some((e) => e.type === 'OrderAccepted' && (e.data as { orderId: string }).orderId === id));
      sim.setFaults(undefined, ['drop']);
      await until('the reconnect and resync', () => client.stats.resyncs >= 1);
      expect(client.stats.streamGaps).toBeGreaterThanOrEqual(1);
      await client.send({ kind: 'CancelOrder', orderId: id, venue: 'KALSHI', instrument: `KALSHI:${TICKER}` });
      await until('the cancel (or the last fill)', () => reports.some((e) => (e.type === 'OrderCanceled' || (e.type === 'OrderFilled' && (e.data as { leavesLots: number }).leavesLots === 0)) && (e.data as { orderId: string }).orderId === id));
      const venue = (await (await fetch(`${sim.urls.rest.replace('/trade-api/v2', '')}/_sim/fills`)).json()) as Array<{ fill_id: string; client_order_id: string }>;
      const theirs = venue.filter((f) => f.client_order_id === kalshiClientOrderId(id)).map((f) => `KALSHI:${f.fill_id}`);
      expect(fillsOf().sort()).toEqual(theirs.sort());
      expect(new Set(fillsOf()).size).toBe(fillsOf().length);
    } finally {
      await client.close();
    }
  });

  it('trades at another venue\'s scales (price 4, qty 6 decimals, as Polymarket): the wire stays dollars and 2-decimal counts', { timeout: 20_000 }, async () => {
    const client = new KalshiExecutionClient({ restUrl: sim.urls.rest, wsUrl: sim.urls.ws, credentials: creds, priceScale: 4, qtyScale: 6, tickers: [TICKER] });
    const reports: AnyEnvelope[] = [];
    const sent: AnyEnvelope[] = [];
    client.onReport((e) => reports.push(e));
    client.onSent((e) => sent.push(e));
    await client.connect();
    try {
      const id = randomUUID();
      const bidCents = sim.yesBook(TICKER).bids[0]![0];
      // Sell 3 contracts at a cent below the best bid: takes at once.
      await client.send({ kind: 'SubmitOrder', orderId: id, venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, side: 'sell', orderType: 'limit', priceTicks: (bidCents - 1) * 100, qtyLots: 3_000_000, priceScale: 4, qtyScale: 6, timeInForce: 'GTC', postOnly: false, reduceOnly: false });
      await until('filled', () => reports.some((e) => e.type === 'OrderFilled' && (e.data as { orderId: string; leavesLots: number }).orderId === id && (e.data as { leavesLots: number }).leavesLots === 0));
      const body = new TextDecoder().decode((sent[0]!.raw as { bytes: Uint8Array }).bytes);
      expect(JSON.parse(body.slice(body.indexOf('\n') + 1))).toMatchObject({ count: '3.00', price: `0.${String(bidCents - 1).padStart(2, '0')}00` });
      const fills = reports.filter((e) => e.type === 'OrderFilled').map((e) => e.data as { qtyLots: number; qtyScale: number; priceScale: number; priceTicks: number });
      expect(fills.reduce((a, f) => a + f.qtyLots, 0)).toBe(3_000_000);
      for (const f of fills) expect(f).toMatchObject({ qtyScale: 6, priceScale: 4 });
      expect(fills.every((f) => f.priceTicks % 100 === 0)).toBe(true);
      // A price off the cent grid is the venue's refusal, not a rounding of ours.
      const off = randomUUID();
      await client.send({ kind: 'SubmitOrder', orderId: off, venue: 'KALSHI', instrument: `KALSHI:${TICKER}`, side: 'buy', orderType: 'limit', priceTicks: 105, qtyLots: 1_000_000, priceScale: 4, qtyScale: 6, timeInForce: 'GTC', postOnly: true, reduceOnly: false });
      await until('the refusal', () => reports.some((e) => e.type === 'OrderRejected' && (e.data as { orderId: string }).orderId === off));
    } finally {
      await client.close();
    }
  });

  it('`tapedeck sim-venue kalshi` prints its URLs first and takes the account of KALSHI_API_KEY_ID / KALSHI_PRIVATE_KEY_PATH', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [CLI, 'sim-venue', 'kalshi', '--port', '0', '--faults', 'gap:0'], {
      env: { ...process.env, KALSHI_API_KEY_ID: 'test-key-id', KALSHI_PRIVATE_KEY_PATH: path.join(t.dir, 'ours.pem') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
        });
        child.once('exit', (code) => reject(new Error(`sim-venue exited with ${code}`)));
      });
      const urls = JSON.parse(first) as { rest: string; ws: string };
      expect(urls.rest).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/trade-api\/v2$/);
      expect(urls.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/trade-api\/ws\/v2$/);
      expect((await new KalshiRest(urls.rest, creds).request('GET', '/portfolio/positions')).status).toBe(200);
      expect((await new KalshiRest(urls.rest, stranger).request('GET', '/portfolio/positions')).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    }
  });

  it('replays a recorded capture (Kalshi WebSocket messages, one a line) as its market', { timeout: 20_000 }, async () => {
    const file = path.join(t.dir, 'capture.jsonl');
    const ex = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/datasets/venues/kalshi/examples.json'), 'utf8')) as { ws: Record<string, Array<{ payload: { msg: Record<string, unknown> } }>> };
    const snap = ex.ws.orderbook_snapshot![0]!.payload;
    const lines = [
      snap,
      { type: 'orderbook_delta', sid: 2, seq: 3, msg: { market_ticker: 'FED-23DEC-T3.00', price_dollars: '0.2200', delta_fp: '-33.00', side: 'yes', ts_ms: 1669149841000 } },
      { type: 'trade', sid: 3, msg: { ...ex.ws.trade![0]!.payload.msg, market_ticker: 'FED-23DEC-T3.00' } },
    ];
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const replay = await SimKalshi.start({ keyId: creds.keyId, publicKey: creds.publicKey(), stepMs: 10, capture: file });
    try {
      expect(replay.tickers()).toEqual(['FED-23DEC-T3.00']);
      const base = replay.urls.rest.replace('/trade-api/v2', '');
      await until('the capture played once', async () => ((await (await fetch(`${base}/_sim/stats`)).json()) as { steps: number }).steps >= 2);
      const book = (await (await fetch(`${replay.urls.rest}/markets/FED-23DEC-T3.00/orderbook`)).json()) as { orderbook_fp: { yes_dollars: string[][]; no_dollars: string[][] } };
      // The recorded snapshot, then its delta (0.22: 333 - 33 = 300), bids only on both sides.
      expect(book.orderbook_fp.no_dollars).toEqual([['0.5400', '20.00'], ['0.5600', '146.00']]);
      expect(book.orderbook_fp.yes_dollars.find((l) => l[0] === '0.2200')).toBeDefined();
      expect(replay.yesBook('FED-23DEC-T3.00').asks).toEqual([[44, 14600], [46, 2000]]);
    } finally {
      await replay.close();
    }
  });
});
