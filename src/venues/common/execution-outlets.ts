/**
 * The plumbing every execution client (ccxt, Kalshi, Polymarket, Alpaca) shares, so each client holds only
 * its venue's protocol: venue reports to the kernel (held until the kernel listens, so nothing said while it
 * connects is lost), the wire messages it sent (journaled as VenueMessageSent), and the commands in flight
 * (`runCommand`, `drainInflight`).
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

/**
 * Runs one command of an execution client. The answer resolves once `run` calls `written` (the command's
 * intent is durable, so the kernel may go on) or when the command ends, whichever is first; a failure goes
 * to `onError`. The task stays in `inflight` until it ends, so the client's close() can wait for it
 * (`drainInflight`).
 */
export function runCommand(inflight: Set<Promise<unknown>>, run: (written: () => void) => Promise<void>, onError: (e: unknown) => void): Promise<void> {
  let written!: () => void;
  const out = new Promise<void>((resolve) => (written = resolve));
  const task: Promise<void> = run(written).catch(onError).finally(() => {
    written();
    inflight.delete(task);
  });
  inflight.add(task);
  return out;
}

/** Waits until no command or background task of a client is in flight (tasks may start others while it waits). */
export async function drainInflight(inflight: Set<Promise<unknown>>): Promise<void> {
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
}
