/**
 * Posted orders checked as the exchange would (what the simulated venue will run): the vector orders
 * (test/fixtures/datasets/polymarket/vectors.json) pass; a forged signer, another exchange's or
 * version's signature, and a struct of the wrong version are refused with the venue's reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { exchangeDomain, signOrder } from '../../../src/venues/polymarket/signing.js';
import type { OrderStruct, OrderV1, OrderV2 } from '../../../src/venues/polymarket/signing.js';
import { checkWireOrder, toWireOrder } from '../../../src/venues/polymarket/wire.js';
import { buildAndSign, saltFor } from '../../../src/venues/polymarket/order.js';
import { repoRoot } from '../../helpers/tmp.js';

const V = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/datasets/polymarket/vectors.json'), 'utf8'));
const KEY: string = V.test_wallet.private_key;
const ADDRESS: string = V.test_wallet.address;
const V1: OrderStruct = { version: 1, order: V.eip712_order_v1.cases[0].message as OrderV1 };
const V2: OrderStruct = { version: 2, order: V.eip712_order_v2_schema.derived_independently_NOT_UPSTREAM.message as OrderV2 };
const CTF = exchangeDomain(80002, 1, false);
const NEG = exchangeDomain(80002, 1, true);
const CTF2 = exchangeDomain(80002, 2, false);

describe('posted Polymarket orders checked as the exchange would', () => {
  it('the upstream v1 vector order, in wire form (salt a number, side a word), passes and recovers the signer', () => {
    const wire = toWireOrder(signOrder(KEY, CTF, V1));
    expect(wire).toMatchObject({ salt: 479249096354, side: 'BUY', signature: V.eip712_order_v1.cases[0].upstream_expected.signature });
    const r = checkWireOrder(JSON.parse(JSON.stringify(wire)), CTF, ADDRESS);
    expect(r).toMatchObject({ ok: true, version: 1, signer: ADDRESS });
  });

  it('the v2 order (independent vector) passes on the v2 exchange, with an unsigned expiration riding along', () => {
    const wire = { ...toWireOrder(signOrder(KEY, CTF2, V2)), expiration: '0' };
    expect(checkWireOrder(wire, CTF2, ADDRESS)).toMatchObject({ ok: true, version: 2 });
  });

  it('refuses an order signed for the other exchange (NegRisk signature sent to the CTF exchange)', () => {
    const wire = toWireOrder(signOrder(KEY, NEG, V1));
    expect(checkWireOrder(wire, CTF, ADDRESS)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  it('refuses a forged order: signed by another key while naming our address as signer', () => {
    const forger = Wallet.createRandom();
    const wire = toWireOrder(signOrder(forger.privateKey, CTF, V1));
    expect(checkWireOrder(wire, CTF, ADDRESS)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  it('refuses an order whose version the exchange does not take, either way', () => {
    expect(checkWireOrder(toWireOrder(signOrder(KEY, CTF, V1)), CTF2, ADDRESS)).toEqual({ ok: false, reason: 'invalid order version' });
    expect(checkWireOrder(toWireOrder(signOrder(KEY, CTF2, V2)), CTF, ADDRESS)).toEqual({ ok: false, reason: 'invalid order version' });
  });

  it('refuses a signer that is not the API key address, a changed amount, and a malformed order', () => {
    const wire = toWireOrder(signOrder(KEY, CTF, V1));
    expect(checkWireOrder(wire, CTF, Wallet.createRandom().address)).toEqual({ ok: false, reason: 'signer address has to be the address of the API KEY' });
    expect(checkWireOrder({ ...wire, makerAmount: '100000001' }, CTF, ADDRESS)).toEqual({ ok: false, reason: 'invalid signature' });
    expect(checkWireOrder({ ...wire, tokenId: 'x' }, CTF, ADDRESS)).toMatchObject({ ok: false, reason: expect.stringMatching(/^invalid order: tokenId/) });
    expect(checkWireOrder({ ...wire, signatureType: 3 }, CTF, ADDRESS)).toMatchObject({ ok: false, reason: expect.stringMatching(/POLY_1271/) });
  });
});

describe('the order hash is known before sending', () => {
  it('an intent id gives one salt below 2^53, so re-signing the intent gives the same hash and wire order', () => {
    const salt = saltFor('0b7f3c1e-9a43-4f8e-8d4b-6a1f0c2d9e11');
    expect(BigInt(salt) < 2n ** 53n).toBe(true);
    expect(saltFor('0b7f3c1e-9a43-4f8e-8d4b-6a1f0c2d9e11')).toBe(salt);
    expect(saltFor('another-intent')).not.toBe(salt);
    const sign = () => buildAndSign(KEY, {
      version: 1, chainId: 80002, negRisk: false, tokenId: '1234', salt, maker: ADDRESS, signer: ADDRESS,
      amounts: { side: 'SELL', makerAmount: 5_000000n, takerAmount: 2_590000n },
    });
    const a = sign();
    expect(sign().hash).toBe(a.hash);
    const wire = toWireOrder(a);
    expect(typeof wire.salt).toBe('number');
    expect(checkWireOrder(JSON.parse(JSON.stringify(wire)), CTF, ADDRESS)).toMatchObject({ ok: true });
  });
});
