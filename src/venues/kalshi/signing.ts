/**
 * Kalshi Trade API v2 request signing (docs.kalshi.com "authenticated requests"; kalshi-typescript SDK):
 *
 *   KALSHI-ACCESS-SIGNATURE = base64(RSA-PSS(SHA-256, MGF1-SHA-256, salt 32 bytes)(utf8(
 *                               timestamp_ms + METHOD + path)))
 *
 * where `path` is the URL path from `/trade-api/v2` on, WITHOUT the query string (the websocket handshake
 * signs `GET/trade-api/ws/v2`). Headers KALSHI-ACCESS-KEY (the key id), KALSHI-ACCESS-TIMESTAMP (ms),
 * KALSHI-ACCESS-SIGNATURE. PSS is randomized: two signatures of one request differ, and only a verifier
 * with the account's public key can tell a good one (`verifyKalshiRequest`, what the simulated venue
 * runs). Keys are PEM (PKCS#1 or PKCS#8); errors name the key, never print it.
 */
import { constants, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { TapedeckError } from '../../../domain/core/errors.js';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

export type KalshiHeaders = {
  'KALSHI-ACCESS-KEY': string;
  'KALSHI-ACCESS-TIMESTAMP': string;
  'KALSHI-ACCESS-SIGNATURE': string;
};

/** The path a request signs: its path without query string or fragment (a full URL is accepted). */
export function signedPath(pathOrUrl: string): string {
  const path = /^[a-z]+:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl).pathname : pathOrUrl.replace(/[?#].*$/s, '');
  if (!path.startsWith('/')) throw new TapedeckError('KALSHI_REQUEST', `Kalshi request path "${path}" does not start with /`, { field: 'path' });
  return path;
}

/** The message a request signs: timestamp_ms + METHOD + path (no query). */
export function kalshiMessage(timestampMs: bigint | number, method: string, pathOrUrl: string): string {
  const m = method.toUpperCase();
  if (!METHODS.has(m)) throw new TapedeckError('KALSHI_REQUEST', `Kalshi request method "${method}" is not one of ${[...METHODS].join(', ')}`, { field: 'method' });
  return `${BigInt(timestampMs)}${m}${signedPath(pathOrUrl)}`;
}

/** An RSA private key from PEM; the error never repeats the key. */
export function kalshiPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new TapedeckError('KALSHI_KEY', 'the Kalshi private key is not a PEM private key (KALSHI_PRIVATE_KEY_PATH)', { field: 'KALSHI_PRIVATE_KEY_PATH' });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TapedeckError('KALSHI_KEY', `the Kalshi private key is ${key.asymmetricKeyType ?? 'not'} an RSA key`, { field: 'KALSHI_PRIVATE_KEY_PATH' });
  return key;
}

export function kalshiPublicKey(pem: string | KeyObject): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not rsa');
    return key;
  } catch {
    throw new TapedeckError('KALSHI_KEY', 'the Kalshi public key is not an RSA public key in PEM', { field: 'publicKey' });
  }
}

/** The three headers of a signed request. */
export function signKalshiRequest(keyId: string, privateKey: KeyObject, timestampMs: bigint | number, method: string, pathOrUrl: string): KalshiHeaders {
  const message = kalshiMessage(timestampMs, method, pathOrUrl);
  const signature = sign('sha256', Buffer.from(message, 'utf8'), { key: privateKey, ...PSS }).toString('base64');
  return { 'KALSHI-ACCESS-KEY': keyId, 'KALSHI-ACCESS-TIMESTAMP': String(BigInt(timestampMs)), 'KALSHI-ACCESS-SIGNATURE': signature };
}

export type KalshiVerdict =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'missing-headers' | 'unknown-key' | 'bad-timestamp' | 'stale' | 'bad-signature' };

/**
 * Server side (the simulated venue): does this request carry a valid signature by the key registered
 * under its key id, within `maxSkewMs` of `nowMs`? Header names are matched case-insensitively.
 */
export function verifyKalshiRequest(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string,
  pathOrUrl: string,
  publicKeys: ReadonlyMap<string, KeyObject>,
  nowMs: bigint,
  maxSkewMs = 30_000n,
): KalshiVerdict {
  const h = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name.toLowerCase()) return Array.isArray(v) ? v[0] : v;
    return undefined;
  };
  const keyId = h('KALSHI-ACCESS-KEY');
  const ts = h('KALSHI-ACCESS-TIMESTAMP');
  const sig = h('KALSHI-ACCESS-SIGNATURE');
  if (keyId === undefined || ts === undefined || sig === undefined) return { ok: false, reason: 'missing-headers' };
  const key = publicKeys.get(keyId);
  if (key === undefined) return { ok: false, reason: 'unknown-key' };
  if (!/^\d{1,16}$/.test(ts)) return { ok: false, reason: 'bad-timestamp' };
  const t = BigInt(ts);
  if (t > nowMs + maxSkewMs || t < nowMs - maxSkewMs) return { ok: false, reason: 'stale' };
  let message: string;
  try {
    message = kalshiMessage(t, method, pathOrUrl);
  } catch {
    return { ok: false, reason: 'bad-signature' };
  }
  const good = /^[A-Za-z0-9+/]+={0,2}$/.test(sig) && verify('sha256', Buffer.from(message, 'utf8'), { key, ...PSS }, Buffer.from(sig, 'base64'));
  return good ? { ok: true, keyId } : { ok: false, reason: 'bad-signature' };
}
