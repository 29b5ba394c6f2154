/**
 * SoupBinTCP 3.0 packets: `[u16 BE length][u8 type][payload]`, the length counting type and payload.
 * Sources: SoupBinTCP 3.00 spec text (Feb 2017), paritytrading/nassau SoupBinTCP.java (field padding),
 * OMI Nasdaq.Common.SoupBinTcp.Ouch.v3.0.h; summarised in
 * test/fixtures/datasets/itch/NOTES_itch_ouch_soupbintcp_moldudp64.md section 4.
 *
 * Padding as nassau writes it: username and password left-justified, session and sequence number
 * right-justified, all with spaces. A blank session means "the current session"; a blank sequence
 * number is read as 0. Sequence numbers are safe integers here (a session of 2^53 messages is not real).
 */
import { TapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';

export const SOUP_HEADER_LENGTH = 3;
/** The u16 length field bounds a packet: type byte plus payload. */
export const SOUP_MAX_PACKET_LENGTH = 0xffff;
export const SOUP_MAX_PAYLOAD_LENGTH = SOUP_MAX_PACKET_LENGTH - 1;

export const SOUP_TYPE = {
  debug: '+',
  loginAccepted: 'A',
  loginRejected: 'J',
  sequencedData: 'S',
  serverHeartbeat: 'H',
  endOfSession: 'Z',
  loginRequest: 'L',
  unsequencedData: 'U',
  clientHeartbeat: 'R',
  logoutRequest: 'O',
} as const;

/** Packet types each peer may send. */
export const SERVER_PACKET_TYPES = '+AJSHZ';
export const CLIENT_PACKET_TYPES = '+LURO';

export const LOGIN_REJECT_NOT_AUTHORIZED = 'A';
export const LOGIN_REJECT_SESSION_NOT_AVAILABLE = 'S';

export type SoupPacket =
  | { kind: 'debug'; text: string }
  | { kind: 'loginAccepted'; session: string; sequenceNumber: number }
  | { kind: 'loginRejected'; reason: string }
  | { kind: 'sequencedData'; payload: Uint8Array }
  | { kind: 'serverHeartbeat' }
  | { kind: 'endOfSession' }
  | { kind: 'loginRequest'; username: string; password: string; requestedSession: string; requestedSequenceNumber: number }
  | { kind: 'unsequencedData'; payload: Uint8Array }
  | { kind: 'clientHeartbeat' }
  | { kind: 'logoutRequest' };

export type SoupPacketKind = SoupPacket['kind'];

const KIND_BY_TYPE: Record<string, SoupPacketKind> = Object.fromEntries(Object.entries(SOUP_TYPE).map(([k, t]) => [t, k as SoupPacketKind]));

/** Fixed payload lengths; the others ('+', 'S', 'U') take any length. */
const FIXED_PAYLOAD: Partial<Record<SoupPacketKind, number>> = {
  loginAccepted: 30,
  loginRejected: 1,
  serverHeartbeat: 0,
  endOfSession: 0,
  loginRequest: 46,
  clientHeartbeat: 0,
  logoutRequest: 0,
};

export function soupKindOf(typeByte: number): SoupPacketKind | undefined {
  return KIND_BY_TYPE[String.fromCharCode(typeByte)];
}

function hexByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}

/**
 * Decodes a packet body: its type byte and payload (the framer hands these over without a copy).
 * `where.offset` is the stream offset of the packet's length field, for error messages.
 * Data payloads are views into `payload`; copy them to keep them past the caller's buffer.
 */
export function decodeSoupBody(typeByte: number, payload: Uint8Array, where: ErrorPlace = {}): SoupPacket {
  const base = where.offset ?? 0;
  const kind = soupKindOf(typeByte);
  if (!kind) {
    throw new TapedeckError('SOUP_UNKNOWN_TYPE', `unknown SoupBinTCP packet type ${hexByte(typeByte)}; known: + A J S H Z L U R O`, { ...where, offset: base + 2, field: 'type' });
  }
  const fixed = FIXED_PAYLOAD[kind];
  if (fixed !== undefined && payload.length !== fixed) {
    throw new TapedeckError('SOUP_LENGTH', `${kind} (${hexByte(typeByte)}) has a ${fixed}-byte payload, got ${payload.length} (length field ${payload.length + 1})`, { ...where, offset: base, field: 'length' });
  }
  const at = (rel: number): ErrorPlace => ({ ...where, offset: base + SOUP_HEADER_LENGTH + rel });
  switch (kind) {
    case 'debug':
      return { kind, text: latin1(payload, 0, payload.length) };
    case 'loginAccepted':
      return { kind, session: trimSpaces(latin1(payload, 0, 10), true), sequenceNumber: readNumeric(payload, 10, 20, 'sequenceNumber', at(10)) };
    case 'loginRejected':
      return { kind, reason: String.fromCharCode(payload[0]!) };
    case 'sequencedData':
    case 'unsequencedData':
      return { kind, payload };
    case 'loginRequest':
      return {
        kind,
        username: trimSpaces(latin1(payload, 0, 6), false),
        password: trimSpaces(latin1(payload, 6, 10), false),
        requestedSession: trimSpaces(latin1(payload, 16, 10), true),
        requestedSequenceNumber: readNumeric(payload, 26, 20, 'requestedSequenceNumber', at(26)),
      };
    default:
      return { kind } as SoupPacket;
  }
}

/** Decodes one whole packet, length field included; the length field must match the bytes. */
export function decodeSoupPacket(bytes: Uint8Array, where: ErrorPlace = {}): SoupPacket {
  const base = where.offset ?? 0;
  if (bytes.length < SOUP_HEADER_LENGTH) {
    throw new TapedeckError('SOUP_TRUNCATED', `a SoupBinTCP packet is at least 3 bytes (length, type), got ${bytes.length}`, { ...where, offset: base + bytes.length });
  }
  const len = (bytes[0]! << 8) | bytes[1]!;
  if (len !== bytes.length - 2) {
    throw new TapedeckError('SOUP_LENGTH', `length field says ${len} bytes follow, but ${bytes.length - 2} do`, { ...where, offset: base, field: 'length' });
  }
  return decodeSoupBody(bytes[2]!, bytes.subarray(3), where);
}

function latin1(b: Uint8Array, off: number, len: number): string {
  let s = '';
  const end = Math.min(b.length, off + len);
  for (let i = off; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Strips ASCII spaces (the padding) only: String.trim would also eat 0xA0 and other Unicode spaces. */
function trimSpaces(s: string, leading: boolean): string {
  let start = 0;
  let end = s.length;
  while (end > start && s.charCodeAt(end - 1) === 0x20) end--;
  if (leading) while (start < end && s.charCodeAt(start) === 0x20) start++;
  return s.slice(start, end);
}

function readNumeric(b: Uint8Array, off: number, len: number, field: string, where: ErrorPlace): number {
  const text = trimSpaces(latin1(b, off, len), true);
  if (text === '') return 0;
  if (!/^\d+$/.test(text)) {
    throw new TapedeckError('SOUP_FIELD', `${field}: ${JSON.stringify(text)} is not a decimal number`, { ...where, field });
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new TapedeckError('SOUP_FIELD', `${field}: ${text} exceeds the safe integer range`, { ...where, field });
  return n;
}

// ---------- encoding ----------

/** Length of the whole packet on the wire, length field included. */
export function soupPacketLength(p: SoupPacket): number {
  switch (p.kind) {
    case 'debug':
      return SOUP_HEADER_LENGTH + p.text.length;
    case 'sequencedData':
    case 'unsequencedData':
      return SOUP_HEADER_LENGTH + p.payload.length;
    default:
      return SOUP_HEADER_LENGTH + FIXED_PAYLOAD[p.kind]!;
  }
}

export function encodeSoupPacket(p: SoupPacket): Uint8Array {
  const out = new Uint8Array(soupPacketLength(p));
  encodeSoupPacketInto(p, out, 0);
  return out;
}

function fieldError(kind: string, field: string, problem: string): TapedeckError {
  return new TapedeckError('SOUP_FIELD', `${kind}.${field}: ${problem}`, { field: `${kind}.${field}` });
}

/** Writes the packet at `offset` and returns the bytes written. */
export function encodeSoupPacketInto(p: SoupPacket, target: Uint8Array, offset: number): number {
  const total = soupPacketLength(p);
  if (total - 2 > SOUP_MAX_PACKET_LENGTH) {
    throw new TapedeckError('SOUP_TOO_LONG', `${p.kind}: payload of ${total - 3} bytes exceeds the SoupBinTCP maximum of ${SOUP_MAX_PAYLOAD_LENGTH}`, { field: `${p.kind}.payload` });
  }
  if (offset < 0 || offset + total > target.length) {
    throw new TapedeckError('SOUP_BUFFER', `${p.kind} needs ${total} bytes at offset ${offset}, buffer has ${target.length}`, { offset });
  }
  const len = total - 2;
  target[offset] = len >>> 8;
  target[offset + 1] = len & 0xff;
  target[offset + 2] = SOUP_TYPE[p.kind].charCodeAt(0);
  const o = offset + SOUP_HEADER_LENGTH;
  switch (p.kind) {
    case 'debug':
      putText(p.kind, 'text', target, o, p.text.length, p.text, 'left');
      break;
    case 'loginAccepted':
      putText(p.kind, 'session', target, o, 10, p.session, 'right');
      putNumeric(p.kind, 'sequenceNumber', target, o + 10, p.sequenceNumber);
      break;
    case 'loginRejected':
      if (p.reason.length !== 1 || p.reason.charCodeAt(0) > 0xff) throw fieldError(p.kind, 'reason', `expected one character, got ${JSON.stringify(p.reason)}`);
      target[o] = p.reason.charCodeAt(0);
      break;
    case 'sequencedData':
    case 'unsequencedData':
      target.set(p.payload, o);
      break;
    case 'loginRequest':
      putText(p.kind, 'username', target, o, 6, p.username, 'left');
      putText(p.kind, 'password', target, o + 6, 10, p.password, 'left');
      putText(p.kind, 'requestedSession', target, o + 16, 10, p.requestedSession, 'right');
      putNumeric(p.kind, 'requestedSequenceNumber', target, o + 26, p.requestedSequenceNumber);
      break;
    default:
      break;
  }
  return total;
}

function putText(kind: string, field: string, b: Uint8Array, o: number, size: number, text: string, justify: 'left' | 'right'): void {
  if (typeof text !== 'string' || text.length > size) throw fieldError(kind, field, `expected at most ${size} characters, got ${JSON.stringify(text)}`);
  const pad = size - text.length;
  const start = justify === 'left' ? 0 : pad;
  b.fill(0x20, o, o + size);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch > 0xff) throw fieldError(kind, field, `character ${JSON.stringify(text[i])} is not a single byte`);
    b[o + start + i] = ch;
  }
}

function putNumeric(kind: string, field: string, b: Uint8Array, o: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw fieldError(kind, field, `expected a non-negative safe integer, got ${String(n)}`);
  putText(kind, field, b, o, 20, String(n), 'right');
}
