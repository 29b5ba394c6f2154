/**
 * Encode and decode OUCH 4.2 messages (one message, without any SoupBinTCP framing). Framing is
 * checked strictly: an unknown type byte or a length that is not the layout's length is a
 * TapedeckError with the byte offset. Field contents are taken as they are (see messages.ts).
 * Layouts are compiled once into per-type tables, so decoding is a table lookup and a field loop.
 */
import { TapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';
import {
  CLIENT_LAYOUTS,
  VENUE_LAYOUTS,
  baseLength,
  type FieldSpec,
  type MessageLayout,
  type OuchClientMessage,
  type OuchMessage,
  type OuchVenueMessage,
} from './messages.js';

interface CompiledLayout {
  layout: MessageLayout;
  typeByte: number;
  /** Length including the type byte without the optional tail. */
  length: number;
  /** Offset of each field in `layout.fields`, from the type byte. */
  offsets: number[];
  /** Builds the record; generated from the layout (see `compileReader`). */
  read: (b: Uint8Array, withTail: boolean) => Record<string, unknown>;
  /** Writes every field after the type byte (and the tail when `withTail`); generated too. */
  write: (rec: Record<string, unknown>, b: Uint8Array, o: number, withTail: boolean) => void;
}

function compile(layout: MessageLayout): CompiledLayout {
  const offsets: number[] = [];
  let off = 1;
  for (const f of layout.fields) {
    offsets.push(off);
    off += f.size;
  }
  const length = baseLength(layout);
  return {
    layout, typeByte: layout.type.charCodeAt(0), length, offsets,
    read: compileReader(layout, offsets, length), write: compileWriter(layout, offsets, length),
  };
}

/**
 * Generates one reader per layout: an object literal with the fields in wire order, so every record
 * of a kind has one hidden class and the decoder does no keyed stores (3x faster than a field loop).
 * The generated text comes only from the constant layout tables in messages.ts, never from input.
 */
function compileReader(layout: MessageLayout, offsets: number[], length: number): CompiledLayout['read'] {
  const expr = (f: FieldSpec, o: number): string => {
    switch (f.type) {
      case 'char': return `String.fromCharCode(b[${o}])`;
      case 'u32': return `u32(b, ${o})`;
      case 'u64': return `u64(b, ${o})`;
      case 'alpha': return `alpha(b, ${o}, ${f.size})`;
    }
  };
  const props = [`kind: ${JSON.stringify(layout.kind)}`];
  layout.fields.forEach((f, i) => props.push(`${JSON.stringify(f.name)}: ${expr(f, offsets[i]!)}`));
  if (layout.optionalTail) props.push(`${JSON.stringify(layout.optionalTail.name)}: withTail ? ${expr(layout.optionalTail, length)} : null`);
  const factory = new Function('u32', 'u64', 'alpha', `return function read${layout.kind}(b, withTail) { return { ${props.join(', ')} }; };`);
  return factory(readU32, readU64, readAlpha) as CompiledLayout['read'];
}

type Direction = 'client' | 'venue';

function byType(layouts: readonly MessageLayout[]): (CompiledLayout | undefined)[] {
  const table: (CompiledLayout | undefined)[] = new Array(256).fill(undefined);
  for (const l of layouts) table[l.type.charCodeAt(0)] = compile(l);
  return table;
}

const CLIENT_BY_TYPE = byType(CLIENT_LAYOUTS);
const VENUE_BY_TYPE = byType(VENUE_LAYOUTS);
const BY_KIND = new Map<string, CompiledLayout>();
for (const l of [...CLIENT_LAYOUTS, ...VENUE_LAYOUTS]) BY_KIND.set(l.kind, compile(l));

const KNOWN_TYPES: Record<Direction, string> = {
  client: CLIENT_LAYOUTS.map((l) => l.type).join(' '),
  venue: VENUE_LAYOUTS.map((l) => l.type).join(' '),
};

/** `'A' (0x41)`, or just the hex for bytes that do not print. */
export function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}

/** Decodes a message sent by Nasdaq (the payload of a SoupBinTCP 'S' packet). */
export function decodeVenueMessage(bytes: Uint8Array, where?: ErrorPlace): OuchVenueMessage {
  return decodeWith(VENUE_BY_TYPE, 'venue', bytes, where) as unknown as OuchVenueMessage;
}

/** Decodes a message sent by a client (the payload of a SoupBinTCP 'U' packet). */
export function decodeClientMessage(bytes: Uint8Array, where?: ErrorPlace): OuchClientMessage {
  return decodeWith(CLIENT_BY_TYPE, 'client', bytes, where) as unknown as OuchClientMessage;
}

/** The layout a type byte selects, or undefined when the type is unknown in that direction. */
export function layoutFor(direction: Direction, typeByte: number): MessageLayout | undefined {
  return (direction === 'client' ? CLIENT_BY_TYPE : VENUE_BY_TYPE)[typeByte]?.layout;
}

function decodeWith(table: (CompiledLayout | undefined)[], direction: Direction, bytes: Uint8Array, whereIn: ErrorPlace | undefined): Record<string, unknown> {
  const where = whereIn ?? {};
  const base = where.offset ?? 0;
  if (bytes.length === 0) {
    throw new TapedeckError('OUCH_EMPTY', `empty OUCH 4.2 ${direction} message: expected at least the type byte`, { ...where, offset: base });
  }
  const t = bytes[0]!;
  const compiled = table[t];
  if (!compiled) {
    throw new TapedeckError(
      'OUCH_UNKNOWN_TYPE',
      `unknown OUCH 4.2 ${direction} message type ${describeByte(t)}; known ${direction} types: ${KNOWN_TYPES[direction]}`,
      { ...where, offset: base, field: 'type' },
    );
  }
  const { layout, length } = compiled;
  const tail = layout.optionalTail;
  const withTail = tail !== undefined && bytes.length === length + 1;
  if (bytes.length !== length && !withTail) {
    const expected = tail ? `${length} or ${length + 1}` : `${length}`;
    throw new TapedeckError(
      'OUCH_LENGTH',
      `${layout.kind} (${describeByte(t)}) is ${expected} bytes long, got ${bytes.length}`,
      { ...where, offset: base + Math.min(bytes.length, length), field: 'length' },
    );
  }
  return compiled.read(bytes, withTail);
}

/** The writer's counterpart: direct property loads instead of keyed ones, one checked write per field. */
function compileWriter(layout: MessageLayout, offsets: number[], length: number): CompiledLayout['write'] {
  const fields = [...layout.fields, ...(layout.optionalTail ? [layout.optionalTail] : [])];
  const fn = { char: 'wChar', alpha: 'wAlpha', u32: 'wU32', u64: 'wU64' } as const;
  const lines = fields.map((f, i) => {
    const call = `${fn[f.type]}(K, F[${i}], rec[${JSON.stringify(f.name)}], b, o + ${i < layout.fields.length ? offsets[i]! : length});`;
    return i < layout.fields.length ? call : `if (withTail) ${call}`;
  });
  const factory = new Function('K', 'F', 'wChar', 'wAlpha', 'wU32', 'wU64', `return function write${layout.kind}(rec, b, o, withTail) { ${lines.join(' ')} };`);
  return factory(layout.kind, fields, writeChar, writeAlpha, writeU32, writeU64) as CompiledLayout['write'];
}

/** Alpha field without its right padding (ASCII spaces). */
function readAlpha(b: Uint8Array, o: number, size: number): string {
  let end = o + size;
  while (end > o && b[end - 1] === 0x20) end--;
  // A short loop beats fromCharCode.apply on a subarray (no view allocated) for fields of 4 to 14 bytes.
  let s = '';
  for (let i = o; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function readU64(b: Uint8Array, o: number): bigint {
  const hi = readU32(b, o);
  const lo = readU32(b, o + 4);
  // Below 2^53 (every timestamp, almost every reference number) one exact Number → BigInt is cheapest.
  return hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

// ---------- encoding ----------

function layoutOf(msg: OuchMessage): CompiledLayout {
  const compiled = BY_KIND.get((msg as { kind: unknown }).kind as string);
  if (!compiled) {
    throw new TapedeckError('OUCH_FIELD', `cannot encode OUCH message of kind "${String((msg as { kind: unknown }).kind)}"`, { field: 'kind' });
  }
  return compiled;
}

/** Encoded length of a message, type byte included. */
export function encodedLength(msg: OuchMessage): number {
  const c = layoutOf(msg);
  const tail = c.layout.optionalTail;
  return tail && (msg as unknown as Record<string, unknown>)[tail.name] !== null ? c.length + 1 : c.length;
}

export function encodeOuch(msg: OuchMessage): Uint8Array {
  const out = new Uint8Array(encodedLength(msg));
  encodeOuchInto(msg, out, 0);
  return out;
}

/** Writes the message at `offset` of `target` (which must have room) and returns the bytes written. */
export function encodeOuchInto(msg: OuchMessage, target: Uint8Array, offset: number): number {
  const c = layoutOf(msg);
  const { layout, length } = c;
  const rec = msg as unknown as Record<string, unknown>;
  const tail = layout.optionalTail;
  const total = tail && rec[tail.name] !== null ? length + 1 : length;
  if (offset < 0 || offset + total > target.length) {
    throw new TapedeckError('OUCH_BUFFER', `${layout.kind} needs ${total} bytes at offset ${offset}, buffer has ${target.length}`, { offset });
  }
  target[offset] = c.typeByte;
  c.write(rec, target, offset, total > length);
  return total;
}

function fieldError(kind: string, f: FieldSpec, problem: string): TapedeckError {
  return new TapedeckError('OUCH_FIELD', `${kind}.${f.name}: ${problem}`, { field: `${kind}.${f.name}` });
}

function writeChar(kind: string, f: FieldSpec, v: unknown, b: Uint8Array, o: number): void {
  if (typeof v !== 'string' || v.length !== 1 || v.charCodeAt(0) > 0xff) throw fieldError(kind, f, `expected one character, got ${JSON.stringify(v)}`);
  b[o] = v.charCodeAt(0);
}

function writeAlpha(kind: string, f: FieldSpec, v: unknown, b: Uint8Array, o: number): void {
  if (typeof v !== 'string' || v.length > f.size) throw fieldError(kind, f, `expected text of at most ${f.size} characters, got ${JSON.stringify(v)}`);
  for (let i = 0; i < f.size; i++) {
    if (i < v.length) {
      const ch = v.charCodeAt(i);
      if (ch > 0xff) throw fieldError(kind, f, `character ${JSON.stringify(v[i])} at ${i} is not a single byte`);
      b[o + i] = ch;
    } else {
      b[o + i] = 0x20;
    }
  }
}

function writeU32(kind: string, f: FieldSpec, v: unknown, b: Uint8Array, o: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw fieldError(kind, f, `expected an integer 0..4294967295, got ${String(v)}`);
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function writeU64(kind: string, f: FieldSpec, v: unknown, b: Uint8Array, o: number): void {
  if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw fieldError(kind, f, `expected a bigint 0..2^64-1, got ${String(v)}`);
  // Below 2^53 plain Number arithmetic splits it without BigInt shifts.
  let hi: number;
  let lo: number;
  if (v <= 0x1fffffffffffffn) {
    const n = Number(v);
    hi = Math.floor(n / 0x100000000);
    lo = n >>> 0;
  } else {
    hi = Number(v >> 32n);
    lo = Number(v & 0xffffffffn);
  }
  writeU32(kind, f, hi, b, o);
  writeU32(kind, f, lo, b, o + 4);
}
