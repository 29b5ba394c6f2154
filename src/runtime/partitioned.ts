/**
 * A replay split by instrument: one kernel per instrument, spread over worker threads, for strategies
 * that declare they keep no state across instruments (Strategy.forInstrument). Each kernel sees only
 * its instrument's inputs, makes ids under its own scope (KernelSetup.idScope) and keeps its own risk,
 * orders and simulated venue, so what it decides depends on its instrument's inputs alone, never on
 * which thread runs it or what runs beside it.
 *
 * Merge rule: every output carries the number of the input that caused it (its place among the day's
 * events, as the day's reader yields them). Each kernel's outputs come in index order, and an input belongs to one instrument, so a stable
 * sort by index gives one order whatever the number of workers: exactly the order in which a single
 * thread feeding every kernel in input order produces them (workers 0). The run's decisions hash is
 * folded from the kernels' own (instrument, decisions, hash), in instrument order.
 *
 * Inputs are not copied: every worker reads the whole day from one SharedArrayBuffer and decodes only
 * its own instruments' messages (ItchInstrumentFilter). The run stream holds the decisions, venue
 * reports and fills; the inputs stay where they are (the ITCH day): as in a run that references its
 * inputs (InputsReferenced, kind file: the ITCH day's path, size and SHA-256), a decision cites its
 * cause by id and number (causeInput) and every other event carries metadata.inputs.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { StructuralHasher } from '../../domain/core/fasthash.js';
import { TapedeckError, type TapedeckErrorCode } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { CATALOG, type PayloadOf } from '../../domain/events/catalog.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { envelopeToStored } from '../../domain/events/envelope.js';
import { clear, initKernel, processInput, summary, type EventRole, type KernelOutput, type KernelState } from '../../domain/kernel/kernel.js';
import { getStrategy, parseStrategyParams } from '../../domain/strategies/registry.js';
import type { EventData, EventStore } from '../store/port.js';
import { ItchInstrumentFilter } from '../venues/nasdaq/itch/instrument-filter.js';
import { readItchBytes } from '../venues/nasdaq/itch/reader.js';
import type { ResolvedRunConfig } from './config.js';
import { kernelSetup } from './engine.js';
import { codeHash, configHash, strategyCodeHash } from './hashes.js';

/** What one thread runs: some instruments of the day, each in its own kernel. */
export interface PartitionSetRequest {
  runId: string;
  config: ResolvedRunConfig;
  /** Instrument ids (`NASDAQ:SYM`), each one kernel. */
  instruments: string[];
  /** Names the day in input ids (as itchEventSource's fileId). */
  fileId: string;
  sessionMidnightNs?: bigint;
  /**
   * The run's identity, computed once by the caller: every thread must cite the same code and config
   * hashes (a worker runs the build, its caller may run the sources; their code hashes differ).
   */
  identity: { strategyCodeHash: string; configHash: string };
}

/** One kernel output, with the number of the input that caused it. */
export interface PartitionOutput {
  /** The input's number among the day's inputs (the messages that map to events, as its reader yields them). */
  index: number;
  /** Inputs of the day read when it was made (index, or index + 1 once the input itself was taken): metadata.inputs. */
  inputs: number;
  env: AnyEnvelope;
  /** `reference`: an InstrumentDefined the kernel read, kept beside the decisions (as runKernel does for referenced runs). */
  role: EventRole | 'reference';
}

export interface PartitionSummary {
  instrument: string;
  inputs: number;
  decisions: number;
  orders: number;
  fills: number;
  decisionsHash: string;
  realizedPnl: string;
}

export interface PartitionSetResult {
  /** Messages framed in the day (all of them, whichever instruments). */
  messages: number;
  /** The day's inputs: its messages that map to events (all instruments), as its reader yields them. */
  dayInputs: number;
  outputs: PartitionOutput[];
  partitions: PartitionSummary[];
  /** Seconds this set took, measured where it ran. */
  seconds: number;
}

/** Runs some instruments of an ITCH day in this thread: the whole day is framed, their messages decoded and fed. */
export function runPartitionSet(day: Uint8Array, req: PartitionSetRequest): PartitionSetResult {
  const t0 = process.hrtime.bigint();
  const strategy = getStrategy(req.config.strategy);
  const forInstrument = strategy.forInstrument;
  if (forInstrument === undefined) {
    throw new TapedeckError('USAGE', `strategy ${req.config.strategy} shares state across instruments (it declares no forInstrument), so it runs as one kernel: replay it without --workers`, { field: 'strategy' });
  }
  const base = { ...kernelSetup(req.runId, req.config), ...req.identity };
  const kernels = new Map<string, KernelState>();
  for (const instrument of req.instruments) {
    const params = parseStrategyParams(strategy, forInstrument.call(strategy, base.params, instrument));
    kernels.set(instrument, initKernel({ ...base, params, idScope: instrument }));
  }
  const outputs: PartitionOutput[] = [];
  const out: KernelOutput[] = [];
  const filter = new ItchInstrumentFilter(
    new Set(req.instruments),
    { fileId: req.fileId, ...(req.sessionMidnightNs !== undefined ? { sessionMidnightNs: req.sessionMidnightNs } : {}) },
    (env, index) => {
      const k = kernels.get((env.data as { instrument: string }).instrument)!;
      clear(out);
      // The input is not journaled (it stays in the day), so no revision: decisions cite it by id.
      // The input's number among the day's events (decisions cite it as causeInput).
      processInput(k, env, null, out, index);
      let read = index;
      for (let i = 0; i < out.length; i++) {
        const o = out[i]!;
        if (o.kind !== 'event') continue;
        if (o.role === 'input') {
          read = index + 1;
          // Reference data, one per instrument: projections and rebuild value positions with it.
          if (o.env.type === 'InstrumentDefined') outputs.push({ index, inputs: read, env: o.env, role: 'reference' });
        } else outputs.push({ index, inputs: read, env: o.env, role: o.role });
      }
    },
    day,
  );
  readItchBytes(day, filter);
  const partitions = [...kernels].map(([instrument, k]) => {
    const s = summary(k);
    return { instrument, inputs: s.inputs, decisions: s.decisions, orders: s.orders, fills: s.fills, decisionsHash: s.decisionsHash, realizedPnl: s.realizedPnl };
  });
  return { messages: filter.messages, dayInputs: filter.inputs, outputs, partitions, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export interface PartitionedReplayRequest {
  runId: string;
  config: ResolvedRunConfig;
  /** The ITCH day (BinaryFILE framing); a SharedArrayBuffer is shared with the workers as is, anything else copied into one once. */
  day: Uint8Array;
  fileId: string;
  sessionMidnightNs?: bigint;
  instruments: string[];
  /** Worker threads; 0 runs every kernel in this thread. Never more than the instruments. */
  workers: number;
}

export interface PartitionedReplayResult {
  runId: string;
  messages: number;
  dayInputs: number;
  inputs: number;
  decisions: number;
  orders: number;
  fills: number;
  decisionsHash: string;
  /** In the merged order (see the header). */
  outputs: PartitionOutput[];
  /** In instrument order. */
  partitions: PartitionSummary[];
  workers: number;
  /** Seconds each worker (or this thread) spent on its set. */
  workerSeconds: number[];
}

/** Instruments dealt to `workers` sets in turn (the order given, busiest first, balances best). */
export function dealInstruments(instruments: readonly string[], workers: number): string[][] {
  const sets: string[][] = Array.from({ length: workers }, () => []);
  instruments.forEach((instrument, i) => sets[i % workers]!.push(instrument));
  return sets.filter((s) => s.length > 0);
}

/** Merges the sets' outputs by input index and folds the run's decisions hash from the kernels'. */
export function mergePartitionSets(runId: string, sets: PartitionSetResult[], workers: number): PartitionedReplayResult {
  const outputs = sets.flatMap((s) => s.outputs);
  // Stable: one kernel's outputs for one input keep their order; no two sets share an input.
  outputs.sort((a, b) => a.index - b.index);
  const partitions = sets.flatMap((s) => s.partitions).sort((a, b) => (a.instrument < b.instrument ? -1 : a.instrument > b.instrument ? 1 : 0));
  const hasher = new StructuralHasher().update('tapedeck-partitioned-decisions-v1');
  for (const p of partitions) hasher.update([p.instrument, p.decisions, p.decisionsHash]);
  const messages = sets[0]?.messages ?? 0;
  for (const s of sets) if (s.messages !== messages) throw new Error(`invariant violated: workers framed ${s.messages} and ${messages} messages of one day`);
  const sum = (f: (p: PartitionSummary) => number): number => partitions.reduce((a, p) => a + f(p), 0);
  return {
    runId, messages, dayInputs: sets[0]?.dayInputs ?? 0, inputs: sum((p) => p.inputs), decisions: sum((p) => p.decisions), orders: sum((p) => p.orders), fills: sum((p) => p.fills),
    decisionsHash: hasher.digestHex(), outputs, partitions, workers, workerSeconds: sets.map((s) => s.seconds),
  };
}

/** Where the worker's script is: beside this module when built; under vitest (TypeScript sources), in dist/ (npm test builds first). */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/runtime/partition-worker.js', import.meta.url) : new URL('./partition-worker.js', import.meta.url);
}

export interface PartitionWorkerInput {
  day: SharedArrayBuffer;
  offset: number;
  length: number;
  request: PartitionSetRequest;
}

export type PartitionWorkerOutput = { ok: true; result: PartitionSetResult } | { ok: false; code: string; message: string };

function inWorker(input: PartitionWorkerInput): Promise<PartitionSetResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerUrl(), { workerData: input });
    let answered = false;
    w.once('message', (m: PartitionWorkerOutput) => {
      answered = true;
      if (m.ok) resolve(m.result);
      else reject(new TapedeckError(m.code as TapedeckErrorCode, m.message, { field: 'partition' }));
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!answered) reject(new Error(`partition worker for ${input.request.instruments.join(', ')} exited with code ${code} before answering`));
    });
  });
}

/** Runs the replay over `workers` threads (or this one) and merges the outputs. */
export async function runPartitionedReplay(req: PartitionedReplayRequest): Promise<PartitionedReplayResult> {
  if (!Number.isInteger(req.workers) || req.workers < 0 || req.workers > Math.max(64, os.availableParallelism() * 4)) {
    throw new TapedeckError('USAGE', `workers must be an integer from 0 to 64, got ${req.workers}`, { field: '--workers' });
  }
  const instruments = [...new Set(req.instruments)];
  const identity = { strategyCodeHash: strategyCodeHash(req.config.strategy), configHash: configHash(req.config) };
  const base = { runId: req.runId, config: req.config, fileId: req.fileId, identity, ...(req.sessionMidnightNs !== undefined ? { sessionMidnightNs: req.sessionMidnightNs } : {}) };
  if (req.workers === 0) return mergePartitionSets(req.runId, [runPartitionSet(req.day, { ...base, instruments })], 0);
  let shared: SharedArrayBuffer;
  let offset = 0;
  if (req.day.buffer instanceof SharedArrayBuffer) {
    shared = req.day.buffer;
    offset = req.day.byteOffset;
  } else {
    shared = new SharedArrayBuffer(req.day.length);
    new Uint8Array(shared).set(req.day);
  }
  const sets = dealInstruments(instruments, req.workers);
  const results = await Promise.all(sets.map((set) => inWorker({ day: shared, offset, length: req.day.length, request: { ...base, instruments: set } })));
  return mergePartitionSets(req.runId, results, sets.length);
}

/**
 * Journals a partitioned replay as one run stream: RunStarted (the config says how it was split and
 * what the inputs are), the merged outputs, RunEnded with the run's decisions hash, appended in
 * batches of `batch` events.
 */
export async function journalPartitionedRun(
  store: EventStore,
  r: PartitionedReplayResult,
  meta: { config: ResolvedRunConfig; sourceLabel: string; instruments: string[]; reference?: PayloadOf<'InputsReferenced'>['source'] },
  batch = 4096,
): Promise<void> {
  const stream = `run-${r.runId}`;
  const started: AnyEnvelope = {
    id: r.runId, type: 'RunStarted', schemaVersion: 1, stream, eventTimeNs: 0n, receiveTimeNs: 0n, causationId: null, correlationId: r.runId,
    data: {
      manifest: {
        runId: r.runId, mode: 'replay', strategy: meta.config.strategy, codeHash: codeHash(), configHash: configHash(meta.config),
        seed: meta.config.seed, source: meta.sourceLabel, dataRange: { fromNs: null, toNs: null },
        config: { ...(meta.config as unknown as Record<string, unknown>), partitioned: { by: 'instrument', instruments: meta.instruments } },
        owner: { pid: process.pid, host: os.hostname() },
      },
    },
  };
  const first = r.outputs[0]?.env.eventTimeNs ?? null;
  const last = r.outputs.at(-1)?.env.eventTimeNs ?? null;
  const ended: AnyEnvelope = {
    id: uuidFromName(r.runId, 'run-ended'), type: 'RunEnded', schemaVersion: 1, stream, eventTimeNs: last ?? 0n, receiveTimeNs: last ?? 0n,
    causationId: null, correlationId: r.runId,
    data: { runId: r.runId, outcome: 'completed', events: r.dayInputs, decisions: r.decisions, decisionsHash: r.decisionsHash, dataRange: { fromNs: first, toNs: last } },
  };
  let pending: EventData[] = [];
  let revision = -1;
  const add = async (env: AnyEnvelope, role: EventRole | 'reference', inputs?: number): Promise<void> => {
    const stored = envelopeToStored(env);
    stored.metadata.role = role;
    if (inputs !== undefined) stored.metadata.inputs = inputs;
    pending.push({ id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata });
    if (pending.length >= batch) await flush();
  };
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    const res = await store.appendToStream(stream, events, { expectedRevision: revision === -1 ? 'no_stream' : revision });
    revision = res.nextExpectedRevision;
  };
  await add(started, 'run');
  if (meta.reference !== undefined) {
    await add({
      id: uuidFromName(r.runId, 'inputs-referenced'), type: 'InputsReferenced', schemaVersion: CATALOG.InputsReferenced.version, stream, eventTimeNs: 0n,
      receiveTimeNs: 0n, causationId: null, correlationId: r.runId, data: { runId: r.runId, source: meta.reference, inputs: r.dayInputs },
    }, 'run', 0);
  }
  for (const o of r.outputs) await add(o.env, o.role, o.inputs);
  await add(ended, 'run', r.dayInputs);
  await flush();
}
