/**
 * Polymarket in the venue registry: its config (strict keys, public defaults) and its credentials from
 * the environment, which never print.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../../domain/core/errors.js';
import { getVenue, parseVenueConfig, venueOfUrl } from '../../../src/venues/registry.js';
import { polymarketCredentials } from '../../../src/venues/polymarket/credentials.js';

// Hardhat/Anvil account #0: publicly known, never funded (test/fixtures/datasets/polymarket/vectors.json).
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

function error(fn: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    fn();
  } catch (e) {
    if (isTapedeckError(e)) return { code: e.code, field: e.where?.field, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('Polymarket in the registry', () => {
  it('is registered, owns polymarket.com hosts, and fills the public endpoints by default', () => {
    const v = getVenue('polymarket');
    expect(v.id).toBe('POLYMARKET');
    expect(venueOfUrl('wss://ws-subscriptions-clob.polymarket.com/ws/market')?.id).toBe('POLYMARKET');
    expect(venueOfUrl('https://clob.polymarket.com/order')?.id).toBe('POLYMARKET');
    expect(venueOfUrl('https://polymarket.com.evil.test')).toBeNull();
    expect(parseVenueConfig(v, {})).toMatchObject({ restUrl: 'https://clob.polymarket.com', chainId: 137, orderVersion: 1, signatureType: 0, tokens: [] });
  });

  it('refuses unknown keys (a private key put in the config included), bad ids and a v1 order with POLY_1271', () => {
    const v = getVenue('POLYMARKET');
    const extra = error(() => parseVenueConfig(v, { privateKey: KEY }));
    expect(extra.code).toBe('VENUE_CONFIG');
    expect(extra.message).not.toContain(KEY.slice(2));
    expect(error(() => parseVenueConfig(v, { tokens: ['0xabc'] })).field).toBe('POLYMARKET.tokens.0');
    expect(error(() => parseVenueConfig(v, { chainId: 1 })).field).toBe('POLYMARKET.chainId');
    expect(error(() => parseVenueConfig(v, { signatureType: 3 })).field).toBe('POLYMARKET.signatureType');
    expect(parseVenueConfig(v, { signatureType: 3, orderVersion: 2 })).toMatchObject({ signatureType: 3, orderVersion: 2 });
  });
});

describe('Polymarket credentials', () => {
  const env = {
    POLYMARKET_PRIVATE_KEY: KEY,
    POLYMARKET_API_KEY: '000000000-0000-0000-0000-000000000000',
    POLYMARKET_API_SECRET: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    POLYMARKET_API_PASSPHRASE: 'pass-phrase-value',
  };

  it('come from the environment and give the signer address', () => {
    const c = polymarketCredentials(env);
    expect(c.address).toBe(ADDRESS);
    expect(c.privateKey()).toBe(KEY);
    expect(c.apiCreds()).toEqual({ key: env.POLYMARKET_API_KEY, secret: env.POLYMARKET_API_SECRET, passphrase: env.POLYMARKET_API_PASSPHRASE });
    expect(polymarketCredentials({ POLYMARKET_PRIVATE_KEY: KEY }).apiCreds()).toBeNull();
  });

  it('never print a secret: JSON, inspect, string and template forms are redacted', () => {
    const c = polymarketCredentials(env);
    for (const text of [JSON.stringify(c), inspect(c, { depth: 10, showHidden: true }), String(c), `${c}`, JSON.stringify({ nested: { c } })]) {
      expect(text).toContain(ADDRESS);
      expect(text).not.toContain(KEY.slice(2));
      expect(text).not.toContain(env.POLYMARKET_API_SECRET);
      expect(text).not.toContain(env.POLYMARKET_API_PASSPHRASE);
    }
  });

  it('a missing or malformed key, or partial API creds, is one clear error naming the variable, never the value', () => {
    expect(error(() => polymarketCredentials({}))).toMatchObject({ code: 'VENUE_CREDENTIALS', field: 'POLYMARKET_PRIVATE_KEY' });
    const bad = error(() => polymarketCredentials({ POLYMARKET_PRIVATE_KEY: '0x1234zz' }));
    expect(bad).toMatchObject({ code: 'POLYMARKET_KEY', field: 'POLYMARKET_PRIVATE_KEY' });
    expect(bad.message).not.toContain('1234zz');
    expect(error(() => polymarketCredentials({ POLYMARKET_PRIVATE_KEY: KEY, POLYMARKET_API_KEY: 'k' }))).toMatchObject({ code: 'VENUE_CREDENTIALS', field: 'POLYMARKET_API_KEY' });
  });
});
