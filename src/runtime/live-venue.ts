/**
 * Live trading and reconciliation on a venue that offers a LiveVenueSession (src/venues/adapter.ts:
 * Kalshi today; the ccxt venues run through live.ts). The same steps as live.ts, venue-neutral:
 *
 *   reconcileLiveVenue  the ledger (the live runs and reconciliations of the store, folded by domain/reconcile)
 *                       against the venue's report (our orders by client order id, fills, positions); with
 *                       `apply`, the fixes the reducer proposes go to `reconcile-<VENUE>`
 *   runLiveVenue        reconcile first (fail closed), cancel what earlier sessions left open (each cancel
 *                       recorded before it is sent), then the kernel (engine.ts) with the venue's execution and
 *                       market-data clients; after RunEnded, open orders canceled or left, and a last check
 *
 * Positions are the venue's own (a prediction market reports net contracts per market), so no balance
 * baseline is needed: the ledger's net fills must equal them.
 */
import { randomUUID } from 'node:crypto';
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { envelopeToStored } from '../../domain/events/envelope.js';
import type { Side } from '../../domain/events/primitives.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import * as rec from '../../domain/reconcile/reconcile.js';
import type { EventData, EventStore } from '../store/port.js';
import type { LiveVenueSession } from '../venues/adapter.js';
import type { MarketDataClient } from '../venues/port.js';
import { wallClockNs } from '../venues/common/clock.js';
import type { ResolvedRunConfig } from './config.js';
import { runKernel, type RunSummary } from './engine.js';
import { mergeArrivals } from './merge.js';

export interface LiveVenueReconcileResult {
  ok: boolean;
  differences: rec.Difference[];
  haltReason: string | null;
  events: number;
  working: string[];
  ledger: rec.LedgerState;
}

async function readLedger(store: EventStore, venue: string): Promise<rec.LedgerState> {
  const state = rec.initialState(venue);
  const live = new Set<string>([`reconcile-${venue}`]);
  for await (const e of store.readAll()) {
    if (e.type === 'RunStarted') {
      if ((e.data as { manifest?: { mode?: string } }).manifest?.mode === 'live') live.add(e.stream);
      continue;
    }
    if (!live.has(e.stream) || (!lifecycle.isOrderEvent(e as unknown as { type: string }) && e.type !== 'FillReversed')) continue;
    rec.evolve(state, { type: e.type, data: e.data });
  }
  return state;
}

function mk(type: string, data: unknown, idKey: string, atNs: bigint): AnyEnvelope {
  return { id: uuidFromName('reconcile', idKey), type, schemaVersion: 1, stream: 'reconcile', eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null, data } as AnyEnvelope;
}

async function appendEvents(store: EventStore, stream: string, events: AnyEnvelope[]): Promise<void> {
  const batch: EventData[] = events.map((e) => {
    const s = envelopeToStored(e);
    s.metadata.role = 'venue';
    return { id: s.id, type: s.type, data: s.data, metadata: s.metadata };
  });
  await store.appendToStream(stream, batch, { expectedRevision: 'any' });
}

/** Compares the log with the venue; with `apply`, records the explainable fixes. */
export async function reconcileLiveVenue(store: EventStore, s: LiveVenueSession, o: { apply: boolean; id?: string }): Promise<LiveVenueReconcileResult> {
  const racy = new Set<rec.DifferenceKind>(['filled-qty', 'order-qty', 'order-status', 'fill-unknown-order', 'position', 'order-unknown']);
  for (let attempt = 0; ; attempt++) {
    const id = o.id ?? randomUUID();
    const ledger = await readLedger(store, s.venue);
    const instruments = new Set<string>([...ledger.positions.keys()]);
    const sides = new Map<string, Side>();
    for (const ord of ledger.orders.orders.values()) {
      instruments.add(ord.instrument);
      sides.set(ord.orderId, ord.side);
    }
    const report = await s.report({ instruments: [...instruments].filter((i) => s.instruments.has(i)), sides, orders: [...ledger.orders.orders.values()] });
    // Orders of the ledger the venue does not list never reached it (the list is complete for these markets).
    const listed = new Set(report.orders.map((r) => r.orderId));
    for (const ord of ledger.orders.orders.values()) {
      const sent = ord.status !== 'intended' && ord.status !== 'approved' && ord.status !== 'denied';
      if (sent && !listed.has(ord.orderId) && s.instruments.has(ord.instrument)) report.orders.push({ orderId: ord.orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
    }
    const nowNs = wallClockNs();
    // A replace in flight when the last session stopped: the venue's record says whether it took.
    const pre: AnyEnvelope[] = [];
    for (const ord of ledger.orders.orders.values()) {
      if (ord.replacePending === null || !lifecycle.isWorking(ord.status) || !s.instruments.has(ord.instrument)) continue;
      const v = report.replaced?.get(ord.orderId);
      const env = v !== undefined && v.replaceCount > ord.replaceCount
        ? mk('OrderReplaced', { orderId: ord.orderId, priceTicks: v.priceTicks, qtyLots: v.qtyLots, venueOrderId: v.venueOrderId }, `${id}:replaced:${ord.orderId}`, nowNs)
        : mk('ReplaceRejected', { orderId: ord.orderId, reason: 'reconciliation: the replace did not take at the venue' }, `${id}:replace-rejected:${ord.orderId}`, nowNs);
      rec.evolve(ledger, { type: env.type, data: env.data });
      pre.push(env);
    }
    // Fills the venue undid while no session listened (a trade that FAILED after MATCHED): reversed once each.
    for (const r of report.reversedFills ?? []) {
      if (!ledger.fills.has(r.fillId)) continue;
      const env = mk('FillReversed', r, `reversed:${r.fillId}`, nowNs);
      rec.evolve(ledger, { type: env.type, data: env.data });
      pre.push(env);
    }
    const decision = rec.decide(ledger, report, { id });
    const retry = !decision.ok && attempt < 2 && decision.differences.some((d) => !d.fixed && racy.has(d.kind));
    if (retry) {
      await new Promise((res) => setTimeout(res, 150));
      continue;
    }
    const events = [...pre, ...decision.events.map((e) => mk(e.type, e.data, e.idKey, nowNs))];
    for (const e of decision.events) if (e.type !== 'PositionReported' && e.type !== 'ReconciliationCompleted') rec.evolve(ledger, e);
    // A fill the log lacked, booked just now, whose trade the venue undid: reversed at once.
    const undone = new Map((report.reversedFills ?? []).map((r) => [r.fillId, r]));
    for (const e of decision.events) {
      const r = e.type === 'OrderFilled' ? undone.get(e.data.fillId) : undefined;
      if (r === undefined || !ledger.fills.has(r.fillId)) continue;
      const env = mk('FillReversed', r, `reversed:${r.fillId}`, nowNs);
      rec.evolve(ledger, { type: env.type, data: env.data });
      events.push(env);
    }
    if (o.apply && events.length > 0) await appendEvents(store, `reconcile-${s.venue}`, events);
    const working = [...ledger.orders.orders.values()].filter((x) => lifecycle.isWorking(x.status)).map((x) => x.orderId);
    return { ok: decision.ok, differences: decision.differences, haltReason: decision.haltReason, events: events.length, working, ledger };
  }
}

/** Cancels orders earlier sessions left open: each cancel is in the log before it is sent. */
export async function cancelLiveLeftovers(store: EventStore, s: LiveVenueSession, ledger: rec.LedgerState, orderIds: string[], reason: string): Promise<number> {
  let n = 0;
  for (const orderId of orderIds) {
    const ord = lifecycle.getOrder(ledger.orders, orderId);
    if (!ord || !s.instruments.has(ord.instrument)) continue;
    if (!ord.cancelRequested) await appendEvents(store, `reconcile-${s.venue}`, [mk('CancelRequested', { orderId, reason }, `cancel:${orderId}:${ord.replaceCount}:${randomUUID()}`, wallClockNs())]);
    try {
      if (await s.cancel({ orderId, instrument: ord.instrument, venueOrderId: ord.venueOrderId, replaceCount: ord.replaceCount })) n++;
    } catch {
      // Done at the venue already, or unreachable: the next reconciliation records what it says.
    }
  }
  return n;
}

export interface LiveVenueOptions {
  store: EventStore;
  session: LiveVenueSession;
  /**
   * More venues in the same run (a cross-venue strategy: an event arbitrage between Polymarket and Kalshi):
   * each is reconciled, trades its own instruments through its own execution client, and its market data
   * is interleaved with the others' as it arrives (runtime/merge.ts mergeArrivals).
   */
  sessions?: LiveVenueSession[];
  config: ResolvedRunConfig;
  onEnd: 'cancel' | 'leave';
  durationMs?: number;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
  runId?: string;
  /** Write the market data received to `marketdata-<runId>` and reference it from the run (RunRequest.marketDataStream). */
  marketDataStream?: boolean;
}

export interface LiveVenueResult {
  summary: RunSummary | null;
  startReconciliation: { ok: boolean; differences: rec.Difference[]; canceledLeftovers: number };
  endReconciliation: { ok: boolean; differences: rec.Difference[] } | null;
  haltReason: string | null;
  /** The execution client's counters (one venue), or per venue (several). */
  clientStats: object | null;
}

/** The instruments a run's params name: the single-instrument keys, the YES/NO pair, and cross-venue legs. */
export function tradedInstruments(params: Record<string, unknown>): string[] {
  const out = new Set<string>();
  for (const k of ['instrument', 'instrumentA', 'instrumentB', 'yes', 'no']) {
    const v = params[k];
    if (typeof v === 'string') out.add(v);
  }
  if (Array.isArray(params.legs)) {
    for (const leg of params.legs as unknown[]) {
      const i = (leg as { instrument?: unknown } | null)?.instrument;
      if (typeof i === 'string') out.add(i);
    }
  }
  return [...out];
}

/** Reconciles every session before trading (fail closed), canceling what earlier sessions left open. */
async function reconcileAtStart(store: EventStore, sessions: readonly LiveVenueSession[]): Promise<{ result: LiveVenueResult['startReconciliation']; haltReason: string | null; fillIds: Set<string> }> {
  const result = { ok: true, differences: [] as rec.Difference[], canceledLeftovers: 0 };
  let haltReason: string | null = null;
  const fillIds = new Set<string>();
  for (const s of sessions) {
    let r = await reconcileLiveVenue(store, s, { apply: true });
    if (r.ok && r.working.length > 0) {
      result.canceledLeftovers += await cancelLiveLeftovers(store, s, r.ledger, r.working, 'a new session starts: orders of earlier sessions are canceled');
      r = await reconcileLiveVenue(store, s, { apply: true });
    }
    result.ok &&= r.ok;
    result.differences.push(...r.differences.filter((d) => !d.fixed));
    haltReason ??= r.haltReason;
    for (const f of r.ledger.fills.keys()) fillIds.add(f);
  }
  return { result, haltReason, fillIds };
}

export async function runLiveVenue(o: LiveVenueOptions): Promise<LiveVenueResult> {
  const sessions = [o.session, ...(o.sessions ?? [])];
  if (new Set(sessions.map((x) => x.venue)).size !== sessions.length) throw new TapedeckError('USAGE', `a live run takes each venue once (got ${sessions.map((x) => x.venue).join(', ')})`);
  const started = await reconcileAtStart(o.store, sessions);
  if (!started.result.ok) return { summary: null, startReconciliation: started.result, endReconciliation: null, haltReason: started.haltReason, clientStats: null };

  // Each traded instrument belongs to the one session that trades it.
  const tradedBy = new Map<LiveVenueSession, string[]>(sessions.map((x) => [x, []]));
  for (const i of tradedInstruments(o.config.params)) {
    const owner = sessions.find((x) => x.instruments.has(i));
    if (owner === undefined) {
      const known = sessions.flatMap((x) => [...x.instruments.keys()]);
      throw new TapedeckError('CONFIG_INVALID', `${i} is not a market of this ${sessions.map((x) => x.venue).join(' + ')} session (known: ${known.join(', ')})`, { field: 'params.instrument' });
    }
    tradedBy.get(owner)!.push(i);
  }
  let venueNowNs = 0n;
  const clients = new Map(sessions.map((x) => [x, x.newExecutionClient({ knownFillIds: started.fillIds, eventClockNs: () => venueNowNs, ...(o.onLog ? { onLog: o.onLog } : {}) })]));
  for (const c of clients.values()) await c.connect();
  const stop = new AbortController();
  const timer = o.durationMs !== undefined ? setTimeout(() => stop.abort(), o.durationMs) : null;
  const onOuter = (): void => stop.abort();
  o.signal?.addEventListener('abort', onOuter);
  if (o.signal?.aborted) stop.abort();
  const aborted = new Promise<'stop'>((resolve) => {
    if (stop.signal.aborted) resolve('stop');
    stop.signal.addEventListener('abort', () => resolve('stop'));
  });
  const markets = new Map<LiveVenueSession, MarketDataClient>();
  /** One venue's market data; a dropped stream reconnects with back-off (a new client: books start over). */
  async function* venueStream(s: LiveVenueSession, instruments: string[]): AsyncGenerator<AnyEnvelope> {
    let market = s.newMarketData(instruments, o.onLog);
    markets.set(s, market);
    for (let failures = 0; ; failures++) {
      const it = market.events()[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await Promise.race([it.next(), aborted]);
          if (next === 'stop' || next.done) return;
          failures = 0;
          // The venue's own definition is not repeated (the session's came first).
          if (next.value.type !== 'InstrumentDefined') yield next.value;
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        o.onLog?.(s.redact(`${s.venue} market stream lost (${e instanceof Error ? e.message : String(e)}): reconnecting`));
        await market.close().catch(() => undefined);
        const wait = new Promise<void>((res) => setTimeout(res, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
        if ((await Promise.race([wait, aborted])) === 'stop') return;
        market = s.newMarketData(instruments, o.onLog);
        markets.set(s, market);
      }
    }
  }
  const streams = sessions.filter((x) => tradedBy.get(x)!.length > 0).map((x) => venueStream(x, tradedBy.get(x)!));
  const merged = streams.length === 1 ? streams[0]! : mergeArrivals(streams);
  async function* events(): AsyncGenerator<AnyEnvelope> {
    let defined = false;
    for await (const e of merged) {
      if (e.eventTimeNs > venueNowNs) venueNowNs = e.eventTimeNs;
      // Every session's instruments first, at the venue time of the first market event.
      if (!defined) {
        defined = true;
        for (const x of sessions) yield* x.instrumentsDefined(tradedBy.get(x)!, e.eventTimeNs);
      }
      yield e;
    }
  }
  let summary: RunSummary;
  try {
    summary = await runKernel({
      mode: 'live', store: o.store, config: o.config, sourceLabel: `${sessions.map((x) => x.venue.toLowerCase()).join(' + ')} live`, events: events(),
      executionClients: new Map(sessions.map((x) => [x.venue, clients.get(x)!])), ...(o.runId !== undefined ? { runId: o.runId } : {}), journalBatch: 1,
      ...(o.marketDataStream === true ? { marketDataStream: true } : {}),
    });
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
    for (const m of markets.values()) await m.close().catch(() => undefined);
    for (const c of clients.values()) await c.close();
  }
  // After RunEnded: open orders canceled (or left) as configured, and the log checked against each venue.
  const end = { ok: true, differences: [] as rec.Difference[] };
  let haltReason: string | null = null;
  for (const s of sessions) {
    let r = await reconcileLiveVenue(o.store, s, { apply: true });
    if (o.onEnd === 'cancel' && r.working.length > 0) {
      await cancelLiveLeftovers(o.store, s, r.ledger, r.working, 'the run ended: open orders are canceled (live.onEnd = cancel)');
      r = await reconcileLiveVenue(o.store, s, { apply: true });
    }
    end.ok &&= r.ok;
    end.differences.push(...r.differences.filter((d) => !d.fixed));
    haltReason ??= r.haltReason;
  }
  const stats = sessions.length === 1 ? clients.get(o.session)!.stats ?? null : Object.fromEntries(sessions.map((x) => [x.venue, clients.get(x)!.stats ?? null]));
  return { summary, startReconciliation: started.result, endReconciliation: end, haltReason, clientStats: stats };
}
