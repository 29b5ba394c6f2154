/**
 * The one event-time policy of every venue parser: **event time is venue time, decided by frame order
 * alone**, so reading a capture and reading the same frames live over a socket stamp the same times.
 * The receive time stays in receiveTimeNs and never becomes an event time while the stream has
 * carried a venue time.
 *
 *   stamp(ns, out, key?)  a time the venue wrote on the message (trade time, update time): it becomes the
 *                         latest venue time seen, and releases what was held for it (see hold)
 *   untimed(ctx)          a message the venue did not timestamp (Binance bookTicker, a REST snapshot, an
 *                         instrument definition): the latest venue time seen. Before the stream has
 *                         carried any venue time there is none to take; a caller that can wait holds
 *                         the message (awaitVenueTime), one that cannot (Binance's book procedure
 *                         re-stamps its snapshots itself) gets the receive time
 *   hold(events, key?)    keep messages until the next stamp (of `key`, or of anything when no key) and
 *                         give them that stamp's time: a Coinbase level2 snapshot waits for its
 *                         product's first update, a Kraken ticker before any timed frame for the next one
 *   awaitVenueTime(evs)   messages without a time before the stream carried any: hold them (bounded) until
 *                         the first venue time
 *   flush()               end of stream: what is still held, as it was made
 *
 * One instance per parser (per stream of frames). Several sockets merged into one parser (Kraken's
 * three connections) share the latest venue time in their merge order, which is the network's, as the
 * order of their events is.
 */
import type { AnyEnvelope } from '../../../domain/events/envelope.js';
import type { FrameContext } from './frame.js';

/** The key of messages held until the next venue time of anything. */
const ANY = '\u0000any';

export class VenueClock {
  private latest: bigint | null = null;
  private readonly held = new Map<string, AnyEnvelope[]>();

  /** @param maxWaiting bound on messages waiting for the stream's first venue time (awaitVenueTime). */
  constructor(private readonly maxWaiting = 1024) {}

  /** The latest venue time seen, ns; null before the first. */
  get latestNs(): bigint | null {
    return this.latest;
  }

  hasVenueTime(): boolean {
    return this.latest !== null;
  }

  /**
   * A venue-stamped time: recorded (the latest is the greatest seen; a venue's clock may step back across
   * instruments) and returned. Messages held for `key`, and those held for any venue time, are released
   * into `out` first, stamped with `ns`.
   */
  stamp(ns: bigint, out?: AnyEnvelope[], key?: string): bigint {
    if (this.latest === null || ns > this.latest) this.latest = ns;
    if (this.held.size > 0) {
      // A parser that holds messages must give every stamp somewhere to release them.
      if (out === undefined) throw new Error('VenueClock.stamp: messages are held but no output was given to release them into');
      this.release(ANY, ns, out);
      if (key !== undefined) this.release(key, ns, out);
    }
    return ns;
  }

  /** Event time of a message without a venue time: the latest venue time seen, else the receive time. */
  untimed(ctx: FrameContext): bigint {
    return this.latest ?? ctx.receiveTimeNs;
  }

  /**
   * Holds messages until the next `stamp` for `key` (or, without a key, the next stamp of anything);
   * they keep their place relative to each other. Returns what this replaces when `replace` is set (a
   * newer snapshot for the same key supersedes the waiting one, which is released as it was made).
   */
  hold(events: readonly AnyEnvelope[], key?: string, options: { replace?: boolean } = {}): AnyEnvelope[] {
    const k = key ?? ANY;
    const waiting = this.held.get(k);
    if (waiting === undefined || options.replace === true) {
      this.held.set(k, [...events]);
      return waiting ?? [];
    }
    waiting.push(...events);
    return [];
  }

  /**
   * Messages without a venue time that came before the stream carried any (a Kraken ticker before the
   * first trade or book message): they wait for the first venue time, as `hold` without a key. A stream
   * that never carries one (a ticker-only subscription) has no venue time to give: past `maxWaiting`
   * messages, everything waiting is released as made (with its receive time), so nothing waits forever.
   * Returns what to emit now.
   */
  awaitVenueTime(events: readonly AnyEnvelope[]): AnyEnvelope[] {
    this.hold(events);
    const waiting = this.held.get(ANY)!;
    if (waiting.length <= this.maxWaiting) return [];
    this.held.delete(ANY);
    return waiting;
  }

  /** End of stream: messages still held, as they were made (their provisional event time). */
  flush(): AnyEnvelope[] {
    const out: AnyEnvelope[] = [];
    for (const q of this.held.values()) out.push(...q);
    this.held.clear();
    return out;
  }

  private release(key: string, ns: bigint, out: AnyEnvelope[]): void {
    const q = this.held.get(key);
    if (q === undefined) return;
    this.held.delete(key);
    for (const e of q) out.push({ ...e, eventTimeNs: ns } as AnyEnvelope);
  }
}
