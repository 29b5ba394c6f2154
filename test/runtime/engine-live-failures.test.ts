/**
 * The engine's live send path when things go wrong, with a scripted execution client and stores that fail:
 * a command never reaches a venue before it is durable; a store that cannot write halts the engine; each
 * way an unknown order outcome halts trading (no client, the venue cannot be asked, an answer that cannot be
 * reconciled) ends the run `halted` with the reason; a venue session reset halts until reconciliation agrees;
 * a command the client certainly did not send is recorded as refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { makeEvent, type AnyEnvelope } from '../../domain/events/envelope.js';
import type { StrategyCommand, VenueCommand } from '../../domain/orders/commands.js';
import type { VenueReport } from '../../domain/reconcile/reconcile.js';
import { NO_COMMANDS, type Strategy } from '../../domain/strategies/strategy.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, StoreUnavailableError, type AppendResult, type EventData, type EventStore, type RecordedEvent } from '../../src/store/port.js';
import type { ExecutionClient, OrderStatusReport, ReconciliationRequest } from '../../src/venues/port.js';
import { tmpDir } from '../helpers/tmp.js';

const VENUE = 'SIM';
const X = 'SIM:X';
const CONFIG: ResolvedRunConfig = { strategy: 'buys-every-quote', seed: 1, params: {}, risk: {}, venues: [] };

/** Buys one lot at the bid on every quote: each quote is one decision, so a halt shows as a denial. */
const buysEveryQuote: Strategy<Record<string, never>, { quotes: number }> = {
  name: 'buys-every-quote',
  description: 'test strategy',
  version: '1',
  params: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  initialState: () => ({ quotes: 0 }),
  evolve: (s, e) => {
    if (e.type === 'QuoteUpdated') s.quotes++;
    return s;
  },
  decide: (_s, e): readonly StrategyCommand[] => {
    if (e.type !== 'QuoteUpdated' || e.data.bidPriceTicks === null) return NO_COMMANDS;
    return [{ kind: 'PlaceOrder', venue: VENUE, instrument: X, side: 'buy', orderType: 'limit', priceTicks: e.data.bidPriceTicks, qtyLots: 1, priceScale: 2, qtyScale: 0, timeInForce: 'GTC', postOnly: false, reduceOnly: false }];
  },
};

function quote(n: number): AnyEnvelope {
  const t = BigInt(n + 1) * 1_000_000n;
  return makeEvent({
    id: uuidFromName('engine-live-failures', `quote-${n}`), type: 'QuoteUpdated', stream: 'market', eventTimeNs: t, receiveTimeNs: t,
    data: { venue: VENUE, instrument: X, bidPriceTicks: 10_000 + n, bidQtyLots: 5, askPriceTicks: 10_010 + n, askQtyLots: 5, priceScale: 2, qtyScale: 0 },
  }) as AnyEnvelope;
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await tick(2);
  }
}

/** A venue client whose answers the test scripts. */
class ScriptedClient implements ExecutionClient {
  readonly venue = VENUE;
  readonly sent: VenueCommand[] = [];
  readonly queried: string[] = [];
  private listeners: Array<(e: AnyEnvelope) => void> = [];
  private n = 0;
  send: (c: VenueCommand) => Promise<void> = async (c) => {
    this.sent.push(c);
  };
  queryOrder: (orderId: string) => Promise<OrderStatusReport> = async (orderId) => {
    this.queried.push(orderId);
    return { orderId, state: 'open', filledLots: 0, leavesLots: 1 };
  };
  reconciliationReport?: (r: ReconciliationRequest) => Promise<VenueReport>;
  reconciledCalls = 0;
  reconciled(): void {
    this.reconciledCalls++;
  }
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  onReport(listener: (e: AnyEnvelope) => void): void {
    this.listeners.push(listener);
  }
  /** The venue says something (as the adapter would report it). */
  report<T extends 'OrderAccepted' | 'OrderStatusUnknown' | 'VenueSessionReset' | 'KillSwitchChanged'>(type: T, data: unknown): void {
    const t = 500_000_000n + BigInt(++this.n);
    const e = makeEvent({ id: uuidFromName('scripted-venue', `${type}-${this.n}`), type, stream: 'venue', eventTimeNs: t, receiveTimeNs: t, data: data as never }) as AnyEnvelope;
    for (const l of this.listeners) l(e);
  }
  /** The orderId of the n-th order sent. */
  order(i = 0): string {
    return (this.sent[i] as { orderId: string }).orderId;
  }
}

interface Script {
  /** Runs before quote i is given to the engine (the engine has processed everything before it). */
  before?: (i: number, client: ScriptedClient, clients: Map<string, ExecutionClient>) => Promise<void> | void;
  quotes?: number;
  store?: (inner: EventStore) => EventStore;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function live(script: Script = {}) {
  const t = tmpDir('td-live-fail-');
  const inner = await EmbeddedEventStore.open(t.dir);
  cleanups.push(() => t.cleanup());
  cleanups.push(() => inner.close());
  const store = script.store ? script.store(inner) : inner;
  const client = new ScriptedClient();
  const clients = new Map<string, ExecutionClient>([[VENUE, client]]);
  let pulled = 0;
  async function* feed(): AsyncGenerator<AnyEnvelope> {
    for (let i = 0; i < (script.quotes ?? 4); i++) {
      await script.before?.(i, client, clients);
      pulled++;
      yield quote(i);
    }
    await tick(20);
  }
  const run = runKernel({ mode: 'live', store, config: CONFIG, sourceLabel: 'scripted', events: feed(), executionClients: clients, strategyOverride: buysEveryQuote });
  const events = async (): Promise<RecordedEvent[]> => collect(inner.readAll());
  return { run, client, clients, events, pulled: () => pulled, inner };
}

const types = (evs: RecordedEvent[]) => evs.map((e) => e.type);
const ofType = (evs: RecordedEvent[], type: string) => evs.filter((e) => e.type === type);
const dataOf = (e: RecordedEvent | undefined) => e?.data as Record<string, unknown>;

/** A store whose appends after the first `healthy` ones wait for the test to settle them. */
function gatedStore(inner: EventStore, healthy: number) {
  const gate: { calls: EventData[][]; release: Array<{ resolve: () => void; reject: (e: unknown) => void }> } = { calls: [], release: [] };
  let n = 0;
  const store: EventStore = Object.create(inner) as EventStore;
  store.appendToStream = async (stream, events, options): Promise<AppendResult> => {
    if (n++ < healthy) return inner.appendToStream(stream, events, options);
    gate.calls.push(events);
    await new Promise<void>((resolve, reject) => gate.release.push({ resolve, reject }));
    return inner.appendToStream(stream, events, options);
  };
  return { store, gate };
}

describe('the live send path: durable before sent', () => {
  it('a command is not sent while the append that records it has not completed, and never when it fails', async () => {
    let gate: ReturnType<typeof gatedStore>['gate'] | null = null;
    const l = await live({ quotes: 3, store: (inner) => {
      const g = gatedStore(inner, 1); // RunStarted goes through; the decision's batch hangs
      gate = g.gate;
      return g.store;
    } });
    const failed = l.run.then(() => null, (e: unknown) => e);
    await until('the append that records the order', () => gate!.calls.length > 0);
    expect(gate!.calls[0]!.map((e) => e.type)).toEqual(['QuoteUpdated', 'OrderIntended', 'RiskApproved', 'OrderSubmitted']);
    await tick(30);
    expect(l.client.sent).toEqual([]); // not durable yet: the venue has seen nothing
    gate!.release[0]!.reject(new StoreUnavailableError('disk gone'));
    const err = await failed;
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', message: 'disk gone' });
    expect(l.client.sent).toEqual([]);
  });

  it('once the append completes, the command goes out', async () => {
    let gate: ReturnType<typeof gatedStore>['gate'] | null = null;
    const l = await live({ quotes: 1, store: (inner) => {
      const g = gatedStore(inner, 1);
      gate = g.gate;
      return g.store;
    } });
    await until('the append that records the order', () => gate!.calls.length > 0);
    expect(l.client.sent).toEqual([]);
    gate!.release[0]!.resolve();
    await until('the send', () => l.client.sent.length === 1);
    // The rest of the run's appends are let through as they come.
    const drain = setInterval(() => {
      for (const r of gate!.release.splice(0)) r.resolve();
    }, 2);
    const s = await l.run;
    clearInterval(drain);
    expect(s.outcome).toBe('completed');
  });
});

describe('a store that cannot write halts the engine', () => {
  it('stops at the first failed append: nothing sent, no further input read, the store error reported', async () => {
    const l = await live({ quotes: 200, store: (inner) => {
      let n = 0;
      const store: EventStore = Object.create(inner) as EventStore;
      store.appendToStream = async (stream, events, options) => {
        if (n++ === 0) return inner.appendToStream(stream, events, options);
        throw new StoreUnavailableError('segment write failed: EIO');
      };
      return store;
    } });
    await expect(l.run).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: 'segment write failed: EIO' });
    expect(l.client.sent).toEqual([]);
    expect(l.pulled()).toBeLessThanOrEqual(3);
    // Only RunStarted made it; no RunEnded pretends the run finished.
    expect(types(await l.events())).toEqual(['RunStarted']);
  });
});

describe('an unknown order outcome halts trading, three ways, and the run ends halted', () => {
  /** The first order is sent; its outcome becomes unknown before quote 1; quotes 1.. are decisions after. */
  async function unknownThen(setup: (client: ScriptedClient, clients: Map<string, ExecutionClient>) => void) {
    const l = await live({
      quotes: 3,
      before: async (i, client, clients) => {
        if (i !== 1) return;
        await until('the first order sent', () => client.sent.length === 1);
        setup(client, clients);
        client.report('OrderStatusUnknown', { orderId: client.order(0), reason: 'connection lost' });
        await tick(20);
      },
    });
    const summary = await l.run;
    return { summary, evs: await l.events(), client: l.client };
  }

  function expectHalted(r: { summary: RunSummary; evs: RecordedEvent[]; client: ScriptedClient }, why: RegExp): void {
    const unknown = ofType(r.evs, 'OrderStatusUnknown')[0]!;
    const halt = ofType(r.evs, 'KillSwitchChanged')[0]!;
    expect(dataOf(halt)).toMatchObject({ state: 'HALTED', by: 'engine', reason: expect.stringMatching(why) });
    expect(halt.metadata.$causationId).toBe(unknown.id);
    expect(halt.position).toBeGreaterThan(unknown.position);
    // After the halt, every new order is denied by the kill switch, and nothing more reaches the venue.
    const after = r.evs.filter((e) => e.position > halt.position);
    expect(ofType(after, 'OrderIntended').length).toBe(2);
    expect(ofType(after, 'RiskApproved')).toEqual([]);
    expect(ofType(after, 'RiskDenied').map((e) => dataOf(e).code)).toEqual(['KILL_SWITCH', 'KILL_SWITCH']);
    expect(r.client.sent.length).toBe(1);
    // Finding 6: the run does not say completed; it says halted, and why.
    const ended = ofType(r.evs, 'RunEnded')[0]!;
    expect(dataOf(ended)).toMatchObject({ outcome: 'halted', reason: `kill switch HALTED: ${String(dataOf(halt).reason)}` });
    expect(r.summary).toMatchObject({ outcome: 'halted', reason: `kill switch HALTED: ${String(dataOf(halt).reason)}` });
  }

  it('1: no client can be asked about the order', async () => {
    const r = await unknownThen((_c, clients) => clients.delete(VENUE));
    expectHalted(r, /is in an unknown state and no client for SIM can be asked/);
    expect(r.client.queried).toEqual([]);
  });

  it('2: the venue cannot be asked (the query fails)', async () => {
    const r = await unknownThen((c) => {
      c.queryOrder = async () => {
        throw new TapedeckError('VENUE_QUERY_TIMEOUT', 'not logged in within 5000 ms');
      };
    });
    expectHalted(r, /is in an unknown state and the venue could not be asked: not logged in within 5000 ms/);
  });

  it('3: the answer cannot be reconciled (fills the answer does not carry; "not found" for an accepted order)', async () => {
    const r = await unknownThen((c) => {
      c.queryOrder = async (orderId) => ({ orderId, state: 'filled', filledLots: 1, leavesLots: 0 });
    });
    expectHalted(r, /the venue's answer cannot be reconciled: .*fetch the order's executions/);
    const accepted = await unknownThen((c) => {
      c.report('OrderAccepted', { orderId: c.order(0), venueOrderId: 'V1' });
      c.queryOrder = async (orderId) => ({ orderId, state: 'not-found', filledLots: 0, leavesLots: 0 });
    });
    expectHalted(accepted, /cannot be reconciled: .*not found for an order it had acknowledged/);
  });

  it('and when the answer resolves the order, trading goes on and the run completes', async () => {
    const r = await unknownThen(() => undefined);
    expect(r.client.queried).toEqual([r.client.order(0)]);
    expect(ofType(r.evs, 'KillSwitchChanged')).toEqual([]);
    expect(ofType(r.evs, 'OrderAccepted').map((e) => e.metadata.$causationId)).toEqual([ofType(r.evs, 'OrderStatusUnknown')[0]!.id]);
    expect(r.client.sent.length).toBe(3);
    expect(r.summary.outcome).toBe('completed');
    expect(dataOf(ofType(r.evs, 'RunEnded')[0])).toMatchObject({ outcome: 'completed' });
  });
});

describe('a run that ends halted says so (finding 6)', () => {
  it('a venue halted by an operator at the end: outcome halted, naming the venue and the reason', async () => {
    const l = await live({ quotes: 3, before: async (i, client) => {
      if (i === 1) {
        client.report('KillSwitchChanged', { state: 'HALTED', reason: 'operator: venue misbehaving', by: 'dashboard', venue: VENUE });
        await tick(20);
      }
    } });
    const s = await l.run;
    expect(s).toMatchObject({ outcome: 'halted', reason: 'kill switch HALTED for SIM: operator: venue misbehaving' });
    expect(dataOf(ofType(await l.events(), 'RunEnded')[0])).toMatchObject({ outcome: 'halted', reason: 'kill switch HALTED for SIM: operator: venue misbehaving' });
    expect(l.client.sent.length).toBe(1);
  });
});

describe('a venue session reset halts trading until reconciliation agrees', () => {
  /** The venue's answer: the orders asked about are open (as the queries said), and the given positions. */
  const report = (over: Partial<VenueReport>) => async (r: ReconciliationRequest): Promise<VenueReport> => ({
    venue: VENUE, orders: r.orderIds.map((orderId) => ({ orderId, state: 'open' as const, filledLots: 0, leavesLots: 1 })),
    openOrdersComplete: true, fills: [], positions: [], positionsComplete: true, ...over,
  });
  async function resetThen(reconciliation: ScriptedClient['reconciliationReport'], operatorHalt = false) {
    const l = await live({
      quotes: 4,
      before: async (i, client) => {
        if (i === 0) client.reconciliationReport = reconciliation;
        if (i !== 2) return;
        await until('two orders sent', () => client.sent.length === 2);
        if (operatorHalt) client.report('KillSwitchChanged', { state: 'HALTED', reason: 'operator: news pending', by: 'dashboard' });
        client.report('OrderAccepted', { orderId: client.order(0), venueOrderId: 'V1' });
        client.report('VenueSessionReset', { venue: VENUE, previousSession: 'S1', session: 'S2', reason: 'new SoupBinTCP session: the server is in session S2, was S1' });
        await tick(20);
      },
    });
    const summary = await l.run;
    return { summary, evs: await l.events(), client: l.client };
  }

  it('halts, marks both working orders unknown and queries them, reconciles, then trades again', async () => {
    const r = await resetThen(report({ positions: [] }));
    const reset = ofType(r.evs, 'VenueSessionReset')[0]!;
    const after = r.evs.filter((e) => e.position > reset.position);
    expect(dataOf(after[0])).toMatchObject({ state: 'HALTED', by: 'engine', reason: expect.stringMatching(/^SIM new SoupBinTCP session: .*trading halted until ledger and venue are reconciled$/) });
    expect(ofType(after, 'OrderStatusUnknown').map((e) => dataOf(e).orderId)).toEqual([r.client.order(0), r.client.order(1)]);
    expect(r.client.queried).toEqual([r.client.order(0), r.client.order(1)]);
    const verdict = ofType(after, 'ReconciliationCompleted')[0]!;
    expect(dataOf(verdict)).toMatchObject({ venue: VENUE, ok: true });
    const resumed = ofType(after, 'KillSwitchChanged').find((e) => dataOf(e).state === 'ACTIVE')!;
    expect(resumed.position).toBeGreaterThan(verdict.position);
    // Nothing was approved between the reset and the resumption; the next quotes trade again.
    expect(after.filter((e) => e.position < resumed.position && e.type === 'RiskApproved')).toEqual([]);
    expect(after.filter((e) => e.position > resumed.position && e.type === 'RiskApproved').length).toBe(2);
    expect(r.client.reconciledCalls).toBe(1);
    expect(r.summary.outcome).toBe('completed');
  });

  it('stays halted when the venue reports a position the ledger cannot explain, and the run ends halted saying so', async () => {
    const r = await resetThen(report({ positions: [{ instrument: X, qtyLots: 5, qtyScale: 0 }] }));
    const verdicts = ofType(r.evs, 'ReconciliationCompleted');
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.every((v) => dataOf(v).ok === false)).toBe(true);
    expect(dataOf(verdicts[0])).toMatchObject({ mismatches: [{ what: 'position', key: X, expected: '0 lots', actual: '5 lots' }] });
    expect(ofType(r.evs, 'KillSwitchChanged').map((e) => dataOf(e).state)).not.toContain('ACTIVE');
    const reset = ofType(r.evs, 'VenueSessionReset')[0]!;
    expect(r.evs.filter((e) => e.position > reset.position && e.type === 'RiskApproved')).toEqual([]);
    expect(r.client.sent.length).toBe(2);
    expect(r.client.reconciledCalls).toBe(0);
    expect(r.summary).toMatchObject({ outcome: 'halted', reason: expect.stringMatching(/^kill switch HALTED: SIM: ledger and venue disagree in 1 place, first position SIM:X: ledger 0 lots, venue 5 lots$/) });
  });

  it('never lifts a halt someone else set: books agree, and the run ends halted naming the operator\'s reason', async () => {
    const r = await resetThen(report({ positions: [] }), true);
    expect(dataOf(ofType(r.evs, 'ReconciliationCompleted')[0])).toMatchObject({ ok: true });
    const switches = ofType(r.evs, 'KillSwitchChanged').map((e) => dataOf(e));
    expect(switches.map((d) => d.state)).toEqual(['HALTED', 'HALTED', 'HALTED']);
    expect(switches.at(-1)).toMatchObject({ by: 'engine', reason: 'reconciled with SIM; still halted: operator: news pending (by dashboard)' });
    expect(r.evs.filter((e) => e.type === 'RiskApproved').length).toBe(2);
    expect(r.summary).toMatchObject({ outcome: 'halted', reason: 'kill switch HALTED: reconciled with SIM; still halted: operator: news pending (by dashboard)' });
  });

  it('stays halted when the venue cannot report at all', async () => {
    const r = await resetThen(async () => {
      throw new TapedeckError('VENUE_QUERY_UNAVAILABLE', 'no drop copy');
    });
    expect(dataOf(ofType(r.evs, 'ReconciliationCompleted')[0])).toMatchObject({ ok: false, mismatches: [{ what: 'report', key: VENUE }] });
    expect(r.summary).toMatchObject({ outcome: 'halted', reason: expect.stringMatching(/no reconciliation report: VENUE_QUERY_UNAVAILABLE: no drop copy/) });
    const none = await resetThen(undefined);
    expect(ofType(none.evs, 'ReconciliationCompleted')).toEqual([]);
    expect(none.summary).toMatchObject({ outcome: 'halted', reason: expect.stringMatching(/trading halted until ledger and venue are reconciled/) });
  });
});

describe('a command the client did not send', () => {
  it('is recorded as refused when the client says it certainly did not go out, and trading goes on', async () => {
    const l = await live({ quotes: 2, before: (i, client) => {
      if (i === 0) {
        client.send = async (c) => {
          if (client.sent.push(c) === 1) throw new TapedeckError('VENUE_NOT_SENT', `SubmitOrder for order ${(c as { orderId: string }).orderId} not sent: reconciling`);
        };
      }
    } });
    const s = await l.run;
    const evs = await l.events();
    const rejected = ofType(evs, 'OrderRejected');
    expect(rejected.map((e) => dataOf(e))).toEqual([{ orderId: l.client.order(0), reason: `not sent: SubmitOrder for order ${l.client.order(0)} not sent: reconciling` }]);
    expect(rejected[0]!.metadata.role).toBe('input');
    expect(s.outcome).toBe('completed');
  });

  it('any other send failure ends the run as failed (the outcome is not known to be "not sent")', async () => {
    const l = await live({ quotes: 2, before: (i, client) => {
      if (i === 0) {
        client.send = async () => {
          throw new Error('socket hang up');
        };
      }
    } });
    await expect(l.run).rejects.toThrow('socket hang up');
    expect(dataOf(ofType(await l.events(), 'RunEnded')[0])).toMatchObject({ outcome: 'failed', reason: 'socket hang up' });
  });
});
