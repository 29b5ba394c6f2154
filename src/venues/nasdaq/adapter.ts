/**
 * NASDAQ in the venue registry (src/venues/registry.ts): ITCH 5.0 market data (its own binary capture
 * format), OUCH 4.2 execution over SoupBinTCP, and a simulated NASDAQ speaking OUCH on loopback.
 */
import path from 'node:path';
import { TapedeckError } from '../../../domain/core/errors.js';
import { defineVenue } from '../adapter.js';
import { NasdaqConfig } from './config.js';
import { itchEventSource, NASDAQ_VENUE } from './itch/to-events.js';
import { OuchExecutionClient } from './ouch-adapter.js';

const ITCH = 'test/fixtures/datasets/itch';

function credential(credentials: Readonly<Record<string, string>>, name: string): string {
  const v = credentials[name];
  if (v === undefined) throw new TapedeckError('VENUE_CREDENTIALS', `NASDAQ OUCH needs the credential "${name}"`, { field: name });
  return v;
}

export const nasdaq = defineVenue({
  id: NASDAQ_VENUE,
  title: 'NASDAQ: ITCH 5.0 market data (files), OUCH 4.2 order entry over SoupBinTCP 3.0',
  config: NasdaqConfig,
  hosts: [/(^|\.)nasdaq\.com$/],
  marketData: {
    captureFormat: 'itch',
    // An ITCH file is named for what it is (`01302019.NASDAQ_ITCH50`, `*.TEST_ITCH_50`).
    recognisesCapture: (file) => /ITCH/.test(path.basename(file).toUpperCase()),
    openCapture: (file) => itchEventSource(file),
  },
  execution: {
    newClient: (config, context) => new OuchExecutionClient({
      ...config,
      username: credential(context.credentials, 'username'),
      password: credential(context.credentials, 'password'),
      ...(context.clockNs !== undefined ? { clockNs: context.clockNs } : {}),
    }),
    // Loaded when started: every command reads the registry (sim-nasdaq.ts brings the SoupBinTCP server).
    async startSim(options) {
      // The same credentials the client logs in with: SoupBinTCP username → password.
      const credentials = { [credential(options.credentials, 'username')]: credential(options.credentials, 'password') };
      const { SimNasdaq } = await import('./sim-nasdaq.js');
      return SimNasdaq.start({
        host: '127.0.0.1',
        credentials,
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.clockNs !== undefined ? { clockNs: options.clockNs } : {}),
      });
    },
  },
  fixtures: [`${ITCH}/ritch_ex20101224.TEST_ITCH_50`, `${ITCH}/nassau_binaryfile.dat`],
});
