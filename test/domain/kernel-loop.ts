/**
 * A reference composition of the pure reducers, the loop domain/README.md describes, without the effects
 * (no store, no ids, no bus). Tests use it to check that the pieces agree with each other; the real
 * engine in src/ does the same steps and also records every event it creates.
 */
import { canonicalJson } from '../../domain/core/canonical.js';
import { TapedeckError } from '../../domain/core/errors.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { applyMarketEvent, initialMarketState, type MarketState } from '../../domain/market/book.js';
import type { StrategyCommand, VenueCommand } from '../../domain/orders/commands.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import * as portfolio from '../../domain/portfolio/portfolio.js';
import { parseRiskConfig, type RiskConfigInput } from '../../domain/risk/config.js';
import * as risk from '../../domain/risk/risk.js';
import type { Strategy } from '../../domain/strategies/strategy.js';
import * as sim from '../../domain/venue/simulated.js';

export interface KernelOptions<P> {
  strategy: Strategy<P, any>;
  params: P;
  seed: number;
  risk: RiskConfigInput;
  venue: Record<string, unknown>;
  strategyId?: string;
}

export interface KernelRun {
  /** Every event the kernel recorded, in order (market data excluded). */
  recorded: TimedEvent[];
  market: MarketState;
  orders: lifecycle.OrdersState;
  portfolio: portfolio.PortfolioState;
  risk: risk.RiskState;
  venue: sim.SimVenueState;
  strategyState: unknown;
  /** canonicalJson of the decisions and final states: equal across runs means deterministic. */
  hash: string;
}

export function runKernel<P>(marketEvents: readonly TimedEvent[], o: KernelOptions<P>): KernelRun {
  const strategyId = o.strategyId ?? 'strategy-1';
  const market = initialMarketState();
  const orders = lifecycle.initialState();
  const pf = portfolio.initialState();
  const rk = risk.initialState(parseRiskConfig(o.risk));
  const venue = sim.initialState(o.venue);
  let st = o.strategy.initialState(o.params, o.seed);
  const recorded: TimedEvent[] = [];
  let nextOrder = 0;
  const out: sim.VenueReport[] = [];

  /** Record: the event goes to the log, then to every reducer (strategy last, then its decide). */
  const record = (e: TimedEvent): void => {
    recorded.push(e);
    const r = lifecycle.evolve(orders, e);
    if (r instanceof TapedeckError) throw r;
    risk.evolve(rk, e);
    portfolio.evolve(pf, e);
    st = o.strategy.evolve(st, e, market);
    act(o.strategy.decide(st, e, market), e.eventTimeNs);
  };

  const send = (command: VenueCommand, t: bigint): void => {
    sim.step(venue, { kind: 'command', command, sentNs: t }, out);
    drain();
  };

  const act = (cmds: readonly StrategyCommand[], t: bigint): void => {
    for (const c of cmds) {
      if (c.kind === 'PlaceOrder') {
        const orderId = `${strategyId}-${++nextOrder}`;
        const { kind: _kind, tag, ...spec } = c;
        const decisionCtx = { strategyId, strategyCodeHash: `${o.strategy.name}@${o.strategy.version}`, configHash: 'cfg', stateHash: 'state', causeEventId: 'cause', causePosition: null };
        const intent = { kind: 'place' as const, order: { orderId, ...spec } };
        const outcome = risk.decide(rk, intent, { eventTimeNs: t, market });
        record({ type: 'OrderIntended', eventTimeNs: t, data: { orderId, ...spec, clientTag: tag, decision: decisionCtx } } as TimedEvent);
        record({ ...outcome, eventTimeNs: t } as TimedEvent);
        if (outcome.type !== 'RiskApproved') continue;
        record({ type: 'OrderSubmitted', eventTimeNs: t, data: { orderId, venue: spec.venue, attempt: 1 } } as TimedEvent);
        send({ kind: 'SubmitOrder', orderId, ...spec }, t);
      } else if (c.kind === 'CancelOrder') {
        const ord = orders.orders.get(c.orderId);
        if (ord === undefined) continue;
        const ev = lifecycle.decide(ord, c.orderId, { kind: 'RequestCancel', ...(c.reason !== undefined ? { reason: c.reason } : {}) });
        if (ev instanceof TapedeckError) continue; // the strategy asked for something impossible: dropped, never applied
        record({ ...ev[0]!, eventTimeNs: t } as TimedEvent);
        send({ kind: 'CancelOrder', orderId: c.orderId, venue: ord.venue, instrument: ord.instrument }, t);
      } else {
        const ord = orders.orders.get(c.orderId);
        if (ord === undefined) continue;
        const outcome = risk.decide(rk, { kind: 'replace', orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, { eventTimeNs: t, market });
        if (lifecycle.transition(ord, { type: 'ReplaceRequested', data: { orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots } }) instanceof TapedeckError) continue;
        record({ ...outcome, eventTimeNs: t } as TimedEvent);
        if (outcome.type === 'ReplaceRequested') send({ kind: 'ReplaceOrder', orderId: c.orderId, venue: ord.venue, instrument: ord.instrument, priceTicks: c.priceTicks, qtyLots: c.qtyLots }, t);
      }
    }
  };

  /** Venue reports become recorded events at their receive time. */
  const drain = (): void => {
    while (out.length > 0) {
      const batch = out.splice(0, out.length);
      for (const r of batch) record({ type: r.type, eventTimeNs: r.receiveTimeNs, data: r.data } as TimedEvent);
    }
  };

  for (const e of marketEvents) {
    // Virtual clock: everything the venue has due before this event happens first, at its own time.
    for (let due = sim.nextDueNs(venue); due !== null && due <= e.eventTimeNs; due = sim.nextDueNs(venue)) {
      sim.step(venue, { kind: 'advance', nowNs: due }, out);
      drain();
    }
    applyMarketEvent(market, e);
    sim.stepMarket(venue, e, out);
    drain();
    risk.evolve(rk, e);
    portfolio.evolve(pf, e);
    st = o.strategy.evolve(st, e, market);
    act(o.strategy.decide(st, e, market), e.eventTimeNs);
  }
  // Let everything in flight land.
  for (let due = sim.nextDueNs(venue); due !== null; due = sim.nextDueNs(venue)) {
    sim.step(venue, { kind: 'advance', nowNs: due }, out);
    drain();
  }
  const hash = canonicalJson({ recorded, orders, portfolio: pf, risk: { ...rk, config: null }, strategy: st });
  return { recorded, market, orders, portfolio: pf, risk: rk, venue, strategyState: st, hash };
}
