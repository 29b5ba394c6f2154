/**
 * Polymarket's live session for the generic live runner (src/runtime/live-venue.ts: `tapedeck live` and
 * `tapedeck reconcile --venue polymarket`). The instruments are outcome tokens; the session asks the
 * venue which market each belongs to (`GET /book?token_id=`) and that market's YES and NO tokens
 * (`GET /markets/{condition_id}`), so the run declares them linked (OutcomeMarketDefined).
 *
 * Reconciliation finds the log's orders at the venue by their hash, which the session computes again from
 * each stored intent (execution.ts); positions are our trades that did not fail, per token.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { uuidFromName } from '../../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { Side } from '../../../domain/events/primitives.js';
import type { OrderState } from '../../../domain/orders/lifecycle.js';
import type { VenueReport } from '../../../domain/reconcile/reconcile.js';
import type { LiveSessionOptions, LiveVenueSession } from '../adapter.js';
import type { MarketDataClient } from '../port.js';
import type { PolymarketConfig } from './config.js';
import { polymarketCredentials, type PolymarketCredentials } from './credentials.js';
import { PolymarketExecutionClient } from './execution.js';
import { outcomeMarketDefined, polymarketMarketData } from './marketdata.js';
import { POLYMARKET, PRICE_SCALE, QTY_SCALE, polymarketInstrumentId } from './parse.js';

/** The config pointed at another REST base (a simulated venue): its WebSocket channels live there too. */
export function atBaseUrl(config: PolymarketConfig, baseUrl: string, wsUrl?: string): PolymarketConfig {
  const ws = (wsUrl ?? baseUrl.replace(/^http/, 'ws')).replace(/\/$/, '');
  return { ...config, restUrl: baseUrl.replace(/\/$/, ''), marketWsUrl: `${ws}/ws/market`, userWsUrl: `${ws}/ws/user` };
}

export async function openPolymarketSession(base: PolymarketConfig, options: LiveSessionOptions): Promise<LiveVenueSession> {
  if (options.baseUrl === undefined && !options.confirmLive) {
    throw new TapedeckError('CONFIRM_LIVE', 'Polymarket: trading on the production endpoints needs --confirm-live (or --base-url of a simulated venue)', { field: '--confirm-live' });
  }
  const credentials = polymarketCredentials(options.env);
  let config = options.baseUrl !== undefined ? atBaseUrl(base, options.baseUrl, options.wsUrl) : base;
  const tokens = new Set(config.tokens);
  for (const i of options.instruments ?? []) {
    if (!i.startsWith(`${POLYMARKET}:`)) throw new TapedeckError('CONFIG_INVALID', `${i} is not a Polymarket instrument (POLYMARKET:<token id>)`, { field: 'params.instrument' });
    tokens.add(i.slice(POLYMARKET.length + 1));
  }
  // Each token's market and that market's YES and NO tokens, from the venue (public routes).
  const markets = new Map<string, { market: string; yes: string; no: string }>(config.binaryMarkets.map((m) => [m.market, m]));
  for (const token of tokens) {
    if ([...markets.values()].some((m) => m.yes === token || m.no === token)) continue;
    const book = (await publicGet(config.restUrl, `/book?token_id=${token}`)) as { market?: unknown };
    if (typeof book.market !== 'string') throw new TapedeckError('VENUE_ERROR', `Polymarket: no market for token ${token}`, { field: 'params.instrument' });
    const m = (await publicGet(config.restUrl, `/markets/${book.market}`)) as { tokens?: Array<{ token_id?: unknown; outcome?: unknown }> };
    const yes = m.tokens?.find((t) => String(t.outcome).toLowerCase() === 'yes')?.token_id;
    const no = m.tokens?.find((t) => String(t.outcome).toLowerCase() === 'no')?.token_id;
    if (typeof yes === 'string' && typeof no === 'string') {
      markets.set(book.market, { market: book.market, yes, no });
      tokens.add(yes);
      tokens.add(no);
    }
  }
  config = {
    ...config, tokens: [...tokens], markets: [...new Set([...config.markets, ...markets.keys()])], binaryMarkets: [...markets.values()],
  };
  return new PolymarketSession(config, credentials);
}

async function publicGet(restUrl: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${restUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new TapedeckError('VENUE_UNAVAILABLE', `Polymarket GET ${path.split('?')[0]}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.message : String(e))}`);
  }
  if (!res.ok) throw new TapedeckError('VENUE_ERROR', `Polymarket GET ${path.split('?')[0]}: HTTP ${res.status}`);
  return (await res.json()) as unknown;
}

class PolymarketSession implements LiveVenueSession {
  readonly venue = POLYMARKET;
  readonly instruments: ReadonlyMap<string, { symbol: string; priceScale: number; qtyScale: number }>;
  private admin: PolymarketExecutionClient | null = null;
  private readonly secrets: string[];

  constructor(private readonly config: PolymarketConfig, private readonly credentials: PolymarketCredentials) {
    this.instruments = new Map(config.tokens.map((t) => [polymarketInstrumentId(t), { symbol: t, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE }]));
    const pk = credentials.privateKey();
    const api = credentials.apiCreds();
    this.secrets = [pk, pk.replace(/^0x/, ''), ...(api ? [api.secret, api.passphrase] : [])].filter((s) => s.length >= 8);
  }

  instrumentsDefined(_instruments: readonly string[], atNs: bigint): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    for (const [instrument, info] of this.instruments) {
      out.push({
        id: uuidFromName(`venue:${POLYMARKET}`, `instrument:${instrument}:100`), type: 'InstrumentDefined', schemaVersion: 1, stream: 'venue',
        eventTimeNs: atNs, receiveTimeNs: atNs, causationId: null, correlationId: null,
        data: { venue: POLYMARKET, instrument, symbol: info.symbol, kind: 'prediction', quoteCurrency: 'USDC', priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, tickSizeTicks: 100, lotSizeLots: 10_000 },
      } as AnyEnvelope);
    }
    for (const m of this.config.binaryMarkets) out.push(outcomeMarketDefined(m, atNs));
    return out;
  }

  private async adminClient(): Promise<PolymarketExecutionClient> {
    if (this.admin === null) {
      const c = new PolymarketExecutionClient({ config: this.config, credentials: this.credentials });
      await c.connect();
      this.admin = c;
    }
    return this.admin;
  }

  async report(request: { instruments: string[]; sides: ReadonlyMap<string, Side>; orders?: readonly OrderState[] }): Promise<VenueReport> {
    const admin = await this.adminClient();
    const orders = (request.orders ?? []).filter((o) => this.instruments.has(o.instrument) && o.status !== 'intended' && o.status !== 'denied');
    return admin.reconciliationReport({ orderIds: orders.map((o) => o.orderId), instruments: request.instruments, orders });
  }

  async cancel(order: { orderId: string }): Promise<boolean> {
    return (await this.adminClient()).cancelAdopted(order.orderId);
  }

  newExecutionClient(o: { knownFillIds: Iterable<string>; eventClockNs: () => bigint; onLog?: (line: string) => void }): PolymarketExecutionClient {
    return new PolymarketExecutionClient({ config: this.config, credentials: this.credentials, knownFillIds: o.knownFillIds, ...(o.onLog ? { onLog: (l: string) => o.onLog!(this.redact(l)) } : {}) });
  }

  newMarketData(): MarketDataClient {
    return polymarketMarketData(this.config);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  async close(): Promise<void> {
    await this.admin?.close();
    this.admin = null;
  }
}
