/**
 * Paper trading on a recorded capture: start the replay server and connect the venue's LIVE adapter to
 * it, so the run exercises the same code as live trading over a real socket.
 *
 *   const feed = await openPaperFeed(['../shared/datasets/recorded_ws/cryptofeed/BINANCE.ws.1.0'], { speed: 10 });
 *   for await (const e of feed.client.events()) ...;
 *   await feed.close();
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { MarketDataClient } from '../port.js';
import { BinanceMarketDataClient, type BinanceMarketDataOptions } from '../binance/marketdata.js';
import { JsonFeedMarketDataClient, type JsonFeedOptions } from '../common/json-feed-client.js';
import { newParser } from './capture.js';
import { startCaptureReplayServer, type ReplayServer, type ReplayServerOptions } from './replay-server.js';

export type ReplayClientOptions = Partial<Pick<BinanceMarketDataOptions & JsonFeedOptions, 'clock' | 'onBadFrame' | 'onIssue' | 'highWaterMark' | 'httpTimeoutMs'>>;

/** The live adapter for the server's venue, pointed at the server, subscribed as the recording was. */
export function replayClientFor(server: ReplayServer, options: ReplayClientOptions = {}): MarketDataClient {
  switch (server.venue) {
    case 'BINANCE': {
      if (server.connections.length !== 1) {
        throw new TapedeckError('REPLAY_CONNECTIONS', `a Binance replay client takes one recorded connection, the server has ${server.connections.length}`);
      }
      return new BinanceMarketDataClient({ ...options, wsUrl: server.urlFor(server.connections[0]!.url), restUrl: server.httpBaseUrl });
    }
    case 'KRAKEN':
    case 'COINBASE':
      return new JsonFeedMarketDataClient({
        ...options,
        parser: newParser(server.venue),
        connections: server.connections.map((c) => ({ url: server.urlFor(c.url), subscribe: c.sent })),
        metadataUrls: server.restUrls.map((u) => server.urlFor(u)),
      });
  }
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
