/**
 * A live Kalshi session (LiveVenueSession, src/venues/adapter.ts) for the generic live runner: credentials
 * from KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, the config's markets as instruments, the execution
 * and market-data clients, the reconciliation report, and cancels of what earlier sessions left open.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { LiveSessionOptions, LiveVenueSession } from '../adapter.js';
import type { KalshiConfig } from './config.js';
import { kalshiCredentials } from './credentials.js';
import { KalshiExecutionClient } from './execution.js';
import { KalshiMarketDataClient } from './marketdata.js';
import { kalshiVenueReport } from './reconcile.js';
import { KalshiRest } from './rest.js';
import { centTicks, contractLots, KALSHI, kalshiInstrumentId, orderIdFromKalshiClientId, tickerOf } from './wire.js';

const PRODUCTION = /(^|\.)kalshi\.com$/;

export async function openKalshiSession(config: KalshiConfig, o: LiveSessionOptions): Promise<LiveVenueSession> {
  const credentials = kalshiCredentials(o.env);
  const restUrl = (o.baseUrl ?? config.restUrl).replace(/\/+$/, '');
  const wsUrl = o.wsUrl ?? (o.baseUrl !== undefined ? `${restUrl.replace(/^http/, 'ws').replace(/\/trade-api\/v2$/, '')}/trade-api/ws/v2` : config.wsUrl);
  if (PRODUCTION.test(new URL(restUrl).hostname) && !config.confirmLive && !o.confirmLive) {
    throw new TapedeckError('USAGE', 'Kalshi production endpoints need --confirm-live (or give --base-url of a simulated Kalshi)', { field: '--confirm-live' });
  }
  const rest = new KalshiRest(restUrl, credentials, 5000);
  const tickers = [...new Set([...config.markets, ...(o.instruments ?? []).filter((i) => i.startsWith(`${KALSHI}:`)).map(tickerOf)])];
  if (tickers.length === 0) throw new TapedeckError('CONFIG_INVALID', 'Kalshi needs the markets to trade: venue config "markets" (tickers)', { field: 'KALSHI.markets' });
  // Every market must exist (fail before anything is sent).
  for (const t of tickers) {
    try {
      await rest.get(`/markets/${encodeURIComponent(t)}`);
    } catch (e) {
      throw new TapedeckError('VENUE_UNAVAILABLE', `Kalshi market ${t}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const instruments = new Map(tickers.map((t) => [kalshiInstrumentId(t), { symbol: t, priceScale: config.priceScale, qtyScale: config.qtyScale }]));
  const redact = (text: string): string => text;
  return {
    venue: KALSHI,
    instruments,
    instrumentsDefined(list, atNs) {
      return list.map((instrument) => ({
        id: uuidFromName(`venue:${KALSHI}`, `instrument:${instrument}:${config.priceScale}:${config.qtyScale}`), type: 'InstrumentDefined', schemaVersion: 1, stream: 'venue',
        eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null,
        data: { venue: KALSHI, instrument, symbol: tickerOf(instrument), kind: 'prediction', quoteCurrency: 'USD', priceScale: config.priceScale, qtyScale: config.qtyScale, tickSizeTicks: centTicks(config.priceScale), lotSizeLots: contractLots(config.qtyScale) },
      }) as AnyEnvelope);
    },
    report: (r) => kalshiVenueReport(rest, { instruments: r.instruments, priceScale: config.priceScale, qtyScale: config.qtyScale, sides: r.sides }),
    async cancel(ord) {
      let vid = ord.venueOrderId;
      if (vid === null) {
        for (const raw of await rest.pages('/portfolio/orders', 'orders', { ticker: tickerOf(ord.instrument), status: 'resting' })) {
          const x = raw as Record<string, unknown>;
          if (orderIdFromKalshiClientId(typeof x.client_order_id === 'string' ? x.client_order_id : null)?.orderId === ord.orderId && typeof x.order_id === 'string') vid = x.order_id;
        }
      }
      if (vid === null) return false;
      const a = await rest.request('DELETE', `/portfolio/events/orders/${encodeURIComponent(vid)}`);
      return a.status === 200;
    },
    newExecutionClient: (x) => new KalshiExecutionClient({
      restUrl, wsUrl, credentials, priceScale: config.priceScale, qtyScale: config.qtyScale, tickers, knownFillIds: x.knownFillIds, eventClockNs: x.eventClockNs,
      requestTimeoutMs: 5000, ...(x.onLog ? { onLog: x.onLog } : {}),
    }),
    newMarketData: (list, onLog) => new KalshiMarketDataClient({ wsUrl, credentials, tickers: list.map(tickerOf), priceScale: config.priceScale, qtyScale: config.qtyScale, ...(onLog ? { onLog } : {}) }),
    redact,
    close: async () => undefined,
  };
}
