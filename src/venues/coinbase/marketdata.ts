/**
 * Live Coinbase Exchange market data: one connection, one subscribe message per channel (as cryptofeed
 * records it), product metadata from REST /products first. See common/json-feed-client.ts.
 */
import { JsonFeedMarketDataClient, type JsonFeedOptions } from '../common/json-feed-client.js';
import { CoinbaseParser } from './parse.js';

export type CoinbaseChannel = 'level2' | 'level2_batch' | 'ticker' | 'matches';

export interface CoinbaseMarketDataOptions extends Omit<JsonFeedOptions, 'parser' | 'connections' | 'metadataUrls'> {
  products: string[];
  channels?: CoinbaseChannel[];
  wsUrl?: string;
  restUrl?: string;
}

export function coinbaseSubscribe(products: string[], channel: CoinbaseChannel): string {
  return JSON.stringify({ type: 'subscribe', product_ids: products, channels: [channel] });
}

export function coinbaseMarketDataClient(options: CoinbaseMarketDataOptions): JsonFeedMarketDataClient {
  const { products, channels = ['level2', 'ticker', 'matches'], wsUrl = 'wss://ws-feed.exchange.coinbase.com', restUrl = 'https://api.exchange.coinbase.com', ...rest } = options;
  return new JsonFeedMarketDataClient({
    ...rest,
    parser: new CoinbaseParser(),
    connections: [{ url: wsUrl, subscribe: channels.map((c) => coinbaseSubscribe(products, c)) }],
    metadataUrls: [`${restUrl.replace(/\/+$/, '')}/products`],
  });
}
