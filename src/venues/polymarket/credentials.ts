/**
 * Polymarket credentials from the shell's environment: POLYMARKET_PRIVATE_KEY (the signer), and the L2
 * API credentials derived from it (POLYMARKET_API_KEY, POLYMARKET_API_SECRET, POLYMARKET_API_PASSPHRASE)
 * when present. Never in the venue config, never stored, never logged: the record prints as redacted
 * (JSON, util.inspect, String), and errors name the variable, never its value.
 */
import { inspect } from 'node:util';
import { TapedeckError } from '../../../domain/core/errors.js';
import type { ApiCreds } from './auth.js';
import { signingWallet } from './signing.js';

const SECRET = Symbol('polymarket-secret');

export class PolymarketCredentials {
  private readonly [SECRET]: { privateKey: string; api: ApiCreds | null };
  /** The signer's address (public). */
  readonly address: string;

  constructor(privateKey: string, api: ApiCreds | null) {
    this.address = signingWallet(privateKey).address;
    this[SECRET] = { privateKey, api };
  }

  /** For the signing code only. */
  privateKey(): string {
    return this[SECRET].privateKey;
  }

  apiCreds(): ApiCreds | null {
    return this[SECRET].api;
  }

  toJSON(): Record<string, string> {
    return { address: this.address, privateKey: '[redacted]', api: this[SECRET].api === null ? 'none' : '[redacted]' };
  }

  toString(): string {
    return `PolymarketCredentials(${this.address}, [redacted])`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Reads the credentials from `env` (process.env in the shell; a record in tests and the simulator). */
export function polymarketCredentials(env: Readonly<Record<string, string | undefined>>): PolymarketCredentials {
  const key = env.POLYMARKET_PRIVATE_KEY;
  if (key === undefined || key === '') {
    throw new TapedeckError('VENUE_CREDENTIALS', 'Polymarket needs POLYMARKET_PRIVATE_KEY in the environment', { field: 'POLYMARKET_PRIVATE_KEY' });
  }
  const api = [env.POLYMARKET_API_KEY, env.POLYMARKET_API_SECRET, env.POLYMARKET_API_PASSPHRASE];
  const present = api.filter((v) => v !== undefined && v !== '').length;
  if (present !== 0 && present !== 3) {
    throw new TapedeckError('VENUE_CREDENTIALS', 'Polymarket API credentials need all three of POLYMARKET_API_KEY, POLYMARKET_API_SECRET and POLYMARKET_API_PASSPHRASE, or none', { field: 'POLYMARKET_API_KEY' });
  }
  return new PolymarketCredentials(key, present === 3 ? { key: api[0]!, secret: api[1]!, passphrase: api[2]! } : null);
}
