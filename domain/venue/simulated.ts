/**
 * The simulated venue: a pure reducer that plays an exchange for paper trading and backtests.
 *
 * Inputs (`SimInput`), each with its time: market-data events (the venue's own feed, filtered by
 * venue code), VenueCommands with the time they were SENT, and `advance` (time passing). Output:
 * `VenueReport`s, the order-lifecycle events the venue would send, each stamped with
 *   eventTimeNs   = when the venue did it (command arrival, or the market event that filled it)
 *   receiveTimeNs = eventTimeNs + ack latency (when the kernel learns of it)
 * and released by `step` only once the input time reaches receiveTimeNs. Commands take effect at
 * sentNs + submit (or cancel) latency, optionally plus seeded jitter; arrivals keep FIFO order.
 *
 * `nextDueNs(state)` tells the engine the next time something is due (a delayed arrival, expiry or
 * report), so replay on a virtual clock calls `step(state, { kind: 'advance', nowNs })` at exactly
 * that time before feeding any later input. At equal times, due actions run before the input.
 *
 * Matching:
 * - Incoming orders take displayed liquidity, walking the book (market orders without a limit).
 *   Liquidity taken is remembered per price level until the feed updates that level, so the same
 *   displayed lots are never filled twice.
 * - Resting orders queue: on L3 exactly (FIFO by arrival; executions of orders ahead shrink the queue,
 *   an execution behind us or through our price fills us); on L2 conservatively: an order joins
 *   behind the displayed size at its level; only trades at its price (after the queue ahead) or
 *   through its price fill it, and a shrinking level can only shorten the queue to the new size.
 *   Touching the price is not a fill. With `fillOnBookCross`, an opposite book that moves strictly
 *   through a resting price fills it (at its own price) from that displayed liquidity.
 * - IOC, FOK, GTC, DAY; post-only rejects when it would cross; fees or rebates per venue or
 *   instrument (bps of notional and/or per lot), rounded up (a rebate rounds toward zero).
 *
 * Purity and performance: no clock, no Math.random (jitter comes from the xoshiro state kept here).
 * As a decider: `evolve(state, input)` takes in an input (matching included: the matching decision and
 * the state change it causes are one computation, and splitting them would double the per-event cost);
 * `decide(state, { nowNs })` releases the reports sent by then. `step` (evolve, then release what is due
 * at the venue's clock) and `stepMarket` (the same for a market event, allocation-free) are the kernel's
 * fused forms; `simulatedVenue(config)` is the Decider record.
 * State is owned by the engine and updated in place; do not keep old states (clone with
 * structuredClone, hash with canonicalJson). A market event that touches no own order costs one
 * book update and a few comparisons; bigint appears only on command/fill paths.
 */
import type { Decider } from '../core/decider.js';
import { divRound, pow10 } from '../core/fixed.js';
import { nextInt, seedPrng, type PrngState } from '../core/prng.js';
import type { PayloadOf } from '../events/catalog.js';
import type { TimedEvent } from '../events/event.js';
import type { Side } from '../events/primitives.js';
import {
  applyMarketEvent, bestPrice, initialMarketState, ladderQty, type InstrumentBook, type Ladder, type MarketState,
} from '../market/book.js';
import type { OrderType, TimeInForce, VenueCommand } from '../orders/commands.js';
import { parseSimVenueConfig, type SimInstrumentRules, type SimVenueConfig } from './config.js';

export type VenueReportType =
  | 'OrderAccepted' | 'OrderRejected' | 'OrderFilled' | 'OrderCanceled' | 'OrderReplaced' | 'OrderExpired'
  | 'CancelRejected' | 'ReplaceRejected';

export type VenueReport = {
  [K in VenueReportType]: {
    type: K;
    /** Venue time of the action, ns. */
    eventTimeNs: bigint;
    /** When the kernel receives it, ns (eventTimeNs + ack latency). */
    receiveTimeNs: bigint;
    /** Monotonic per venue: with the venue code, a deterministic key for the event id. */
    seq: number;
    data: PayloadOf<K>;
  };
}[VenueReportType];

export type SimInput =
  | { kind: 'market'; event: TimedEvent }
  | { kind: 'command'; command: VenueCommand; sentNs: bigint }
  | { kind: 'advance'; nowNs: bigint };

export interface SimOrder {
  orderId: string;
  venueOrderId: string;
  instrument: string;
  side: Side;
  orderType: OrderType;
  priceTicks: number | null;
  totalLots: number;
  filledLots: number;
  priceScale: number;
  qtyScale: number;
  timeInForce: TimeInForce;
  postOnly: boolean;
  /** Displayed lots ahead of this order at its price (never negative). */
  queueAheadLots: number;
  /** L3: the book's arrival sequence when this order joined; book orders with a lower seq are ahead. */
  joinSeq: number;
  /** Priority among our own resting orders at one price (lower is earlier). */
  restSeq: number;
  fillCount: number;
  resting: boolean;
}

interface InstrumentSim {
  /** Lots taken from displayed levels since the feed last updated them, by price. */
  consumedBids: Map<number, number>;
  consumedAsks: Map<number, number>;
  /** Our resting orders, best price first, then by restSeq. */
  restingBids: SimOrder[];
  restingAsks: SimOrder[];
  rules: SimInstrumentRules;
  quoteCurrency: string | null;
}

type Pending =
  | { dueNs: bigint; seq: number; kind: 'command'; command: VenueCommand }
  | { dueNs: bigint; seq: number; kind: 'expire'; orderId: string };

export interface SimVenueState {
  config: SimVenueConfig;
  market: MarketState;
  sims: Map<string, InstrumentSim>;
  /** Live orders at the venue (arrived, not finished). */
  orders: Map<string, SimOrder>;
  /** Delayed actions, sorted by (dueNs, seq). */
  pending: Pending[];
  /** Reports waiting for their receive time, sorted by (receiveTimeNs, seq). */
  outbox: VenueReport[];
  rng: PrngState;
  nowNs: bigint;
  /** FIFO per leg: an action never arrives before one sent earlier. */
  lastArrivalNs: bigint;
  lastDeliveryNs: bigint;
  nextVenueOrderSeq: number;
  nextRestSeq: number;
  nextPendingSeq: number;
  nextReportSeq: number;
}

export interface SimVenueOptions {
  /**
   * A market state shared with the kernel. The venue then applies ITS venue's market data to it (in
   * `step`/`stepMarket`), and the kernel must NOT apply those events itself, only other venues' events:
   * one book update per event instead of two. Without it the venue keeps a private book.
   */
  market?: MarketState;
}

export function initialState(config: SimVenueConfig | unknown, options: SimVenueOptions = {}): SimVenueState {
  const cfg = isParsed(config) ? config : parseSimVenueConfig(config);
  return {
    config: cfg, market: options.market ?? initialMarketState(), sims: new Map(), orders: new Map(), pending: [], outbox: [],
    rng: seedPrng(cfg.seed), nowNs: 0n, lastArrivalNs: 0n, lastDeliveryNs: 0n,
    nextVenueOrderSeq: 1, nextRestSeq: 1, nextPendingSeq: 1, nextReportSeq: 1,
  };
}

function isParsed(c: unknown): c is SimVenueConfig {
  return typeof c === 'object' && c !== null && (c as SimVenueConfig).instruments instanceof Map && 'submitLatencyNs' in c;
}

/** The next time at which the venue has something due (an arrival, an expiry or a report), or null. */
export function nextDueNs(state: SimVenueState): bigint | null {
  const p = state.pending[0];
  const o = state.outbox[0];
  if (p === undefined) return o === undefined ? null : o.receiveTimeNs;
  if (o === undefined) return p.dueNs;
  return p.dueNs < o.receiveTimeNs ? p.dueNs : o.receiveTimeNs;
}

/** The venue's books (read-only), e.g. for a MarketView in single-venue simulations. */
export function venueMarket(state: SimVenueState): Readonly<MarketState> {
  return state.market;
}

/**
 * evolve: the venue takes in one input (market data, a command as it was sent, time passing). Its clock
 * moves to the input's time (never back: an earlier input is taken at the clock), the arrivals and
 * expiries due by then happen, then the input itself (matching against the book, or scheduling the
 * command's arrival after its latency). The reports this causes wait in the outbox until their receive
 * time (see `decide`).
 */
export function evolve(state: SimVenueState, input: SimInput): SimVenueState {
  const t = input.kind === 'market' ? input.event.eventTimeNs : input.kind === 'command' ? input.sentNs : input.nowNs;
  if (t > state.nowNs) state.nowNs = t;
  if (state.pending.length > 0) runDue(state, state.nowNs);
  if (input.kind === 'market') onMarket(state, input.event, state.nowNs);
  else if (input.kind === 'command') {
    schedule(state, input.command, state.nowNs);
    runDue(state, state.nowNs);
  }
  return state;
}

/**
 * decide: what the venue has sent by `nowNs` — the reports whose receive time has come, in receive
 * order. Time passing is itself an input: the clock moves to `nowNs` first (evolve with `advance`), so
 * arrivals and expiries due by then take place. The reports released leave the outbox.
 */
export function decide(state: SimVenueState, at: { nowNs: bigint }): VenueReport[] {
  const out: VenueReport[] = [];
  step(state, { kind: 'advance', nowNs: at.nowNs }, out);
  return out;
}

/**
 * The kernel's form: evolve with one input, then append to `out` every report whose receive time has
 * come (what `decide` would return at the venue's clock). Returns the number appended.
 */
export function step(state: SimVenueState, input: SimInput, out: VenueReport[]): number {
  const before = out.length;
  evolve(state, input);
  if (state.outbox.length > 0) flush(state, state.nowNs, out);
  return out.length - before;
}

/**
 * The per-market-event fast path: exactly `step(state, { kind: 'market', event }, out)` without the
 * input object, so the engine's hot loop allocates nothing here.
 */
export function stepMarket(state: SimVenueState, event: TimedEvent, out: VenueReport[]): number {
  const t = event.eventTimeNs;
  if (t > state.nowNs) state.nowNs = t;
  const before = out.length;
  if (state.pending.length > 0) runDue(state, state.nowNs);
  onMarket(state, event, state.nowNs);
  if (state.outbox.length > 0) flush(state, state.nowNs, out);
  return out.length - before;
}

/** Advance to `nowNs` and return the reports due: `decide(state, { nowNs })`. */
export function advance(state: SimVenueState, nowNs: bigint): VenueReport[] {
  return decide(state, { nowNs });
}

/**
 * The simulated venue as a Decider (domain/core/decider.ts): events are what the venue is told
 * (SimInput), the input is a moment, and what it decides is the reports it has sent by then. Like every
 * kernel reducer its state is updated in place; unlike the others its `decide` moves its clock (the
 * matching and the state change it causes are one computation, see the header).
 */
export function simulatedVenue(config: SimVenueConfig | unknown, options: SimVenueOptions = {}): Decider<SimVenueState, SimInput, { nowNs: bigint }, VenueReport> {
  return { initialState: () => initialState(config, options), evolve, decide };
}

// ---------- time and queues ----------

function jitter(state: SimVenueState): bigint {
  const j = state.config.jitterNs;
  return j > 0 ? BigInt(nextInt(state.rng, j + 1)) : 0n;
}

function insertPending(state: SimVenueState, p: Pending): void {
  const q = state.pending;
  if (q.length >= state.config.maxInFlight) throw new Error(`invariant violated: more than ${state.config.maxInFlight} actions in flight`);
  let i = q.length;
  while (i > 0 && q[i - 1]!.dueNs > p.dueNs) i--;
  q.splice(i, 0, p);
}

function schedule(state: SimVenueState, command: VenueCommand, sentNs: bigint): void {
  const c = state.config;
  const base = command.kind === 'CancelOrder' ? c.cancelLatencyNs : c.submitLatencyNs;
  let due = sentNs + base + jitter(state);
  if (due < state.lastArrivalNs) due = state.lastArrivalNs;
  state.lastArrivalNs = due;
  insertPending(state, { dueNs: due, seq: state.nextPendingSeq++, kind: 'command', command });
}

function runDue(state: SimVenueState, nowNs: bigint): void {
  const q = state.pending;
  // Bounded: each pass removes one action; expiries scheduled here are in the future or later in the queue.
  for (let guard = q.length + 1; q.length > 0 && q[0]!.dueNs <= nowNs && guard > 0; guard--) {
    const p = q.shift()!;
    if (p.kind === 'command') onArrival(state, p.command, p.dueNs);
    else onExpire(state, p.orderId, p.dueNs);
  }
}

function flush(state: SimVenueState, nowNs: bigint, out: VenueReport[]): void {
  const ob = state.outbox;
  let n = 0;
  while (n < ob.length && ob[n]!.receiveTimeNs <= nowNs) out.push(ob[n++]!);
  if (n > 0) ob.splice(0, n);
}

type ReportData<K extends VenueReportType> = PayloadOf<K>;

function report<K extends VenueReportType>(state: SimVenueState, type: K, atNs: bigint, data: ReportData<K>): void {
  let recv = atNs + state.config.ackLatencyNs + jitter(state);
  if (recv < state.lastDeliveryNs) recv = state.lastDeliveryNs;
  state.lastDeliveryNs = recv;
  state.outbox.push({ type, eventTimeNs: atNs, receiveTimeNs: recv, seq: state.nextReportSeq++, data } as VenueReport);
}

// ---------- instruments ----------

function simFor(state: SimVenueState, instrument: string): InstrumentSim {
  let s = state.sims.get(instrument);
  if (s === undefined) {
    const rules = state.config.instruments.get(instrument) ?? state.config.defaultRules;
    s = { consumedBids: new Map(), consumedAsks: new Map(), restingBids: [], restingAsks: [], rules, quoteCurrency: rules.quoteCurrency };
    state.sims.set(instrument, s);
  }
  return s;
}

// ---------- market data ----------

function onMarket(state: SimVenueState, ev: TimedEvent, nowNs: bigint): void {
  switch (ev.type) {
    case 'InstrumentDefined': {
      if (ev.data.venue !== state.config.venue) return;
      const s = simFor(state, ev.data.instrument);
      if (!state.config.instruments.has(ev.data.instrument)) {
        s.rules = { ...s.rules, tickSizeTicks: ev.data.tickSizeTicks, lotSizeLots: ev.data.lotSizeLots, minQtyLots: ev.data.lotSizeLots };
      }
      s.quoteCurrency ??= ev.data.quoteCurrency;
      return;
    }
    case 'QuoteUpdated': {
      if (ev.data.venue !== state.config.venue) return;
      const book = applyMarketEvent(state.market, ev)!;
      const s = state.sims.get(ev.data.instrument);
      if (s === undefined) return;
      // A quote refreshes the touch only (on a depth-fed book the deeper levels stay as they were).
      if (ev.data.bidPriceTicks !== null) s.consumedBids.delete(ev.data.bidPriceTicks);
      if (ev.data.askPriceTicks !== null) s.consumedAsks.delete(ev.data.askPriceTicks);
      if (s.restingBids.length + s.restingAsks.length > 0) afterBookChange(state, s, book, nowNs);
      return;
    }
    case 'BookSnapshotted': {
      if (ev.data.venue !== state.config.venue) return;
      const book = applyMarketEvent(state.market, ev)!;
      const s = state.sims.get(ev.data.instrument);
      if (s === undefined) return;
      // The whole book is refreshed: earlier consumption no longer applies.
      if (s.consumedBids.size > 0) s.consumedBids.clear();
      if (s.consumedAsks.size > 0) s.consumedAsks.clear();
      if (s.restingBids.length + s.restingAsks.length > 0) afterBookChange(state, s, book, nowNs);
      return;
    }
    case 'BookDeltaApplied': {
      if (ev.data.venue !== state.config.venue) return;
      const book = applyMarketEvent(state.market, ev)!;
      const s = state.sims.get(ev.data.instrument);
      if (s === undefined) return;
      if (s.consumedBids.size + s.consumedAsks.size > 0) {
        const ch = ev.data.changes;
        for (let i = 0; i < ch.length; i++) {
          const c = ch[i]!;
          (c.side === 'buy' ? s.consumedBids : s.consumedAsks).delete(c.priceTicks);
        }
      }
      if (s.restingBids.length + s.restingAsks.length > 0) afterBookChange(state, s, book, nowNs);
      return;
    }
    case 'TradeReported': {
      if (ev.data.venue !== state.config.venue) return;
      const book = applyMarketEvent(state.market, ev)!;
      const s = state.sims.get(ev.data.instrument);
      // On L3 feeds executions come from BookOrderExecuted; trade prints would count them twice.
      if (s === undefined || book.l3 !== null || ev.data.cross === true) return;
      if (s.restingBids.length + s.restingAsks.length === 0) return;
      const d = ev.data;
      // One budget for both sides: with an unknown aggressor the print may hit either, but only once.
      let left = d.qtyLots;
      if (d.aggressor !== 'buy') left = tradeHitsResting(state, s, true, d.priceTicks, d.qtyLots, left, nowNs);
      if (d.aggressor !== 'sell' && left > 0) tradeHitsResting(state, s, false, d.priceTicks, d.qtyLots, left, nowNs);
      return;
    }
    case 'BookOrderAdded':
    case 'BookOrderReplaced': {
      if (ev.data.venue !== state.config.venue) return;
      const s = state.sims.get(ev.data.instrument);
      if (ev.type === 'BookOrderReplaced' && s !== undefined) l3Removed(state, s, ev.data.instrument, ev.data.orderRef, null, nowNs);
      const book = applyMarketEvent(state.market, ev);
      if (s !== undefined && book !== null) {
        clearConsumedAt(s, book, ev.data.orderRef);
        if (s.restingBids.length + s.restingAsks.length > 0 && state.config.fillOnBookCross) crossResting(state, s, book, nowNs);
      }
      return;
    }
    case 'BookOrderExecuted':
    case 'BookOrderCanceled':
    case 'BookOrderDeleted': {
      if (ev.data.venue !== state.config.venue) return;
      const s = state.sims.get(ev.data.instrument);
      if (s !== undefined) {
        const lots = ev.type === 'BookOrderExecuted' ? ev.data.executedLots : ev.type === 'BookOrderCanceled' ? ev.data.canceledLots : -1;
        l3Removed(state, s, ev.data.instrument, ev.data.orderRef, ev.type === 'BookOrderExecuted' ? lots : null, nowNs, lots);
      }
      applyMarketEvent(state.market, ev);
      return;
    }
    default:
      return;
  }
}

/** After an L3 add the level's displayed size changed: consumption there is stale. */
function clearConsumedAt(s: InstrumentSim, book: InstrumentBook, orderRef: string): void {
  const o = book.l3?.get(orderRef);
  if (o === undefined) return;
  (o.side === 'buy' ? s.consumedBids : s.consumedAsks).delete(o.priceTicks);
}

/**
 * An L3 order is (partly) leaving the book: executed (`executedLots` set), canceled or deleted.
 * Orders ahead of ours shrink our queue; an execution behind us or through our price means the
 * aggressor would have reached us first, so we fill.
 */
function l3Removed(state: SimVenueState, s: InstrumentSim, instrument: string, ref: string, executedLots: number | null, nowNs: bigint, lotsIn = -1): void {
  const book = state.market.books.get(instrument);
  const o = book?.l3?.get(ref);
  if (book === undefined || o === undefined) return;
  const lots = lotsIn < 0 ? o.qtyLots : Math.min(lotsIn, o.qtyLots);
  const isBid = o.side === 'buy';
  (isBid ? s.consumedBids : s.consumedAsks).delete(o.priceTicks);
  const resting = isBid ? s.restingBids : s.restingAsks;
  if (resting.length === 0) return;
  if (executedLots === null) {
    for (const r of resting) {
      if (r.priceTicks === o.priceTicks && o.seq < r.joinSeq) r.queueAheadLots = Math.max(0, r.queueAheadLots - lots);
    }
    return;
  }
  // An execution against a resting book order on side `o.side`, at o.priceTicks.
  let remaining = lots;
  for (let i = 0; i < resting.length && remaining > 0; ) {
    const r = resting[i]!;
    const px = r.priceTicks!;
    const through = isBid ? px > o.priceTicks : px < o.priceTicks;
    const atPrice = px === o.priceTicks;
    if (!through && !atPrice) break;
    if (atPrice && o.seq < r.joinSeq) {
      // The execution took an order ahead of us: our queue shrinks, nothing reaches us.
      r.queueAheadLots = Math.max(0, r.queueAheadLots - lots);
      i++;
      continue;
    }
    const take = Math.min(remaining, r.totalLots - r.filledLots);
    remaining -= take;
    if (through) r.queueAheadLots = 0;
    if (fill(state, s, r, px, take, 'maker', nowNs)) continue; // removed from `resting`; same index
    i++;
  }
}

/**
 * A trade print on an L2 feed: allocate it to our resting orders on the passive side, best first,
 * giving out at most `budget` lots. Returns the budget left.
 */
function tradeHitsResting(state: SimVenueState, s: InstrumentSim, passiveBid: boolean, priceTicks: number, qtyLots: number, budget: number, nowNs: bigint): number {
  const resting = passiveBid ? s.restingBids : s.restingAsks;
  let given = 0;
  for (let i = 0; i < resting.length; ) {
    const r = resting[i]!;
    const px = r.priceTicks!;
    const through = passiveBid ? px > priceTicks : px < priceTicks;
    if (!through && px !== priceTicks) break;
    const aheadBefore = through ? 0 : r.queueAheadLots;
    r.queueAheadLots = through ? 0 : Math.max(0, r.queueAheadLots - qtyLots);
    const avail = Math.min(qtyLots - aheadBefore, budget) - given;
    if (avail > 0) {
      const take = Math.min(avail, r.totalLots - r.filledLots);
      given += take;
      if (fill(state, s, r, px, take, 'maker', nowNs)) continue;
    }
    i++;
  }
  return budget - given;
}

/** L2/L1 book changed: shorten queues to the displayed size, then check for a cross. */
function afterBookChange(state: SimVenueState, s: InstrumentSim, book: InstrumentBook, nowNs: bigint): void {
  if (book.l3 === null) {
    for (const r of s.restingBids) {
      const q = ladderQty(book.bids, true, r.priceTicks!);
      if (q < r.queueAheadLots) r.queueAheadLots = q;
    }
    for (const r of s.restingAsks) {
      const q = ladderQty(book.asks, false, r.priceTicks!);
      if (q < r.queueAheadLots) r.queueAheadLots = q;
    }
  }
  if (state.config.fillOnBookCross) crossResting(state, s, book, nowNs);
}

/** Fills resting orders that the opposite displayed book has moved strictly through. */
function crossResting(state: SimVenueState, s: InstrumentSim, book: InstrumentBook, nowNs: bigint): void {
  crossSide(state, s, s.restingBids, book.asks, s.consumedAsks, true, nowNs);
  crossSide(state, s, s.restingAsks, book.bids, s.consumedBids, false, nowNs);
}

function crossSide(state: SimVenueState, s: InstrumentSim, resting: SimOrder[], opp: Ladder, consumed: Map<number, number>, restingBid: boolean, nowNs: bigint): void {
  while (resting.length > 0) {
    const r = resting[0]!;
    const px = r.priceTicks!;
    let filledAny = false;
    for (let i = opp.prices.length - 1; i >= 0; i--) {
      const lp = opp.prices[i]!;
      if (restingBid ? lp >= px : lp <= px) break;
      const avail = opp.qtys[i]! - (consumed.get(lp) ?? 0);
      if (avail <= 0) continue;
      const take = Math.min(avail, r.totalLots - r.filledLots);
      consumed.set(lp, (consumed.get(lp) ?? 0) + take);
      filledAny = true;
      if (fill(state, s, r, px, take, 'maker', nowNs)) break;
    }
    // Stop when the best order found nothing more (or is still resting after taking all there was).
    if (!filledAny || resting[0] === r) return;
  }
}

// ---------- commands ----------

function onArrival(state: SimVenueState, cmd: VenueCommand, atNs: bigint): void {
  switch (cmd.kind) {
    case 'SubmitOrder':
      return onSubmit(state, cmd, atNs);
    case 'CancelOrder': {
      const o = state.orders.get(cmd.orderId);
      if (o === undefined) {
        report(state, 'CancelRejected', atNs, { orderId: cmd.orderId, reason: 'unknown or already finished order' });
        return;
      }
      const s = simFor(state, o.instrument);
      const leaves = o.totalLots - o.filledLots;
      removeOrder(state, s, o);
      report(state, 'OrderCanceled', atNs, { orderId: o.orderId, canceledLots: leaves, reason: 'canceled on request' });
      return;
    }
    case 'ReplaceOrder':
      return onReplace(state, cmd, atNs);
  }
}

function rulesProblem(s: InstrumentSim, book: InstrumentBook | undefined, o: { orderType: OrderType; priceTicks: number | null; qtyLots: number; priceScale: number; qtyScale: number; postOnly: boolean }): string | null {
  const r = s.rules;
  if (book !== undefined && (book.priceScale !== o.priceScale || book.qtyScale !== o.qtyScale)) {
    return `scales ${o.priceScale}/${o.qtyScale} differ from the venue's ${book.priceScale}/${book.qtyScale}`;
  }
  if (!Number.isSafeInteger(o.qtyLots) || o.qtyLots <= 0) return `quantity ${o.qtyLots} is not a positive integer`;
  if (o.qtyLots % r.lotSizeLots !== 0) return `quantity ${o.qtyLots} is not a multiple of the lot size ${r.lotSizeLots}`;
  if (o.qtyLots < r.minQtyLots) return `quantity ${o.qtyLots} is below the minimum ${r.minQtyLots}`;
  if (o.orderType === 'market') {
    if (o.priceTicks !== null) return 'a market order has no price';
    if (o.postOnly) return 'a market order cannot be post-only';
    return null;
  }
  if (o.priceTicks === null || !Number.isSafeInteger(o.priceTicks)) return 'a limit order needs an integer price';
  if (o.priceTicks <= 0) return `price ${o.priceTicks} must be positive`;
  if (o.priceTicks % r.tickSizeTicks !== 0) return `price ${o.priceTicks} is not a multiple of the tick size ${r.tickSizeTicks}`;
  return null;
}

function onSubmit(state: SimVenueState, cmd: VenueCommand & { kind: 'SubmitOrder' }, atNs: bigint): void {
  if (state.orders.has(cmd.orderId)) return; // a resend of a live order: already handled
  const reject = (reason: string): void => report(state, 'OrderRejected', atNs, { orderId: cmd.orderId, reason, venueCode: 'SIM_REJECT' });
  if (cmd.venue !== state.config.venue) return reject(`order for venue ${cmd.venue} sent to ${state.config.venue}`);
  const book = state.market.books.get(cmd.instrument);
  if (book === undefined && !state.config.instruments.has(cmd.instrument)) return reject(`unknown instrument ${cmd.instrument}`);
  const s = simFor(state, cmd.instrument);
  const bad = rulesProblem(s, book, cmd);
  if (bad) return reject(bad);
  if (state.orders.size >= state.config.maxLiveOrders) return reject(`too many live orders (${state.config.maxLiveOrders})`);
  const isBid = cmd.side === 'buy';
  if (cmd.postOnly && book !== undefined && cmd.priceTicks !== null) {
    const opp = bestPrice(isBid ? book.asks : book.bids);
    if (opp !== null && (isBid ? opp <= cmd.priceTicks : opp >= cmd.priceTicks)) {
      return reject(`post-only ${cmd.side} at ${cmd.priceTicks} would cross the ${isBid ? 'ask' : 'bid'} at ${opp}`);
    }
  }
  const o: SimOrder = {
    orderId: cmd.orderId, venueOrderId: `${state.config.venue}-${state.nextVenueOrderSeq++}`, instrument: cmd.instrument,
    side: cmd.side, orderType: cmd.orderType, priceTicks: cmd.priceTicks, totalLots: cmd.qtyLots, filledLots: 0,
    priceScale: cmd.priceScale, qtyScale: cmd.qtyScale, timeInForce: cmd.orderType === 'market' ? 'IOC' : cmd.timeInForce,
    postOnly: cmd.postOnly, queueAheadLots: 0, joinSeq: 0, restSeq: 0, fillCount: 0, resting: false,
  };
  state.orders.set(o.orderId, o);
  report(state, 'OrderAccepted', atNs, { orderId: o.orderId, venueOrderId: o.venueOrderId });
  if (o.timeInForce === 'FOK' && available(s, book, o) < o.totalLots) {
    state.orders.delete(o.orderId);
    report(state, 'OrderCanceled', atNs, { orderId: o.orderId, canceledLots: o.totalLots, reason: 'FOK: not enough liquidity to fill in full' });
    return;
  }
  if (book !== undefined && take(state, s, book, o, atNs)) return;
  if (o.timeInForce === 'IOC' || o.timeInForce === 'FOK') {
    const leaves = o.totalLots - o.filledLots;
    state.orders.delete(o.orderId);
    report(state, 'OrderCanceled', atNs, { orderId: o.orderId, canceledLots: leaves, reason: o.orderType === 'market' ? 'market order: no more liquidity' : 'IOC: remainder canceled' });
    return;
  }
  rest(state, s, book, o);
  if (o.timeInForce === 'DAY') scheduleExpiry(state, o, atNs);
}

/** Displayed, unconsumed liquidity an incoming order could take within its limit. */
function available(s: InstrumentSim, book: InstrumentBook | undefined, o: SimOrder): number {
  if (book === undefined) return 0;
  const isBid = o.side === 'buy';
  const opp = isBid ? book.asks : book.bids;
  const consumed = isBid ? s.consumedAsks : s.consumedBids;
  let sum = 0;
  for (let i = opp.prices.length - 1; i >= 0; i--) {
    const lp = opp.prices[i]!;
    if (o.priceTicks !== null && (isBid ? lp > o.priceTicks : lp < o.priceTicks)) break;
    sum += Math.max(0, opp.qtys[i]! - (consumed.get(lp) ?? 0));
  }
  return sum;
}

/** Takes liquidity for an incoming order. Returns true when the order finished (filled). */
function take(state: SimVenueState, s: InstrumentSim, book: InstrumentBook, o: SimOrder, atNs: bigint): boolean {
  const isBid = o.side === 'buy';
  const opp = isBid ? book.asks : book.bids;
  const consumed = isBid ? s.consumedAsks : s.consumedBids;
  for (let i = opp.prices.length - 1; i >= 0; i--) {
    const lp = opp.prices[i]!;
    if (o.priceTicks !== null && (isBid ? lp > o.priceTicks : lp < o.priceTicks)) break;
    const used = consumed.get(lp) ?? 0;
    const avail = opp.qtys[i]! - used;
    if (avail <= 0) continue;
    const q = Math.min(avail, o.totalLots - o.filledLots);
    consumed.set(lp, used + q);
    if (fill(state, s, o, lp, q, 'taker', atNs)) return true;
  }
  return false;
}

function rest(state: SimVenueState, s: InstrumentSim, book: InstrumentBook | undefined, o: SimOrder): void {
  const isBid = o.side === 'buy';
  const px = o.priceTicks!;
  o.queueAheadLots = book === undefined ? 0 : ladderQty(isBid ? book.bids : book.asks, isBid, px);
  o.joinSeq = book === undefined ? 0 : book.nextSeq;
  o.restSeq = state.nextRestSeq++;
  o.resting = true;
  const list = isBid ? s.restingBids : s.restingAsks;
  let i = list.length;
  // Best price first; at one price, earlier orders first (the new order goes last among equals).
  while (i > 0 && (isBid ? list[i - 1]!.priceTicks! < px : list[i - 1]!.priceTicks! > px)) i--;
  list.splice(i, 0, o);
}

function unrest(s: InstrumentSim, o: SimOrder): void {
  if (!o.resting) return;
  const list = o.side === 'buy' ? s.restingBids : s.restingAsks;
  const i = list.indexOf(o);
  if (i >= 0) list.splice(i, 1);
  o.resting = false;
}

function removeOrder(state: SimVenueState, s: InstrumentSim, o: SimOrder): void {
  unrest(s, o);
  state.orders.delete(o.orderId);
}

function scheduleExpiry(state: SimVenueState, o: SimOrder, atNs: bigint): void {
  const day = 86_400_000_000_000n;
  const off = state.config.dayEndOffsetNs % day;
  // This day's end: UTC midnight at or before atNs (floored, also for negative times), plus the offset;
  // an order placed at or after it expires at the next day's end.
  let end = atNs - (((atNs % day) + day) % day) + off;
  if (end <= atNs) end += day;
  insertPending(state, { dueNs: end, seq: state.nextPendingSeq++, kind: 'expire', orderId: o.orderId });
}

function onExpire(state: SimVenueState, orderId: string, atNs: bigint): void {
  const o = state.orders.get(orderId);
  if (o === undefined || o.timeInForce !== 'DAY') return;
  removeOrder(state, simFor(state, o.instrument), o);
  report(state, 'OrderExpired', atNs, { orderId });
}

function onReplace(state: SimVenueState, cmd: VenueCommand & { kind: 'ReplaceOrder' }, atNs: bigint): void {
  const o = state.orders.get(cmd.orderId);
  const no = (reason: string): void => report(state, 'ReplaceRejected', atNs, { orderId: cmd.orderId, reason });
  if (o === undefined) return no('unknown or already finished order');
  const s = simFor(state, o.instrument);
  const book = state.market.books.get(o.instrument);
  const bad = rulesProblem(s, book, { orderType: o.orderType, priceTicks: cmd.priceTicks, qtyLots: cmd.qtyLots, priceScale: o.priceScale, qtyScale: o.qtyScale, postOnly: o.postOnly });
  if (bad) return no(bad);
  if (cmd.qtyLots <= o.filledLots) return no(`new total ${cmd.qtyLots} lots must exceed the ${o.filledLots} lots filled`);
  const isBid = o.side === 'buy';
  const priceChanged = cmd.priceTicks !== o.priceTicks;
  if (o.postOnly && priceChanged && book !== undefined && cmd.priceTicks !== null) {
    const opp = bestPrice(isBid ? book.asks : book.bids);
    if (opp !== null && (isBid ? opp <= cmd.priceTicks : opp >= cmd.priceTicks)) return no(`post-only price ${cmd.priceTicks} would cross`);
  }
  const keepsPriority = !priceChanged && cmd.qtyLots <= o.totalLots;
  o.totalLots = cmd.qtyLots;
  report(state, 'OrderReplaced', atNs, { orderId: o.orderId, priceTicks: cmd.priceTicks, qtyLots: cmd.qtyLots, venueOrderId: o.venueOrderId });
  if (keepsPriority) return;
  // A new price or a larger size loses time priority: re-enter as if new (and take liquidity if it crosses).
  unrest(s, o);
  o.priceTicks = cmd.priceTicks;
  if (book !== undefined && take(state, s, book, o, atNs)) return;
  rest(state, s, book, o);
}

// ---------- fills ----------

/** Reports a fill and updates the order; returns true when the order is done (and removed). */
function fill(state: SimVenueState, s: InstrumentSim, o: SimOrder, priceTicks: number, qtyLots: number, liquidity: 'maker' | 'taker', atNs: bigint): boolean {
  if (qtyLots <= 0) return false;
  o.filledLots += qtyLots;
  o.fillCount++;
  const leaves = o.totalLots - o.filledLots;
  const f = s.rules.fees;
  const fee = feeFor(f, liquidity, priceTicks, qtyLots, o.priceScale + o.qtyScale);
  report(state, 'OrderFilled', atNs, {
    orderId: o.orderId, venue: state.config.venue, instrument: o.instrument,
    fillId: `${o.venueOrderId}-${o.fillCount}`, side: o.side, priceTicks, qtyLots,
    priceScale: o.priceScale, qtyScale: o.qtyScale, fee, feeScale: f.feeScale,
    feeCurrency: f.feeCurrency ?? s.quoteCurrency ?? 'USD', liquidity, leavesLots: leaves,
  });
  if (leaves === 0) {
    removeOrder(state, s, o);
    return true;
  }
  return false;
}

/**
 * Fee for one fill at `feeScale`: bps of notional plus a per-lot amount. Rounded up, so a charge is
 * never under-stated and a rebate never over-stated.
 */
export function feeFor(f: { makerBps4: bigint; takerBps4: bigint; makerPerLot: bigint; takerPerLot: bigint; feeScale: number }, liquidity: 'maker' | 'taker', priceTicks: number, qtyLots: number, notionalScale: number): bigint {
  const bps4 = liquidity === 'maker' ? f.makerBps4 : f.takerBps4;
  const perLot = liquidity === 'maker' ? f.makerPerLot : f.takerPerLot;
  let fee = BigInt(qtyLots) * perLot;
  if (bps4 !== 0n) {
    const notional = BigInt(priceTicks) * BigInt(qtyLots);
    const num = notional * bps4 * pow10(f.feeScale);
    const den = pow10(8 + notionalScale);
    fee += divRound(num, den, 'ceil');
  }
  return fee;
}

/** Our live orders (for tests and reports), sorted by order id. */
export function liveOrders(state: SimVenueState): SimOrder[] {
  return [...state.orders.values()].sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
}
