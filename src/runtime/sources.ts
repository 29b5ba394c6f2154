/**
 * Sources: where a run's inputs come from. Replay reads a recorded capture, an ITCH file or (later) a
 * dataset catalog entry; paper reads the live adapter connected to a capture replayed over a socket;
 * live reads the venue. The kernel cannot tell them apart: each yields catalogue envelopes in order.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TapedeckError } from '../../domain/core/errors.js';
import type { PayloadOf } from '../../domain/events/catalog.js';
import { storedToEnvelope, type AnyEnvelope } from '../../domain/events/envelope.js';
import type { EventStore } from '../store/port.js';
import { captureEventSource, cryptofeedVenueIds, detectCaptureVenue, findRestCompanions } from '../venues/cryptofeed/capture.js';
import { openPaperFeed } from '../venues/cryptofeed/paper.js';
import { catalogReader, getVenue, venueOfOwnCapture, type CaptureFormat } from '../venues/registry.js';
import { mergeArrivals, mergeByEventTime } from './merge.js';

/** A venue recording in one of the registry's capture formats, or a dataset of the catalog. */
export type SourceKind = CaptureFormat | 'catalog';

export interface SourceSpec {
  kind: SourceKind;
  /** What the user named, kept in the run manifest. */
  label: string;
  file: string;
  /** The venue whose recording it is (capture sources). */
  venue?: string;
  datasetId?: string;
}

/** Recognises a source from its name and first bytes, through the venue registry; errors name the file. */
export function resolveSource(spec: string): SourceSpec {
  const m = /^catalog:(.+)#(.+)$/.exec(spec);
  if (m) return { kind: 'catalog', label: spec, file: path.resolve(m[1]!), datasetId: m[2]! };
  const file = path.resolve(spec);
  if (!fs.existsSync(file)) throw new TapedeckError('SOURCE_NOT_FOUND', `no such source file: ${spec}`, { file: spec });
  if (fs.statSync(file).isDirectory()) throw new TapedeckError('SOURCE_KIND', `${spec} is a directory; give a capture or ITCH file, or catalog:DIR#DATASET`, { file: spec });
  const own = venueOfOwnCapture(file);
  if (own !== null) return { kind: own.marketData!.captureFormat, label: spec, file, venue: own.id };
  try {
    return { kind: 'cryptofeed', label: spec, file, venue: detectCaptureVenue(file) };
  } catch {
    throw new TapedeckError('SOURCE_KIND', `cannot tell what ${spec} is: expected a cryptofeed capture (${cryptofeedVenueIds().join('/')}...), an ITCH 5.0 file, or catalog:DIR#DATASET`, { file: spec });
  }
}

/** Opens the source for a replay (as fast as the machine allows). */
export async function openReplaySource(spec: SourceSpec): Promise<AsyncIterable<AnyEnvelope>> {
  if (spec.kind === 'catalog') return (await catalogReader())(spec.file, spec.datasetId!);
  if (spec.kind === 'cryptofeed') return captureEventSource(spec.file, spec.venue !== undefined ? { venue: spec.venue } : {});
  const venue = spec.venue !== undefined ? getVenue(spec.venue) : venueOfOwnCapture(spec.file);
  const open = venue?.marketData?.openCapture;
  if (open === undefined) throw new TapedeckError('SOURCE_KIND', `no venue reads ${spec.kind} recordings such as ${spec.label}`, { file: spec.label });
  return open(spec.file);
}

/** What a run records as its source: the names as given, in order. */
export function sourcesLabel(specs: readonly SourceSpec[]): string {
  return specs.map((s) => s.label).join(' + ');
}

/** Refuses the same source twice (its events would be fed twice). */
export function checkDistinctSources(specs: readonly SourceSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    const key = `${s.file}#${s.datasetId ?? ''}`;
    if (seen.has(key)) throw new TapedeckError('USAGE', `source ${s.label} is given twice`, { file: s.label });
    seen.add(key);
  }
}

/** Several sources for a replay, merged in event-time order (deterministic; see merge.ts). */
export async function openReplaySources(specs: readonly SourceSpec[]): Promise<AsyncIterable<AnyEnvelope>> {
  checkDistinctSources(specs);
  return mergeByEventTime(await Promise.all(specs.map((s) => openReplaySource(s))));
}

/**
 * Several paper sources: the captures of each venue are replayed by one server for that venue, read
 * by that venue's live adapter, and the feeds are interleaved as they arrive (as live trading on two
 * venues sees them; see merge.ts).
 */
export async function openPaperSources(specs: readonly SourceSpec[], speed: number): Promise<{ events: AsyncIterable<AnyEnvelope>; close: () => Promise<void> }> {
  checkDistinctSources(specs);
  if (specs.length === 1) return openPaperSource(specs[0]!, speed);
  const byVenue = new Map<string, SourceSpec[]>();
  for (const s of specs) {
    if (s.kind !== 'cryptofeed') {
      throw new TapedeckError('SOURCE_KIND', `paper trading needs recorded venue captures (cryptofeed format); ${s.label} is ${s.kind}`, { file: s.label });
    }
    const key = s.venue ?? '?';
    byVenue.set(key, [...(byVenue.get(key) ?? []), s]);
  }
  const feeds: { events: AsyncIterable<AnyEnvelope>; close: () => Promise<void> }[] = [];
  try {
    for (const group of byVenue.values()) feeds.push(await openPaperFeedOf(group.map((g) => g.file), speed));
  } catch (e) {
    await Promise.allSettled(feeds.map((f) => f.close()));
    throw e;
  }
  return {
    events: mergeArrivals(feeds.map((f) => f.events)),
    close: async () => {
      await Promise.allSettled(feeds.map((f) => f.close()));
    },
  };
}

/** The surveys of several sources as one (instruments by id; the first definition of an id wins). */
export function mergeSurveys(surveys: readonly SourceSurvey[]): SourceSurvey {
  const instruments: SourceSurvey['instruments'] = new Map();
  for (const s of surveys) {
    for (const [id, info] of s.instruments) {
      const had = instruments.get(id);
      if (had === undefined) instruments.set(id, { ...info });
      else had.events += info.events;
    }
  }
  return { instruments };
}

/**
 * Opens a paper source: the capture is replayed over a loopback socket in real time (or `speed`
 * times faster) and read by the venue's LIVE market-data adapter, exactly as in live trading.
 */
export async function openPaperSource(spec: SourceSpec, speed: number): Promise<{ events: AsyncIterable<AnyEnvelope>; close: () => Promise<void> }> {
  if (spec.kind !== 'cryptofeed') {
    throw new TapedeckError('SOURCE_KIND', `paper trading needs a recorded venue capture (cryptofeed format); ${spec.label} is ${spec.kind}`, { file: spec.label });
  }
  return openPaperFeedOf([spec.file], speed);
}

async function openPaperFeedOf(files: string[], speed: number): Promise<{ events: AsyncIterable<AnyEnvelope>; close: () => Promise<void> }> {
  // The live adapter stamps receive times from a clock; on a recorded capture that clock is the
  // capture's own timeline (as the wall clock is in live trading), so simulated latencies stay true.
  const box: { server: { captureNowNs(): bigint } | null } = { server: null };
  const feed = await openPaperFeed(files, { speed, client: { clock: () => box.server?.captureNowNs() ?? 0n } });
  box.server = feed.server;
  return { events: feed.client.events(), close: () => feed.close() };
}

/** Reads up to `limit` events to learn the instruments a source holds and how active each is. */
export async function surveySource(events: AsyncIterable<AnyEnvelope>, limit = 50_000): Promise<SourceSurvey> {
  const instruments = new Map<string, { venue: string; symbol: string; priceScale: number; qtyScale: number; events: number }>();
  const activity = new Map<string, number>();
  let n = 0;
  try {
    for await (const e of events) {
    if (e.type === 'InstrumentDefined') {
      const d = e.data;
      if (!instruments.has(d.instrument)) instruments.set(d.instrument, { venue: d.venue, symbol: d.symbol, priceScale: d.priceScale, qtyScale: d.qtyScale, events: 0 });
    } else {
      const inst = (e.data as { instrument?: string }).instrument;
      if (inst !== undefined) activity.set(inst, (activity.get(inst) ?? 0) + 1);
    }
    if (++n >= limit) break;
    }
  } catch (e) {
    // A damaged source is reported by the run itself, which records why it stopped.
    if (!(e instanceof TapedeckError)) throw e;
  }
  for (const [id, info] of instruments) info.events = activity.get(id) ?? 0;
  return { instruments };
}

export interface SourceSurvey {
  instruments: Map<string, { venue: string; symbol: string; priceScale: number; qtyScale: number; events: number }>;
}

/**
 * A stream of the store as a replay source (`stream:NAME`, e.g. the marketdata-<runId> a paper or live
 * session wrote): its events in order. A replay of it references the stream, so a backtest and the session
 * read the very same inputs.
 */
export async function* storeStreamEvents(store: EventStore, stream: string): AsyncGenerator<AnyEnvelope> {
  for await (const e of store.readStream(stream)) yield storedToEnvelope(e.stream, e, { stream: e.stream, revision: e.revision });
}

/**
 * The reference a run records when it reads the recording `spec` as is (RunRequest.inputsReference): the
 * size and SHA-256 of every file its reader reads (a capture's REST companions too), so a reader can tell
 * the bytes changed. The count of inputs is learnt as the run goes.
 */
export function fileReference(spec: SourceSpec): Omit<PayloadOf<'InputsReferenced'>, 'runId'> {
  if (spec.kind === 'catalog') throw new TapedeckError('SOURCE_KIND', `${spec.label} is a catalog dataset: reference it by its catalog manifest`, { file: spec.label });
  const main = path.resolve(spec.file);
  const read = spec.kind === 'cryptofeed' && spec.venue !== undefined ? [main, ...findRestCompanions(main, spec.venue)] : [main];
  return { source: { kind: 'file', path: main, files: read.map((f) => ({ path: f, ...hashFile(f) })) }, inputs: null };
}

function hashFile(file: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  let bytes = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
}
