/**
 * Polymarket CLOB order signing (EIP-712, ethers v6). Two exchanges (the CTF Exchange and the NegRisk
 * CTF Exchange) share one domain name and version and differ only in `verifyingContract`; two order
 * structs exist:
 *
 *   v1  domain version "1": salt maker signer taker tokenId makerAmount takerAmount expiration nonce
 *       feeRateBps side signatureType
 *   v2  domain version "2" (exchange V2) or "3" (exchange V3): salt maker signer tokenId makerAmount
 *       takerAmount side signatureType timestamp metadata(bytes32) builder(bytes32)
 *
 * The order hash is the full EIP-712 digest keccak256(0x1901 ‖ domainSeparator ‖ structHash): it is
 * known before the order is sent, so an order whose outcome is unknown can always be looked up by it.
 * Signatures are 65 bytes r‖s‖v with v = 27/28; ethers signs deterministically (RFC 6979), so a signed
 * order is reproducible from its fields and key.
 */
import { TypedDataEncoder, Wallet, getAddress, verifyTypedData } from 'ethers';
import type { TypedDataDomain, TypedDataField } from 'ethers';
import { TapedeckError } from '../../../domain/core/errors.js';

export const EXCHANGE_DOMAIN_NAME = 'Polymarket CTF Exchange';

export type OrderVersion = 1 | 2 | 3;
export type Side = 'BUY' | 'SELL';
export const SIDE_CODE: Readonly<Record<Side, number>> = Object.freeze({ BUY: 0, SELL: 1 });
/** EOA 0, POLY_PROXY 1, POLY_GNOSIS_SAFE 2; POLY_1271 3 exists only for v2/v3 orders. */
export type SignatureType = 0 | 1 | 2 | 3;

/** Contract addresses per chain (go-order-utils config and clob-client-v2 config; see vectors.json). */
export interface ExchangeContracts {
  exchange: string;
  negRiskExchange: string;
  exchangeV2: string;
  negRiskExchangeV2: string;
  exchangeV3: string;
}

export const CONTRACTS: Readonly<Record<number, ExchangeContracts>> = Object.freeze({
  137: Object.freeze({
    exchange: '0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E',
    negRiskExchange: '0xC5d563A36AE78145C45a50134d48A1215220f80a',
    exchangeV2: '0xE111180000d2663C0091e4f400237545B87B996B',
    negRiskExchangeV2: '0xe2222d279d744050d28e00520010520000310F59',
    exchangeV3: '0xe3333700cA9d93003F00f0F71f8515005F6c00Aa',
  }),
  80002: Object.freeze({
    exchange: '0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40',
    negRiskExchange: '0xC5d563A36AE78145C45a50134d48A1215220f80a',
    exchangeV2: '0xE111180000d2663C0091e4f400237545B87B996B',
    negRiskExchangeV2: '0xe2222d279d744050d28e00520010520000310F59',
    exchangeV3: '0x9fE6e61422AdB6F610d8597F9684b16912D50C3D',
  }),
});

export const ORDER_TYPES_V1: Record<string, TypedDataField[]> = {
  Order: [
    { name: 'salt', type: 'uint256' },
    { name: 'maker', type: 'address' },
    { name: 'signer', type: 'address' },
    { name: 'taker', type: 'address' },
    { name: 'tokenId', type: 'uint256' },
    { name: 'makerAmount', type: 'uint256' },
    { name: 'takerAmount', type: 'uint256' },
    { name: 'expiration', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'feeRateBps', type: 'uint256' },
    { name: 'side', type: 'uint8' },
    { name: 'signatureType', type: 'uint8' },
  ],
};

export const ORDER_TYPES_V2: Record<string, TypedDataField[]> = {
  Order: [
    { name: 'salt', type: 'uint256' },
    { name: 'maker', type: 'address' },
    { name: 'signer', type: 'address' },
    { name: 'tokenId', type: 'uint256' },
    { name: 'makerAmount', type: 'uint256' },
    { name: 'takerAmount', type: 'uint256' },
    { name: 'side', type: 'uint8' },
    { name: 'signatureType', type: 'uint8' },
    { name: 'timestamp', type: 'uint256' },
    { name: 'metadata', type: 'bytes32' },
    { name: 'builder', type: 'bytes32' },
  ],
};

/** Integers travel as decimal strings (uint256 does not fit a number). */
export interface OrderV1 {
  salt: string;
  maker: string;
  signer: string;
  taker: string;
  tokenId: string;
  makerAmount: string;
  takerAmount: string;
  expiration: string;
  nonce: string;
  feeRateBps: string;
  side: number;
  signatureType: number;
}

export interface OrderV2 {
  salt: string;
  maker: string;
  signer: string;
  tokenId: string;
  makerAmount: string;
  takerAmount: string;
  side: number;
  signatureType: number;
  timestamp: string;
  metadata: string;
  builder: string;
}

export type OrderStruct = { version: 1; order: OrderV1 } | { version: 2 | 3; order: OrderV2 };

export interface ExchangeDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: string;
}

/** The address an order of `version` on this chain is signed for (neg-risk markets use their own exchange). */
export function exchangeAddress(chainId: number, version: OrderVersion, negRisk: boolean): string {
  const c = CONTRACTS[chainId];
  if (c === undefined) throw new TapedeckError('POLYMARKET_CHAIN', `no Polymarket exchange known on chain ${chainId} (known: 137, 80002)`, { field: 'chainId' });
  if (version === 1) return negRisk ? c.negRiskExchange : c.exchange;
  if (version === 2) return negRisk ? c.negRiskExchangeV2 : c.exchangeV2;
  if (negRisk) throw new TapedeckError('POLYMARKET_EXCHANGE', 'no neg-risk exchange of version 3 is known', { field: 'negRisk' });
  return c.exchangeV3;
}

export function exchangeDomain(chainId: number, version: OrderVersion, negRisk: boolean): ExchangeDomain {
  return { name: EXCHANGE_DOMAIN_NAME, version: String(version), chainId, verifyingContract: exchangeAddress(chainId, version, negRisk) };
}

function typesOf(version: OrderVersion): Record<string, TypedDataField[]> {
  return version === 1 ? ORDER_TYPES_V1 : ORDER_TYPES_V2;
}

function domainOf(d: ExchangeDomain): TypedDataDomain {
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract };
}

/** Checks the domain and the struct agree on the version (a v1 struct under a version-2 domain is not an order). */
function checkVersion(domain: ExchangeDomain, s: OrderStruct): void {
  if (domain.version !== String(s.version)) {
    throw new TapedeckError('POLYMARKET_ORDER_VERSION', `order struct version ${s.version} does not match domain version "${domain.version}"`, { field: 'version' });
  }
}

export function domainSeparator(domain: ExchangeDomain): string {
  return TypedDataEncoder.hashDomain(domainOf(domain));
}

export function orderStructHash(s: OrderStruct): string {
  return TypedDataEncoder.hashStruct('Order', typesOf(s.version), s.order as unknown as Record<string, unknown>);
}

/** The order hash Polymarket knows the order by: the EIP-712 digest. */
export function orderHash(domain: ExchangeDomain, s: OrderStruct): string {
  checkVersion(domain, s);
  return TypedDataEncoder.hash(domainOf(domain), typesOf(s.version), s.order as unknown as Record<string, unknown>);
}

export interface SignedOrder {
  version: OrderVersion;
  order: OrderV1 | OrderV2;
  /** EIP-712 digest, 0x-hex, lower case. */
  hash: string;
  /** 65-byte signature r‖s‖v, 0x-hex. */
  signature: string;
}

/** Signs an order synchronously (deterministic signatures: the same fields and key give the same bytes). */
export function signOrder(privateKey: string, domain: ExchangeDomain, s: OrderStruct): SignedOrder {
  const hash = orderHash(domain, s);
  const signature = signingWallet(privateKey).signingKey.sign(hash).serialized;
  return { version: s.version, order: s.order, hash, signature };
}

/** The address that signed this order under this domain (what the exchange checks against `signer`). */
export function recoverOrderSigner(domain: ExchangeDomain, s: OrderStruct, signature: string): string {
  checkVersion(domain, s);
  return verifyTypedData(domainOf(domain), typesOf(s.version), s.order as unknown as Record<string, unknown>, signature);
}

/** A wallet from a hex private key; the error never repeats the key. */
export function signingWallet(privateKey: string): Wallet {
  try {
    return new Wallet(privateKey);
  } catch {
    throw new TapedeckError('POLYMARKET_KEY', 'POLYMARKET_PRIVATE_KEY is not a valid secp256k1 private key (64 hex digits, optional 0x)', { field: 'POLYMARKET_PRIVATE_KEY' });
  }
}

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
export const ZERO_BYTES32 = `0x${'0'.repeat(64)}`;

export function checksum(address: string): string {
  try {
    return getAddress(address);
  } catch {
    throw new TapedeckError('POLYMARKET_ADDRESS', `"${address}" is not an Ethereum address`, { field: 'address' });
  }
}
