/**
 * The venue ports. Every venue adapter (simulated, NASDAQ OUCH, ccxt exchanges, Polymarket, Kalshi,
 * Alpaca) has the same shape: a market-data client that yields market-data events, and an execution
 * client that takes VenueCommands and reports what the venue did as order-lifecycle events
 * (OrderAccepted, OrderRejected, OrderFilled, OrderCanceled, OrderReplaced, OrderExpired).
 * Fail closed: when the outcome of a command is unknown (timeout, dropped connection), the adapter
 * reports OrderStatusUnknown and the kernel queries the order with queryOrder before trading on.
 */
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import type { VenueCommand } from '../../domain/orders/commands.js';

export interface MarketDataClient {
  readonly venue: string;
  /** Market-data events in venue order. Ends when the source ends (a capture) or the client is closed. */
  events(): AsyncIterable<AnyEnvelope>;
  close(): Promise<void>;
}

export interface OrderStatusReport {
  orderId: string;
  state: 'open' | 'filled' | 'canceled' | 'rejected' | 'expired' | 'not-found';
  filledLots: number;
  leavesLots: number;
}

export interface ExecutionClient {
  readonly venue: string;
  connect(): Promise<void>;
  /** Sends a command. Resolves when it was handed to the venue, not when the venue answered. */
  send(command: VenueCommand): Promise<void>;
  /** Reports from the venue, as order-lifecycle events (with raw venue bytes where there are any). */
  onReport(listener: (event: AnyEnvelope) => void): void;
  /**
   * Optional: each message as it went out on the wire (VenueMessageSent with the raw bytes), so the log
   * holds every byte exchanged with the venue, not only what came back.
   */
  onSent?(listener: (event: AnyEnvelope) => void): void;
  /** Asks the venue what became of an order whose outcome is unknown. */
  queryOrder(orderId: string): Promise<OrderStatusReport>;
  close(): Promise<void>;
}
