/**
 * Reads the capture format of the nluka "packet-capture-exercise" (our own fixtures of the same shapes:
 * test/fixtures/ouch-capture, with how they were made in its README): records of
 * `[u16 BE stream id][u32 BE length][length bytes]`, each record a piece of one TCP stream carrying
 * SoupBinTCP 'S' packets with OUCH 4.2 venue messages, split anywhere. Each stream gets its own
 * SoupBinTCP framer; the summary counts OUCH messages per stream the way the fixtures' .expected do.
 * The fixtures use the earlier 4.2 revision (Accepted 65 bytes, SoupBinTCP length 66); the decoder
 * takes both by length.
 */
import { TapedeckError } from '../../../../domain/core/errors.js';
import { SoupFramer } from '../soupbintcp/framer.js';
import { decodeVenueMessage } from './codec.js';

const RECORD_HEADER_LENGTH = 6;

export interface CaptureRecord {
  streamId: number;
  /** File offset of the record header. */
  offset: number;
  bytes: Uint8Array;
}

export function* readCaptureRecords(file: Uint8Array, fileName?: string): Generator<CaptureRecord> {
  let o = 0;
  while (o < file.length) {
    if (file.length - o < RECORD_HEADER_LENGTH) {
      throw new TapedeckError('CAPTURE_TRUNCATED', `capture record header needs ${RECORD_HEADER_LENGTH} bytes, only ${file.length - o} left`, { file: fileName, offset: o });
    }
    const streamId = (file[o]! << 8) | file[o + 1]!;
    const length = ((file[o + 2]! << 24) | (file[o + 3]! << 16) | (file[o + 4]! << 8) | file[o + 5]!) >>> 0;
    const start = o + RECORD_HEADER_LENGTH;
    if (file.length - start < length) {
      throw new TapedeckError('CAPTURE_TRUNCATED', `capture record of stream ${streamId} says ${length} bytes, only ${file.length - start} left`, { file: fileName, offset: o, field: 'length' });
    }
    yield { streamId, offset: o, bytes: file.subarray(start, start + length) };
    o = start + length;
  }
}

export interface StreamCounts {
  accepted: number;
  systemEvent: number;
  replaced: number;
  canceled: number;
  executed: number;
  executedShares: number;
  /** Any other OUCH venue message, and non-'S' SoupBinTCP packets. */
  other: number;
}

export interface CaptureSummary {
  streams: Map<number, StreamCounts>;
  totals: StreamCounts;
  records: number;
  emptyRecords: number;
  /** Streams that end inside a packet, with the bytes left over. */
  incomplete: Map<number, number>;
}

function zero(): StreamCounts {
  return { accepted: 0, systemEvent: 0, replaced: 0, canceled: 0, executed: 0, executedShares: 0, other: 0 };
}

export function summarizeOuchCapture(file: Uint8Array, fileName?: string): CaptureSummary {
  const streams = new Map<number, StreamCounts>();
  const framers = new Map<number, SoupFramer>();
  let records = 0;
  let emptyRecords = 0;
  for (const rec of readCaptureRecords(file, fileName)) {
    records++;
    if (rec.bytes.length === 0) emptyRecords++;
    let framer = framers.get(rec.streamId);
    if (!framer) {
      const counts = zero();
      streams.set(rec.streamId, counts);
      const stream = `capture stream ${rec.streamId}`;
      framer = new SoupFramer((typeByte, payload, streamOffset) => {
        if (typeByte !== 0x53 /* 'S' */) {
          counts.other++;
          return;
        }
        const msg = decodeVenueMessage(payload, { file: fileName, stream, offset: streamOffset + 3 });
        switch (msg.kind) {
          case 'Accepted': counts.accepted++; break;
          case 'SystemEvent': counts.systemEvent++; break;
          case 'Replaced': counts.replaced++; break;
          case 'Canceled': counts.canceled++; break;
          case 'Executed': counts.executed++; counts.executedShares += msg.executedShares; break;
          default: counts.other++;
        }
      }, { where: { file: fileName, stream } });
      framers.set(rec.streamId, framer);
    }
    framer.push(rec.bytes);
  }
  const totals = zero();
  for (const c of streams.values()) {
    for (const k of Object.keys(totals) as (keyof StreamCounts)[]) totals[k] += c[k];
  }
  const incomplete = new Map<number, number>();
  for (const [id, f] of framers) if (f.bufferedBytes > 0) incomplete.set(id, f.bufferedBytes);
  return { streams: new Map([...streams.entries()].sort(([a], [b]) => a - b)), totals, records, emptyRecords, incomplete };
}

function formatCounts(c: StreamCounts): string[] {
  return [
    `  Accepted: ${c.accepted} messages`,
    `  System Event: ${c.systemEvent} messages`,
    `  Replaced: ${c.replaced} messages`,
    `  Canceled: ${c.canceled} messages`,
    `  Executed: ${c.executed} messages, ${c.executedShares} shares`,
  ];
}

/** The text layout of the fixtures' .expected files. */
export function formatCaptureSummary(s: CaptureSummary): string {
  const lines: string[] = [];
  for (const [id, c] of s.streams) lines.push(`Stream ${id}:`, ...formatCounts(c));
  lines.push('Totals:', ...formatCounts(s.totals));
  lines.push(`Num packets decoded: ${s.records}`, `Num empty packets: ${s.emptyRecords}`);
  return lines.join('\n') + '\n';
}
