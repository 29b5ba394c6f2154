/**
 * Control reaches a running live session: the OUCH adapter trades against the simulated NASDAQ over
 * loopback TCP while `serve` (in the same process, on the same store) takes a HALT over HTTP. The HALT
 * is a KillSwitchChanged in the control stream first; the session journals it as an input and from
 * then on the venue receives no new order until RESUME. Cancel-all cancels what is working. The run,
 * control inputs included, replays identically.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { checkParity } from '../../replay/parity.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { createServer, type Server } from '../../src/server/app.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { OuchExecutionClient } from '../../src/venues/nasdaq/ouch-adapter.js';
import { SimNasdaq } from '../../src/venues/nasdaq/sim-nasdaq.js';
import { tmpDir } from '../helpers/tmp.js';

const FAST = { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 2000 };
const TOKEN = 'test-control-token-0123456789';
const CONFIG: ResolvedRunConfig = {
  strategy: 'momentum',
  seed: 5,
  params: { venue: 'NASDAQ', instrument: 'NASDAQ:AAPL', priceScale: 4, qtyScale: 0, lookback: 10, thresholdTicks: 2, qtyLots: 100, maxPositionLots: 300, slippageTicks: 1 },
  risk: { maxOpenOrders: 10 },
  venues: [],
};
/** OUCH 4.2 client message types (first byte). */
const ENTER = 0x4f;
const CANCEL = 0x58;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>, maxMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > maxMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

describe('kill switch and cancel-all from serve reach a live session', () => {
  const t = tmpDir('td-control-');
  let sim: SimNasdaq;
  let client: OuchExecutionClient;
  let store: EmbeddedEventStore;
  let server: Server;
  /** What the venue received, in order: the OUCH message type of each client message. */
  const received: number[] = [];
  let stop = false;
  let running: Promise<RunSummary>;

  beforeAll(async () => {
    let nowNs = 0n;
    sim = await SimNasdaq.start({ credentials: { trader: 'pw' }, ...FAST, clockNs: () => nowNs, sim: { latency: { submitNs: 0n, ackNs: 0n, cancelNs: 0n } }, onClientMessage: (p) => received.push(p[0]!) });
    client = new OuchExecutionClient({ port: sim.port, username: 'trader', password: 'pw', firm: 'TAPE', ...FAST, clockNs: () => nowNs, reconnect: { delayMs: 20, maxAttempts: 50 } });
    await client.connect();
    store = await EmbeddedEventStore.open(t.dir);
    server = await createServer({ store, dbPath: `${t.dir}/serve.duckdb`, token: TOKEN, writable: true });
    // Market data until told to stop (a long synthetic day, paced so the session runs for a while).
    async function* feed(): AsyncGenerator<AnyEnvelope> {
      let i = 0;
      for (const e of syntheticL2({ seed: 21, events: 200_000, venue: 'NASDAQ', symbol: 'AAPL', priceScale: 4, qtyScale: 0, midTicks: 1_500_000, tradePct: 20 })) {
        if (stop) break;
        nowNs = e.eventTimeNs;
        sim.feed(e as unknown as TimedEvent);
        yield e;
        if (i++ % 2 === 0) await sleep(1);
      }
      await sleep(100);
    }
    running = runKernel({ mode: 'live', store, config: CONFIG, sourceLabel: 'synthetic NASDAQ:AAPL', events: feed(), executionClients: new Map([['NASDAQ', client]]) });
  }, 60_000);

  afterAll(async () => {
    stop = true;
    await running.catch(() => undefined);
    await server?.close();
    await client?.close();
    await sim?.close();
    await store?.close();
    t.cleanup();
  });

  const post = (url: string, body: unknown, token: string | null = TOKEN) =>
    server.app.inject({ method: 'POST', url, payload: body as object, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const runEvents = async (): Promise<RecordedEvent[]> => {
    const runs = store.streamNames().filter((s) => s.startsWith('run-'));
    return runs.length === 0 ? [] : collect(store.readStream(runs[0]!));
  };

  it('HALT is in the log first, reaches the session within 1 s, and the venue gets no new order until RESUME', { timeout: 60_000 }, async () => {
    await until('the session to trade', () => received.filter((m) => m === ENTER).length >= 3);

    // Without the token: refused, and nothing reaches the log.
    expect((await post('/api/control/kill-switch', { state: 'HALTED', reason: 'no token' }, null)).statusCode).toBe(401);
    expect((await post('/api/control/kill-switch', { state: 'HALTED', reason: 'wrong token' }, 'not-the-token-at-all')).statusCode).toBe(401);
    expect(await store.streamRevision('control')).toBe(-1);

    const runStream = store.streamNames().find((s) => s.startsWith('run-'))!;
    const runSub = store.subscribeToStream(runStream, { fromRevision: 'end' });
    const t0 = Date.now();
    const halt = await post('/api/control/kill-switch', { state: 'HALTED', reason: 'operator test', operator: 'alice' });
    expect(halt.statusCode, halt.body).toBe(202);
    const haltEventId = halt.json().eventId as string;
    const [control] = await collect(store.readStream('control'));
    expect(control).toMatchObject({ id: haltEventId, type: 'KillSwitchChanged', data: { state: 'HALTED', reason: 'operator test' } });
    expect((control!.data as { by: string }).by).toMatch(/^alice@/);

    let haltInput: RecordedEvent | undefined;
    for await (const e of runSub) {
      if (e.type === 'KillSwitchChanged' && e.metadata.$causationId === haltEventId) {
        haltInput = e;
        break;
      }
    }
    const reachedMs = Date.now() - t0;
    console.log(`HALT reached the live session ${reachedMs} ms after the request`);
    expect(reachedMs, `HALT reached the session in ${reachedMs} ms`).toBeLessThan(1000);
    expect(haltInput!.metadata.role).toBe('input');
    expect(control!.position).toBeLessThan(haltInput!.position);

    // Halted: the strategy keeps deciding, risk denies, the venue hears nothing new.
    const entersAtHalt = (await runEvents()).filter((e) => e.type === 'VenueMessageSent' && (e.data as { messageType: string }).messageType === 'EnterOrder' && e.position < haltInput!.position).length;
    await until('a denial under the kill switch', async () => (await runEvents()).some((e) => e.type === 'RiskDenied' && (e.data as { code: string }).code === 'KILL_SWITCH'));
    await sleep(300);

    // Cancel-all while halted: cancels pass the kill switch, new orders do not.
    const cancelAll = await post('/api/control/cancel-all', { reason: 'flatten the book' });
    expect(cancelAll.statusCode, cancelAll.body).toBe(202);
    await until('the session to journal the cancel-all', async () => (await runEvents()).some((e) => e.type === 'CancelAllRequested'));
    await sleep(200);

    const beforeResume = await runEvents();
    const resume = await post('/api/control/kill-switch', { state: 'ACTIVE', reason: 'resume' });
    expect(resume.statusCode).toBe(202);
    const entersBeforeResume = received.filter((m) => m === ENTER).length;
    // The venue received exactly the orders sent before the HALT: nothing between HALT and RESUME.
    expect(entersBeforeResume).toBe(entersAtHalt);
    expect(beforeResume.filter((e) => e.type === 'VenueMessageSent' && (e.data as { messageType: string }).messageType === 'EnterOrder' && e.position > haltInput!.position)).toEqual([]);
    expect(beforeResume.some((e) => e.type === 'RiskDenied' && e.position > haltInput!.position)).toBe(true);
    // Every order working when the cancel-all was taken got a cancel, and the venue received it.
    const cancelAllInput = beforeResume.find((e) => e.type === 'CancelAllRequested')!;
    const workingAtCancelAll = new Set<string>();
    for (const e of beforeResume) {
      if (e.position >= cancelAllInput.position) break;
      const d = e.data as { orderId?: string; leavesLots?: number };
      if (e.type === 'OrderSubmitted') workingAtCancelAll.add(d.orderId!);
      if (['OrderCanceled', 'OrderRejected', 'OrderExpired'].includes(e.type) || (e.type === 'OrderFilled' && d.leavesLots === 0)) workingAtCancelAll.delete(d.orderId!);
    }
    const cancels = beforeResume.filter((e) => e.type === 'CancelRequested' && e.position > cancelAllInput.position).map((e) => (e.data as { orderId: string }).orderId);
    expect(new Set(cancels)).toEqual(workingAtCancelAll);
    expect(received.filter((m) => m === CANCEL).length).toBeGreaterThanOrEqual(workingAtCancelAll.size);

    await until('trading to resume', () => received.filter((m) => m === ENTER).length > entersBeforeResume);
    stop = true;
    const summary = await running;
    const evs = await collect(store.readStream(`run-${summary.runId}`));
    expect(evs.filter((e) => e.type === 'KillSwitchChanged').map((e) => (e.data as { state: string }).state)).toEqual(['HALTED', 'ACTIVE']);
    // Control inputs replay like market data: the same decisions, hash for hash.
    expect(await checkParity(store, summary.runId)).toMatchObject({ identical: true, decisions: summary.decisions });
  });
});
