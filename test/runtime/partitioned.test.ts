/**
 * A replay split by instrument over worker threads gives exactly what one thread gives: the same
 * decisions hash, the same outputs in the same order (ids, types, payloads), the same per-instrument
 * summaries, for random days and worker counts. The workers run the build (dist/), as the CLI tests do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateItchDay } from '../../datasets/itch/generate.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { dealInstruments, journalPartitionedRun, runPartitionedReplay, runPartitionSet } from '../../src/runtime/partitioned.js';
import { checkParity } from '../../replay/parity.js';
import { fileReference, resolveSource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { itchInstrumentActivity } from '../../src/venues/nasdaq/itch/instrument-filter.js';
import { itchEventSource } from '../../src/venues/nasdaq/itch/to-events.js';
import { parsePayload } from '../../domain/events/envelope.js';

const RUN_ID = '6c1f7a52-2f4e-4c39-9a0e-3d1f0b5a7e21';

function config(strategy = 'market-maker'): ResolvedRunConfig {
  return {
    strategy,
    seed: 7,
    params: strategy === 'market-maker'
      ? { venue: 'NASDAQ', instrument: 'NASDAQ:X', priceScale: 4, qtyScale: 0, quoteQtyLots: 100, halfSpreadTicks: 100, maxInventoryLots: 1000, requoteThresholdTicks: 100 }
      : { venue: 'NASDAQ', instrument: 'NASDAQ:X', priceScale: 4, qtyScale: 0, lookback: 5, thresholdTicks: 100, qtyLots: 100, maxPositionLots: 300 },
    risk: { maxOpenOrders: 50, orderRate: { maxOrders: 10_000, windowNs: '1000000000' } },
    venues: [{ venue: 'NASDAQ', latency: { submitNs: '1000000', ackNs: '1000000', cancelNs: '1000000' }, fees: { makerBps: '-0.5', takerBps: '5' } }],
  } as unknown as ResolvedRunConfig;
}

function day(seed: number, symbols: number, messages = 8000): { bytes: Uint8Array; instruments: string[] } {
  const bytes = generateItchDay({ seed, messages, symbols });
  return { bytes, instruments: itchInstrumentActivity(bytes).slice(0, 5).map((a) => a.instrument) };
}

describe('partitioned replay', () => {
  it('gives the single-threaded outputs and decisions hash on any number of workers (random days)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 3, max: 9 }), fc.constantFrom('market-maker', 'momentum'), async (seed, workers, symbols, strategy) => {
        const d = day(seed, symbols);
        const req = { runId: RUN_ID, config: config(strategy), day: d.bytes, fileId: `day-${seed}`, instruments: d.instruments };
        const single = await runPartitionedReplay({ ...req, workers: 0 });
        const parallel = await runPartitionedReplay({ ...req, workers });
        expect(parallel.workerSeconds.length).toBe(Math.min(workers, d.instruments.length));
        expect(parallel.decisionsHash).toBe(single.decisionsHash);
        expect(parallel.partitions).toEqual(single.partitions);
        expect(parallel.outputs.length).toBe(single.outputs.length);
        expect(parallel.outputs).toEqual(single.outputs);
        expect(single.inputs).toBeGreaterThan(0);
        runs++;
      }),
      { numRuns: 4 },
    );
    expect(runs).toBe(4);
  });

  it('decides on every instrument, and an instrument decides the same with or without the others beside it', async () => {
    // 10,000 messages: every one of the five instruments decides and some orders fill (asserted below).
    const d = day(11, 6, 10_000);
    const req = { runId: RUN_ID, config: config(), fileId: 'day-11', identity: { strategyCodeHash: 'code', configHash: 'config' } };
    const all = runPartitionSet(d.bytes, { ...req, instruments: d.instruments });
    expect(all.partitions.every((p) => p.decisions > 0)).toBe(true);
    expect(all.outputs.some((o) => o.env.type === 'OrderFilled')).toBe(true);
    // Outputs come in input order, each citing an input of its own instrument.
    for (let i = 1; i < all.outputs.length; i++) expect(all.outputs[i]!.index).toBeGreaterThanOrEqual(all.outputs[i - 1]!.index);
    const alone = runPartitionSet(d.bytes, { ...req, instruments: [d.instruments[2]!] });
    expect(alone.partitions[0]).toEqual(all.partitions.find((p) => p.instrument === d.instruments[2]));
    // Decisions cite their cause by id and number: the input being taken, or (for what a venue report due
    // before it set off) an earlier one; the number is the cause's place among the events the day's
    // reader yields (itchEventSource), as a reference to the day's file numbers its inputs.
    const file = path.join(os.tmpdir(), `tapedeck-partitioned-${process.pid}.itch`);
    fs.writeFileSync(file, d.bytes);
    const numberOf = new Map<string, number>();
    try {
      let n = 0;
      for await (const e of itchEventSource(file, { fileId: 'day-11' })) numberOf.set(e.id, n++);
    } finally {
      fs.rmSync(file, { force: true });
    }
    expect(all.dayInputs).toBe(numberOf.size);
    const intents = all.outputs.filter((o) => o.env.type === 'OrderIntended');
    expect(intents.length).toBeGreaterThan(0);
    const causeOf = (o: (typeof intents)[number]) => (o.env.data as { decision: { causeInput?: number; causeEventId: string } }).decision;
    expect(intents.some((o) => causeOf(o).causeInput === o.index)).toBe(true);
    for (const o of intents) {
      expect(causeOf(o).causeInput).toBeLessThanOrEqual(o.index);
      expect(causeOf(o).causeInput).toBe(numberOf.get(causeOf(o).causeEventId));
    }
    // Ids are scoped by instrument: no two kernels of the run make the same id.
    const ids = all.outputs.map((o) => o.env.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('deals instruments in turn, busiest first', () => {
    expect(dealInstruments(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'c', 'e'], ['b', 'd']]);
    expect(dealInstruments(['a', 'b'], 4)).toEqual([['a'], ['b']]);
  });

  it('refuses a strategy that shares state across instruments, naming it', async () => {
    const d = day(3, 4, 3000);
    await expect(runPartitionedReplay({ runId: RUN_ID, config: config('cross-venue-arb'), day: d.bytes, fileId: 'd', instruments: d.instruments, workers: 0 })).rejects.toThrow(/cross-venue-arb shares state across instruments/);
  });

  it('parity replays a run made on workers in one thread: identical; refused once the referenced day changed', async () => {
    const d = day(21, 5, 6000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-partitioned-parity-'));
    try {
      const file = path.join(dir, 'day-21.itch');
      fs.writeFileSync(file, d.bytes);
      const r = await runPartitionedReplay({ runId: RUN_ID, config: config(), day: d.bytes, fileId: 'day-21.itch', instruments: d.instruments, workers: 2 });
      expect(r.decisions).toBeGreaterThan(0);
      const store = await EmbeddedEventStore.open(path.join(dir, 'store'));
      try {
        await journalPartitionedRun(store, r, { config: config(), sourceLabel: file, instruments: d.instruments, reference: fileReference(resolveSource(file)).source });
        const p = await checkParity(store, RUN_ID);
        expect(p).toMatchObject({ identical: true, complete: true, decisions: r.decisions, hash: r.decisionsHash, recordedHash: r.decisionsHash });
        fs.appendFileSync(file, Buffer.from([0]));
        await expect(checkParity(store, RUN_ID)).rejects.toThrow(/INPUTS_CHANGED|bytes now/);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('journals decisions and venue reports, not the inputs, with the merged decisions hash', async () => {
    const d = day(5, 5, 6000);
    const r = await runPartitionedReplay({ runId: RUN_ID, config: config(), day: d.bytes, fileId: 'day-5', instruments: d.instruments, workers: 0 });
    expect(r.decisions).toBeGreaterThan(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapedeck-partitioned-'));
    try {
      const store = await EmbeddedEventStore.open(dir);
      const reference = { kind: 'file' as const, path: '/data/day-5.itch', files: [{ path: '/data/day-5.itch', bytes: d.bytes.length, sha256: 'ab'.repeat(32) }] };
      await journalPartitionedRun(store, r, { config: config(), sourceLabel: 'generated day 5', instruments: d.instruments, reference });
      const roles: string[] = [];
      let ended: Record<string, unknown> | null = null;
      let referenced: unknown = null;
      const inputsRead: number[] = [];
      for await (const e of store.readStream(`run-${RUN_ID}`)) {
        roles.push(String(e.metadata.role));
        if (e.type === 'RunEnded') ended = e.data as Record<string, unknown>;
        if (e.type === 'InputsReferenced') referenced = parsePayload('InputsReferenced', e.data);
        if (e.type !== 'RunStarted') inputsRead.push(Number(e.metadata.inputs));
      }
      await store.close();
      expect(referenced).toEqual({ runId: RUN_ID, source: reference, inputs: r.dayInputs });
      expect(roles.includes('input')).toBe(false);
      expect(roles.length).toBe(r.outputs.length + 3);
      // The traded instruments' definitions are kept beside the decisions (role reference), one each.
      expect(roles.filter((x) => x === 'reference').length).toBe(d.instruments.length);
      // metadata.inputs never goes back: readers place each event among the referenced inputs by it.
      for (let i = 1; i < inputsRead.length; i++) expect(inputsRead[i]!).toBeGreaterThanOrEqual(inputsRead[i - 1]!);
      expect(inputsRead.at(-1)).toBe(r.dayInputs);
      expect(ended?.decisionsHash).toBe(r.decisionsHash);
      expect(ended?.decisions).toBe(r.decisions);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
