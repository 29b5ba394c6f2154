/**
 * A live session of the market maker through ccxt against the simulated Binance on loopback: orders placed,
 * partially filled, canceled and replaced; parity identical on the live run; slippage against a backtest of the
 * same capture gives per-order figures; the log agrees with the venue's truth (/_sim/orders, /_sim/fills); and
 * the API secret, given in the environment, appears nowhere in the store, the logs or the output even though
 * the session met errors (a 429, a lost ack, a dropped user stream).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkParity } from '../../replay/parity.js';
import { slippage } from '../../replay/slippage.js';
import { runKernel } from '../../src/runtime/engine.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import type { SimFillRecord, SimOrderRecord } from '../../src/venues/binance/sim.js';
import { tmpDir } from '../helpers/tmp.js';
import { allEvents, CAPTURE, KEY, liveRun, MM_CONFIG, SECRET, simJson, startSim } from './helpers.js';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

describe('live trading through ccxt against the simulated Binance', () => {
  it('places, partially fills, cancels and replaces; parity holds; slippage pairs orders; the log matches the venue; no secret leaks', { timeout: 90_000 }, async () => {
    const t = tmpDir('td-ccxt-live-');
    const sim = await startSim({ speed: 10 });
    const logs: string[] = [];
    try {
      // Trade until the venue has partially filled an order and replaced one (at most 40 s of wall time; about
      // 6 s on a quiet machine), then end the session, which cancels what is open.
      const partiallyFilled = (v: { orders: SimOrderRecord[]; fills: SimFillRecord[] }): boolean =>
        v.fills.some((f) => { const o = v.orders.find((x) => x.clientOrderId === f.clientOrderId); return o !== undefined && Number(f.qty) < Number(o.origQty); });
      const { result, store } = await liveRun(sim, t.dir, { durationMs: 40_000, logs, until: (v) => partiallyFilled(v) && v.orders.some((o) => o.replaces !== undefined) });
      const s = result.summary!;
      expect(result.startReconciliation.ok).toBe(true);
      expect(result.endReconciliation).toMatchObject({ ok: true, differences: [] });
      expect(s.orders).toBeGreaterThan(0);

      const evs = await allEvents(store);
      const run = evs.filter((e) => e.stream === `run-${s.runId}`);
      const types = (type: string) => evs.filter((e) => e.type === type);
      const fills = types('OrderFilled').map((e) => e.data as { orderId: string; fillId: string; qtyLots: number; leavesLots: number });
      expect(fills.length).toBeGreaterThan(0);
      // Partially filled: a fill that left part of its order open.
      expect(fills.some((f) => f.leavesLots > 0)).toBe(true);
      expect(types('OrderReplaced').length).toBeGreaterThan(0);
      expect(types('OrderCanceled').length).toBeGreaterThan(0);
      // Every command was durable before the venue saw it: the submission precedes every request sent for it.
      for (const m of run.filter((e) => e.type === 'VenueMessageSent')) {
        const orderId = (m.data as { orderId: string }).orderId;
        const submitted = run.find((e) => e.type === 'OrderSubmitted' && (e.data as { orderId: string }).orderId === orderId)!;
        expect(submitted.position).toBeLessThan(m.position);
        expect((m.metadata.raw as { format: string }).format).toBe('text');
      }
      // The venue's answers are in the log with their bytes.
      expect(run.filter((e) => e.metadata.role === 'input' && e.type === 'OrderAccepted').every((e) => (e.metadata.raw as { format?: string } | undefined)?.format === 'json')).toBe(true);

      // The venue's truth: no client order id twice, every venue fill in the log exactly once.
      const simOrders = await simJson<SimOrderRecord[]>(sim, '/_sim/orders');
      const ids = simOrders.map((o) => o.clientOrderId);
      expect(new Set(ids).size).toBe(ids.length);
      const simFills = await simJson<SimFillRecord[]>(sim, '/_sim/fills');
      expect(simFills.length).toBe(fills.length);
      for (const f of simFills) expect(fills.filter((x) => x.fillId === `BINANCE:${f.symbol}:${f.tradeId}`).length).toBe(1);

      // Parity on the live run.
      expect(await checkParity(store, s.runId)).toMatchObject({ identical: true, decisions: s.decisions });

      // A backtest of the same capture in the same store, and the per-order slippage between the two.
      const back = await runKernel({ mode: 'replay', store, config: { ...MM_CONFIG, venues: [{ venue: 'BINANCE', latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '1', takerBps: '5' } }] }, sourceLabel: CAPTURE, events: captureEventSource(CAPTURE) });
      const slip = await slippage(store, s.runId, back.runId);
      expect(slip.liveOrders).toBe(s.orders);
      expect(slip.orders.length).toBe(s.orders);
      expect(slip.paired).toBeGreaterThan(0);
      expect(slip.orders.some((o) => o.backtestOrderId !== null && o.liveVsDecisionBps !== null)).toBe(true);
      await store.close();
    } finally {
      await sim.close();
      t.cleanup();
    }
  });

  it('a session with errors (429, lost ack, dropped streams) recovers, agrees with the venue, and leaks no secret', { timeout: 60_000 }, async () => {
    const t = tmpDir('td-ccxt-faults-');
    const sim = await startSim({ speed: 6 });
    const logs: string[] = [];
    try {
      // Errors on purpose: one 429, one dropped connection (user and market streams), one lost ack.
      setTimeout(() => sim.setFaults(undefined, ['429']), 1200);
      setTimeout(() => sim.setFaults(undefined, ['drop']), 2500);
      setTimeout(() => sim.setFaults(undefined, ['lose-ack']), 3000);
      const { result, store } = await liveRun(sim, t.dir, { durationMs: 5500, logs });
      const s = result.summary!;
      if (!result.endReconciliation?.ok) {
        const bad = result.endReconciliation!.differences.map((d) => d.key);
        const evs = await allEvents(store);
        console.log(JSON.stringify(result.endReconciliation), logs, evs.filter((e) => bad.some((b) => JSON.stringify(e.data).includes(b.split(':').pop()!)) || (e.type.startsWith('Order') || e.type.startsWith('Replace') || e.type.startsWith('Cancel') || e.type === 'VenueMessageSent')).map((e) => `${e.stream.slice(0, 10)} ${e.type} ${JSON.stringify(e.data).slice(0, 160)}`).join('\n'));
        console.log(JSON.stringify(await simJson(sim, '/_sim/orders')));
      }
      expect(result.endReconciliation).toMatchObject({ ok: true, differences: [] });
      expect(await checkParity(store, s.runId)).toMatchObject({ identical: true, decisions: s.decisions });
      const fills = (await allEvents(store)).filter((e) => e.type === 'OrderFilled').map((e) => (e.data as { fillId: string }).fillId);
      expect(new Set(fills).size).toBe(fills.length);
      expect((await simJson<SimFillRecord[]>(sim, '/_sim/fills')).length).toBe(fills.length);
      await store.close();
      // The secret appears nowhere: store files, logs, the summary. (The key is redacted from logs too.)
      expect(result.clientStats!.rateLimited).toBeGreaterThan(0);
      expect(result.clientStats!.streamGaps).toBeGreaterThan(0);
      expect(logs.length).toBeGreaterThan(0);
      for (const f of filesUnder(t.dir)) {
        const bytes = fs.readFileSync(f);
        expect(bytes.includes(SECRET), `secret in ${f}`).toBe(false);
        expect(bytes.includes(Buffer.from(SECRET).toString('base64')), `base64 secret in ${f}`).toBe(false);
      }
      const out = JSON.stringify(result) + logs.join('\n');
      expect(out.includes(SECRET)).toBe(false);
      expect(out.includes(KEY)).toBe(false);
    } finally {
      await sim.close();
      t.cleanup();
    }
  });
});
