/**
 * A live Alpaca session (LiveVenueSession, src/venues/adapter.ts) for the generic live runner
 * (src/runtime/live-venue.ts): credentials from ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY, the config's
 * symbols (and the run's instruments) as instruments, the execution and market-data clients, the
 * reconciliation report (orders, FILL activities, positions) and cancels of what earlier sessions left open.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { LiveSessionOptions, LiveVenueSession } from '../adapter.js';
import { wallClockNs } from '../common/clock.js';
import { ALPACA, AlpacaConfig, alpacaConfigAt } from './config.js';
import { alpacaCredentials } from './credentials.js';
import { AlpacaExecutionClient } from './execution.js';
import { alpacaMarketDataClient, alpacaRules } from './marketdata.js';
import { alpacaInstrumentDefined, alpacaInstrumentId } from './parse.js';

const LIVE_HOST = /^api\.alpaca\.markets$/;

export async function openAlpacaSession(given: AlpacaConfig, o: LiveSessionOptions): Promise<LiveVenueSession> {
  const credentials = alpacaCredentials(o.env);
  const symbols = [...new Set([...given.symbols, ...(o.instruments ?? []).filter((i) => i.startsWith(`${ALPACA}:`)).map((i) => i.slice(ALPACA.length + 1))])];
  const config = AlpacaConfig.parse({ ...(o.baseUrl !== undefined ? alpacaConfigAt(o.baseUrl, given) : given), symbols });
  if (symbols.length === 0) throw new TapedeckError('CONFIG_INVALID', 'Alpaca needs the symbols to trade: venue config "symbols" or params.instrument (ALPACA:AAPL)', { field: 'ALPACA.symbols' });
  if (LIVE_HOST.test(new URL(config.restUrl).hostname) && !config.confirmLive && !o.confirmLive) {
    throw new TapedeckError('CONFIRM_LIVE', 'Alpaca live endpoints need --confirm-live (paper is the default; or give --base-url of a simulated Alpaca)', { field: '--confirm-live' });
  }
  const rules = alpacaRules(config);
  const control = new AlpacaExecutionClient({ config, credentials });
  // The account answers with these keys, or the session stops here (before anything is sent).
  await control.account().catch((e: unknown) => {
    throw new TapedeckError('VENUE_UNAVAILABLE', credentials.redact(`Alpaca ${config.restUrl}: ${e instanceof Error ? e.message : String(e)}`));
  });
  const instruments = new Map(symbols.map((s) => [alpacaInstrumentId(s), { symbol: s, priceScale: config.priceScale, qtyScale: config.qtyScale }]));
  return {
    venue: ALPACA,
    instruments,
    instrumentsDefined: (list, atNs) => list.map((i) => alpacaInstrumentDefined(i.slice(ALPACA.length + 1), rules, atNs, wallClockNs())),
    report: () => control.reconciliationReport({ orderIds: [], instruments: [] }),
    cancel: (ord) => control.cancelLeftover(ord.orderId, ord.replaceCount),
    newExecutionClient: (x) => new AlpacaExecutionClient({ config, credentials, knownFillIds: x.knownFillIds, eventClockNs: x.eventClockNs, ...(x.onLog ? { onLog: x.onLog } : {}) }),
    newMarketData: (list) => alpacaMarketDataClient({ ...config, symbols: [...new Set([...config.symbols, ...list.map((i) => i.slice(ALPACA.length + 1))])] }, credentials),
    redact: (text) => credentials.redact(text),
    close: async () => control.close(),
  };
}
