/**
 * Slippage: a live (or paper) run against a backtest of the same inputs. Market-data inputs keep their
 * event ids across runs (RUN_LAYOUT.md), so each live order is paired with the backtest's decision on
 * the same input event id (same instrument and side; several decisions on one input pair in order).
 *
 * Per order: the decision price (mid of the book right after the cause input, in that run), the arrival
 * price (mid when the venue accepted the order), the fill VWAP in each run, and the differences in basis
 * points, signed so that POSITIVE IS WORSE for the order (a buy paid more, a sell got less):
 *   liveVsBacktestBps = side × (liveVwap − backtestVwap) / decisionMid × 10 000
 *   liveVsDecisionBps = side × (liveVwap − decisionMid) / decisionMid × 10 000   (and the backtest's)
 * Then the distribution of liveVsBacktestBps (count, mean, p50, p90, worst) by venue, instrument, side
 * and size bucket (decades of the order quantity).
 *
 * Arithmetic is exact (rational, bigint); bps are rounded half-even to 4 decimals only at the end.
 */
import { TapedeckError } from '../domain/core/errors.js';
import { divRound, formatDecimal, pow10 } from '../domain/core/fixed.js';
import { storedToEnvelope } from '../domain/events/envelope.js';
import type { TimedEvent } from '../domain/events/event.js';
import { applyMarketEvent, bestPrice, initialMarketState, isMarketDataType, type MarketState } from '../domain/market/book.js';
import type { EventStore } from '../src/store/port.js';
import { runTimeline, type ReferenceOptions } from './inputs.js';

/** A price as a fraction of ticks (mid = (bid + ask) / 2, VWAP = notional / lots). */
interface Ratio {
  num: bigint;
  den: bigint;
}

interface OrderFacts {
  orderId: string;
  causeEventId: string;
  venue: string;
  instrument: string;
  side: 'buy' | 'sell';
  qtyLots: number;
  priceScale: number;
  qtyScale: number;
  decisionMid: Ratio | null;
  arrivalMid: Ratio | null;
  notional: bigint;
  filledLots: bigint;
}

export interface SlippageRow {
  liveOrderId: string;
  backtestOrderId: string | null;
  causeEventId: string;
  venue: string;
  instrument: string;
  side: 'buy' | 'sell';
  quantity: string;
  sizeBucket: string;
  decisionPrice: string | null;
  backtestDecisionPrice: string | null;
  arrivalPrice: string | null;
  liveVwap: string | null;
  backtestVwap: string | null;
  liveFilled: string;
  backtestFilled: string | null;
  liveVsBacktestBps: string | null;
  liveVsDecisionBps: string | null;
  backtestVsDecisionBps: string | null;
  arrivalVsDecisionBps: string | null;
}

export interface SlippageStats {
  venue: string;
  instrument: string;
  side: string;
  sizeBucket: string;
  count: number;
  meanBps: string;
  p50Bps: string;
  p90Bps: string;
  worstBps: string;
}

export interface SlippageReport {
  liveRun: string;
  backtestRun: string;
  liveOrders: number;
  backtestOrders: number;
  paired: number;
  unpairedLive: number;
  unpairedBacktest: number;
  orders: SlippageRow[];
  distribution: SlippageStats[];
}

const BPS_SCALE = 4;

function midOf(market: MarketState, instrument: string): Ratio | null {
  const b = market.books.get(instrument);
  if (b === undefined) return null;
  const bid = bestPrice(b.bids);
  const ask = bestPrice(b.asks);
  if (bid !== null && ask !== null) return { num: BigInt(bid) + BigInt(ask), den: 2n };
  if (b.lastTradeTicks !== null) return { num: BigInt(b.lastTradeTicks), den: 1n };
  return null;
}

/** A ratio of ticks as a decimal price string, half-even at priceScale + extra digits, trailing zeros trimmed. */
function priceText(r: Ratio | null, priceScale: number, extra = 4): string | null {
  if (r === null) return null;
  const m = divRound(r.num * pow10(extra), r.den, 'half-even');
  return trim(formatDecimal(m, priceScale + extra));
}

function trim(t: string): string {
  return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
}

/** side × (a − b) / mid × 10 000, as a mantissa at BPS_SCALE. */
function bps(side: 'buy' | 'sell', a: Ratio, b: Ratio, mid: Ratio): bigint {
  // (a.num/a.den − b.num/b.den) / (mid.num/mid.den) = (a.num·b.den − b.num·a.den)·mid.den / (a.den·b.den·mid.num)
  const s = side === 'buy' ? 1n : -1n;
  const num = s * (a.num * b.den - b.num * a.den) * mid.den * 10_000n * pow10(BPS_SCALE);
  const den = a.den * b.den * mid.num;
  if (den === 0n) throw new TapedeckError('SLIPPAGE_ZERO_PRICE', 'a mid price of zero cannot give basis points');
  return divRound(num, den, 'half-even');
}

function sizeBucket(qtyLots: number, qtyScale: number): string {
  const digits = String(qtyLots).length - qtyScale; // decimal exponent + 1 of the quantity
  const lo = digits - 1;
  const label = (e: number): string => (e >= 0 ? `1${'0'.repeat(e)}` : `0.${'0'.repeat(-e - 1)}1`);
  return `[${label(lo)}, ${label(lo + 1)})`;
}

/** The run's orders, with the book as the kernel saw it: inputs read inline or through the run's reference. */
async function loadOrders(store: EventStore, runId: string, options: ReferenceOptions): Promise<OrderFacts[]> {
  const stream = `run-${runId}`;
  const market = initialMarketState();
  const orders = new Map<string, OrderFacts>();
  const list: OrderFacts[] = [];
  let seen = 0;
  for await (const entry of runTimeline(store, runId, options)) {
    seen++;
    let env;
    if (entry.kind === 'input') env = entry.input.input;
    else {
      const rec = entry.record;
      if (rec.type === 'RunStarted' || rec.type === 'RunEnded' || rec.type === 'InputsReferenced' || !rec.isJson) continue;
      env = storedToEnvelope(rec.stream, { id: rec.id, type: rec.type, data: rec.data, metadata: rec.metadata }, { position: rec.position });
    }
    if (isMarketDataType(env.type)) {
      applyMarketEvent(market, env as unknown as TimedEvent);
      continue;
    }
    switch (env.type) {
      case 'OrderIntended': {
        const d = env.data;
        const o: OrderFacts = {
          orderId: d.orderId, causeEventId: d.decision.causeEventId, venue: d.venue, instrument: d.instrument, side: d.side,
          qtyLots: d.qtyLots, priceScale: d.priceScale, qtyScale: d.qtyScale, decisionMid: midOf(market, d.instrument), arrivalMid: null,
          notional: 0n, filledLots: 0n,
        };
        orders.set(d.orderId, o);
        list.push(o);
        break;
      }
      case 'OrderSubmitted': {
        const o = orders.get(env.data.orderId);
        if (o !== undefined && o.arrivalMid === null) o.arrivalMid = midOf(market, o.instrument);
        break;
      }
      case 'OrderAccepted': {
        // Arrival is when the venue had the order; the acceptance is the closest record of that.
        const o = orders.get(env.data.orderId);
        if (o !== undefined) o.arrivalMid = midOf(market, o.instrument) ?? o.arrivalMid;
        break;
      }
      case 'OrderFilled': {
        const o = orders.get(env.data.orderId);
        if (o !== undefined) {
          o.notional += BigInt(env.data.priceTicks) * BigInt(env.data.qtyLots);
          o.filledLots += BigInt(env.data.qtyLots);
        }
        break;
      }
      default:
        break;
    }
  }
  if (seen === 0) throw new TapedeckError('RUN_NOT_FOUND', `no run "${runId}" in this store (stream ${stream} is empty)`, { field: '--run' });
  return list;
}

function percentile(sorted: bigint[], p: number): bigint {
  const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[i]!;
}

export async function slippage(store: EventStore, liveRunId: string, backtestRunId: string, options: ReferenceOptions = {}): Promise<SlippageReport> {
  const live = await loadOrders(store, liveRunId, options);
  const back = await loadOrders(store, backtestRunId, options);
  const byCause = new Map<string, OrderFacts[]>();
  for (const o of back) {
    const k = `${o.causeEventId}|${o.instrument}|${o.side}`;
    const l = byCause.get(k) ?? [];
    l.push(o);
    byCause.set(k, l);
  }
  const rows: SlippageRow[] = [];
  const groups = new Map<string, { key: Omit<SlippageStats, 'count' | 'meanBps' | 'p50Bps' | 'p90Bps' | 'worstBps'>; values: bigint[] }>();
  let paired = 0;
  for (const o of live) {
    const k = `${o.causeEventId}|${o.instrument}|${o.side}`;
    const b = byCause.get(k)?.shift() ?? null;
    if (b !== null) paired++;
    const vwap = (x: OrderFacts): Ratio | null => (x.filledLots === 0n ? null : { num: x.notional, den: x.filledLots });
    const lv = vwap(o);
    const bv = b === null ? null : vwap(b);
    const mid = o.decisionMid;
    const bpsText = (v: bigint | null): string | null => (v === null ? null : trim(formatDecimal(v, BPS_SCALE)));
    const lvb = lv !== null && bv !== null && mid !== null ? bps(o.side, lv, bv, mid) : null;
    const bucket = sizeBucket(o.qtyLots, o.qtyScale);
    rows.push({
      liveOrderId: o.orderId, backtestOrderId: b?.orderId ?? null, causeEventId: o.causeEventId, venue: o.venue, instrument: o.instrument,
      side: o.side, quantity: trim(formatDecimal(o.qtyLots, o.qtyScale)), sizeBucket: bucket,
      decisionPrice: priceText(mid, o.priceScale), backtestDecisionPrice: b === null ? null : priceText(b.decisionMid, b.priceScale),
      arrivalPrice: priceText(o.arrivalMid, o.priceScale), liveVwap: priceText(lv, o.priceScale),
      backtestVwap: b === null ? null : priceText(bv, b.priceScale),
      liveFilled: trim(formatDecimal(o.filledLots, o.qtyScale)), backtestFilled: b === null ? null : trim(formatDecimal(b.filledLots, b.qtyScale)),
      liveVsBacktestBps: bpsText(lvb),
      liveVsDecisionBps: bpsText(lv !== null && mid !== null ? bps(o.side, lv, mid, mid) : null),
      backtestVsDecisionBps: bpsText(b !== null && bv !== null && b.decisionMid !== null ? bps(o.side, bv, b.decisionMid, b.decisionMid) : null),
      arrivalVsDecisionBps: bpsText(o.arrivalMid !== null && mid !== null ? bps(o.side, o.arrivalMid, mid, mid) : null),
    });
    if (lvb !== null) {
      const gk = `${o.venue}|${o.instrument}|${o.side}|${bucket}`;
      let g = groups.get(gk);
      if (g === undefined) {
        g = { key: { venue: o.venue, instrument: o.instrument, side: o.side, sizeBucket: bucket }, values: [] };
        groups.set(gk, g);
      }
      g.values.push(lvb);
    }
  }
  const distribution: SlippageStats[] = [...groups.values()]
    .sort((a, b) => (Object.values(a.key).join('|') < Object.values(b.key).join('|') ? -1 : 1))
    .map(({ key, values }) => {
      const sorted = [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const sum = sorted.reduce((a, v) => a + v, 0n);
      const f = (v: bigint): string => trim(formatDecimal(v, BPS_SCALE));
      return {
        ...key, count: sorted.length, meanBps: f(divRound(sum, BigInt(sorted.length), 'half-even')),
        p50Bps: f(percentile(sorted, 50)), p90Bps: f(percentile(sorted, 90)), worstBps: f(sorted[sorted.length - 1]!),
      };
    });
  let unpairedBacktest = 0;
  for (const l of byCause.values()) unpairedBacktest += l.length;
  return {
    liveRun: liveRunId, backtestRun: backtestRunId, liveOrders: live.length, backtestOrders: back.length, paired,
    unpairedLive: live.length - paired, unpairedBacktest, orders: rows, distribution,
  };
}
