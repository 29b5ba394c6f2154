// The simulated Polymarket CLOB driven by a recorded market channel (`sim-venue polymarket --capture FILE`):
// it serves the recorded book (REST /book and the market channel, which re-sends the recorded frames as they
// were), follows the recorded tick size, fills our order against the recorded book and a resting one from a
// recorded trade print with the kernel's simulated venue, and refuses a malformed capture with one line naming the file and line (exit 2).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { limitOrderAmounts } from '../../../src/venues/polymarket/amounts.js';
import { loadPolymarketCapture } from '../../../src/venues/polymarket/capture.js';
import { polymarketCredentials } from '../../../src/venues/polymarket/credentials.js';
import { buildAndSign, saltFor } from '../../../src/venues/polymarket/order.js';
import { PolymarketRest } from '../../../src/venues/polymarket/rest.js';
import { SimPolymarket, deriveApiCreds, type SimFillRecord } from '../../../src/venues/polymarket/sim.js';
import { signingWallet } from '../../../src/venues/polymarket/signing.js';
import { toWireOrder } from '../../../src/venues/polymarket/wire.js';

const KEY = `0x${'3c'.repeat(32)}`;
const creds = polymarketCredentials({ POLYMARKET_PRIVATE_KEY: KEY });
const CAPTURE = path.join(process.cwd(), 'test/fixtures/polymarket-capture/market.jsonl');
const recorded = fs.readFileSync(CAPTURE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
const YES = '48331043336612883890938759509493159234755048973500640148014422747788308965732';
const NO = '21742633143463906290569050155826241533067272736897614950488156847949938836455';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-pm-capture-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('simulated Polymarket with a recorded capture', () => {
  it('serves the recorded book on REST and the market channel, and fills an order against it', { timeout: 20_000 }, async () => {
    const sim = await SimPolymarket.start({ credentials: creds, capture: CAPTURE, stepMs: 10, settleMs: 20, startOnSubscribe: true });
    const ws = new WebSocket(sim.info.marketWs);
    try {
      expect(sim.market).toBe('0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917');
      expect(sim.tokens).toEqual({ yes: YES, no: NO });
      const got: unknown[] = [];
      ws.on('message', (m) => got.push(JSON.parse(m.toString()) as unknown));
      await new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
      ws.send(JSON.stringify({ assets_ids: [YES, NO], type: 'market' }));
      // The five recorded frames come back as recorded (after the subscription's two book messages).
      await until('the recorded frames', () => got.length >= 7);
      expect(got.slice(2)).toEqual(recorded);
      expect((await (await fetch(`${sim.info.rest}/_sim/stats`)).json()) as { steps: number }).toMatchObject({ steps: 5 });

      const book = (await (await fetch(`${sim.info.rest}/book?token_id=${YES}`)).json()) as { market: string; bids: Array<{ price: string; size: string }>; asks: Array<{ price: string; size: string }> };
      expect(book.market).toBe(sim.market);
      // Worst → best as Polymarket sends it: the recorded book with the recorded price_change applied.
      expect(book.bids.slice(-2)).toEqual([{ price: '0.511', size: '1304.72' }, { price: '0.512', size: '500' }]);
      expect(book.asks.slice(-2)).toEqual([{ price: '0.516', size: '28605.55' }, { price: '0.515', size: '43551.96' }]);
      expect(book.asks[0]).toEqual({ price: '0.999', size: '10500100' });
      const no = (await (await fetch(`${sim.info.rest}/book?token_id=${NO}`)).json()) as typeof book;
      expect([no.bids.at(-1), no.asks.at(-1)]).toEqual([{ price: '0.486', size: '20230.87' }, { price: '0.489', size: '1304.72' }]);
      expect(((await (await fetch(`${sim.info.rest}/markets/${sim.market}`)).json()) as { minimum_tick_size: number }).minimum_tick_size).toBe(0.001);

      // A BUY of 10 YES at 0.515 (a 0.001 tick: the recorded tick_size_change) takes the recorded best ask.
      const rest = new PolymarketRest({ baseUrl: sim.info.rest, chainId: 137, credentials: creds });
      const me = signingWallet(KEY).address;
      const signed = buildAndSign(KEY, { version: 1, chainId: 137, negRisk: false, tokenId: YES, amounts: limitOrderAmounts('BUY', '0.515', '10', '0.001'), salt: saltFor('capture-buy'), maker: me, signer: me });
      const r = (await rest.private('POST', '/order', { body: { order: toWireOrder(signed), owner: deriveApiCreds(creds).key, orderType: 'GTC' } })) as { success: boolean; status: string };
      expect(r).toMatchObject({ success: true, status: 'matched' });
      const fills = (await (await fetch(`${sim.info.rest}/_sim/fills`)).json()) as SimFillRecord[];
      expect(fills.map((f) => [f.tokenId, f.side, f.price, f.size, f.liquidity])).toEqual([[YES, 'BUY', '0.515', '10', 'taker']]);
    } finally {
      ws.close();
      await sim.close();
    }
  });

  it('fills a resting order from a recorded trade print at its price, not beyond', { timeout: 20_000 }, async () => {
    // The fixture, then a YES print (the recorded last_trade_price shape): a buyer took 50 at 0.53.
    const file = path.join(dir, 'print.jsonl');
    const print = { ...(recorded[4] as object), asset_id: YES, price: '0.53', side: 'BUY', size: '50' };
    fs.writeFileSync(file, [...recorded, print].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const sim = await SimPolymarket.start({ credentials: creds, capture: file, stepMs: 10, settleMs: 20, startOnSubscribe: true });
    const ws = new WebSocket(sim.info.marketWs);
    const opened = new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
    try {
      const rest = new PolymarketRest({ baseUrl: sim.info.rest, chainId: 137, credentials: creds });
      const me = signingWallet(KEY).address;
      const sell = async (price: string) => {
        const signed = buildAndSign(KEY, { version: 1, chainId: 137, negRisk: false, tokenId: YES, amounts: limitOrderAmounts('SELL', price, '10', '0.01'), salt: saltFor(`print-${price}`), maker: me, signer: me });
        return (await rest.private('POST', '/order', { body: { order: toWireOrder(signed), owner: deriveApiCreds(creds).key, orderType: 'GTC' } })) as { status: string; orderID: string };
      };
      // Resting before the recording plays (0.01 tick until its tick_size_change): levels no book shows.
      const at53 = await sell('0.53');
      const at54 = await sell('0.54');
      expect([at53.status, at54.status]).toEqual(['live', 'live']);
      await opened;
      ws.send(JSON.stringify({ assets_ids: [YES], type: 'market' }));
      await until('the capture played', async () => ((await (await fetch(`${sim.info.rest}/_sim/stats`)).json()) as { steps: number }).steps === 6);
      const fills = (await (await fetch(`${sim.info.rest}/_sim/fills`)).json()) as SimFillRecord[];
      expect(fills.map((f) => [f.orderID, f.side, f.price, f.size, f.liquidity])).toEqual([[at53.orderID, 'SELL', '0.53', '10', 'maker']]);
    } finally {
      ws.close();
      await sim.close();
    }
  });

  it('refuses a malformed capture line: one error naming the file and the line, exit 2', () => {
    const lines = fs.readFileSync(CAPTURE, 'utf8').trim().split('\n');
    const bad = path.join(dir, 'bad.jsonl');
    // Line 4's price_change with a price outside (0, 1).
    fs.writeFileSync(bad, [...lines.slice(0, 3), lines[3]!.replace('"price":"0.512"', '"price":"1.512"'), lines[4]].join('\n') + '\n');
    expect(() => loadPolymarketCapture(bad)).toThrow(/out of range/);
    const cases: Array<[string, RegExp]> = [
      ['{"event_type":"book"', /invalid JSON/],
      [JSON.stringify({ ...(recorded[4] as object), secret: 1 }), /last_trade_price: Unrecognized key/],
      [JSON.stringify({ ...(recorded[4] as object), event_type: 'user_order' }), /event_type "user_order" is not one of/],
      [JSON.stringify({ ...(recorded[4] as object), asset_id: '1' }), /a third token 1/],
      [JSON.stringify([{ ...(recorded[4] as object), price: '0.49123' }]), /\[0\] .*more than 4 decimal places/],
    ];
    for (const [line, why] of cases) {
      const f = path.join(dir, 'case.jsonl');
      fs.writeFileSync(f, [...lines.slice(0, 3), line].join('\n'));
      expect(() => loadPolymarketCapture(f)).toThrow(why);
    }
    const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'sim-venue', 'polymarket', '--port', '0', '--capture', bad], {
      encoding: 'utf8', timeout: 15_000, env: { ...process.env, POLYMARKET_PRIVATE_KEY: KEY },
    });
    expect(cli.status).toBe(2);
    expect(cli.stdout).toBe('');
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain(`${bad}:4`);
    expect(cli.stderr).toMatch(/price_change\.price_changes\[0\]\.price: 1\.512 is out of range/);
    expect(cli.stderr).not.toContain(KEY.slice(2, 20));
  });
});
