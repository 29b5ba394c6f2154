/**
 * Kalshi (Trade API v2) in the venue registry (src/venues/registry.ts): RSA-PSS signed REST and WebSocket,
 * the V2 order routes (bid/ask on one book), fills with cursor and the historical cutoff, positions; the
 * live session for `tapedeck live --venue kalshi` (session.ts) and the simulated Kalshi on loopback (sim.ts).
 * Market data is parsed live (parse.ts, marketdata.ts); there is no recorded capture format for replay yet.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { defineVenue } from '../adapter.js';
import { KalshiConfig } from './config.js';
import { kalshiCredentials } from './credentials.js';
import { KALSHI } from './wire.js';

const CREDENTIALS = ['KALSHI_API_KEY_ID', 'KALSHI_PRIVATE_KEY_PATH'] as const;

export const kalshi = defineVenue({
  id: KALSHI,
  title: 'Kalshi Trade API v2: RSA-PSS auth, V2 orders (bid/ask, amend), fills, positions, orderbook_delta with sequence gaps healed',
  config: KalshiConfig,
  hosts: [/(^|\.)kalshi\.(com|co)$/],
  execution: {
    credentialVariables: CREDENTIALS,
    newClient() {
      throw new TapedeckError('USAGE', 'Kalshi trades through its live session (openLive), not a bare client');
    },
    async openLive(config, options) {
      const { openKalshiSession } = await import('./session.js');
      return openKalshiSession(config, options);
    },
    async startSim(options) {
      const credentials = kalshiCredentials(options.credentials);
      const { SimKalshi } = await import('./sim.js');
      return SimKalshi.start({
        keyId: credentials.keyId, publicKey: credentials.publicKey(), port: options.port ?? 0,
        ...(options.capture !== undefined ? { capture: options.capture } : {}), ...(options.faults !== undefined ? { faults: options.faults } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
    },
  },
  fixtures: ['test/fixtures/datasets/venues/kalshi/examples.json', 'test/fixtures/datasets/venues/kalshi/trade_api_v2.json'],
});
