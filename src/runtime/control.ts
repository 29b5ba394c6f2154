/**
 * The control stream: an operator's kill switch and cancel-all, as events in the store (stream
 * `control`) before they take effect. `tapedeck serve` appends them; a running live session
 * subscribes to the stream and feeds each one to its kernel as an input, so it is journaled in the
 * run's stream (a copy with its own id, caused by the control event) and a replay of the run obeys it
 * at exactly the same point: control is deterministic, like market data.
 *
 * A session that starts while a kill switch is set starts under it: the switches in force (the last
 * per scope) are its first inputs.
 */
import { uuidFromName } from '../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { storedToEnvelope } from '../../domain/events/envelope.js';
import type { EventStore, RecordedEvent, Subscription } from '../store/port.js';

export const CONTROL_STREAM = 'control';
export const CONTROL_TYPES: ReadonlySet<string> = new Set(['KillSwitchChanged', 'CancelAllRequested']);

/** The control event as the run's input: same payload and times, an id of its own, caused by the original. */
export function controlInput(runId: string, stream: string, rec: RecordedEvent): AnyEnvelope | null {
  if (!CONTROL_TYPES.has(rec.type)) return null;
  const env = storedToEnvelope(CONTROL_STREAM, { id: rec.id, type: rec.type, data: rec.data, metadata: rec.metadata }, { stream: CONTROL_STREAM, position: rec.position });
  return { ...env, id: uuidFromName(runId, `control:${rec.id}`), stream, causationId: rec.id, correlationId: runId } as AnyEnvelope;
}

export interface ControlFeed {
  /** Kill switches in force when the session starts (the last one per scope, when not ACTIVE). */
  initial: AnyEnvelope[];
  /** Everything appended to the control stream after the start, in order. */
  onInput(handler: (e: AnyEnvelope) => void): void;
  close(): Promise<void>;
}

/** Reads the switches in force, then follows the control stream from there (no gap, no repeat). */
export async function openControlFeed(store: EventStore, runId: string, stream: string): Promise<ControlFeed> {
  const lastByScope = new Map<string, RecordedEvent>();
  let revision = -1;
  for await (const rec of store.readStream(CONTROL_STREAM)) {
    revision = rec.revision;
    if (rec.type === 'KillSwitchChanged') lastByScope.set(String((rec.data as { venue?: string }).venue ?? '*'), rec);
  }
  const initial: AnyEnvelope[] = [];
  for (const rec of [...lastByScope.values()].sort((a, b) => a.position - b.position)) {
    if ((rec.data as { state?: string }).state === 'ACTIVE') continue;
    const e = controlInput(runId, stream, rec);
    if (e) initial.push(e);
  }
  const sub: Subscription = store.subscribeToStream(CONTROL_STREAM, { fromRevision: revision });
  const to: { handler: ((e: AnyEnvelope) => void) | null } = { handler: null };
  const queued: AnyEnvelope[] = [];
  const pump = (async () => {
    try {
      for await (const rec of sub) {
        let e: AnyEnvelope | null;
        try {
          e = controlInput(runId, stream, rec);
        } catch {
          e = null; // a malformed control event is not obeyed; it stays in the log for the operator to see
        }
        if (e === null) continue;
        if (to.handler) to.handler(e);
        else queued.push(e);
      }
    } catch {
      /* the store closed: the session is ending */
    }
  })();
  return {
    initial,
    onInput(h) {
      to.handler = h;
      while (queued.length > 0) h(queued.shift()!);
    },
    async close() {
      // Not awaiting the pump: a subscription waiting for the next commit ends at that commit (or at the store's close).
      to.handler = null;
      await sub.close();
      void pump;
    },
  };
}
