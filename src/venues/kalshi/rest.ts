/**
 * Signed Kalshi REST requests (fetch with a timeout): every request carries KALSHI-ACCESS-KEY, -TIMESTAMP and
 * -SIGNATURE over timestamp + METHOD + path (the path from /trade-api/v2 on, no query). An answer is
 * {status, json}; a request that got no answer (refused, reset, timed out) throws `KalshiNoAnswer`, so callers
 * can tell "the venue said no" from "nobody knows". Cursor pages are followed by `pages`.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { KalshiCredentials } from './credentials.js';

export class KalshiNoAnswer extends Error {}

export interface KalshiAnswer {
  status: number;
  json: Record<string, unknown>;
  text: string;
}

export class KalshiRest {
  private readonly base: URL;

  constructor(restUrl: string, private readonly credentials: KalshiCredentials, private readonly timeoutMs = 5000) {
    this.base = new URL(restUrl.replace(/\/+$/, ''));
  }

  /** The full URL of a route (`/portfolio/orders`), query included. */
  url(route: string, query?: Record<string, string | number | undefined>): string {
    const u = new URL(this.base.toString() + route);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request(method: 'GET' | 'POST' | 'DELETE', route: string, o: { query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<KalshiAnswer> {
    const url = this.url(route, o.query);
    const headers: Record<string, string> = { ...this.credentials.sign(Date.now(), method, url), accept: 'application/json' };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new KalshiNoAnswer(`${method} ${new URL(url).pathname}: no answer (${e instanceof Error ? e.message : String(e)})`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new KalshiNoAnswer(`${method} ${new URL(url).pathname}: answer cut off (${e instanceof Error ? e.message : String(e)})`);
    }
    let json: Record<string, unknown> = {};
    if (text !== '') {
      try {
        const v = JSON.parse(text) as unknown;
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) json = v as Record<string, unknown>;
      } catch {
        if (res.status < 500) throw new TapedeckError('VENUE_ERROR', `Kalshi ${method} ${new URL(url).pathname}: answer ${res.status} is not JSON`);
      }
    }
    return { status: res.status, json, text };
  }

  /** A GET that must succeed (reads for queries and reconciliation). */
  async get(route: string, query?: Record<string, string | number | undefined>): Promise<Record<string, unknown>> {
    const a = await this.request('GET', route, query ? { query } : {});
    if (a.status !== 200) throw new TapedeckError('VENUE_QUERY', `Kalshi GET ${route}: ${a.status} ${errorText(a)}`);
    return a.json;
  }

  /** Every item of a cursor-paged list (`key` names the array), up to `maxPages` pages. */
  async pages(route: string, key: string, query: Record<string, string | number | undefined> = {}, maxPages = 1000): Promise<unknown[]> {
    const out: unknown[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < maxPages; i++) {
      const j = await this.get(route, { ...query, limit: 200, cursor });
      const items = j[key];
      if (!Array.isArray(items)) throw new TapedeckError('VENUE_QUERY', `Kalshi GET ${route}: no ${key} list in the answer`);
      out.push(...(items as unknown[]));
      cursor = typeof j.cursor === 'string' && j.cursor !== '' ? j.cursor : undefined;
      if (cursor === undefined) return out;
    }
    throw new TapedeckError('VENUE_QUERY', `Kalshi GET ${route}: more than ${maxPages} pages`);
  }
}

/** Kalshi's error body {error:{code, message}} as one line. */
export function errorText(a: KalshiAnswer): string {
  const e = a.json.error as { code?: unknown; message?: unknown } | undefined;
  if (e && typeof e === 'object') return `${String(e.code ?? '')}: ${String(e.message ?? '')}`.slice(0, 300);
  return a.text.slice(0, 300);
}

export function errorCode(a: KalshiAnswer): string | null {
  const e = a.json.error as { code?: unknown } | undefined;
  return e && typeof e.code === 'string' ? e.code : null;
}
