/**
 * A run's inputs, whichever way its stream holds them: inline (`role: input` events, the layout of every run
 * before InputsReferenced) or referenced (InputsReferenced right after RunStarted: the inputs are a catalog
 * dataset or a recording file read from its first event, or the market-data stream a paper or live session
 * wrote; every event of the run stream carries `metadata.inputs`, how many referenced inputs the kernel had
 * read when it was made). A paper or live run mixes the two: market data referenced, venue reports and
 * control inputs inline. Parity, audit and slippage read inputs only through here, so every layout stays
 * readable.
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
  /** Global position of an input stored in the log (inline, or in a market-data stream); null for one in a file. */
  position: number | null;
}

/** An entry of the run's timeline: one of its inputs, or an event of its stream (inline inputs are inputs). */
export type TimelineEntry = { kind: 'input'; input: RunInput } | { kind: 'event'; record: RecordedEvent };

/**
 * The run as the kernel lived it: its inputs and the other events of its stream in one order. Inline, that
 * is the stream itself. Referenced, each event of the stream is preceded by the referenced inputs read before
 * it was made (`metadata.inputs`). Referenced data is checked (INPUTS_MISSING, INPUTS_CHANGED) before the
 * first input is read.
 */
export async function* runTimeline(store: EventStore, runId: string, options: ReferenceOptions = {}): AsyncGenerator<TimelineEntry> {
  const stream = `run-${runId}`;
  const ref = await inputsReferenceOf(store, runId);
  const inline = (record: RecordedEvent): TimelineEntry => (record.metadata.role === 'input'
    ? { kind: 'input', input: { input: storedToEnvelope(record.stream, record, { stream, position: record.position }), revision: record.revision, number: null, position: record.position } }
    : { kind: 'event', record });
  if (ref === null) {
    for await (const record of store.readStream(stream)) yield inline(record);
    return;
  }
  let referenced: AsyncIterator<RunInput> | null = null;
  let read = 0;
  try {
    for await (const record of store.readStream(stream)) {
      const upTo = typeof record.metadata.inputs === 'number' ? record.metadata.inputs : read;
      while (read < upTo) {
        referenced ??= (await openReferencedInputs(store, runId, ref, options))[Symbol.asyncIterator]();
        const next = await referenced.next();
        if (next.done === true) {
          throw new TapedeckError('INPUTS_CHANGED', `run ${runId} read ${upTo} inputs from ${describeReference(ref, options)}, which now holds ${read}`, { stream, revision: record.revision });
        }
        read++;
        yield { kind: 'input', input: next.value };
      }
      yield inline(record);
    }
  } finally {
    await referenced?.return?.(undefined);
  }
}

/** The run's inputs in the order the kernel read them (inline and referenced alike). */
export async function* runInputs(store: EventStore, runId: string, options: ReferenceOptions = {}): AsyncGenerator<RunInput> {
  for await (const e of runTimeline(store, runId, options)) if (e.kind === 'input') yield e.input;
}

/** What a reference points at, as a person reads it: `catalog:DIR#ID`, the file's path, or the stream. */
export function describeReference(ref: InputsReference, options: ReferenceOptions = {}): string {
  const src = ref.source;
  if (src.kind === 'catalog') return `catalog:${options.catalog ?? src.catalog}#${src.datasetId}`;
  return src.kind === 'file' ? src.path : `stream ${src.stream}`;
}

/** Every referenced file is there with the size and SHA-256 the run recorded; else INPUTS_MISSING or INPUTS_CHANGED. */
export function verifyFiles(runId: string, src: Extract<InputsReference['source'], { kind: 'file' }>): void {
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

/** The referenced inputs, numbered from 0 in the order the run read them, after checking the data is what it read. */
async function openReferencedInputs(store: EventStore, runId: string, ref: InputsReference, options: ReferenceOptions): Promise<AsyncIterable<RunInput>> {
  const src = ref.source;
  if (src.kind === 'stream') {
    if ((await store.streamRevision(src.stream)) < 0) {
      throw new TapedeckError('INPUTS_MISSING', `run ${runId} reads its market data from stream ${src.stream}, which is not in this store`, { stream: src.stream });
    }
    return (async function* () {
      for await (const e of store.readStream(src.stream)) {
        yield { input: storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position }), revision: null, number: e.revision, position: e.position };
      }
    })();
  }
  let envelopes: AsyncIterable<AnyEnvelope>;
  if (src.kind === 'catalog') envelopes = await catalogRef.openReferencedInputs(runId, ref, options);
  else {
    verifyFiles(runId, src);
    envelopes = await openReplaySource(resolveSource(src.path));
  }
  return (async function* () {
    let n = 0;
    for await (const input of envelopes) yield { input, revision: null, number: n++, position: null };
  })();
}

/** Referenced input number `n` (audit's cause), after the same check; null when the data has no such input. */
export async function referencedInput(store: EventStore, runId: string, ref: InputsReference, n: number, options: ReferenceOptions = {}): Promise<RunInput | null> {
  const src = ref.source;
  if (src.kind === 'catalog') {
    const input = await catalogRef.referencedInput(runId, ref, n, options);
    return input === null ? null : { input, revision: null, number: n, position: null };
  }
  if (src.kind === 'stream') {
    await openReferencedInputs(store, runId, ref, options); // the stream is there
    for await (const e of store.readStream(src.stream, { fromRevision: n, maxCount: 1 })) {
      if (e.revision === n) return { input: storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position }), revision: null, number: n, position: e.position };
    }
    return null;
  }
  for await (const r of await openReferencedInputs(store, runId, ref, options)) if (r.number === n) return r;
  return null;
}
