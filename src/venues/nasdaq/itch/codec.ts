/**
 * The object path: one ITCH 5.0 message ⇄ one typed record. For tools, tests and event mapping; it
 * allocates an object per message. Replay and benchmarks use the allocation-free views (views.ts),
 * which must give the same values (checked by a property test).
 *
 * Decoding checks the type byte and that the message fits; an expected `length` (from a frame) must
 * equal the type's length. Encoding checks every field's type and range, pads alpha fields on the right
 * with spaces, and refuses values that do not fit; it never truncates.
 */
import { TapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';
import { LAYOUT_BY_BYTE, isItchMessageType, type CompiledField, type CompiledLayout, type ItchMessage } from './messages.js';

const TYPES_LIST = LAYOUT_BY_BYTE.filter((l) => l !== undefined).map((l) => l.type).join(' ');

/** `'A' (0x41)`, or just the hex for a byte that does not print. */
export function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}

export function unknownTypeError(typeByte: number, where: ErrorPlace): TapedeckError {
  return new TapedeckError(
    'ITCH_UNKNOWN_TYPE',
    `unknown ITCH 5.0 message type ${describeByte(typeByte)}; known types: ${TYPES_LIST}. Is this an ITCH 5.0 file, and is the framing right?`,
    where,
  );
}

/**
 * Decodes the message whose type byte is at `bytes[offset]`. `length`, when given, is the length the
 * framing announced. Errors name `where.offset + offset`, so pass the frame's file offset in `where`.
 */
export function decodeMessage(bytes: Uint8Array, offset = 0, length?: number, where: ErrorPlace = {}): ItchMessage {
  const at = (where.offset ?? 0) + offset;
  if (offset < 0 || offset >= bytes.length) {
    throw new TapedeckError('ITCH_TRUNCATED', 'no ITCH message here: expected at least the type byte', { ...where, offset: at });
  }
  const typeByte = bytes[offset]!;
  const layout = LAYOUT_BY_BYTE[typeByte];
  if (!layout) throw unknownTypeError(typeByte, { ...where, offset: at });
  if (length !== undefined && length !== layout.length) {
    throw new TapedeckError(
      'ITCH_LENGTH_MISMATCH',
      `ITCH '${layout.type}' (${layout.name}) is ${layout.length} bytes but its frame says ${length}`,
      { ...where, offset: at },
    );
  }
  if (offset + layout.length > bytes.length) {
    throw new TapedeckError(
      'ITCH_TRUNCATED',
      `truncated ITCH '${layout.type}' (${layout.name}): needs ${layout.length} bytes, only ${bytes.length - offset} left`,
      { ...where, offset: at },
    );
  }
  const out: Record<string, unknown> = {
    messageType: layout.type,
    stockLocate: (bytes[offset + 1]! << 8) | bytes[offset + 2]!,
    trackingNumber: (bytes[offset + 3]! << 8) | bytes[offset + 4]!,
    timestamp: readUint(bytes, offset + 5, 6),
  };
  for (const f of layout.fields) out[f.name] = readField(bytes, offset + f.offset, f);
  return out as ItchMessage;
}

function readUint(bytes: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 256 + bytes[at + i]!;
  return v;
}

function readField(bytes: Uint8Array, at: number, f: CompiledField): unknown {
  switch (f.kind) {
    case 'char':
      return String.fromCharCode(bytes[at]!);
    case 'alpha': {
      let s = '';
      for (let i = 0; i < f.width; i++) s += String.fromCharCode(bytes[at + i]!);
      return s;
    }
    case 'u64':
    case 'price8': {
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[at + i]!);
      return v;
    }
    default:
      return readUint(bytes, at, f.width);
  }
}

/** The length `encodeMessage` would produce for this message's type. */
export function encodedLength(msg: Pick<ItchMessage, 'messageType'>): number {
  return layoutFor(msg.messageType).length;
}

function layoutFor(type: unknown): CompiledLayout {
  if (typeof type !== 'string' || !isItchMessageType(type)) {
    throw new TapedeckError('ITCH_FIELD', `messageType ${JSON.stringify(type)} is not an ITCH 5.0 type (known: ${TYPES_LIST})`, { field: 'messageType' });
  }
  return LAYOUT_BY_BYTE[type.charCodeAt(0)]!;
}

export function encodeMessage(msg: ItchMessage): Uint8Array {
  const layout = layoutFor(msg.messageType);
  const out = new Uint8Array(layout.length);
  encodeMessageInto(msg, out, 0);
  return out;
}

/**
 * Writes the message at `target[offset]` and returns the number of bytes written. For writers that
 * reuse one buffer (and one mutable message object per type), so encoding a day allocates nothing per message.
 */
export function encodeMessageInto(msg: ItchMessage, target: Uint8Array, offset: number): number {
  const layout = layoutFor(msg.messageType);
  if (offset < 0 || offset + layout.length > target.length) {
    throw new TapedeckError('ITCH_BUFFER', `no room for ITCH '${layout.type}' (${layout.length} bytes) at offset ${offset} of a ${target.length}-byte buffer`, { offset });
  }
  const rec = msg as unknown as Record<string, unknown>;
  target[offset] = layout.typeByte;
  writeUint(target, offset + 1, 2, checkUint(rec.stockLocate, 2, 'stockLocate', layout));
  writeUint(target, offset + 3, 2, checkUint(rec.trackingNumber, 2, 'trackingNumber', layout));
  writeUint(target, offset + 5, 6, checkUint(rec.timestamp, 6, 'timestamp', layout));
  for (const f of layout.fields) writeField(target, offset + f.offset, f, rec[f.name], layout);
  return layout.length;
}

function fieldError(layout: CompiledLayout, field: string, problem: string): TapedeckError {
  return new TapedeckError('ITCH_FIELD', `ITCH '${layout.type}' (${layout.name}) field ${field}: ${problem}`, { field });
}

/** 2^(8·width) for the unsigned widths used here. */
const UINT_LIMIT = [1, 0x100, 0x10000, 0x1000000, 0x100000000, 0x10000000000, 0x1000000000000];

function checkUint(v: unknown, width: number, field: string, layout: CompiledLayout): number {
  if (typeof v !== 'number' || !(v >= 0 && v < UINT_LIMIT[width]!) || !Number.isInteger(v)) {
    throw fieldError(layout, field, `expected an integer in 0..2^${8 * width}-1, got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`);
  }
  return v;
}

function writeU32(target: Uint8Array, at: number, v: number): void {
  target[at] = v >>> 24;
  target[at + 1] = (v >>> 16) & 0xff;
  target[at + 2] = (v >>> 8) & 0xff;
  target[at + 3] = v & 0xff;
}

/** Big-endian unsigned of 1, 2, 4 or 6 bytes; `v` already range-checked. */
function writeUint(target: Uint8Array, at: number, width: number, v: number): void {
  switch (width) {
    case 1:
      target[at] = v;
      return;
    case 2:
      target[at] = v >>> 8;
      target[at + 1] = v & 0xff;
      return;
    case 4:
      writeU32(target, at, v);
      return;
    default: {
      // u48: JS shifts are 32-bit, so split into a high u16 and a low u32.
      const hi = Math.floor(v / 0x100000000);
      target[at] = hi >>> 8;
      target[at + 1] = hi & 0xff;
      writeU32(target, at + 2, v >>> 0);
    }
  }
}

const U64_MAX = (1n << 64n) - 1n;

function writeField(target: Uint8Array, at: number, f: CompiledField, v: unknown, layout: CompiledLayout): void {
  switch (f.kind) {
    case 'char':
    case 'alpha': {
      if (typeof v !== 'string' || v.length > f.width || (f.kind === 'char' && v.length !== 1)) {
        throw fieldError(layout, f.name, `expected ${f.kind === 'char' ? 'one character' : `a string of at most ${f.width} characters`}, got ${JSON.stringify(v)}`);
      }
      for (let i = 0; i < f.width; i++) {
        const c = i < v.length ? v.charCodeAt(i) : 0x20;
        if (c > 0xff) throw fieldError(layout, f.name, `character ${JSON.stringify(v[i])} is not a single byte`);
        target[at + i] = c;
      }
      return;
    }
    case 'u64':
    case 'price8': {
      if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
        throw fieldError(layout, f.name, `expected a bigint in 0..2^64-1, got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`);
      }
      writeU32(target, at, Number(v >> 32n));
      writeU32(target, at + 4, Number(v & 0xffffffffn));
      return;
    }
    default:
      writeUint(target, at, f.width, checkUint(v, f.width, f.name, layout));
  }
}
