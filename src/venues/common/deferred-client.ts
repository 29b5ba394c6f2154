/**
 * An execution client whose implementation is loaded when it connects. The venue registry is read by
 * every command (replay, parity, query…), so an adapter's `newClient` must not pull in what only trading
 * needs: Polymarket's signing loads ethers (about a third of a `tapedeck parity` start-up). The wrapper
 * answers exactly what the loaded client answers: listeners registered before `connect()` are handed
 * over when it loads, and anything else before `connect()` is CLIENT_NOT_CONNECTED.
 *
 * For clients that implement `onSent` and `reconciliationReport` (the port's optional parts are
 * capabilities: a wrapper that claimed one its client lacks would change what the live runner does).
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { ExecutionClient, ReconciliationRequest } from '../port.js';

type Reconciling = ExecutionClient & Required<Pick<ExecutionClient, 'onSent' | 'reconciliationReport'>>;

export function deferredExecutionClient(venue: string, load: () => Promise<Reconciling>): Reconciling {
  let inner: Reconciling | null = null;
  const reportListeners: Array<(e: AnyEnvelope) => void> = [];
  const sentListeners: Array<(e: AnyEnvelope) => void> = [];
  const need = (): Reconciling => {
    if (inner === null) throw new TapedeckError('CLIENT_NOT_CONNECTED', `${venue} execution client: connect() first`);
    return inner;
  };
  return {
    venue,
    async connect() {
      if (inner === null) {
        const loaded = await load();
        for (const l of reportListeners) loaded.onReport(l);
        for (const l of sentListeners) loaded.onSent(l);
        inner = loaded;
      }
      await inner.connect();
    },
    send: async (c) => need().send(c),
    onReport(l) {
      reportListeners.push(l);
      inner?.onReport(l);
    },
    onSent(l) {
      sentListeners.push(l);
      inner?.onSent(l);
    },
    queryOrder: async (id) => need().queryOrder(id),
    reconciliationReport: async (request: ReconciliationRequest) => need().reconciliationReport(request),
    async close() {
      await inner?.close();
    },
  };
}
