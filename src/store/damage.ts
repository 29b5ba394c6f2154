/**
 * Damage, said once for every reader: a command that answers from a store with unreadable ranges says
 * so on stderr and in its exit code (1), never as a plain success. Backends without a log check report
 * no damage here; their reads fail loudly instead.
 */
import type { EventStore, StoreHealth } from './port.js';

export type DamagedRange = StoreHealth['corrupt'][number];

/** One line for a corrupt range: where it is, what is wrong, and which positions it makes unreadable. */
export function describeCorrupt(c: DamagedRange): string {
  const positions = c.fromPosition === undefined ? '' : c.toPosition === null || c.toPosition === undefined ? `, positions ${c.fromPosition} onwards unreadable` : `, positions ${c.fromPosition}..${c.toPosition} unreadable`;
  return `segment ${c.segment} offset ${c.offset}${c.length > 0 ? ` (${c.length} bytes)` : ''}: ${c.reason}${positions}`;
}

/** The ranges the store reports unreadable; [] when it is whole or cannot check itself. */
export function damagedRanges(store: EventStore): DamagedRange[] {
  const h = store.capabilities?.verify?.();
  return h && !h.ok ? h.corrupt : [];
}

/** `the store is damaged: <first range>; and N more` in one line, for stderr. */
export function describeDamage(ranges: readonly DamagedRange[]): string {
  const more = ranges.length > 1 ? `; and ${ranges.length - 1} more damaged range(s)` : '';
  return `the store is damaged, so this answer leaves out what it held: ${describeCorrupt(ranges[0]!)}${more} (run tapedeck store verify)`;
}
