/** Stores holding synthetic runs (RUN_LAYOUT.md shape), and independent facts computed from their events. */
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { EventData } from '../../src/store/port.js';
import { syntheticRun, type SyntheticRunOptions } from '../../projections/synthetic.js';

export interface RunFacts {
  events: number;
  fills: number;
  orders: number;
  trades: number;
  /** instrument → signed lots, Σ signed price×lots, Σ fees (mantissas) — computed here, not by the domain. */
  byInstrument: Map<string, { lots: bigint; cash: bigint; fees: bigint; fills: number }>;
}

export function factsOf(events: EventData[]): RunFacts {
  const f: RunFacts = { events: events.length, fills: 0, orders: 0, trades: 0, byInstrument: new Map() };
  for (const e of events) {
    const d = e.data as Record<string, any>;
    if (e.type === 'OrderIntended') f.orders++;
    if (e.type === 'TradeReported') f.trades++;
    if (e.type === 'OrderFilled') {
      f.fills++;
      const s = d.side === 'buy' ? 1n : -1n;
      const x = f.byInstrument.get(d.instrument) ?? { lots: 0n, cash: 0n, fees: 0n, fills: 0 };
      x.lots += s * BigInt(d.qtyLots);
      x.cash -= s * BigInt(d.qtyLots) * BigInt(d.priceTicks);
      x.fees += BigInt(d.fee);
      x.fills++;
      f.byInstrument.set(d.instrument, x);
    }
  }
  return f;
}

/** Appends the synthetic runs to a store at `dir` and returns every event appended, per run. */
export async function writeRuns(dir: string, runs: SyntheticRunOptions[]): Promise<Map<string, EventData[]>> {
  const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
  const out = new Map<string, EventData[]>();
  try {
    for (const r of runs) {
      const all: EventData[] = [];
      for (const batch of syntheticRun(r)) {
        await store.appendToStream(`run-${r.runId}`, batch);
        all.push(...batch);
      }
      out.set(r.runId, all);
    }
  } finally {
    await store.close();
  }
  return out;
}

/** Market trades in a stream outside any run (an md- stream), interleaved by the caller. */
export async function writeMarketTrades(dir: string, instrument: string, n: number, startNs: bigint): Promise<void> {
  const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
  try {
    const batch: EventData[] = [];
    for (let i = 0; i < n; i++) {
      const t = startNs + BigInt(i) * 7_000_000_000n;
      batch.push({
        id: `00000000-0000-8000-8000-${i.toString(16).padStart(12, '0')}`,
        type: 'TradeReported',
        data: { venue: 'SIM', instrument, tradeId: `M${i}`, priceTicks: 1000 + (i % 17), qtyLots: 1 + (i % 5), priceScale: 2, qtyScale: 0, aggressor: 'buy' },
        metadata: { schemaVersion: 1, eventTimeNs: t.toString(), receiveTimeNs: t.toString() },
      });
    }
    await store.appendToStream(`md-${instrument}`, batch);
  } finally {
    await store.close();
  }
}
