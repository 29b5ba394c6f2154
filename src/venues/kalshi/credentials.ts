/**
 * Kalshi credentials from the shell's environment: KALSHI_API_KEY_ID (the key id, sent in every request) and
 * KALSHI_PRIVATE_KEY_PATH (the RSA private key in PEM, which signs). The same two variables serve `tapedeck
 * live` and `tapedeck sim-venue kalshi` (which derives the account's public key from the private key to verify
 * signatures). The key is never in the venue config, never stored, never logged: the record prints redacted,
 * errors name the variable, never the key.
 */
import fs from 'node:fs';
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { TapedeckError } from '../../../domain/core/errors.js';
import { kalshiPrivateKey, kalshiPublicKey, signKalshiRequest, type KalshiHeaders } from './signing.js';

const SECRET = Symbol('kalshi-secret');

export class KalshiCredentials {
  private readonly [SECRET]: KeyObject;
  readonly keyId: string;

  constructor(keyId: string, privateKey: KeyObject) {
    this.keyId = keyId;
    this[SECRET] = privateKey;
  }

  /** The account's public key (what the venue holds). */
  publicKey(): KeyObject {
    return kalshiPublicKey(this[SECRET]);
  }

  sign(timestampMs: bigint | number, method: string, path: string): KalshiHeaders {
    return signKalshiRequest(this.keyId, this[SECRET], timestampMs, method, path);
  }

  toJSON(): Record<string, string> {
    return { keyId: this.keyId, privateKey: '[redacted]' };
  }

  toString(): string {
    return `KalshiCredentials(${this.keyId}, [redacted])`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Reads the credentials from `env` (process.env in the shell; a record in tests). */
export function kalshiCredentials(env: Readonly<Record<string, string | undefined>>): KalshiCredentials {
  const keyId = env.KALSHI_API_KEY_ID;
  const path = env.KALSHI_PRIVATE_KEY_PATH;
  if (keyId === undefined || keyId === '') throw new TapedeckError('VENUE_CREDENTIALS', 'Kalshi needs KALSHI_API_KEY_ID in the environment', { field: 'KALSHI_API_KEY_ID' });
  if (path === undefined || path === '') throw new TapedeckError('VENUE_CREDENTIALS', 'Kalshi needs KALSHI_PRIVATE_KEY_PATH in the environment (a PEM RSA private key file)', { field: 'KALSHI_PRIVATE_KEY_PATH' });
  let pem: string;
  try {
    pem = fs.readFileSync(path, 'utf8');
  } catch {
    throw new TapedeckError('VENUE_CREDENTIALS', `KALSHI_PRIVATE_KEY_PATH: cannot read ${path}`, { field: 'KALSHI_PRIVATE_KEY_PATH', file: path });
  }
  return new KalshiCredentials(keyId, kalshiPrivateKey(pem));
}
