/**
 * The receive clock of live adapters: wall time in ns since the epoch, advancing monotonically between
 * readings (anchored once to Date.now, then driven by the monotonic high-resolution timer).
 */
const anchorNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function wallClockNs(): bigint {
  return anchorNs + process.hrtime.bigint();
}
