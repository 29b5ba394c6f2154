/**
 * `tapedeck bench itch`: ITCH 5.0 figures on a generated in-memory day (datasets/itch/generate.ts,
 * BX message mix, true length prefixes), each the best of `repeats` runs, each measured in its own
 * worker thread (itch-worker.ts says why), beside a same-run baseline:
 * - decode: BinaryFILE framing + ItchParser + a listener that reads every numeric field the book needs
 *   (and locate and timestamp of the rest) into a checksum: the allocation-free path.
 * - dispatch: the same with a listener that reads nothing (framing and dispatch alone).
 * - book: framing + parser + the pure L3 book (domain/book/l3.ts); every message of the day is counted
 *   in bookMsgsPerSec, the book-changing ones in bookOpsPerSec.
 * - objectDecode: decodeMessage (one object per message) on a prefix of the day.
 * - baseline: Buffer.copy of the same bytes (memory bandwidth), to set decodeBytesPerSec against.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { generateItchDay } from '../../datasets/itch/generate.js';
import type { ItchBenchFigure, ItchWorkerInput, ItchWorkerOutput } from './itch-worker.js';

export interface ItchBenchOptions {
  messages: number;
  symbols: number;
  seed: number;
  repeats: number;
  objectMessages: number;
}

export interface ItchBenchResult {
  messages: number;
  bytes: number;
  symbols: number;
  repeats: number;
  generateSeconds: number;
  decodeMsgsPerSec: number;
  decodeBytesPerSec: number;
  dispatchMsgsPerSec: number;
  bookMsgsPerSec: number;
  bookOpsPerSec: number;
  objectDecodeMsgsPerSec: number;
  memcpyBytesPerSec: number;
  liveOrdersAtEnd: number;
  bookAnomalies: number;
  /** Largest resident set of this process (its workers included: they share it). */
  peakRssBytes: number;
  checksum: number;
}

/** One figure in a fresh worker thread (bench day uses these too). */
export function inWorker(input: ItchWorkerInput): Promise<ItchWorkerOutput> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./itch-worker.js', import.meta.url), { workerData: input });
    w.once('message', (m: ItchWorkerOutput) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`bench worker for ${input.figure} exited with code ${code}`));
    });
  });
}

export async function runItchBench(options: ItchBenchOptions): Promise<ItchBenchResult> {
  const t0 = performance.now();
  const generated = generateItchDay({ seed: options.seed, messages: options.messages, symbols: options.symbols });
  const generateSeconds = (performance.now() - t0) / 1000;
  const shared = new SharedArrayBuffer(generated.length);
  new Uint8Array(shared).set(generated);
  const length = generated.length;

  let prefixBytes = 0;
  let objects = 0;
  while (objects < options.objectMessages && prefixBytes + 2 < length) {
    prefixBytes += 2 + ((generated[prefixBytes]! << 8) | generated[prefixBytes + 1]!);
    objects++;
  }

  const run = (figure: ItchBenchFigure) => inWorker({ figure, day: shared, length, repeats: options.repeats, prefixBytes });
  // One after the other: figures must not compete for the CPU.
  const memcpy = await run('memcpy');
  const decode = await run('decode');
  const dispatch = await run('dispatch');
  const book = await run('book');
  const object = await run('object');
  if (decode.messages !== options.messages || book.messages !== options.messages) {
    throw new Error(`invariant violated: decoded ${decode.messages}, booked ${book.messages} of ${options.messages} messages`);
  }

  const round = (x: number): number => Math.round(x);
  return {
    messages: options.messages,
    bytes: length,
    symbols: options.symbols,
    repeats: options.repeats,
    generateSeconds: Math.round(generateSeconds * 100) / 100,
    decodeMsgsPerSec: round(options.messages / decode.bestSeconds),
    decodeBytesPerSec: round(length / decode.bestSeconds),
    dispatchMsgsPerSec: round(options.messages / dispatch.bestSeconds),
    bookMsgsPerSec: round(options.messages / book.bestSeconds),
    bookOpsPerSec: round(book.bookOperations / book.bestSeconds),
    objectDecodeMsgsPerSec: round(object.messages / object.bestSeconds),
    memcpyBytesPerSec: round(length / memcpy.bestSeconds),
    liveOrdersAtEnd: book.liveOrders,
    bookAnomalies: book.anomalies,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    checksum: decode.checksum,
  };
}
