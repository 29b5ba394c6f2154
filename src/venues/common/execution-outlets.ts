/**
 * The plumbing every execution client (ccxt, Kalshi, Polymarket, Alpaca) shares, so each client holds only
 * its venue's protocol: * venue reports to the kernel (held until the kernel listens, so nothing said while it connects is lost)
 * and the wire messages it sent (journaled as VenueMessageSent).
 */
import type { AnyEnvelope } from '../../../domain/events/envelope.js';

export class ReportOutlets {
  private readonly reports: Array<(e: AnyEnvelope) => void> = [];
  private readonly sents: Array<(e: AnyEnvelope) => void> = [];
  private readonly buffered: AnyEnvelope[] = [];

  onReport(listener: (event: AnyEnvelope) => void): void {
    this.reports.push(listener);
    for (const e of this.buffered.splice(0)) listener(e);
  }

  onSent(listener: (event: AnyEnvelope) => void): void {
    this.sents.push(listener);
  }

  report(env: AnyEnvelope): void {
    if (this.reports.length === 0) this.buffered.push(env);
    for (const l of this.reports) l(env);
  }

  sent(env: AnyEnvelope): void {
    for (const l of this.sents) l(env);
  }
}
