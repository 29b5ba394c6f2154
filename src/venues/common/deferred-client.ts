/**
 * An execution client whose implementation is loaded when it connects. The venue registry is read by
 * every command (replay, parity, query…), so an adapter's `newClient` must not pull in what only trading
 * needs: Polymarket's signing loads ethers (about a third of a `tapedeck parity` start-up). The wrapper
 * answers exactly what the loaded client answers: listeners registered before `connect()` are handed
 * over when it loads, and anything else before `connect()` is CLIENT_NOT_CONNECTED.
 *
 * For clients that implement `onSent`; `reconciliationReport` only where the client has it (the port's
 * optional parts are capabilities: a wrapper that claimed one its client lacks would change what the live
 * runner does).
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { ExecutionClient, ReconciliationRequest } from '../port.js';

type WithSent = ExecutionClient & Required<Pick<ExecutionClient, 'onSent'>>;
type Reconciling = WithSent & Required<Pick<ExecutionClient, 'reconciliationReport'>>;

/** A client that reconciles (Polymarket, Alpaca). */
export function deferredExecutionClient(venue: string, load: () => Promise<Reconciling>): Reconciling;
/** A client that cannot be reconciled (ccxt): the wrapper has no `reconciliationReport` either. */
export function deferredExecutionClient(venue: string, load: () => Promise<WithSent>, options: { reconciles: false }): WithSent;
export function deferredExecutionClient(venue: string, load: () => Promise<WithSent>, options: { reconciles: boolean } = { reconciles: true }): WithSent {
  let inner: WithSent | null = null;
  const reportListeners: Array<(e: AnyEnvelope) => void> = [];
  const sentListeners: Array<(e: AnyEnvelope) => void> = [];
  const need = (): WithSent => {
    if (inner === null) throw new TapedeckError('CLIENT_NOT_CONNECTED', `${venue} execution client: connect() first`);
    return inner;
  };
  const client: WithSent = {
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
    async close() {
      await inner?.close();
    },
  };
  if (options.reconciles) {
    client.reconciliationReport = async (request: ReconciliationRequest) => {
      const loaded = need();
      if (loaded.reconciliationReport === undefined) throw new TapedeckError('CLIENT_NOT_CONNECTED', `${venue} execution client cannot report for reconciliation`);
      return loaded.reconciliationReport(request);
    };
  }
  return client;
}
