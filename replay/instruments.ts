/**
 * Decisions per instrument: for comparing runs that split a market between them (workers on a bus,
 * each owning some instruments) with one run that saw it all. Each decision is normalized as the
 * kernel's decisions hash does (order ids become their sequence number, run-specific fields dropped),
 * with orders numbered per instrument, and hashed per instrument in the order the runs recorded them.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/core/canonical.js';
import { normalizeDecision } from '../domain/kernel/kernel.js';
import type { EventStore } from '../src/store/port.js';

export interface InstrumentDecisions {
  decisions: number;
  hash: string;
}

/** Instrument → its decisions over the given runs of one store (an instrument's decisions must all be in one run). */
export async function decisionsByInstrument(store: EventStore, runIds: string[]): Promise<Map<string, InstrumentDecisions>> {
  const lines = new Map<string, string[]>();
  for (const runId of runIds) {
    const instrumentOfOrder = new Map<string, string>();
    const numbers = new Map<string, Map<string, number>>();
    for await (const e of store.readStream(`run-${runId}`)) {
      if (e.metadata.role !== 'decision') continue;
      const data = e.data as Record<string, unknown>;
      const orderId = typeof data.orderId === 'string' ? data.orderId : undefined;
      let instrument = typeof data.instrument === 'string' ? data.instrument : undefined;
      if (instrument !== undefined && orderId !== undefined && !instrumentOfOrder.has(orderId)) instrumentOfOrder.set(orderId, instrument);
      instrument ??= orderId !== undefined ? instrumentOfOrder.get(orderId) : undefined;
      const key = instrument ?? '(none)';
      let nums = numbers.get(key);
      if (!nums) numbers.set(key, (nums = new Map()));
      if (orderId !== undefined && !nums.has(orderId)) nums.set(orderId, nums.size + 1);
      let list = lines.get(key);
      if (!list) lines.set(key, (list = []));
      list.push(canonicalJson(normalizeDecision(e.type, data, nums)));
    }
  }
  const out = new Map<string, InstrumentDecisions>();
  for (const [k, list] of [...lines].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const h = createHash('sha256');
    for (const l of list) h.update(l).update('\n');
    out.set(k, { decisions: list.length, hash: h.digest('hex').slice(0, 32) });
  }
  return out;
}
