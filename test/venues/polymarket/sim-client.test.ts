// The simulated Polymarket CLOB and the execution client, in process: L1/L2 auth checked on every request,
// forged, wrong-signer, wrong-exchange and wrong-version orders refused with the venue's words, cursor
// pagination, and the trade status sequences: MATCHED → MINED → CONFIRMED books once, MATCHED → FAILED
// reverses what was booked, and the portfolio's position is right after each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import { evolve, initialState, positionLots } from '../../../domain/portfolio/portfolio.js';
import { l1Headers } from '../../../src/venues/polymarket/auth.js';
import { limitOrderAmounts } from '../../../src/venues/polymarket/amounts.js';
import { PolymarketConfig } from '../../../src/venues/polymarket/config.js';
import { polymarketCredentials } from '../../../src/venues/polymarket/credentials.js';
import { polymarket } from '../../../src/venues/polymarket/adapter.js';
import { PolymarketExecutionClient } from '../../../src/venues/polymarket/execution.js';
import { buildAndSign, saltFor } from '../../../src/venues/polymarket/order.js';
import { PolymarketRest, PolymarketRefusal } from '../../../src/venues/polymarket/rest.js';
import { atBaseUrl } from '../../../src/venues/polymarket/session.js';
import { SimPolymarket, deriveApiCreds, type SimFillRecord } from '../../../src/venues/polymarket/sim.js';
import { signingWallet } from '../../../src/venues/polymarket/signing.js';
import { toWireOrder } from '../../../src/venues/polymarket/wire.js';

const KEY = `0x${'3c'.repeat(32)}`;
const STRANGER = `0x${'5d'.repeat(32)}`;
const creds = polymarketCredentials({ POLYMARKET_PRIVATE_KEY: KEY });
let sim: SimPolymarket;
let rest: PolymarketRest;

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function config(over: Record<string, unknown> = {}) {
  return atBaseUrl(PolymarketConfig.parse({ markets: [sim.market], ...over }), sim.info.rest);
}

/** A signed order body as POST /order takes it; `key` signs, `signer` is what the order claims. */
function orderBody(o: { key: string; signer?: string; version?: 1 | 2 | 3; negRisk?: boolean; price?: string; salt?: string }) {
  const signer = o.signer ?? signingWallet(o.key).address;
  const signed = buildAndSign(o.key, {
    version: o.version ?? 1, chainId: 137, negRisk: o.negRisk ?? false, tokenId: sim.tokens.yes, amounts: limitOrderAmounts('BUY', o.price ?? '0.01', '5', '0.01'),
    salt: o.salt ?? saltFor(`forged-${Math.random()}`), maker: signer, signer, ...(o.version !== undefined && o.version !== 1 ? { timestampMs: String(Date.now()) } : {}),
  });
  return { order: toWireOrder(signed), owner: deriveApiCreds(creds).key, orderType: 'GTC' };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PolymarketRefusal) return `${e.status} ${e.reason}`;
    throw e;
  }
  throw new Error('the venue took it');
}

beforeAll(async () => {
  sim = await SimPolymarket.start({ credentials: creds, stepMs: 40, settleMs: 30, seed: 5 });
  rest = new PolymarketRest({ baseUrl: sim.info.rest, chainId: 137, credentials: creds });
});
afterAll(async () => {
  await sim.close();
});

describe('simulated Polymarket: authentication', () => {
  it('derives API keys over L1 for the account only, and checks L2 HMAC on every private request', async () => {
    const api = await rest.apiCreds();
    expect(api).toEqual(deriveApiCreds(creds));
    const stranger = l1Headers(STRANGER, 137, Math.floor(Date.now() / 1000));
    const r = await fetch(`${sim.info.rest}/auth/derive-api-key`, { headers: stranger as unknown as Record<string, string> });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'Invalid L1 Request headers' });
    const bare = await fetch(`${sim.info.rest}/data/orders`);
    expect([bare.status, await bare.json()]).toEqual([401, { error: 'Unauthorized/Invalid api key' }]);
    const wrongSecret = new PolymarketRest({ baseUrl: sim.info.rest, chainId: 137, credentials: polymarketCredentials({ POLYMARKET_PRIVATE_KEY: KEY, POLYMARKET_API_KEY: api.key, POLYMARKET_API_SECRET: 'c2VjcmV0LW5vdC10aGlzLW9uZQ==', POLYMARKET_API_PASSPHRASE: api.passphrase }) });
    expect(await refusal(wrongSecret.private('GET', '/data/orders'))).toBe('401 Unauthorized/Invalid api key');
    expect((await rest.private('GET', '/data/orders')) as { next_cursor: string }).toMatchObject({ next_cursor: 'LTE=' });
  });

  it('recovers every order\'s signer: forged, wrong signer, wrong exchange and wrong version are refused in the venue\'s words', async () => {
    const me = creds.address;
    // Signed by a stranger's key but claiming our address: the signature recovers the stranger.
    expect(await refusal(rest.private('POST', '/order', { body: orderBody({ key: STRANGER, signer: me }) }))).toBe('400 invalid signature');
    expect(await refusal(rest.private('POST', '/order', { body: orderBody({ key: STRANGER }) }))).toBe('400 signer address has to be the address of the API KEY');
    // Our key, but signed for the neg-risk exchange: under this exchange's domain it recovers someone else.
    expect(await refusal(rest.private('POST', '/order', { body: orderBody({ key: KEY, negRisk: true }) }))).toBe('400 invalid signature');
    expect(await refusal(rest.private('POST', '/order', { body: orderBody({ key: KEY, version: 2 }) }))).toBe('400 invalid order version');
    const ok = (await rest.private('POST', '/order', { body: orderBody({ key: KEY }) })) as { success: boolean; orderID: string };
    expect(ok.success).toBe(true);
    // The same signed order again is the same hash: refused, and marked so in the venue's truth.
    const again = orderBody({ key: KEY, salt: '1' });
    await rest.private('POST', '/order', { body: again });
    expect(await refusal(rest.private('POST', '/order', { body: again }))).toBe('400 order already exists');
    const truth = (await (await fetch(`${sim.info.rest}/_sim/orders`)).json()) as Array<{ status: string; error?: string; duplicate?: boolean }>;
    expect(truth.filter((o) => o.status === 'REFUSED').map((o) => o.error)).toEqual([
      'invalid signature', 'signer address has to be the address of the API KEY', 'invalid signature', 'invalid order version', 'order already exists',
    ]);
    expect(truth.filter((o) => o.duplicate === true)).toHaveLength(1);
    await rest.private('DELETE', '/cancel-all');
  });

  it('the execution client: an order of a version the exchange does not take arrives as a rejection with the venue\'s reason', async () => {
    const c = new PolymarketExecutionClient({ config: config({ orderVersion: 2 }), credentials: creds });
    const reports: AnyEnvelope[] = [];
    c.onReport((e) => reports.push(e));
    await c.connect();
    try {
      await c.send(submit('v2-order', 'buy', 100, 5_000_000));
      const rej = await until('the rejection', () => reports.find((e) => e.type === 'OrderRejected'));
      expect(rej.data).toEqual({ orderId: 'v2-order', reason: 'venue: invalid order version' });
    } finally {
      await c.close();
    }
  });
});

function submit(orderId: string, side: 'buy' | 'sell', priceTicks: number, qtyLots: number, token = sim.tokens.yes): VenueCommand {
  return { kind: 'SubmitOrder', orderId, venue: 'POLYMARKET', instrument: `POLYMARKET:${token}`, side, orderType: 'limit', priceTicks, qtyLots, priceScale: 4, qtyScale: 6, timeInForce: 'GTC', postOnly: false, reduceOnly: false };
}

async function takingPriceTicks(): Promise<number> {
  const b = (await (await fetch(`${sim.info.rest}/book?token_id=${sim.tokens.yes}`)).json()) as { asks: Array<{ price: string }> };
  // Five cents through the best ask: the book may move before the order arrives, and it must still take at once.
  return Math.min(9_900, Math.round(Number(b.asks.at(-1)!.price) * 10_000) + 500);
}

describe('the registry\'s Polymarket client (loads signing and ethers on connect)', () => {
  it('refuses a bad key at connect, hands over listeners set before it, and trades like the client itself', async () => {
    await expect(polymarket.execution!.newClient(config(), { credentials: { POLYMARKET_PRIVATE_KEY: '0x12' } }).connect()).rejects.toThrow(/POLYMARKET_PRIVATE_KEY is not a valid/);
    const c = polymarket.execution!.newClient(config(), { credentials: { POLYMARKET_PRIVATE_KEY: KEY } });
    await expect(c.send(submit('early', 'buy', 100, 5_000_000))).rejects.toThrow(/connect\(\) first/);
    const reports: AnyEnvelope[] = [];
    const sent: AnyEnvelope[] = [];
    c.onReport((e) => reports.push(e));
    c.onSent!((e) => sent.push(e));
    await c.connect();
    try {
      await c.send(submit('via-registry', 'buy', 100, 5_000_000, sim.tokens.no));
      await until('the acceptance', () => reports.find((e) => e.type === 'OrderAccepted' && (e.data as { orderId: string }).orderId === 'via-registry'));
      expect(sent.map((e) => e.type)).toContain('VenueMessageSent');
      expect(await c.queryOrder('via-registry')).toMatchObject({ orderId: 'via-registry', state: 'open' });
      const report = await c.reconciliationReport!({ orderIds: ['via-registry'], instruments: [`POLYMARKET:${sim.tokens.no}`] });
      expect(report.orders.map((o) => o.orderId)).toContain('via-registry');
      await c.send({ kind: 'CancelOrder', orderId: 'via-registry', venue: 'POLYMARKET', instrument: `POLYMARKET:${sim.tokens.no}` } as VenueCommand);
      await until('the cancel', () => reports.find((e) => e.type === 'OrderCanceled'));
    } finally {
      await c.close();
    }
  });
});

describe('simulated Polymarket: pagination and the trade status sequences', () => {
  it('lists open orders with cursor pagination to "LTE=", and cancel-all cancels them all', async () => {
    const c = new PolymarketExecutionClient({ config: config(), credentials: creds });
    const reports: AnyEnvelope[] = [];
    c.onReport((e) => reports.push(e));
    await c.connect();
    try {
      for (let i = 0; i < 52; i++) await c.send(submit(`rest-${i}`, 'buy', 100, 5_000_000, sim.tokens.no));
      await until('52 acceptances', () => reports.filter((e) => e.type === 'OrderAccepted').length >= 52 || undefined);
      const open = await rest.all('/data/orders', { market: sim.market });
      expect(open).toHaveLength(52);
      expect(new Set(open.map((o) => (o as { id: string }).id)).size).toBe(52);
      expect((await c.cancelAll()).canceled).toHaveLength(52);
      expect(await rest.all('/data/orders', {})).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it('an answer lost on the way back is an unknown outcome, resolved by asking for the order by its hash (never posted again)', async () => {
    const c = new PolymarketExecutionClient({ config: config(), credentials: creds });
    const reports: AnyEnvelope[] = [];
    c.onReport((e) => reports.push(e));
    await c.connect();
    try {
      await fetch(`${sim.info.rest}/_sim/faults`, { method: 'POST', body: JSON.stringify({ once: ['lose-ack'] }) });
      await c.send(submit('lost-ack', 'buy', 100, 5_000_000, sim.tokens.no));
      await until('the unknown outcome', () => reports.find((e) => e.type === 'OrderStatusUnknown'));
      const q = await c.queryOrder('lost-ack');
      expect(q).toMatchObject({ orderId: 'lost-ack', state: 'open', filledLots: 0, leavesLots: 5_000_000 });
      const truth = (await (await fetch(`${sim.info.rest}/_sim/orders`)).json()) as Array<{ orderID: string }>;
      expect(truth.filter((o) => o.orderID === q.venueOrderId)).toHaveLength(1);
      await c.cancelAll();
    } finally {
      await c.close();
    }
  });

  it('MATCHED → MINED → CONFIRMED books the fill once; MATCHED → FAILED books it, then reverses it; the position is right', async () => {
    const c = new PolymarketExecutionClient({ config: config(), credentials: creds });
    const reports: AnyEnvelope[] = [];
    c.onReport((e) => reports.push(e));
    await c.connect();
    try {
      const fills = async (): Promise<SimFillRecord[]> => (await (await fetch(`${sim.info.rest}/_sim/fills`)).json()) as SimFillRecord[];
      // A taker buy through the best ask fills at once (2 shares: less than any level holds); its trade goes through three statuses.
      await c.send(submit('take-ok', 'buy', await takingPriceTicks(), 2_000_000));
      await until('the confirmed trade', async () => (await fills()).find((f) => f.status === 'CONFIRMED'));
      await until('the confirmation reached the client', () => (c.stats.duplicateReports >= 2 ? true : undefined));
      expect(reports.filter((e) => e.type === 'OrderFilled')).toHaveLength(1);
      expect(reports.find((e) => e.type === 'OrderFilled')!.data).toMatchObject({ orderId: 'take-ok', qtyLots: 2_000_000, liquidity: 'taker', leavesLots: 0 });

      await fetch(`${sim.info.rest}/_sim/faults`, { method: 'POST', body: JSON.stringify({ once: ['fail-trade'] }) });
      await c.send(submit('take-fails', 'buy', await takingPriceTicks(), 3_000_000));
      const reversed = await until('the reversal', () => reports.find((e) => e.type === 'FillReversed'));
      const booked = reports.find((e) => e.type === 'OrderFilled' && (e.data as { orderId: string }).orderId === 'take-fails')!;
      expect(reversed.data).toMatchObject({ orderId: 'take-fails', fillId: (booked.data as { fillId: string }).fillId, qtyLots: 3_000_000 });
      expect((await fills()).find((f) => f.orderID !== undefined && f.status === 'FAILED')).toBeDefined();

      // The portfolio folds the client's reports: the confirmed 2 shares stand, the failed 3 are taken back.
      const pf = initialState();
      for (const e of reports) evolve(pf, e as unknown as TimedEvent);
      expect(positionLots(pf, `POLYMARKET:${sim.tokens.yes}`)).toBe(2_000_000);
      expect(c.stats).toMatchObject({ fills: 2, reversed: 1 });
    } finally {
      await c.close();
    }
  });
});
