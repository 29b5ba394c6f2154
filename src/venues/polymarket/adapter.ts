/**
 * Polymarket CLOB in the venue registry (src/venues/registry.ts). What is here so far: order signing
 * (signing.ts, order.ts, amounts.ts), auth (auth.ts), credentials (credentials.ts), and the WebSocket
 * parsers (parse.ts market channel, user.ts user channel). The live market-data and execution clients
 * and the simulated venue are not here yet (see README.md), so the record declares neither.
 */
import { defineVenue } from '../adapter.js';
import { PolymarketConfig } from './config.js';
import { POLYMARKET } from './parse.js';

export const polymarket = defineVenue({
  id: POLYMARKET,
  title: 'Polymarket CLOB: EIP-712 orders (v1, v2), L1/L2 auth, market and user WebSocket parsing',
  config: PolymarketConfig,
  hosts: [/(^|\.)polymarket\.com$/],
  fixtures: ['test/fixtures/datasets/polymarket/vectors.json', 'test/fixtures/datasets/venues/polymarket/ws_messages.json'],
});
