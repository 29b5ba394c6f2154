/**
 * NASDAQ settings (zod, strict keys): the OUCH 4.2 order-entry session over SoupBinTCP. The SoupBinTCP
 * username and password are credentials (ExecutionContext), never part of this config.
 */
import { z } from 'zod';
import { configObject } from '../../../domain/core/config-object.js';

export const NasdaqConfig = configObject({
  /** The OUCH gateway. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(0),
  /** SoupBinTCP session to log in to (blank: the current one). */
  session: z.string().max(10).optional(),
  /** Firm (MPID) on Enter Order, 4 letters. */
  firm: z.string().regex(/^[A-Z0-9]{1,4}$/).optional(),
  heartbeatIntervalMs: z.int().min(10).max(60_000).optional(),
  heartbeatTimeoutMs: z.int().min(10).max(600_000).optional(),
  sendTimeoutMs: z.int().min(1).max(600_000).optional(),
  queryTimeoutMs: z.int().min(1).max(600_000).optional(),
  reconnect: configObject({ delayMs: z.int().min(1).max(600_000), maxAttempts: z.int().min(0).max(1_000_000) }).optional(),
});
export type NasdaqConfig = z.output<typeof NasdaqConfig>;
