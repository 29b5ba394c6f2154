/**
 * Segments: the log is a sequence of files `segments/<first position, 20 digits>.log`. Only the last
 * one is written to. Recovery scans them in order, record by record, checking frame and checksum:
 * - a bad record followed by good ones is corruption: reported with segment and offset, skipped, never served;
 * - an incomplete record with nothing good after it in the last segment is a torn tail: the append
 *   was never acknowledged, so it is truncated (by a writer) and reported;
 * - a complete record that fails its check is corruption wherever it is, the end of the last segment
 *   included: a write that was cut short leaves a prefix, never a whole record with wrong bytes, so a
 *   whole record at the tail with a bad checksum (or a damaged header over a body whose checksum
 *   still holds) was acknowledged and then damaged. Only the last segment can have a torn tail.
 * The segment files themselves are checked by the store's recovery: contiguous, each named by its
 * first position (a missing or renamed segment is a gap in the positions, reported as corruption).
 */
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { BODY_FIXED_BYTES, MAX_RECORD_BYTES, probeRecord, RECORD_HEADER_BYTES, RECORD_MAGIC, type RecordHeader } from './record.js';

export const SEGMENTS_DIR = 'segments';

export function segmentName(firstPosition: number): string {
  return `${String(firstPosition).padStart(20, '0')}.log`;
}

/** The first position a segment's name claims, or null when the name is not a safe integer. */
export function segmentFirstPosition(name: string): number | null {
  const n = Number(name.slice(0, 20));
  return Number.isSafeInteger(n) ? n : null;
}

export function listSegments(dir: string): string[] {
  const segDir = path.join(dir, SEGMENTS_DIR);
  if (!fs.existsSync(segDir)) return [];
  return fs
    .readdirSync(segDir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
}

export interface CorruptRange {
  segment: string;
  offset: number;
  length: number;
  reason: string;
  /** Positions the damage makes unreadable, when known (`toPosition` null: from there on, end unknown). */
  fromPosition?: number;
  toPosition?: number | null;
}

export interface SegmentScan {
  records: RecordHeader[];
  corrupt: CorruptRange[];
  /** Offset where a torn tail starts, or null. Only ever set for the last segment. */
  tornTailAt: number | null;
  size: number;
}

const CHUNK = 8 * 1024 * 1024;

/**
 * Scans one segment file. Reads in chunks, so memory is bounded by the chunk and the largest record.
 * `onRecord` sees each valid record together with the buffer holding it (valid until it returns).
 */
export function scanSegment(
  file: string,
  isLast: boolean,
  onRecord?: (header: RecordHeader, buf: Buffer, at: number) => void,
): SegmentScan {
  const segment = path.basename(file);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const records: RecordHeader[] = [];
    const corrupt: CorruptRange[] = [];
    // Sized to what is read, not to CHUNK: opening a store scans every segment, and an 8 MB buffer for
    // each of many small segments was most of an open's work (allocation and GC).
    let buf = Buffer.allocUnsafe(0);
    let bufStart = 0; // file offset of buf[0]
    let bufEnd = 0; // valid bytes in buf
    let offset = 0;

    const fill = (from: number, need: number): void => {
      // Make buf hold [from, from + max(need, CHUNK)) as far as the file allows.
      const want = Math.min(Math.max(need, CHUNK), size - from);
      if (buf.length < want) buf = Buffer.allocUnsafe(want);
      bufStart = from;
      bufEnd = fs.readSync(fd, buf, 0, Math.min(want, size - from), from);
    };

    fill(0, CHUNK);
    while (offset < size) {
      let at = offset - bufStart;
      if (at < 0 || size - offset >= RECORD_HEADER_BYTES && bufEnd - at < RECORD_HEADER_BYTES) {
        fill(offset, CHUNK);
        at = 0;
      }
      let probe = probeRecord(buf, at, bufEnd, offset);
      if (!probe.ok && probe.reason === 'short' && bufStart + bufEnd < size) {
        fill(offset, probe.need ?? CHUNK);
        at = 0;
        probe = probeRecord(buf, at, bufEnd, offset);
      }
      if (probe.ok) {
        records.push(probe.header);
        onRecord?.(probe.header, buf, at);
        offset += probe.header.length;
        continue;
      }
      // Bad record at `offset`: find the next valid one, if any.
      const next = findNextValid(fd, size, offset + 1);
      if (next === null) {
        if (isLast && !wholeRecordAt(fd, size, offset, probe.reason)) return { records, corrupt, tornTailAt: offset, size };
        corrupt.push({ segment, offset, length: size - offset, reason: probe.reason });
        return { records, corrupt, tornTailAt: null, size };
      }
      corrupt.push({ segment, offset, length: next - offset, reason: probe.reason });
      offset = next;
      fill(offset, CHUNK);
    }
    return { records, corrupt, tornTailAt: null, size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * True when the bad bytes at `offset` (the last thing in the file) are a whole record that was
 * damaged, not the prefix of one cut short: its frame is complete (the check failed on the body), or
 * its header is damaged but the checksum it carries still matches everything after the header.
 */
function wholeRecordAt(fd: number, size: number, offset: number, reason: string): boolean {
  if (reason === 'checksum' || reason === 'shape') return true;
  const rest = size - offset;
  if (rest < RECORD_HEADER_BYTES + BODY_FIXED_BYTES || rest > RECORD_HEADER_BYTES + MAX_RECORD_BYTES) return false;
  const bytes = Buffer.allocUnsafe(rest);
  fs.readSync(fd, bytes, 0, rest, offset);
  return crc32(bytes.subarray(RECORD_HEADER_BYTES)) === bytes.readUInt32LE(8);
}

/** Looks for the next offset >= from holding a record whose frame and checksum are valid. */
function findNextValid(fd: number, size: number, from: number): number | null {
  const win = Buffer.allocUnsafe(Math.max(0, Math.min(CHUNK + RECORD_HEADER_BYTES, size - from)));
  let base = from;
  while (base < size) {
    const n = fs.readSync(fd, win, 0, Math.min(win.length, size - base), base);
    for (let i = 0; i + 4 <= n; i++) {
      if (win.readUInt32LE(i) !== RECORD_MAGIC) continue;
      const candidate = base + i;
      const hdr = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      if (fs.readSync(fd, hdr, 0, RECORD_HEADER_BYTES, candidate) < RECORD_HEADER_BYTES) continue;
      const bodyLength = hdr.readUInt32LE(4);
      const total = RECORD_HEADER_BYTES + bodyLength;
      if (candidate + total > size) continue;
      const rec = Buffer.allocUnsafe(total);
      fs.readSync(fd, rec, 0, total, candidate);
      if (probeRecord(rec, 0, total, candidate).ok) return candidate;
    }
    if (n <= 4) break;
    base += n - 3;
  }
  return null;
}
