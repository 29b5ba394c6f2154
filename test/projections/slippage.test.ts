import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { slippage } from '../../replay/slippage.js';
import { runKernel } from '../../src/runtime/engine.js';
import { readConfigFile, resolveRunConfig } from '../../src/runtime/config.js';
import { surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventData } from '../../src/store/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { tapedeck, jsonLines } from '../helpers/cli.js';

const tmp = tmpDir('tapedeck-slip-');
afterAll(() => tmp.cleanup());

let n = 0;
const uid = (): string => `00000000-0000-8000-8000-${(n++).toString(16).padStart(12, '0')}`;
const meta = (t: number, runId: string, role: string, cause: string | null = null) => ({ schemaVersion: 1, eventTimeNs: String(t), receiveTimeNs: String(t), $causationId: cause, $correlationId: runId, role });

interface OrderPlan { cause: number; side: 'buy' | 'sell'; qty: number; fills: Array<[number, number]> }

/** A run as RUN_LAYOUT.md has it: quotes (inputs with FIXED ids shared by both runs), intents caused by them, fills. */
function run(runId: string, quotes: Array<{ id: string; bid: number; ask: number }>, orders: OrderPlan[]): EventData[] {
  const ev: EventData[] = [];
  let t = 1_000;
  ev.push({ id: uid(), type: 'RunStarted', data: { manifest: { runId, mode: runId.startsWith('live') ? 'live' : 'replay', strategy: 's', codeHash: 'c', configHash: 'h', seed: 1, source: 'x', dataRange: { fromNs: null, toNs: null } } }, metadata: meta(t, runId, 'run') });
  quotes.forEach((q, qi) => {
    ev.push({ id: q.id, type: 'QuoteUpdated', data: { venue: 'SIM', instrument: 'SIM:ABC', bidPriceTicks: q.bid, bidQtyLots: 10, askPriceTicks: q.ask, askQtyLots: 10, priceScale: 2, qtyScale: 0 }, metadata: meta(t++, runId, 'input') });
    orders.filter((o) => o.cause === qi).forEach((o, k) => {
      const orderId = `${runId}-o${qi}-${k}`;
      const intent = uid();
      ev.push({ id: intent, type: 'OrderIntended', data: { orderId, venue: 'SIM', instrument: 'SIM:ABC', side: o.side, orderType: 'market', priceTicks: null, qtyLots: o.qty, priceScale: 2, qtyScale: 0, timeInForce: 'IOC', postOnly: false, reduceOnly: false, decision: { strategyId: 's', strategyCodeHash: 'c', configHash: 'h', stateHash: 'x', causeEventId: q.id, causePosition: null } }, metadata: meta(t++, runId, 'decision', q.id) });
      ev.push({ id: uid(), type: 'RiskApproved', data: { orderId, checks: [] }, metadata: meta(t++, runId, 'decision', intent) });
      ev.push({ id: uid(), type: 'OrderSubmitted', data: { orderId, venue: 'SIM', attempt: 1 }, metadata: meta(t++, runId, 'venue', intent) });
      ev.push({ id: uid(), type: 'OrderAccepted', data: { orderId, venueOrderId: `v${orderId}` }, metadata: meta(t++, runId, 'venue', intent) });
      let leaves = o.qty;
      o.fills.forEach(([px, q], fi) => {
        leaves -= q;
        ev.push({ id: uid(), type: 'OrderFilled', data: { orderId, venue: 'SIM', instrument: 'SIM:ABC', fillId: `${orderId}-f${fi}`, side: o.side, priceTicks: px, qtyLots: q, priceScale: 2, qtyScale: 0, fee: '0', feeScale: 2, feeCurrency: 'USD', liquidity: 'taker', leavesLots: leaves }, metadata: meta(t++, runId, 'venue', intent) });
      });
    });
  });
  ev.push({ id: uid(), type: 'RunEnded', data: { runId, outcome: 'completed', events: quotes.length, decisions: orders.length, decisionsHash: 'x' }, metadata: meta(t, runId, 'run') });
  return ev;
}

describe('tapedeck slippage', () => {
  it('pairs orders by input event id and computes decision, arrival, VWAP and bps exactly', async () => {
    const dir = path.join(tmp.dir, 'synthetic');
    const quotes = [
      { id: '11111111-0000-8000-8000-000000000001', bid: 10000, ask: 10010 }, // mid 100.05
      { id: '11111111-0000-8000-8000-000000000002', bid: 10020, ask: 10030 }, // mid 100.25
      { id: '11111111-0000-8000-8000-000000000003', bid: 9990, ask: 10000 }, // mid 99.95
      { id: '11111111-0000-8000-8000-000000000004', bid: 10000, ask: 10002 }, // mid 100.01
    ];
    const backtest = run('bt', quotes, [
      { cause: 0, side: 'buy', qty: 10, fills: [[10010, 10]] },
      { cause: 1, side: 'sell', qty: 5, fills: [[10020, 5]] },
      { cause: 2, side: 'buy', qty: 7, fills: [[10000, 7]] },
      { cause: 3, side: 'buy', qty: 8, fills: [[10002, 8]] }, // no live order for this input
    ]);
    const live = run('live1', quotes, [
      { cause: 0, side: 'buy', qty: 10, fills: [[10010, 4], [10014, 6]] }, // VWAP 100.124
      { cause: 1, side: 'sell', qty: 5, fills: [[10015, 5]] }, // sold 0.05 lower
      { cause: 2, side: 'buy', qty: 7, fills: [[9999, 7]] }, // bought 0.01 better
    ]);
    const store = await EmbeddedEventStore.open(dir);
    await store.appendToStream('run-bt', backtest);
    await store.appendToStream('run-live1', live);
    await store.close();
    const s = await EmbeddedEventStore.open(dir, { readOnly: true });
    const r = await slippage(s, 'live1', 'bt');
    await s.close();
    expect(r).toMatchObject({ liveOrders: 3, backtestOrders: 4, paired: 3, unpairedLive: 0, unpairedBacktest: 1 });
    const [a, b, c] = r.orders;
    // buy: live VWAP 100.124 vs backtest 100.10, mid 100.05: 0.024 / 100.05 × 1e4 = 2.39880... bps
    expect(a).toMatchObject({ decisionPrice: '100.05', arrivalPrice: '100.05', liveVwap: '100.124', backtestVwap: '100.1', liveVsBacktestBps: '2.3988', liveVsDecisionBps: '7.3963', backtestVsDecisionBps: '4.9975', sizeBucket: '[10, 100)' });
    // sell: live 100.15 vs backtest 100.20, mid 100.25: −(−0.05)/100.25 = +4.98753... (worse)
    expect(b).toMatchObject({ decisionPrice: '100.25', liveVsBacktestBps: '4.9875', side: 'sell', sizeBucket: '[1, 10)' });
    // buy: live 99.99 vs 100.00, mid 99.95: −0.01/99.95 = −1.00050... (better)
    expect(c).toMatchObject({ decisionPrice: '99.95', liveVsBacktestBps: '-1.0005' });
    // exact cross-check of one figure with a different method (integer cross-multiplication)
    expect((24n * 10_000n * 10_000n) / 100_050n).toBe(23988n);
    const buys = r.distribution.filter((d) => d.side === 'buy');
    expect(buys.map((d) => [d.sizeBucket, d.count, d.meanBps, d.worstBps])).toEqual([['[1, 10)', 1, '-1.0005', '-1.0005'], ['[10, 100)', 1, '2.3988', '2.3988']]);

    const cli = tapedeck(['slippage', '--store', dir, '--live', 'live1', '--backtest', 'bt', '--json']);
    expect(cli.code).toBe(0);
    expect(jsonLines(cli.stdout)[0].paired).toBe(3);
    const bad = tapedeck(['slippage', '--store', dir, '--live', 'nope', '--backtest', 'bt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/RUN_NOT_FOUND/);
  });

  it('distribution statistics: count, mean, p50, p90 and worst over a group', async () => {
    const dir = path.join(tmp.dir, 'dist');
    const quotes = Array.from({ length: 10 }, (_, i) => ({ id: `22222222-0000-8000-8000-${i.toString(16).padStart(12, '0')}`, bid: 9999, ask: 10001 })); // mid 100.00
    const bt = run('bt2', quotes, quotes.map((_, i) => ({ cause: i, side: 'buy' as const, qty: 3, fills: [[10000, 3]] as Array<[number, number]> })));
    // live pays 0..9 ticks more: 0, 1, ..., 9 bps
    const lv = run('lv2', quotes, quotes.map((_, i) => ({ cause: i, side: 'buy' as const, qty: 3, fills: [[10000 + i, 3]] as Array<[number, number]> })));
    const store = await EmbeddedEventStore.open(dir);
    await store.appendToStream('run-bt2', bt);
    await store.appendToStream('run-lv2', lv);
    const r = await slippage(store, 'lv2', 'bt2');
    await store.close();
    expect(r.distribution).toEqual([{ venue: 'SIM', instrument: 'SIM:ABC', side: 'buy', sizeBucket: '[1, 10)', count: 10, meanBps: '4.5', p50Bps: '4', p90Bps: '8', worstBps: '9' }]);
  });

  it('pairs two real kernel runs of the same capture (different venue latency) on their shared input ids', async () => {
    const capture = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
    const base = resolveRunConfig('market-maker', readConfigFile(undefined), await surveySource(captureEventSource(capture)));
    const slow = { ...base, venues: base.venues.map((v: any) => ({ ...v, latency: { ...(v.latency ?? {}), submitNs: '40000000', ackNs: '40000000' } })) };
    const dir = path.join(tmp.dir, 'kernel');
    const store = await EmbeddedEventStore.open(dir);
    try {
      const a = await runKernel({ mode: 'replay', store, config: base, sourceLabel: capture, events: captureEventSource(capture) });
      const b = await runKernel({ mode: 'replay', store, config: slow, sourceLabel: capture, events: captureEventSource(capture) });
      const r = await slippage(store, b.runId, a.runId);
      expect(r.liveOrders).toBe(b.orders);
      expect(r.backtestOrders).toBe(a.orders);
      expect(r.paired).toBeGreaterThan(0);
      expect(r.paired + r.unpairedLive).toBe(r.liveOrders);
      for (const o of r.orders.filter((x) => x.backtestOrderId !== null)) {
        // same inputs up to the decision: both runs saw the same mid when they decided
        expect(o.backtestDecisionPrice).toBe(o.decisionPrice);
      }
    } finally {
      await store.close();
    }
  });
});
