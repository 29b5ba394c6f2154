/**
 * A synthetic run written the way RUN_LAYOUT.md says the kernel writes one: one stream `run-<id>`,
 * RunStarted first and RunEnded last, market inputs (trades, quotes, book deltas) with role `input`,
 * a quoting strategy's intents with their cause, risk answers, and the simulated venue's acceptances,
 * fills and cancels, all with causation and correlation ids. Seeded and deterministic.
 *
 * For the projection benchmark and tests; the order flow is internally consistent (fills never exceed
 * what is left, leavesLots is right, cancels cancel what is left) so the lifecycle reducer accepts it.
 */
import { nextInt, seedPrng, type PrngState } from '../domain/core/prng.js';
import type { EventData } from '../src/store/port.js';

export interface SyntheticRunOptions {
  runId: string;
  seed: number;
  /** Market trades (inputs) in the run. */
  trades: number;
  instruments?: string[];
  /** One quote update and this many book deltas per trade (inputs the projector only counts). */
  deltasPerTrade?: number;
  /** Percent of trades after which the strategy places an order. */
  orderPercent?: number;
  /** Percent of intents risk denies. */
  denyPercent?: number;
  strategy?: string;
  mode?: 'replay' | 'paper' | 'live' | 'parity';
  startNs?: bigint;
  /** Leave out RunEnded (a run killed before it finished). */
  unfinished?: boolean;
  /** Events per append batch. */
  batchSize?: number;
}

interface Working {
  orderId: string;
  instrument: string;
  side: 'buy' | 'sell';
  priceTicks: number;
  qtyLots: number;
  leaves: number;
  fills: number;
  bornAt: number;
}

/** Hex counter ids shaped like UUIDs (fast, unique within a run prefix). */
function idMaker(runId: string): (kind: number) => string {
  let n = 0;
  let h = 0;
  for (let i = 0; i < runId.length; i++) h = (h * 31 + runId.charCodeAt(i)) >>> 0;
  const prefix = h.toString(16).padStart(8, '0');
  return (kind: number) => {
    const x = (n++).toString(16).padStart(12, '0');
    return `${prefix}-${kind.toString(16).padStart(4, '0')}-8000-8000-${x}`;
  };
}

export const SYNTHETIC_PRICE_SCALE = 2;
export const SYNTHETIC_QTY_SCALE = 4;

/** The events of one run, in append batches. */
export function* syntheticRun(o: SyntheticRunOptions): Generator<EventData[]> {
  const rng: PrngState = seedPrng(o.seed);
  const instruments = o.instruments ?? ['SIM:BTCUSDT', 'SIM:ETHUSDT'];
  const deltas = o.deltasPerTrade ?? 2;
  const orderPct = o.orderPercent ?? 20;
  const denyPct = o.denyPercent ?? 5;
  const strategy = o.strategy ?? 'market-maker';
  const batchSize = o.batchSize ?? 1000;
  const newId = idMaker(o.runId);
  const runStartedId = newId(1);
  let t = o.startNs ?? 1_700_000_000_000_000_000n;
  let batch: EventData[] = [];
  let events = 0;
  let decisions = 0;
  const push = (type: string, data: Record<string, unknown>, role: string, causationId: string | null, id = newId(2)): string => {
    t += 1_000_000n + BigInt(nextInt(rng, 50_000_000));
    batch.push({
      id, type, data,
      metadata: { schemaVersion: 1, eventTimeNs: t.toString(), receiveTimeNs: t.toString(), $causationId: causationId, $correlationId: o.runId, role },
    });
    events++;
    return id;
  };
  push('RunStarted', {
    manifest: {
      runId: o.runId, mode: o.mode ?? 'replay', strategy, codeHash: 'code-' + o.seed, configHash: 'cfg-' + o.seed, seed: o.seed,
      source: 'synthetic', dataRange: { fromNs: null, toNs: null }, config: { spreadTicks: 5 },
    },
  }, 'run', null, runStartedId);
  for (const inst of instruments) {
    push('InstrumentDefined', {
      venue: 'SIM', instrument: inst, symbol: inst.slice(4), kind: 'spot', baseCurrency: inst.slice(4, 7), quoteCurrency: 'USDT',
      priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE, tickSizeTicks: 1, lotSizeLots: 1,
    }, 'input', null);
  }
  const mid = new Map(instruments.map((i, k) => [i, 3_000_000 + k * 1_000_000]));
  const working: Working[] = [];
  let fillSeq = 0;
  for (let k = 0; k < o.trades; k++) {
    const inst = instruments[nextInt(rng, instruments.length)]!;
    const m = mid.get(inst)! + nextInt(rng, 41) - 20;
    mid.set(inst, m);
    push('QuoteUpdated', {
      venue: 'SIM', instrument: inst, bidPriceTicks: m - 1, bidQtyLots: 1000 + nextInt(rng, 5000), askPriceTicks: m + 1,
      askQtyLots: 1000 + nextInt(rng, 5000), priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE,
    }, 'input', null);
    for (let d = 0; d < deltas; d++) {
      push('BookDeltaApplied', {
        venue: 'SIM', instrument: inst, changes: [{ side: nextInt(rng, 2) ? 'buy' : 'sell', priceTicks: m - 5 + nextInt(rng, 11), qtyLots: nextInt(rng, 3000) }],
        priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE,
      }, 'input', null);
    }
    const tradePx = m + nextInt(rng, 5) - 2;
    const tradeQty = 1 + nextInt(rng, 5000);
    const tradeId = push('TradeReported', {
      venue: 'SIM', instrument: inst, tradeId: `T${k}`, priceTicks: tradePx, qtyLots: tradeQty,
      priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE, aggressor: nextInt(rng, 2) ? 'buy' : 'sell',
    }, 'input', null);
    // Fills: resting orders the trade price crossed.
    for (let w = working.length - 1; w >= 0; w--) {
      const o2 = working[w]!;
      if (o2.instrument !== inst) continue;
      const crossed = o2.side === 'buy' ? tradePx <= o2.priceTicks : tradePx >= o2.priceTicks;
      if (!crossed) continue;
      const q = Math.min(o2.leaves, Math.max(1, Math.floor(tradeQty / 2)));
      o2.leaves -= q;
      o2.fills++;
      push('OrderFilled', {
        orderId: o2.orderId, venue: 'SIM', instrument: inst, fillId: `F${fillSeq++}`, side: o2.side, priceTicks: o2.priceTicks, qtyLots: q,
        priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE, fee: String(-q * 2), feeScale: 6, feeCurrency: 'USDT',
        liquidity: 'maker', leavesLots: o2.leaves,
      }, 'venue', tradeId);
      if (o2.leaves === 0) working.splice(w, 1);
    }
    // Cancel orders that rested too long.
    for (let w = working.length - 1; w >= 0; w--) {
      const o2 = working[w]!;
      if (k - o2.bornAt < 25) continue;
      const req = push('CancelRequested', { orderId: o2.orderId, reason: 'stale' }, 'decision', tradeId);
      push('OrderCanceled', { orderId: o2.orderId, canceledLots: o2.leaves }, 'venue', req);
      working.splice(w, 1);
    }
    if (nextInt(rng, 100) < orderPct) {
      decisions++;
      const side = nextInt(rng, 2) ? 'buy' : 'sell';
      const orderId = newId(3);
      const px = side === 'buy' ? m - nextInt(rng, 4) : m + nextInt(rng, 4);
      const qty = 100 + nextInt(rng, 2000);
      const intent = push('OrderIntended', {
        orderId, venue: 'SIM', instrument: inst, side, orderType: 'limit', priceTicks: px, qtyLots: qty,
        priceScale: SYNTHETIC_PRICE_SCALE, qtyScale: SYNTHETIC_QTY_SCALE, timeInForce: 'GTC', postOnly: false, reduceOnly: false,
        decision: {
          strategyId: strategy, strategyCodeHash: 'code-' + o.seed, configHash: 'cfg-' + o.seed, stateHash: `s${k}`,
          causeEventId: tradeId, causePosition: null, runId: o.runId,
        },
      }, 'decision', tradeId);
      if (nextInt(rng, 100) < denyPct) {
        push('RiskDenied', { orderId, code: 'MAX_ORDER_QTY', detail: 'synthetic denial' }, 'decision', intent);
      } else {
        const ok = push('RiskApproved', { orderId, checks: ['MAX_ORDER_QTY', 'PRICE_COLLAR'] }, 'decision', intent);
        const sub = push('OrderSubmitted', { orderId, venue: 'SIM', attempt: 1 }, 'venue', ok);
        push('OrderAccepted', { orderId, venueOrderId: `V${orderId.slice(-8)}` }, 'venue', sub);
        working.push({ orderId, instrument: inst, side, priceTicks: px, qtyLots: qty, leaves: qty, fills: 0, bornAt: k });
      }
    }
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (!o.unfinished) {
    push('RunEnded', { runId: o.runId, outcome: 'completed', events: events + 1, decisions, decisionsHash: 'h' + decisions }, 'run', runStartedId);
  }
  if (batch.length > 0) yield batch;
}
