/**
 * A run's inputs, whichever way its stream holds them: inline (`role: input` events, the layout of every run
 * before InputsReferenced, and of paper and live runs) or referenced (InputsReferenced right after
 * RunStarted: the inputs are a catalog dataset or a recording file, read from its first event, and every
 * other event of the stream carries `metadata.inputs`, how many inputs the kernel had read when it was made).
 * Parity, audit and slippage read inputs only through here, so both layouts stay readable.
 */
import fs from 'node:fs';
import { TapedeckError } from '../domain/core/errors.js';
import { parsePayload, storedToEnvelope, type AnyEnvelope } from '../domain/events/envelope.js';
import * as catalogRef from '../datasets/catalog/reference.js';
import { sha256File } from '../datasets/catalog/manifest.js';
import type { InputsReference, ReferenceOptions } from '../datasets/catalog/reference.js';
import { openReplaySource, resolveSource } from '../src/runtime/sources.js';
import type { EventStore, RecordedEvent } from '../src/store/port.js';

export type { ReferenceOptions } from '../datasets/catalog/reference.js';

/** The run's InputsReferenced payload, or null when the run holds its inputs inline. */
export async function inputsReferenceOf(store: EventStore, runId: string): Promise<InputsReference | null> {
  const stream = `run-${runId}`;
  for await (const e of store.readStream(stream, { maxCount: 2 })) {
    if (e.type === 'InputsReferenced') return parsePayload('InputsReferenced', e.data, { stream, revision: e.revision });
  }
  return null;
}

/** One input as the kernel read it: `revision` in the run stream (inline) or `number` among the referenced inputs. */
export interface RunInput {
  input: AnyEnvelope;
  revision: number | null;
  number: number | null;
  /** Global position of an inline input; null for a referenced one. */
  position: number | null;
}

/**
 * The run's inputs in the order the kernel read them. Referenced inputs are checked (INPUTS_MISSING,
 * INPUTS_CHANGED) before the first is read; `count` bounds them (RunEnded.events: how many the run read).
 */
export async function* runInputs(store: EventStore, runId: string, ref: InputsReference | null, options: ReferenceOptions & { count?: number } = {}): AsyncGenerator<RunInput> {
  if (ref === null) {
    for await (const e of store.readStream(`run-${runId}`)) {
      if (e.metadata.role !== 'input') continue;
      yield { input: storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position }), revision: e.revision, number: null, position: e.position };
    }
    return;
  }
  const count = options.count ?? ref.inputs ?? Infinity;
  if (count <= 0) return;
  let n = 0;
  for await (const input of await openReferencedInputs(runId, ref, options)) {
    yield { input, revision: null, number: n, position: null };
    if (++n >= count) return;
  }
  if (n < count && count !== Infinity) throw new TapedeckError('INPUTS_CHANGED', `run ${runId} read ${count} inputs from ${describeReference(ref)}, which now holds ${n}`, { field: 'InputsReferenced.inputs' });
}

/** What a reference points at, as a person reads it: `catalog:DIR#ID` or the file's path. */
export function describeReference(ref: InputsReference, options: ReferenceOptions = {}): string {
  const src = ref.source;
  return src.kind === 'catalog' ? `catalog:${options.catalog ?? src.catalog}#${src.datasetId}` : src.path;
}

/** Every referenced file is there with the size and SHA-256 the run recorded; else INPUTS_MISSING or INPUTS_CHANGED. */
function verifyFiles(runId: string, src: Extract<InputsReference['source'], { kind: 'file' }>): void {
  const what = `run ${runId} reads its inputs from ${src.path}`;
  for (const f of src.files) {
    const which = f.path === src.path ? '' : ` (with ${f.path})`;
    if (!fs.existsSync(f.path)) throw new TapedeckError('INPUTS_MISSING', `${what}${which}, which is not there`, { file: f.path });
    const size = fs.statSync(f.path).size;
    if (size !== f.bytes) throw new TapedeckError('INPUTS_CHANGED', `${what}${which}: ${f.path} is ${size} bytes now, ${f.bytes} when the run read it`, { file: f.path });
    const sum = sha256File(f.path);
    if (sum !== f.sha256) throw new TapedeckError('INPUTS_CHANGED', `${what}${which}: the SHA-256 of ${f.path} is ${sum.slice(0, 16)}... now, ${f.sha256.slice(0, 16)}... when the run read it`, { file: f.path });
  }
}

/** The referenced inputs in the order the run read them, after checking the data is what it read. */
export async function openReferencedInputs(runId: string, ref: InputsReference, options: ReferenceOptions = {}): Promise<AsyncIterable<AnyEnvelope>> {
  if (ref.source.kind === 'catalog') return catalogRef.openReferencedInputs(runId, ref, options);
  verifyFiles(runId, ref.source);
  return openReplaySource(resolveSource(ref.source.path));
}

/** Referenced input number `n` (audit), after the same check; null when the data has no such input. */
export async function referencedInput(runId: string, ref: InputsReference, n: number, options: ReferenceOptions = {}): Promise<AnyEnvelope | null> {
  if (ref.source.kind === 'catalog') return catalogRef.referencedInput(runId, ref, n, options);
  let i = 0;
  for await (const env of await openReferencedInputs(runId, ref, options)) if (i++ === n) return env;
  return null;
}

/** An entry of the run's timeline: one of its inputs, or an event of its stream. */
export type TimelineEntry = { kind: 'input'; input: RunInput } | { kind: 'event'; record: RecordedEvent };

/**
 * The run as the kernel lived it: inputs and the events of its stream in one order. Inline, that is the
 * stream itself. Referenced, each event is preceded by the inputs read before it was made (`metadata.inputs`).
 */
export async function* runTimeline(store: EventStore, runId: string, options: ReferenceOptions = {}): AsyncGenerator<TimelineEntry> {
  const stream = `run-${runId}`;
  const ref = await inputsReferenceOf(store, runId);
  if (ref === null) {
    for await (const record of store.readStream(stream)) {
      if (record.metadata.role === 'input') {
        const input = storedToEnvelope(record.stream, record, { stream, position: record.position });
        yield { kind: 'input', input: { input, revision: record.revision, number: null, position: record.position } };
      } else yield { kind: 'event', record };
    }
    return;
  }
  const inputs = runInputs(store, runId, ref, options);
  let read = 0;
  for await (const record of store.readStream(stream)) {
    const upTo = typeof record.metadata.inputs === 'number' ? record.metadata.inputs : read;
    while (read < upTo) {
      const next = await inputs.next();
      if (next.done === true) break;
      read++;
      yield { kind: 'input', input: next.value };
    }
    yield { kind: 'event', record };
  }
  await inputs.return(undefined);
}
