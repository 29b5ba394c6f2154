/**
 * Measures the pure kernel's per-market-event path on synthetic L2 data: the kernel's market book,
 * the simulated venue, a strategy (evolve + decide), risk and portfolio evolve, with order flow the
 * strategy causes routed through lifecycle, risk check and venue. Prints events/s and a same-run
 * baseline (a loop that only reads each event). The events are a small pool replayed many times, as a
 * decoder hands over fresh (cache-hot) events; a pool of millions of objects measures cache misses instead.
 * Meant to become `tapedeck bench kernel` (src/bench/)
 * once the engine exists; run it now with:
 *
 *   npx tsc -p . && node dist/scripts/bench-kernel-hotpath.js [--events N] [--passes P] [--strategy market-maker|momentum|none] [--shared-book]
 */
import { nextInt, seedPrng } from '../domain/core/prng.js';
import type { TimedEvent } from '../domain/events/event.js';
import { applyMarketEvent, initialMarketState } from '../domain/market/book.js';
import type { StrategyCommand, VenueCommand } from '../domain/orders/commands.js';
import { evolve as evolveOrders, initialState as initialOrders } from '../domain/orders/lifecycle.js';
import { evolve as evolvePortfolio, initialState as initialPortfolio } from '../domain/portfolio/portfolio.js';
import { parseRiskConfig } from '../domain/risk/config.js';
import { check, evolve as evolveRisk, initialState as initialRisk } from '../domain/risk/risk.js';
import { getStrategy, parseStrategyParams } from '../domain/strategies/registry.js';
import { initialState as initialVenue, step, stepMarket, type VenueReport } from '../domain/venue/simulated.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const N = Number(arg('events', '8192'));
const PASSES = Number(arg('passes', '500'));
const STRATEGY = arg('strategy', 'market-maker');
/** --shared-book: the venue applies its market data to the kernel's book (one update per event, not two). */
const SHARED = args.includes('--shared-book');

const VENUE = 'SIM';
const INSTR = 'SIM:BTCUSD';

/** Synthetic L2: a 20-level book around a random-walking mid; mostly deltas, some trades. */
function synth(n: number): TimedEvent[] {
  const rng = seedPrng(1);
  const out: TimedEvent[] = [];
  let mid = 100_000;
  // Payloads are plain object literals: objects built with `{ ...base, x }` came out ~20x slower to read in
  // V8 here (dictionary-like maps), which would measure the fixture, not the kernel.
  const mk = (extra: Record<string, unknown>): any => ({ venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, tradeId: extra.tradeId, priceTicks: extra.priceTicks, qtyLots: extra.qtyLots, aggressor: extra.aggressor });
  const mkDelta = (changes: unknown[]): any => ({ venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, changes });
  const bids: Array<[number, number]> = [];
  const asks: Array<[number, number]> = [];
  for (let i = 1; i <= 20; i++) {
    bids.push([mid - i, 1 + nextInt(rng, 50)]);
    asks.push([mid + i, 1 + nextInt(rng, 50)]);
  }
  out.push({ type: 'BookSnapshotted', eventTimeNs: 1n, data: { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, bids, asks } } as TimedEvent);
  let t = 1_000_000_000n;
  for (let k = 1; k < n; k++) {
    t += BigInt(1 + nextInt(rng, 2000));
    const r = nextInt(rng, 100);
    if (r < 8) {
      out.push({ type: 'TradeReported', eventTimeNs: t, data: mk({ tradeId: `t${k}`, priceTicks: r < 4 ? mid + 1 : mid - 1, qtyLots: 1 + nextInt(rng, 5), aggressor: r < 4 ? 'buy' : 'sell' }) } as TimedEvent);
    } else if (r < 10) {
      // Shift the touch by one tick: the mid walks.
      const up = nextInt(rng, 2) === 0;
      mid += up ? 1 : -1;
      out.push({ type: 'BookDeltaApplied', eventTimeNs: t, data: mkDelta(up
        ? [{ side: 'sell', priceTicks: mid, qtyLots: 0 }, { side: 'buy', priceTicks: mid - 1, qtyLots: 1 + nextInt(rng, 20) }, { side: 'sell', priceTicks: mid + 20, qtyLots: 5 }]
        : [{ side: 'buy', priceTicks: mid, qtyLots: 0 }, { side: 'sell', priceTicks: mid + 1, qtyLots: 1 + nextInt(rng, 20) }, { side: 'buy', priceTicks: mid - 20, qtyLots: 5 }]) } as TimedEvent);
    } else {
      const side = nextInt(rng, 2) === 0 ? 'buy' : 'sell';
      const lvl = 1 + nextInt(rng, 10);
      out.push({ type: 'BookDeltaApplied', eventTimeNs: t, data: mkDelta([{ side, priceTicks: side === 'buy' ? mid - lvl : mid + lvl, qtyLots: nextInt(rng, 60) }]) } as TimedEvent);
    }
  }
  return out;
}

function run(events: TimedEvent[], passes: number): { eventsPerSec: number; eventsPerCpuSec: number; reports: number; commands: number; nsPerEvent: number } {
  const market = initialMarketState();
  const venue = initialVenue({ venue: VENUE, latency: { submitNs: 200_000, ackNs: 200_000 }, fees: { makerBps: '-0.2', takerBps: 2, feeCurrency: 'USD' } }, SHARED ? { market } : {});
  const risk = initialRisk(parseRiskConfig({ defaults: { maxOrderQtyLots: 100, maxPositionLots: 50, collarBps: 500 }, maxOpenOrders: 20 }));
  const orders = initialOrders();
  const portfolio = initialPortfolio({ instruments: { [INSTR]: { quoteCurrency: 'USD' } } });
  const strat = STRATEGY === 'none' ? null : getStrategy(STRATEGY);
  const params = strat === null ? null : parseStrategyParams(strat, { venue: VENUE, instrument: INSTR, priceScale: 2, qtyScale: 0, ...(STRATEGY === 'market-maker' ? { halfSpreadTicks: 3, requoteThresholdTicks: 2, maxInventoryLots: 20 } : { lookback: 30, thresholdTicks: 4, cooldownNs: 50_000_000 }) });
  let st = strat === null ? null : strat.initialState(params, 7);
  const out: VenueReport[] = [];
  let n = 0;
  let reports = 0;
  let commands = 0;
  let seq = 0;

  // Everything the kernel records goes to every reducer (the strategy sees market data and its own orders).
  const record = (e: TimedEvent): void => {
    const r = evolveOrders(orders, e);
    if (r instanceof Error) throw r;
    evolveRisk(risk, e);
    evolvePortfolio(portfolio, e);
    if (strat !== null) st = strat.evolve(st, e, market);
  };
  const handle = (cmds: readonly StrategyCommand[], t: bigint): void => {
    for (const c of cmds) {
      commands++;
      if (c.kind === 'PlaceOrder') {
        const orderId = `o${++seq}`;
        const { kind: _k, tag, ...spec } = c;
        const intended = { type: 'OrderIntended', eventTimeNs: t, data: { orderId, ...spec, clientTag: tag, decision: { strategyId: 's', strategyCodeHash: 'h', configHash: 'c', stateHash: 'x', causeEventId: 'e', causePosition: null } } } as TimedEvent;
        const d = check(risk, { kind: 'place', order: { orderId, ...spec } }, { eventTimeNs: t, market });
        record(intended);
        if (!d.approved) {
          record({ type: 'RiskDenied', eventTimeNs: t, data: { orderId, code: d.code, detail: d.detail } } as TimedEvent);
          continue;
        }
        record({ type: 'RiskApproved', eventTimeNs: t, data: { orderId, checks: d.checks } } as TimedEvent);
        record({ type: 'OrderSubmitted', eventTimeNs: t, data: { orderId, venue: VENUE, attempt: 1 } } as TimedEvent);
        const cmd: VenueCommand = { kind: 'SubmitOrder', orderId, ...spec };
        step(venue, { kind: 'command', command: cmd, sentNs: t }, out);
      } else if (c.kind === 'CancelOrder') {
        record({ type: 'CancelRequested', eventTimeNs: t, data: { orderId: c.orderId } } as TimedEvent);
        step(venue, { kind: 'command', command: { kind: 'CancelOrder', orderId: c.orderId, venue: VENUE, instrument: INSTR }, sentNs: t }, out);
      } else {
        const d = check(risk, { kind: 'replace', orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, { eventTimeNs: t, market });
        if (!d.approved) {
          record({ type: 'ReplaceRejected', eventTimeNs: t, data: { orderId: c.orderId, reason: d.detail, code: d.code } } as TimedEvent);
          continue;
        }
        record({ type: 'ReplaceRequested', eventTimeNs: t, data: { orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots } } as TimedEvent);
        step(venue, { kind: 'command', command: { kind: 'ReplaceOrder', orderId: c.orderId, venue: VENUE, instrument: INSTR, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, sentNs: t }, out);
      }
    }
  };
  const drain = (): void => {
    // Reports may cause commands, whose immediate reports land in `out` again: loop until quiet.
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      reports++;
      const e = { type: r.type, eventTimeNs: r.receiveTimeNs, data: r.data } as TimedEvent;
      record(e);
      if (strat !== null) handle(strat.decide(st, e, market), r.receiveTimeNs);
    }
    out.length = 0;
  };

  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (!SHARED) applyMarketEvent(market, ev);
      stepMarket(venue, ev, out);
      if (out.length > 0) drain();
      evolveRisk(risk, ev);
      evolvePortfolio(portfolio, ev);
      if (strat !== null) {
        st = strat.evolve(st, ev, market);
        const cmds = strat.decide(st, ev, market);
        if (cmds.length > 0) {
          handle(cmds, ev.eventTimeNs);
          if (out.length > 0) drain();
        }
      }
      n++;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  // CPU time of this process: on a shared machine wall time mostly measures the neighbours.
  const cpu = process.cpuUsage(c0);
  const cpuUs = cpu.user + cpu.system;
  return { eventsPerSec: Math.round((n / ns) * 1e9), eventsPerCpuSec: Math.round((n / cpuUs) * 1e6), reports, commands, nsPerEvent: ns / n };
}

/** Same-run baseline: a loop that only reads each event's type and time (events per CPU second). */
function baseline(events: TimedEvent[], passes: number): number {
  let acc = 0;
  let last = 0n;
  const c0 = process.cpuUsage();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      acc += e.type.length;
      if (e.eventTimeNs > last) last = e.eventTimeNs;
    }
  }
  const cpu = process.cpuUsage(c0);
  if (acc === 42 && last === 0n) console.log('');
  return Math.round(((events.length * passes) / (cpu.user + cpu.system)) * 1e6);
}

const events = synth(N);
run(events, 1); // warm-up
const base = baseline(events, PASSES);
const r = run(events, PASSES);
console.log(JSON.stringify({ bench: 'kernel-hotpath', strategy: STRATEGY, sharedBook: SHARED, events: N * PASSES, ...r, nsPerEvent: Number(r.nsPerEvent.toFixed(1)), baselineReadOnlyEventsPerCpuSec: base }));
