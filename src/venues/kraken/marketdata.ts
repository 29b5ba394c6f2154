/**
 * Live Kraken spot market data (websocket v1): one connection per channel, as cryptofeed records it,
 * with pair metadata from REST AssetPairs first. See common/json-feed-client.ts for order and failure.
 */
import { JsonFeedMarketDataClient, type JsonFeedOptions } from '../common/json-feed-client.js';
import { KrakenParser } from './parse.js';

export type KrakenChannel = 'trade' | 'ticker' | 'spread' | { name: 'book'; depth: 10 | 25 | 100 | 500 | 1000 };

export interface KrakenMarketDataOptions extends Omit<JsonFeedOptions, 'parser' | 'connections' | 'metadataUrls'> {
  /** Websocket pair names: XBT/USD, ETH/EUR. */
  pairs: string[];
  channels?: KrakenChannel[];
  wsUrl?: string;
  restUrl?: string;
}

/** The v1 subscribe message for one channel. */
export function krakenSubscribe(pairs: string[], channel: KrakenChannel): string {
  const subscription = typeof channel === 'string' ? { name: channel } : { name: channel.name, depth: channel.depth };
  return JSON.stringify({ event: 'subscribe', pair: pairs, subscription });
}

export function krakenMarketDataClient(options: KrakenMarketDataOptions): JsonFeedMarketDataClient {
  const { pairs, channels = ['trade', 'ticker', { name: 'book', depth: 1000 }], wsUrl = 'wss://ws.kraken.com', restUrl = 'https://api.kraken.com', ...rest } = options;
  return new JsonFeedMarketDataClient({
    ...rest,
    parser: new KrakenParser(),
    connections: channels.map((c) => ({ url: wsUrl, subscribe: [krakenSubscribe(pairs, c)] })),
    metadataUrls: [`${restUrl.replace(/\/+$/, '')}/0/public/AssetPairs`],
  });
}
