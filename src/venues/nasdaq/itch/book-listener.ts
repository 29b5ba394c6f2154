/**
 * Feeds ITCH 5.0 order and trade messages into the pure L3 book (domain/book/l3.ts) straight from the
 * views: no object per message. Also keeps the stock directory (locate → symbol) from 'R' messages, which
 * is all a reader needs to name instruments.
 */
import { ASK, BID, L3Book, type BookSide } from '../../../../domain/book/l3.js';
import { ItchListenerBase } from './parser.js';
import type {
  AddOrderMpidView,
  AddOrderView,
  BrokenTradeView,
  CrossTradeView,
  OrderCancelView,
  OrderDeleteView,
  OrderExecutedView,
  OrderExecutedWithPriceView,
  OrderReplaceView,
  StockDirectoryView,
  TradeView,
} from './views.js';

const CHAR_B = 0x42;
const CHAR_S = 0x53;
const CHAR_N = 0x4e;

/** ITCH 'B'/'S' → book side; any other byte gives an invalid side the book reports as an anomaly. */
export function bookSide(buySellIndicator: number): BookSide {
  return buySellIndicator === CHAR_B ? BID : buySellIndicator === CHAR_S ? ASK : (2 as BookSide);
}

export class ItchBookListener extends ItchListenerBase {
  /** Stock locate → symbol with its padding trimmed, from the stock directory. */
  readonly symbols = new Map<number, string>();

  constructor(readonly book: L3Book = new L3Book()) {
    super();
  }

  /** The locate of a symbol seen in the stock directory, or undefined. */
  locateOf(symbol: string): number | undefined {
    for (const [locate, s] of this.symbols) if (s === symbol) return locate;
    return undefined;
  }

  override stockDirectory(m: StockDirectoryView): void {
    this.symbols.set(m.stockLocate(), m.stock().trimEnd());
  }
  override addOrder(m: AddOrderView): void {
    this.book.addOrder(m.stockLocate(), m.orderReferenceNumber(), bookSide(m.buySellIndicator()), m.shares(), m.price());
  }
  override addOrderMpid(m: AddOrderMpidView): void {
    this.book.addOrder(m.stockLocate(), m.orderReferenceNumber(), bookSide(m.buySellIndicator()), m.shares(), m.price());
  }
  override orderExecuted(m: OrderExecutedView): void {
    this.book.executeOrder(m.stockLocate(), m.orderReferenceNumber(), m.executedShares());
  }
  override orderExecutedWithPrice(m: OrderExecutedWithPriceView): void {
    this.book.executeOrderWithPrice(m.stockLocate(), m.orderReferenceNumber(), m.executedShares(), m.executionPrice(), m.printable() !== CHAR_N);
  }
  override orderCancel(m: OrderCancelView): void {
    this.book.cancelOrder(m.stockLocate(), m.orderReferenceNumber(), m.cancelledShares());
  }
  override orderDelete(m: OrderDeleteView): void {
    this.book.deleteOrder(m.stockLocate(), m.orderReferenceNumber());
  }
  override orderReplace(m: OrderReplaceView): void {
    this.book.replaceOrder(m.stockLocate(), m.originalOrderReferenceNumber(), m.newOrderReferenceNumber(), m.shares(), m.price());
  }
  override trade(m: TradeView): void {
    this.book.recordTrade(m.stockLocate(), m.shares());
  }
  override crossTrade(m: CrossTradeView): void {
    this.book.recordCrossTrade(m.stockLocate(), m.shares());
  }
  override brokenTrade(m: BrokenTradeView): void {
    this.book.recordBrokenTrade(m.stockLocate());
  }
}
