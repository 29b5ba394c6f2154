/**
 * Parity: feed a recorded run's inputs through the same strategy again and compare the decisions one
 * by one. The kernel is deterministic, so a difference means the code, the config or the recorded
 * inputs changed: the first divergence is reported with both versions.
 * A run that cannot be compared in full is never called identical: a run with no RunEnded (killed,
 * abandoned or still running) or with revisions missing from its stream (a damaged store) is
 * incomplete, and the result says what was compared and what is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { canonicalJson } from '../domain/core/canonical.js';
import { TapedeckError } from '../domain/core/errors.js';
import { storedToEnvelope } from '../domain/events/envelope.js';
import { initKernel, normalizeDecision, processInput, type KernelOutput } from '../domain/kernel/kernel.js';
import { clear } from '../domain/kernel/kernel.js';
import type { ResolvedRunConfig } from '../src/runtime/config.js';
import { kernelSetup } from '../src/runtime/engine.js';
import { codeHash } from '../src/runtime/hashes.js';
import type { EventStore, RecordedEvent } from '../src/store/port.js';
import { runPartitionedReplay } from '../src/runtime/partitioned.js';
import { inputsReferenceOf, runInputs, verifyFiles, type ReferenceOptions } from './inputs.js';

export interface ParityResult {
  /** True only when the run is complete and every decision and the final hash match. */
  identical: boolean;
  /** False when the run has no end or its stream has holes: `incomplete` says why. */
  complete: boolean;
  incomplete: string[];
  /** Decisions compared (all equal up to here unless `divergence` says otherwise). */
  decisions: number;
  /** Inputs re-fed. */
  inputs: number;
  hash: string;
  recordedHash: string | null;
  codeHashMatches: boolean;
  /** Where the cause sits: `inputPosition` in the log (inline inputs), or `inputNumber` among referenced inputs. */
  divergence?: { index: number; inputPosition: number | null; inputNumber?: number; expected: unknown; actual: unknown };
}

/** The run's first event (its manifest); throws RUN_NOT_FOUND when the run does not exist. */
export async function runStart(store: EventStore, runId: string): Promise<RecordedEvent> {
  for await (const e of store.readStream(`run-${runId}`, { maxCount: 1 })) {
    if (e.type !== 'RunStarted') throw new TapedeckError('RUN_MALFORMED', `stream run-${runId} does not start with RunStarted`, { stream: `run-${runId}` });
    return e;
  }
  throw new TapedeckError('RUN_NOT_FOUND', `no run "${runId}" in this store (its stream run-${runId} is empty)`, { field: '--run' });
}

/**
 * Two passes, so memory holds the recorded decisions (few) and never the inputs (a full market day):
 * the first collects the decisions from the run stream, the second re-feeds the inputs, from the run
 * stream or through the run's reference (replay/inputs.ts; refused when the referenced data changed).
 */
export async function checkParity(store: EventStore, runId: string, options: ReferenceOptions = {}): Promise<ParityResult> {
  const first = await runStart(store, runId);
  const manifest = (first.data as { manifest: { config: ResolvedRunConfig; codeHash: string; mode: string } }).manifest;
  // A live run's venue was real: its reports are recorded inputs, so no venue is simulated here.
  const setup = kernelSetup(runId, manifest.config, manifest.mode === 'live');
  const k = initKernel(setup);
  const stream = `run-${runId}`;

  // The recorded decisions, normalized the way the kernel hashes them; and whether the stream is whole.
  const recordedNumbers = new Map<string, number>();
  const recorded: unknown[] = [];
  const recordedFull: string[] = [];
  let recordedHash: string | null = null;
  const incomplete: string[] = [];
  let nextRevision = 0;
  let ended = false;
  let abandoned: string | null = null;
  let last: RecordedEvent = first;
  for await (const e of store.readStream(stream)) {
    if (e.revision !== nextRevision) incomplete.push(`revisions ${nextRevision}..${e.revision - 1} of ${stream} are unreadable (the store is damaged: run tapedeck store verify)`);
    nextRevision = e.revision + 1;
    last = e;
    if (e.type === 'RunEnded') {
      ended = true;
      recordedHash = (e.data as { decisionsHash: string }).decisionsHash;
    }
    if (e.type === 'RunAbandoned') abandoned = `the run was abandoned: ${(e.data as { reason?: string }).reason ?? 'its process died'}`;
    if (e.metadata.role !== 'decision') continue;
    const env = storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position });
    if (env.type === 'OrderIntended') recordedNumbers.set(env.data.orderId, recordedNumbers.size + 1);
    recorded.push(normalizeDecision(env.type, env.data as Record<string, unknown>, recordedNumbers));
    recordedFull.push(canonicalJson({ type: env.type, data: withoutCausePlace(env.data) }));
  }
  // A run resumed after it was marked abandoned, and then ended, is whole: nothing of it was lost.
  if (!ended && abandoned !== null) incomplete.push(abandoned);
  if (!ended) incomplete.push(`the run has no RunEnded (killed, abandoned or still running): its last event is ${last.type} at revision ${last.revision}, position ${last.position}`);
  const complete = incomplete.length === 0;
  const partitioned = (manifest.config as { partitioned?: { instruments: string[] } }).partitioned;
  if (partitioned !== undefined) {
    return partitionedParity(store, runId, manifest, partitioned.instruments, { recorded, recordedFull, recordedNumbers, recordedHash, complete, incomplete });
  }

  const out: KernelOutput[] = [];
  let index = 0;
  const actualNumbers = k.orderNumbers;
  let inputs = 0;
  let inputNumber: number | null = null;
  const diverge = (inputPosition: number | null, actual: unknown): ParityResult => ({
    identical: false,
    complete,
    incomplete,
    decisions: index,
    inputs,
    hash: k.decisionsHash,
    recordedHash,
    codeHashMatches: manifest.codeHash === codeHash(),
    divergence: { index, inputPosition, ...(inputNumber !== null ? { inputNumber } : {}), expected: recorded[index] ?? null, actual },
  });
  // Referenced inputs are checked against their checksums before the first is read (refused if changed).
  for await (const e of runInputs(store, runId, options)) {
    const input = e.input;
    inputNumber = e.number;
    inputs++;
    clear(out);
    try {
      processInput(k, input, e.revision, out, e.number);
    } catch (err) {
      return diverge(e.position, { error: err instanceof TapedeckError ? err.describe() : String(err) });
    }
    for (const o of out) {
      if (o.kind !== 'event' || o.role !== 'decision') continue;
      const actual = normalizeDecision(o.env.type, o.env.data as Record<string, unknown>, actualNumbers);
      if (index >= recorded.length || canonicalJson(actual) !== canonicalJson(recorded[index])) return diverge(e.position, actual);
      // Same run id, so the full decision (order ids, state hash) must match too; the cause is compared by id.
      const full = canonicalJson({ type: o.env.type, data: withoutCausePlace(o.env.data) });
      if (full !== recordedFull[index]) return diverge(e.position, { type: o.env.type, data: o.env.data, expectedFull: JSON.parse(recordedFull[index]!) });
      index++;
    }
  }
  inputNumber = null;
  if (index !== recorded.length) return diverge(null, null);
  const identical = complete && recordedHash === k.decisionsHash;
  return { identical, complete, incomplete, decisions: index, inputs, hash: k.decisionsHash, recordedHash, codeHashMatches: manifest.codeHash === codeHash() };
}

/**
 * Parity of a run split by instrument (src/runtime/partitioned.ts): the referenced ITCH day is checked
 * (size, SHA-256) and replayed the same way in this thread, and the merged decisions are compared one by
 * one with the recorded ones, then the run's hash.
 */
async function partitionedParity(
  store: EventStore,
  runId: string,
  manifest: { config: ResolvedRunConfig; codeHash: string },
  instruments: string[],
  rec: { recorded: unknown[]; recordedFull: string[]; recordedNumbers: Map<string, number>; recordedHash: string | null; complete: boolean; incomplete: string[] },
): Promise<ParityResult> {
  const ref = await inputsReferenceOf(store, runId);
  if (ref === null || ref.source.kind !== 'file') {
    throw new TapedeckError('RUN_MALFORMED', `run ${runId} was split by instrument but references no ITCH file (InputsReferenced kind file)`, { stream: `run-${runId}` });
  }
  verifyFiles(runId, ref.source);
  const file = ref.source.path;
  const bytes = fs.readFileSync(file);
  const day = file.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes;
  const { partitioned: _p, ...config } = manifest.config as ResolvedRunConfig & { partitioned?: unknown };
  const r = await runPartitionedReplay({ runId, config: config as ResolvedRunConfig, day, fileId: path.basename(file), instruments, workers: 0 });
  const numbers = new Map<string, number>();
  let index = 0;
  const result = (divergence?: ParityResult['divergence']): ParityResult => ({
    identical: divergence === undefined && rec.complete && rec.recordedHash === r.decisionsHash,
    complete: rec.complete,
    incomplete: rec.incomplete,
    decisions: index,
    inputs: r.dayInputs,
    hash: r.decisionsHash,
    recordedHash: rec.recordedHash,
    codeHashMatches: manifest.codeHash === codeHash(),
    ...(divergence !== undefined ? { divergence } : {}),
  });
  for (const o of r.outputs) {
    if (o.role !== 'decision') continue;
    const data = o.env.data as Record<string, unknown>;
    if (o.env.type === 'OrderIntended') numbers.set(String(data.orderId), numbers.size + 1);
    const actual = normalizeDecision(o.env.type, data, numbers);
    const full = canonicalJson({ type: o.env.type, data: withoutCausePlace(data) });
    if (index >= rec.recorded.length || canonicalJson(actual) !== canonicalJson(rec.recorded[index]) || full !== rec.recordedFull[index]) {
      return result({ index, inputPosition: null, inputNumber: o.index, expected: rec.recorded[index] ?? null, actual: { type: o.env.type, data } });
    }
    index++;
  }
  if (index !== rec.recorded.length) return result({ index, inputPosition: null, expected: rec.recorded[index] ?? null, actual: null });
  return result();
}

/**
 * A decision without where its cause sits in the log (revision, or the global position runs recorded
 * before revisions carry): the cause is compared by its event id, which both have.
 */
function withoutCausePlace(data: unknown): unknown {
  const d = data as { decision?: Record<string, unknown> };
  if (!d.decision || typeof d.decision !== 'object') return data;
  const { causePosition: _p, causeRevision: _r, ...decision } = d.decision;
  return { ...d, decision };
}
