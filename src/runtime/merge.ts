/**
 * Several sources as one input stream, for strategies that trade across venues (an event arbitrage
 * between Polymarket and Kalshi, a cross-exchange spread): `replay A B` and `paper A B`.
 *
 * Replay merges in event-time order, deterministically: the next event is the earliest head of all
 * sources, ties broken by the order the sources were given (then by each source's own order, which is
 * never changed). The same files in the same order always give the same stream, so decisions and hashes
 * repeat. A source that goes back in time is not re-sorted: its events keep their order, and the merge
 * still only compares heads, so the result is well-defined.
 *
 * Paper (and live) cannot wait for a quiet source without holding every other one back in real time,
 * so they interleave in arrival order, and when several sources have an event waiting at once the
 * earliest event time goes first (ties by source order). What arrived is journaled in the run, so
 * parity of a paper run replays exactly what it saw.
 */
import type { AnyEnvelope } from '../../domain/events/envelope.js';

type Head = { done: false; value: AnyEnvelope } | { done: true };

function before(a: AnyEnvelope, ai: number, b: AnyEnvelope, bi: number): boolean {
  return a.eventTimeNs < b.eventTimeNs || (a.eventTimeNs === b.eventTimeNs && ai < bi);
}

/** Deterministic k-way merge by (event time, source index). One source passes through unchanged. */
export function mergeByEventTime(sources: readonly AsyncIterable<AnyEnvelope>[]): AsyncIterable<AnyEnvelope> {
  if (sources.length === 1) return sources[0]!;
  return {
    async *[Symbol.asyncIterator]() {
      const its = sources.map((s) => s[Symbol.asyncIterator]());
      try {
        const heads: Head[] = await Promise.all(its.map(async (it) => toHead(await it.next())));
        for (;;) {
          let best = -1;
          for (let i = 0; i < heads.length; i++) {
            const h = heads[i]!;
            if (h.done) continue;
            if (best < 0 || before(h.value, i, (heads[best] as { value: AnyEnvelope }).value, best)) best = i;
          }
          if (best < 0) return;
          const h = heads[best] as { value: AnyEnvelope };
          yield h.value;
          heads[best] = toHead(await its[best]!.next());
        }
      } finally {
        await Promise.allSettled(its.map((it) => it.return?.()));
      }
    },
  };
}

/**
 * Arrival-order merge for real-time sources (paper, live): never waits for a quiet source; among
 * events already waiting, the earliest event time goes first (ties by source index).
 */
export function mergeArrivals(sources: readonly AsyncIterable<AnyEnvelope>[]): AsyncIterable<AnyEnvelope> {
  if (sources.length === 1) return sources[0]!;
  return {
    async *[Symbol.asyncIterator]() {
      const its = sources.map((s) => s[Symbol.asyncIterator]());
      const ready: (Head | null)[] = its.map(() => null);
      const pending: (Promise<void> | null)[] = its.map(() => null);
      let failure: { error: unknown } | null = null;
      const pull = (i: number): void => {
        pending[i] = its[i]!.next().then(
          (r) => { ready[i] = toHead(r); pending[i] = null; },
          (e: unknown) => { failure ??= { error: e }; ready[i] = { done: true }; pending[i] = null; },
        );
      };
      try {
        its.forEach((_, i) => pull(i));
        for (;;) {
          if (failure !== null) throw (failure as { error: unknown }).error;
          let best = -1;
          let live = 0;
          for (let i = 0; i < ready.length; i++) {
            const h = ready[i]!;
            if (h === null) { live++; continue; }
            if (h.done) continue;
            live++;
            if (best < 0 || before(h.value, i, (ready[best] as { value: AnyEnvelope }).value, best)) best = i;
          }
          if (best >= 0) {
            const h = ready[best] as { value: AnyEnvelope };
            ready[best] = null;
            pull(best);
            yield h.value;
            continue;
          }
          if (live === 0) return;
          await Promise.race(pending.filter((p): p is Promise<void> => p !== null));
        }
      } finally {
        // Not awaited: a source with a read pending (a quiet socket) finishes its return() only when
        // that read does; the caller closes the feeds, which ends them.
        for (const it of its) void it.return?.().catch(() => undefined);
      }
    },
  };
}

function toHead(r: IteratorResult<AnyEnvelope>): Head {
  return r.done === true ? { done: true } : { done: false, value: r.value };
}
