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
import { wallClockNs } from '../venues/common/clock.js';
import type { ResolvedRunConfig } from './config.js';
import { runKernel, type RunSummary } from './engine.js';

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
    const decision = rec.decide(ledger, report, { id });
    const retry = !decision.ok && attempt < 2 && decision.differences.some((d) => !d.fixed && racy.has(d.kind));
    if (retry) {
      await new Promise((res) => setTimeout(res, 150));
      continue;
    }
    const events = [...pre, ...decision.events.map((e) => mk(e.type, e.data, e.idKey, nowNs))];
    for (const e of decision.events) if (e.type !== 'PositionReported' && e.type !== 'ReconciliationCompleted') rec.evolve(ledger, e);
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
  clientStats: object | null;
}

export async function runLiveVenue(o: LiveVenueOptions): Promise<LiveVenueResult> {
  const s = o.session;
  let r = await reconcileLiveVenue(o.store, s, { apply: true });
  let canceled = 0;
  if (r.ok && r.working.length > 0) {
    canceled = await cancelLiveLeftovers(o.store, s, r.ledger, r.working, 'a new session starts: orders of earlier sessions are canceled');
    r = await reconcileLiveVenue(o.store, s, { apply: true });
  }
  const start = { ok: r.ok, differences: r.differences.filter((d) => !d.fixed), canceledLeftovers: canceled };
  if (!r.ok) return { summary: null, startReconciliation: start, endReconciliation: null, haltReason: r.haltReason, clientStats: null };

  const traded = new Set<string>();
  for (const k of ['instrument', 'instrumentA', 'instrumentB', 'yes', 'no']) {
    const v = o.config.params[k];
    if (typeof v === 'string') traded.add(v);
  }
  for (const i of traded) {
    if (!s.instruments.has(i)) throw new TapedeckError('CONFIG_INVALID', `${i} is not a market of this ${s.venue} session (known: ${[...s.instruments.keys()].join(', ')})`, { field: 'params.instrument' });
  }
  let venueNowNs = 0n;
  const client = s.newExecutionClient({ knownFillIds: r.ledger.fills.keys(), eventClockNs: () => venueNowNs, ...(o.onLog ? { onLog: o.onLog } : {}) });
  await client.connect();
  let market = s.newMarketData([...traded], o.onLog);
  const stop = new AbortController();
  const timer = o.durationMs !== undefined ? setTimeout(() => stop.abort(), o.durationMs) : null;
  const onOuter = (): void => stop.abort();
  o.signal?.addEventListener('abort', onOuter);
  if (o.signal?.aborted) stop.abort();
  const aborted = new Promise<'stop'>((resolve) => {
    if (stop.signal.aborted) resolve('stop');
    stop.signal.addEventListener('abort', () => resolve('stop'));
  });
  let defined = false;
  async function* events(): AsyncGenerator<AnyEnvelope> {
    for (let failures = 0; ; failures++) {
      const it = market.events()[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await Promise.race([it.next(), aborted]);
          if (next === 'stop' || next.done) return;
          failures = 0;
          if (next.value.eventTimeNs > venueNowNs) venueNowNs = next.value.eventTimeNs;
          if (!defined) {
            defined = true;
            yield* s.instrumentsDefined([...traded], next.value.eventTimeNs);
          }
          // The venue's own definition is not repeated (the session's came first).
          if (next.value.type === 'InstrumentDefined') continue;
          yield next.value;
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        o.onLog?.(s.redact(`market stream lost (${e instanceof Error ? e.message : String(e)}): reconnecting`));
        await market.close().catch(() => undefined);
        const wait = new Promise<void>((res) => setTimeout(res, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
        if ((await Promise.race([wait, aborted])) === 'stop') return;
        market = s.newMarketData([...traded], o.onLog);
      }
    }
  }
  let summary: RunSummary;
  try {
    summary = await runKernel({
      mode: 'live', store: o.store, config: o.config, sourceLabel: `${s.venue.toLowerCase()} live`, events: events(),
      executionClients: new Map([[s.venue, client]]), ...(o.runId !== undefined ? { runId: o.runId } : {}), journalBatch: 1,
      ...(o.marketDataStream === true ? { marketDataStream: true } : {}),
    });
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
    await market.close().catch(() => undefined);
    await client.close();
  }
  let end = await reconcileLiveVenue(o.store, s, { apply: true });
  if (o.onEnd === 'cancel' && end.working.length > 0) {
    await cancelLiveLeftovers(o.store, s, end.ledger, end.working, 'the run ended: open orders are canceled (live.onEnd = cancel)');
    end = await reconcileLiveVenue(o.store, s, { apply: true });
  }
  return {
    summary, startReconciliation: start, endReconciliation: { ok: end.ok, differences: end.differences.filter((d) => !d.fixed) },
    haltReason: end.haltReason, clientStats: client.stats ?? null,
  };
}
