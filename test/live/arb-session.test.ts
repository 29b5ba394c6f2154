/**
 * The cross-venue event arbitrage live on two simulated venues at once: the same event's YES on the simulated
 * Polymarket CLOB and on the simulated Kalshi (each its own seeded walk, so their prices part), one run with
 * both sessions (runtime/live-venue.ts): it buys the cheap venue and sells the rich one with IOC orders, both
 * legs filled; each venue reconciled before and after; parity identical; then a backtest of the same market
 * data (the run's own inputs) and the live-versus-backtest slippage report, which pairs orders on both venues.
 * Kalshi runs at Polymarket's scales (price 4, qty 6 decimals) so the two legs share them.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../domain/events/catalog.js';
import { checkParity } from '../../replay/parity.js';
import { slippage } from '../../replay/slippage.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel } from '../../src/runtime/engine.js';
import { runLiveVenue } from '../../src/runtime/live-venue.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { kalshi } from '../../src/venues/kalshi/adapter.js';
import { kalshiCredentials } from '../../src/venues/kalshi/credentials.js';
import { openKalshiSession } from '../../src/venues/kalshi/session.js';
import { SimKalshi, type KalshiSimFill } from '../../src/venues/kalshi/sim.js';
import { PolymarketConfig } from '../../src/venues/polymarket/config.js';
import { polymarketCredentials } from '../../src/venues/polymarket/credentials.js';
import { openPolymarketSession } from '../../src/venues/polymarket/session.js';
import { SimPolymarket, type SimFillRecord } from '../../src/venues/polymarket/sim.js';
import { parseVenueConfig } from '../../src/venues/registry.js';
import { tmpDir } from '../helpers/tmp.js';

const TICKER = 'KXSIM-26DEC31-T50';
const PM_ENV = { POLYMARKET_PRIVATE_KEY: `0x${'5a'.repeat(32)}` };

describe('cross-venue event arbitrage, live on the simulated Polymarket and Kalshi', () => {
  it('trades both legs, reconciles both venues, replays identically, and its slippage report covers both venues', { timeout: 120_000 }, async () => {
    const t = tmpDir('td-arb-live-');
    fs.writeFileSync(path.join(t.dir, 'k.pem'), generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey);
    const kEnv = { KALSHI_API_KEY_ID: 'arb-test-key', KALSHI_PRIVATE_KEY_PATH: path.join(t.dir, 'k.pem') };
    const kCreds = kalshiCredentials(kEnv);
    const pmCreds = polymarketCredentials(PM_ENV);
    const ks = await SimKalshi.start({ keyId: kCreds.keyId, publicKey: kCreds.publicKey(), stepMs: 50, seed: 4, markets: [TICKER] });
    const pm = await SimPolymarket.start({ credentials: pmCreds, stepMs: 50, seed: 4 });
    const kIns = `KALSHI:${TICKER}`;
    const pIns = `POLYMARKET:${pm.tokens.yes}`;
    const k = await openKalshiSession(parseVenueConfig(kalshi, { priceScale: 4, qtyScale: 6 }), { env: kEnv, baseUrl: ks.urls.rest, confirmLive: false, instruments: [kIns] });
    const p = await openPolymarketSession(PolymarketConfig.parse({}), { env: PM_ENV, baseUrl: pm.info.rest, confirmLive: false, instruments: [pIns] });
    const config: ResolvedRunConfig = {
      strategy: 'cross-venue-arb', seed: 1,
      params: {
        legs: [{ venue: 'KALSHI', instrument: kIns }, { venue: 'POLYMARKET', instrument: pIns }],
        priceScale: 4, qtyScale: 6, minEdgeTicks: 100, maxQtyLots: 1_000_000, maxPositionLots: 4_000_000, cooldownNs: '200000000',
      },
      risk: { maxOpenOrders: 10, allowUnknownInstruments: true }, venues: [],
    };
    const logs: string[] = [];
    const store = await EmbeddedEventStore.open(path.join(t.dir, 'store'));
    try {
      const venueFills = async () => ({
        k: (await (await fetch(`${ks.urls.rest.replace('/trade-api/v2', '')}/_sim/fills`)).json()) as KalshiSimFill[],
        p: ((await (await fetch(`${pm.info.rest}/_sim/fills`)).json()) as SimFillRecord[]).filter((f) => f.status !== 'FAILED'),
      });
      const stop = new AbortController();
      const poller = (async () => {
        const end = Date.now() + 60_000;
        while (!stop.signal.aborted && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 200));
          const v = await venueFills();
          if (v.k.length >= 2 && v.p.length >= 2) break;
        }
        stop.abort();
      })();
      const r = await runLiveVenue({ store, session: k, sessions: [p], config, onEnd: 'cancel', durationMs: 60_000, signal: stop.signal, onLog: (l) => logs.push(l) });
      stop.abort();
      await poller;
      const why = JSON.stringify({ start: r.startReconciliation, end: r.endReconciliation, halt: r.haltReason, logs: logs.slice(0, 8) });
      expect(r.startReconciliation.ok, why).toBe(true);
      expect(r.endReconciliation, why).toMatchObject({ ok: true, differences: [] });
      const s = r.summary!;
      const evs = await collect(store.readAll());
      const fills = evs.filter((e) => e.type === 'OrderFilled').map((e) => e.data as { venue: string; instrument: string; fillId: string });
      // Both legs traded, on both venues, every venue fill in the log once.
      expect(fills.some((f) => f.venue === 'KALSHI'), why).toBe(true);
      expect(fills.some((f) => f.venue === 'POLYMARKET'), why).toBe(true);
      expect(new Set(fills.map((f) => f.fillId)).size).toBe(fills.length);
      const v = await venueFills();
      expect(fills.filter((f) => f.venue === 'KALSHI').length).toBe(v.k.length);
      // IOC both legs: the run's orders on each venue carry the strategy's arb tags.
      const intents = evs.filter((e) => e.type === 'OrderIntended').map((e) => e.data as { venue: string; timeInForce: string });
      expect(new Set(intents.map((i) => i.venue))).toEqual(new Set(['KALSHI', 'POLYMARKET']));
      expect(intents.every((i) => i.timeInForce === 'IOC')).toBe(true);
      expect(await checkParity(store, s.runId)).toMatchObject({ identical: true, decisions: s.decisions });

      // A backtest over the market data the live run saw (its inputs), both venues simulated, and the slippage between the two.
      const isMarket = (type: string) => (CATALOG as Record<string, { category: string }>)[type]?.category === 'market';
      const run = evs.filter((e) => e.stream === `run-${s.runId}` && (e.metadata as { role?: string }).role === 'input' && isMarket(e.type));
      expect(run.length).toBeGreaterThan(0);
      const inputs = run.map((e) => ({ id: e.id, type: e.type, schemaVersion: 1, stream: e.stream, eventTimeNs: BigInt((e.metadata as { eventTimeNs: string }).eventTimeNs), receiveTimeNs: BigInt((e.metadata as { receiveTimeNs: string }).receiveTimeNs), causationId: null, correlationId: null, data: e.data }));
      const sim = (venue: string) => ({ venue, latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '0', takerBps: '0' } });
      async function* source() {
        for (const e of inputs) yield e as never;
      }
      const back = await runKernel({ mode: 'replay', store, config: { ...config, venues: [sim('KALSHI'), sim('POLYMARKET')] }, sourceLabel: `live inputs of ${s.runId}`, events: source() });
      const slip = await slippage(store, s.runId, back.runId);
      expect(slip.liveOrders).toBe(s.orders);
      expect(new Set(slip.orders.map((o) => o.venue))).toEqual(new Set(['KALSHI', 'POLYMARKET']));
      expect(new Set(slip.orders.filter((o) => o.backtestOrderId !== null).map((o) => o.venue))).toEqual(new Set(['KALSHI', 'POLYMARKET']));
    } finally {
      await store.close();
      await k.close();
      await p.close();
      await ks.close();
      await pm.close();
      t.cleanup();
    }
  });
});
