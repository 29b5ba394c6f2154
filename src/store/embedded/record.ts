/**
 * The on-disk record: one record per append (a batch of events for one stream), framed so that a
 * torn or corrupted record is always detected:
 *
 *   header (12 bytes, little endian)      body
 *   u32 magic "TDR1"                      u8 kind (1 = append), u8 reserved, u16 streamLen,
 *   u32 bodyLength                        f64 firstPosition, f64 firstRevision, u32 eventCount,
 *   u32 crc32(body)                       stream bytes, then per event:
 *                                         u16 idLen, id, u8 typeLen, type, u8 flags (bit0: JSON),
 *                                         u32 dataLen, data, u32 metaLen, metadata JSON
 *
 * Positions and revisions are f64 on disk: exact for every safe integer, and one native write.
 * Because an append is one record, a torn tail loses a whole unacknowledged append, never half of one.
 *
 * A seal (kind 2: no stream, no events, firstPosition = the next segment's first position) ends every
 * segment but the last in a version-2 store, so a missing newest segment is seen, not mistaken for a
 * shorter log.
 */
import { crc32 } from 'node:zlib';
import { TapedeckError } from '../../../domain/core/errors.js';

export const RECORD_MAGIC = 0x31524454; // bytes "TDR1"
export const RECORD_HEADER_BYTES = 12;
export const BODY_FIXED_BYTES = 24;
export const KIND_APPEND = 1;
export const KIND_SEAL = 2;
export const SEAL_RECORD_BYTES = RECORD_HEADER_BYTES + BODY_FIXED_BYTES;
export const FLAG_JSON = 1;
/** A record larger than this is refused on write and treated as corruption on read. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** What an append carries per event (the port's EventData, structurally). */
export interface AppendableEvent {
  id: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown> | undefined;
  contentType?: 'application/json' | 'application/octet-stream';
}

/** A growable write buffer: appends encode straight into it, so a group commit is one write(). */
export class WriteBuffer {
  buf: Buffer;
  length = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  ensure(extra: number): Buffer {
    const need = this.length + extra;
    if (need <= this.buf.length) return this.buf;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    return next;
  }
}

/** Raised for an event that cannot be encoded; the record is rolled back, so the append stays atomic. */
export class EventEncodingError extends TapedeckError {}

const typeCache = new Map<string, Buffer>();
function typeBytes(type: string): Buffer {
  let b = typeCache.get(type);
  if (b === undefined) {
    b = Buffer.from(type, 'utf8');
    if (typeCache.size < 10_000) typeCache.set(type, b);
  }
  return b;
}

/** Writes a string; ASCII (ids, stream names) is copied byte by byte, skipping the generic encoder. */
function writeString(b: Buffer, s: string, at: number): number {
  const n = s.length;
  if (n <= 64) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) {
        ascii = false;
        break;
      }
      b[at + i] = c;
    }
    if (ascii) return n;
  }
  return b.write(s, at, 'utf8');
}

function jsonText(value: unknown, what: string, index: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new EventEncodingError('EVENT_DATA', `event ${index}: ${what} is not JSON-serializable (${(e as Error).message})`, { field: `events[${index}].${what}` });
  }
  if (text === undefined) throw new EventEncodingError('EVENT_DATA', `event ${index}: ${what} is missing or not JSON`, { field: `events[${index}].${what}` });
  return text;
}

/**
 * Encodes one append record at the end of `out` and returns its byte length. Validates each event as
 * it goes; on any error the buffer is rolled back to where the record started and the error thrown.
 */
export function encodeAppendRecord(out: WriteBuffer, stream: string, firstPosition: number, firstRevision: number, events: readonly AppendableEvent[]): number {
  const start = out.length;
  try {
    return encodeInto(out, stream, firstPosition, firstRevision, events);
  } catch (e) {
    out.length = start;
    throw e;
  }
}

function encodeInto(out: WriteBuffer, stream: string, firstPosition: number, firstRevision: number, events: readonly AppendableEvent[]): number {
  const start = out.length;
  let b = out.ensure(RECORD_HEADER_BYTES + BODY_FIXED_BYTES + stream.length * 3);
  let o = start + RECORD_HEADER_BYTES;
  const bodyStart = o;
  b[o] = KIND_APPEND;
  b[o + 1] = 0;
  b.writeDoubleLE(firstPosition, o + 4);
  b.writeDoubleLE(firstRevision, o + 12);
  b.writeUInt32LE(events.length, o + 20);
  const streamLen = writeString(b, stream, o + BODY_FIXED_BYTES);
  b.writeUInt16LE(streamLen, o + 2);
  o += BODY_FIXED_BYTES + streamLen;
  out.length = o;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const id = e.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) {
      throw new EventEncodingError('EVENT_ID', `event ${i}: id must be a non-empty string of at most 255 characters`, { field: `events[${i}].id` });
    }
    if (typeof e.type !== 'string' || e.type.length === 0) {
      throw new EventEncodingError('EVENT_TYPE', `event ${i}: type must be a non-empty string`, { field: `events[${i}].type` });
    }
    const tb = typeBytes(e.type);
    if (tb.length > 255) throw new EventEncodingError('EVENT_TYPE', `event ${i}: type is longer than 255 bytes`, { field: `events[${i}].type` });
    const raw = e.data instanceof Uint8Array ? e.data : null;
    const dataText = raw === null ? jsonText(e.data, 'data', i) : null;
    const metaText = e.metadata === undefined ? null : jsonText(e.metadata, 'metadata', i);
    const dataMax = raw !== null ? raw.length : dataText!.length * 3;
    const metaMax = metaText === null ? 0 : metaText.length * 3;
    b = out.ensure(2 + id.length * 3 + 1 + tb.length + 5 + dataMax + 4 + metaMax);
    const idLen = writeString(b, id, o + 2);
    b.writeUInt16LE(idLen, o);
    o += 2 + idLen;
    b[o] = tb.length;
    b.set(tb, o + 1);
    o += 1 + tb.length;
    b[o] = raw === null || e.contentType === 'application/json' ? FLAG_JSON : 0;
    let dataLen: number;
    if (raw !== null) {
      b.set(raw, o + 5);
      dataLen = raw.length;
    } else {
      dataLen = b.write(dataText!, o + 5, 'utf8');
    }
    b.writeUInt32LE(dataLen, o + 1);
    o += 5 + dataLen;
    const metaLen = metaText === null ? 0 : b.write(metaText, o + 4, 'utf8');
    b.writeUInt32LE(metaLen, o);
    o += 4 + metaLen;
    out.length = o; // keep ensure() measuring from the right place
  }
  const bodyLength = o - bodyStart;
  if (bodyLength > MAX_RECORD_BYTES) throw new EventEncodingError('APPEND_TOO_LARGE', `append of ${bodyLength} bytes exceeds the ${MAX_RECORD_BYTES}-byte record limit`);
  b.writeUInt32LE(RECORD_MAGIC, start);
  b.writeUInt32LE(bodyLength, start + 4);
  b.writeUInt32LE(crc32(b.subarray(bodyStart, o)), start + 8);
  out.length = o;
  return o - start;
}

/** Encodes a seal saying the log continues at `nextPosition` in the next segment. */
export function encodeSealRecord(nextPosition: number): Buffer {
  const b = Buffer.alloc(SEAL_RECORD_BYTES);
  const body = RECORD_HEADER_BYTES;
  b[body] = KIND_SEAL;
  b.writeDoubleLE(nextPosition, body + 4);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b.writeUInt32LE(BODY_FIXED_BYTES, 4);
  b.writeUInt32LE(crc32(b.subarray(body)), 8);
  return b;
}

export interface RecordHeader {
  /** 'seal' ends a segment (no events; firstPosition is where the next segment starts). */
  kind: 'append' | 'seal';
  /** Byte offset of the record in its segment. */
  offset: number;
  /** Whole record length, header included. */
  length: number;
  firstPosition: number;
  firstRevision: number;
  eventCount: number;
  stream: string;
  /** Offset within `buf` where the first event starts. */
  eventsStart: number;
  bodyEnd: number;
}

export type ProbeResult =
  | { ok: true; header: RecordHeader }
  | { ok: false; reason: 'short' | 'magic' | 'length' | 'checksum' | 'shape'; need?: number };

/**
 * Checks the record at `buf[at]` (whose segment offset is `segmentOffset`): magic, length and CRC.
 * 'short' means the buffer ends before the record does (the caller reads more, or it is a torn tail).
 */
export function probeRecord(buf: Buffer, at: number, end: number, segmentOffset: number): ProbeResult {
  if (end - at < RECORD_HEADER_BYTES) return { ok: false, reason: 'short', need: RECORD_HEADER_BYTES };
  if (buf.readUInt32LE(at) !== RECORD_MAGIC) return { ok: false, reason: 'magic' };
  const bodyLength = buf.readUInt32LE(at + 4);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_RECORD_BYTES) return { ok: false, reason: 'length' };
  const total = RECORD_HEADER_BYTES + bodyLength;
  if (end - at < total) return { ok: false, reason: 'short', need: total };
  const bodyStart = at + RECORD_HEADER_BYTES;
  const bodyEnd = bodyStart + bodyLength;
  if (crc32(buf.subarray(bodyStart, bodyEnd)) !== buf.readUInt32LE(at + 8)) return { ok: false, reason: 'checksum' };
  const kind = buf[bodyStart];
  if (kind !== KIND_APPEND && kind !== KIND_SEAL) return { ok: false, reason: 'shape' };
  const streamLen = buf.readUInt16LE(bodyStart + 2);
  const firstPosition = buf.readDoubleLE(bodyStart + 4);
  const firstRevision = buf.readDoubleLE(bodyStart + 12);
  const eventCount = buf.readUInt32LE(bodyStart + 20);
  const streamStart = bodyStart + BODY_FIXED_BYTES;
  if (streamStart + streamLen > bodyEnd || !Number.isSafeInteger(firstPosition) || !Number.isSafeInteger(firstRevision)) return { ok: false, reason: 'shape' };
  if (kind === KIND_SEAL ? streamLen !== 0 || eventCount !== 0 || bodyLength !== BODY_FIXED_BYTES || firstPosition < 0 : eventCount === 0) {
    return { ok: false, reason: 'shape' };
  }
  return {
    ok: true,
    header: {
      kind: kind === KIND_SEAL ? 'seal' : 'append',
      offset: segmentOffset,
      length: total,
      firstPosition,
      firstRevision,
      eventCount,
      stream: buf.toString('utf8', streamStart, streamStart + streamLen),
      eventsStart: streamStart + streamLen,
      bodyEnd,
    },
  };
}

/**
 * A reusable view over one event inside a record buffer: the allocation-light read path. Fields are
 * decoded only when asked for. Call `next()` to move to the following event of the record.
 */
export class EventCursor {
  buf!: Buffer;
  stream = '';
  position = 0;
  revision = 0;
  private at = 0;
  private end = 0;
  idStart = 0;
  idEnd = 0;
  typeStart = 0;
  typeEnd = 0;
  flags = 0;
  dataStart = 0;
  dataEnd = 0;
  metaStart = 0;
  metaEnd = 0;

  /** Positions the cursor before the first event of a record. */
  reset(buf: Buffer, header: RecordHeader): void {
    this.buf = buf;
    this.stream = header.stream;
    this.position = header.firstPosition - 1;
    this.revision = header.firstRevision - 1;
    this.at = header.eventsStart;
    this.end = header.bodyEnd;
  }

  /** Advances to the next event; false at the end of the record. Throws on a malformed event (CRC passed, so a bug). */
  next(): boolean {
    if (this.at >= this.end) return false;
    const b = this.buf;
    // Inline little-endian reads: this loop is the sequential read path, one pass per event.
    let o = this.at;
    const idLen = b[o]! | (b[o + 1]! << 8);
    this.idStart = o + 2;
    o = this.idEnd = this.idStart + idLen;
    const typeLen = b[o]!;
    this.typeStart = o + 1;
    o = this.typeEnd = this.typeStart + typeLen;
    this.flags = b[o]!;
    const dataLen = (b[o + 1]! | (b[o + 2]! << 8) | (b[o + 3]! << 16)) + b[o + 4]! * 0x1000000;
    this.dataStart = o + 5;
    o = this.dataEnd = this.dataStart + dataLen;
    const metaLen = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
    this.metaStart = o + 4;
    this.at = this.metaEnd = this.metaStart + metaLen;
    if (this.at > this.end) throw new Error(`record event overruns its body at ${o}`);
    this.position++;
    this.revision++;
    return true;
  }

  get id(): string {
    return this.buf.toString('utf8', this.idStart, this.idEnd);
  }
  get type(): string {
    return this.buf.toString('utf8', this.typeStart, this.typeEnd);
  }
  get isJson(): boolean {
    return (this.flags & FLAG_JSON) !== 0;
  }
  get dataBytes(): Buffer {
    return this.buf.subarray(this.dataStart, this.dataEnd);
  }
  get data(): unknown {
    return this.isJson ? JSON.parse(this.buf.toString('utf8', this.dataStart, this.dataEnd)) : Buffer.from(this.dataBytes);
  }
  get metadata(): Record<string, unknown> {
    return this.metaEnd > this.metaStart ? JSON.parse(this.buf.toString('utf8', this.metaStart, this.metaEnd)) : {};
  }
}
