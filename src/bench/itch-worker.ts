/**
 * One figure of `tapedeck bench itch`, measured in its own worker thread: each pipeline gets a fresh V8
 * isolate, so the type feedback of one (say the decode listener) does not make the call sites of the
 * next (the book listener) polymorphic, as it would in one process. A replay runs one pipeline too.
 * The day arrives in a SharedArrayBuffer, so nothing is copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { L3Book } from '../../domain/book/l3.js';
import { ItchBookListener } from '../venues/nasdaq/itch/book-listener.js';
import { decodeMessage } from '../venues/nasdaq/itch/codec.js';
import { ItchListenerBase } from '../venues/nasdaq/itch/parser.js';
import { readItchBytes } from '../venues/nasdaq/itch/reader.js';
import type {
  AddOrderMpidView,
  AddOrderView,
  OrderCancelView,
  OrderDeleteView,
  OrderExecutedView,
  OrderExecutedWithPriceView,
  OrderReplaceView,
  RetailPriceImprovementIndicatorView,
  TradeView,
} from '../venues/nasdaq/itch/views.js';

export type ItchBenchFigure = 'memcpy' | 'decode' | 'dispatch' | 'book' | 'object';

export interface ItchWorkerInput {
  figure: ItchBenchFigure;
  day: SharedArrayBuffer;
  length: number;
  repeats: number;
  /** For 'object': bytes of the day's prefix to decode. */
  prefixBytes: number;
}

export interface ItchWorkerOutput {
  bestSeconds: number;
  messages: number;
  checksum: number;
  bookOperations: number;
  liveOrders: number;
  anomalies: number;
}

/** Reads what a book or strategy would read, so the decode figure is not of an empty loop. */
export class ChecksumListener extends ItchListenerBase {
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
  override retailPriceImprovementIndicator(m: RetailPriceImprovementIndicatorView): void {
    this.sum += m.stockLocate() + m.timestamp() + m.interestFlag();
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

export function measure(input: ItchWorkerInput): ItchWorkerOutput {
  const day = new Uint8Array(input.day, 0, input.length);
  const out: ItchWorkerOutput = { bestSeconds: 0, messages: 0, checksum: 0, bookOperations: 0, liveOrders: 0, anomalies: 0 };
  switch (input.figure) {
    case 'memcpy': {
      const src = Buffer.from(input.day, 0, input.length);
      const dst = Buffer.allocUnsafe(input.length);
      out.bestSeconds = best(input.repeats, () => void src.copy(dst));
      break;
    }
    case 'decode':
      out.bestSeconds = best(input.repeats, () => {
        const l = new ChecksumListener();
        out.messages = readItchBytes(day, l).messages;
        out.checksum = l.sum;
      });
      break;
    case 'dispatch':
      // Framing and dispatch to a listener that reads nothing: the floor under 'decode'.
      out.bestSeconds = best(input.repeats, () => {
        out.messages = readItchBytes(day, new ItchListenerBase()).messages;
      });
      break;
    case 'book':
      out.bestSeconds = best(input.repeats, () => {
        const l = new ItchBookListener(new L3Book());
        out.messages = readItchBytes(day, l).messages;
        out.bookOperations = l.book.operations;
        out.liveOrders = l.book.liveOrders;
        out.anomalies = l.book.anomalyCount;
      });
      break;
    case 'object': {
      const prefix = day.subarray(0, input.prefixBytes);
      out.bestSeconds = best(input.repeats, () => {
        let sum = 0;
        out.messages = readItchBytes(prefix, { payload: (b, o, l) => void (sum += decodeMessage(b, o, l).timestamp) }).messages;
        out.checksum = sum;
      });
      break;
    }
  }
  return out;
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'figure' in workerData) {
  parentPort.postMessage(measure(workerData as ItchWorkerInput));
}
