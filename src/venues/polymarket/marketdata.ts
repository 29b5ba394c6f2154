/**
 * Polymarket live market data: the market channel (book, price_change, last_trade_price,
 * tick_size_change) for the configured tokens, parsed by parse.ts. `outcomeMarketDefined` declares a binary
 * market's YES and NO tokens linked (the live session puts it first in a run).
 */
import { uuidFromName } from '../../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import { wallClockNs } from '../common/clock.js';
import { JsonFeedMarketDataClient } from '../common/json-feed-client.js';
import type { MarketDataClient } from '../port.js';
import type { PolymarketConfig } from './config.js';
import { POLYMARKET, PRICE_SCALE, PolymarketParser, polymarketInstrumentId } from './parse.js';

export function polymarketMarketData(config: PolymarketConfig): MarketDataClient {
  const tokens = [...new Set([...config.tokens, ...config.binaryMarkets.flatMap((m) => [m.yes, m.no])])];
  const feed = new JsonFeedMarketDataClient({
    parser: new PolymarketParser(),
    connections: [{ url: config.marketWsUrl, subscribe: [JSON.stringify({ assets_ids: tokens, type: 'market' })] }],
    metadataUrls: [],
    onBadFrame: 'skip',
  });
  return feed;
}

export function outcomeMarketDefined(m: { market: string; yes: string; no: string }, atNs: bigint = wallClockNs()): AnyEnvelope {
  return {
    id: uuidFromName(`venue:${POLYMARKET}`, `outcome-market:${m.market}:${m.yes}:${m.no}`), type: 'OutcomeMarketDefined', schemaVersion: 1,
    stream: `md-${POLYMARKET}`, eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null,
    data: { venue: POLYMARKET, market: m.market, yes: polymarketInstrumentId(m.yes), no: polymarketInstrumentId(m.no), priceScale: PRICE_SCALE, payoutTicks: 10 ** PRICE_SCALE },
  } as AnyEnvelope;
}
