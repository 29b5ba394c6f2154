/** Coinbase Exchange in the venue registry (src/venues/registry.ts): market data. */
import { defineVenue } from '../adapter.js';
import { JsonFeedMarketDataClient } from '../common/json-feed-client.js';
import { CoinbaseConfig } from './config.js';
import { CoinbaseParser } from './parse.js';

const CAPTURES = 'test/fixtures/datasets/recorded_ws/cryptofeed';

export const coinbase = defineVenue({
  id: 'COINBASE',
  title: 'Coinbase Exchange: level2, matches, ticker; REST /products',
  config: CoinbaseConfig,
  hosts: [/(^|\.)coinbase\.com$/],
  marketData: {
    captureFormat: 'cryptofeed',
    newParser: () => new CoinbaseParser(),
    replayClient: (server, options) => new JsonFeedMarketDataClient({
      ...options,
      parser: new CoinbaseParser(),
      connections: server.connections.map((c) => ({ url: server.urlFor(c.url), subscribe: c.sent })),
      metadataUrls: server.restUrls.map((u) => server.urlFor(u)),
    }),
  },
  fixtures: [`${CAPTURES}/COINBASE.0`, `${CAPTURES}/COINBASE.ws.28.0`],
});
