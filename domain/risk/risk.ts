/**
 * Pre-trade risk, a decider: `initialState(config)`, `evolve(state, timedEvent)`, and
 * `check(state, intent, ctx)` (its `decide`, which also names the event to record).
 *
 * Every limit is checked against the WORST CASE: the position if every open order on one side filled
 * (long case: position + open buys; short case: position − open sells). An order is denied when it
 * would take a measure above its limit AND above where it stands now, so orders that reduce risk pass
 * even while a limit is exceeded (after a price move or a config change). Cancels always pass.
 *
 * The kill switch (KillSwitchChanged): ACTIVE — all checks; REDUCING — only orders that reduce a
 * position pass; HALTED — nothing but cancels.
 *
 * Checks run in a fixed order and the first failure is returned; its code is one of the catalogue's
 * riskDenialCode values. Checks cost bigint arithmetic, which is fine: they run per order, not per
 * market event. `evolve` ignores market data (a cheap early return); reference prices come from the
 * kernel's MarketView at check time.
 *
 * State is owned by the kernel and updated in place by `evolve` (which returns it); `check` never
 * mutates.
 */
import type { Decider } from '../core/decider.js';
import { divRound, pow10 } from '../core/fixed.js';
import type { PayloadOf, RiskDenialCode } from '../events/catalog.js';
import type { TimedEvent } from '../events/event.js';
import type { Side } from '../events/primitives.js';
import { referencePriceTicks, type MarketView } from '../market/book.js';
import type { OrderSpec } from '../orders/commands.js';
import { applyFill, newPositionCore, unrealizedPnl, type PositionCore } from '../portfolio/position.js';
import type { InstrumentLimits, RiskConfig } from './config.js';

export type KillSwitchState = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface InstrumentExposure {
  instrument: string;
  venue: string;
  priceScale: number;
  qtyScale: number;
  position: PositionCore;
  /** Leaves of approved, unfinished buy / sell orders. */
  openBuyLots: number;
  openSellLots: number;
  /** Last fill price, the fallback reference when the market view has none. */
  lastPriceTicks: number | null;
  realizedAtDayStart: bigint;
}

export interface RiskOrder extends Pick<OrderSpec, 'venue' | 'instrument' | 'side' | 'orderType' | 'priceTicks' | 'priceScale' | 'qtyScale' | 'reduceOnly'> {
  orderId: string;
  totalLots: number;
  filledLots: number;
  /** New total of a replace that risk approved and the venue has not confirmed or refused. */
  pendingTotalLots: number | null;
  /** Lots this order currently counts in openBuyLots/openSellLots. */
  countedLots: number;
}

export interface RiskState {
  config: RiskConfig;
  killSwitch: KillSwitchState;
  killSwitchReason: string;
  /** Kill switches set for one venue (KillSwitchChanged with `venue`); the stricter of it and the global one applies. */
  venueKillSwitch: Map<string, { state: KillSwitchState; reason: string }>;
  exposures: Map<string, InstrumentExposure>;
  /** Intended orders awaiting the risk decision. */
  intents: Map<string, RiskOrder>;
  /** Approved orders that can still fill. */
  open: Map<string, RiskOrder>;
  /** Event times of approved orders and replaces inside the rate window, oldest first (bounded by maxOrders). */
  rateTimesNs: bigint[];
  /** Trading day number of the last timed event (null before the first). */
  dayIndex: bigint | null;
  /** Fees paid, at config.moneyScale (rounded up). */
  feesTotal: bigint;
  feesAtDayStart: bigint;
  /** Tick and lot grids per instrument, from InstrumentDefined (checked when config.instrumentRules). */
  rules: Map<string, { tickSizeTicks: number; lotSizeLots: number; priceScale: number; qtyScale: number }>;
}

export function initialState(config: RiskConfig): RiskState {
  return {
    config, killSwitch: 'ACTIVE', killSwitchReason: '', venueKillSwitch: new Map(), exposures: new Map(), intents: new Map(), open: new Map(),
    rateTimesNs: [], dayIndex: null, feesTotal: 0n, feesAtDayStart: 0n, rules: new Map(),
  };
}

const DAY_NS = 86_400_000_000_000n;

function dayOf(config: RiskConfig, tNs: bigint): bigint {
  const t = tNs - config.dayStartOffsetNs;
  const d = t / DAY_NS;
  return t < 0n && d * DAY_NS !== t ? d - 1n : d;
}

/** A mantissa at `scale` expressed at the money scale; magnitude rounded up (conservative for limits). */
function toMoney(m: bigint, scale: number, moneyScale: number): bigint {
  if (scale <= moneyScale) return m * pow10(moneyScale - scale);
  const neg = m < 0n;
  const r = divRound(neg ? -m : m, pow10(scale - moneyScale), 'ceil');
  return neg ? -r : r;
}

function notional(lots: number, ticks: number, ps: number, qs: number, moneyScale: number): bigint {
  return toMoney(BigInt(lots) * BigInt(ticks), ps + qs, moneyScale);
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function exposureOf(state: RiskState, o: { instrument: string; venue: string; priceScale: number; qtyScale: number }): InstrumentExposure {
  let e = state.exposures.get(o.instrument);
  if (e === undefined) {
    e = {
      instrument: o.instrument, venue: o.venue, priceScale: o.priceScale, qtyScale: o.qtyScale,
      position: newPositionCore(o.priceScale, o.qtyScale), openBuyLots: 0, openSellLots: 0,
      lastPriceTicks: null, realizedAtDayStart: 0n,
    };
    state.exposures.set(o.instrument, e);
  }
  return e;
}

function leavesOf(o: RiskOrder): number {
  const total = o.pendingTotalLots === null ? o.totalLots : Math.max(o.totalLots, o.pendingTotalLots);
  return Math.max(0, total - o.filledLots);
}

/** Re-counts an open order's worst-case contribution after any change to it. */
function recount(state: RiskState, o: RiskOrder): void {
  const e = exposureOf(state, o);
  const now = leavesOf(o);
  const delta = now - o.countedLots;
  if (o.side === 'buy') e.openBuyLots += delta;
  else e.openSellLots += delta;
  o.countedLots = now;
}

function closeOrder(state: RiskState, orderId: string): void {
  const o = state.open.get(orderId);
  if (o === undefined) return;
  o.filledLots = o.totalLots;
  o.pendingTotalLots = null;
  recount(state, o);
  state.open.delete(orderId);
}

function rollDay(state: RiskState, tNs: bigint): void {
  const d = dayOf(state.config, tNs);
  if (state.dayIndex !== null && d <= state.dayIndex) return;
  state.dayIndex = d;
  state.feesAtDayStart = state.feesTotal;
  for (const e of state.exposures.values()) e.realizedAtDayStart = e.position.realizedPnl;
}

function pushRate(state: RiskState, tNs: bigint): void {
  const rate = state.config.orderRate;
  if (rate === null) return;
  const times = state.rateTimesNs;
  times.push(tNs);
  const from = tNs - rate.windowNs;
  let drop = 0;
  while (drop < times.length && times[drop]! <= from) drop++;
  // Bound: never keep more than the window can allow (approvals stop at maxOrders).
  drop = Math.max(drop, times.length - rate.maxOrders);
  if (drop > 0) times.splice(0, drop);
}

/** Applies an event, in place. Market data and unrelated events return at once. */
export function evolve(state: RiskState, event: TimedEvent): RiskState {
  switch (event.type) {
    case 'InstrumentDefined': {
      const d = event.data;
      state.rules.set(d.instrument, { tickSizeTicks: d.tickSizeTicks, lotSizeLots: d.lotSizeLots, priceScale: d.priceScale, qtyScale: d.qtyScale });
      return state;
    }
    case 'OrderIntended': {
      const d = event.data;
      state.intents.set(d.orderId, {
        orderId: d.orderId, venue: d.venue, instrument: d.instrument, side: d.side, orderType: d.orderType,
        priceTicks: d.priceTicks, priceScale: d.priceScale, qtyScale: d.qtyScale, totalLots: d.qtyLots,
        filledLots: 0, pendingTotalLots: null, reduceOnly: d.reduceOnly, countedLots: 0,
      });
      return state;
    }
    case 'RiskApproved': {
      const o = state.intents.get(event.data.orderId);
      if (o === undefined) return state;
      state.intents.delete(o.orderId);
      state.open.set(o.orderId, o);
      recount(state, o);
      if (o.priceTicks !== null) exposureOf(state, o).lastPriceTicks ??= o.priceTicks;
      pushRate(state, event.eventTimeNs);
      return state;
    }
    case 'RiskDenied':
      state.intents.delete(event.data.orderId);
      return state;
    case 'ReplaceRequested': {
      const o = state.open.get(event.data.orderId);
      if (o === undefined) return state;
      o.pendingTotalLots = event.data.qtyLots;
      o.priceTicks = event.data.priceTicks;
      recount(state, o);
      pushRate(state, event.eventTimeNs);
      return state;
    }
    case 'OrderReplaced': {
      const o = state.open.get(event.data.orderId);
      if (o === undefined) return state;
      o.totalLots = event.data.qtyLots;
      o.priceTicks = event.data.priceTicks;
      o.pendingTotalLots = null;
      recount(state, o);
      return state;
    }
    case 'ReplaceRejected': {
      const o = state.open.get(event.data.orderId);
      if (o === undefined) return state;
      o.pendingTotalLots = null;
      recount(state, o);
      return state;
    }
    case 'OrderFilled': {
      const d = event.data;
      rollDay(state, event.eventTimeNs);
      const e = exposureOf(state, d);
      applyFill(e.position, d.side, d.qtyLots, d.priceTicks);
      e.lastPriceTicks = d.priceTicks;
      state.feesTotal += toMoney(BigInt(d.fee), d.feeScale, state.config.moneyScale);
      const o = state.open.get(d.orderId);
      if (o !== undefined) {
        o.filledLots += d.qtyLots;
        recount(state, o);
        if (d.leavesLots === 0) closeOrder(state, d.orderId);
      }
      return state;
    }
    case 'OrderCanceled':
    case 'OrderExpired':
    case 'OrderRejected':
      closeOrder(state, event.data.orderId);
      state.intents.delete(event.data.orderId);
      return state;
    case 'KillSwitchChanged':
      if (event.data.venue !== undefined) {
        if (event.data.state === 'ACTIVE') state.venueKillSwitch.delete(event.data.venue);
        else state.venueKillSwitch.set(event.data.venue, { state: event.data.state, reason: event.data.reason });
        return state;
      }
      state.killSwitch = event.data.state;
      state.killSwitchReason = event.data.reason;
      return state;
    case 'TimerFired':
      rollDay(state, event.eventTimeNs);
      return state;
    default:
      return state;
  }
}

// ---------- check ----------

/** What risk needs of a new order: its spec, less the fields that do not bear on risk. */
export type PlaceOrderFacts = Omit<OrderSpec, 'timeInForce' | 'postOnly'> & { orderId: string };

export type RiskIntent =
  | { kind: 'place'; order: PlaceOrderFacts }
  | { kind: 'replace'; orderId: string; priceTicks: number | null; qtyLots: number }
  | { kind: 'cancel'; orderId: string };

export interface RiskContext {
  /** Event time of the decision (the event the strategy reacted to), ns. */
  eventTimeNs: bigint;
  market: MarketView;
}

export type RiskDecision =
  | { approved: true; checks: string[] }
  | { approved: false; code: RiskDenialCode; detail: string };

function deny(code: RiskDenialCode, detail: string): RiskDecision {
  return { approved: false, code, detail };
}

export function limitsFor(config: RiskConfig, instrument: string): InstrumentLimits {
  return config.instruments.get(instrument) ?? config.defaults;
}

interface Totals {
  gross: bigint;
  netLong: bigint;
  netShort: bigint;
  venueGross: bigint;
}

/**
 * Worst-case exposure totals at money scale, with `extra` lots added on one side of one instrument
 * (`extra` 0 gives the current totals).
 */
function exposureTotals(
  state: RiskState, market: MarketView, venue: string,
  target: { instrument: string; venue: string; priceScale: number; qtyScale: number; side: Side; fallbackTicks: number | null },
  extra: number,
): Totals | string {
  const ms = state.config.moneyScale;
  let gross = 0n, netLong = 0n, netShort = 0n, venueGross = 0n;
  let sawTarget = false;
  const add = (instrument: string, v: string, pos: number, openBuy: number, openSell: number, px: number | null, ps: number, qs: number): string | null => {
    const long = pos + openBuy;
    const short = pos - openSell;
    if (long === 0 && short === 0) return null;
    if (px === null) return instrument;
    const L = notional(long, px, ps, qs, ms);
    const S = notional(short, px, ps, qs, ms);
    const g = abs(L) > abs(S) ? abs(L) : abs(S);
    gross += g;
    netLong += L;
    netShort += S;
    if (v === venue) venueGross += g;
    return null;
  };
  for (const e of state.exposures.values()) {
    let ob = e.openBuyLots, os = e.openSellLots;
    let fallback = e.lastPriceTicks;
    if (e.instrument === target.instrument) {
      sawTarget = true;
      if (target.side === 'buy') ob += extra;
      else os += extra;
      fallback ??= target.fallbackTicks;
    }
    const px = referencePriceTicks(market, e.instrument) ?? fallback;
    const missing = add(e.instrument, e.venue, e.position.qtyLots, ob, os, px, e.priceScale, e.qtyScale);
    if (missing !== null) return missing;
  }
  if (!sawTarget && extra !== 0) {
    const px = referencePriceTicks(market, target.instrument) ?? target.fallbackTicks;
    const missing = add(target.instrument, target.venue, 0, target.side === 'buy' ? extra : 0, target.side === 'sell' ? extra : 0, px, target.priceScale, target.qtyScale);
    if (missing !== null) return missing;
  }
  return { gross, netLong, netShort, venueGross };
}

function netOf(t: Totals): bigint {
  return abs(t.netLong) > abs(t.netShort) ? abs(t.netLong) : abs(t.netShort);
}

/** Daily P&L at money scale: realized today + unrealized now − fees today. */
export function dailyPnl(state: RiskState, market: MarketView, eventTimeNs: bigint): bigint {
  const ms = state.config.moneyScale;
  const sameDay = state.dayIndex !== null && dayOf(state.config, eventTimeNs) === state.dayIndex;
  let pnl = 0n;
  for (const e of state.exposures.values()) {
    const sc = e.priceScale + e.qtyScale;
    if (sameDay) pnl += toMoney(e.position.realizedPnl - e.realizedAtDayStart, sc, ms);
    if (e.position.qtyLots !== 0) {
      const px = referencePriceTicks(market, e.instrument) ?? e.lastPriceTicks;
      if (px !== null) pnl += toMoney(unrealizedPnl(e.position, px), sc, ms);
    }
  }
  if (sameDay) pnl -= state.feesTotal - state.feesAtDayStart;
  return pnl;
}

/**
 * The pre-trade check. Pure: reads state and the market view, mutates nothing. The first failing
 * check is returned; on success, the names of the checks that ran.
 */
export function check(state: RiskState, intent: RiskIntent, ctx: RiskContext): RiskDecision {
  if (intent.kind === 'cancel') return { approved: true, checks: ['CANCEL'] };
  const cfg = state.config;
  const checks: string[] = ['KILL_SWITCH'];

  // Normalize place and replace into one shape: the order after the change and its worst-case delta.
  let o: PlaceOrderFacts;
  let addLots: number;
  let shrinkOnly = false;
  if (intent.kind === 'place') {
    o = intent.order;
    addLots = o.qtyLots;
  } else {
    const cur = state.open.get(intent.orderId);
    if (cur === undefined) return deny('INVALID_ORDER', `replace: order ${intent.orderId} is not an open order`);
    if (cur.pendingTotalLots !== null) return deny('INVALID_ORDER', `replace: order ${intent.orderId} already has a replace in flight`);
    if (!Number.isSafeInteger(intent.qtyLots) || intent.qtyLots <= cur.filledLots) {
      return deny('INVALID_ORDER', `replace: new total ${intent.qtyLots} lots must exceed the ${cur.filledLots} lots filled`);
    }
    o = {
      orderId: cur.orderId, venue: cur.venue, instrument: cur.instrument, side: cur.side, orderType: cur.orderType,
      priceTicks: intent.priceTicks, qtyLots: intent.qtyLots, priceScale: cur.priceScale, qtyScale: cur.qtyScale,
      reduceOnly: cur.reduceOnly,
    };
    addLots = Math.max(0, intent.qtyLots - cur.filledLots) - cur.countedLots;
    shrinkOnly = addLots <= 0 && intent.priceTicks === cur.priceTicks;
  }

  const e = state.exposures.get(o.instrument);
  const pos = e?.position.qtyLots ?? 0;
  const sameSideOpen = e === undefined ? 0 : o.side === 'buy' ? e.openBuyLots : e.openSellLots;
  const reducing = (o.side === 'sell' ? pos > 0 : pos < 0) && sameSideOpen + addLots <= Math.abs(pos);
  const lowersRisk = reducing || shrinkOnly;

  const ks = effectiveKillSwitch(state, o.venue);
  if (ks.state === 'HALTED') return deny('KILL_SWITCH', `kill switch HALTED${ks.scope}${ks.reason ? ` (${ks.reason})` : ''}: only cancels pass`);
  if (ks.state === 'REDUCING' && !lowersRisk) {
    return deny('KILL_SWITCH', `kill switch REDUCING${ks.scope}: ${o.side} ${o.qtyLots} lots of ${o.instrument} does not reduce the ${pos}-lot position`);
  }

  checks.push('INVALID_ORDER');
  if (!Number.isSafeInteger(o.qtyLots) || o.qtyLots <= 0) return deny('INVALID_ORDER', `quantity ${o.qtyLots} lots is not a positive integer`);
  if (o.orderType === 'limit' && (o.priceTicks === null || !Number.isSafeInteger(o.priceTicks))) return deny('INVALID_ORDER', 'a limit order needs an integer price in ticks');
  if (o.orderType === 'market' && o.priceTicks !== null) return deny('INVALID_ORDER', 'a market order has no price');
  if (e !== undefined && (e.priceScale !== o.priceScale || e.qtyScale !== o.qtyScale)) {
    return deny('INVALID_ORDER', `scales ${o.priceScale}/${o.qtyScale} differ from ${e.priceScale}/${e.qtyScale} already used for ${o.instrument}`);
  }

  if (cfg.instrumentRules) {
    const r = state.rules.get(o.instrument);
    if (r !== undefined && r.priceScale === o.priceScale && r.qtyScale === o.qtyScale) {
      if (o.priceTicks !== null && o.priceTicks % r.tickSizeTicks !== 0) return deny('INVALID_ORDER', `price ${o.priceTicks} ticks is off ${o.instrument}'s tick of ${r.tickSizeTicks}`);
      if (o.qtyLots % r.lotSizeLots !== 0) return deny('INVALID_ORDER', `quantity ${o.qtyLots} lots is off ${o.instrument}'s lot of ${r.lotSizeLots}`);
    }
  }

  checks.push('UNKNOWN_INSTRUMENT');
  if (!cfg.allowUnknownInstruments && !cfg.instruments.has(o.instrument)) {
    return deny('UNKNOWN_INSTRUMENT', `${o.instrument} has no risk limits configured (risk.instruments)`);
  }
  const lim = limitsFor(cfg, o.instrument);

  checks.push('REDUCE_ONLY');
  if (o.reduceOnly && !lowersRisk) {
    return deny('REDUCE_ONLY', `reduce-only ${o.side} of ${o.qtyLots} lots would not reduce the ${pos}-lot position (${sameSideOpen} lots already working on that side)`);
  }

  if (lim.maxOrderQtyLots !== null) {
    checks.push('MAX_ORDER_QTY');
    if (o.qtyLots > lim.maxOrderQtyLots) return deny('MAX_ORDER_QTY', `${o.qtyLots} lots exceeds the ${lim.maxOrderQtyLots}-lot limit for ${o.instrument}`);
  }

  const ref = referencePriceTicks(ctx.market, o.instrument);
  if (lim.collarBps !== null && o.priceTicks !== null) {
    checks.push('PRICE_COLLAR');
    if (ref === null) return deny('NO_REFERENCE_PRICE', `no reference price for ${o.instrument} to check the ${lim.collarBps} bps collar`);
    const diff = BigInt(Math.abs(o.priceTicks - ref)) * 10_000n;
    const band = BigInt(Math.abs(ref)) * BigInt(lim.collarBps);
    if (diff > band) return deny('PRICE_COLLAR', `price ${o.priceTicks} is more than ${lim.collarBps} bps from the reference ${ref} (ticks)`);
  }

  const px = o.priceTicks ?? ref ?? e?.lastPriceTicks ?? null;
  if (lim.maxOrderNotional !== null) {
    checks.push('MAX_ORDER_NOTIONAL');
    if (px === null) return deny('NO_REFERENCE_PRICE', `no reference price for ${o.instrument} to value a market order`);
    const n = abs(notional(o.qtyLots, px, o.priceScale, o.qtyScale, cfg.moneyScale));
    if (n > lim.maxOrderNotional) return deny('MAX_ORDER_NOTIONAL', `notional ${n} exceeds ${lim.maxOrderNotional} (money scale ${cfg.moneyScale})`);
  }

  if (cfg.orderRate !== null && !shrinkOnly) {
    checks.push('ORDER_RATE');
    const from = ctx.eventTimeNs - cfg.orderRate.windowNs;
    let n = 0;
    for (const t of state.rateTimesNs) if (t > from && t <= ctx.eventTimeNs) n++;
    if (n >= cfg.orderRate.maxOrders) return deny('ORDER_RATE', `${n} orders in the last ${cfg.orderRate.windowNs} ns reach the limit of ${cfg.orderRate.maxOrders}`);
  }

  if (cfg.maxOpenOrders !== null && intent.kind === 'place') {
    checks.push('MAX_OPEN_ORDERS');
    if (state.open.size >= cfg.maxOpenOrders) return deny('MAX_OPEN_ORDERS', `${state.open.size} open orders reach the limit of ${cfg.maxOpenOrders}`);
  }

  if (lim.maxPositionLots !== null && addLots > 0) {
    checks.push('POSITION_LIMIT');
    const ob = e?.openBuyLots ?? 0, os = e?.openSellLots ?? 0;
    const before = Math.max(Math.abs(pos + ob), Math.abs(pos - os));
    const after = o.side === 'buy' ? Math.max(Math.abs(pos + ob + addLots), Math.abs(pos - os)) : Math.max(Math.abs(pos + ob), Math.abs(pos - os - addLots));
    if (after > lim.maxPositionLots && after > before) {
      return deny('POSITION_LIMIT', `worst-case position ${after} lots would exceed the ${lim.maxPositionLots}-lot limit for ${o.instrument}`);
    }
  }

  const venueLimit = cfg.venueMaxGrossNotional.get(o.venue) ?? null;
  if ((venueLimit !== null || cfg.maxGrossExposure !== null || cfg.maxNetExposure !== null) && addLots > 0) {
    const target = { ...o, fallbackTicks: px };
    const before = exposureTotals(state, ctx.market, o.venue, target, 0);
    const after = exposureTotals(state, ctx.market, o.venue, target, addLots);
    if (typeof before === 'string' || typeof after === 'string') {
      return deny('NO_REFERENCE_PRICE', `no price to value the exposure in ${typeof before === 'string' ? before : after}`);
    }
    if (venueLimit !== null) {
      checks.push('VENUE_POSITION_LIMIT');
      if (after.venueGross > venueLimit && after.venueGross > before.venueGross) {
        return deny('VENUE_POSITION_LIMIT', `gross notional at ${o.venue} would be ${after.venueGross}, above ${venueLimit} (money scale ${cfg.moneyScale})`);
      }
    }
    if (cfg.maxGrossExposure !== null) {
      checks.push('GROSS_EXPOSURE');
      if (after.gross > cfg.maxGrossExposure && after.gross > before.gross) {
        return deny('GROSS_EXPOSURE', `gross exposure would be ${after.gross}, above ${cfg.maxGrossExposure} (money scale ${cfg.moneyScale})`);
      }
    }
    if (cfg.maxNetExposure !== null) {
      checks.push('NET_EXPOSURE');
      const nb = netOf(before), na = netOf(after);
      if (na > cfg.maxNetExposure && na > nb) {
        return deny('NET_EXPOSURE', `net exposure would be ${na}, above ${cfg.maxNetExposure} (money scale ${cfg.moneyScale})`);
      }
    }
  }

  if (cfg.maxDailyLoss !== null) {
    checks.push('DAILY_LOSS');
    if (!lowersRisk) {
      const pnl = dailyPnl(state, ctx.market, ctx.eventTimeNs);
      if (pnl <= -cfg.maxDailyLoss) return deny('DAILY_LOSS', `daily P&L ${pnl} has reached the loss limit ${cfg.maxDailyLoss} (money scale ${cfg.moneyScale}); only reducing orders pass`);
    }
  }
  return { approved: true, checks };
}

/** The event the kernel records for a risk decision. */
export type RiskOutcome =
  | { type: 'RiskApproved'; data: PayloadOf<'RiskApproved'> }
  | { type: 'RiskDenied'; data: PayloadOf<'RiskDenied'> }
  | { type: 'CancelRequested'; data: PayloadOf<'CancelRequested'> }
  | { type: 'ReplaceRequested'; data: PayloadOf<'ReplaceRequested'> }
  | { type: 'ReplaceRejected'; data: PayloadOf<'ReplaceRejected'> };

/**
 * decide: runs `check` and names the event to record. A place becomes RiskApproved or RiskDenied;
 * a replace becomes ReplaceRequested or ReplaceRejected (with the denial code); a cancel becomes
 * CancelRequested.
 */
export function decide(state: RiskState, intent: RiskIntent, ctx: RiskContext, reason?: string): RiskOutcome {
  const r = check(state, intent, ctx);
  switch (intent.kind) {
    case 'cancel':
      return { type: 'CancelRequested', data: { orderId: intent.orderId, ...(reason !== undefined ? { reason } : {}) } };
    case 'replace':
      return r.approved
        ? { type: 'ReplaceRequested', data: { orderId: intent.orderId, priceTicks: intent.priceTicks, qtyLots: intent.qtyLots } }
        : { type: 'ReplaceRejected', data: { orderId: intent.orderId, reason: r.detail, code: r.code } };
    case 'place':
      return r.approved
        ? { type: 'RiskApproved', data: { orderId: intent.order.orderId, checks: r.checks } }
        : { type: 'RiskDenied', data: { orderId: intent.order.orderId, code: r.code, detail: r.detail } };
  }
}

/** Worst-case position (max of long and short case) in lots, for reports and tests. */
export function worstCasePositionLots(state: RiskState, instrument: string): number {
  const e = state.exposures.get(instrument);
  if (e === undefined) return 0;
  const p = e.position.qtyLots;
  return Math.max(Math.abs(p + e.openBuyLots), Math.abs(p - e.openSellLots));
}

/** Current worst-case exposure totals (gross, net) at money scale, or null when a price is missing. */
export function exposure(state: RiskState, market: MarketView): { gross: bigint; net: bigint } | null {
  const t = exposureTotals(state, market, '', { instrument: '', venue: '', priceScale: 0, qtyScale: 0, side: 'buy', fallbackTicks: null }, 0);
  if (typeof t === 'string') return null;
  return { gross: t.gross, net: netOf(t) };
}

/** What risk is asked: an intent, at a time, against the market (and a cancel's reason). */
export interface RiskRequest {
  intent: RiskIntent;
  ctx: RiskContext;
  reason?: string;
}

/**
 * Risk as a Decider (domain/core/decider.ts): evolve with order events, fills, the kill switch and
 * timers; decide a request into the one event the kernel records (RiskApproved / RiskDenied,
 * ReplaceRequested / ReplaceRejected, CancelRequested).
 */
export function riskDecider(config: RiskConfig): Decider<RiskState, TimedEvent, RiskRequest, RiskOutcome> {
  return {
    initialState: () => initialState(config),
    evolve,
    decide: (state, r) => [decide(state, r.intent, r.ctx, r.reason)],
  };
}

const KILL_SEVERITY: Record<KillSwitchState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** The stricter of the global kill switch and the venue's own. */
export function effectiveKillSwitch(state: RiskState, venue: string): { state: KillSwitchState; reason: string; scope: string } {
  const v = state.venueKillSwitch.get(venue);
  if (v !== undefined && KILL_SEVERITY[v.state] > KILL_SEVERITY[state.killSwitch]) return { state: v.state, reason: v.reason, scope: ` for ${venue}` };
  return { state: state.killSwitch, reason: state.killSwitchReason, scope: '' };
}
