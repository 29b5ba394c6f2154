/**
 * Paper trading on a recorded capture: start the replay server and connect the venue's LIVE adapter to
 * it, so the run exercises the same code as live trading over a real socket.
 *
 *   const feed = await openPaperFeed(['datasets/samples/binance/BINANCE.ws.1.0'], { speed: 10 });
 *   for await (const e of feed.client.events()) ...;
 *   await feed.close();
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { MarketDataClient } from '../port.js';
import type { ReplayClientOptions } from '../adapter.js';
import { getVenue } from '../registry.js';
import { startCaptureReplayServer, type ReplayServer, type ReplayServerOptions } from './replay-server.js';

export type { ReplayClientOptions } from '../adapter.js';

/** The venue's live adapter (from the registry), pointed at the server, subscribed as the recording was. */
export function replayClientFor(server: ReplayServer, options: ReplayClientOptions = {}): MarketDataClient {
  const venue = getVenue(server.venue);
  if (venue.marketData?.replayClient === undefined) {
    throw new TapedeckError('REPLAY_CLIENT', `${venue.id} has no live market-data client to replay a capture to`, { field: 'venue' });
  }
  return venue.marketData.replayClient(server, options);
}

export interface PaperFeed {
  server: ReplayServer;
  client: MarketDataClient;
  close(): Promise<void>;
}

export async function openPaperFeed(
  captures: string | string[],
  options: Omit<ReplayServerOptions, 'captures'> & { client?: ReplayClientOptions } = {},
): Promise<PaperFeed> {
  const { client: clientOptions, ...serverOptions } = options;
  const server = await startCaptureReplayServer({ ...serverOptions, captures });
  const client = replayClientFor(server, clientOptions);
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}
