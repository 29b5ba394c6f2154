/**
 * What Kalshi reports for reconciliation (domain/reconcile), per test/fixtures/datasets/venues/NOTES.md §5:
 *
 *   idempotency key        client_order_id (ours, from the intent id and the amend count: wire.ts)
 *   unknown outcome        no GET-by-client-id: list GET /portfolio/orders?ticker and match client_order_id
 *   fills since a point    GET /portfolio/fills?ticker&cursor, AND GET /historical/fills?ticker&cursor: fills
 *                          older than the historical cutoff (GET /historical/cutoff) are only there, so a long
 *                          outage would otherwise look like missing fills. Deduplicated by fill_id.
 *   positions              GET /portfolio/positions: position_fp per ticker (+ YES, − NO), the venue's own
 *
 * The order list is complete for the tickers asked (every order of ours on them, whatever its state), so an
 * order of the ledger that is not in it never reached the venue.
 */
import type { Side } from '../../../domain/events/primitives.js';
import type { LiveVenueReport } from '../adapter.js';
import type { VenueFill, VenueOrderReport, VenuePosition, VenueReport } from '../../../domain/reconcile/reconcile.js';
import { parseRestFill } from './execution.js';
import type { KalshiRest } from './rest.js';
import { countToLots, dollarsToTicks, KALSHI, kalshiFillId, kalshiInstrumentId, orderIdFromKalshiClientId, QTY_SCALE, tickerOf } from './wire.js';

export interface KalshiReportRequest {
  /** Instruments (KALSHI:<ticker>) whose orders, fills and positions to read. */
  instruments: string[];
  priceScale: number;
  /** Decimals of a quantity (default 2). */
  qtyScale?: number;
  /** Our orders' sides (kernel order id → side), for fills. Default: the venue's book_side. */
  sides?: ReadonlyMap<string, Side>;
}

export async function kalshiVenueReport(rest: KalshiRest, r: KalshiReportRequest): Promise<VenueReport & Required<Pick<LiveVenueReport, 'replaced'>>> {
  const q = r.qtyScale ?? QTY_SCALE;
  const orders: VenueOrderReport[] = [];
  const fills: VenueFill[] = [];
  const positions: VenuePosition[] = [];
  const byVenueId = new Map<string, { orderId: string; side: Side }>();
  const replaced = new Map<string, { replaceCount: number; priceTicks: number; qtyLots: number; venueOrderId: string }>();
  const tickers = [...new Set(r.instruments.filter((i) => i.startsWith(`${KALSHI}:`)).map(tickerOf))];
  for (const ticker of tickers) {
    for (const raw of await rest.pages('/portfolio/orders', 'orders', { ticker })) {
      const o = raw as Record<string, unknown>;
      const ours = orderIdFromKalshiClientId(typeof o.client_order_id === 'string' ? o.client_order_id : null);
      if (ours === null || typeof o.order_id !== 'string') continue;
      const side: Side = o.book_side === 'ask' || (o.book_side === undefined && o.action === 'sell') ? 'sell' : 'buy';
      byVenueId.set(o.order_id, { orderId: ours.orderId, side: r.sides?.get(ours.orderId) ?? side });
      const filled = countToLots(String(o.fill_count_fp ?? '0'), 'fill_count_fp', q);
      const remaining = countToLots(String(o.remaining_count_fp ?? '0'), 'remaining_count_fp', q);
      const initial = countToLots(String(o.initial_count_fp ?? '0'), 'initial_count_fp', q);
      const state = o.status === 'resting' ? 'open' : o.status === 'executed' || (filled >= initial && initial > 0) ? 'filled' : 'canceled';
      orders.push({ orderId: ours.orderId, state, filledLots: filled, leavesLots: state === 'open' ? remaining : 0, venueOrderId: o.order_id });
      // An amend that took shows in the client order id (ours, with the amend count) and the order's price and total.
      if (typeof o.yes_price_dollars === 'string') {
        replaced.set(ours.orderId, { replaceCount: ours.amends, priceTicks: dollarsToTicks(o.yes_price_dollars, r.priceScale, 'yes_price_dollars'), qtyLots: initial, venueOrderId: o.order_id });
      }
    }
    const seen = new Set<string>();
    const all = [
      ...(await rest.pages('/portfolio/fills', 'fills', { ticker })),
      ...(await rest.pages('/historical/fills', 'fills', { ticker })),
    ];
    for (const raw of all) {
      const f = parseRestFill(raw, r.priceScale, q);
      if (f === null || seen.has(f.fillId)) continue;
      seen.add(f.fillId);
      const owner = byVenueId.get(f.orderId) ?? (() => {
        const ours = orderIdFromKalshiClientId(f.clientOrderId);
        return ours === null ? undefined : { orderId: ours.orderId, side: r.sides?.get(ours.orderId) ?? 'buy' as Side };
      })();
      if (owner === undefined) continue;
      fills.push({
        fillId: kalshiFillId(f.fillId), orderId: owner.orderId, instrument: kalshiInstrumentId(ticker), side: owner.side,
        priceTicks: f.priceTicks, priceScale: r.priceScale, qtyLots: f.qtyLots, qtyScale: q,
        fee: f.feeMicros ?? 0n, feeScale: 6, feeCurrency: 'USD', liquidity: f.taker === null ? 'unknown' : f.taker ? 'taker' : 'maker',
      });
    }
  }
  const held = new Map<string, number>();
  for (const raw of await rest.pages('/portfolio/positions', 'market_positions')) {
    const p = raw as Record<string, unknown>;
    if (typeof p.ticker !== 'string') continue;
    held.set(p.ticker, countToLots(String(p.position_fp ?? '0'), 'position_fp', q));
  }
  for (const ticker of tickers) positions.push({ instrument: kalshiInstrumentId(ticker), qtyLots: held.get(ticker) ?? 0, qtyScale: q });
  return { venue: KALSHI, orders, openOrdersComplete: true, fills, positions, positionsComplete: false, replaced };
}
