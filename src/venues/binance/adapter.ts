/**
 * Binance spot in the venue registry (src/venues/registry.ts): market data (websocket + REST snapshots),
 * execution through ccxt (src/venues/ccxt/), and the simulated Binance on loopback (sim.ts).
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { defineVenue } from '../adapter.js';
import { BinanceConfig } from './config.js';
import { BinanceMarketDataClient } from './marketdata.js';
import { BinanceDepthSequencer } from './depth-sequencer.js';
import { BinanceParser, classifyBinanceHttp } from './parse.js';
import { newCcxtExecutionClient } from '../ccxt/client.js';

const PRODUCTION_REST = 'https://api.binance.com';

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
    // Diff depth needs the local book procedure: a REST snapshot per symbol, diffs buffered and sequenced.
    bookProcedure: {
      snapshotKeyOf: (url) => {
        const what = classifyBinanceHttp(url);
        return what.kind === 'depth' ? what.symbol : null;
      },
      keyOf: (instrument) => instrument.slice(instrument.indexOf(':') + 1),
      newSequencer: (requestSnapshot) => new BinanceDepthSequencer({ requestSnapshot }),
    },
  },
  execution: {
    newClient(config, context) {
      const production = config.restUrl.replace(/\/+$/, '') === PRODUCTION_REST;
      return newCcxtExecutionClient({
        exchangeId: 'binance', venue: 'BINANCE', credentials: context.credentials, confirmLive: config.confirmLive,
        ...(production ? {} : { baseUrl: config.restUrl }), ...(context.clockNs ? { clockNs: context.clockNs } : {}),
      });
    },
    async startSim(options) {
      if (options.capture === undefined) throw new TapedeckError('USAGE', 'the simulated Binance plays a recorded capture: give one (capture)', { field: 'capture' });
      const apiKey = options.credentials.apiKey;
      const apiSecret = options.credentials.secret;
      if (!apiKey || !apiSecret) throw new TapedeckError('CREDENTIALS', 'the simulated Binance needs the account it accepts: credentials apiKey and secret', { field: 'credentials' });
      const { SimBinance } = await import('./sim.js');
      return SimBinance.start({ capture: options.capture, apiKey, apiSecret, ...(options.port !== undefined ? { port: options.port } : {}), ...(options.speed !== undefined ? { speed: options.speed } : {}) });
    },
  },
  fixtures: [`${CAPTURES}/BINANCE.ws.1.0`, `${CAPTURES}/BINANCE.http.0.0`],
});
