/**
 * The kernel core: one pure, deterministic machine that every run uses (replay, paper, live, parity).
 * It composes the deciders of domain/: the strategy, risk, the order lifecycle, the portfolio and,
 * when the venue is simulated, the simulated venues. Inputs go in one at a time; out come, in order,
 * the events to record (the input itself, decisions, venue reports) and, in live mode, the venue
 * commands to send once those events are durable. Nothing here reads a clock or a random source:
 * identical inputs give identical outputs, hash for hash.
 *
 * Ids: every event the kernel creates has a name-based UUID from the run id and a counter, and every
 * order id likewise; the decisions hash replaces order ids by their sequence number and leaves out
 * run-specific fields (run id, store positions), so a replay under another run id hashes the same.
 */
import { StructuralHasher, structuralHash } from '../core/fasthash.js';
import { parseDecimal } from '../core/fixed.js';
import { invariant, TapedeckError } from '../core/errors.js';
import { uuidFromName } from '../core/sha256.js';
import { CATALOG, type EventType, type PayloadOf } from '../events/catalog.js';
import type { AnyEnvelope, EventEnvelope } from '../events/envelope.js';
import type { TimedEvent } from '../events/event.js';
import { applyMarketEvent, initialMarketState, isMarketDataType, type MarketState } from '../market/book.js';
import type { StrategyCommand, VenueCommand } from '../orders/commands.js';
import * as lifecycle from '../orders/lifecycle.js';
import * as portfolio from '../portfolio/portfolio.js';
import type { RiskConfig } from '../risk/config.js';
import * as risk from '../risk/risk.js';
import type { Strategy } from '../strategies/strategy.js';
import type { SimVenueConfig } from '../venue/config.js';
import * as sim from '../venue/simulated.js';

export type EventRole = 'input' | 'decision' | 'venue' | 'run';

export interface KernelSetup {
  runId: string;
  strategy: Strategy;
  /** Validated strategy params. */
  params: unknown;
  seed: number;
  /** `name@version`. */
  strategyId: string;
  strategyCodeHash: string;
  configHash: string;
  risk: RiskConfig;
  /** Simulated venues by venue code (replay, paper). Empty in live mode: commands go out as outputs. */
  simVenues: SimVenueConfig[];
  /** Bound on the work one input may cause (reports and commands feeding each other). */
  maxStepsPerInput?: number;
  /**
   * One kernel of a run split by instrument (src/runtime/partitioned.ts): its ids are made under this
   * scope, so kernels of the same run never make the same id, whichever thread runs them.
   */
  idScope?: string;
}

export type KernelOutput =
  | { kind: 'event'; env: AnyEnvelope; role: EventRole }
  | { kind: 'command'; command: VenueCommand };

export interface KernelState {
  setup: KernelSetup;
  stream: string;
  strategyState: unknown;
  risk: risk.RiskState;
  orders: lifecycle.OrdersState;
  portfolio: portfolio.PortfolioState;
  market: MarketState;
  sims: Map<string, sim.SimVenueState>;
  /** The same venues as parallel arrays: the per-input due check walks these without allocating. */
  simVenues: string[];
  simStates: sim.SimVenueState[];
  orderSeq: number;
  outSeq: number;
  /** orderId → its sequence number within the run (for run-independent hashing). */
  orderNumbers: Map<string, number>;
  /** First 17 hex digits of every id this run makes (version and variant included), from the run id. */
  idPrefix: string;
  /** Running hash over the normalized decisions. */
  decisionsHasher: StructuralHasher;
  inputs: number;
  /** Live venue reports the order lifecycle could not apply (kept in the log, not folded in). */
  anomalies: number;
  decisions: number;
  fills: number;
  decisionsHash: string;
  /** The input being processed: the cause of whatever the kernel decides now. */
  cause: Cause;
}

/**
 * The input being processed. `revision`: its revision in the run stream (null when not journaled);
 * `input`: its number among a run's referenced inputs (InputsReferenced), null when the run holds its
 * inputs. The id is read from the envelope only when the kernel makes something (most inputs make
 * nothing), so an input whose id is costly to derive (a name-based UUID) can pay for it only then.
 */
export class Cause {
  envelope: AnyEnvelope | null = null;
  revision: number | null = null;
  input: number | null = null;
  eventTimeNs = 0n;
  receiveTimeNs = 0n;
  get id(): string {
    return this.envelope === null ? '' : this.envelope.id;
  }
}

const GENESIS_HASH = new StructuralHasher().update('tapedeck-decisions-v1').digestHex();

/** A UUID (RFC 9562 v8): the run's name-based prefix, then a counter tagged by kind (1 = event, 2 = order). */
function kernelId(k: KernelState, kind: number, n: number): string {
  const hex = k.idPrefix + (kind * 0x1000000000000 + n).toString(16).padStart(15, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function initKernel(setup: KernelSetup): KernelState {
  // One market book for strategy, risk and the simulated venues: a simulated venue applies its own
  // venue's market data to it (and matches on it); the kernel applies everything else.
  const market = initialMarketState();
  const sims = new Map<string, sim.SimVenueState>();
  for (const cfg of setup.simVenues) sims.set(cfg.venue, sim.initialState(cfg, { market }));
  return {
    setup,
    stream: `run-${setup.runId}`,
    strategyState: setup.strategy.initialState(setup.params, setup.seed),
    risk: risk.initialState(setup.risk),
    orders: lifecycle.initialState(),
    portfolio: portfolio.initialState(),
    market,
    sims,
    simVenues: [...sims.keys()],
    simStates: [...sims.values()],
    orderSeq: 0,
    outSeq: 0,
    orderNumbers: new Map(),
    idPrefix: uuidFromName(setup.runId, setup.idScope === undefined ? 'kernel-ids' : `kernel-ids:${setup.idScope}`).replace(/-/g, '').slice(0, 17),
    decisionsHasher: new StructuralHasher().update('tapedeck-decisions-v1'),
    inputs: 0,
    anomalies: 0,
    decisions: 0,
    fills: 0,
    decisionsHash: GENESIS_HASH,
    cause: new Cause(),
  };
}

/** The next time a simulated venue has something due, or null. */
export function nextDueNs(k: KernelState): bigint | null {
  let best: bigint | null = null;
  for (const s of k.sims.values()) {
    const d = sim.nextDueNs(s);
    if (d !== null && (best === null || d < best)) best = d;
  }
  return best;
}

const reportBuf: sim.VenueReport[] = [];
const workBuf: Work[] = [];

/**
 * Processes one input (market data, a timer, or in live mode a venue report) and appends the outputs.
 * `revision` is the input's revision in the run stream (`run-<id>`), which the journal knows exactly
 * (it appends with an exact expected revision), else null. Not the global position: a store assigns
 * positions when it appends, and they need not be contiguous, so nobody can know them in advance. A strategy that throws is reported as STRATEGY_FAILED naming the input.
 * `inputNumber`: in a run that references its inputs instead of holding them, the input's number among
 * them (decisions cite it as causeInput); null otherwise.
 */
export function processInput(k: KernelState, input: AnyEnvelope, revision: number | null, out: KernelOutput[], inputNumber: number | null = null): void {
  // Time moves to the input: reports the simulated venues owe before it come first.
  releaseDue(k, input.eventTimeNs, out);
  k.inputs++;
  const cause = k.cause;
  cause.envelope = input;
  cause.revision = revision;
  cause.input = inputNumber;
  cause.eventTimeNs = input.eventTimeNs;
  cause.receiveTimeNs = input.receiveTimeNs;
  out.push({ kind: 'event', env: input, role: 'input' });
  const work = workBuf;
  clear(work);
  if (isMarketDataType(input.type)) {
    const venue = (input.data as { venue?: string }).venue;
    const s = venue === undefined ? undefined : k.sims.get(venue);
    if (s !== undefined) {
      clear(reportBuf);
      if (sim.stepMarket(s, input as unknown as TimedEvent, reportBuf) > 0) {
        for (const r of reportBuf) work.push({ kind: 'report', venue: venue!, report: r });
      }
    } else {
      applyMarketEvent(k.market, input as unknown as TimedEvent);
    }
    if (input.type === 'TradeReported' || input.type === 'QuoteUpdated' || input.type === 'InstrumentDefined') riskEvolve(k, input);
  } else if (lifecycle.isOrderEvent(input as unknown as TimedEvent)) {
    // Live mode: a real venue's report arrives as an input. It is folded in like a simulated
    // venue's report; one the lifecycle finds impossible stays on record but changes nothing.
    if (!liveReport(k, input)) return;
  } else {
    applyToBooks(k, input);
    if (input.type === 'CancelAllRequested') cancelAll(k, input.data.venue, `cancel-all by ${input.data.by}: ${input.data.reason}`, work);
  }
  const commands = strategyStep(k, input as unknown as TimedEvent, true);
  for (const c of commands) work.push({ kind: 'command', command: c });
  drain(k, work, out);
}

/** At the end of a run: nothing more is released (due reports after the last input never happened). */
export function summary(k: KernelState): { inputs: number; decisions: number; orders: number; fills: number; decisionsHash: string; realizedPnl: string; realizedPnlByCurrency: Record<string, string> } {
  const byCurrency: Record<string, string> = {};
  let total = 0n;
  let totalScale = 0;
  for (const p of k.portfolio.positions.values()) {
    const scale = p.priceScale + p.qtyScale;
    byCurrency[p.quoteCurrency] = addDecimal(byCurrency[p.quoteCurrency] ?? '0', p.realizedPnl, scale);
    if (scale > totalScale) {
      total *= 10n ** BigInt(scale - totalScale);
      totalScale = scale;
    }
    total += p.realizedPnl * 10n ** BigInt(totalScale - scale);
  }
  return {
    inputs: k.inputs,
    decisions: k.decisions,
    orders: k.orderSeq,
    fills: k.fills,
    decisionsHash: k.decisionsHash,
    realizedPnl: formatScaled(total, totalScale),
    realizedPnlByCurrency: byCurrency,
  };
}

function addDecimal(prev: string, amount: bigint, scale: number): string {
  const prevScale = prev.includes('.') ? prev.length - prev.indexOf('.') - 1 : 0;
  const s = Math.max(prevScale, scale);
  const a = parseDecimal(prev, s);
  return formatScaled(a + amount * 10n ** BigInt(s - scale), s);
}

function formatScaled(m: bigint, scale: number): string {
  const neg = m < 0n;
  const d = (neg ? -m : m).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${scale === 0 ? d : `${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}`}`;
}

// ----------------------------------------------------------------------------------------------

type Work =
  | { kind: 'report'; venue: string; report: sim.VenueReport }
  | { kind: 'command'; command: StrategyCommand };

/**
 * Releases what the simulated venues owe up to `untilNs`. processInput does this itself; an engine
 * that needs the input's exact revision in the run stream calls it first and journals those outputs.
 */
export function releaseDue(k: KernelState, untilNs: bigint, out: KernelOutput[]): void {
  const states = k.simStates;
  const n = states.length;
  if (n === 0) return;
  for (let guard = 0; ; guard++) {
    invariant(guard < 1_000_000, 'simulated venues keep producing due work');
    let at = -1;
    let due: bigint | null = null;
    for (let i = 0; i < n; i++) {
      const d = sim.nextDueNs(states[i]!);
      if (d !== null && d <= untilNs && (due === null || d < due)) {
        due = d;
        at = i;
      }
    }
    if (at < 0 || due === null) return;
    const venue = k.simVenues[at]!;
    clear(reportBuf);
    sim.step(states[at]!, { kind: 'advance', nowNs: due }, reportBuf);
    const work: Work[] = reportBuf.map((report) => ({ kind: 'report', venue, report }));
    drain(k, work, out);
  }
}

/** Empties a reused buffer; setting length on an already empty array is a surprisingly slow call in V8. */
export function clear(a: unknown[]): void {
  if (a.length !== 0) a.length = 0;
}

function drain(k: KernelState, work: Work[], out: KernelOutput[]): void {
  const max = k.setup.maxStepsPerInput ?? 100_000;
  for (let i = 0; i < work.length; i++) {
    if (i >= max) throw new TapedeckError('KERNEL_RUNAWAY', `one input caused more than ${max} steps (strategy and venue feeding each other)`, { field: k.cause.id });
    const w = work[i]!;
    if (w.kind === 'report') onReport(k, w.venue, w.report, work, out);
    else onCommand(k, w.command, work, out);
  }
}

function makeOut<T extends EventType>(k: KernelState, type: T, data: PayloadOf<T>, eventTimeNs: bigint, receiveTimeNs: bigint): EventEnvelope<T> {
  return {
    id: kernelId(k, 1, ++k.outSeq),
    type,
    schemaVersion: CATALOG[type].version,
    stream: k.stream,
    eventTimeNs,
    receiveTimeNs,
    causationId: k.cause.id || null,
    correlationId: k.setup.runId,
    data,
  };
}

/** Records a kernel-made event and folds it into every reducer that keeps state from it. */
function record<T extends EventType>(k: KernelState, type: T, data: PayloadOf<T>, role: EventRole, out: KernelOutput[], times?: { eventTimeNs: bigint; receiveTimeNs: bigint }): EventEnvelope<T> {
  const env = makeOut(k, type, data, times?.eventTimeNs ?? k.cause.eventTimeNs, times?.receiveTimeNs ?? k.cause.receiveTimeNs);
  out.push({ kind: 'event', env: env as AnyEnvelope, role });
  if (role === 'decision') {
    k.decisions++;
    k.decisionsHash = k.decisionsHasher.update(normalizeDecision(type, data as Record<string, unknown>, k.orderNumbers)).digestHex();
  }
  const ev = env as unknown as TimedEvent;
  if (lifecycle.isOrderEvent(ev)) {
    const next = lifecycle.evolve(k.orders, ev);
    if (next instanceof TapedeckError) throw next;
    k.orders = next;
  }
  portfolio.evolve(k.portfolio, ev);
  riskEvolve(k, env as AnyEnvelope);
  return env;
}

function riskEvolve(k: KernelState, env: AnyEnvelope): void {
  k.risk = risk.evolve(k.risk, env as unknown as TimedEvent);
}

function liveReport(k: KernelState, input: AnyEnvelope): boolean {
  const ev = input as unknown as lifecycle.OrderEvent & TimedEvent;
  const next = lifecycle.evolve(k.orders, ev);
  if (next instanceof TapedeckError) {
    k.anomalies++;
    return false;
  }
  k.orders = next;
  portfolio.evolve(k.portfolio, ev);
  riskEvolve(k, input);
  if (input.type === 'OrderFilled') k.fills++;
  return true;
}

function applyToBooks(k: KernelState, input: AnyEnvelope): void {
  riskEvolve(k, input);
  portfolio.evolve(k.portfolio, input as unknown as TimedEvent);
}

/** Runs the strategy's evolve, and its decide when `decide` is set; a throw names the strategy and input. */
function strategyStep(k: KernelState, ev: TimedEvent, decide: boolean): readonly StrategyCommand[] {
  const st = k.setup.strategy;
  try {
    k.strategyState = st.evolve(k.strategyState, ev, k.market);
    return decide ? st.decide(k.strategyState, ev, k.market) : [];
  } catch (e) {
    if (e instanceof TapedeckError && e.code === 'STRATEGY_FAILED') throw e;
    throw new TapedeckError(
      'STRATEGY_FAILED',
      `strategy ${k.setup.strategyId} threw on ${ev.type} ${k.cause.id}: ${e instanceof Error ? e.message : String(e)}`,
      { field: 'strategy', event: k.cause.id, revision: k.cause.revision ?? undefined },
    );
  }
}

function onCommand(k: KernelState, c: StrategyCommand, work: Work[], out: KernelOutput[]): void {
  const d = k.setup;
  const ctx = { eventTimeNs: k.cause.eventTimeNs, market: k.market };
  if (c.kind === 'PlaceOrder') {
    const n = ++k.orderSeq;
    const orderId = kernelId(k, 2, n);
    k.orderNumbers.set(orderId, n);
    const stateHash = structuralHash(k.strategyState);
    const intent = record(k, 'OrderIntended', {
      orderId, venue: c.venue, instrument: c.instrument, side: c.side, orderType: c.orderType, priceTicks: c.priceTicks,
      qtyLots: c.qtyLots, priceScale: c.priceScale, qtyScale: c.qtyScale, timeInForce: c.timeInForce, postOnly: c.postOnly,
      reduceOnly: c.reduceOnly, ...(c.tag !== undefined ? { clientTag: c.tag } : {}),
      decision: { strategyId: d.strategyId, strategyCodeHash: d.strategyCodeHash, configHash: d.configHash, stateHash, causeEventId: k.cause.id, causeRevision: k.cause.revision, ...(k.cause.input === null ? {} : { causeInput: k.cause.input }), runId: d.runId },
    }, 'decision', out);
    ownEvent(k, intent);
    const outcome = risk.decide(k.risk, { kind: 'place', order: { orderId, venue: c.venue, instrument: c.instrument, side: c.side, orderType: c.orderType, priceTicks: c.priceTicks, qtyLots: c.qtyLots, priceScale: c.priceScale, qtyScale: c.qtyScale, reduceOnly: c.reduceOnly } }, ctx);
    const verdict = record(k, outcome.type, outcome.data as never, 'decision', out);
    ownEvent(k, verdict as AnyEnvelope);
    if (outcome.type !== 'RiskApproved') return;
    const submitted = record(k, 'OrderSubmitted', { orderId, venue: c.venue, attempt: 1 }, 'venue', out);
    ownEvent(k, submitted);
    const { kind: _k, tag: _t, ...spec } = c;
    toVenue(k, { kind: 'SubmitOrder', orderId, ...spec }, work, out);
    return;
  }
  const order = lifecycle.getOrder(k.orders, c.orderId);
  if (order === undefined) throw new TapedeckError('STRATEGY_FAILED', `strategy ${d.strategyId} acted on unknown order ${c.orderId}`, { field: 'orderId' });
  if (c.kind === 'CancelOrder') {
    // A cancel the order cannot take now (finished, or a cancel already in flight) is recorded as
    // refused, not sent and not thrown: strategies race fills all the time.
    const can = lifecycle.decide(order, c.orderId, { kind: 'RequestCancel' });
    if (can instanceof TapedeckError) {
      ownEvent(k, record(k, 'CancelRejected', { orderId: c.orderId, reason: `kernel: ${can.message}` }, 'decision', out) as AnyEnvelope);
      return;
    }
    const outcome = risk.decide(k.risk, { kind: 'cancel', orderId: c.orderId }, ctx, c.reason);
    ownEvent(k, record(k, outcome.type, outcome.data as never, 'decision', out) as AnyEnvelope);
    toVenue(k, { kind: 'CancelOrder', orderId: c.orderId, venue: order.venue, instrument: order.instrument }, work, out);
    return;
  }
  const canReplace = lifecycle.decide(order, c.orderId, { kind: 'RequestReplace', priceTicks: c.priceTicks, qtyLots: c.qtyLots });
  if (canReplace instanceof TapedeckError) {
    ownEvent(k, record(k, 'ReplaceRejected', { orderId: c.orderId, reason: `kernel: ${canReplace.message}` }, 'decision', out) as AnyEnvelope);
    return;
  }
  const outcome = risk.decide(k.risk, { kind: 'replace', orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, ctx);
  ownEvent(k, record(k, outcome.type, outcome.data as never, 'decision', out) as AnyEnvelope);
  if (outcome.type === 'ReplaceRequested') {
    toVenue(k, { kind: 'ReplaceOrder', orderId: c.orderId, venue: order.venue, instrument: order.instrument, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, work, out);
  }
}

/**
 * An operator's cancel-all: every working order (of `venue`, or of all venues) without a cancel in
 * flight gets one, in order id sequence, through the same path as a strategy's cancel (risk, record,
 * venue), so a replay of the run cancels the same orders.
 */
function cancelAll(k: KernelState, venue: string | undefined, reason: string, work: Work[]): void {
  const orders = lifecycle.workingOrders(k.orders).filter((o) => !o.cancelRequested && (venue === undefined || o.venue === venue));
  orders.sort((a, b) => (k.orderNumbers.get(a.orderId) ?? 0) - (k.orderNumbers.get(b.orderId) ?? 0));
  for (const o of orders) work.push({ kind: 'command', command: { kind: 'CancelOrder', orderId: o.orderId, reason } });
}

/** The strategy sees its own decisions (evolve only: it decides again on the next input or report). */
function ownEvent(k: KernelState, env: AnyEnvelope): void {
  strategyStep(k, env as unknown as TimedEvent, false);
}

function toVenue(k: KernelState, command: VenueCommand, work: Work[], out: KernelOutput[]): void {
  const s = k.sims.get(command.venue);
  if (s === undefined) {
    if (k.sims.size > 0) throw new TapedeckError('UNKNOWN_VENUE', `no simulated venue "${command.venue}" in this run (configured: ${[...k.sims.keys()].join(', ')})`, { field: 'venue' });
    out.push({ kind: 'command', command });
    return;
  }
  clear(reportBuf);
  sim.step(s, { kind: 'command', command, sentNs: k.cause.eventTimeNs }, reportBuf);
  for (const r of reportBuf) work.push({ kind: 'report', venue: command.venue, report: r });
}

/** A venue report (from a simulated venue here; live reports arrive as inputs through liveReport). */
function onReport(k: KernelState, _venue: string, r: sim.VenueReport, work: Work[], out: KernelOutput[]): void {
  const env = record(k, r.type, r.data as never, 'venue', out, r) as AnyEnvelope;
  if (r.type === 'OrderFilled') k.fills++;
  for (const c of strategyStep(k, env as unknown as TimedEvent, true)) work.push({ kind: 'command', command: c });
}

/**
 * Decision content without run-specific parts, for the decisions hash: order ids become their
 * sequence numbers; the run id, where the cause sits in the log (revision, position in runs recorded
 * before revisions, or number among referenced inputs) and the state hash (strategy state holds order ids)
 * are left out. Parity, which replays under the same run id, compares the full decisions as well.
 */
export function normalizeDecision(type: string, data: Record<string, unknown>, orderNumbers: ReadonlyMap<string, number>): unknown {
  const d: Record<string, unknown> = { ...data };
  if (typeof d.orderId === 'string') d.orderId = `#${orderNumbers.get(d.orderId) ?? d.orderId}`;
  if (d.decision && typeof d.decision === 'object') {
    const { runId: _r, causePosition: _p, causeRevision: _v, causeInput: _i, stateHash: _s, ...rest } = d.decision as Record<string, unknown>;
    d.decision = rest;
  }
  return { type, data: d };
}
