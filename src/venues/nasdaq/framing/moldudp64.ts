/**
 * MoldUDP64 packets (the multicast transport of ITCH). Layout from the MoldUDP64 1.00 spec, nassau's
 * MoldUDP64.java and itchcpp's moldudp64.hpp (summarised in
 * test/fixtures/datasets/itch/NOTES_itch_ouch_soupbintcp_moldudp64.md section 3):
 *
 *   downstream packet: session alpha[10] | sequence number u64 | message count u16 | count × [u16 length][payload]
 *   message count 0 = heartbeat, 0xFFFF = End of Session (both carry no messages);
 *   request packet:    session alpha[10] | sequence number u64 | requested message count u16
 *
 * The sequence number is that of the first message in the packet (for heartbeats, the next expected one).
 * It is a bigint in the decoded header; `forEachMoldMessage` is the allocation-free path that hands each
 * message block to a PayloadSink (an ItchParser, for ITCH) and returns the message count.
 */
import { TapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';
import type { PayloadSink } from './payload-sink.js';

export const MOLD_HEADER_LENGTH = 20;
export const MOLD_SESSION_LENGTH = 10;
export const MOLD_HEARTBEAT_COUNT = 0;
export const MOLD_END_OF_SESSION_COUNT = 0xffff;
/** nassau's cap on a packet's payload; an implementation choice (fits an Ethernet MTU), not a protocol rule. */
export const MOLD_DEFAULT_MAX_PAYLOAD = 1400;

export type MoldPacketKind = 'messages' | 'heartbeat' | 'end-of-session';

export interface MoldPacket {
  kind: MoldPacketKind;
  /** Space-padded to 10 characters, as on the wire. */
  session: string;
  sequenceNumber: bigint;
  messageCount: number;
  /** Views into the packet's bytes (not copies). */
  messages: Uint8Array[];
}

export interface MoldRequest {
  session: string;
  sequenceNumber: bigint;
  requestedMessageCount: number;
}

function readSession(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < MOLD_SESSION_LENGTH; i++) s += String.fromCharCode(bytes[at + i]!);
  return s;
}

function readU64(bytes: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[at + i]!);
  return v;
}

function header(bytes: Uint8Array, offset: number, length: number, where: ErrorPlace, what: string): void {
  if (offset < 0 || length < MOLD_HEADER_LENGTH || offset + length > bytes.length) {
    throw new TapedeckError(
      'MOLD_TRUNCATED',
      `MoldUDP64 ${what} of ${length} bytes is shorter than its ${MOLD_HEADER_LENGTH}-byte header or runs past the buffer`,
      { ...where, offset: (where.offset ?? 0) + offset },
    );
  }
}

/**
 * Walks the message blocks of a downstream packet without allocating, handing each payload to `sink`.
 * Returns the packet's message count field (0 for a heartbeat, 0xFFFF for End of Session).
 */
export function forEachMoldMessage(bytes: Uint8Array, offset: number, length: number, sink: PayloadSink, where: ErrorPlace = {}): number {
  header(bytes, offset, length, where, 'packet');
  const count = (bytes[offset + 18]! << 8) | bytes[offset + 19]!;
  const end = offset + length;
  let pos = offset + MOLD_HEADER_LENGTH;
  const blocks = count === MOLD_END_OF_SESSION_COUNT ? 0 : count;
  for (let i = 0; i < blocks; i++) {
    if (pos + 2 > end) {
      throw new TapedeckError('MOLD_TRUNCATED', `MoldUDP64 packet announces ${count} messages but ends after ${i}`, { ...where, offset: (where.offset ?? 0) + pos });
    }
    const len = (bytes[pos]! << 8) | bytes[pos + 1]!;
    if (pos + 2 + len > end) {
      throw new TapedeckError('MOLD_TRUNCATED', `MoldUDP64 message ${i} of ${len} bytes runs past the end of the packet`, { ...where, offset: (where.offset ?? 0) + pos });
    }
    sink.payload(bytes, pos + 2, len);
    pos += 2 + len;
  }
  if (pos !== end) {
    throw new TapedeckError('MOLD_TRAILING_BYTES', `MoldUDP64 packet has ${end - pos} bytes after its ${blocks} message blocks`, { ...where, offset: (where.offset ?? 0) + pos });
  }
  return count;
}

export function decodeMoldPacket(bytes: Uint8Array, offset = 0, length = bytes.length - offset, where: ErrorPlace = {}): MoldPacket {
  header(bytes, offset, length, where, 'packet');
  const messages: Uint8Array[] = [];
  const count = forEachMoldMessage(bytes, offset, length, { payload: (b, o, l) => messages.push(b.subarray(o, o + l)) }, where);
  return {
    kind: count === MOLD_HEARTBEAT_COUNT ? 'heartbeat' : count === MOLD_END_OF_SESSION_COUNT ? 'end-of-session' : 'messages',
    session: readSession(bytes, offset),
    sequenceNumber: readU64(bytes, offset + 10),
    messageCount: count,
    messages,
  };
}

function writeHeader(out: Uint8Array, session: string, sequenceNumber: bigint, count: number): void {
  if (session.length > MOLD_SESSION_LENGTH || /[^\x20-\x7e]/.test(session)) {
    throw new TapedeckError('MOLD_FIELD', `MoldUDP64 session must be at most 10 printable ASCII characters, got ${JSON.stringify(session)}`, { field: 'session' });
  }
  if (sequenceNumber < 0n || sequenceNumber >= 1n << 64n) {
    throw new TapedeckError('MOLD_FIELD', `MoldUDP64 sequence number ${sequenceNumber} is outside 0..2^64-1`, { field: 'sequenceNumber' });
  }
  // Session is space-padded on the right, as nassau writes it.
  for (let i = 0; i < MOLD_SESSION_LENGTH; i++) out[i] = i < session.length ? session.charCodeAt(i) : 0x20;
  let s = sequenceNumber;
  for (let i = 17; i >= 10; i--) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  out[18] = count >>> 8;
  out[19] = count & 0xff;
}

/** A downstream packet carrying `messages` (1..65534 of them, each ≤ 65535 bytes). */
export function encodeMoldPacket(session: string, sequenceNumber: bigint, messages: readonly Uint8Array[]): Uint8Array {
  if (messages.length >= MOLD_END_OF_SESSION_COUNT) {
    throw new TapedeckError('MOLD_FIELD', `a MoldUDP64 packet holds at most 65534 messages, got ${messages.length}`, { field: 'messages' });
  }
  let size = MOLD_HEADER_LENGTH;
  for (const m of messages) {
    if (m.length > 0xffff) throw new TapedeckError('MOLD_FIELD', `a MoldUDP64 message is at most 65535 bytes, got ${m.length}`, { field: 'messages' });
    size += 2 + m.length;
  }
  const out = new Uint8Array(size);
  writeHeader(out, session, sequenceNumber, messages.length);
  let pos = MOLD_HEADER_LENGTH;
  for (const m of messages) {
    out[pos] = m.length >>> 8;
    out[pos + 1] = m.length & 0xff;
    out.set(m, pos + 2);
    pos += 2 + m.length;
  }
  return out;
}

/** A heartbeat: no messages, `nextSequenceNumber` is the next one the server will send. */
export function encodeMoldHeartbeat(session: string, nextSequenceNumber: bigint): Uint8Array {
  const out = new Uint8Array(MOLD_HEADER_LENGTH);
  writeHeader(out, session, nextSequenceNumber, MOLD_HEARTBEAT_COUNT);
  return out;
}

export function encodeMoldEndOfSession(session: string, nextSequenceNumber: bigint): Uint8Array {
  const out = new Uint8Array(MOLD_HEADER_LENGTH);
  writeHeader(out, session, nextSequenceNumber, MOLD_END_OF_SESSION_COUNT);
  return out;
}

export function encodeMoldRequest(req: MoldRequest): Uint8Array {
  if (!Number.isInteger(req.requestedMessageCount) || req.requestedMessageCount < 0 || req.requestedMessageCount > 0xffff) {
    throw new TapedeckError('MOLD_FIELD', `requested message count must be 0..65535, got ${req.requestedMessageCount}`, { field: 'requestedMessageCount' });
  }
  const out = new Uint8Array(MOLD_HEADER_LENGTH);
  writeHeader(out, req.session, req.sequenceNumber, req.requestedMessageCount);
  return out;
}

export function decodeMoldRequest(bytes: Uint8Array, offset = 0, length = bytes.length - offset, where: ErrorPlace = {}): MoldRequest {
  header(bytes, offset, length, where, 'request');
  if (length !== MOLD_HEADER_LENGTH) {
    throw new TapedeckError('MOLD_TRAILING_BYTES', `MoldUDP64 request is ${MOLD_HEADER_LENGTH} bytes, got ${length}`, { ...where, offset: (where.offset ?? 0) + offset });
  }
  return {
    session: readSession(bytes, offset),
    sequenceNumber: readU64(bytes, offset + 10),
    requestedMessageCount: (bytes[offset + 18]! << 8) | bytes[offset + 19]!,
  };
}

/**
 * Splits messages into packets of at most `maxPayload` bytes (blocks included), numbering them from
 * `firstSequenceNumber`: what a MoldUDP64 server does with a stream of ITCH messages.
 */
export function packMoldPackets(session: string, firstSequenceNumber: bigint, messages: readonly Uint8Array[], maxPayload = MOLD_DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let seq = firstSequenceNumber;
  let batch: Uint8Array[] = [];
  let size = 0;
  for (const m of messages) {
    if (2 + m.length > maxPayload) {
      throw new TapedeckError('MOLD_FIELD', `a ${m.length}-byte message does not fit a ${maxPayload}-byte packet payload`, { field: 'messages' });
    }
    if (size + 2 + m.length > maxPayload || batch.length === MOLD_END_OF_SESSION_COUNT - 1) {
      packets.push(encodeMoldPacket(session, seq, batch));
      seq += BigInt(batch.length);
      batch = [];
      size = 0;
    }
    batch.push(m);
    size += 2 + m.length;
  }
  if (batch.length > 0) packets.push(encodeMoldPacket(session, seq, batch));
  return packets;
}
