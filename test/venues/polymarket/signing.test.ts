/**
 * Polymarket order signing, amounts and auth against test/fixtures/datasets/polymarket/vectors.json
 * (see PROVENANCE.md there): the v1 digests and signatures, the ClobAuth signature, the HMACs and the
 * 41 amount-rounding cases are upstream assertions; the v2/v3 digests and signatures were computed
 * independently with ethers, NOT asserted upstream, and the test names say so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { isTapedeckError } from '../../../domain/core/errors.js';
import {
  domainSeparator, exchangeDomain, orderHash, orderStructHash, recoverOrderSigner, signOrder,
} from '../../../src/venues/polymarket/signing.js';
import type { ExchangeDomain, OrderStruct, OrderV1, OrderV2 } from '../../../src/venues/polymarket/signing.js';
import { checkPrice, limitOrderAmounts, marketOrderAmounts } from '../../../src/venues/polymarket/amounts.js';
import {
  CLOB_AUTH_MESSAGE, clobAuthDigest, clobAuthValue, l1Headers, l2Headers, l2Signature, recoverClobAuthSigner, signClobAuth, verifyL2,
} from '../../../src/venues/polymarket/auth.js';
import { buildAndSign } from '../../../src/venues/polymarket/order.js';
import { repoRoot } from '../../helpers/tmp.js';

const V = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/datasets/polymarket/vectors.json'), 'utf8'));
const KEY: string = V.test_wallet.private_key;
const ADDRESS: string = V.test_wallet.address;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isTapedeckError(e) ? e.code : `not a TapedeckError: ${String(e)}`;
  }
  return 'no error';
}

describe('Polymarket v1 orders (upstream vectors)', () => {
  for (const c of V.eip712_order_v1.cases) {
    it(`${c.id}: digest, signature, domain separator and struct hash equal the upstream values`, () => {
      const domain = c.domain as ExchangeDomain;
      const s: OrderStruct = { version: 1, order: c.message as OrderV1 };
      expect(domainSeparator(domain)).toBe(c.derived_independently.domainSeparator);
      expect(orderStructHash(s)).toBe(c.derived_independently.structHash);
      expect(orderHash(domain, s)).toBe(c.upstream_expected.order_hash_eip712_digest);
      const signed = signOrder(KEY, domain, s);
      expect(signed.hash).toBe(c.upstream_expected.order_hash_eip712_digest);
      expect(signed.signature).toBe(c.upstream_expected.signature);
      expect(recoverOrderSigner(domain, s, signed.signature)).toBe(ADDRESS);
    });
  }

  it('the library domains are the vector domains (CTF and NegRisk exchange on Amoy)', () => {
    expect(exchangeDomain(80002, 1, false)).toEqual(V.eip712_order_v1.cases[0].domain);
    expect(exchangeDomain(80002, 1, true)).toEqual(V.eip712_order_v1.cases[1].domain);
  });

  it('building the vector order from amounts gives the upstream hash and signature', () => {
    const c = V.eip712_order_v1.cases[0];
    const signed = buildAndSign(KEY, {
      version: 1, chainId: 80002, negRisk: false, tokenId: '1234', salt: '479249096354', maker: ADDRESS, signer: ADDRESS,
      amounts: { side: 'BUY', makerAmount: 100000000n, takerAmount: 50000000n }, feeRateBps: '100',
    });
    expect(signed.hash).toBe(c.upstream_expected.order_hash_eip712_digest);
    expect(signed.signature).toBe(c.upstream_expected.signature);
  });

  it('a signature under the other exchange recovers another address, and a changed field changes the hash', () => {
    const [ctf, neg] = V.eip712_order_v1.cases;
    const s: OrderStruct = { version: 1, order: ctf.message as OrderV1 };
    expect(recoverOrderSigner(neg.domain, s, ctf.upstream_expected.signature)).not.toBe(ADDRESS);
    const changed: OrderStruct = { version: 1, order: { ...(ctf.message as OrderV1), makerAmount: '100000001' } };
    expect(orderHash(ctf.domain, changed)).not.toBe(ctf.upstream_expected.order_hash_eip712_digest);
  });

  it('refuses a struct whose version differs from the domain version', () => {
    const s: OrderStruct = { version: 1, order: V.eip712_order_v1.cases[0].message as OrderV1 };
    expect(code(() => orderHash(exchangeDomain(80002, 2, false), s))).toBe('POLYMARKET_ORDER_VERSION');
  });
});

describe('Polymarket v2/v3 orders (vectors computed independently with ethers, NOT upstream assertions)', () => {
  const v2 = V.eip712_order_v2_schema.derived_independently_NOT_UPSTREAM;
  const cases: [string, 2 | 3][] = [['v2_exchangeV2_amoy', 2], ['v3_exchangeV3_amoy', 3]];
  for (const [id, version] of cases) {
    it(`${id} (independent, not upstream): domain separator, struct hash, digest and signature`, () => {
      const c = v2[id];
      const s: OrderStruct = { version, order: v2.message as OrderV2 };
      expect(exchangeDomain(80002, version, false)).toEqual(c.domain);
      expect(domainSeparator(c.domain)).toBe(c.domainSeparator);
      expect(orderStructHash(s)).toBe(c.structHash);
      const signed = signOrder(KEY, c.domain, s);
      expect(signed.hash).toBe(c.digest);
      expect(signed.signature).toBe(c.signature);
      expect(recoverOrderSigner(c.domain, s, signed.signature)).toBe(ADDRESS);
    });
  }

  it('builds the v2 struct (timestamp, metadata, builder) from fields to the same digest (independent, not upstream)', () => {
    const signed = buildAndSign(KEY, {
      version: 2, chainId: 80002, negRisk: false, tokenId: '1234', salt: '479249096354', maker: ADDRESS, signer: ADDRESS,
      amounts: { side: 'BUY', makerAmount: 100000000n, takerAmount: 50000000n }, timestampMs: '1780449126930',
    });
    expect(signed.hash).toBe(v2.v2_exchangeV2_amoy.digest);
    expect(Object.keys(signed.order)).toEqual(V.eip712_order_v2_schema.Order.map((f: [string, string]) => f[0]));
  });

  it('a v2 signature does not verify as the v3 exchange (a wrong-version order recovers another signer)', () => {
    const s2: OrderStruct = { version: 2, order: v2.message as OrderV2 };
    const s3: OrderStruct = { version: 3, order: v2.message as OrderV2 };
    expect(recoverOrderSigner(v2.v3_exchangeV3_amoy.domain, s3, v2.v2_exchangeV2_amoy.signature)).not.toBe(ADDRESS);
    expect(recoverOrderSigner(v2.v2_exchangeV2_amoy.domain, s2, v2.v2_exchangeV2_amoy.signature)).toBe(ADDRESS);
  });
});

describe('order amounts per tick size (41 clob-client rounding vectors, exact integer arithmetic)', () => {
  const cases = V.order_amount_rounding_vectors.cases;
  it('has the 41 cases', () => expect(cases.length).toBe(41));
  for (const [i, c] of cases.entries()) {
    it(`#${i} ${c.fn} ${c.side} price ${c.price} ${c.size ?? c.amount} at tick ${c.tickSize}`, () => {
      const a = c.fn === 'createMarketOrder'
        ? marketOrderAmounts(c.side, c.price, c.amount, c.tickSize)
        : limitOrderAmounts(c.side, c.price, c.size, c.tickSize);
      expect(typeof a.makerAmount).toBe('bigint');
      expect(a.makerAmount.toString()).toBe(c.makerAmount);
      expect(a.takerAmount.toString()).toBe(c.takerAmount);
    });
  }

  it('rounds price half up, size down, and the derived amount as clob-client (+4 decimals up, then down)', () => {
    // 0.555 at tick 0.01 → 0.56; size 10.019 → 10.01; 10.01 × 0.56 = 5.6056
    expect(limitOrderAmounts('BUY', '0.555', '10.019', '0.01')).toEqual({ side: 'BUY', makerAmount: 5605600n, takerAmount: 10010000n });
    // 1 / 0.3 = 3.3333… → 3.3333 at tick 0.01 (4 amount decimals)
    expect(marketOrderAmounts('BUY', '0.3', '1', '0.01').takerAmount).toBe(3333300n);
    // 2 / 0.7 at tick 0.1 = 2.857142… → 2.857
    expect(marketOrderAmounts('BUY', '0.7', '2', '0.1').takerAmount).toBe(2857000n);
    // market price rounds DOWN: 0.569 at tick 0.01 → 0.56
    expect(marketOrderAmounts('SELL', '0.569', '100', '0.01').takerAmount).toBe(56000000n);
  });

  it('refuses bad tick sizes, malformed numbers and prices outside [tick, 1 - tick]', () => {
    expect(code(() => limitOrderAmounts('BUY', '0.5', '1', '0.05'))).toBe('POLYMARKET_TICK');
    expect(code(() => limitOrderAmounts('BUY', '1e-2', '1', '0.01'))).toBe('POLYMARKET_AMOUNT');
    expect(code(() => limitOrderAmounts('BUY', '-0.5', '1', '0.01'))).toBe('POLYMARKET_AMOUNT');
    expect(code(() => checkPrice('0.999', '0.01'))).toBe('POLYMARKET_PRICE');
    expect(code(() => checkPrice('0.001', '0.01'))).toBe('POLYMARKET_PRICE');
    expect(code(() => checkPrice('0.99', '0.01'))).toBe('no error');
    expect(code(() => checkPrice('.48', '0.01'))).toBe('no error');
  });
});

describe('L1 auth: EIP-712 ClobAuth (upstream vector)', () => {
  const L1 = V.l1_auth_clobauth_eip712;
  it('reproduces the upstream signature and the digest', () => {
    expect(clobAuthDigest(L1.domain.chainId, clobAuthValue(ADDRESS, 10000000, 23))).toBe(L1.derived_independently.digest);
    expect(signClobAuth(KEY, L1.domain.chainId, 10000000, 23)).toBe(L1.upstream_expected.signature);
    expect(L1.message.message).toBe(CLOB_AUTH_MESSAGE);
  });

  it('makes the four L1 headers, and the signer is recovered from them; another key is not', () => {
    const h = l1Headers(KEY, 80002, 10000000, 23);
    expect(h).toEqual({ POLY_ADDRESS: ADDRESS, POLY_SIGNATURE: L1.upstream_expected.signature, POLY_TIMESTAMP: '10000000', POLY_NONCE: '23' });
    expect(recoverClobAuthSigner(80002, h)).toBe(ADDRESS);
    const other = Wallet.createRandom();
    const forged = { ...l1Headers(other.privateKey, 80002, 10000000, 23), POLY_ADDRESS: ADDRESS };
    expect(recoverClobAuthSigner(80002, forged)).not.toBe(ADDRESS);
    expect(recoverClobAuthSigner(80002, { ...h, POLY_SIGNATURE: '0x00' })).toBeNull();
  });
});

describe('L2 auth: HMAC headers (upstream vectors)', () => {
  const L2 = V.l2_auth_hmac;
  const c0 = L2.cases[0];
  it('reproduces the upstream HMAC (url-safe base64, padding kept)', () => {
    expect(l2Signature(c0.secret, c0.timestamp, c0.method, c0.requestPath, c0.body)).toBe(c0.upstream_expected_signature);
  });

  it('takes the secret in base64 or base64url alike', () => {
    const b64 = `++/${'A'.repeat(40)}=`;
    const b64url = `--_${'A'.repeat(40)}`;
    expect(l2Signature(b64, '1', 'GET', '/x')).toBe(l2Signature(b64url, '1', 'GET', '/x'));
  });

  it('refuses a secret with characters outside base64 (py-clob-client behaviour; clob-client TS ignores them)', () => {
    const c1 = L2.cases[1];
    expect(code(() => l2Signature(c1.secret, c1.timestamp, c1.method, c1.requestPath, c1.body))).toBe('POLYMARKET_SECRET');
  });

  it('makes the five L2 headers, which the verifier accepts, and refuses a changed body, path or secret', () => {
    const creds = { key: L2.test_creds.api_key, secret: L2.test_creds.api_secret, passphrase: L2.test_creds.api_passphrase };
    const h = l2Headers(ADDRESS, creds, 1000000, 'test-sign', '/orders', c0.body);
    expect(h).toEqual({
      POLY_ADDRESS: ADDRESS, POLY_SIGNATURE: c0.upstream_expected_signature, POLY_TIMESTAMP: '1000000',
      POLY_API_KEY: creds.key, POLY_PASSPHRASE: creds.passphrase,
    });
    expect(verifyL2(h, creds, 'test-sign', '/orders', c0.body)).toBe(true);
    expect(verifyL2(h, creds, 'test-sign', '/orders', '{}')).toBe(false);
    expect(verifyL2(h, creds, 'test-sign', '/order', c0.body)).toBe(false);
    expect(verifyL2(h, { ...creds, secret: `B${creds.secret.slice(1)}` }, 'test-sign', '/orders', c0.body)).toBe(false);
    expect(verifyL2(h, { ...creds, passphrase: 'x' }, 'test-sign', '/orders', c0.body)).toBe(false);
  });
});
