/**
 * Live trading on a ccxt exchange, and reconciliation of the log with the venue.
 *
 *   reconcileVenue   ledger (every stream of the store, folded by domain/reconcile) against the venue's own
 *                    reports (all our orders by client order id, all trades, balances); with `apply`, the fix
 *                    events the reducer proposes are appended to the stream `reconcile-<VENUE>`; without, it
 *                    changes nothing (`tapedeck reconcile`)
 *   runLive          reconcile first (fail closed: an unexplained difference halts before any order), cancel
 *                    what earlier sessions left open, then the same kernel as replay and paper (engine.ts) with
 *                    the ccxt execution client and the venue's market data; at the end, RunEnded, then open
 *                    orders canceled (or left) as the config says, and a last reconciliation
 *
 * Positions on a spot venue are balances: the first reconciliation of a store records the venue's balances
 * (BalanceReported, the baseline), and a position is then balance(base) − baseline(base) (fees are charged in
 * the quote asset). The venue's position is authoritative and a ledger that disagrees halts.
 */
import { randomUUID } from 'node:crypto';
import { TapedeckError } from '../../domain/core/errors.js';
import { parseDecimal } from '../../domain/core/fixed.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { envelopeToStored } from '../../domain/events/envelope.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import * as rec from '../../domain/reconcile/reconcile.js';
import type { EventData, EventStore } from '../store/port.js';
import { BinanceMarketDataClient } from '../venues/binance/marketdata.js';
import { wallClockNs } from '../venues/common/clock.js';
import { loadCredentials, makeExchange, makeRedactor, type CcxtExchange } from '../venues/ccxt/exchange.js';
import { CcxtExecutionClient, type InstrumentInfo } from '../venues/ccxt/execution.js';
import { clientOrderIdFor, decimalText, fillIdFor, normalizeOrder, normalizeTrade, orderIdFromClientId, toLots } from '../venues/ccxt/normalize.js';
import type { ResolvedRunConfig } from './config.js';
import { runKernel, type RunSummary } from './engine.js';

export interface VenueSession {
  exchangeId: string;
  venue: string;
  exchange: CcxtExchange;
  redact: (text: string) => string;
  instruments: Map<string, InstrumentInfo>;
  baseUrl: string | null;
  close(): Promise<void>;
}

/** Binance writes every price and quantity with 8 decimals: the market-data parser's scales. */
const SCALE = 8;

export async function openVenueSession(o: { venue: string; baseUrl?: string; confirmLive?: boolean; sandbox?: boolean; secretsFile?: string; env?: NodeJS.ProcessEnv }): Promise<VenueSession> {
  const exchangeId = o.venue.toLowerCase();
  if (exchangeId !== 'binance') throw new TapedeckError('USAGE', `live trading is wired for binance today (the ccxt client is generic; its market data and stream parsing are Binance's), got "${o.venue}"`, { field: '--venue' });
  const credentials = loadCredentials(exchangeId, o.env ?? process.env, o.secretsFile);
  const redact = makeRedactor(credentials);
  const exchange = await makeExchange({ id: exchangeId, credentials, ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}), confirmLive: o.confirmLive ?? false, sandbox: o.sandbox ?? false });
  const venue = exchangeId.toUpperCase();
  const instruments = new Map<string, InstrumentInfo>();
  try {
    const markets = (await exchange.loadMarkets()) as Record<string, { id: string; symbol: string; base: string; quote: string; spot: boolean }>;
    for (const m of Object.values(markets)) {
      if (!m.spot) continue;
      instruments.set(`${venue}:${m.id}`, { instrument: `${venue}:${m.id}`, symbol: m.symbol, marketId: m.id, priceScale: SCALE, qtyScale: SCALE, base: m.base, quote: m.quote });
    }
  } catch (e) {
    await exchange.close().catch(() => undefined);
    throw new TapedeckError('VENUE_UNAVAILABLE', redact(`${venue}: loading markets failed: ${e instanceof Error ? e.message : String(e)}`));
  }
  return { exchangeId, venue, exchange, redact, instruments, baseUrl: o.baseUrl ?? null, close: async () => { await exchange.close().catch(() => undefined); } };
}

/** InstrumentDefined for an instrument, from the exchange's market (tick, lot at the market-data scales). */
export function instrumentDefined(s: VenueSession, info: InstrumentInfo, atNs: bigint): AnyEnvelope {
  const m = s.exchange.markets[info.symbol] as { precision: { price?: number; amount?: number } };
  const step = (v: number | undefined, scale: number): number => {
    const t = decimalText(v);
    const n = t === null ? 1 : Number(parseDecimal(t, scale, 'precision'));
    return n > 0 ? n : 1;
  };
  return {
    id: uuidFromName(`venue:${s.venue}`, `instrument:${info.marketId}:${step(m.precision.price, info.priceScale)}:${step(m.precision.amount, info.qtyScale)}`),
    type: 'InstrumentDefined', schemaVersion: 1, stream: 'venue', eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null,
    data: {
      venue: s.venue, instrument: info.instrument, symbol: info.marketId, kind: 'spot', baseCurrency: info.base, quoteCurrency: info.quote,
      priceScale: info.priceScale, qtyScale: info.qtyScale, tickSizeTicks: step(m.precision.price, info.priceScale), lotSizeLots: step(m.precision.amount, info.qtyScale),
    },
  } as AnyEnvelope;
}

// ---------------------------------------------------------------- reconciliation

export interface ReconcileResult {
  ok: boolean;
  differences: rec.Difference[];
  haltReason: string | null;
  /** Events appended (apply) or that would be (dry run). */
  events: number;
  /** Orders still working at the venue that the ledger knows (open orders of earlier sessions). */
  working: string[];
  ledger: rec.LedgerState;
}

interface LedgerView {
  state: rec.LedgerState;
  baseline: Map<string, bigint> | null;
}

async function readLedger(store: EventStore, venue: string): Promise<LedgerView> {
  const state = rec.initialState(venue);
  let baseline: Map<string, bigint> | null = null;
  // Only live runs and reconciliations speak for the venue (backtests in the same store do not).
  const live = new Set<string>([`reconcile-${venue}`]);
  for await (const e of store.readAll()) {
    if (e.type === 'RunStarted') {
      if ((e.data as { manifest?: { mode?: string } }).manifest?.mode === 'live') live.add(e.stream);
      continue;
    }
    if (!live.has(e.stream)) continue;
    if (e.type === 'BalanceReported' && e.stream === `reconcile-${venue}`) {
      const d = e.data as { venue: string; currency: string; total: string; scale: number };
      if (d.venue !== venue) continue;
      if (baseline === null || (e.metadata as { baseline?: boolean }).baseline === true) {
        baseline ??= new Map();
        if (!baseline.has(d.currency)) baseline.set(d.currency, BigInt(d.total) * 10n ** BigInt(SCALE - d.scale));
      }
      continue;
    }
    if (!lifecycle.isOrderEvent(e as unknown as { type: string })) continue;
    rec.evolve(state, { type: e.type, data: e.data });
  }
  return { state, baseline };
}

/**
 * Compares the log with the venue and (with `apply`) records the explainable fixes. Orders that earlier
 * sessions left open are reported in `working`.
 */
export async function reconcileVenue(store: EventStore, s: VenueSession, o: { apply: boolean; id?: string }): Promise<ReconcileResult> {
  // The venue keeps trading while it is read (orders, then trades, then balances): a difference that a fill
  // landing between two reads explains is read again, up to three times, before it counts.
  const racy = new Set<rec.DifferenceKind>(['filled-qty', 'order-qty', 'order-status', 'fill-unknown-order', 'position', 'order-unknown']);
  for (let attempt = 0; ; attempt++) {
    const r = await reconcileOnce(store, s, o.id ?? randomUUID());
    const retry = !r.result.ok && attempt < 2 && r.result.differences.some((d) => !d.fixed && racy.has(d.kind));
    if (retry) {
      await new Promise((res) => setTimeout(res, 100));
      continue;
    }
    if (o.apply && r.events.length > 0) await appendEvents(store, `reconcile-${s.venue}`, r.events, r.baseline);
    return r.result;
  }
}

async function reconcileOnce(store: EventStore, s: VenueSession, id: string): Promise<{ result: ReconcileResult; events: AnyEnvelope[]; baseline: boolean }> {
  const venue = s.venue;
  const view = await readLedger(store, venue);
  const ledger = view.state;
  const ex = s.exchange;
  const symbols = new Set<string>();
  for (const ord of ledger.orders.orders.values()) {
    const info = s.instruments.get(ord.instrument);
    if (info) symbols.add(info.symbol);
  }
  // The venue's orders of ours and its trades, per symbol.
  const venueOrders = new Map<string, Array<{ n: number; o: ReturnType<typeof normalizeOrder> }>>();
  const byVenueOrderId = new Map<string, string>();
  const fills: rec.VenueFill[] = [];
  const pre: AnyEnvelope[] = [];
  const nowNs = wallClockNs();
  for (const symbol of symbols) {
    const all = (await ex.fetchOrders(symbol)) as unknown[];
    for (const raw of all) {
      const n = normalizeOrder(s.exchangeId, raw);
      const ours = orderIdFromClientId(n.clientOrderId);
      if (ours === null || n.venueOrderId === null) continue;
      byVenueOrderId.set(n.venueOrderId, ours.orderId);
      const list = venueOrders.get(ours.orderId) ?? [];
      list.push({ n: ours.replaceCount, o: n });
      venueOrders.set(ours.orderId, list);
    }
    const info = [...s.instruments.values()].find((i) => i.symbol === symbol)!;
    let fromId: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const trades = (await ex.fetchMyTrades(symbol, undefined, 1000, fromId === undefined ? {} : { fromId })) as unknown[];
      for (const tr of trades) {
        const f = normalizeTrade(tr);
        const orderId = f.venueOrderId === null ? undefined : byVenueOrderId.get(f.venueOrderId);
        if (orderId === undefined) continue;
        const ord = lifecycle.getOrder(ledger.orders, orderId);
        const fee = feeMantissa(f.fee);
        fills.push({
          fillId: fillIdFor(venue, info.marketId, f.tradeId), orderId, instrument: info.instrument, side: ord?.side ?? 'buy',
          priceTicks: toLots(f.price, info.priceScale, 'price'), priceScale: info.priceScale, qtyLots: toLots(f.qty, info.qtyScale, 'qty'), qtyScale: info.qtyScale,
          fee: fee.fee, feeScale: fee.feeScale, feeCurrency: f.feeCurrency ?? info.quote, liquidity: f.liquidity,
        });
      }
      if (trades.length < 1000) break;
      fromId = String(Number(normalizeTrade(trades.at(-1)).tradeId) + 1);
    }
  }
  // A replace in flight when the last session stopped: the venue has the replacement or not.
  for (const ord of ledger.orders.orders.values()) {
    if (ord.replacePending === null || !lifecycle.isWorking(ord.status)) continue;
    const next = venueOrders.get(ord.orderId)?.find((v) => v.n === ord.replaceCount + 1);
    // The total the venue now holds: everything filled on the order's venue orders, plus what the new one still has open.
    const info = s.instruments.get(ord.instrument);
    const lots = (t: string | null): number => (t === null || info === undefined ? 0 : toLots(t, info.qtyScale, 'qty'));
    const total = next === undefined ? 0 : (venueOrders.get(ord.orderId) ?? []).reduce((a, v) => a + lots(v.o.filled), 0) + lots(next.o.amount) - lots(next.o.filled);
    const env = next !== undefined
      ? mk('OrderReplaced', { orderId: ord.orderId, priceTicks: ord.replacePending.priceTicks, qtyLots: total > ord.filledLots ? total : ord.replacePending.qtyLots, ...(next.o.venueOrderId ? { venueOrderId: next.o.venueOrderId } : {}) }, `${id}:replaced:${ord.orderId}`, nowNs)
      : mk('ReplaceRejected', { orderId: ord.orderId, reason: 'reconciliation: the replacement never reached the venue' }, `${id}:replace-rejected:${ord.orderId}`, nowNs);
    rec.evolve(ledger, { type: env.type, data: env.data });
    pre.push(env);
  }
  const orders: rec.VenueOrderReport[] = [];
  for (const ord of ledger.orders.orders.values()) {
    const list = venueOrders.get(ord.orderId);
    const sent = ord.status !== 'intended' && ord.status !== 'approved' && ord.status !== 'denied';
    if (!sent) continue;
    if (list === undefined || list.length === 0) {
      orders.push({ orderId: ord.orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
      continue;
    }
    const info = s.instruments.get(ord.instrument)!;
    const current = list.reduce((a, b) => (b.n > a.n ? b : a));
    const filledLots = list.reduce((a, v) => a + (v.o.filled === null ? 0 : toLots(v.o.filled, info.qtyScale, 'filled')), 0);
    const state = current.o.state ?? 'open';
    const amount = current.o.amount === null ? 0 : toLots(current.o.amount, info.qtyScale, 'amount');
    const curFilled = current.o.filled === null ? 0 : toLots(current.o.filled, info.qtyScale, 'filled');
    orders.push({ orderId: ord.orderId, state, filledLots, leavesLots: state === 'open' ? amount - curFilled : 0, ...(current.o.venueOrderId ? { venueOrderId: current.o.venueOrderId } : {}) });
  }
  // Positions are balances against the recorded baseline.
  const balance = (await ex.fetchBalance()) as { total?: Record<string, unknown> };
  const totals = new Map<string, bigint>();
  for (const [cur, v] of Object.entries(balance.total ?? {})) {
    const t = decimalText(v);
    if (t !== null) totals.set(cur, parseDecimal(t, SCALE, `balance.${cur}`));
  }
  let baseline = view.baseline;
  const baselineEvents: AnyEnvelope[] = [];
  if (baseline === null) {
    if (ledger.fills.size > 0 || [...ledger.orders.orders.values()].some((x) => lifecycle.isWorking(x.status))) {
      throw new TapedeckError('RECONCILE_NO_BASELINE', `${venue}: the log has orders but no recorded venue balances to measure positions from`);
    }
    baseline = totals;
    for (const [cur, total] of totals) {
      baselineEvents.push(mk('BalanceReported', { venue, currency: cur, total, available: total, scale: SCALE }, `baseline:${cur}`, nowNs));
    }
  }
  const positions: rec.VenuePosition[] = [];
  const instruments = new Set([...ledger.positions.keys(), ...fills.map((f) => f.instrument)]);
  for (const ord of ledger.orders.orders.values()) instruments.add(ord.instrument);
  for (const instrument of instruments) {
    const info = s.instruments.get(instrument);
    if (!info) continue;
    const held = (totals.get(info.base) ?? 0n) - (baseline.get(info.base) ?? 0n);
    positions.push({ instrument, qtyLots: Number(held), qtyScale: SCALE });
  }
  const decision = rec.decide(ledger, { venue, orders, openOrdersComplete: true, fills, positions, positionsComplete: false }, { id });
  const events: AnyEnvelope[] = [...baselineEvents, ...pre, ...decision.events.map((e) => mk(e.type, e.data, e.idKey, nowNs))];
  for (const e of decision.events) if (e.type !== 'PositionReported' && e.type !== 'ReconciliationCompleted') rec.evolve(ledger, e);
  const working = [...ledger.orders.orders.values()].filter((x) => lifecycle.isWorking(x.status)).map((x) => x.orderId);
  const differences = decision.differences;
  // Fixes already applied by an earlier reconciliation are not differences: only report what is still open or newly fixed.
  return { result: { ok: decision.ok, differences, haltReason: decision.haltReason, events: events.length, working, ledger }, events, baseline: baselineEvents.length > 0 };
}

function mk(type: string, data: unknown, idKey: string, atNs: bigint): AnyEnvelope {
  return { id: uuidFromName('reconcile', idKey), type, schemaVersion: 1, stream: 'reconcile', eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null, data } as AnyEnvelope;
}

async function appendEvents(store: EventStore, stream: string, events: AnyEnvelope[], baseline = false): Promise<void> {
  const batch: EventData[] = events.map((e) => {
    const s = envelopeToStored(e);
    s.metadata.role = 'venue';
    if (baseline && e.type === 'BalanceReported') s.metadata.baseline = true;
    return { id: s.id, type: s.type, data: s.data, metadata: s.metadata };
  });
  await store.appendToStream(stream, batch, { expectedRevision: 'any' });
}

/** Cancels orders earlier sessions left open: each cancel is recorded (durably) before it is sent. */
export async function cancelLeftovers(store: EventStore, s: VenueSession, ledger: rec.LedgerState, orderIds: string[], reason: string): Promise<number> {
  let n = 0;
  for (const orderId of orderIds) {
    const ord = lifecycle.getOrder(ledger.orders, orderId);
    const info = ord ? s.instruments.get(ord.instrument) : undefined;
    if (!ord || !info) continue;
    if (!ord.cancelRequested) {
      await appendEvents(store, `reconcile-${s.venue}`, [mk('CancelRequested', { orderId, reason }, `cancel:${orderId}:${ord.replaceCount}:${randomUUID()}`, wallClockNs())]);
    }
    const cid = clientOrderIdFor(s.exchangeId, orderId, ord.replaceCount);
    try {
      await s.exchange.cancelOrder(undefined, info.symbol, { origClientOrderId: cid, clientOrderId: cid });
      n++;
    } catch {
      // Already done at the venue (or unreachable): the next reconciliation records what it says.
    }
  }
  return n;
}

function feeMantissa(text: string): { fee: bigint; feeScale: number } {
  const t = decimalText(text) ?? '0';
  const dot = t.indexOf('.');
  const scale = dot < 0 ? 0 : Math.min(18, t.length - dot - 1);
  return { fee: parseDecimal(t, scale, 'fee'), feeScale: scale };
}

// ---------------------------------------------------------------- the live run

export interface LiveOptions {
  store: EventStore;
  session: VenueSession;
  config: ResolvedRunConfig;
  onEnd: 'cancel' | 'leave';
  requestsPerSecond?: number;
  /** Stop after this long (the run also stops on `signal`). */
  durationMs?: number;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
  runId?: string;
  /** Write the market data received to `marketdata-<runId>` and reference it from the run (RunRequest.marketDataStream). */
  marketDataStream?: boolean;
}

export interface LiveResult {
  summary: RunSummary | null;
  startReconciliation: { ok: boolean; differences: rec.Difference[]; canceledLeftovers: number };
  endReconciliation: { ok: boolean; differences: rec.Difference[] } | null;
  haltReason: string | null;
  clientStats: CcxtExecutionClient['stats'] | null;
}

export async function runLive(o: LiveOptions): Promise<LiveResult> {
  const s = o.session;
  // 1. Reconcile before anything is sent; what earlier sessions left open is canceled, then checked again.
  let r = await reconcileVenue(o.store, s, { apply: true });
  let canceled = 0;
  if (r.ok && r.working.length > 0) {
    canceled = await cancelLeftovers(o.store, s, r.ledger, r.working, 'a new session starts: orders of earlier sessions are canceled');
    r = await reconcileVenue(o.store, s, { apply: true });
  }
  const start = { ok: r.ok, differences: r.differences.filter((d) => !d.fixed), canceledLeftovers: canceled };
  if (!r.ok) return { summary: null, startReconciliation: start, endReconciliation: null, haltReason: r.haltReason, clientStats: null };

  // 2. The instruments the strategy trades, and their market data from the venue.
  const traded = new Set<string>();
  for (const k of ['instrument', 'instrumentA', 'instrumentB']) {
    const v = o.config.params[k];
    if (typeof v === 'string') traded.add(v);
  }
  const infos = [...traded].map((i) => {
    const info = s.instruments.get(i);
    if (!info) throw new TapedeckError('CONFIG_INVALID', `${i} is not a market of ${s.venue} (known: ${[...s.instruments.keys()].slice(0, 10).join(', ')}...)`, { field: 'params.instrument' });
    return info;
  });
  // Event time is venue time: what the venue does not timestamp takes the latest venue time seen.
  let venueNowNs = 0n;
  const client = new CcxtExecutionClient({
    eventClockNs: () => venueNowNs,
    exchange: s.exchange, exchangeId: s.exchangeId, venue: s.venue, instruments: s.instruments, redact: s.redact,
    requestsPerSecond: o.requestsPerSecond ?? 20, knownFillIds: r.ledger.fills.keys(), ...(o.onLog ? { onLog: o.onLog } : {}),
  });
  await client.connect();
  const streams = infos.flatMap((i) => [`${i.marketId.toLowerCase()}@depth@100ms`, `${i.marketId.toLowerCase()}@bookTicker`, `${i.marketId.toLowerCase()}@aggTrade`]);
  const wsBase = (s.exchange.urls.api.ws.spot as string).replace(/\/ws\/?$/, '');
  const restBase = new URL(s.exchange.urls.api.public as string).origin;
  const marketUrl = `${wsBase}/stream?streams=${streams.join('/')}`;
  let market = new BinanceMarketDataClient({ wsUrl: marketUrl, restUrl: restBase, venue: s.venue, onBadFrame: 'skip' });
  const stop = new AbortController();
  const timer = o.durationMs !== undefined ? setTimeout(() => stop.abort(), o.durationMs) : null;
  const onOuter = (): void => stop.abort();
  o.signal?.addEventListener('abort', onOuter);
  if (o.signal?.aborted) stop.abort();
  let defined = false;
  const aborted = new Promise<'stop'>((resolve) => {
    if (stop.signal.aborted) resolve('stop');
    stop.signal.addEventListener('abort', () => resolve('stop'));
  });
  async function* events(): AsyncGenerator<AnyEnvelope> {
    // A dropped market stream reconnects with back-off (a new client: the book procedure starts over with a snapshot).
    for (let failures = 0; ; failures++) {
      const it = market.events()[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await Promise.race([it.next(), aborted]);
          if (next === 'stop' || next.done) return;
          failures = 0;
          if (next.value.eventTimeNs > venueNowNs) venueNowNs = next.value.eventTimeNs;
          // The exchange's instrument rules go first, at the venue time of the first market event.
          if (!defined) {
            defined = true;
            for (const i of infos) yield instrumentDefined(s, i, next.value.eventTimeNs);
          }
          yield next.value;
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        o.onLog?.(s.redact(`market stream lost (${e instanceof Error ? e.message : String(e)}): reconnecting`));
        await market.close().catch(() => undefined);
        const wait = new Promise<void>((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
        if ((await Promise.race([wait, aborted])) === 'stop') return;
        market = new BinanceMarketDataClient({ wsUrl: marketUrl, restUrl: restBase, venue: s.venue, onBadFrame: 'skip' });
      }
    }
  }
  let summary: RunSummary;
  try {
    summary = await runKernel({
      mode: 'live', store: o.store, config: o.config, sourceLabel: `${s.exchangeId} ${s.baseUrl ?? 'production'}`, events: events(),
      executionClients: new Map([[s.venue, client]]), ...(o.runId !== undefined ? { runId: o.runId } : {}), journalBatch: 1,
      ...(o.marketDataStream === true ? { marketDataStream: true } : {}),
    });
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onOuter);
    await market.close().catch(() => undefined);
    await client.close();
  }
  // 3. After RunEnded: open orders canceled (or left) as configured, and the log checked against the venue.
  let end = await reconcileVenue(o.store, s, { apply: true });
  if (o.onEnd === 'cancel' && end.working.length > 0) {
    await cancelLeftovers(o.store, s, end.ledger, end.working, 'the run ended: open orders are canceled (live.onEnd = cancel)');
    end = await reconcileVenue(o.store, s, { apply: true });
  }
  return {
    summary, startReconciliation: start, endReconciliation: { ok: end.ok, differences: end.differences.filter((d) => !d.fixed) },
    haltReason: end.haltReason, clientStats: client.stats,
  };
}
