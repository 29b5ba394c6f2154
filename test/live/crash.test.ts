/**
 * The live crash test, small: `tapedeck live` SIGKILLed at random moments against a simulated Binance that
 * stays up; after each kill no client order id is used twice, no fill is in the log twice, and reconciliation
 * agrees with the venue (positions with balances included); a last clean session leaves every venue fill in
 * the log exactly once. `npm run crash:live` runs the same with 100 kills.
 */
import { describe, expect, it } from 'vitest';
import { repoRoot, tmpDir } from '../helpers/tmp.js';
import { runCrashTest } from './crash.js';

describe('live crash test (SIGKILL at random moments)', () => {
  it('after every kill and restart: no duplicate order, every fill once, ledger equals venue', { timeout: 120_000 }, async () => {
    const t = tmpDir('td-crash-live-');
    try {
      const r = await runCrashTest({ repoRoot, dir: t.dir, kills: 2, seed: 7 });
      expect(r.duplicateClientOrderIds).toBe(0);
      expect(r.duplicateLogFills).toBe(0);
      expect(r.reconcileNotOk, JSON.stringify(r.reconcileNotOk)).toEqual([]);
      expect(r.finalSession.ok, r.finalSession.output).toBe(true);
      expect(r.missingLogFills).toBe(0);
      expect(r.logFills).toBe(r.venueFills);
      expect(r.positionsMatchBalances).toBe(true);
      expect(r.venueOrders).toBeGreaterThan(0);
    } finally {
      t.cleanup();
    }
  });
});
