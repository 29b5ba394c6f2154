/**
 * A drop copy: the venue's own record of an account's orders and executions, kept apart from the order-entry
 * session (Nasdaq delivers it over a separate drop-copy port; the simulated NASDAQ exposes it in process).
 * OUCH itself cannot tell what became of an order entered in an earlier session, nor a position: after a
 * session reset, the OUCH client answers queries and reconciliation from this record, or not at all.
 * Orders are keyed by the token they were ENTERED with (replacements keep the entry's record).
 */
export interface OuchDropCopyOrder {
  token: string;
  stock: string;
  /** OUCH side: B, S, T (short), E (short exempt). */
  side: string;
  state: 'open' | 'filled' | 'canceled' | 'rejected' | 'expired';
  filledShares: number;
  openShares: number;
  orderReferenceNumber: bigint | null;
}

export interface OuchDropCopyExecution {
  /** Entry token of the order that traded. */
  token: string;
  stock: string;
  side: string;
  matchNumber: bigint;
  shares: number;
  /** OUCH price, 4 decimals. */
  priceTicks: number;
  liquidityFlag: string;
}

export interface OuchDropCopy {
  orders: OuchDropCopyOrder[];
  executions: OuchDropCopyExecution[];
  /** Net shares per stock the account traded (a stock not listed is flat: the record is complete). */
  positions: Array<{ stock: string; shares: number }>;
}
