/**
 * Restarts and crashes around a live session on the simulated Binance, each its own test:
 * - cold restart: a session ends leaving orders open (as if killed); the next one reconciles, cancels them, trades;
 * - warm restart: the connections drop mid-session; the client reconnects, resynchronises over REST, and the
 *   run replays identically;
 * - a crash between a fill at the venue and its event in the log: reconciliation appends the fill once;
 * - a venue-side cancel while tapedeck was down: reconciliation records the cancel;
 * - duplicated execution reports: each fill is in the log once.
 */
import { describe, expect, it } from 'vitest';
import { uuidFromName } from '../../domain/core/sha256.js';
import { checkParity } from '../../replay/parity.js';
import { reconcileVenue } from '../../src/runtime/live.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { SimFillRecord } from '../../src/venues/binance/sim.js';
import { clientOrderIdFor } from '../../src/venues/ccxt/normalize.js';
import { tmpDir } from '../helpers/tmp.js';
import { allEvents, liveRun, session, simJson, startSim } from './helpers.js';

const RUN = '0f0e0d0c-0b0a-4909-8807-060504030201';

/** A live run's record of one order sent to the venue (what the log holds when the process died right after). */
async function loggedOrder(store: EmbeddedEventStore, orderId: string, o: { side: 'buy' | 'sell'; priceTicks: number; qtyLots: number; accepted?: string }): Promise<void> {
  const meta = { schemaVersion: 1, eventTimeNs: '0', receiveTimeNs: '0' };
  const ev = (type: string, data: unknown, n: number) => ({ id: uuidFromName(RUN, `${orderId}:${n}`), type, data, metadata: meta });
  await store.appendToStream(`run-${RUN}`, [
    ...((await store.streamRevision(`run-${RUN}`)) >= 0 ? [] : [ev('RunStarted', { manifest: { runId: RUN, mode: 'live', strategy: 'test@1', codeHash: 'x', configHash: 'x', seed: 1, source: 'test', dataRange: { fromNs: null, toNs: null } } }, 0)]),
    ev('OrderIntended', {
      orderId, venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', side: o.side, orderType: 'limit', priceTicks: o.priceTicks, qtyLots: o.qtyLots, priceScale: 8, qtyScale: 8,
      timeInForce: 'GTC', postOnly: false, reduceOnly: false, decision: { strategyId: 'test@1', strategyCodeHash: 'x', configHash: 'x', stateHash: 'x', causeEventId: 'x', causePosition: null },
    }, 1),
    ev('RiskApproved', { orderId, checks: [] }, 2),
    ev('OrderSubmitted', { orderId, venue: 'BINANCE', attempt: 1 }, 3),
    ...(o.accepted ? [ev('OrderAccepted', { orderId, venueOrderId: o.accepted }, 4)] : []),
  ], { expectedRevision: 'any' });
}

describe('live restarts and crashes against the simulated Binance', () => {
  it('cold restart: orders a dead session left open are reconciled and canceled before trading on', { timeout: 60_000 }, async () => {
    const t = tmpDir('td-ccxt-cold-');
    const sim = await startSim({ speed: 8 });
    try {
      const first = await liveRun(sim, t.dir, { durationMs: 2500, onEnd: 'leave' });
      await first.store.close();
      const isOpen = (o: { status: string }) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
      const open = (await simJson<Array<{ status: string; clientOrderId: string }>>(sim, '/_sim/orders')).filter(isOpen);
      expect(open.length).toBeGreaterThan(0);
      const second = await liveRun(sim, t.dir, { durationMs: 2000 });
      // Canceled before trading (the market may fill one of them meanwhile: then it is no longer open).
      const why = JSON.stringify({ start: second.result.startReconciliation, end: second.result.endReconciliation, halt: second.result.haltReason, stats: second.result.clientStats });
      expect(second.result.startReconciliation.ok, why).toBe(true);
      const after = await simJson<Array<{ status: string; clientOrderId: string }>>(sim, '/_sim/orders');
      const left = open.map((o) => after.find((x) => x.clientOrderId === o.clientOrderId)!.status);
      for (const status of left) expect(['CANCELED', 'FILLED']).toContain(status);
      if (left.includes('CANCELED')) expect(second.result.startReconciliation.canceledLeftovers, why).toBeGreaterThan(0);
      expect(second.result.endReconciliation?.ok, why).toBe(true);
      expect(second.result.summary?.orders, why).toBeGreaterThan(0);
      const evs = await allEvents(second.store);
      const fills = evs.filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
      expect(new Set(fills).size).toBe(fills.length);
      expect(fills.length).toBe((await simJson<SimFillRecord[]>(sim, '/_sim/fills')).length);
      await second.store.close();
    } finally {
      await sim.close();
      t.cleanup();
    }
  });

  it('warm restart: dropped connections reconnect, resynchronise over REST, and the run replays identically', { timeout: 60_000 }, async () => {
    const t = tmpDir('td-ccxt-warm-');
    const sim = await startSim({ speed: 8 });
    try {
      setTimeout(() => sim.setFaults(undefined, ['drop']), 1500);
      const { result, store } = await liveRun(sim, t.dir, { durationMs: 3500 });
      expect(result.clientStats!.streamGaps).toBeGreaterThan(0);
      expect(result.clientStats!.resyncs).toBeGreaterThan(0);
      expect(result.endReconciliation?.ok).toBe(true);
      expect(await checkParity(store, result.summary!.runId)).toMatchObject({ identical: true });
      await store.close();
    } finally {
      await sim.close();
      t.cleanup();
    }
  });

  it('a crash between a fill at the venue and its event in the log: reconciliation appends the fill exactly once', { timeout: 30_000 }, async () => {
    const t = tmpDir('td-ccxt-fillcrash-');
    const sim = await startSim({ speed: 1, startOnSubscribe: false });
    const s = await session(sim);
    const store = await EmbeddedEventStore.open(t.dir);
    try {
      expect((await reconcileVenue(store, s, { apply: true })).ok).toBe(true); // the baseline balances
      let book = await s.exchange.fetchOrderBook('NKN/USDT', 5);
      for (let i = 0; i < 50 && book.asks.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        book = await s.exchange.fetchOrderBook('NKN/USDT', 5);
      }
      const ask = Math.round(book.asks[0][0] * 1e8);
      const orderId = '11111111-2222-8333-8444-555555555555';
      // The intent was durable and the order went out; the process died before the fill was logged.
      await loggedOrder(store, orderId, { side: 'buy', priceTicks: ask, qtyLots: 100_000_000 });
      await s.exchange.createOrder('NKN/USDT', 'limit', 'buy', 1, ask / 1e8, { clientOrderId: clientOrderIdFor('binance', orderId) });
      const venueFills = await simJson<SimFillRecord[]>(sim, '/_sim/fills');
      expect(venueFills.length).toBe(1);
      const dry = await reconcileVenue(store, s, { apply: false });
      expect(dry.ok).toBe(true);
      expect(dry.differences.map((d) => `${d.kind}:${d.fixed}`)).toContain('fill-missing:true');
      expect((await allEvents(store)).filter((e) => e.type === 'OrderFilled').length).toBe(0); // a dry run changes nothing
      await reconcileVenue(store, s, { apply: true });
      await reconcileVenue(store, s, { apply: true }); // again: nothing new
      const fills = (await allEvents(store)).filter((e) => e.type === 'OrderFilled');
      expect(fills.map((e) => (e.data as { fillId: string }).fillId)).toEqual([`BINANCE:NKNUSDT:${venueFills[0]!.tradeId}`]);
      const again = await reconcileVenue(store, s, { apply: false });
      expect(again).toMatchObject({ ok: true, working: [] });
    } finally {
      await store.close();
      await s.close();
      await sim.close();
      t.cleanup();
    }
  });

  it('a venue-side cancel while tapedeck was down: reconciliation records it', { timeout: 30_000 }, async () => {
    const t = tmpDir('td-ccxt-vcancel-');
    const sim = await startSim({ speed: 1, startOnSubscribe: false });
    const s = await session(sim);
    const store = await EmbeddedEventStore.open(t.dir);
    try {
      expect((await reconcileVenue(store, s, { apply: true })).ok).toBe(true);
      const orderId = '21111111-2222-8333-8444-555555555555';
      const placed = await s.exchange.createOrder('NKN/USDT', 'limit', 'buy', 10, 0.2, { clientOrderId: clientOrderIdFor('binance', orderId) });
      await loggedOrder(store, orderId, { side: 'buy', priceTicks: 20_000_000, qtyLots: 1_000_000_000, accepted: String(placed.id) });
      expect((await reconcileVenue(store, s, { apply: false })).working).toEqual([orderId]);
      await s.exchange.cancelOrder(placed.id, 'NKN/USDT'); // the venue cancels it (an operator, a maintenance) while we are down
      const r = await reconcileVenue(store, s, { apply: true });
      expect(r.ok).toBe(true);
      expect(r.differences.map((d) => `${d.kind}:${d.fixed}`)).toContain('order-status:true');
      const canceled = (await allEvents(store)).filter((e) => e.type === 'OrderCanceled');
      expect(canceled.map((e) => (e.data as { orderId: string; canceledLots: number }))).toEqual([expect.objectContaining({ orderId, canceledLots: 1_000_000_000 })]);
      expect((await reconcileVenue(store, s, { apply: false })).working).toEqual([]);
    } finally {
      await store.close();
      await s.close();
      await sim.close();
      t.cleanup();
    }
  });

  it('duplicated execution reports: every fill is in the log once', { timeout: 60_000 }, async () => {
    const t = tmpDir('td-ccxt-dup-');
    const sim = await startSim({ speed: 8, faults: 'dup-exec:1' });
    try {
      const { result, store } = await liveRun(sim, t.dir, { durationMs: 3000 });
      expect(result.clientStats!.duplicateReports).toBeGreaterThan(0);
      const fills = (await allEvents(store)).filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
      expect(new Set(fills).size).toBe(fills.length);
      expect(fills.length).toBe((await simJson<SimFillRecord[]>(sim, '/_sim/fills')).length);
      expect(result.endReconciliation?.ok).toBe(true);
      expect(await checkParity(store, result.summary!.runId)).toMatchObject({ identical: true });
      await store.close();
    } finally {
      await sim.close();
      t.cleanup();
    }
  });
});
