/** Kraken spot (websocket v1) in the venue registry (src/venues/registry.ts): market data. */
import { defineVenue } from '../adapter.js';
import { JsonFeedMarketDataClient } from '../common/json-feed-client.js';
import { KrakenConfig } from './config.js';
import { KrakenParser } from './parse.js';

const CAPTURES = 'test/fixtures/datasets/recorded_ws/cryptofeed';

export const kraken = defineVenue({
  id: 'KRAKEN',
  title: 'Kraken spot (websocket v1): trades, ticker, book; REST AssetPairs',
  config: KrakenConfig,
  hosts: [/(^|\.)kraken\.com$/],
  marketData: {
    captureFormat: 'cryptofeed',
    newParser: () => new KrakenParser(),
    replayClient: (server, options) => new JsonFeedMarketDataClient({
      ...options,
      parser: new KrakenParser(),
      connections: server.connections.map((c) => ({ url: server.urlFor(c.url), subscribe: c.sent })),
      metadataUrls: server.restUrls.map((u) => server.urlFor(u)),
    }),
  },
  fixtures: [`${CAPTURES}/KRAKEN.0`, `${CAPTURES}/KRAKEN.ws.48.0`, `${CAPTURES}/KRAKEN.ws.49.0`, `${CAPTURES}/KRAKEN.ws.50.0`],
});
