/**
 * The ccxt execution client as the venue registry hands it out (`execution.newClient`), loading ccxt only when
 * it connects: ccxt is a large package, and the registry is read by every command.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { ExecutionClient } from '../port.js';
import { deferredExecutionClient } from '../common/deferred-client.js';
import type { InstrumentInfo } from './execution.js';

export interface CcxtClientSpec {
  exchangeId: string;
  venue: string;
  /** The venue's REST base (a simulator, a testnet); absent = production, which needs confirmLive. */
  baseUrl?: string;
  confirmLive?: boolean;
  credentials: Readonly<Record<string, string>>;
  clockNs?: () => bigint;
  requestsPerSecond?: number;
}

/**
 * The execution client the venue registry hands out (`execution.newClient`): not connected until `connect()`,
 * which builds the ccxt exchange, loads its markets (every spot market, instruments `<VENUE>:<market id>` at
 * scale 8) and subscribes to the user stream. Credentials: `apiKey`, `secret`, optional `password`.
 */
export function newCcxtExecutionClient(spec: CcxtClientSpec): ExecutionClient {
  return deferredExecutionClient(spec.venue, async () => {
    const { makeExchange, makeRedactor } = await import('./exchange.js');
    const { CcxtExecutionClient } = await import('./execution.js');
    const apiKey = spec.credentials.apiKey;
    const secret = spec.credentials.secret;
    if (!apiKey || !secret) throw new TapedeckError('CREDENTIALS', `${spec.venue}: credentials need apiKey and secret`, { field: 'credentials' });
    const credentials = { apiKey, secret, ...(spec.credentials.password ? { password: spec.credentials.password } : {}) };
    const redact = makeRedactor(credentials);
    const ex = await makeExchange({ id: spec.exchangeId, credentials, ...(spec.baseUrl !== undefined ? { baseUrl: spec.baseUrl } : {}), confirmLive: spec.confirmLive ?? false });
    const instruments = new Map<string, InstrumentInfo>();
    const markets = (await ex.loadMarkets()) as Record<string, { id: string; symbol: string; base: string; quote: string; spot: boolean }>;
    for (const m of Object.values(markets)) {
      if (m.spot) instruments.set(`${spec.venue}:${m.id}`, { instrument: `${spec.venue}:${m.id}`, symbol: m.symbol, marketId: m.id, priceScale: 8, qtyScale: 8, base: m.base, quote: m.quote });
    }
    return new CcxtExecutionClient({ exchange: ex, exchangeId: spec.exchangeId, venue: spec.venue, instruments, redact, ...(spec.clockNs ? { clockNs: spec.clockNs } : {}), ...(spec.requestsPerSecond ? { requestsPerSecond: spec.requestsPerSecond } : {}) });
  }, { reconciles: false });
}
