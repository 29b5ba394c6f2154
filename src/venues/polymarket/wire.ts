/**
 * The signed order as it travels in `POST /order` ({order, owner, orderType, postOnly?}), and the checks
 * the exchange makes on it — what the simulated venue runs (issue 11: it recovers the signer of every
 * order and refuses a wrong signer, a wrong exchange or an order version the exchange does not take).
 *
 *   v1 order: salt (a JSON number, as clob-client's orderToJson sends it), maker, signer, taker, tokenId,
 *             makerAmount, takerAmount, side "BUY"|"SELL", expiration, nonce, feeRateBps, signatureType,
 *             signature
 *   v2 order: salt, maker, signer, tokenId, makerAmount, takerAmount, side, signatureType, timestamp,
 *             metadata, builder, signature (expiration may ride along; it is not signed)
 *
 * Reasons are the venue's words where they are known ("invalid order version", "signer address has to
 * be the address of the API KEY"; NOTES.md §2), else plain ones.
 */
import { z } from 'zod';
import { SIDE_CODE, recoverOrderSigner } from './signing.js';
import type { ExchangeDomain, OrderStruct, OrderVersion, SignedOrder } from './signing.js';

const uint = z.string().regex(/^\d{1,78}$/, 'a uint256 decimal string');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'bytes32');
const salt = z.union([z.int().nonnegative().max(Number.MAX_SAFE_INTEGER), uint]).transform(String);

const common = {
  salt, maker: address, signer: address, tokenId: uint, makerAmount: uint, takerAmount: uint,
  side: z.enum(['BUY', 'SELL']), signatureType: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature'),
};
const WireV1 = z.strictObject({ ...common, taker: address, expiration: uint, nonce: uint, feeRateBps: uint });
const WireV2 = z.strictObject({ ...common, timestamp: uint, metadata: bytes32, builder: bytes32, expiration: uint.optional() });

export type WireOrder = z.input<typeof WireV1> | z.input<typeof WireV2>;

/** The `order` object of POST /order for a signed order (salt as a number when it fits, as clob-client sends it). */
export function toWireOrder(s: SignedOrder): Record<string, unknown> {
  const o = s.order as unknown as Record<string, unknown>;
  const saltNum = Number(o.salt);
  return {
    ...o,
    salt: Number.isSafeInteger(saltNum) && String(saltNum) === o.salt ? saltNum : o.salt,
    side: o.side === SIDE_CODE.BUY ? 'BUY' : 'SELL',
    signature: s.signature,
  };
}

export type OrderCheck =
  | { ok: true; version: OrderVersion; struct: OrderStruct; signer: string }
  | { ok: false; reason: string };

/**
 * Checks a posted order as an exchange of `domain` would: its shape is the struct of the domain's
 * version, its signer is the API key's address, and its signature recovers that signer under this
 * exchange's domain (a signature for another exchange or version recovers someone else).
 */
export function checkWireOrder(raw: unknown, domain: ExchangeDomain, apiKeyAddress: string): OrderCheck {
  const version = Number(domain.version) as OrderVersion;
  const v1 = WireV1.safeParse(raw);
  const v2 = WireV2.safeParse(raw);
  if (!v1.success && !v2.success) return { ok: false, reason: `invalid order: ${(version === 1 ? v1 : v2).error?.issues[0]?.path.join('.') || 'order'} malformed` };
  if ((version === 1 && !v1.success) || (version !== 1 && !v2.success)) return { ok: false, reason: 'invalid order version' };
  if (!(raw as { signer: string }).signer || (raw as { signer: string }).signer.toLowerCase() !== apiKeyAddress.toLowerCase()) {
    return { ok: false, reason: 'signer address has to be the address of the API KEY' };
  }
  let struct: OrderStruct;
  let signature: string;
  if (version === 1 && v1.success) {
    const { signature: sig, side, ...rest } = v1.data;
    if (rest.signatureType === 3) return { ok: false, reason: 'invalid signature type: POLY_1271 needs a version 2 or 3 order' };
    signature = sig;
    struct = { version: 1, order: { ...rest, side: SIDE_CODE[side] } };
  } else if (v2.success) {
    const { signature: sig, side, expiration: _unsigned, ...rest } = v2.data;
    signature = sig;
    struct = { version: version as 2 | 3, order: { ...rest, side: SIDE_CODE[side] } };
  } else {
    return { ok: false, reason: 'invalid order version' };
  }
  let signer: string;
  try {
    signer = recoverOrderSigner(domain, struct, signature);
  } catch {
    return { ok: false, reason: 'invalid signature' };
  }
  if (signer.toLowerCase() !== struct.order.signer.toLowerCase()) return { ok: false, reason: 'invalid signature' };
  return { ok: true, version, struct, signer };
}
