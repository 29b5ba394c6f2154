/**
 * Field lookups straight on JSON bytes, for the projector's hot path: reading four fields of an
 * event's metadata or of a trade costs a few native searches instead of a full JSON.parse that builds
 * an object per event.
 *
 * Only for FLAT objects whose keys are unique (the envelope metadata, TradeReported, QuoteUpdated).
 * A key pattern `"name":` cannot match inside a JSON string value (a quote there is escaped `\"`, so the
 * bytes before the colon differ). Anything unexpected (escapes in a string, a non-integer number)
 * makes the lookup answer `undefined`, and the caller falls back to JSON.parse.
 */
export class FieldReader {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  private view: Buffer = Buffer.alloc(0);

  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.view = buf.subarray(start, end);
    return this;
  }

  /** Offset (in buf) of the first byte of the value of `key` (given as the bytes `"key":`), or -1. */
  valueAt(key: Buffer): number {
    const i = this.view.indexOf(key);
    if (i < 0) return -1;
    let p = this.start + i + key.length;
    const b = this.buf;
    while (p < this.end && (b[p] === 32 || b[p] === 9 || b[p] === 10 || b[p] === 13)) p++;
    return p < this.end ? p : -1;
  }

  /** A string value without escapes; null for JSON null; undefined when absent or not simple. */
  str(key: Buffer): string | null | undefined {
    const p = this.valueAt(key);
    if (p < 0) return undefined;
    const b = this.buf;
    if (b[p] === 110 /* n */) return b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 ? null : undefined;
    if (b[p] !== 34) return undefined;
    let q = p + 1;
    while (q < this.end && b[q] !== 34) {
      if (b[q] === 92) return undefined; // an escape: let JSON.parse handle it
      q++;
    }
    if (q >= this.end) return undefined;
    return b.toString('utf8', p + 1, q);
  }

  /** A safe integer value; undefined when absent or not a plain integer. */
  int(key: Buffer): number | undefined {
    const p = this.valueAt(key);
    if (p < 0) return undefined;
    const b = this.buf;
    let q = p;
    let neg = false;
    if (b[q] === 45) {
      neg = true;
      q++;
    }
    let v = 0;
    const first = q;
    while (q < this.end && b[q]! >= 48 && b[q]! <= 57) v = v * 10 + (b[q++]! - 48);
    if (q === first || q - first > 15) return undefined;
    const c = b[q];
    if (c === 46 || c === 101 || c === 69) return undefined; // fraction or exponent
    return neg ? -v : v;
  }

  /** true / false; undefined when absent or not a boolean. */
  bool(key: Buffer): boolean | undefined {
    const p = this.valueAt(key);
    if (p < 0) return undefined;
    const b = this.buf;
    if (b[p] === 116) return true;
    if (b[p] === 102) return false;
    return undefined;
  }

  /** An integer written as a string of digits ("123") or a number: as bigint. */
  bigint(key: Buffer): bigint | undefined {
    const p = this.valueAt(key);
    if (p < 0) return undefined;
    const b = this.buf;
    const quoted = b[p] === 34;
    let q = quoted ? p + 1 : p;
    const from = q;
    if (b[q] === 45) q++;
    while (q < this.end && b[q]! >= 48 && b[q]! <= 57) q++;
    if (q === from || (quoted && b[q] !== 34) || (!quoted && (b[q] === 46 || b[q] === 101 || b[q] === 69))) return undefined;
    return BigInt(b.toString('latin1', from, q));
  }
}

export function key(name: string): Buffer {
  return Buffer.from(`"${name}":`, 'utf8');
}
