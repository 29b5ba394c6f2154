/** Binance spot in the venue registry (src/venues/registry.ts): market data today, execution to come. */
import { TapedeckError } from '../../../domain/core/errors.js';
import { defineVenue } from '../adapter.js';
import { BinanceConfig } from './config.js';
import { BinanceMarketDataClient } from './marketdata.js';
import { BinanceParser } from './parse.js';

const CAPTURES = 'test/fixtures/datasets/recorded_ws/cryptofeed';

export const binance = defineVenue({
  id: 'BINANCE',
  title: 'Binance spot: depth, trades, bookTicker over websocket; REST depth snapshots and exchangeInfo',
  config: BinanceConfig,
  hosts: [/(^|\.)binance\.(com|vision)$/],
  marketData: {
    captureFormat: 'cryptofeed',
    newParser: () => new BinanceParser(),
    replayClient(server, options) {
      if (server.connections.length !== 1) {
        throw new TapedeckError('REPLAY_CONNECTIONS', `a Binance replay client takes one recorded connection, the server has ${server.connections.length}`);
      }
      return new BinanceMarketDataClient({ ...options, wsUrl: server.urlFor(server.connections[0]!.url), restUrl: server.httpBaseUrl });
    },
    archiveFormats: ['binance-csv'],
  },
  fixtures: [`${CAPTURES}/BINANCE.ws.1.0`, `${CAPTURES}/BINANCE.http.0.0`],
});
