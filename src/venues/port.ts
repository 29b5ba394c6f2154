/**
 * The venue ports. Every venue adapter (simulated, NASDAQ OUCH, ccxt exchanges, Polymarket, Kalshi,
 * Alpaca) has the same shape: a market-data client that yields market-data events, and an execution
 * client that takes VenueCommands and reports what the venue did as order-lifecycle events
 * (OrderAccepted, OrderRejected, OrderFilled, OrderCanceled, OrderReplaced, OrderExpired).
 * Fail closed: when the outcome of a command is unknown (timeout, dropped connection), the adapter
 * reports OrderStatusUnknown and the kernel queries the order with queryOrder before trading on. When the
 * venue's session starts afresh, the adapter reports VenueSessionReset: the engine halts trading, queries
 * every working order, and resumes only when reconciliation (reconciliationReport) says the books agree.
 */
import { isTapedeckError } from '../../domain/core/errors.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import type { VenueCommand } from '../../domain/orders/commands.js';
import type { ReportedFill } from '../../domain/orders/lifecycle.js';
import type { VenueReport } from '../../domain/reconcile/reconcile.js';

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
  venueOrderId?: string;
  /** The executions behind `filledLots`, when the venue can list them (needed to resolve fills we missed). */
  fills?: ReportedFill[];
}

/** What the engine asks for when it reconciles: the orders it holds as working and the instruments it traded. */
export interface ReconciliationRequest {
  orderIds: string[];
  instruments: string[];
}

/**
 * Errors a client throws when a command certainly did NOT reach the venue (not connected, refused while the
 * books are being reconciled). The engine records the command as refused (OrderRejected, CancelRejected,
 * ReplaceRejected) and trades on; any other send error ends the run.
 */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set(['VENUE_NOT_SENT', 'VENUE_DISCONNECTED']);

export function isNotSent(e: unknown): boolean {
  return isTapedeckError(e) && NOT_SENT_CODES.has(e.code);
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
  /**
   * Optional: everything the venue can report for reconciliation (domain/reconcile): order statuses, fills,
   * positions. What it cannot report it leaves out or marks incomplete; it never fills a gap with "flat".
   * A client without it cannot be reconciled: after a halt, trading on it stays halted.
   */
  reconciliationReport?(request: ReconciliationRequest): Promise<VenueReport>;
  /**
   * Optional: the engine found ledger and venue in agreement (after the report last fetched). A client that
   * refuses new orders after a session reset (VenueSessionReset) accepts them again.
   */
  reconciled?(): void;
  close(): Promise<void>;
}
