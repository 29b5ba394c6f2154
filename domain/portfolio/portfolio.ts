/**
 * The portfolio: positions per (strategy, venue, instrument) with average cost and realized P&L,
 * cash per (venue, currency), fees and rebates, and marks for unrealized P&L. A projection of the log:
 * `evolve` only, no decisions (risk reads it; the kernel reports it).
 *
 * Driven by: OrderIntended (which strategy owns an order), OrderFilled (positions, cash, fees),
 * InstrumentDefined (quote and base currency), BalanceReported (the venue's word on a balance replaces
 * ours), QuoteUpdated / TradeReported (marks, for instruments we hold). For L2/L3 feeds the kernel calls
 * `markFromMarket` when it wants a valuation, instead of paying for marks on every book delta.
 *
 * State is owned by the kernel and updated in place; `evolve` returns the same object.
 */
import type { DomainEvent } from '../events/event.js';
import { bestPrice, referencePriceTicks, type MarketView } from '../market/book.js';
import { addMoney, applyFill, newPositionCore, unrealizedPnl, type Money, type PositionCore } from './position.js';

export interface Position extends PositionCore {
  strategyId: string;
  venue: string;
  instrument: string;
  quoteCurrency: string;
  boughtLots: number;
  soldLots: number;
  fillCount: number;
  /** Fees paid on this position's fills by currency (negative for net rebates). */
  fees: Map<string, Money>;
}

export interface CashBalance {
  venue: string;
  currency: string;
  /** Our running balance: the last reported total plus every fill since. */
  total: Money;
  /** Last `available` the venue reported, if any. */
  reportedAvailable: Money | null;
}

export interface InstrumentInfo {
  quoteCurrency: string;
  /** Set for spot instruments, whose fills also move a base-currency balance. */
  baseCurrency: string | null;
}

export interface PortfolioConfig {
  /** Instruments known up front (InstrumentDefined events add to or override these). */
  instruments?: Record<string, { quoteCurrency: string; baseCurrency?: string | null }>;
}

export interface PortfolioState {
  positions: Map<string, Position>;
  cash: Map<string, CashBalance>;
  /** Total fees by venue|currency. */
  fees: Map<string, Money>;
  instruments: Map<string, InstrumentInfo>;
  /** Order id → strategy id for orders still able to fill. */
  orderStrategy: Map<string, string>;
  /** Mark price in ticks for instruments we have traded. */
  marks: Map<string, number>;
  /** Outcome tokens of binary markets (OutcomeMarketDefined): instrument → its market and complement. */
  outcomes: Map<string, OutcomeLink>;
  /**
   * What each recent fill booked, by fill id, so a FillReversed takes back exactly that (bounded: the
   * oldest is forgotten past REVERSIBLE_FILLS_MAX; a reversal of a forgotten fill books the opposite fill).
   */
  reversible: Map<string, BookedFill>;
}

export interface OutcomeLink {
  venue: string;
  market: string;
  complement: string;
  outcome: 'YES' | 'NO';
  /** The price of a complete set (1 at the instruments' price scale). */
  payoutTicks: number;
  priceScale: number;
}

/** What one fill changed, to be taken back exactly by FillReversed. */
export interface BookedFill {
  key: string;
  qtyLots: number;
  costBasis: bigint;
  realizedPnl: bigint;
  side: 'buy' | 'sell';
}

/** How many fills stay reversible (a venue reverses within minutes: Polymarket's on-chain settlement). */
export const REVERSIBLE_FILLS_MAX = 10_000;

/** Strategy id used for fills of orders whose intent the portfolio never saw (e.g. manual trades). */
export const UNATTRIBUTED = 'unattributed';

export function positionKey(strategyId: string, venue: string, instrument: string): string {
  return `${strategyId}|${venue}|${instrument}`;
}

/** Currency name used when an instrument's quote currency is unknown (no InstrumentDefined, no config). */
export function unknownQuoteCurrency(instrument: string): string {
  return `${instrument}/quote`;
}

export function initialState(config: PortfolioConfig = {}): PortfolioState {
  const instruments = new Map<string, InstrumentInfo>();
  for (const [id, info] of Object.entries(config.instruments ?? {})) {
    instruments.set(id, { quoteCurrency: info.quoteCurrency, baseCurrency: info.baseCurrency ?? null });
  }
  return { positions: new Map(), cash: new Map(), fees: new Map(), instruments, orderStrategy: new Map(), marks: new Map(), outcomes: new Map(), reversible: new Map() };
}

function cashOf(state: PortfolioState, venue: string, currency: string): CashBalance {
  const key = `${venue}|${currency}`;
  let c = state.cash.get(key);
  if (c === undefined) {
    c = { venue, currency, total: { amount: 0n, scale: 0 }, reportedAvailable: null };
    state.cash.set(key, c);
  }
  return c;
}

function moneyIn(map: Map<string, Money>, key: string): Money {
  let m = map.get(key);
  if (m === undefined) {
    m = { amount: 0n, scale: 0 };
    map.set(key, m);
  }
  return m;
}

export function evolve(state: PortfolioState, event: DomainEvent): PortfolioState {
  switch (event.type) {
    case 'QuoteUpdated': {
      const d = event.data;
      if (!state.marks.has(d.instrument)) return state;
      if (d.bidPriceTicks !== null && d.askPriceTicks !== null) state.marks.set(d.instrument, Math.floor((d.bidPriceTicks + d.askPriceTicks) / 2));
      return state;
    }
    case 'TradeReported': {
      const d = event.data;
      if (state.marks.has(d.instrument)) state.marks.set(d.instrument, d.priceTicks);
      return state;
    }
    case 'InstrumentDefined': {
      const d = event.data;
      state.instruments.set(d.instrument, {
        quoteCurrency: d.quoteCurrency,
        baseCurrency: d.kind === 'spot' ? (d.baseCurrency ?? null) : null,
      });
      return state;
    }
    case 'OrderIntended':
      state.orderStrategy.set(event.data.orderId, event.data.decision.strategyId);
      return state;
    case 'RiskDenied':
    case 'OrderRejected':
    case 'OrderCanceled':
    case 'OrderExpired':
      state.orderStrategy.delete(event.data.orderId);
      return state;
    case 'OrderFilled':
      applyOrderFilled(state, event.data);
      return state;
    case 'FillReversed':
      reverseFill(state, event.data);
      return state;
    case 'OutcomeMarketDefined': {
      const d = event.data;
      state.outcomes.set(d.yes, { venue: d.venue, market: d.market, complement: d.no, outcome: 'YES', payoutTicks: d.payoutTicks, priceScale: d.priceScale });
      state.outcomes.set(d.no, { venue: d.venue, market: d.market, complement: d.yes, outcome: 'NO', payoutTicks: d.payoutTicks, priceScale: d.priceScale });
      return state;
    }
    case 'MarketResolved':
      settleMarket(state, event.data);
      return state;
    case 'BalanceReported': {
      const d = event.data;
      const c = cashOf(state, d.venue, d.currency);
      const total = BigInt(d.total);
      const available = BigInt(d.available);
      // The venue's figure replaces ours; keep the finer of the two scales so later fills stay exact.
      const sc = Math.max(c.total.scale, d.scale);
      c.total = { amount: 0n, scale: sc };
      addMoney(c.total, total, d.scale);
      c.reportedAvailable = { amount: available, scale: d.scale };
      return state;
    }
    default:
      return state;
  }
}

export interface FillFacts {
  orderId: string;
  venue: string;
  instrument: string;
  side: 'buy' | 'sell';
  priceTicks: number;
  qtyLots: number;
  priceScale: number;
  qtyScale: number;
  fee: bigint | string;
  feeScale: number;
  feeCurrency: string;
  leavesLots: number;
}

function applyOrderFilled(state: PortfolioState, d: FillFacts & { fillId?: string }): void {
  const strategyId = state.orderStrategy.get(d.orderId) ?? UNATTRIBUTED;
  if (d.leavesLots === 0) state.orderStrategy.delete(d.orderId);
  const p = positionFor(state, strategyId, d.venue, d.instrument, d.priceScale, d.qtyScale);
  const before = { qtyLots: p.qtyLots, costBasis: p.costBasis, realizedPnl: p.realizedPnl };
  bookTrade(state, p, d.side, d.qtyLots, d.priceTicks);
  if (d.fillId !== undefined) {
    if (state.reversible.size >= REVERSIBLE_FILLS_MAX) state.reversible.delete(state.reversible.keys().next().value!);
    state.reversible.set(d.fillId, {
      key: positionKey(strategyId, d.venue, d.instrument), side: d.side, qtyLots: p.qtyLots - before.qtyLots,
      costBasis: p.costBasis - before.costBasis, realizedPnl: p.realizedPnl - before.realizedPnl,
    });
  }
  if (d.side === 'buy') p.boughtLots += d.qtyLots;
  else p.soldLots += d.qtyLots;
  p.fillCount++;
  const fee = BigInt(d.fee);
  addMoney(moneyIn(p.fees, d.feeCurrency), fee, d.feeScale);
  addMoney(moneyIn(state.fees, `${d.venue}|${d.feeCurrency}`), fee, d.feeScale);
  addMoney(cashOf(state, d.venue, d.feeCurrency).total, -fee, d.feeScale);
  if (!state.marks.has(d.instrument)) state.marks.set(d.instrument, d.priceTicks);
  mergeCompleteSets(state, p);
}

function positionFor(state: PortfolioState, strategyId: string, venue: string, instrument: string, priceScale: number, qtyScale: number): Position {
  const key = positionKey(strategyId, venue, instrument);
  let p = state.positions.get(key);
  if (p === undefined || p.priceScale !== priceScale || p.qtyScale !== qtyScale) {
    // A position is kept at one scale; a scale change with an open position would be a data error upstream.
    const quote = state.instruments.get(instrument)?.quoteCurrency ?? unknownQuoteCurrency(instrument);
    p = {
      ...newPositionCore(priceScale, qtyScale), strategyId, venue, instrument,
      quoteCurrency: quote, boughtLots: 0, soldLots: 0, fillCount: 0, fees: new Map(),
    };
    state.positions.set(key, p);
  }
  return p;
}

/** Position and cash of one trade (a fill, a complete set merged, a settlement): exact. */
function bookTrade(state: PortfolioState, p: Position, side: 'buy' | 'sell', qtyLots: number, priceTicks: number): void {
  applyFill(p, side, qtyLots, priceTicks);
  // Cash: pay price × qty for a buy, receive it for a sell.
  const s = side === 'buy' ? 1n : -1n;
  const info = state.instruments.get(p.instrument);
  addMoney(cashOf(state, p.venue, p.quoteCurrency).total, -s * BigInt(priceTicks) * BigInt(qtyLots), p.priceScale + p.qtyScale);
  if (info?.baseCurrency) addMoney(cashOf(state, p.venue, info.baseCurrency).total, s * BigInt(qtyLots), p.qtyScale);
}

/**
 * YES and NO held together are complete sets, worth the payout whatever the outcome: they net. The
 * sets leave both positions as sales whose prices add up to the payout: the NO leg at its average
 * cost (rounded down to a tick), the YES leg at the rest, so the set's P&L (payout − both costs) is
 * realized exactly, on the YES leg but for the NO leg's rounding.
 */
function mergeCompleteSets(state: PortfolioState, p: Position): void {
  const link = state.outcomes.get(p.instrument);
  if (link === undefined || link.priceScale !== p.priceScale || p.qtyLots <= 0) return;
  const other = state.positions.get(positionKey(p.strategyId, p.venue, link.complement));
  if (other === undefined || other.qtyLots <= 0 || other.qtyScale !== p.qtyScale || other.priceScale !== p.priceScale) return;
  const sets = Math.min(p.qtyLots, other.qtyLots);
  const yes = link.outcome === 'YES' ? p : other;
  const no = link.outcome === 'YES' ? other : p;
  const noAvg = no.costBasis / BigInt(no.qtyLots);
  const noPrice = noAvg < 0n ? 0 : noAvg > BigInt(link.payoutTicks) ? link.payoutTicks : Number(noAvg);
  bookTrade(state, no, 'sell', sets, noPrice);
  bookTrade(state, yes, 'sell', sets, link.payoutTicks - noPrice);
}

function reverseFill(state: PortfolioState, d: Omit<FillFacts, 'leavesLots'> & { fillId: string }): void {
  const booked = state.reversible.get(d.fillId);
  const fee = BigInt(d.fee);
  const p = booked === undefined ? undefined : state.positions.get(booked.key);
  if (booked !== undefined && p !== undefined) {
    state.reversible.delete(d.fillId);
    p.qtyLots -= booked.qtyLots;
    p.costBasis -= booked.costBasis;
    p.realizedPnl -= booked.realizedPnl;
    const s = d.side === 'buy' ? 1n : -1n;
    addMoney(cashOf(state, d.venue, p.quoteCurrency).total, s * BigInt(d.priceTicks) * BigInt(d.qtyLots), d.priceScale + d.qtyScale);
    const info = state.instruments.get(d.instrument);
    if (info?.baseCurrency) addMoney(cashOf(state, d.venue, info.baseCurrency).total, -s * BigInt(d.qtyLots), d.qtyScale);
  } else {
    // Forgotten (older than REVERSIBLE_FILLS_MAX fills) or never seen: the opposite trade at the same price.
    const strategyId = state.orderStrategy.get(d.orderId) ?? UNATTRIBUTED;
    const q = positionFor(state, strategyId, d.venue, d.instrument, d.priceScale, d.qtyScale);
    bookTrade(state, q, d.side === 'buy' ? 'sell' : 'buy', d.qtyLots, d.priceTicks);
  }
  const target = p ?? state.positions.get(positionKey(state.orderStrategy.get(d.orderId) ?? UNATTRIBUTED, d.venue, d.instrument));
  if (target !== undefined) {
    if (d.side === 'buy') target.boughtLots -= d.qtyLots;
    else target.soldLots -= d.qtyLots;
    target.fillCount--;
    addMoney(moneyIn(target.fees, d.feeCurrency), -fee, d.feeScale);
  }
  addMoney(moneyIn(state.fees, `${d.venue}|${d.feeCurrency}`), -fee, d.feeScale);
  addMoney(cashOf(state, d.venue, d.feeCurrency).total, fee, d.feeScale);
}

/** Every position in the market's outcome tokens closes at the token's payout; the mark becomes it. */
function settleMarket(state: PortfolioState, d: { venue: string; payouts: ReadonlyArray<{ instrument: string; payoutTicks: number }>; priceScale: number }): void {
  for (const { instrument, payoutTicks } of d.payouts) {
    for (const p of state.positions.values()) {
      if (p.venue !== d.venue || p.instrument !== instrument || p.qtyLots === 0 || p.priceScale !== d.priceScale) continue;
      bookTrade(state, p, p.qtyLots > 0 ? 'sell' : 'buy', Math.abs(p.qtyLots), payoutTicks);
    }
    if (state.marks.has(instrument)) state.marks.set(instrument, payoutTicks);
  }
}

/** Sets the mark of an instrument explicitly (ticks at the instrument's price scale). */
export function setMark(state: PortfolioState, instrument: string, markTicks: number): void {
  state.marks.set(instrument, markTicks);
}

/** Marks every traded instrument from the market view (mid, else last trade); leaves others as they were. */
export function markFromMarket(state: PortfolioState, market: MarketView): void {
  for (const instrument of state.marks.keys()) {
    const ref = referencePriceTicks(market, instrument);
    if (ref !== null) state.marks.set(instrument, ref);
    else {
      const b = market.books.get(instrument);
      const px = b ? (bestPrice(b.bids) ?? bestPrice(b.asks)) : null;
      if (px !== null) state.marks.set(instrument, px);
    }
  }
}

export interface PositionValuation {
  key: string;
  strategyId: string;
  venue: string;
  instrument: string;
  quoteCurrency: string;
  qtyLots: number;
  /** All money at `moneyScale` = priceScale + qtyScale, in quoteCurrency. */
  moneyScale: number;
  costBasis: bigint;
  realizedPnl: bigint;
  /** null when there is no mark for the instrument yet. */
  unrealizedPnl: bigint | null;
  markTicks: number | null;
}

export function valuePosition(state: PortfolioState, key: string, p: Position): PositionValuation {
  const mark = state.marks.get(p.instrument) ?? null;
  return {
    key, strategyId: p.strategyId, venue: p.venue, instrument: p.instrument, quoteCurrency: p.quoteCurrency,
    qtyLots: p.qtyLots, moneyScale: p.priceScale + p.qtyScale, costBasis: p.costBasis, realizedPnl: p.realizedPnl,
    unrealizedPnl: mark === null ? (p.qtyLots === 0 ? 0n : null) : unrealizedPnl(p, mark), markTicks: mark,
  };
}

/** Every position valued at the current marks, sorted by key (stable output for reports and hashes). */
export function valuation(state: PortfolioState): PositionValuation[] {
  const keys = [...state.positions.keys()].sort();
  return keys.map((k) => valuePosition(state, k, state.positions.get(k)!));
}

/**
 * Net P&L of one strategy per quote currency: realized + unrealized − fees paid in that currency.
 * Fees in another currency (e.g. paid in BNB) are listed under their own currency as a negative amount.
 */
export function strategyPnl(state: PortfolioState, strategyId: string): Map<string, Money> {
  const out = new Map<string, Money>();
  for (const [key, p] of state.positions) {
    if (p.strategyId !== strategyId) continue;
    const v = valuePosition(state, key, p);
    const m = moneyIn(out, p.quoteCurrency);
    addMoney(m, v.realizedPnl + (v.unrealizedPnl ?? 0n), v.moneyScale);
    for (const [cur, fee] of p.fees) addMoney(moneyIn(out, cur), -fee.amount, fee.scale);
  }
  return out;
}

/** Signed position in lots of one strategy (or all strategies when strategyId is omitted) in an instrument. */
export function positionLots(state: PortfolioState, instrument: string, strategyId?: string): number {
  let q = 0;
  for (const p of state.positions.values()) {
    if (p.instrument === instrument && (strategyId === undefined || p.strategyId === strategyId)) q += p.qtyLots;
  }
  return q;
}
