/**
 * Alpaca credentials from the shell's environment: ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY, shared by
 * `tapedeck live` and `tapedeck sim-venue alpaca` (the account the simulator accepts). Never in the venue
 * config, never stored, never logged: the record prints redacted, errors name the variable, never its value,
 * and `redact` removes both values from any text before it is logged or recorded.
 */
import { inspect } from 'node:util';
import { TapedeckError } from '../../../domain/core/errors.js';

const SECRET = Symbol('alpaca-secret');

export class AlpacaCredentials {
  private readonly [SECRET]: { keyId: string; secretKey: string };

  constructor(keyId: string, secretKey: string) {
    this[SECRET] = { keyId, secretKey };
  }

  /** The two request headers Alpaca authenticates by. */
  headers(): Record<string, string> {
    return { 'APCA-API-KEY-ID': this[SECRET].keyId, 'APCA-API-SECRET-KEY': this[SECRET].secretKey };
  }

  /** The streams' auth message ({action: auth, key, secret}). */
  authMessage(): string {
    return JSON.stringify({ action: 'auth', key: this[SECRET].keyId, secret: this[SECRET].secretKey });
  }

  /** The simulator's check: these exact values. */
  matches(keyId: string | undefined, secretKey: string | undefined): 'ok' | 'missing' | 'wrong' {
    if (keyId === undefined || keyId === '' || secretKey === undefined || secretKey === '') return 'missing';
    return keyId === this[SECRET].keyId && secretKey === this[SECRET].secretKey ? 'ok' : 'wrong';
  }

  /** Replaces both values (and their URL-encoded forms) in a text. */
  redact(text: string): string {
    let out = text;
    for (const v of [this[SECRET].secretKey, this[SECRET].keyId]) {
      if (v.length < 4) continue;
      for (const n of new Set([v, encodeURIComponent(v)])) if (out.includes(n)) out = out.split(n).join('[redacted]');
    }
    return out;
  }

  toJSON(): Record<string, string> {
    return { keyId: '[redacted]', secretKey: '[redacted]' };
  }

  toString(): string {
    return 'AlpacaCredentials([redacted])';
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Reads the credentials from `env` (process.env in the shell; a record in tests). */
export function alpacaCredentials(env: Readonly<Record<string, string | undefined>>): AlpacaCredentials {
  const keyId = env.ALPACA_API_KEY_ID;
  const secretKey = env.ALPACA_API_SECRET_KEY;
  if (!keyId) throw new TapedeckError('CREDENTIALS', 'Alpaca needs ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY in the environment', { field: 'ALPACA_API_KEY_ID' });
  if (!secretKey) throw new TapedeckError('CREDENTIALS', 'Alpaca needs ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY in the environment', { field: 'ALPACA_API_SECRET_KEY' });
  return new AlpacaCredentials(keyId, secretKey);
}
