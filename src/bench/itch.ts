/**
 * `tapedeck bench itch`: ITCH 5.0 figures on a generated in-memory day (datasets/itch/generate.ts,
 * BX message mix, true length prefixes), each the best of `repeats` runs, beside a same-run baseline.
 * - decode: BinaryFILE framing + ItchParser + a listener that reads every numeric field the book needs
 *   (and the timestamp of the rest) into a checksum: the allocation-free path, no object per message.
 * - book: the same, feeding the pure L3 book (domain/book/l3.ts); all messages of the day are counted.
 * - objectDecode: decodeMessage (one object per message) on the first `objectMessages` messages.
 * - baseline: Buffer.copy of the same bytes (memory bandwidth): decodeBytesPerSec can be compared to it.
 */
import { performance } from 'node:perf_hooks';
import { L3Book } from '../../domain/book/l3.js';
import { generateItchDay } from '../../datasets/itch/generate.js';
import { ItchBookListener } from '../venues/nasdaq/itch/book-listener.js';
import { decodeMessage } from '../venues/nasdaq/itch/codec.js';
import { ItchListenerBase } from '../venues/nasdaq/itch/parser.js';
import { readItchBytes } from '../venues/nasdaq/itch/reader.js';
import type {
  AddOrderMpidView,
  AddOrderView,
  ItchMessageView,
  OrderCancelView,
  OrderDeleteView,
  OrderExecutedView,
  OrderExecutedWithPriceView,
  OrderReplaceView,
  TradeView,
} from '../venues/nasdaq/itch/views.js';

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
  bookMsgsPerSec: number;
  /** Book-changing messages (A F E C X D U) per second in the book run. */
  bookOpsPerSec: number;
  objectDecodeMsgsPerSec: number;
  memcpyBytesPerSec: number;
  liveOrdersAtEnd: number;
  bookAnomalies: number;
  peakRssBytes: number;
  checksum: number;
}

/** Reads what a book or strategy would read, so the decode figure is not of an empty loop. */
class ChecksumListener extends ItchListenerBase {
  sum = 0;
  private order(m: AddOrderView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.orderReferenceNumber() + m.buySellIndicator() + m.shares() + m.price();
  }
  override addOrder(m: AddOrderView): void {
    this.order(m);
  }
  override addOrderMpid(m: AddOrderMpidView): void {
    this.order(m);
  }
  override orderExecuted(m: OrderExecutedView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.orderReferenceNumber() + m.executedShares() + m.matchNumber();
  }
  override orderExecutedWithPrice(m: OrderExecutedWithPriceView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.orderReferenceNumber() + m.executedShares() + m.matchNumber() + m.executionPrice() + m.printable();
  }
  override orderCancel(m: OrderCancelView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.orderReferenceNumber() + m.cancelledShares();
  }
  override orderDelete(m: OrderDeleteView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.orderReferenceNumber();
  }
  override orderReplace(m: OrderReplaceView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.originalOrderReferenceNumber() + m.newOrderReferenceNumber() + m.shares() + m.price();
  }
  override trade(m: TradeView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.shares() + m.price() + m.matchNumber();
  }
  override retailPriceImprovementIndicator(m: Pick<ItchMessageView, 'timestamp' | 'interestFlag'>): void {
    this.sum += m.timestamp() + m.interestFlag();
  }
}

function best(runs: number, fn: () => void): number {
  let bestSec = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    const sec = (performance.now() - t0) / 1000;
    if (sec < bestSec) bestSec = sec;
  }
  return bestSec;
}

const round = (x: number): number => Math.round(x);

export function runItchBench(options: ItchBenchOptions): ItchBenchResult {
  const t0 = performance.now();
  const day = generateItchDay({ seed: options.seed, messages: options.messages, symbols: options.symbols });
  const generateSeconds = (performance.now() - t0) / 1000;

  // Baseline: copy the same bytes.
  const src = Buffer.from(day.buffer, day.byteOffset, day.byteLength);
  const dst = Buffer.allocUnsafe(day.byteLength);
  const memcpySec = best(options.repeats, () => void src.copy(dst));

  let checksum = 0;
  let decoded = 0;
  const decodeSec = best(options.repeats, () => {
    const l = new ChecksumListener();
    decoded = readItchBytes(day, l).messages;
    checksum = l.sum;
  });
  if (decoded !== options.messages) throw new Error(`invariant violated: decoded ${decoded} of ${options.messages} messages`);

  let book = new L3Book();
  const bookSec = best(options.repeats, () => {
    const l = new ItchBookListener(new L3Book());
    readItchBytes(day, l);
    book = l.book;
  });

  // The object path on a prefix of the day: one object per message.
  let objects = 0;
  let objectBytes = 0;
  {
    let pos = 0;
    while (objects < options.objectMessages && pos + 2 < day.length) {
      const len = (day[pos]! << 8) | day[pos + 1]!;
      pos += 2 + len;
      objects++;
    }
    objectBytes = pos;
  }
  const prefix = day.subarray(0, objectBytes);
  let sink = 0;
  const objectSec = best(options.repeats, () => {
    readItchBytes(prefix, { payload: (b, o, l) => void (sink += decodeMessage(b, o, l).timestamp) });
  });
  void sink;

  return {
    messages: options.messages,
    bytes: day.byteLength,
    symbols: options.symbols,
    repeats: options.repeats,
    generateSeconds: Math.round(generateSeconds * 100) / 100,
    decodeMsgsPerSec: round(options.messages / decodeSec),
    decodeBytesPerSec: round(day.byteLength / decodeSec),
    bookMsgsPerSec: round(options.messages / bookSec),
    bookOpsPerSec: round(book.operations / bookSec),
    objectDecodeMsgsPerSec: round(objects / objectSec),
    memcpyBytesPerSec: round(day.byteLength / memcpySec),
    liveOrdersAtEnd: book.liveOrders,
    bookAnomalies: book.anomalyCount,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    checksum,
  };
}
