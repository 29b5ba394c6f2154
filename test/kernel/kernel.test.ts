/** The kernel core and engine: determinism, accounting and risk properties, and a strategy that throws. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { initKernel, processInput, type KernelOutput } from '../../domain/kernel/kernel.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { kernelSetup, runKernel } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { getStrategy } from '../../domain/strategies/registry.js';
import type { Strategy } from '../../domain/strategies/strategy.js';

function config(seed: number, over: Partial<ResolvedRunConfig> = {}): ResolvedRunConfig {
  return {
    strategy: 'market-maker',
    seed,
    params: { venue: 'SIMX', instrument: 'SIMX:BTCUSD', priceScale: 2, qtyScale: 4, quoteQtyLots: 100, halfSpreadTicks: 1, maxInventoryLots: 2000, sizeJitterLots: 50 },
    risk: { maxOpenOrders: 4, defaults: { maxOrderQtyLots: 140 } },
    venues: [{ venue: 'SIMX', latency: { submitNs: '500000', ackNs: '500000', cancelNs: '500000', jitterNs: 200000 }, fees: { makerBps: '-0.5', takerBps: '5' }, seed }],
    ...over,
  };
}

function run(runId: string, cfg: ResolvedRunConfig, inputs: AnyEnvelope[]) {
  const k = initKernel(kernelSetup(runId, cfg));
  const out: KernelOutput[] = [];
  const all: KernelOutput[] = [];
  for (const e of inputs) {
    out.length = 0;
    processInput(k, e, null, out);
    all.push(...out);
  }
  return { k, outputs: all };
}

describe('kernel properties', () => {
  it('the same inputs give the same decisions, under any run id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 300, max: 3000 }), (dataSeed, cfgSeed, n) => {
        const inputs = [...syntheticL2({ seed: dataSeed, events: n })];
        const a = run('run-a', config(cfgSeed), inputs);
        const b = run('run-b', config(cfgSeed), inputs);
        expect(b.k.decisionsHash).toBe(a.k.decisionsHash);
        expect(b.k.decisions).toBe(a.k.decisions);
        const types = (o: KernelOutput[]) => o.map((x) => (x.kind === 'event' ? x.env.type : x.kind));
        expect(types(b.outputs)).toEqual(types(a.outputs));
      }),
      { numRuns: 15 },
    );
  });

  it('positions equal the sum of fills, and no approved order breaches the risk limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 100, max: 400 }), (seed, maxOpen, maxQty) => {
        const cfg = config(seed, { risk: { maxOpenOrders: maxOpen, defaults: { maxOrderQtyLots: maxQty } } });
        const { k, outputs } = run('run-p', cfg, [...syntheticL2({ seed, events: 2500 })]);
        const events = outputs.flatMap((o) => (o.kind === 'event' ? [o.env] : []));
        let net = 0;
        for (const e of events) if (e.type === 'OrderFilled') net += e.data.side === 'buy' ? e.data.qtyLots : -e.data.qtyLots;
        const positions = [...k.portfolio.positions.values()].filter((p) => p.instrument === 'SIMX:BTCUSD');
        expect(positions.reduce((a, p) => a + p.qtyLots, 0)).toBe(net);
        // Replay the lifecycle: at every approval, open orders stay within the limit and qty within max.
        const intents = new Map<string, number>();
        const open = new Set<string>();
        for (const e of events) {
          if (e.type === 'OrderIntended') intents.set(e.data.orderId, e.data.qtyLots);
          if (e.type === 'RiskApproved') {
            expect(intents.get(e.data.orderId)!).toBeLessThanOrEqual(maxQty);
            open.add(e.data.orderId);
            expect(open.size).toBeLessThanOrEqual(maxOpen);
          }
          if (e.type === 'OrderCanceled' || e.type === 'OrderRejected' || e.type === 'OrderExpired' || (e.type === 'OrderFilled' && e.data.leavesLots === 0)) open.delete(e.data.orderId);
        }
        expect(k.decisions).toBeGreaterThan(0);
      }),
      { numRuns: 12 },
    );
  });
});

describe('engine', () => {
  it('a strategy that throws ends the run with RunEnded naming the strategy and the input', async () => {
    const t = tmpDir('td-throw-');
    const store = await EmbeddedEventStore.open(t.dir);
    const mm = getStrategy('market-maker');
    let seen = 0;
    const broken: Strategy = { ...mm, evolve: (s, e, m) => {
      if (++seen === 50) throw new Error('division by zero in my signal');
      return mm.evolve(s, e, m);
    } };
    const inputs = (async function* () { yield* syntheticL2({ seed: 3, events: 200 }); })();
    await expect(runKernel({ mode: 'replay', store, config: config(1), sourceLabel: 'synthetic', events: inputs, strategyOverride: broken }))
      .rejects.toMatchObject({ code: 'STRATEGY_FAILED', message: expect.stringMatching(/strategy market-maker@.* threw on .*division by zero in my signal/) });
    const ended = await collect(store.readAll({ filter: { eventTypes: ['RunEnded'] } }));
    expect(ended.length).toBe(1);
    expect(ended[0]!.data).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/STRATEGY_FAILED: strategy market-maker.*division by zero/) });
    // Everything up to the failure is in the store, in order.
    const runEvents = await collect(store.readStream(ended[0]!.stream));
    expect(runEvents[0]!.type).toBe('RunStarted');
    const recordedInputs = runEvents.filter((e) => e.metadata.role === 'input');
    expect(recordedInputs.length).toBe((ended[0]!.data as { events: number }).events);
    expect((ended[0]!.data as { reason: string }).reason).toContain(recordedInputs.at(-1)!.id);
    await store.close();
    t.cleanup();
  });
});
