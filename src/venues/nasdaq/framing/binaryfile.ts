/**
 * Nasdaq BinaryFILE framing: each record is `[u16 BE length][length bytes]`; a zero length marks End of
 * Session. The reader is push-based (feed it chunks of any size, then `finish()`), keeps at most one
 * partial record between chunks (≤ 65,537 bytes), and hands each payload to a PayloadSink. Memory is
 * bounded by the chunk size, never by the file size.
 *
 * Two modes:
 * - plain (no `impliedLengths`): the length prefix is the truth. This is nassau's BinaryFILEReader.
 * - typed (`impliedLengths`, a type byte → message length table such as ITCH_MESSAGE_LENGTHS): messages
 *   are read by their type and the prefix is a check. This reads both the real Nasdaq daily files (true
 *   lengths) and files that write 0x0000 in every prefix (RITCH's sample). The rules, also in README.md:
 *     prefix = type length ≠ 0      → a message (the common case, one compare).
 *     prefix = 0, file has shown true lengths before → End of Session.
 *     prefix = 0, otherwise, known type follows       → a message of the type's length ("zero-prefix file").
 *     prefix = 0 with nothing after it                 → End of Session.
 *     prefix ≠ 0, unknown type        → ITCH_UNKNOWN_TYPE (skippable: the prefix says how far).
 *     prefix ≠ 0, ≠ type length       → ITCH_LENGTH_MISMATCH (skippable: the prefix says how far).
 *     prefix = 0, unknown type, in a zero-prefix file → ITCH_UNKNOWN_TYPE, not skippable (no length to trust).
 *     record cut off by the end of input              → ITCH_TRUNCATED (the tail is reported, never waited for).
 *
 * Errors carry the absolute byte offset in the (decompressed) stream. Policy `stop` (default) throws the
 * first one as a TapedeckError; `skip` counts them, keeps the first few, skips what can be skipped and
 * stops at what cannot. Every loop advances by at least two bytes or returns, so no input can hang it.
 */
import { TapedeckError, type TapedeckErrorCode } from '../../../../domain/core/errors.js';
import type { PayloadSink } from './payload-sink.js';

export type ErrorPolicy = 'stop' | 'skip';

export interface BinaryFileOptions {
  /** Type byte → message length (0 = unknown type). Turns on typed mode (see the header). */
  impliedLengths?: Uint8Array | null;
  onError?: ErrorPolicy;
  /** Keep reading after a zero-length record: plain mode hands the sink an empty payload, typed mode skips it. */
  continueAfterEndOfSession?: boolean;
  /** Named in error places. */
  file?: string;
  /** How many skipped errors to keep in the summary (all are counted). */
  keepErrors?: number;
  /** Protocol name used in error codes and messages (typed mode): 'ITCH'. */
  protocol?: 'ITCH';
}

export interface FramingErrorRecord {
  code: TapedeckErrorCode;
  message: string;
  offset: number;
}

export interface BinaryFileSummary {
  /** Payloads handed to the sink. */
  messages: number;
  /** Bytes of the stream read and accounted for (prefixes included). */
  bytes: number;
  endOfSession: boolean;
  /** Offset of the zero-length record that ended the session. */
  endOfSessionOffset: number | null;
  /** What the prefixes looked like: true lengths, all zero (RITCH style), both, or no record yet. */
  prefixStyle: 'true-length' | 'zero' | 'mixed' | 'none';
  /** `stop()` was called by the consumer. */
  stoppedByConsumer: boolean;
  errors: number;
  errorsByCode: Record<string, number>;
  firstErrors: FramingErrorRecord[];
  /** Records skipped after an error (skip policy). */
  skippedRecords: number;
}

/** Prefix plus the largest length a u16 prefix can announce. */
export const MAX_RECORD_LENGTH = 2 + 0xffff;

const NEED_MORE = -1;

export class BinaryFileReader {
  private readonly lengths: Uint8Array | null;
  private readonly policy: ErrorPolicy;
  private readonly continueAfterEos: boolean;
  private readonly file: string | undefined;
  private readonly keepErrors: number;
  private readonly proto: 'ITCH';

  /** The unconsumed start of a record cut by a chunk boundary. */
  private readonly carry = new Uint8Array(MAX_RECORD_LENGTH);
  private carryLen = 0;
  /** Absolute offset of carry[0]. */
  private carryBase = 0;
  /** Bytes pushed so far = absolute offset of the next chunk's first byte. */
  private pushed = 0;
  /** Absolute offset up to which input is accounted for. */
  private position = 0;

  private halted = false;
  private finished = false;
  private messages = 0;
  private sawTrueLength = false;
  private sawZeroPrefix = false;
  private endOfSession = false;
  private endOfSessionOffset: number | null = null;
  private stoppedByConsumer = false;
  private errors = 0;
  private skippedRecords = 0;
  private readonly errorsByCode: Record<string, number> = {};
  private readonly firstErrors: FramingErrorRecord[] = [];

  constructor(
    private readonly sink: PayloadSink,
    options: BinaryFileOptions = {},
  ) {
    this.lengths = options.impliedLengths ?? null;
    this.policy = options.onError ?? 'stop';
    this.continueAfterEos = options.continueAfterEndOfSession ?? false;
    this.file = options.file;
    this.keepErrors = options.keepErrors ?? 20;
    this.proto = options.protocol ?? 'ITCH';
  }

  /** True once the reader will take no more input: end of session, a fatal error, or `stop()`. */
  get done(): boolean {
    return this.halted;
  }

  /** Ends reading after the current payload (for consumers that have seen enough, e.g. `--limit`). */
  stop(): void {
    if (!this.halted) this.stoppedByConsumer = true;
    this.halted = true;
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('invariant violated: BinaryFileReader.push after finish');
    const chunkBase = this.pushed;
    this.pushed += chunk.length;
    if (this.halted || chunk.length === 0) return;
    let start = 0;
    if (this.carryLen > 0) {
      // Complete the cut record from the chunk's head; MAX_RECORD_LENGTH bytes always hold a whole one.
      const old = this.carryLen;
      const take = Math.min(chunk.length, MAX_RECORD_LENGTH - old);
      this.carry.set(chunk.subarray(0, take), old);
      const len = old + take;
      const p = this.scan(this.carry, 0, len, this.carryBase);
      this.position = this.carryBase + p;
      if (this.halted) return;
      if (p < old) {
        if (take < chunk.length) throw new Error('invariant violated: a full-size carry did not complete a record');
        this.carry.copyWithin(0, p, len);
        this.carryLen = len - p;
        this.carryBase += p;
        return;
      }
      start = p - old;
      this.carryLen = 0;
    }
    const p = this.scan(chunk, start, chunk.length, chunkBase);
    this.position = chunkBase + p;
    if (this.halted) return;
    const rest = chunk.length - p;
    if (rest > 0) {
      this.carry.set(chunk.subarray(p), 0);
      this.carryLen = rest;
      this.carryBase = chunkBase + p;
    }
  }

  /** Ends the input: a record cut off by the end is reported as truncated. */
  finish(): BinaryFileSummary {
    if (!this.finished) {
      this.finished = true;
      if (!this.halted && this.carryLen > 0) this.tail(this.carry, 0, this.carryLen, this.carryBase);
    }
    return this.summary();
  }

  summary(): BinaryFileSummary {
    return {
      messages: this.messages,
      bytes: this.position,
      endOfSession: this.endOfSession,
      endOfSessionOffset: this.endOfSessionOffset,
      prefixStyle: this.sawTrueLength ? (this.sawZeroPrefix ? 'mixed' : 'true-length') : this.sawZeroPrefix ? 'zero' : 'none',
      stoppedByConsumer: this.stoppedByConsumer,
      errors: this.errors,
      errorsByCode: { ...this.errorsByCode },
      firstErrors: this.firstErrors.slice(),
      skippedRecords: this.skippedRecords,
    };
  }

  /** Consumes whole records in bytes[pos, end); returns where it stopped. */
  private scan(bytes: Uint8Array, pos: number, end: number, base: number): number {
    const sink = this.sink;
    const lengths = this.lengths;
    if (lengths === null) return this.scanPlain(bytes, pos, end, base);
    // Counted in a local: the hot loop does no field writes of its own. A throwing sink loses the
    // count of this scan, but then the reader is finished anyway.
    let regular = 0;
    while (!this.halted && pos + 3 <= end) {
      const prefix = (bytes[pos]! << 8) | bytes[pos + 1]!;
      const expected = lengths[bytes[pos + 2]!]!;
      if (prefix === expected && prefix !== 0) {
        const next = pos + 2 + prefix;
        if (next > end) break;
        regular++;
        sink.payload(bytes, pos + 2, prefix);
        pos = next;
        continue;
      }
      if (regular > 0) this.sawTrueLength = true; // a zero prefix after true lengths is End of Session
      const next = this.irregular(bytes, pos, end, base, prefix, expected);
      if (next === NEED_MORE) break;
      pos = next;
    }
    if (regular > 0) {
      this.messages += regular;
      this.sawTrueLength = true;
    }
    return pos;
  }

  private scanPlain(bytes: Uint8Array, pos: number, end: number, base: number): number {
    while (!this.halted && pos + 2 <= end) {
      const prefix = (bytes[pos]! << 8) | bytes[pos + 1]!;
      if (prefix === 0) {
        this.markEndOfSession(base + pos);
        if (this.continueAfterEos) {
          this.messages++;
          this.sink.payload(bytes, pos + 2, 0);
        }
        pos += 2;
        continue;
      }
      const next = pos + 2 + prefix;
      if (next > end) break;
      this.sawTrueLength = true;
      this.messages++;
      this.sink.payload(bytes, pos + 2, prefix);
      pos = next;
    }
    return pos;
  }

  /** Everything but the common case; returns the next position or NEED_MORE. */
  private irregular(bytes: Uint8Array, pos: number, end: number, base: number, prefix: number, expected: number): number {
    const typeByte = bytes[pos + 2]!;
    if (prefix === 0) {
      if (this.sawTrueLength) {
        this.markEndOfSession(base + pos);
        return pos + 2;
      }
      if (expected === 0) {
        this.fail(
          `${this.proto}_UNKNOWN_TYPE`,
          `unknown ${this.proto} message type ${describe(typeByte)} after a zero length prefix; with no length to trust the rest of the stream cannot be framed`,
          base + pos + 2,
          false,
        );
        return pos;
      }
      const next = pos + 2 + expected;
      if (next > end) return NEED_MORE;
      this.sawZeroPrefix = true;
      this.messages++;
      this.sink.payload(bytes, pos + 2, expected);
      return next;
    }
    // prefix ≠ 0 and ≠ the type's length (or the type is unknown): the prefix still says how far to skip.
    const next = pos + 2 + prefix;
    if (this.policy === 'skip' && next > end) return NEED_MORE;
    if (expected === 0) {
      this.fail(
        `${this.proto}_UNKNOWN_TYPE`,
        `unknown ${this.proto} message type ${describe(typeByte)} in a ${prefix}-byte record`,
        base + pos + 2,
        true,
      );
    } else {
      this.fail(
        `${this.proto}_LENGTH_MISMATCH`,
        `length prefix ${prefix} disagrees with ${this.proto} type ${describe(typeByte)}, which is ${expected} bytes`,
        base + pos,
        true,
      );
    }
    if (this.halted) return pos;
    this.skippedRecords++;
    return next;
  }

  /** The bytes left when input ended: an End of Session marker or a truncated record. */
  private tail(bytes: Uint8Array, pos: number, end: number, base: number): void {
    const left = end - pos;
    if (left === 2 && bytes[pos] === 0 && bytes[pos + 1] === 0) {
      this.markEndOfSession(base + pos);
      this.position = base + end;
      return;
    }
    let detail: string;
    if (left < 2) detail = `${left} byte left where a 2-byte length prefix was expected`;
    else {
      const prefix = (bytes[pos]! << 8) | bytes[pos + 1]!;
      const typeNote = left > 2 ? `, type ${describe(bytes[pos + 2]!)}` : '';
      const need = prefix !== 0 ? prefix : this.lengths?.[bytes[pos + 2] ?? 0] ?? 0;
      detail = `record (length prefix ${prefix}${typeNote}) needs ${need} bytes after its prefix, only ${left - 2} left`;
    }
    this.fail(this.lengths ? `${this.proto}_TRUNCATED` : 'BINARYFILE_TRUNCATED', `truncated input: ${detail}`, base + pos, false);
    this.position = base + end;
  }

  private markEndOfSession(offset: number): void {
    if (!this.endOfSession) this.endOfSessionOffset = offset;
    this.endOfSession = true;
    if (!this.continueAfterEos) this.halted = true;
  }

  private fail(code: TapedeckErrorCode, message: string, offset: number, recoverable: boolean): void {
    const where = this.file !== undefined ? { file: this.file, offset } : { offset };
    if (this.policy === 'stop') {
      this.halted = true;
      throw new TapedeckError(code, message, where);
    }
    this.errors++;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    if (this.firstErrors.length < this.keepErrors) this.firstErrors.push({ code, message, offset });
    if (!recoverable) this.halted = true;
  }
}

function describe(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}
