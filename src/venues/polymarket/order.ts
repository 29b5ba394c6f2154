/**
 * A Polymarket order struct from intent-level fields: side, token, exact amounts (amounts.ts), a salt the
 * caller derives deterministically (so the same intent re-signs to the same hash), and the version the
 * target exchange takes. The signed order is stored before it is sent; its hash is the venue's id for it.
 */
import { createHash } from 'node:crypto';
import type { OrderAmounts } from './amounts.js';
import { SIDE_CODE, ZERO_ADDRESS, ZERO_BYTES32, checksum, exchangeDomain, signOrder } from './signing.js';
import type { ExchangeDomain, OrderStruct, OrderVersion, SignatureType, SignedOrder } from './signing.js';

export interface OrderFields {
  version: OrderVersion;
  chainId: number;
  negRisk: boolean;
  tokenId: string;
  amounts: OrderAmounts;
  /** uint256 decimal string. */
  salt: string;
  maker: string;
  signer: string;
  signatureType?: SignatureType;
  /** v1 only. */
  feeRateBps?: string;
  nonce?: string;
  expiration?: string;
  taker?: string;
  /** v2/v3 only: ms since the epoch. */
  timestampMs?: string;
  metadata?: string;
  builder?: string;
}

export function buildOrder(f: OrderFields): { domain: ExchangeDomain; struct: OrderStruct } {
  const domain = exchangeDomain(f.chainId, f.version, f.negRisk);
  const common = {
    salt: f.salt,
    maker: checksum(f.maker),
    signer: checksum(f.signer),
    tokenId: f.tokenId,
    makerAmount: f.amounts.makerAmount.toString(),
    takerAmount: f.amounts.takerAmount.toString(),
  };
  const side = SIDE_CODE[f.amounts.side];
  const signatureType = f.signatureType ?? 0;
  if (f.version === 1) {
    return {
      domain,
      struct: {
        version: 1,
        order: {
          ...common,
          taker: f.taker ?? ZERO_ADDRESS,
          expiration: f.expiration ?? '0',
          nonce: f.nonce ?? '0',
          feeRateBps: f.feeRateBps ?? '0',
          side,
          signatureType,
        },
      },
    };
  }
  return {
    domain,
    struct: {
      version: f.version,
      order: {
        salt: common.salt,
        maker: common.maker,
        signer: common.signer,
        tokenId: common.tokenId,
        makerAmount: common.makerAmount,
        takerAmount: common.takerAmount,
        side,
        signatureType,
        timestamp: f.timestampMs ?? '0',
        metadata: f.metadata ?? ZERO_BYTES32,
        builder: f.builder ?? ZERO_BYTES32,
      },
    },
  };
}

export function buildAndSign(privateKey: string, f: OrderFields): SignedOrder & { domain: ExchangeDomain } {
  const { domain, struct } = buildOrder(f);
  return { ...signOrder(privateKey, domain, struct), domain };
}

/**
 * The salt of the order for an intent: a deterministic integer below 2^53 from the intent's id, so the
 * same intent always signs to the same order hash (a resend is the same order, idempotent at the venue),
 * and the salt survives clob-client's JSON-number form of it.
 */
export function saltFor(intentId: string): string {
  const h = createHash('sha256').update(`tapedeck/polymarket/salt/${intentId}`).digest();
  return (h.readBigUInt64BE(0) & ((1n << 53n) - 1n)).toString();
}
