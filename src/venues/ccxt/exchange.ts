/**
 * Building a ccxt exchange for tapedeck: credentials from the environment (or a secrets file), every API
 * URL pointed at `--base-url` when one is given (a simulated venue on loopback, a testnet), production
 * endpoints only with `--confirm-live`, and a redactor that removes the credentials from any text.
 *
 * ccxt's `urls.api` is a nested object (Binance: public, private, sapi, fapi..., and ws: spot, ws-api...):
 * every https:// and wss:// URL in it is rewritten, so no call escapes to the real host.
 */
import fs from 'node:fs';
import ccxt from 'ccxt';
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatIssues } from '../../../domain/events/envelope.js';

export interface Credentials {
  apiKey: string;
  secret: string;
  password?: string;
}

const secretsFileSchema = z.record(z.string(), z.object({ apiKey: z.string().min(1), secret: z.string().min(1), password: z.string().min(1).optional() }).strict());

/**
 * `<VENUE>_API_KEY`, `<VENUE>_API_SECRET` and `<VENUE>_API_PASSWORD` from the environment, or the venue's
 * entry in a secrets file ({"binance": {"apiKey", "secret", "password"?}}). Errors never carry the values.
 */
export function loadCredentials(venueId: string, env: NodeJS.ProcessEnv = process.env, secretsFile?: string): Credentials {
  const prefix = venueId.toUpperCase();
  if (secretsFile !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(secretsFile, 'utf8'));
    } catch (e) {
      throw new TapedeckError('CREDENTIALS', (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'secrets file not found' : 'secrets file is not valid JSON', { file: secretsFile });
    }
    const r = secretsFileSchema.safeParse(raw);
    if (!r.success) throw new TapedeckError('CREDENTIALS', `secrets file: ${formatIssues(r.error).field} is invalid (values not shown)`, { file: secretsFile });
    const c = r.data[venueId.toLowerCase()];
    if (c === undefined) throw new TapedeckError('CREDENTIALS', `secrets file has no "${venueId.toLowerCase()}" entry`, { file: secretsFile });
    return c;
  }
  const apiKey = env[`${prefix}_API_KEY`];
  const secret = env[`${prefix}_API_SECRET`];
  if (!apiKey || !secret) throw new TapedeckError('CREDENTIALS', `${prefix}_API_KEY and ${prefix}_API_SECRET must be set in the environment (or give a secrets file)`, { field: 'env' });
  const password = env[`${prefix}_API_PASSWORD`];
  return { apiKey, secret, ...(password ? { password } : {}) };
}

/** Replaces every occurrence of the credentials (and their URL-encoded forms) in a text. */
export function makeRedactor(c: Credentials): (text: string) => string {
  const needles = [c.apiKey, c.secret, c.password].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const all = [...new Set(needles.flatMap((s) => [s, encodeURIComponent(s)]))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const n of all) if (out.includes(n)) out = out.split(n).join('[redacted]');
    return out;
  };
}

/** Walks a nested URL object and rewrites each https/wss URL's origin to the given bases. */
export function rewriteUrls(api: unknown, rest: URL, ws: URL): unknown {
  if (typeof api === 'string') {
    if (api.startsWith('https://') || api.startsWith('http://')) {
      const u = new URL(api);
      return `${rest.origin}${u.pathname === '/' ? '' : u.pathname}`;
    }
    if (api.startsWith('wss://') || api.startsWith('ws://')) {
      const u = new URL(api);
      return `${ws.protocol}//${ws.host}${u.pathname === '/' ? '' : u.pathname}`;
    }
    return api;
  }
  if (Array.isArray(api)) return api.map((v) => rewriteUrls(v, rest, ws));
  if (api !== null && typeof api === 'object') return Object.fromEntries(Object.entries(api).map(([k, v]) => [k, rewriteUrls(v, rest, ws)]));
  return api;
}

export interface ExchangeOptions {
  /** ccxt exchange id: binance, coinbase, kraken, okx, bybit... */
  id: string;
  credentials?: Credentials;
  /** REST base (http://127.0.0.1:N for the simulator); the websocket base is derived unless given. */
  baseUrl?: string;
  wsUrl?: string;
  /** Required to trade on production endpoints (no base URL, no sandbox). */
  confirmLive?: boolean;
  /** Use the exchange's testnet (ccxt sandbox mode), e.g. Binance spot testnet. */
  sandbox?: boolean;
  timeoutMs?: number;
}

export type CcxtExchange = any;

/** A ccxt pro exchange (REST and WebSocket), configured for tapedeck. */
export async function makeExchange(o: ExchangeOptions): Promise<CcxtExchange> {
  const pro = (ccxt as unknown as { pro: Record<string, new (c: unknown) => CcxtExchange> }).pro;
  const Klass = pro[o.id];
  if (Klass === undefined) throw new TapedeckError('USAGE', `ccxt has no exchange "${o.id}"`, { field: '--venue' });
  if (o.baseUrl === undefined && !o.sandbox && !o.confirmLive) {
    throw new TapedeckError('CONFIRM_LIVE', `trading on ${o.id}'s production endpoints needs --confirm-live (or give --base-url for a simulated venue, or a testnet in the config)`, { field: '--confirm-live' });
  }
  const ex = new Klass({
    enableRateLimit: true,
    timeout: o.timeoutMs ?? 10_000,
    ...(o.credentials ? { apiKey: o.credentials.apiKey, secret: o.credentials.secret, ...(o.credentials.password ? { password: o.credentials.password } : {}) } : {}),
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      fetchCurrencies: false,
      fetchMargins: false,
      warnOnFetchOpenOrdersWithoutSymbol: false,
      newOrderRespType: { market: 'FULL', limit: 'FULL' },
    },
  });
  if (o.sandbox) ex.setSandboxMode(true);
  if (o.baseUrl !== undefined) {
    let rest: URL;
    try {
      rest = new URL(o.baseUrl);
    } catch {
      throw new TapedeckError('USAGE', `--base-url is not a URL: ${o.baseUrl}`, { field: '--base-url' });
    }
    const ws = new URL(o.wsUrl ?? o.baseUrl.replace(/^http/, 'ws'));
    ex.urls.api = rewriteUrls(ex.urls.api, rest, ws);
    if (ex.urls.test) ex.urls.test = rewriteUrls(ex.urls.test, rest, ws);
    if (ws.protocol === 'ws:') await ex.loadHttpProxyAgent();
  }
  return ex;
}
