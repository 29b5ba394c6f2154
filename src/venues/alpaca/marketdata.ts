/**
 * The live Alpaca market-data client (stream v2): the shared JSON feed client (common/json-feed-client.ts) on
 * one connection, which sends the auth message and then the subscription (trades, quotes and bars of the
 * configured symbols) in order; the server answers connected, authenticated, subscription, then arrays of t, q
 * and b messages that AlpacaParser turns into catalogue events. An auth failure (402) ends the stream.
 */
import { parseDecimal } from '../../../domain/core/fixed.js';
import type { MarketDataClient } from '../port.js';
import { JsonFeedMarketDataClient, type FeedIssue } from '../common/json-feed-client.js';
import type { AlpacaConfig } from './config.js';
import type { AlpacaCredentials } from './credentials.js';
import { AlpacaParser, type AlpacaInstrumentRules } from './parse.js';

export function alpacaRules(config: AlpacaConfig): AlpacaInstrumentRules {
  const tick = Number(parseDecimal(config.tickSize, config.priceScale, 'tickSize'));
  return { priceScale: config.priceScale, qtyScale: config.qtyScale, tickSizeTicks: tick > 0 ? tick : 1 };
}

export function alpacaMarketDataClient(config: AlpacaConfig, credentials: AlpacaCredentials, o: { clock?: () => bigint; onIssue?: (i: FeedIssue) => void } = {}): MarketDataClient {
  const subscribe = JSON.stringify({ action: 'subscribe', trades: config.symbols, quotes: config.symbols, ...(config.bars ? { bars: config.symbols } : {}) });
  return new JsonFeedMarketDataClient({
    parser: new AlpacaParser(alpacaRules(config)),
    connections: [{ url: config.dataStreamUrl, subscribe: [credentials.authMessage(), subscribe] }],
    metadataUrls: [],
    onBadFrame: 'stop',
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.onIssue ? { onIssue: o.onIssue } : {}),
  });
}
