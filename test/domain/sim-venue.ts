/** Driving the simulated venue (domain/venue/simulated.ts) in its tests: one market event or command a step. */
import type { TimedEvent } from '../../domain/events/event.js';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { initialState, step, type SimVenueState, type VenueReport } from '../../domain/venue/simulated.js';
import { INSTR, VENUE } from './builders.js';

export function venue(cfg: Record<string, unknown> = {}): SimVenueState {
  return initialState({ venue: VENUE, ...cfg });
}

/** The reports the venue makes on these market events. */
export function feed(s: SimVenueState, ...events: TimedEvent[]): VenueReport[] {
  const out: VenueReport[] = [];
  for (const e of events) step(s, { kind: 'market', event: e }, out);
  return out;
}

/** The reports the venue makes on this command, sent at `sentNs`. */
export function send(s: SimVenueState, command: VenueCommand, sentNs = 0n): VenueReport[] {
  const out: VenueReport[] = [];
  step(s, { kind: 'command', command, sentNs }, out);
  return out;
}

/** A GTC limit buy of 1 lot at 100 (scales 2 and 0), with `over` on top. */
export function submit(over: Partial<VenueCommand & { kind: 'SubmitOrder' }> = {}): VenueCommand {
  return {
    kind: 'SubmitOrder', orderId: 'o1', venue: VENUE, instrument: INSTR, side: 'buy', orderType: 'limit', priceTicks: 100, qtyLots: 1,
    priceScale: 2, qtyScale: 0, timeInForce: 'GTC', postOnly: false, reduceOnly: false, ...over,
  } as VenueCommand;
}
