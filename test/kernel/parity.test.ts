/**
 * Parity compares whole decisions: a recorded run is re-fed and every decision must match in full
 * (state hash, cause, order ids), not only in the fields normalized for the cross-run hash; a run that
 * lacks its end, was abandoned, or has revisions missing is never identical. The recorded run is
 * tampered with through a read-only view of its stream (what a damaged or edited log would serve).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticL2 } from '../../datasets/synthetic/l2.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { checkParity } from '../../replay/parity.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { runKernel } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { tmpDir } from '../helpers/tmp.js';
import { storeView } from '../helpers/store.js';

const RUN = 'parity-run';
const config: ResolvedRunConfig = {
  strategy: 'market-maker',
  seed: 7,
  params: { venue: 'SIMX', instrument: 'SIMX:BTCUSD', priceScale: 2, qtyScale: 4, quoteQtyLots: 100, halfSpreadTicks: 1, maxInventoryLots: 2000, sizeJitterLots: 50 },
  risk: { maxOpenOrders: 4, defaults: { maxOrderQtyLots: 140 } },
  venues: [{ venue: 'SIMX', latency: { submitNs: '500000', ackNs: '500000', cancelNs: '500000', jitterNs: 200000 }, fees: { makerBps: '-0.5', takerBps: '5' }, seed: 7 }],
};

async function* feed(events: AnyEnvelope[]): AsyncIterable<AnyEnvelope> {
  yield* events;
}

let recorded: RecordedEvent[] = [];
const decisionsAt = (): number[] => recorded.flatMap((e, i) => (e.metadata.role === 'decision' ? [i] : []));
/** Decisions that carry the strategy's decision record (state hash, cause), as [event index, decision index]. */
const withRecordAt = (): Array<[number, number]> =>
  decisionsAt().flatMap((at, index) => ((recorded[at]!.data as { decision?: unknown }).decision !== undefined ? [[at, index] as [number, number]] : []));
/** The run with event `i` replaced by `f(event)` (a deep copy; the original stays as recorded). */
function edited(i: number, f: (e: RecordedEvent) => RecordedEvent | null): RecordedEvent[] {
  return recorded.flatMap((e, j) => {
    if (j !== i) return [e];
    const out = f(structuredClone(e));
    return out === null ? [] : [out];
  });
}

beforeAll(async () => {
  const t = tmpDir('td-parity-');
  const store = await EmbeddedEventStore.open(t.dir);
  try {
    await runKernel({ mode: 'replay', store, config, sourceLabel: 'synthetic', runId: RUN, events: feed([...syntheticL2({ seed: 3, events: 600 })]) });
    recorded = await collect(store.readStream(`run-${RUN}`));
  } finally {
    await store.close();
    t.cleanup?.();
  }
});

describe('parity of a recorded run', () => {
  it('the run as recorded is identical: every decision compared and the final hash equal', async () => {
    const decisions = decisionsAt().length;
    expect(decisions).toBeGreaterThan(5);
    const r = await checkParity(storeView(recorded), RUN);
    const ended = recorded.at(-1)!;
    expect(ended.type).toBe('RunEnded');
    expect(r).toMatchObject({ identical: true, complete: true, incomplete: [], decisions, codeHashMatches: true });
    expect(r.inputs).toBe(recorded.filter((e) => e.metadata.role === 'input').length);
    expect(r.hash).toBe((ended.data as { decisionsHash: string }).decisionsHash);
    expect(r.recordedHash).toBe(r.hash);
    expect(r.divergence).toBeUndefined();
  });

  it('a decision whose state hash differs is a divergence at that decision, with both versions', async () => {
    const [at, index] = withRecordAt()[2]!;
    const run = edited(at, (e) => {
      (e.data as { decision: { stateHash: string } }).decision.stateHash = 'f'.repeat(64);
      return e;
    });
    const r = await checkParity(storeView(run), RUN);
    expect(r.identical).toBe(false);
    expect(r.decisions).toBe(index);
    expect(r.divergence!.index).toBe(index);
    const d = r.divergence!.actual as { type: string; data: { decision: { stateHash: string } }; expectedFull: { data: { decision: { stateHash: string } } } };
    expect(d.type).toBe(recorded[at]!.type);
    expect(d.expectedFull.data.decision.stateHash).toBe('f'.repeat(64));
    expect(d.data.decision.stateHash).toBe((recorded[at]!.data as { decision: { stateHash: string } }).decision.stateHash);
    // The input being re-fed when it appeared: the one recorded just before it, or (for a decision on a
    // simulated report released ahead of an input) just after it.
    const before = recorded.slice(0, at).filter((e) => e.metadata.role === 'input').at(-1)!;
    const after = recorded.slice(at).find((e) => e.metadata.role === 'input')!;
    expect([before.position, after.position]).toContain(r.divergence!.inputPosition);
  });

  it('a decision citing another cause event is a divergence; where the cause sits in the log is not compared', async () => {
    const [at, index] = withRecordAt()[1]!;
    const other = await checkParity(storeView(edited(at, (e) => {
      (e.data as { decision: Record<string, unknown> }).decision.causeEventId = 'another-cause';
      return e;
    })), RUN);
    expect(other.identical).toBe(false);
    expect(other.divergence?.index).toBe(index);
    // The cause's revision (or, in older runs, position) depends on the store: the cause is compared by id.
    const moved = await checkParity(storeView(edited(at, (e) => {
      const d = (e.data as { decision: Record<string, unknown> }).decision;
      d.causeRevision = Number(d.causeRevision ?? 0) + 1;
      d.causePosition = 12_345;
      return e;
    })), RUN);
    expect(moved).toMatchObject({ identical: true, complete: true });
  });

  it('a decision that differs in what it decides is a divergence in the normalized form', async () => {
    const at = decisionsAt().find((i) => recorded[i]!.type === 'OrderIntended')!;
    const index = decisionsAt().indexOf(at);
    const run = edited(at, (e) => {
      (e.data as { qtyLots: number }).qtyLots += 1;
      return e;
    });
    const r = await checkParity(storeView(run), RUN);
    expect(r.identical).toBe(false);
    expect(r.divergence!.index).toBe(index);
    expect(r.divergence!.actual).toMatchObject({ type: 'OrderIntended', data: { orderId: expect.stringMatching(/^#\d+$/), qtyLots: (recorded[at]!.data as { qtyLots: number }).qtyLots } });
    expect(r.divergence!.expected).toMatchObject({ type: 'OrderIntended', data: { qtyLots: (recorded[at]!.data as { qtyLots: number }).qtyLots + 1 } });
    // The normalized form leaves out what differs between runs: no state hash, no cause revision.
    expect((r.divergence!.actual as { data: { decision: object } }).data.decision).not.toHaveProperty('stateHash');
  });

  it('a recorded decision missing, or one too many, is a divergence', async () => {
    const last = decisionsAt().at(-1)!;
    const missing = await checkParity(storeView(edited(last, () => null)), RUN);
    expect(missing.identical).toBe(false);
    expect(missing.divergence).toMatchObject({ index: decisionsAt().length - 1, expected: null });
    // An extra recorded decision at the end that the re-fed run never makes.
    const extra = [...recorded.slice(0, -1), { ...structuredClone(recorded[last]!), revision: recorded.length - 1 }, recorded.at(-1)!];
    const r = await checkParity(storeView(extra), RUN);
    expect(r.identical).toBe(false);
    expect(r.divergence).toMatchObject({ index: decisionsAt().length, inputPosition: null, actual: null });
  });

  it('a final hash that differs is not identical, though every decision matched', async () => {
    const end = recorded.length - 1;
    const r = await checkParity(storeView(edited(end, (e) => {
      (e.data as { decisionsHash: string }).decisionsHash = '0'.repeat(64);
      return e;
    })), RUN);
    expect(r).toMatchObject({ identical: false, complete: true, decisions: decisionsAt().length, recordedHash: '0'.repeat(64) });
    expect(r.divergence).toBeUndefined();
  });
});

describe('runs that cannot be compared in full', () => {
  it('no RunEnded: incomplete, naming the last event', async () => {
    const run = recorded.slice(0, -1);
    const last = run.at(-1)!;
    const r = await checkParity(storeView(run), RUN);
    expect(r).toMatchObject({ identical: false, complete: false, recordedHash: null });
    expect(r.incomplete).toEqual([`the run has no RunEnded (killed, abandoned or still running): its last event is ${last.type} at revision ${last.revision}, position ${last.position}`]);
  });

  it('abandoned and never resumed: says so; abandoned and then ended: whole', async () => {
    const abandoned = { ...structuredClone(recorded.at(-1)!), type: 'RunAbandoned', data: { reason: 'owner 42 is gone' }, metadata: { role: 'run' } };
    const open = await checkParity(storeView([...recorded.slice(0, -1), abandoned]), RUN);
    expect(open.complete).toBe(false);
    expect(open.incomplete[0]).toBe('the run was abandoned: owner 42 is gone');
    expect(open.incomplete).toHaveLength(2);
    const silent = await checkParity(storeView([...recorded.slice(0, -1), { ...abandoned, data: {} }]), RUN);
    expect(silent.incomplete[0]).toBe('the run was abandoned: its process died');
    const ended = await checkParity(storeView([...recorded.slice(0, -1), { ...abandoned, revision: recorded.length - 1 }, { ...recorded.at(-1)!, revision: recorded.length }]), RUN);
    expect(ended).toMatchObject({ identical: true, complete: true, incomplete: [] });
  });

  it('revisions missing from the stream: incomplete, with the range', async () => {
    // Drop two events that are neither inputs nor decisions (the re-fed decisions still match).
    const gone = recorded.flatMap((e, i) => (i > 0 && e.metadata.role !== 'input' && e.metadata.role !== 'decision' ? [i] : [])).slice(0, 1)[0]!;
    const run = recorded.filter((_, i) => i !== gone);
    const r = await checkParity(storeView(run), RUN);
    expect(r.identical).toBe(false);
    expect(r.complete).toBe(false);
    expect(r.incomplete).toEqual([`revisions ${gone}..${gone} of run-${RUN} are unreadable (the store is damaged: run tapedeck store verify)`]);
  });

  it('a run that does not exist, or does not start with RunStarted, is refused', async () => {
    await expect(checkParity(storeView([]), RUN)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(checkParity(storeView(recorded.slice(1)), RUN)).rejects.toMatchObject({ code: 'RUN_MALFORMED' });
  });
});

describe('what parity re-feeds with', () => {
  /** The run with its manifest (the RunStarted event) changed by `f`. */
  const withManifest = (f: (m: { mode: string; codeHash: string; config: ResolvedRunConfig }) => void): RecordedEvent[] =>
    edited(0, (e) => {
      f((e.data as { manifest: { mode: string; codeHash: string; config: ResolvedRunConfig } }).manifest);
      return e;
    });

  it('a live run simulates no venue: its fills were inputs, so this run (whose fills came from the simulator) diverges when called live', async () => {
    const r = await checkParity(storeView(withManifest((m) => (m.mode = 'live'))), RUN);
    expect(r.identical).toBe(false);
    expect(r.divergence).toBeDefined();
  });

  it('says whether the code that recorded the run is this code, on an equal run and on a divergent one', async () => {
    const other = await checkParity(storeView(withManifest((m) => (m.codeHash = '0'.repeat(64)))), RUN);
    expect(other).toMatchObject({ identical: true, codeHashMatches: false });
    const at = decisionsAt().find((i) => recorded[i]!.type === 'OrderIntended')!;
    const bump = (e: RecordedEvent): RecordedEvent => {
      (e.data as { qtyLots: number }).qtyLots += 1;
      return e;
    };
    const divergent = await checkParity(storeView(edited(at, bump)), RUN);
    expect(divergent).toMatchObject({ identical: false, codeHashMatches: true });
    // Inline inputs: the divergence says where the input sits in the log, and has no referenced-input number.
    expect(divergent.divergence).not.toHaveProperty('inputNumber');
    expect(divergent.divergence!.inputPosition).toEqual(expect.any(Number));
    const both = recorded.map((e, i) => (i === 0 || i === at ? structuredClone(e) : e));
    (both[0]!.data as { manifest: { codeHash: string } }).manifest.codeHash = '0'.repeat(64);
    bump(both[at]!);
    expect(await checkParity(storeView(both), RUN)).toMatchObject({ identical: false, codeHashMatches: false });
  });

  it('a kernel that throws on a re-fed input is a divergence at that input, carrying the error', async () => {
    // The simulated venue renamed: the strategy's first order goes to a venue the run does not simulate.
    const run = withManifest((m) => (m.config = { ...m.config, venues: m.config.venues.map((v) => ({ ...v, venue: 'SIMY' })) }));
    const r = await checkParity(storeView(run), RUN);
    expect(r.identical).toBe(false);
    expect(r.divergence!.inputPosition).not.toBeNull();
    expect(recorded.find((e) => e.position === r.divergence!.inputPosition)!.metadata.role).toBe('input');
    expect(r.divergence!.actual).toMatchObject({ error: expect.stringContaining('UNKNOWN_VENUE') });
    expect(r.divergence!.index).toBe(r.decisions);
  });
});

describe('what parity refuses, and where', () => {
  it('a run that does not exist or does not start with RunStarted: the message names the stream, the place names the flag or stream', async () => {
    await expect(checkParity(storeView([]), RUN)).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND', message: `no run "${RUN}" in this store (its stream run-${RUN} is empty)`, where: { field: '--run' },
    });
    await expect(checkParity(storeView(recorded.slice(1)), RUN)).rejects.toMatchObject({
      code: 'RUN_MALFORMED', message: `stream run-${RUN} does not start with RunStarted`, where: { stream: `run-${RUN}` },
    });
  });

  it('a recorded decision or input that cannot be decoded is refused naming its stream and position', async () => {
    for (const role of ['decision', 'input']) {
      const at = recorded.findIndex((e, i) => i > 0 && e.metadata.role === role);
      const run = edited(at, (e) => ({ ...e, type: 'NoSuchEvent' }));
      await expect(checkParity(storeView(run), RUN)).rejects.toMatchObject({
        code: 'EVENT_UNKNOWN_TYPE', where: { stream: `run-${RUN}`, position: recorded[at]!.position, field: 'type' },
      });
    }
  });
});
