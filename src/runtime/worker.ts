/**
 * A worker: one member of a consumer group that runs the kernel (the engine's, unchanged) on the
 * partitions the group gives it. Each partition is its own run, `run-<uuid(group, topic, partition)>`,
 * with its own kernel: a partition is one instrument's market in order, so time, the simulated venue's
 * reports and the strategy's state never mix instruments whose batches arrive interleaved.
 *
 * Exactly once, per store: each input is journaled with its bus offset in its metadata, in the same
 * append as the decisions it caused; offsets are committed to the group only after that append is
 * durable. A restarted worker reads its runs back: the kernel is fed the recorded inputs again (the
 * engine's resume) and any record at or below a partition's recorded offset, or whose event id the
 * run already holds, is skipped. So a crash between the durable append and the commit repeats nothing.
 * A rebalance waits for the batch in hand (committed before the handler returns), so a partition
 * changes owner exactly at its committed offset.
 *
 * A worker stopped gracefully (`stop()`: SIGTERM or SIGINT in the CLI) leaves the group, whose last
 * batches are committed, and ends each partition run it holds or was assigned with RunEnded, so
 * `tapedeck parity` on it is complete. Restarted on the same store, it continues such a partition in a
 * new run (`run-<uuid(group, topic, partition, n)>`, n = 1, 2, ...) with a fresh kernel: from the
 * stored offsets, skipping event ids any of the partition's runs holds, with the config the previous
 * run recorded. A run that never ended (the worker was killed) is resumed instead.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { decodeEvent } from '../bus/codec.js';
import type { Bus, ConsumedBatch, ConsumedMessage, GroupMember } from '../bus/port.js';
import type { EventStore } from '../store/port.js';
import { resolveRunConfig, type ResolvedRunConfig, type runConfigSchema } from './config.js';
import { runKernel, type RunSummary } from './engine.js';
import { KIND_HEADER, surveyFromRecord, type SurveyRecord } from './gateway.js';
import type { z } from 'zod';

export interface WorkerOptions {
  bus: Bus;
  store: EventStore;
  group: string;
  topic: string;
  strategy: string;
  config: z.output<typeof runConfigSchema>;
  configLabel?: string;
  sessionTimeoutMs?: number;
  maxBatchBytes?: number;
  /** Called after every durable batch. */
  onBatch?: (info: { partition: number; inputs: number; committed: bigint }) => void | Promise<void>;
  onAssignment?: (partitions: number[]) => void;
}

/** The partition's n-th run in a store (n > 0 after a graceful stop ended the previous one). */
export function workerRunId(group: string, topic: string, partition: number, generation = 0): string {
  return uuidFromName('tapedeck/worker', generation === 0 ? `${group}/${topic}/${partition}` : `${group}/${topic}/${partition}/${generation}`);
}

interface Job {
  items: Array<{ env: AnyEnvelope; m: ConsumedMessage }>;
  resolve: () => void;
}

/** One partition's run: the engine pulls inputs from here; the group handler pushes batches in. */
class PartitionRun {
  /** Highest offset journaled in this store for this partition, by any of its runs (-1: none). */
  checkpoint = -1n;
  /** Event ids of the inputs of every run of this partition in this store. */
  readonly seen = new Set<string>();
  private jobs: Job[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private current: ConsumedMessage | null = null;
  private journal: { durable(): Promise<void>; resync(): Promise<void> } | null = null;
  private ready!: () => void;
  readonly opened = new Promise<void>((r) => (this.ready = r));
  result: Promise<RunSummary> | null = null;

  constructor(public runId: string, readonly partition: number) {}

  /** Reads what this store already holds of run `runId` (this one or an earlier run of the partition): offsets, event ids, whether it ended. */
  async load(store: EventStore, topic: string, runId = this.runId): Promise<{ exists: boolean; ended: string | null }> {
    const stream = `run-${runId}`;
    if ((await store.streamRevision(stream)) < 0) return { exists: false, ended: null };
    let ended: string | null = null;
    for await (const e of store.readStream(stream)) {
      if (e.type === 'RunEnded') ended = String((e.data as { outcome?: unknown }).outcome);
      if (e.metadata.role !== 'input') continue;
      this.seen.add(e.id);
      const bus = e.metadata.bus as { topic?: string; partition?: number; offset?: string } | undefined;
      if (bus?.topic === topic && bus.partition === this.partition && bus.offset !== undefined) {
        const o = BigInt(bus.offset);
        if (o > this.checkpoint) this.checkpoint = o;
      }
    }
    return { exists: true, ended };
  }

  attach(j: { durable(): Promise<void>; resync(): Promise<void> }): void {
    this.journal = j;
    this.ready();
  }

  metadata(): Record<string, unknown> | undefined {
    const m = this.current;
    return m === null ? undefined : { bus: { topic: m.topic, partition: m.partition, offset: m.offset.toString() } };
  }

  /** Resolves once every item went through the kernel and is durable in the store. */
  submit(items: Job['items']): Promise<void> {
    return new Promise<void>((resolve) => {
      this.jobs.push({ items, resolve });
      this.wake?.();
    });
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *events(): AsyncGenerator<AnyEnvelope> {
    while (true) {
      while (this.jobs.length === 0 && !this.closed) await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
      const job = this.jobs.shift();
      if (job === undefined) return;
      await this.journal!.resync();
      for (const it of job.items) {
        this.current = it.m;
        this.seen.add(it.env.id);
        if (it.m.offset > this.checkpoint) this.checkpoint = it.m.offset;
        yield it.env;
      }
      this.current = null;
      await this.journal!.durable();
      job.resolve();
    }
  }
}

export interface WorkerHandle {
  /** Leaves the group (its last batches committed), ends the runs it holds or was assigned with RunEnded, and returns their summaries. */
  stop(): Promise<RunSummary[]>;
  /** Rejects when the worker fails (store, strategy, bus). */
  readonly failed: Promise<never>;
}

export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const runs = new Map<number, PartitionRun>();
  await o.bus.waitForTopic(o.topic);
  const member: GroupMember = await o.bus.member({ group: o.group, topics: [o.topic], fromBeginning: true,
    ...(o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: o.sessionTimeoutMs } : {}),
    ...(o.maxBatchBytes !== undefined ? { maxBatchBytes: o.maxBatchBytes } : {}),
  });
  /** The gateway's survey (the same record opens every partition), once seen. */
  let knownSurvey: SurveyRecord | null = null;
  /** A partition taken over mid-stream starts past its survey: read the record that opens it. */
  const surveyOf = async (partition: number, ctx: { heartbeat(): Promise<void> }): Promise<SurveyRecord | null> => {
    if (knownSurvey !== null) return knownSurvey;
    await ctx.heartbeat();
    for await (const m of o.bus.readPartition(o.topic, partition, 0n)) {
      if (m.headers[KIND_HEADER] === 'survey') knownSurvey = parseSurvey(m);
      break;
    }
    await ctx.heartbeat();
    return knownSurvey;
  };
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  member.failed.catch((e) => fail(e));
  let lastAssignment = '';
  let assigned: number[] = [];
  member.onAssignment((ps) => {
    const mine = ps.filter((p) => p.topic === o.topic).map((p) => p.partition).sort((a, b) => a - b);
    if (mine.join(',') === lastAssignment) return; // kafkajs reports a join more than once
    lastAssignment = mine.join(',');
    assigned = mine;
    o.onAssignment?.(mine);
  });

  /**
   * The partition's run: the open one resumed, or a new one after the last that ended (its offsets and
   * event ids carried over). `resumeOnly`: null unless an open run exists (a graceful stop ends it).
   */
  const open = async (partition: number, survey: SurveyRecord | null, resumeOnly = false): Promise<PartitionRun | null> => {
    let run = runs.get(partition);
    if (run) return run;
    run = new PartitionRun(workerRunId(o.group, o.topic, partition), partition);
    let previous: string | null = null;
    for (let generation = 1; ; generation++) {
      const st = await run.load(o.store, o.topic);
      if (!st.exists || st.ended === null) {
        if (st.exists) previous = run.runId;
        break;
      }
      // Fail closed: a run that failed or halted is looked at before anything trades on after it.
      if (st.ended !== 'completed') throw new TapedeckError('RUN_ENDED', `run ${run.runId} (partition ${partition}) ended ${st.ended}: see tapedeck audit, then use another --group or store`, { stream: `run-${run.runId}` });
      previous = run.runId;
      run.runId = workerRunId(o.group, o.topic, partition, generation);
    }
    if (resumeOnly && previous !== run.runId) return null;
    let config: ResolvedRunConfig;
    if (survey !== null) {
      config = resolveRunConfig(o.strategy, o.config, surveyFromRecord(survey), o.configLabel);
    } else if (previous !== null) {
      // Past the survey: the (previous) run's manifest holds the config it was resolved to.
      const recorded = (await firstEvent(o.store, `run-${previous}`))?.data as { manifest?: { config?: ResolvedRunConfig } } | undefined;
      const c = recorded?.manifest?.config;
      if (c === undefined) throw new TapedeckError('RUN_MALFORMED', `run ${previous} has no manifest config`, { stream: `run-${previous}` });
      if (c.strategy !== o.strategy) throw new TapedeckError('RUN_CONFIG_CHANGED', `run ${previous} (partition ${partition}) runs strategy ${c.strategy}, not ${o.strategy}: use another --group or store`, { field: '--strategy' });
      config = c;
    } else {
      return null;
    }
    const r = run;
    runs.set(partition, r);
    r.result = runKernel({
      mode: 'paper',
      store: o.store,
      config,
      runId: r.runId,
      sourceLabel: `kafka:${o.topic}#${partition} group ${o.group}`,
      events: r.events(),
      // Its source ends only on a graceful stop (see stop()), which ends the run.
      resume: true,
      inputMetadata: () => r.metadata(),
      onJournal: (j) => r.attach(j),
    });
    r.result.catch((e) => fail(e));
    await Promise.race([r.opened, failed]);
    return r;
  };

  const handle = async (batch: ConsumedBatch, ctx: { commit(next: bigint): Promise<void>; heartbeat(): Promise<void> }): Promise<void> => {
    if (batch.topic !== o.topic || batch.messages.length === 0) return;
    let run = runs.get(batch.partition) ?? null;
    const items: Array<{ env: AnyEnvelope; m: ConsumedMessage }> = [];
    for (const m of batch.messages) {
      if (m.headers[KIND_HEADER] === 'survey') {
        knownSurvey ??= parseSurvey(m);
        run ??= await open(batch.partition, parseSurvey(m));
        continue;
      }
      run ??= await open(batch.partition, null);
      run ??= await open(batch.partition, await surveyOf(batch.partition, ctx));
      if (run === null) {
        throw new TapedeckError('NO_SURVEY', `partition ${batch.partition} of ${o.topic} has data before any survey record: was it published by tapedeck gateway?`, { topic: o.topic, partition: batch.partition, kafkaOffset: m.offset.toString() });
      }
      // Durable here already, or published twice (a gateway run again): applied once.
      if (m.offset <= run.checkpoint || run.seen.has(m.eventId)) continue;
      const env = decodeEvent(m);
      run.seen.add(env.id);
      items.push({ env, m });
    }
    if (run !== null && items.length > 0) await Promise.race([run.submit(items), failed]);
    const next = batch.messages.at(-1)!.offset + 1n;
    await ctx.commit(next);
    await o.onBatch?.({ partition: batch.partition, inputs: items.length, committed: next });
  };

  await member.run(handle);
  return {
    failed,
    stop: async () => {
      await member.stop();
      // Partitions assigned but given no record since the start: their open runs end too.
      for (const p of assigned) if (!runs.has(p)) await open(p, null, true);
      for (const r of runs.values()) r.close();
      const out: RunSummary[] = [];
      for (const r of runs.values()) out.push(await r.result!);
      return out;
    },
  };
}

async function firstEvent(store: EventStore, stream: string) {
  for await (const e of store.readStream(stream, { maxCount: 1 })) return e;
  return undefined;
}

function parseSurvey(m: ConsumedMessage): SurveyRecord {
  try {
    const v = JSON.parse(m.value.toString('utf8')) as SurveyRecord;
    if (!Array.isArray(v.instruments) || typeof v.source !== 'string') throw new Error('expected {source, partitions, instruments[]}');
    for (const i of v.instruments) {
      if (typeof i.instrument !== 'string' || typeof i.venue !== 'string' || !Number.isInteger(i.priceScale) || !Number.isInteger(i.qtyScale) || !Number.isInteger(i.events)) throw new Error(`bad instrument entry ${JSON.stringify(i)}`);
    }
    return v;
  } catch (e) {
    throw new TapedeckError('BUS_RECORD_INVALID', `survey record: ${(e as Error).message}`, { topic: m.topic, partition: m.partition, kafkaOffset: m.offset.toString() });
  }
}
