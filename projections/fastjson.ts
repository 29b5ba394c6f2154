/**
 * Field lookups straight on JSON bytes, for the projector's hot path: one forward pass over a flat
 * object records where the values of a few wanted keys are, without building an object per event
 * (JSON.parse) or searching the bytes once per key.
 *
 * The scanner understands the whole JSON grammar at the top level (nested objects and arrays, and
 * strings with escapes, are skipped correctly); only the values it hands out are restricted to simple
 * forms: strings without escapes, safe integers, integers written as strings, booleans, null. Anything
 * else answers `undefined` and the caller falls back to JSON.parse. A malformed object makes `scan`
 * return false.
 */
export class FlatScanner {
  private readonly keyBytes: Uint8Array[];
  readonly start: Int32Array;
  readonly end: Int32Array;
  buf: Buffer = Buffer.alloc(0);

  constructor(readonly keys: readonly string[]) {
    this.keyBytes = keys.map((k) => Buffer.from(k, 'utf8'));
    this.start = new Int32Array(keys.length);
    this.end = new Int32Array(keys.length);
  }

  /** Scans `{...}` in buf[from, to). Returns false when the bytes are not one JSON object. */
  scan(buf: Buffer, from: number, to: number): boolean {
    this.buf = buf;
    this.start.fill(-1);
    let p = skipWs(buf, from, to);
    if (buf[p] !== 123) return false;
    p = skipWs(buf, p + 1, to);
    if (buf[p] === 125) return true;
    while (p < to) {
      if (buf[p] !== 34) return false;
      const ks = p + 1;
      const ke = skipString(buf, p, to);
      if (ke < 0) return false;
      p = skipWs(buf, ke + 1, to);
      if (buf[p] !== 58) return false;
      p = skipWs(buf, p + 1, to);
      const vs = p;
      p = skipValue(buf, p, to);
      if (p < 0) return false;
      const slot = this.match(buf, ks, ke);
      if (slot >= 0) {
        this.start[slot] = vs;
        this.end[slot] = p;
      }
      p = skipWs(buf, p, to);
      if (buf[p] === 44) {
        p = skipWs(buf, p + 1, to);
        continue;
      }
      return buf[p] === 125;
    }
    return false;
  }

  private match(buf: Buffer, ks: number, ke: number): number {
    const len = ke - ks;
    const kb = this.keyBytes;
    outer: for (let i = 0; i < kb.length; i++) {
      const k = kb[i]!;
      if (k.length !== len) continue;
      for (let j = 0; j < len; j++) if (buf[ks + j] !== k[j]) continue outer;
      return i;
    }
    return -1;
  }

  has(slot: number): boolean {
    return this.start[slot]! >= 0;
  }

  /** A string without escapes; null for JSON null; undefined when absent or not a simple string. */
  str(slot: number): string | null | undefined {
    const s = this.start[slot]!;
    if (s < 0) return undefined;
    const b = this.buf;
    if (b[s] === 110) return null;
    if (b[s] !== 34) return undefined;
    const e = this.end[slot]! - 1;
    for (let i = s + 1; i < e; i++) if (b[i] === 92) return undefined;
    return b.toString('utf8', s + 1, e);
  }

  /** A safe integer; undefined when absent or not a plain integer. */
  int(slot: number): number | undefined {
    const s = this.start[slot]!;
    if (s < 0) return undefined;
    const b = this.buf;
    const e = this.end[slot]!;
    let i = s;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    // Up to 16 digits: every safe integer fits, and the sum stays exact while it is at most 2^53.
    if (i >= e || e - i > 16) return undefined;
    let v = 0;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c < 48 || c > 57) return undefined;
      v = v * 10 + (c - 48);
    }
    if (v > Number.MAX_SAFE_INTEGER) return undefined;
    return neg ? -v : v;
  }

  /** An integer written as digits in a string or as a number, as bigint. */
  bigint(slot: number): bigint | undefined {
    const s = this.start[slot]!;
    if (s < 0) return undefined;
    const b = this.buf;
    let i = s;
    let e = this.end[slot]!;
    if (b[i] === 34) {
      i++;
      e--;
    }
    const from = i;
    if (b[i] === 45) i++;
    if (i >= e) return undefined;
    for (; i < e; i++) if (b[i]! < 48 || b[i]! > 57) return undefined;
    return BigInt(b.toString('latin1', from, e));
  }

  bool(slot: number): boolean | undefined {
    const s = this.start[slot]!;
    if (s < 0) return undefined;
    const c = this.buf[s];
    return c === 116 ? true : c === 102 ? false : undefined;
  }
}

function skipWs(b: Buffer, p: number, to: number): number {
  while (p < to) {
    const c = b[p]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return p;
    p++;
  }
  return p;
}

/** Index of the closing quote of the string opening at p, or -1. */
function skipString(b: Buffer, p: number, to: number): number {
  for (let i = p + 1; i < to; i++) {
    const c = b[i]!;
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return -1;
}

/** End (exclusive) of the value starting at p, or -1. */
function skipValue(b: Buffer, p: number, to: number): number {
  const c = b[p];
  if (c === 34) {
    const e = skipString(b, p, to);
    return e < 0 ? -1 : e + 1;
  }
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let i = p; i < to; i++) {
      const x = b[i]!;
      if (x === 34) {
        i = skipString(b, i, to);
        if (i < 0) return -1;
      } else if (x === 123 || x === 91) depth++;
      else if (x === 125 || x === 93) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = p;
  while (i < to) {
    const x = b[i]!;
    if (x === 44 || x === 125 || x === 93 || x === 32 || x === 10 || x === 13 || x === 9) break;
    i++;
  }
  return i === p ? -1 : i;
}
