/**
 * Polymarket CLOB settings (zod, strict keys). Defaults are the public production endpoints on Polygon.
 * Credentials are not settings: the private key comes from the environment (credentials.ts).
 */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

const tokenId = z.string().regex(/^\d{1,80}$/, 'a Polymarket token id (decimal digits)');
const conditionId = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a Polymarket condition id (0x + 64 hex digits)');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an Ethereum address');

export const PolymarketConfig = configObject({
  restUrl: z.url({ protocol: /^https?$/ }).default('https://clob.polymarket.com'),
  marketWsUrl: z.url({ protocol: /^wss?$/ }).default('wss://ws-subscriptions-clob.polymarket.com/ws/market'),
  userWsUrl: z.url({ protocol: /^wss?$/ }).default('wss://ws-subscriptions-clob.polymarket.com/ws/user'),
  /** 137 Polygon mainnet, 80002 Amoy testnet. */
  chainId: z.union([z.literal(137), z.literal(80002)]).default(137),
  /** The order struct the target exchange takes: 1 (CTF Exchange v1), 2 or 3 (CLOB v2 exchanges). */
  orderVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
  /** 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE, 3 POLY_1271 (v2/v3 only). */
  signatureType: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).default(0),
  /** The funder (maker) address when it differs from the signer (proxy or safe wallets). */
  funder: address.optional(),
  /** Outcome tokens to subscribe to on the market channel. */
  tokens: z.array(tokenId).max(500).default([]),
  /** Condition ids (markets) to follow on the user channel. */
  markets: z.array(conditionId).max(500).default([]),
  /** Binary markets whose YES and NO tokens are linked (complete sets net; resolution settles both). */
  binaryMarkets: z.array(configObject({ market: conditionId, yes: tokenId, no: tokenId })).max(500).default([]),
}).refine((c) => c.signatureType !== 3 || c.orderVersion !== 1, { message: 'signatureType 3 (POLY_1271) needs orderVersion 2 or 3', path: ['signatureType'] });
export type PolymarketConfig = z.output<typeof PolymarketConfig>;
