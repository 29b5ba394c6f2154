/**
 * Commands, named in the imperative. A strategy emits StrategyCommands (no order id yet); the kernel
 * gives each order a deterministic id, records OrderIntended, passes it through risk, and only then
 * turns it into a VenueCommand for the venue port. A command becomes an event before any venue sees it.
 */
import type { Side } from '../events/primitives.js';

export type OrderType = 'limit' | 'market';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY';

export interface OrderSpec {
  venue: string;
  instrument: string;
  side: Side;
  orderType: OrderType;
  /** null for market orders. */
  priceTicks: number | null;
  qtyLots: number;
  priceScale: number;
  qtyScale: number;
  timeInForce: TimeInForce;
  postOnly: boolean;
  reduceOnly: boolean;
}

/** What a strategy's decide() returns. */
export type StrategyCommand =
  | ({ kind: 'PlaceOrder'; tag?: string } & OrderSpec)
  | { kind: 'CancelOrder'; orderId: string; reason?: string }
  | { kind: 'ReplaceOrder'; orderId: string; priceTicks: number | null; qtyLots: number };

/** What the kernel sends to a venue port, after the intent and risk decision are in the store. */
export type VenueCommand =
  | ({ kind: 'SubmitOrder'; orderId: string } & OrderSpec)
  | { kind: 'CancelOrder'; orderId: string; venue: string; instrument: string }
  | { kind: 'ReplaceOrder'; orderId: string; venue: string; instrument: string; priceTicks: number | null; qtyLots: number };
