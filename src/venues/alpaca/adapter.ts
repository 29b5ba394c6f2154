/**
 * Alpaca (trading API v2, paper and live) in the venue registry (src/venues/registry.ts): the market-data
 * stream (trades, quotes, bars), the execution client (REST orders by our client_order_id, the trade_updates
 * stream), reconciliation (orders, FILL activities, positions), the live session for the generic runner
 * (session.ts), and the simulated Alpaca on loopback (sim.ts).
 */
import { defineVenue } from '../adapter.js';
import { ALPACA, AlpacaConfig } from './config.js';
import { alpacaCredentials } from './credentials.js';
import { deferredExecutionClient } from '../common/deferred-client.js';

export const alpaca = defineVenue({
  id: ALPACA,
  title: 'Alpaca trading API v2 (US equities, paper and live): orders by client_order_id, trade_updates, market-data stream v2',
  config: AlpacaConfig,
  hosts: [/(^|\.)alpaca\.markets$/],
  execution: {
    credentialVariables: ['ALPACA_API_KEY_ID', 'ALPACA_API_SECRET_KEY'],
    // Loaded on connect (common/deferred-client.ts): every command reads the registry, few trade on Alpaca.
    newClient: (config, context) => {
      const credentials = alpacaCredentials(context.credentials);
      return deferredExecutionClient(ALPACA, async () => {
        const { AlpacaExecutionClient } = await import('./execution.js');
        return new AlpacaExecutionClient({ config, credentials, ...(context.clockNs ? { clockNs: context.clockNs } : {}) });
      });
    },
    async openLive(config, options) {
      const { openAlpacaSession } = await import('./session.js');
      return openAlpacaSession(config, options);
    },
    async startSim(options) {
      const { SimAlpaca } = await import('./sim.js');
      return SimAlpaca.start({
        credentials: alpacaCredentials(options.credentials), ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.capture !== undefined ? { capture: options.capture } : {}), ...(options.speed !== undefined ? { speed: options.speed } : {}),
        ...(options.faults !== undefined ? { faults: options.faults } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
    },
  },
  fixtures: ['test/fixtures/datasets/venues/alpaca/trading_and_stream.json', 'test/fixtures/datasets/venues/alpaca/examples.json'],
});
