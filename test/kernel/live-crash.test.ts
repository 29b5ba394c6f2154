/**
 * The live crash test (issue 9, finding 1): the simulated NASDAQ is killed and restarted with a fresh
 * SoupBinTCP session 20 times at seeded random moments while the market maker trades on it through the
 * OUCH client. Sometimes the venue is also slow before it dies, so commands in flight are lost with it.
 * Every time: trading halts at once, every order working at the reset becomes OrderStatusUnknown and is
 * queried, nothing is approved or sent until reconciliation says ledger and venue agree, and at the end
 * the ledger's orders, fills and position equal the venue's own record (its drop copy).
 */
import { describe, expect, it } from 'vitest';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import { nextInt, seedPrng } from '../../domain/core/prng.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import type { TimedEvent } from '../../domain/events/event.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import * as reconcile from '../../domain/reconcile/reconcile.js';
import { checkParity } from '../../replay/parity.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { OuchExecutionClient } from '../../src/venues/nasdaq/ouch-adapter.js';
import { SimNasdaq } from '../../src/venues/nasdaq/sim-nasdaq.js';
import { tmpDir } from '../helpers/tmp.js';

const FAST = { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 2000 };
const SEED = 20_261_130;
const KILLS = 20;
const EVENTS = 3000;

const CONFIG: ResolvedRunConfig = {
  strategy: 'market-maker',
  seed: 7,
  params: { venue: 'NASDAQ', instrument: 'NASDAQ:AAPL', priceScale: 4, qtyScale: 0, quoteQtyLots: 100, halfSpreadTicks: 1, skewTicks: 1, skewPerLots: 100, maxInventoryLots: 1000 },
  risk: { maxOpenOrders: 10 },
  venues: [],
};

const dataOf = (e: RecordedEvent) => e.data as Record<string, unknown>;

describe('live crash test: the venue restarts with a fresh session, 20 times', () => {
  it('halts, queries every working order, reconciles before trading again, and ends with the venue\'s position', { timeout: 60_000 }, async () => {
    const rng = seedPrng(SEED);
    // Kill points spread over the run (at least 60 events apart), each with how long the venue stays down
    // and whether it went slow first (commands sent in the last events before the kill are then lost).
    const kills = new Map<number, { downMs: number; slowFor: number; rename: boolean }>();
    const span = Math.floor((EVENTS - 200) / KILLS);
    for (let i = 0; i < KILLS; i++) {
      const at = 100 + i * span + nextInt(rng, span - 60);
      kills.set(at, { downMs: nextInt(rng, 40), slowFor: nextInt(rng, 3) === 0 ? 1 + nextInt(rng, 20) : 0, rename: i % 2 === 1 });
    }
    const slowAt = new Map([...kills].filter(([, k]) => k.slowFor > 0).map(([at, k]) => [at - k.slowFor, at]));

    const t = tmpDir('td-live-crash-');
    let nowNs = 0n;
    const sim = await SimNasdaq.start({ credentials: { trader: 'pw' }, ...FAST, clockNs: () => nowNs, sim: { latency: { submitNs: 0n, ackNs: 0n, cancelNs: 0n } } });
    const client = new OuchExecutionClient({
      port: sim.port, username: 'trader', password: 'pw', firm: 'TAPE', ...FAST, clockNs: () => nowNs, reconnect: { delayMs: 10, maxAttempts: 200 },
      dropCopy: async () => sim.dropCopy(),
    });
    const queried: string[] = [];
    const query = client.queryOrder.bind(client);
    client.queryOrder = (orderId) => {
      queried.push(orderId);
      return query(orderId);
    };
    await client.connect();
    const store = await EmbeddedEventStore.open(t.dir);
    const market = [...syntheticL2({ seed: 31, events: EVENTS, venue: 'NASDAQ', symbol: 'AAPL', priceScale: 4, qtyScale: 0, midTicks: 1_500_000, tradePct: 25 })];
    let restarts = 0;
    async function* feed(): AsyncGenerator<AnyEnvelope> {
      for (let i = 0; i < market.length; i++) {
        const e = market[i]!;
        nowNs = e.eventTimeNs;
        if (slowAt.has(i)) sim.hold(true);
        const kill = kills.get(i);
        if (kill) {
          await sim.restart({ downMs: kill.downMs, ...(kill.rename ? { session: `SIM${i}` } : {}) });
          restarts++;
        }
        sim.feed(e as unknown as TimedEvent);
        yield e;
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 300)); // let the last answers arrive
    }
    const started = Date.now();
    const summary = await runKernel({ mode: 'live', store, config: CONFIG, sourceLabel: 'synthetic NASDAQ:AAPL, venue killed 20 times', events: feed(), executionClients: new Map([['NASDAQ', client]]) });
    const tookMs = Date.now() - started;
    const venueReport = await client.reconciliationReport({ orderIds: [], instruments: [] });
    await client.close();
    await sim.close();

    const evs = await collect(store.readStream(`run-${summary.runId}`));
    const resets = evs.filter((e) => e.type === 'VenueSessionReset');
    const byPosition = (a: RecordedEvent, b: RecordedEvent) => a.position - b.position;
    evs.sort(byPosition);
    console.log(`live crash test: ${restarts} restarts, ${summary.events} inputs, ${summary.orders} orders, ${summary.fills} fills, ` +
      `${evs.filter((e) => e.type === 'OrderStatusUnknown').length} unknown, ${evs.filter((e) => e.type === 'ReconciliationCompleted').length} reconciliations, ` +
      `${evs.filter((e) => e.type === 'OrderRejected' && String(dataOf(e).reason).startsWith('not sent')).length} refused while reconciling, run ${tookMs} ms`);
    expect(restarts).toBe(KILLS);
    expect(resets.length).toBe(KILLS);
    expect(summary.orders).toBeGreaterThan(50);
    expect(summary.fills).toBeGreaterThan(10);

    // Replaying the log as it grew: what was working at each reset, and what happened after it.
    const orders = lifecycle.initialState();
    const unknownAfter = new Map<string, number[]>();
    let reset: { at: number; working: string[]; resumed: boolean } | null = null;
    const checked: Array<{ at: number; working: number }> = [];
    for (const e of evs) {
      if (e.type === 'VenueSessionReset') {
        if (reset) checked.push({ at: reset.at, working: reset.working.length });
        reset = { at: e.position, working: lifecycle.workingOrders(orders).map((o) => o.orderId), resumed: false };
        continue;
      }
      lifecycle.evolve(orders, e);
      if (e.type === 'OrderStatusUnknown') unknownAfter.set(dataOf(e).orderId as string, [...(unknownAfter.get(dataOf(e).orderId as string) ?? []), e.position]);
      if (reset && !reset.resumed) {
        // Halted until reconciled: nothing approved, nothing new on the wire.
        expect(e.type, `${e.type} at #${e.position}, after the reset at #${reset.at} and before trading resumed`).not.toBe('RiskApproved');
        if (e.type === 'VenueMessageSent') expect(dataOf(e).messageType).toBe('CancelOrder');
        if (e.type === 'KillSwitchChanged' && dataOf(e).state === 'ACTIVE') {
          const verdict = evs.filter((x) => x.position < e.position && x.type === 'ReconciliationCompleted').at(-1)!;
          expect(verdict.position).toBeGreaterThan(reset.at);
          expect(dataOf(verdict).ok).toBe(true);
          for (const id of reset.working) {
            // Every order working at the reset became unknown after it, and was queried.
            expect((unknownAfter.get(id) ?? []).some((p) => p > reset!.at), `order ${id} never became unknown after the reset at #${reset.at}`).toBe(true);
            expect(queried).toContain(id);
            expect(lifecycle.isTerminal(orders.orders.get(id)!.status), `order ${id} still ${orders.orders.get(id)!.status} when trading resumed`).toBe(true);
          }
          reset.resumed = true;
        }
      }
      if (e.type === 'KillSwitchChanged') expect(dataOf(e).by).toBe('engine');
    }
    expect(reset?.resumed).toBe(true);
    // The halt came first, right after each reset.
    for (const r of resets) expect(evs.find((e) => e.position > r.position && e.type === 'KillSwitchChanged')).toMatchObject({ data: { state: 'HALTED' } });
    // Nothing is left unknown, and the run completed (it was halted only while it reconciled).
    expect(lifecycle.workingOrders(orders).filter((o) => o.status === 'unknown')).toEqual([]);
    expect(evs.at(-1)).toMatchObject({ type: 'RunEnded', data: { outcome: 'completed' } });
    expect(summary.outcome).toBe('completed');
    expect(checked.length).toBe(KILLS - 1);
    expect(checked.some((c) => c.working > 0)).toBe(true);

    // The ledger, rebuilt from the log, agrees with the venue's own record: orders, fills, position.
    const ledger = reconcile.initialState('NASDAQ');
    for (const e of evs) reconcile.evolve(ledger, e);
    const verdict = reconcile.decide(ledger, venueReport, { id: 'final' });
    expect(verdict.differences).toEqual([]);
    const venuePosition = sim.dropCopy().positions.find((p) => p.stock === 'AAPL')?.shares ?? 0;
    expect(ledger.positions.get('NASDAQ:AAPL')?.qtyLots ?? 0).toBe(venuePosition);
    expect(venuePosition).not.toBe(0);

    expect(await checkParity(store, summary.runId)).toMatchObject({ identical: true, decisions: summary.decisions });
    await store.close();
    t.cleanup();
  });
});
