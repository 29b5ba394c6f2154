/**
 * The kernel's shared market book over real Binance traffic, which interleaves bookTicker quotes with
 * depth: quotes must overlay the depth book at the touch, never wipe it. Checked against the L2 book of
 * domain/book/l2.ts, itself checked against an independent replay of the raw lines (test/marketdata).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { L2BookSet } from '../../domain/book/l2.js';
import type { TimedEvent } from '../../domain/events/event.js';
import { applyMarketEvent, bestBidTicks, bestAskTicks, initialMarketState } from '../../domain/market/book.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { datasetsDir } from '../helpers/tmp.js';

describe('market book over quotes and depth', () => {
  it('keeps the depth of every Binance book while bookTicker quotes update the touch', async () => {
    const market = initialMarketState();
    const l2 = new L2BookSet();
    let quotes = 0;
    for await (const e of captureEventSource(path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0'))) {
      applyMarketEvent(market, e as unknown as TimedEvent);
      if (e.type === 'QuoteUpdated') quotes++;
      else l2.apply(e);
    }
    expect(quotes).toBeGreaterThan(0);
    for (const id of l2.instruments()) {
      const ref = l2.get(id)!;
      const b = market.books.get(id)!;
      // Depth survives the quotes: all but the levels a quote showed to be gone are still there.
      expect(b.bids.prices.length).toBeGreaterThan(ref.depth('buy') - 5);
      expect(b.asks.prices.length).toBeGreaterThan(ref.depth('sell') - 5);
      // Below the touch the two books agree level for level.
      const bid = bestBidTicks(market, id)!;
      const ask = bestAskTicks(market, id)!;
      expect(bid).toBeLessThan(ask);
      for (const [px, qty] of ref.top('buy', 50).map((l) => [l[0], l[1]] as const)) {
        if (px >= bid) continue;
        const i = b.bids.prices.indexOf(px);
        expect(i, `${id} bid ${px}`).toBeGreaterThanOrEqual(0);
        expect(b.bids.qtys[i]).toBe(qty);
      }
      for (const [px, qty] of ref.top('sell', 50).map((l) => [l[0], l[1]] as const)) {
        if (px <= ask) continue;
        const i = b.asks.prices.indexOf(px);
        expect(i, `${id} ask ${px}`).toBeGreaterThanOrEqual(0);
        expect(b.asks.qtys[i]).toBe(qty);
      }
    }
  });
});
