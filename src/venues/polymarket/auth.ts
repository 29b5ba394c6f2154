/**
 * Polymarket CLOB authentication (clob-client src/signing, src/headers).
 *
 * L1 (creating or deriving API keys): an EIP-712 `ClobAuth` signature under the domain
 * {name "ClobAuthDomain", version "1", chainId} — no verifyingContract — over
 * {address, timestamp (a string of unix seconds), nonce (uint256), message (fixed text)}.
 * Headers POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_NONCE.
 *
 * L2 (every private REST route): HMAC-SHA256 keyed with the base64url-decoded API secret over
 * `timestamp + METHOD + requestPath + body` (body omitted when empty), the result base64url-encoded with
 * its '=' padding. Headers POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_API_KEY, POLY_PASSPHRASE.
 *
 * Divergence, on purpose: clob-client (Node's lenient base64) silently ignores characters outside the
 * base64 alphabets in the secret; py-clob-client refuses them. We refuse them (a mangled secret is a
 * configuration error, not something to sign with).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TypedDataEncoder, verifyTypedData } from 'ethers';
import type { TypedDataField } from 'ethers';
import { TapedeckError } from '../../../domain/core/errors.js';
import { signingWallet } from './signing.js';

export const CLOB_AUTH_MESSAGE = 'This message attests that I control the given wallet';

export const CLOB_AUTH_TYPES: Record<string, TypedDataField[]> = {
  ClobAuth: [
    { name: 'address', type: 'address' },
    { name: 'timestamp', type: 'string' },
    { name: 'nonce', type: 'uint256' },
    { name: 'message', type: 'string' },
  ],
};

export function clobAuthDomain(chainId: number): { name: string; version: string; chainId: number } {
  return { name: 'ClobAuthDomain', version: '1', chainId };
}

export interface ClobAuthValue {
  address: string;
  timestamp: string;
  nonce: number | bigint;
  message: string;
}

export function clobAuthValue(address: string, timestampS: number | bigint, nonce: number | bigint = 0): ClobAuthValue {
  return { address, timestamp: String(timestampS), nonce, message: CLOB_AUTH_MESSAGE };
}

export function clobAuthDigest(chainId: number, value: ClobAuthValue): string {
  return TypedDataEncoder.hash(clobAuthDomain(chainId), CLOB_AUTH_TYPES, value as unknown as Record<string, unknown>);
}

/** The ClobAuth signature (deterministic). */
export function signClobAuth(privateKey: string, chainId: number, timestampS: number | bigint, nonce: number | bigint = 0): string {
  const wallet = signingWallet(privateKey);
  const digest = clobAuthDigest(chainId, clobAuthValue(wallet.address, timestampS, nonce));
  return wallet.signingKey.sign(digest).serialized;
}

export interface L1Headers {
  POLY_ADDRESS: string;
  POLY_SIGNATURE: string;
  POLY_TIMESTAMP: string;
  POLY_NONCE: string;
}

export function l1Headers(privateKey: string, chainId: number, timestampS: number | bigint, nonce: number | bigint = 0): L1Headers {
  const address = signingWallet(privateKey).address;
  return {
    POLY_ADDRESS: address,
    POLY_SIGNATURE: signClobAuth(privateKey, chainId, timestampS, nonce),
    POLY_TIMESTAMP: String(timestampS),
    POLY_NONCE: String(nonce),
  };
}

/** The address whose key made these L1 headers' signature, or null when it is not a signature at all. */
export function recoverClobAuthSigner(chainId: number, headers: L1Headers): string | null {
  try {
    const value = { address: headers.POLY_ADDRESS, timestamp: headers.POLY_TIMESTAMP, nonce: BigInt(headers.POLY_NONCE), message: CLOB_AUTH_MESSAGE };
    return verifyTypedData(clobAuthDomain(chainId), CLOB_AUTH_TYPES, value, headers.POLY_SIGNATURE);
  } catch {
    return null;
  }
}

/** The API secret's key bytes: base64 or base64url, padding optional; any other character is refused. */
export function decodeApiSecret(secret: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(secret)) {
    throw new TapedeckError('POLYMARKET_SECRET', 'the Polymarket API secret is not base64 or base64url', { field: 'POLYMARKET_API_SECRET' });
  }
  return Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The L2 HMAC signature, base64url with padding kept (as clob-client). */
export function l2Signature(secret: string, timestampS: string, method: string, requestPath: string, body?: string): string {
  const message = `${timestampS}${method}${requestPath}${body ?? ''}`;
  return createHmac('sha256', decodeApiSecret(secret)).update(message, 'utf8').digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export interface ApiCreds {
  key: string;
  secret: string;
  passphrase: string;
}

export interface L2Headers {
  POLY_ADDRESS: string;
  POLY_SIGNATURE: string;
  POLY_TIMESTAMP: string;
  POLY_API_KEY: string;
  POLY_PASSPHRASE: string;
}

export function l2Headers(address: string, creds: ApiCreds, timestampS: number | bigint, method: string, requestPath: string, body?: string): L2Headers {
  const ts = String(timestampS);
  return {
    POLY_ADDRESS: address,
    POLY_SIGNATURE: l2Signature(creds.secret, ts, method, requestPath, body),
    POLY_TIMESTAMP: ts,
    POLY_API_KEY: creds.key,
    POLY_PASSPHRASE: creds.passphrase,
  };
}

/** Server side (the simulated venue): do these L2 headers sign this request with these creds? Constant-time compare. */
export function verifyL2(headers: L2Headers, creds: ApiCreds, method: string, requestPath: string, body?: string): boolean {
  if (headers.POLY_API_KEY !== creds.key || headers.POLY_PASSPHRASE !== creds.passphrase) return false;
  const expected = Buffer.from(l2Signature(creds.secret, headers.POLY_TIMESTAMP, method, requestPath, body));
  const got = Buffer.from(headers.POLY_SIGNATURE);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
