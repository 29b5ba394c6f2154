/**
 * cryptofeed capture files (github.com/bmoscon/cryptofeed, sample_data/): text, one record a line.
 *
 *   <url> <-> <ts>           a websocket connection was opened
 *   <url> <- <ts>: <json>    a message tapedeck's side sent (subscriptions)
 *   <ts>: <json>             a message received on the connection
 *   <url> -> <ts>: <json>    an HTTP response (REST snapshot, instrument metadata)
 *   configuration: <json>    the recorder's configuration (REST files)
 *
 * <ts> is epoch seconds with a fraction (Python float text); it becomes receiveTimeNs. Blank lines are
 * skipped. The reader streams: one line in memory at a time (plus the REST answers a venue needs).
 *
 * Bad input: a line that is none of the above, or a last line cut short (no newline at the end of the
 * file and its JSON incomplete, as when the recorder was killed), stops the read with a TapedeckError
 * naming file, line and byte offset (`onBadLine: 'stop'`, the default), or is reported to `onIssue` and
 * skipped (`'skip'`). The same policy covers frames the venue parser rejects.
 *
 * `captureEventSource` turns capture files into market-data envelopes in capture order: it detects the
 * venue, loads the REST companions (BINANCE.http.*, KRAKEN.0, COINBASE.0 beside the ws file), merges
 * several ws files of one venue by receive time, and runs the venue's local book procedure when the
 * registry gives it one (Binance: the snapshot taken from the .http. file when a symbol needs it; see
 * binance/depth-sequencer.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { TapedeckError, isTapedeckError, type TapedeckErrorCode } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { EventType, PayloadOf } from '../../../domain/events/catalog.js';
import { secondsToNs, type FrameContext, type VenueParser } from '../common/frame.js';
import type { BookProcedure, BookSequencer } from '../adapter.js';
import { captureVenues, getVenue, venueOfUrl } from '../registry.js';

export type CaptureRecordKind = 'connect' | 'sent' | 'received' | 'http' | 'config';

export interface CaptureRecord {
  kind: CaptureRecordKind;
  file: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  /** The capture timestamp in ns; null for configuration lines. */
  timeNs: bigint | null;
  /** Connection or request URL; null for received frames and configuration. */
  url: string | null;
  /** The JSON payload's bytes (a copy, safe to keep); empty for connection lines. */
  payload: Uint8Array;
}

export interface CaptureIssue {
  code: TapedeckErrorCode;
  message: string;
  file: string;
  line: number;
  offset?: number;
  field?: string;
}

export type BadLinePolicy = 'stop' | 'skip';

export interface CaptureReadOptions {
  /** 'stop' (default): throw on a bad or truncated line. 'skip': report it to onIssue and go on. */
  onBadLine?: BadLinePolicy;
  onIssue?: (issue: CaptureIssue) => void;
  /** Longest line accepted; a longer one is a bad line (guards memory against a corrupt file). */
  maxLineBytes?: number;
}

const DEFAULT_MAX_LINE = 64 * 1024 * 1024;

interface RawLine {
  line: number;
  offset: number;
  bytes: Buffer;
  terminated: boolean;
}

/** Lines of a file as byte slices (valid until the next iteration), with their numbers and offsets. */
async function* readLines(file: string, maxLineBytes: number): AsyncGenerator<RawLine> {
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let carry: Buffer | null = null;
  let lineNo = 0;
  let offset = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = carry !== null ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      while (true) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        lineNo++;
        yield { line: lineNo, offset, bytes: buf.subarray(start, end), terminated: true };
        offset += nl + 1 - start;
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : null;
      if (carry !== null && carry.length > maxLineBytes) {
        throw new TapedeckError('CAPTURE_LINE_TOO_LONG', `line ${lineNo + 1} is longer than ${maxLineBytes} bytes without a newline: not a capture file, or corrupt`, { file, line: lineNo + 1, offset });
      }
    }
  } catch (e) {
    if (isTapedeckError(e)) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new TapedeckError('CAPTURE_READ', `cannot read capture: ${err.message}`, { file, ...(err.code === 'ENOENT' ? {} : { line: lineNo + 1, offset }) });
  } finally {
    stream.destroy();
  }
  if (carry !== null && carry.length > 0) yield { line: lineNo + 1, offset, bytes: carry, terminated: false };
}

const HEADER_RE = /^(?:(\S+) (<-|->) )?(\d+(?:\.\d*)?)$/;
const CONNECT_RE = /^(\S+) <-> (\d+(?:\.\d*)?)$/;
const COLON_SPACE = Buffer.from(': ');

/** Records of one capture file, in file order. */
export async function* readCapture(file: string, options: CaptureReadOptions = {}): AsyncGenerator<CaptureRecord> {
  const policy = options.onBadLine ?? 'stop';
  const bad = (issue: CaptureIssue): void => {
    if (policy === 'stop') {
      throw new TapedeckError(issue.code, issue.message, { file: issue.file, line: issue.line, ...(issue.offset !== undefined ? { offset: issue.offset } : {}) });
    }
    options.onIssue?.(issue);
  };
  for await (const l of readLines(file, options.maxLineBytes ?? DEFAULT_MAX_LINE)) {
    if (l.bytes.length === 0) continue;
    const rec = parseLine(file, l);
    if (rec === null) {
      bad({ code: 'CAPTURE_SYNTAX', message: `not a cryptofeed capture record (expected "<ts>: <json>", "<url> <-> <ts>", "<url> <- <ts>: <json>" or "<url> -> <ts>: <json>"): ${preview(l.bytes)}`, file, line: l.line, offset: l.offset });
      continue;
    }
    if (!l.terminated && rec.kind !== 'connect' && !isCompleteJson(rec.payload)) {
      bad({ code: 'CAPTURE_TRUNCATED', message: `the last line is cut short (no newline at the end of the file and its JSON is incomplete, ${l.bytes.length} bytes): the recorder probably stopped mid-write; the records before it are complete`, file, line: l.line, offset: l.offset });
      continue;
    }
    yield rec;
  }
}

function parseLine(file: string, l: RawLine): CaptureRecord | null {
  const b = l.bytes;
  const sep = b.indexOf(COLON_SPACE);
  const base = { file, line: l.line, offset: l.offset };
  if (sep < 0) {
    const m = CONNECT_RE.exec(b.toString('latin1'));
    if (!m) return null;
    return { ...base, kind: 'connect', timeNs: secondsToNs(m[2]!), url: m[1]!, payload: new Uint8Array(0) };
  }
  const header = b.toString('latin1', 0, sep);
  // A copy (memcpy via set), so a kept payload does not pin the 1 MB read chunk.
  const payload = new Uint8Array(b.length - sep - 2);
  payload.set(b.subarray(sep + 2));
  if (header === 'configuration') return { ...base, kind: 'config', timeNs: null, url: null, payload };
  const m = HEADER_RE.exec(header);
  if (!m) return null;
  const kind: CaptureRecordKind = m[2] === undefined ? 'received' : m[2] === '<-' ? 'sent' : 'http';
  return { ...base, kind, timeNs: secondsToNs(m[3]!), url: m[1] ?? null, payload };
}

function isCompleteJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function preview(bytes: Buffer): string {
  const s = bytes.toString('utf8', 0, Math.min(bytes.length, 80));
  return JSON.stringify(s) + (bytes.length > 80 ? '...' : '');
}

// ---------- venues ----------

/** A venue code whose recordings are cryptofeed captures (see src/venues/registry.ts). */
export type CaptureVenue = string;

/** Venues read from cryptofeed captures, from the registry. */
export function cryptofeedVenueIds(): string[] {
  return captureVenues('cryptofeed').map((v) => v.id);
}

/**
 * The venue of a capture: from the file name (`BINANCE.ws.1.0` → BINANCE), else from the first URL in
 * the file whose host a registered venue serves. Reads at most the first 64 KB.
 */
export function detectCaptureVenue(file: string): CaptureVenue {
  const ids = cryptofeedVenueIds();
  const prefix = path.basename(file).split('.')[0]!.toUpperCase();
  if (ids.includes(prefix)) return prefix;
  let head = '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      head = buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new TapedeckError('CAPTURE_READ', `cannot read capture: ${(e as Error).message}`, { file });
  }
  for (const m of head.matchAll(/(wss?|https?):\/\/[^\s]+/g)) {
    const v = venueOfUrl(m[0]);
    if (v !== null && ids.includes(v.id)) return v.id;
  }
  throw new TapedeckError('CAPTURE_VENUE', `cannot tell the venue of this capture from its name or URLs (supported: ${ids.join(', ')}); name it <VENUE>.ws.<n>.<m> or pass the venue`, { file });
}

/**
 * REST files recorded with a websocket capture: files beside it named `<VENUE>.<anything>` that are not
 * websocket captures (`BINANCE.http.0.0`, `KRAKEN.0`, `COINBASE.0`), sorted by name.
 */
export function findRestCompanions(wsFile: string, venue: string): string[] {
  const dir = path.dirname(wsFile);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.toUpperCase().startsWith(`${venue}.`) && !/\.ws\./i.test(n) && !n.endsWith('.md'))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => fs.statSync(p).isFile());
}

/** The websocket captures of a venue in a directory (`<VENUE>.ws.*`), sorted by name. */
export function findWsCaptures(dir: string, venue: string): string[] {
  return fs.readdirSync(dir)
    .filter((n) => n.toUpperCase().startsWith(`${venue}.WS.`))
    .sort()
    .map((n) => path.join(dir, n));
}

/** A fresh parser for a venue's cryptofeed captures, from the registry. */
export function newParser(venue: CaptureVenue): VenueParser {
  const v = getVenue(venue);
  if (v.marketData?.captureFormat !== 'cryptofeed' || v.marketData.newParser === undefined) {
    throw new TapedeckError('CAPTURE_VENUE', `${v.id} has no cryptofeed capture parser (cryptofeed venues: ${cryptofeedVenueIds().join(', ')})`, { field: 'venue' });
  }
  return v.marketData.newParser();
}

// ---------- event source ----------

export interface CaptureSourceOptions extends CaptureReadOptions {
  /** Override venue detection. */
  venue?: CaptureVenue;
  /** REST files to load; default: the companions beside the first websocket capture. */
  restFiles?: string[];
  /**
   * Run the venue's local book procedure, when it has one (Binance; default true). false yields every
   * diff as received and every REST snapshot at its capture time, for tools that want the raw feed.
   */
  bookSync?: boolean;
}

/** What a capture read produced, for reports and tests. */
export interface CaptureStats {
  records: Record<CaptureRecordKind, number>;
  events: Partial<Record<EventType, number>>;
}

/** Market-data envelopes from capture files, in capture order. Iterate once. */
export class CaptureEventSource implements AsyncIterable<AnyEnvelope> {
  readonly venue: CaptureVenue;
  readonly files: string[];
  readonly restFiles: string[];
  readonly parser: VenueParser;
  readonly issues: CaptureIssue[] = [];
  readonly stats: CaptureStats = { records: { connect: 0, sent: 0, received: 0, http: 0, config: 0 }, events: {} };
  /** The venue's book sequencer, when its book procedure runs (for its statistics). */
  sequencer: BookSequencer | null = null;
  private used = false;

  constructor(files: string | string[], private readonly options: CaptureSourceOptions = {}) {
    this.files = Array.isArray(files) ? [...files] : [files];
    if (this.files.length === 0) throw new TapedeckError('CAPTURE_NONE', 'no capture file given');
    this.venue = options.venue ?? detectCaptureVenue(this.files[0]!);
    for (const f of this.files.slice(1)) {
      const v = options.venue ?? detectCaptureVenue(f);
      if (v !== this.venue) throw new TapedeckError('CAPTURE_VENUE', `captures of different venues cannot be merged: ${this.venue} and ${v}`, { file: f });
    }
    this.restFiles = options.restFiles ?? findRestCompanions(this.files[0]!, this.venue);
    this.parser = newParser(this.venue);
  }

  [Symbol.asyncIterator](): AsyncIterator<AnyEnvelope> {
    if (this.used) throw new TapedeckError('CAPTURE_REUSED', 'a CaptureEventSource can be iterated once; create a new one');
    this.used = true;
    return this.run();
  }

  private issue(i: CaptureIssue): void {
    this.issues.push(i);
    this.options.onIssue?.(i);
  }

  private readOptions(): CaptureReadOptions {
    return { ...this.options, onIssue: (i) => this.issue(i) };
  }

  /** Runs a parser call under the bad-line policy: returns null when the frame was skipped. */
  private guarded<T>(rec: CaptureRecord, fn: () => T): T | null {
    try {
      return fn();
    } catch (e) {
      if (this.options.onBadLine !== 'skip' || !isTapedeckError(e)) throw e;
      const w = e.where ?? {};
      this.issue({ code: e.code, message: e.message, file: rec.file, line: rec.line, offset: rec.offset, ...(typeof w.field === 'string' ? { field: w.field } : {}) });
      return null;
    }
  }

  private async *run(): AsyncGenerator<AnyEnvelope> {
    const book: BookProcedure | null = getVenue(this.venue).marketData?.bookProcedure ?? null;
    const sync = book !== null && this.options.bookSync !== false;
    /** Depth snapshot answers by book key, oldest first, taken when the procedure asks. */
    const snapshots = new Map<string, CaptureRecord[]>();
    const ctxOf = (r: CaptureRecord): FrameContext => ({ file: r.file, line: r.line, receiveTimeNs: r.timeNs ?? 0n });

    const onHttp = (r: CaptureRecord): AnyEnvelope[] => {
      if (sync && r.url !== null) {
        const key = book.snapshotKeyOf(r.url);
        if (key !== null) {
          const q = snapshots.get(key) ?? [];
          q.push(r);
          snapshots.set(key, q);
          return [];
        }
      }
      return this.guarded(r, () => this.parser.parseHttp(r.url ?? '', r.payload, ctxOf(r))) ?? [];
    };

    // REST answers first: instrument metadata must be known before the first frame is parsed. A venue
    // with a book procedure that is not run instead merges its REST file by time, so snapshots come
    // when received.
    const rawBook = book !== null && !sync;
    for (const f of rawBook ? [] : this.restFiles) {
      for await (const r of readCapture(f, this.readOptions())) {
        this.stats.records[r.kind]++;
        if (r.kind === 'http') for (const e of onHttp(r)) this.count(e);
      }
    }

    let seq: BookSequencer | null = null;
    if (sync) {
      seq = book.newSequencer((instrument) => {
        const symbol = book.keyOf(instrument);
        const q = snapshots.get(symbol);
        const r = q?.shift();
        if (r === undefined) {
          seq!.snapshotUnavailable(instrument, `the capture has no ${q === undefined ? '' : 'further '}REST depth snapshot for ${symbol}${this.restFiles.length === 0 ? ' (no REST file beside it)' : ''}`);
          return;
        }
        const evs = this.guarded(r, () => this.parser.parseHttp(r.url!, r.payload, ctxOf(r)));
        const snap = evs?.find((e) => e.type === 'BookSnapshotted');
        if (snap === undefined || snap.type !== 'BookSnapshotted') {
          seq!.snapshotUnavailable(instrument, `the REST depth snapshot at ${r.file}:${r.line} could not be read`);
          return;
        }
        seq!.deliverSnapshot(snap);
      });
      this.sequencer = seq;
    }

    const inputs = rawBook ? [...this.files, ...this.restFiles] : this.files;
    for await (const r of mergeByTime(inputs.map((f) => readCapture(f, this.readOptions())))) {
      this.stats.records[r.kind]++;
      let evs: AnyEnvelope[];
      if (r.kind === 'received') evs = this.guarded(r, () => this.parser.parseFrame(r.payload, ctxOf(r))) ?? [];
      else if (r.kind === 'http') evs = onHttp(r);
      else continue;
      if (seq === null) {
        for (const e of evs) yield this.count(e);
        continue;
      }
      for (const e of evs) seq.push(e);
      for (const e of seq.take()) yield this.count(e);
    }
    const held = this.parser.flush?.() ?? [];
    if (seq === null) {
      for (const e of held) yield this.count(e);
    } else {
      for (const e of held) seq.push(e);
      seq.end();
      for (const e of seq.take()) yield this.count(e);
    }
  }

  private count(e: AnyEnvelope): AnyEnvelope {
    this.stats.events[e.type] = (this.stats.events[e.type] ?? 0) + 1;
    return e;
  }
}

/** Market-data envelopes from one capture file or several of one venue (merged by receive time). */
export function captureEventSource(files: string | string[], options: CaptureSourceOptions = {}): CaptureEventSource {
  return new CaptureEventSource(files, options);
}

/**
 * Merges record streams by capture time; ties keep file order, records without a time (configuration)
 * pass at once. Each input is in time order already (a capture is written as it happens).
 */
async function* mergeByTime(inputs: Array<AsyncGenerator<CaptureRecord>>): AsyncGenerator<CaptureRecord> {
  if (inputs.length === 1) {
    yield* inputs[0]!;
    return;
  }
  const heads: Array<CaptureRecord | null> = [];
  for (const it of inputs) {
    const n = await it.next();
    heads.push(n.done ? null : n.value);
  }
  while (true) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h == null) continue;
      if (best < 0 || (h.timeNs ?? -1n) < (heads[best]!.timeNs ?? -1n)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    const n = await inputs[best]!.next();
    heads[best] = n.done ? null : n.value;
  }
}

/** What a capture holds: what `tapedeck replay` needs before it starts (venue, instruments, time range). */
export interface CaptureDescription {
  venue: CaptureVenue;
  files: string[];
  restFiles: string[];
  instruments: Array<PayloadOf<'InstrumentDefined'>>;
  events: Partial<Record<EventType, number>>;
  frames: Record<string, number>;
  firstReceiveNs: bigint | null;
  lastReceiveNs: bigint | null;
  issues: CaptureIssue[];
}

/** Reads a capture once through captureEventSource and summarises it. */
export async function describeCapture(files: string | string[], options: CaptureSourceOptions = {}): Promise<CaptureDescription> {
  const src = captureEventSource(files, options);
  const instruments: Array<PayloadOf<'InstrumentDefined'>> = [];
  let first: bigint | null = null;
  let last: bigint | null = null;
  for await (const e of src) {
    if (e.type === 'InstrumentDefined') instruments.push(e.data);
    if (first === null || e.receiveTimeNs < first) first = e.receiveTimeNs;
    if (last === null || e.receiveTimeNs > last) last = e.receiveTimeNs;
  }
  return {
    venue: src.venue, files: src.files, restFiles: src.restFiles, instruments,
    events: src.stats.events, frames: Object.fromEntries(src.parser.frameCounts),
    firstReceiveNs: first, lastReceiveNs: last, issues: src.issues,
  };
}
