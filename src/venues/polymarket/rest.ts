/**
 * Polymarket CLOB REST, as the execution client needs it: L1 to create or derive the API credentials,
 * L2 (HMAC headers, auth.ts) on every private route, cursor pagination to the end cursor "LTE=".
 *
 * Errors say whether the request certainly did not reach the venue (`VENUE_NOT_SENT`: the connection was
 * refused), was answered with a refusal (`PolymarketRefusal`, the venue's own words), or has an unknown
 * outcome (`VENUE_UNAVAILABLE`: reset, timeout, 5xx), which the caller must resolve by asking.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { l1Headers, l2Headers, type ApiCreds } from './auth.js';
import type { PolymarketCredentials } from './credentials.js';

export const END_CURSOR = 'LTE=';

/** The venue answered and refused (4xx): `reason` is its message. */
export class PolymarketRefusal extends Error {
  constructor(readonly status: number, readonly reason: string) {
    super(`Polymarket refused (${status}): ${reason}`);
  }
}

export interface RestOptions {
  baseUrl: string;
  chainId: number;
  credentials: PolymarketCredentials;
  timeoutMs?: number;
}

export class PolymarketRest {
  private api: ApiCreds | null;

  constructor(private readonly o: RestOptions) {
    this.api = o.credentials.apiCreds();
  }

  /** The L2 API credentials: from the environment, else derived from the key over L1 (created when none exist). */
  async apiCreds(): Promise<ApiCreds> {
    if (this.api !== null) return this.api;
    const ts = Math.floor(Date.now() / 1000);
    const headers = l1Headers(this.o.credentials.privateKey(), this.o.chainId, ts, 0);
    let r: unknown;
    try {
      r = await this.raw('GET', '/auth/derive-api-key', headers as unknown as Record<string, string>);
    } catch (e) {
      if (!(e instanceof PolymarketRefusal)) throw e;
      r = await this.raw('POST', '/auth/api-key', l1Headers(this.o.credentials.privateKey(), this.o.chainId, ts, 0) as unknown as Record<string, string>);
    }
    const c = r as { apiKey?: unknown; secret?: unknown; passphrase?: unknown };
    if (typeof c.apiKey !== 'string' || typeof c.secret !== 'string' || typeof c.passphrase !== 'string') {
      throw new TapedeckError('VENUE_CREDENTIALS', 'Polymarket did not return API credentials for this key', { field: 'POLYMARKET_PRIVATE_KEY' });
    }
    this.api = { key: c.apiKey, secret: c.secret, passphrase: c.passphrase };
    return this.api;
  }

  /** A private route with L2 headers (the path is signed without its query, as clob-client does). */
  async private(method: 'GET' | 'POST' | 'DELETE', path: string, o: { query?: Record<string, string>; body?: unknown } = {}): Promise<unknown> {
    const api = await this.apiCreds();
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers = l2Headers(this.o.credentials.address, api, Math.floor(Date.now() / 1000), method, path, body);
    const q = o.query === undefined ? '' : `?${new URLSearchParams(o.query).toString()}`;
    return this.raw(method, `${path}${q}`, headers as unknown as Record<string, string>, body);
  }

  /** Every page of a cursor-paginated listing. */
  async all(path: string, query: Record<string, string>): Promise<unknown[]> {
    const out: unknown[] = [];
    let cursor = 'MA==';
    for (let pages = 0; pages < 10_000; pages++) {
      const r = (await this.private('GET', path, { query: { ...query, next_cursor: cursor } })) as { data?: unknown; next_cursor?: unknown };
      if (!Array.isArray(r.data) || typeof r.next_cursor !== 'string') throw new TapedeckError('VENUE_ERROR', `Polymarket ${path}: a page without data or next_cursor`, { field: path });
      out.push(...r.data);
      if (r.next_cursor === END_CURSOR || r.data.length === 0) return out;
      cursor = r.next_cursor;
    }
    throw new TapedeckError('VENUE_ERROR', `Polymarket ${path}: more than 10,000 pages`, { field: path });
  }

  private async raw(method: string, pathAndQuery: string, headers: Record<string, string>, body?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.o.baseUrl.replace(/\/$/, '')}${pathAndQuery}`, {
        method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (code === 'ECONNREFUSED') throw new TapedeckError('VENUE_NOT_SENT', `Polymarket ${method} ${pathAndQuery.split('?')[0]}: connection refused`);
      throw new TapedeckError('VENUE_UNAVAILABLE', `Polymarket ${method} ${pathAndQuery.split('?')[0]}: ${code ?? (e instanceof Error ? e.message : String(e))}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new TapedeckError('VENUE_UNAVAILABLE', `Polymarket ${method} ${pathAndQuery.split('?')[0]}: the answer was cut (${e instanceof Error ? e.message : String(e)})`);
    }
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = text;
    }
    if (res.status >= 500) throw new TapedeckError('VENUE_UNAVAILABLE', `Polymarket ${method} ${pathAndQuery.split('?')[0]}: HTTP ${res.status}`);
    if (res.status >= 400) {
      const reason = (json as { error?: unknown; errorMsg?: unknown } | null)?.error ?? (json as { errorMsg?: unknown } | null)?.errorMsg ?? text;
      throw new PolymarketRefusal(res.status, String(reason).slice(0, 300));
    }
    return json;
  }
}
