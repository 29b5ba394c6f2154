/**
 * The engine's send path in live mode, in process with a scripted execution client (issue 9, the
 * survivors of `npm run mutate` on src/runtime/engine.ts): inputs without commands are journaled in
 * batches, a command's batch is made durable before it is sent, an operator's control input is durable
 * at once, what went out on the wire is journaled (role venue) where it happened, a cancel or replace the
 * client did not send is recorded as refused, an OrderStatusUnknown for an order that is not in doubt asks
 * nobody, and a live run without a client for a venue fails at its first send naming the venue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { envelopeToStored, makeEvent, type AnyEnvelope } from '../../domain/events/envelope.js';
import type { StrategyCommand, VenueCommand } from '../../domain/orders/commands.js';
import { NO_COMMANDS, type Strategy } from '../../domain/strategies/strategy.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunRequest } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type EventStore, type RecordedEvent } from '../../src/store/port.js';
import type { ExecutionClient, OrderStatusReport } from '../../src/venues/port.js';
import { tmpDir } from '../helpers/tmp.js';

const VENUE = 'SIM';
const X = 'SIM:X';
const CONFIG: ResolvedRunConfig = { strategy: 'scripted', seed: 1, params: {}, risk: {}, venues: [] };

/** What the strategy does on quote n (quote n has bid 10_000 + n). */
type Plan = Record<number, 'place' | 'cancel' | 'replace'>;

function scripted(plan: Plan): Strategy<Record<string, never>, { orderId: string | null }> {
  return {
    name: 'scripted',
    description: 'test strategy',
    version: '1',
    params: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    initialState: () => ({ orderId: null }),
    evolve: (s, e) => {
      if (e.type === 'OrderIntended' && s.orderId === null) s.orderId = e.data.orderId;
      return s;
    },
    decide: (s, e): readonly StrategyCommand[] => {
      if (e.type !== 'QuoteUpdated' || e.data.bidPriceTicks === null) return NO_COMMANDS;
      const what = plan[e.data.bidPriceTicks - 10_000];
      if (what === 'place') return [{ kind: 'PlaceOrder', venue: VENUE, instrument: X, side: 'buy', orderType: 'limit', priceTicks: e.data.bidPriceTicks, qtyLots: 2, priceScale: 2, qtyScale: 0, timeInForce: 'GTC', postOnly: false, reduceOnly: false }];
      if (what === 'cancel' && s.orderId !== null) return [{ kind: 'CancelOrder', orderId: s.orderId }];
      if (what === 'replace' && s.orderId !== null) return [{ kind: 'ReplaceOrder', orderId: s.orderId, priceTicks: 9_000, qtyLots: 2 }];
      return NO_COMMANDS;
    },
  };
}

function quote(n: number): AnyEnvelope {
  const t = BigInt(n + 1) * 1_000_000n;
  return makeEvent({
    id: uuidFromName('engine-send', `quote-${n}`), type: 'QuoteUpdated', stream: 'market', eventTimeNs: t, receiveTimeNs: t,
    data: { venue: VENUE, instrument: X, bidPriceTicks: 10_000 + n, bidQtyLots: 5, askPriceTicks: 10_010 + n, askQtyLots: 5, priceScale: 2, qtyScale: 0 },
  }) as AnyEnvelope;
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await tick(2);
  }
}

/** A client that records what it is sent and says on the wire what it sent (VenueMessageSent). */
class WireClient implements ExecutionClient {
  readonly venue = VENUE;
  readonly sent: VenueCommand[] = [];
  readonly queried: string[] = [];
  private reportListeners: Array<(e: AnyEnvelope) => void> = [];
  private sentListeners: Array<(e: AnyEnvelope) => void> = [];
  private n = 0;
  /** Kinds of command the client refuses as certainly not sent. */
  notSent = new Set<string>();
  async send(c: VenueCommand): Promise<void> {
    this.sent.push(c);
    if (this.notSent.has(c.kind)) throw new TapedeckError('VENUE_NOT_SENT', `${c.kind} for order ${c.orderId} not sent: reconciling`);
    this.wire(c.orderId, c.kind);
  }
  async queryOrder(orderId: string): Promise<OrderStatusReport> {
    this.queried.push(orderId);
    this.wire(orderId, 'QueryOrder');
    return { orderId, state: 'open', filledLots: 0, leavesLots: 2 };
  }
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  onReport(l: (e: AnyEnvelope) => void): void {
    this.reportListeners.push(l);
  }
  onSent(l: (e: AnyEnvelope) => void): void {
    this.sentListeners.push(l);
  }
  private wire(orderId: string, messageType: string): void {
    const t = 900_000_000n + BigInt(++this.n);
    const e = makeEvent({ id: uuidFromName('wire', `${messageType}-${this.n}`), type: 'VenueMessageSent', stream: 'venue', eventTimeNs: t, receiveTimeNs: t, data: { orderId, venue: VENUE, messageType } }) as AnyEnvelope;
    for (const l of this.sentListeners) l(e);
  }
  report(type: 'OrderAccepted' | 'OrderRejected' | 'OrderStatusUnknown', data: unknown): void {
    const t = 500_000_000n + BigInt(++this.n);
    const e = makeEvent({ id: uuidFromName('scripted-venue', `${type}-${this.n}`), type, stream: 'venue', eventTimeNs: t, receiveTimeNs: t, data: data as never }) as AnyEnvelope;
    for (const l of this.reportListeners) l(e);
  }
  order(i = 0): string {
    return (this.sent[i] as { orderId: string }).orderId;
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  plan?: Plan;
  quotes?: number;
  /** Runs before quote i is given to the engine. */
  before?: (i: number, ctx: { client: WireClient; inner: EmbeddedEventStore; runEvents: () => Promise<RecordedEvent[]> }) => Promise<void> | void;
  req?: Partial<RunRequest>;
}

async function live(setup: Setup) {
  const t = tmpDir('td-engine-send-');
  const inner = await EmbeddedEventStore.open(t.dir);
  cleanups.push(() => t.cleanup());
  cleanups.push(() => inner.close());
  /** Every append to a run stream, as the list of its event types. */
  const appends: string[][] = [];
  const appendToStream: EventStore['appendToStream'] = (stream, events, options) => {
    if (stream.startsWith('run-')) appends.push(events.map((e) => e.type));
    return inner.appendToStream(stream, events, options);
  };
  // Everything else is the store itself (bound, so its subscriptions see its own appends).
  const store = new Proxy(inner, {
    get: (target, prop) => {
      if (prop === 'appendToStream') return appendToStream;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as EventStore;
  const client = new WireClient();
  const runEvents = async (): Promise<RecordedEvent[]> => (await collect(inner.readAll())).filter((e) => e.stream.startsWith('run-'));
  async function* feed(): AsyncGenerator<AnyEnvelope> {
    for (let i = 0; i < (setup.quotes ?? 3); i++) {
      await setup.before?.(i, { client, inner, runEvents });
      yield quote(i);
    }
    await tick(20);
  }
  const run = runKernel({
    mode: 'live', store, config: CONFIG, sourceLabel: 'scripted', events: feed(), executionClients: new Map([[VENUE, client]]),
    strategyOverride: scripted(setup.plan ?? {}), ...setup.req,
  });
  return { run, client, appends, runEvents };
}

const ofType = (evs: RecordedEvent[], type: string) => evs.filter((e) => e.type === type);
const dataOf = (e: RecordedEvent | undefined) => e?.data as Record<string, unknown>;

describe('journal batches', () => {
  it('inputs that make no command are appended journalBatch at a time, not one by one', async () => {
    const l = await live({ quotes: 7, req: { journalBatch: 3, journalIntervalMs: 0 } });
    expect((await l.run).outcome).toBe('completed');
    const q = 'QuoteUpdated';
    expect(l.appends).toEqual([['RunStarted'], [q, q, q], [q, q, q], [q, 'RunEnded']]);
  });

  it('an input that makes a command is durable, with its decision, before the command is sent', async () => {
    const l = await live({ quotes: 3, plan: { 1: 'place' }, req: { journalIntervalMs: 0 } });
    await l.run;
    expect(l.appends.slice(0, 2)).toEqual([['RunStarted'], ['QuoteUpdated', 'QuoteUpdated', 'OrderIntended', 'RiskApproved', 'OrderSubmitted']]);
    expect(l.client.sent.map((c) => c.kind)).toEqual(['SubmitOrder']);
  });
});

describe("an operator's control input is durable at once", () => {
  for (const [type, data] of [
    ['KillSwitchChanged', { state: 'HALTED', reason: 'lunch', by: 'alice' }],
    ['CancelAllRequested', { reason: 'flatten', by: 'alice' }],
  ] as const) {
    it(`${type}: in the run's log before the next market input is read`, async () => {
      const l = await live({
        quotes: 3,
        req: { journalIntervalMs: 0 },
        before: async (i, { inner, runEvents }) => {
          if (i !== 1) return;
          const env = makeEvent({ id: crypto.randomUUID(), type, stream: 'control', eventTimeNs: 1_500_000n, receiveTimeNs: 1_500_000n, data: data as never });
          await inner.appendToStream('control', [envelopeToStored(env as AnyEnvelope)]);
          await until(`${type} durable in the run stream`, async () => ofType(await runEvents(), type).length === 1);
        },
      });
      expect((await l.run).outcome).toBe(type === 'KillSwitchChanged' ? 'halted' : 'completed');
      expect(l.appends[1]).toEqual(['QuoteUpdated', type]);
    });
  }
});

describe('what went out on the wire is journaled where it happened, role venue', () => {
  it('a sent order, even on the last input of the run', async () => {
    const l = await live({ quotes: 2, plan: { 1: 'place' } });
    await l.run;
    const evs = await l.runEvents();
    const wire = ofType(evs, 'VenueMessageSent');
    expect(wire.map((e) => [dataOf(e).messageType, e.metadata.role])).toEqual([['SubmitOrder', 'venue']]);
    expect(evs.map((e) => e.type).slice(-3)).toEqual(['OrderSubmitted', 'VenueMessageSent', 'RunEnded']);
  });

  it('a query after an unknown outcome: journaled before the answer it brought', async () => {
    const l = await live({
      quotes: 3,
      plan: { 0: 'place' },
      before: async (i, { client }) => {
        if (i !== 1) return;
        client.report('OrderStatusUnknown', { orderId: client.order(0), reason: 'connection lost' });
        await tick(20);
      },
    });
    expect((await l.run).outcome).toBe('completed');
    const evs = await l.runEvents();
    expect(l.client.queried).toEqual([l.client.order(0)]);
    const query = ofType(evs, 'VenueMessageSent').find((e) => dataOf(e).messageType === 'QueryOrder')!;
    expect(query.metadata.role).toBe('venue');
    const unknown = ofType(evs, 'OrderStatusUnknown')[0]!;
    const answer = ofType(evs, 'OrderAccepted')[0]!;
    expect(unknown.position).toBeLessThan(query.position);
    expect(query.position).toBeLessThan(answer.position);
    expect(evs.filter((e) => e.position > query.position && e.position < answer.position)).toEqual([]);
  });
});

describe('a cancel or replace the client did not send is recorded as refused', () => {
  it('CancelRejected and ReplaceRejected, as inputs caused by the decision\'s input, with ids of their own', async () => {
    const l = await live({
      quotes: 4,
      plan: { 0: 'place', 2: 'cancel', 3: 'replace' },
      before: async (i, { client }) => {
        if (i !== 1) return;
        client.notSent = new Set(['CancelOrder', 'ReplaceOrder']);
        client.report('OrderAccepted', { orderId: client.order(0), venueOrderId: 'V1' });
        await tick(20);
      },
    });
    const s = await l.run;
    expect(s.outcome).toBe('completed');
    const evs = await l.runEvents();
    const orderId = l.client.order(0);
    expect(l.client.sent.map((c) => c.kind)).toEqual(['SubmitOrder', 'CancelOrder', 'ReplaceOrder']);
    for (const [type, kind, n] of [['CancelRejected', 'CancelOrder', 2], ['ReplaceRejected', 'ReplaceOrder', 3]] as const) {
      const refused = ofType(evs, type);
      expect(refused.map((e) => dataOf(e))).toEqual([{ orderId, reason: `not sent: ${kind} for order ${orderId} not sent: reconciling` }]);
      const e = refused[0]!;
      const cause = quote(n);
      expect(e.metadata.role).toBe('input');
      expect(e.id).toBe(uuidFromName(s.runId, `not-sent:${cause.id}:${kind}:${orderId}`));
      expect(e.metadata).toMatchObject({ $causationId: cause.id, $correlationId: s.runId, eventTimeNs: cause.eventTimeNs.toString(), receiveTimeNs: cause.receiveTimeNs.toString() });
    }
  });
});

describe('OrderStatusUnknown for an order that is not in doubt', () => {
  it('asks nobody and halts nothing: an order already rejected, or one never seen', async () => {
    const l = await live({
      quotes: 3,
      plan: { 0: 'place' },
      before: async (i, { client }) => {
        if (i !== 1) return;
        client.report('OrderRejected', { orderId: client.order(0), reason: 'no' });
        client.report('OrderStatusUnknown', { orderId: client.order(0), reason: 'late news' });
        client.report('OrderStatusUnknown', { orderId: 'never-seen', reason: 'a stranger' });
        await tick(20);
      },
    });
    expect((await l.run).outcome).toBe('completed');
    expect(l.client.queried).toEqual([]);
    expect(ofType(await l.runEvents(), 'KillSwitchChanged')).toEqual([]);
  });
});

describe('a live run without a client for the venue', () => {
  it('fails at its first send, naming the venue; nothing is sent', async () => {
    for (const executionClients of [undefined, new Map<string, ExecutionClient>()]) {
      const l = await live({ quotes: 2, plan: { 0: 'place' }, req: { executionClients } });
      const err = await l.run.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(TapedeckError);
      expect(err).toMatchObject({ code: 'UNKNOWN_VENUE', message: `no execution client for venue ${VENUE}`, where: { field: 'venue' } });
      expect(l.client.sent).toEqual([]);
    }
  });
});

describe('decisions cite their cause', () => {
  it('live: by id and revision in the run stream', async () => {
    const l = await live({ quotes: 3, plan: { 1: 'place' } });
    await l.run;
    const evs = await l.runEvents();
    const intended = ofType(evs, 'OrderIntended')[0]!;
    const cause = evs.find((e) => e.id === quote(1).id)!;
    expect(cause.metadata.role).toBe('input');
    const decision = dataOf(intended).decision as Record<string, unknown>;
    expect(decision).toMatchObject({ causeEventId: cause.id, causeRevision: cause.revision });
    expect(decision).not.toHaveProperty('causeInput');
  });

  it('a replay that references its inputs: by id and number among them, no input is journaled, and the venue\'s answers due before an input come ahead of it', async () => {
    const t = tmpDir('td-engine-ref-');
    const store = await EmbeddedEventStore.open(t.dir);
    cleanups.push(() => t.cleanup());
    cleanups.push(() => store.close());
    async function* feed(): AsyncGenerator<AnyEnvelope> {
      for (let i = 0; i < 3; i++) yield quote(i);
    }
    const config: ResolvedRunConfig = { ...CONFIG, venues: [{ venue: VENUE, latency: { submitNs: '1000', ackNs: '1000', cancelNs: '1000', jitterNs: 0 }, fees: { makerBps: '0', takerBps: '0' }, seed: 1 }] };
    const s = await runKernel({
      mode: 'replay', store, config, sourceLabel: 'ref', events: feed(), strategyOverride: scripted({ 0: 'place' }),
      inputsReference: { source: { kind: 'catalog', catalog: '/nowhere', datasetId: 'd1', files: [{ path: 'a.parquet', rows: 3, bytes: 1, sha256: '0'.repeat(64) }] }, inputs: 3 },
    });
    const evs = await collect(store.readStream(`run-${s.runId}`));
    expect(evs.filter((e) => e.metadata.role === 'input')).toEqual([]);
    const decision = dataOf(ofType(evs, 'OrderIntended')[0]).decision as Record<string, unknown>;
    expect(decision).toMatchObject({ causeEventId: quote(0).id, causeInput: 0 });
    expect(decision.causeRevision ?? null).toBeNull();
    // The simulated venue's answer, due before input 1, is journaled ahead of it (made after 1 input was read).
    const accepted = ofType(evs, 'OrderAccepted');
    expect(accepted.map((e) => [e.metadata.role, e.metadata.inputs])).toEqual([['venue', 1]]);
  });
});
