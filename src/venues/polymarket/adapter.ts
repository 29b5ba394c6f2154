/**
 * Polymarket CLOB in the venue registry (src/venues/registry.ts): order signing (signing.ts, order.ts,
 * amounts.ts), auth (auth.ts), credentials (credentials.ts), the WebSocket parsers (parse.ts market
 * channel, user.ts user channel), the execution client (execution.ts, rest.ts), the live session for
 * `tapedeck live` (session.ts, marketdata.ts) and the simulated venue (sim.ts, which replays a recorded
 * market channel with `--capture`, capture.ts). Recorded captures are not a replay/paper source yet (no `marketData`).
 */
import { defineVenue, type SimulatedVenueServer } from '../adapter.js';
import { PolymarketConfig } from './config.js';
import { deferredExecutionClient } from '../common/deferred-client.js';
import { POLYMARKET } from './parse.js';

export const polymarket = defineVenue({
  id: POLYMARKET,
  title: 'Polymarket CLOB: EIP-712 orders (v1, v2), L1/L2 auth, market and user WebSocket, live execution and a simulated venue',
  config: PolymarketConfig,
  hosts: [/(^|\.)polymarket\.com$/],
  execution: {
    credentialVariables: ['POLYMARKET_PRIVATE_KEY'],
    // The client, its credentials and ethers (signing, and the signer's address) load on connect().
    newClient: (config, context) => deferredExecutionClient(POLYMARKET, async () => {
      const [{ PolymarketExecutionClient }, { polymarketCredentials }] = await Promise.all([import('./execution.js'), import('./credentials.js')]);
      return new PolymarketExecutionClient({ config, credentials: polymarketCredentials(context.credentials), ...(context.clockNs ? { clockNs: context.clockNs } : {}) });
    }),
    async openLive(config, options) {
      const { openPolymarketSession } = await import('./session.js');
      return openPolymarketSession(config, options);
    },
    async startSim(options): Promise<SimulatedVenueServer> {
      const [{ SimPolymarket }, { polymarketCredentials }] = await Promise.all([import('./sim.js'), import('./credentials.js')]);
      const sim = await SimPolymarket.start({
        credentials: polymarketCredentials(options.credentials), port: options.port ?? 0, ...(options.capture !== undefined ? { capture: options.capture } : {}), ...(options.startOnSubscribe === true ? { startOnSubscribe: true } : {}),
        ...(options.faults !== undefined ? { faults: options.faults } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
      return { port: sim.port, urls: sim.info, close: () => sim.close() };
    },
  },
  fixtures: ['test/fixtures/datasets/polymarket/vectors.json', 'test/fixtures/datasets/venues/polymarket/ws_messages.json'],
});
