/**
 * ITCH 5.0 files: BinaryFILE framing in typed mode (lengths implied by the message type, the prefix a
 * check) feeding an ItchParser or any PayloadSink. Files may be gzip. See ../framing/README.md for how
 * each kind of length prefix is handled.
 */
import { BinaryFileReader, type BinaryFileSummary, type ErrorPolicy } from '../framing/binaryfile.js';
import { pumpFile } from '../framing/byte-source.js';
import type { PayloadSink } from '../framing/payload-sink.js';
import { ITCH_MESSAGE_LENGTHS } from './messages.js';
import { ItchParser, type ItchListener } from './parser.js';

export interface ItchReadOptions {
  /** 'stop' (default): the first bad record throws a TapedeckError. 'skip': count, skip what can be skipped. */
  onError?: ErrorPolicy;
  /** Read past End of Session markers (true-length files only). */
  ignoreEndOfSession?: boolean;
  /** Named in error places (readItchFile sets it). */
  file?: string;
  chunkSize?: number;
}

export type ItchReadSummary = BinaryFileSummary;

function toSink(target: PayloadSink | ItchListener): PayloadSink {
  return 'payload' in target && typeof target.payload === 'function' ? target : new ItchParser(target as ItchListener);
}

/** A push reader for ITCH over BinaryFILE; `push` chunks, then `finish`. */
export function itchFileReader(target: PayloadSink | ItchListener, options: ItchReadOptions = {}): BinaryFileReader {
  return new BinaryFileReader(toSink(target), {
    impliedLengths: ITCH_MESSAGE_LENGTHS,
    onError: options.onError ?? 'stop',
    continueAfterEndOfSession: options.ignoreEndOfSession ?? false,
    protocol: 'ITCH',
    ...(options.file !== undefined ? { file: options.file } : {}),
  });
}

/** Reads a whole ITCH file held in memory. */
export function readItchBytes(bytes: Uint8Array, target: PayloadSink | ItchListener, options: ItchReadOptions = {}): ItchReadSummary {
  const reader = itchFileReader(target, options);
  reader.push(bytes);
  return reader.finish();
}

/** Streams an ITCH file (gzip or not) from disk in chunks. */
export async function readItchFile(file: string, target: PayloadSink | ItchListener, options: ItchReadOptions = {}): Promise<ItchReadSummary> {
  const reader = itchFileReader(target, { ...options, file });
  return pumpFile(file, reader, options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {});
}
