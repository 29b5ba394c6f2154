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
 */
import { crc32 } from 'node:zlib';

export const RECORD_MAGIC = 0x31524454; // bytes "TDR1"
export const RECORD_HEADER_BYTES = 12;
export const BODY_FIXED_BYTES = 24;
export const KIND_APPEND = 1;
export const FLAG_JSON = 1;
/** A record larger than this is refused on write and treated as corruption on read. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export interface EncodableEvent {
  id: string;
  type: string;
  isJson: boolean;
  /** Encoded data bytes. */
  data: Uint8Array;
  /** Encoded metadata JSON bytes, or empty. */
  metadata: Uint8Array;
}

/** A growable write buffer: appends encode straight into it, so a group commit is one write(). */
export class WriteBuffer {
  buf: Buffer;
  length = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/**
 * Encodes one append record into `out`. Returns the record's byte length.
 * Strings are written once, straight into the buffer; the CRC is computed over the finished body.
 */
export function encodeAppendRecord(
  out: WriteBuffer,
  stream: string,
  firstPosition: number,
  firstRevision: number,
  events: readonly EncodableEvent[],
): number {
  const streamBytes = Buffer.byteLength(stream, 'utf8');
  // Upper bound: ids/types may be up to 3 bytes per UTF-16 unit.
  let bound = RECORD_HEADER_BYTES + BODY_FIXED_BYTES + streamBytes;
  for (const e of events) bound += 2 + e.id.length * 3 + 1 + e.type.length * 3 + 1 + 4 + e.data.length + 4 + e.metadata.length;
  out.ensure(bound);
  const b = out.buf;
  const start = out.length;
  let o = start + RECORD_HEADER_BYTES;
  const bodyStart = o;
  b[o] = KIND_APPEND;
  b[o + 1] = 0;
  b.writeUInt16LE(streamBytes, o + 2);
  b.writeDoubleLE(firstPosition, o + 4);
  b.writeDoubleLE(firstRevision, o + 12);
  b.writeUInt32LE(events.length, o + 20);
  o += BODY_FIXED_BYTES;
  o += b.write(stream, o, 'utf8');
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const idLen = b.write(e.id, o + 2, 'utf8');
    b.writeUInt16LE(idLen, o);
    o += 2 + idLen;
    const typeLen = b.write(e.type, o + 1, 'utf8');
    b[o] = typeLen;
    o += 1 + typeLen;
    b[o] = e.isJson ? FLAG_JSON : 0;
    b.writeUInt32LE(e.data.length, o + 1);
    o += 5;
    b.set(e.data, o);
    o += e.data.length;
    b.writeUInt32LE(e.metadata.length, o);
    o += 4;
    if (e.metadata.length > 0) {
      b.set(e.metadata, o);
      o += e.metadata.length;
    }
  }
  const bodyLength = o - bodyStart;
  b.writeUInt32LE(RECORD_MAGIC, start);
  b.writeUInt32LE(bodyLength, start + 4);
  b.writeUInt32LE(crc32(b.subarray(bodyStart, o)), start + 8);
  out.length = o;
  return o - start;
}

export interface RecordHeader {
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
  if (buf[bodyStart] !== KIND_APPEND) return { ok: false, reason: 'shape' };
  const streamLen = buf.readUInt16LE(bodyStart + 2);
  const firstPosition = buf.readDoubleLE(bodyStart + 4);
  const firstRevision = buf.readDoubleLE(bodyStart + 12);
  const eventCount = buf.readUInt32LE(bodyStart + 20);
  const streamStart = bodyStart + BODY_FIXED_BYTES;
  if (streamStart + streamLen > bodyEnd || !Number.isSafeInteger(firstPosition) || !Number.isSafeInteger(firstRevision) || eventCount === 0) {
    return { ok: false, reason: 'shape' };
  }
  return {
    ok: true,
    header: {
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
    let o = this.at;
    const idLen = b.readUInt16LE(o);
    this.idStart = o + 2;
    this.idEnd = this.idStart + idLen;
    o = this.idEnd;
    const typeLen = b[o]!;
    this.typeStart = o + 1;
    this.typeEnd = this.typeStart + typeLen;
    o = this.typeEnd;
    this.flags = b[o]!;
    const dataLen = b.readUInt32LE(o + 1);
    this.dataStart = o + 5;
    this.dataEnd = this.dataStart + dataLen;
    o = this.dataEnd;
    const metaLen = b.readUInt32LE(o);
    this.metaStart = o + 4;
    this.metaEnd = this.metaStart + metaLen;
    this.at = this.metaEnd;
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
