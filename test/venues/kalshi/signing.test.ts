/**
 * Kalshi request signing (RSA-PSS SHA-256, MGF1 SHA-256, salt 32) and its verifier. PSS is randomized,
 * so there is no fixed vector (test/fixtures/datasets/signatures/vectors.json kalshi_rsa_pss): keys are
 * generated here, and a signature is checked by verification, independently with node:crypto's
 * low-level verify as well.
 */
import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../../domain/core/errors.js';
import {
  kalshiMessage, kalshiPrivateKey, kalshiPublicKey, signKalshiRequest, signedPath, verifyKalshiRequest,
} from '../../../src/venues/kalshi/signing.js';

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ours = pair();
const other = pair();
const NOW = 1703123456789n;

describe('Kalshi request signing', () => {
  it('signs timestamp + METHOD + path, the path without its query (the documented example message)', () => {
    expect(kalshiMessage(NOW, 'get', '/trade-api/v2/portfolio/balance')).toBe('1703123456789GET/trade-api/v2/portfolio/balance');
    expect(signedPath('/trade-api/v2/portfolio/orders?limit=5')).toBe('/trade-api/v2/portfolio/orders');
    expect(signedPath('https://api.elections.kalshi.com/trade-api/v2/portfolio/fills?cursor=abc#x')).toBe('/trade-api/v2/portfolio/fills');
    expect(kalshiMessage(NOW, 'GET', '/trade-api/ws/v2')).toBe('1703123456789GET/trade-api/ws/v2');
  });

  it('makes the three headers; the signature is RSA-PSS SHA-256 with salt 32 over that message (checked by node:crypto directly)', () => {
    const h = signKalshiRequest('key-1', kalshiPrivateKey(ours.privateKey), NOW, 'POST', '/trade-api/v2/portfolio/events/orders?x=1');
    expect(h['KALSHI-ACCESS-KEY']).toBe('key-1');
    expect(h['KALSHI-ACCESS-TIMESTAMP']).toBe('1703123456789');
    const sig = Buffer.from(h['KALSHI-ACCESS-SIGNATURE'], 'base64');
    expect(sig.length).toBe(256);
    const msg = Buffer.from('1703123456789POST/trade-api/v2/portfolio/events/orders');
    expect(verify('sha256', msg, { key: ours.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)).toBe(true);
    // Randomized: signing again gives other bytes that verify too.
    const again = signKalshiRequest('key-1', kalshiPrivateKey(ours.privateKey), NOW, 'POST', '/trade-api/v2/portfolio/events/orders');
    expect(again['KALSHI-ACCESS-SIGNATURE']).not.toBe(h['KALSHI-ACCESS-SIGNATURE']);
  });
});

describe('Kalshi request verifier (what the simulated venue runs)', () => {
  const keys = new Map([['key-1', kalshiPublicKey(ours.publicKey)]]);
  const path = '/trade-api/v2/portfolio/orders';
  const signed = (key = ours.privateKey, id = 'key-1', ts = NOW) => signKalshiRequest(id, kalshiPrivateKey(key), ts, 'GET', `${path}?limit=5`);

  it('accepts a request signed by the registered key, query string or not, header names in any case', () => {
    expect(verifyKalshiRequest(signed(), 'GET', `${path}?status=resting`, keys, NOW)).toEqual({ ok: true, keyId: 'key-1' });
    const lower = Object.fromEntries(Object.entries(signed()).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyKalshiRequest(lower, 'GET', path, keys, NOW + 1_000n)).toEqual({ ok: true, keyId: 'key-1' });
  });

  it('refuses a request signed with the wrong key under our key id', () => {
    expect(verifyKalshiRequest(signed(other.privateKey), 'GET', path, keys, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a changed method, path or timestamp, an unknown key id, missing headers and a stale timestamp', () => {
    const h = signed();
    expect(verifyKalshiRequest(h, 'DELETE', path, keys, NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyKalshiRequest(h, 'GET', '/trade-api/v2/portfolio/fills', keys, NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyKalshiRequest({ ...h, 'KALSHI-ACCESS-TIMESTAMP': String(NOW + 1n) }, 'GET', path, keys, NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyKalshiRequest(signed(ours.privateKey, 'key-2'), 'GET', path, keys, NOW)).toMatchObject({ ok: false, reason: 'unknown-key' });
    const { 'KALSHI-ACCESS-SIGNATURE': _drop, ...unsigned } = h;
    expect(verifyKalshiRequest(unsigned, 'GET', path, keys, NOW)).toMatchObject({ ok: false, reason: 'missing-headers' });
    expect(verifyKalshiRequest(h, 'GET', path, keys, NOW + 60_000n)).toMatchObject({ ok: false, reason: 'stale' });
    expect(verifyKalshiRequest({ ...h, 'KALSHI-ACCESS-SIGNATURE': 'not base64!' }, 'GET', path, keys, NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('a malformed private key is one clear error that does not repeat the key', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAsecretsecret\n-----END PRIVATE KEY-----';
    try {
      kalshiPrivateKey(pem);
      expect.unreachable();
    } catch (e) {
      expect(isTapedeckError(e) && e.code).toBe('KALSHI_KEY');
      expect((e as Error).message).not.toContain('secretsecret');
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(() => kalshiPrivateKey(ec.privateKey)).toThrow(/not an RSA key|is ec an RSA key/);
  });
});
