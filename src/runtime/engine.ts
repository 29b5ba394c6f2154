/**
 * The engine: drives the pure kernel (domain/kernel) from a source and journals everything into the
 * run's stream. Replay, paper and live differ only in the source they pass in (and, in live mode,
 * in the execution clients that receive commands); this loop is the same for all of them.
 *
 * Ordering rule (principle 2): events are appended before any venue sees a command. With simulated
 * venues the venue is part of the deterministic kernel, so the journal is flushed in batches; with a
 * real venue the journal is flushed (durably) before each command is sent.
 * Fail closed: if the store fails, the run stops; if the strategy throws or the source breaks, the
 * run stream is closed with RunEnded saying why, and the error is reported. A run that ends while the kill
 * switch is HALTED ends `halted`, with the kill switch's reason.
 *
 * Live, the engine also keeps trading honest with the venues (every event it makes is an input, so parity
 * replays it): an order whose outcome is unknown is queried; a venue session reset (VenueSessionReset) halts
 * trading and marks every working order at that venue unknown, to be queried; after any halt of its own the
 * engine reconciles the ledger (folded from exactly what is journaled) with the venue's report
 * (domain/reconcile), records the fixes and the verdict, and resumes only when the books agree. A command the
 * client certainly did not send (port.ts isNotSent) is recorded as refused; any other send error ends the run.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { invariant, TapedeckError } from '../../domain/core/errors.js';
import { uuidFromName } from '../../domain/core/sha256.js';
import { CATALOG, type EventType, type PayloadOf } from '../../domain/events/catalog.js';
import { envelopeToStored, storedToEnvelope, type AnyEnvelope, type EventEnvelope } from '../../domain/events/envelope.js';
import * as lifecycle from '../../domain/orders/lifecycle.js';
import * as reconcile from '../../domain/reconcile/reconcile.js';
import { initKernel, processInput, releaseDue, summary, type EventRole, type KernelOutput, type KernelSetup, type KernelState } from '../../domain/kernel/kernel.js';
import { clear } from '../../domain/kernel/kernel.js';
import type { VenueCommand } from '../../domain/orders/commands.js';
import { parseRiskConfig } from '../../domain/risk/config.js';
import { getStrategy, parseStrategyParams, strategyIdentity } from '../../domain/strategies/registry.js';
import type { Strategy } from '../../domain/strategies/strategy.js';
import { parseSimVenueConfig } from '../../domain/venue/config.js';
import type { EventData, EventStore } from '../store/port.js';
import { isNotSent, type ExecutionClient } from '../venues/port.js';
import type { ResolvedRunConfig } from './config.js';
import { openControlFeed, type ControlFeed } from './control.js';
import { codeHash, configHash, strategyCodeHash } from './hashes.js';

export type RunMode = 'replay' | 'paper' | 'live';

export interface RunRequest {
  mode: RunMode;
  store: EventStore;
  config: ResolvedRunConfig;
  /** What the source was (a path, a catalog entry), for the manifest. */
  sourceLabel: string;
  events: AsyncIterable<AnyEnvelope>;
  runId?: string;
  /** Live mode: the real venues. */
  executionClients?: Map<string, ExecutionClient>;
  /** Called every `progressEvery` inputs. */
  onProgress?: (inputs: number, decisions: number) => void;
  progressEvery?: number;
  journalBatch?: number;
  /** Live mode: follow the store's control stream (default true). */
  control?: boolean;
  /**
   * Wall-clock bound on what a killed process can lose: whatever is buffered is appended at least this
   * often (default 1000 ms), however few inputs arrived, so a paper session killed mid-way keeps what
   * it saw. 0 turns it off (batches only).
   */
  journalIntervalMs?: number;
  /** The process that owns the run, recorded in its manifest (default: this one). */
  owner?: { pid: number; host: string };
  /** A strategy not in the registry (tests, notebooks); the config's strategy name still labels the run. */
  strategyOverride?: Strategy;
  /**
   * Continue the run `runId` when its stream exists: its recorded inputs are fed to the kernel again
   * (nothing is journaled twice) so the kernel stands exactly where the durable log ends, and new
   * events follow at the next revision. A worker restarted after a crash resumes this way.
   */
  resume?: boolean;
  /** Extra metadata stored with an input, in the same append (a worker keeps the bus offset here). */
  inputMetadata?: (input: AnyEnvelope) => Record<string, unknown> | undefined;
  /** Whether the end of the source closes the run with RunEnded (default true; false leaves it open to resume). */
  endRun?: boolean;
  /**
   * Receives the journal once the run is open: `durable()` is the barrier a worker commits offsets
   * after; `resync()` makes this run durable before another run on the same store appends (turns).
   */
  onJournal?: (journal: { durable(): Promise<void>; resync(): Promise<void> }) => void;
  /**
   * The inputs are market data stored once elsewhere (a catalog dataset) and `events` reads them from the
   * first: the run stream records this reference (InputsReferenced) instead of a copy of every input, and
   * decisions cite their cause by id and number. Replay only.
   */
  inputsReference?: Omit<PayloadOf<'InputsReferenced'>, 'runId'>;
  /**
   * Paper and live: the market data received is appended to the stream `marketdata-<runId>` as it arrives
   * (new data, stored once) and the run references it (InputsReferenced, kind stream) instead of holding
   * it; venue reports and control inputs stay in the run stream. Not with `resume`.
   */
  marketDataStream?: boolean;
}

export interface RunSummary {
  runId: string;
  mode: RunMode;
  strategy: string;
  events: number;
  decisions: number;
  orders: number;
  fills: number;
  realizedPnl: string;
  realizedPnlByCurrency: Record<string, string>;
  decisionsHash: string;
  outcome: 'completed' | 'failed' | 'halted';
  reason?: string;
}

/** Reconciliation after a halt: attempts per venue, and the wall-clock pause between them. */
const RECONCILE_ATTEMPTS_MAX = 8;
const RECONCILE_RETRY_MS = 250;

/** Builds the kernel's setup from a resolved config (shared by runs and parity). */
export function kernelSetup(runId: string, config: ResolvedRunConfig, live = false, strategyOverride?: Strategy): KernelSetup {
  const strategy = strategyOverride ?? getStrategy(config.strategy);
  return {
    runId,
    strategy,
    params: parseStrategyParams(strategy, config.params),
    seed: config.seed,
    strategyId: strategyIdentity(strategy),
    strategyCodeHash: strategyCodeHash(config.strategy),
    configHash: configHash(config),
    risk: parseRiskConfig(config.risk),
    simVenues: live ? [] : config.venues.map((v) => parseSimVenueConfig(v)),
  };
}

/**
 * Buffers the run's events and appends them to `run-<id>` in order. Revisions in the run stream are
 * known exactly: every append names the revision it expects, so it lands right after it or fails.
 * Global positions are the store's to assign (sparse in KurrentDB): the journal only learns them from
 * append results, and checks that they move forward. Other writers (the operator's control stream,
 * other runs, a server store's other clients) may append between its appends: that changes nothing.
 */
class Journal {
  private buf: EventData[] = [];
  /** Revision of the last event handed to the store (appended or in flight); -1 before the first. */
  private revision = -1;
  /** Global position of the last durable event, as the store reported it; -1 before the first append. */
  lastPosition = -1;
  private inflight: Promise<void> = Promise.resolve();
  /** Inputs referenced so far, in a run that references its inputs (null when it holds them). */
  private referencedInputs: number | null = null;
  /** The market-data stream a paper or live session writes its market data to (revision n = input n), or null. */
  private marketData: { stream: string; buf: EventData[]; revision: number } | null = null;
  constructor(private readonly store: EventStore, readonly stream: string, private readonly inputMetadata?: RunRequest['inputMetadata']) {}

  /**
   * Inputs are referenced, not journaled: a referenced input only counts (or, with `marketDataStream`,
   * goes to that stream), and every event of the run stream carries `metadata.inputs` (referenced inputs
   * read when it was made), which places it among them.
   */
  referenceInputs(marketDataStream: string | null = null): void {
    this.referencedInputs = 0;
    if (marketDataStream !== null) this.marketData = { stream: marketDataStream, buf: [], revision: -1 };
  }

  /** Whether `input` is referenced rather than journaled in the run stream. */
  references(input: AnyEnvelope): boolean {
    return this.referencedInputs !== null && (this.marketData === null || CATALOG[input.type].category === 'market');
  }

  /** Referenced inputs added so far: the number the next one will have. */
  get referenced(): number {
    return this.referencedInputs ?? 0;
  }

  /** Continues a stream that already holds events up to `revision` (a resumed run). */
  init(revision = -1): void {
    this.revision = revision;
  }

  /** Revision in the run stream that the next added event will have. */
  nextRevision(): number {
    return this.revision + this.buf.length + 1;
  }

  add(env: AnyEnvelope, role: EventRole): void {
    if (role === 'input' && this.references(env)) {
      this.referencedInputs!++;
      if (this.marketData !== null) {
        const stored = envelopeToStored(env);
        stored.metadata.role = 'input';
        this.marketData.buf.push({ id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata });
      } else if (env.type === 'InstrumentDefined') {
        // Reference data, a handful per run: kept beside the decisions (role `reference`, not an input) so
        // projections and rebuild value positions in the instrument's currencies without reading the dataset.
        const stored = envelopeToStored(env);
        stored.metadata.role = 'reference';
        stored.metadata.inputs = this.referencedInputs;
        this.buf.push({ id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata });
      }
      return;
    }
    const stored = envelopeToStored(env);
    stored.metadata.role = role;
    if (this.referencedInputs !== null) stored.metadata.inputs = this.referencedInputs;
    if (role === 'input' && this.inputMetadata) Object.assign(stored.metadata, this.inputMetadata(env));
    this.buf.push({ id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata });
  }

  get pending(): number {
    return this.buf.length + (this.marketData?.buf.length ?? 0);
  }

  /**
   * Starts appending what is buffered, keeping at most one append in flight so the kernel computes the
   * next batch while the previous one syncs. Order is kept: each append is chained after the one before,
   * and the batch is taken at the call, so a flush from the wall-clock timer and one from the kernel's
   * loop can never reorder or interleave.
   */
  async flush(): Promise<void> {
    const md = this.marketData;
    if (md !== null && md.buf.length > 0) {
      // Market data first: a decision in the run stream never cites an input that is not durable.
      const mdBatch = md.buf;
      md.buf = [];
      const mdExpected = md.revision === -1 ? 'no_stream' : md.revision;
      md.revision += mdBatch.length;
      const mdLast = md.revision;
      this.inflight = this.inflight.then(() => this.store.appendToStream(md.stream, mdBatch, { expectedRevision: mdExpected })).then((r) => {
        invariant(r.nextExpectedRevision === mdLast, `market-data stream ${md.stream}: append acknowledged at revision ${r.nextExpectedRevision}, expected ${mdLast}`);
      });
      this.inflight.catch(() => undefined);
    }
    if (this.buf.length === 0) return;
    const batch = this.buf;
    this.buf = [];
    const expectedRevision = this.revision === -1 ? 'no_stream' : this.revision;
    this.revision += batch.length;
    const lastRevision = this.revision;
    const previous = this.inflight;
    this.inflight = previous.then(() => this.store.appendToStream(this.stream, batch, { expectedRevision })).then((r) => {
      // A store that acknowledged the append elsewhere than asked would make every recorded cause revision wrong.
      invariant(r.nextExpectedRevision === lastRevision, `run stream ${this.stream}: append acknowledged at revision ${r.nextExpectedRevision}, expected ${lastRevision}`);
      invariant(r.position > this.lastPosition, `run stream ${this.stream}: append acknowledged at position ${r.position}, not after ${this.lastPosition}`);
      this.lastPosition = r.position;
    });
    // A failure is reported by the next flush or durable(); until then it must not count as unhandled.
    this.inflight.catch(() => undefined);
    await previous;
  }

  /**
   * Takes turns with other runs on this store: this run is durable before another appends. Nothing to
   * re-read: the journal never predicts positions, so other writers cannot make it wrong.
   */
  async resync(): Promise<void> {
    await this.durable();
  }

  /** Everything added so far is durable (flushes first). */
  async durable(): Promise<void> {
    await this.flush();
    await this.inflight;
  }
}

export async function runKernel(req: RunRequest): Promise<RunSummary> {
  const runId = req.runId ?? randomUUID();
  const live = req.mode === 'live';
  const setup = kernelSetup(runId, req.config, live, req.strategyOverride);
  const k: KernelState = initKernel(setup);
  const journal = new Journal(req.store, k.stream, req.inputMetadata);
  invariant(req.inputsReference === undefined || (req.mode === 'replay' && req.resume !== true), 'only a fresh replay references a dataset or file');
  invariant(req.marketDataStream !== true || (req.mode !== 'replay' && req.resume !== true && req.inputsReference === undefined), 'only a fresh paper or live session writes a market-data stream');
  const reference: Omit<PayloadOf<'InputsReferenced'>, 'runId'> | undefined = req.marketDataStream === true
    ? { source: { kind: 'stream', stream: `marketdata-${runId}` }, inputs: null }
    : req.inputsReference;
  const guard = live ? new LiveGuard(k, req) : null;
  const resumed = req.resume === true ? await resumeRun(req.store, k, setup.configHash, guard) : null;
  journal.init(resumed?.revision ?? -1);
  const started: AnyEnvelope = {
    id: runId,
    type: 'RunStarted',
    schemaVersion: 1,
    stream: k.stream,
    eventTimeNs: 0n,
    receiveTimeNs: 0n,
    causationId: null,
    correlationId: runId,
    data: {
      manifest: {
        runId, mode: req.mode, strategy: setup.strategyId, codeHash: codeHash(), configHash: setup.configHash,
        seed: req.config.seed, source: req.sourceLabel, dataRange: { fromNs: null, toNs: null },
        config: req.config as unknown as Record<string, unknown>,
        owner: req.owner ?? { pid: process.pid, host: os.hostname() },
      },
    },
  };
  if (resumed === null) {
    journal.add(started, 'run');
    if (reference !== undefined) {
      journal.referenceInputs(req.marketDataStream === true && reference.source.kind === 'stream' ? reference.source.stream : null); // a replay of a stream only reads it
      journal.add({
        id: uuidFromName(runId, 'inputs-referenced'), type: 'InputsReferenced', schemaVersion: CATALOG.InputsReferenced.version, stream: k.stream,
        eventTimeNs: 0n, receiveTimeNs: 0n, causationId: null, correlationId: runId, data: { runId, ...reference },
      }, 'run');
    }
    await journal.durable();
  }
  req.onJournal?.(journal);

  const out: KernelOutput[] = [];
  const batch = req.journalBatch ?? 1000;
  // Live: the venues' reports join the market data as inputs, in the order they arrive; what went out
  // on the wire is journaled beside them (role venue, not a kernel input).
  // Live: the operator's control stream (kill switch, cancel-all) joins them too, switches in force first.
  const control = live && req.control !== false ? await openControlFeed(req.store, runId, k.stream) : null;
  const inputs = live ? mergeLiveInputs(req.events, req.executionClients ?? new Map(), control) : req.events;
  const sent: AnyEnvelope[] = [];
  if (live) for (const c of req.executionClients?.values() ?? []) c.onSent?.((e) => sent.push(e));
  /** Journals an output, and (live) folds it into the reconciliation ledgers: they hold exactly what the log holds. */
  const add = (env: AnyEnvelope, role: EventRole): void => {
    journal.add(env, role);
    guard?.fold(env);
  };
  const every = req.progressEvery ?? 10_000;
  const intervalMs = req.journalIntervalMs ?? 1000;
  const ticker = intervalMs > 0 ? setInterval(() => void journal.flush().catch(() => undefined), intervalMs) : null;
  ticker?.unref();
  let firstNs: bigint | null = resumed?.firstNs ?? null;
  let lastNs: bigint | null = resumed?.lastNs ?? null;
  let failure: unknown = null;
  /** Inputs the engine made while handling the current one (refused sends), processed right after it. */
  const followUps: AnyEnvelope[] = [];
  /** One input through the kernel: journal what it produced, and send commands once they are durable. */
  const step = async (input: AnyEnvelope): Promise<void> => {
    clear(out);
    // What went out on the wire since the last input (queries after an unknown outcome, resyncs) is journaled first.
    while (sent.length > 0) add(sent.shift()!, 'venue');
    // Reports due before this input are journaled ahead of it; then its own revision is exact.
    releaseDue(k, input.eventTimeNs, out);
    const commands: VenueCommand[] = [];
    for (const o of out) {
      if (o.kind === 'event') add(o.env, o.role);
      else commands.push(o.command);
    }
    clear(out);
    // Decisions cite their cause by id and revision in the run stream (see Journal), never by a position;
    // or, when the inputs are referenced, by id and number among them.
    if (journal.references(input)) processInput(k, input, null, out, journal.referenced);
    else processInput(k, input, journal.nextRevision(), out);
    for (const o of out) {
      if (o.kind === 'event') add(o.env, o.role);
      else commands.push(o.command);
    }
    if (live && (input.type === 'KillSwitchChanged' || input.type === 'CancelAllRequested')) {
      await journal.durable(); // the operator sees at once that the session took the control input
    }
    if (commands.length > 0) {
      await journal.durable(); // durable before any real venue sees the command
      for (const c of commands) {
        try {
          await sendLive(req, c);
        } catch (e) {
          if (!isNotSent(e)) throw e;
          followUps.push(notSentEvent(k, c, e as TapedeckError));
        }
        while (sent.length > 0) add(sent.shift()!, 'venue');
      }
    } else if (journal.pending >= batch) {
      await journal.flush();
    }
  };
  /** An input and everything the engine decides to feed after it (query answers, halts, reconciliation). */
  const handle = async (first: AnyEnvelope): Promise<void> => {
    const queue = [first];
    while (queue.length > 0) {
      const input = queue.shift()!;
      await step(input);
      const more = followUps.splice(0);
      if (guard) more.push(...(await guard.after(input)));
      queue.unshift(...more);
      if (guard && queue.length === 0) queue.push(...(await guard.reconcileDue(input)));
    }
  };
  try {
    for await (const input of inputs) {
      firstNs ??= input.eventTimeNs;
      lastNs = input.eventTimeNs;
      await handle(input);
      if (req.onProgress && k.inputs % every === 0) req.onProgress(k.inputs, k.decisions);
    }
  } catch (e) {
    failure = e;
    // The input that failed is part of the record: audit must see what the strategy choked on.
    const failed = out[0];
    if (failed?.kind === 'event' && failed.role === 'input' && out.length > 0 && k.cause.id === failed.env.id) journal.add(failed.env, 'input');
  }
  if (ticker !== null) clearInterval(ticker);
  await control?.close();
  const s = summary(k);
  // A source that ends while trading is halted did not complete: the run says it halted, and why.
  const haltedWhy = failure === null ? haltReason(k) : null;
  const halted = haltedWhy !== null;
  const outcome = failure !== null ? 'failed' : halted ? 'halted' : 'completed';
  const reason = failure !== null
    ? failure instanceof TapedeckError ? failure.describe() : String((failure as Error)?.message ?? failure)
    : haltedWhy ?? undefined;
  const ended: AnyEnvelope = {
    id: uuidFromName(runId, 'run-ended'),
    type: 'RunEnded',
    schemaVersion: 1,
    stream: k.stream,
    eventTimeNs: lastNs ?? 0n,
    receiveTimeNs: lastNs ?? 0n,
    causationId: null,
    correlationId: runId,
    data: {
      runId, outcome, ...(reason ? { reason } : {}), events: s.inputs, decisions: s.decisions,
      decisionsHash: s.decisionsHash, dataRange: { fromNs: firstNs, toNs: lastNs },
    },
  };
  try {
    if (failure !== null || req.endRun !== false) journal.add(ended, 'run');
    await journal.durable();
  } catch (e) {
    // The store itself failed: nothing more can be recorded. Report the first cause.
    throw failure ?? e;
  }
  req.onProgress?.(k.inputs, k.decisions);
  if (failure !== null) throw failure;
  return {
    runId, mode: req.mode, strategy: setup.strategyId, events: s.inputs, decisions: s.decisions, orders: s.orders, fills: s.fills,
    realizedPnl: s.realizedPnl, realizedPnlByCurrency: s.realizedPnlByCurrency, decisionsHash: s.decisionsHash,
    outcome: halted ? 'halted' : 'completed', ...(reason ? { reason } : {}),
  };
}

const ENGINE = 'engine';

/** Why trading is halted at the end of a run (the whole kill switch, or a venue's), or null when it is not. */
function haltReason(k: KernelState): string | null {
  if (k.risk.killSwitch === 'HALTED') return `kill switch HALTED: ${k.risk.killSwitchReason || 'no reason given'}`;
  for (const [venue, v] of k.risk.venueKillSwitch) if (v.state === 'HALTED') return `kill switch HALTED for ${venue}: ${v.reason || 'no reason given'}`;
  return null;
}

/** An event the engine makes (fed to the kernel as an input, so parity replays it), with a name-based id. */
function engineEvent(k: KernelState, type: EventType, data: unknown, name: string, cause: { id: string; eventTimeNs: bigint; receiveTimeNs: bigint }): AnyEnvelope {
  return {
    id: uuidFromName(k.setup.runId, name), type, schemaVersion: CATALOG[type].version, stream: k.stream, eventTimeNs: cause.eventTimeNs,
    receiveTimeNs: cause.receiveTimeNs, causationId: cause.id, correlationId: k.setup.runId, data,
  } as AnyEnvelope;
}

/** A command the client certainly did not send, recorded as refused: the order, cancel or replace did not happen. */
function notSentEvent(k: KernelState, c: VenueCommand, e: TapedeckError): AnyEnvelope {
  const reason = `not sent: ${e.message}`;
  const name = `not-sent:${k.cause.id}:${c.kind}:${c.orderId}`;
  switch (c.kind) {
    case 'SubmitOrder':
      return engineEvent(k, 'OrderRejected', { orderId: c.orderId, reason }, name, k.cause);
    case 'CancelOrder':
      return engineEvent(k, 'CancelRejected', { orderId: c.orderId, reason }, name, k.cause);
    case 'ReplaceOrder':
      return engineEvent(k, 'ReplaceRejected', { orderId: c.orderId, reason }, name, k.cause);
  }
}

/**
 * Live mode's watch over the venues. It keeps a reconciliation ledger per venue folded from exactly what is
 * journaled; queries orders whose outcome is unknown; on a venue session reset halts trading and marks every
 * working order there unknown; and after any halt of its own reconciles with the venue's report, feeding the
 * fixes and the verdict to the kernel, resuming only when every venue it halted for agrees. A halt set by
 * someone else (an operator) is never lifted here.
 */
class LiveGuard {
  private readonly ledgers = new Map<string, reconcile.LedgerState>();
  /** Venues to reconcile before trading resumes: attempts made, and the earliest wall time of the next. */
  private readonly due = new Map<string, { attempts: number; nextAtMs: number }>();
  /** Venues that cannot be reconciled (no client, no report, attempts exhausted): trading stays halted. */
  private readonly stuck = new Set<string>();
  /** The reason of a halt someone else (an operator) set and has not lifted, or null. */
  private haltedByOther: string | null = null;
  private attempts = 0;

  constructor(private readonly k: KernelState, private readonly req: RunRequest) {
    for (const v of req.executionClients?.keys() ?? []) this.ledgers.set(v, reconcile.initialState(v));
  }

  fold(env: AnyEnvelope): void {
    for (const l of this.ledgers.values()) reconcile.evolve(l, env);
  }

  /** What to feed after `input` has been through the kernel. */
  async after(input: AnyEnvelope): Promise<AnyEnvelope[]> {
    switch (input.type) {
      case 'KillSwitchChanged': {
        const d = (input as EventEnvelope<'KillSwitchChanged'>).data;
        // Only the whole kill switch: the engine never touches a venue's own switch, so it cannot lift one.
        if (d.by !== ENGINE && d.venue === undefined) this.haltedByOther = d.state === 'HALTED' ? `${d.reason} (by ${d.by})` : null;
        return [];
      }
      case 'OrderStatusUnknown': {
        const unknown = input as EventEnvelope<'OrderStatusUnknown'>;
        const events = await resolveUnknown(this.k, this.req, unknown);
        const venue = lifecycle.getOrder(this.k.orders, unknown.data.orderId)?.venue;
        if (venue !== undefined && events.some((e) => e.type === 'KillSwitchChanged')) this.needReconcile(venue);
        return events;
      }
      case 'VenueSessionReset':
        return this.sessionReset(input as EventEnvelope<'VenueSessionReset'>);
      default:
        return [];
    }
  }

  private needReconcile(venue: string): void {
    const client = this.req.executionClients?.get(venue);
    if (!client?.reconciliationReport) this.stuck.add(venue);
    else this.due.set(venue, { attempts: 0, nextAtMs: 0 });
  }

  /** The venue's session started afresh: halt, and ask about every order working there. */
  private sessionReset(input: EventEnvelope<'VenueSessionReset'>): AnyEnvelope[] {
    const venue = input.data.venue;
    const out = [engineEvent(this.k, 'KillSwitchChanged', {
      state: 'HALTED', reason: `${venue} ${input.data.reason}: trading halted until ledger and venue are reconciled`, by: ENGINE,
    }, `reset:${input.id}:halt`, input)];
    for (const o of lifecycle.workingOrders(this.k.orders)) {
      if (o.venue !== venue) continue;
      out.push(engineEvent(this.k, 'OrderStatusUnknown', { orderId: o.orderId, reason: `${venue} session reset: an answer may be lost with the old session` }, `reset:${input.id}:unknown:${o.orderId}`, input));
    }
    this.needReconcile(venue);
    return out;
  }

  /** Once nothing else is queued: reconcile one venue that is due, and resume when all agree. */
  async reconcileDue(cause: AnyEnvelope): Promise<AnyEnvelope[]> {
    if (this.due.size === 0) return [];
    const nowMs = Date.now();
    for (const [venue, d] of this.due) {
      if (nowMs < d.nextAtMs) continue;
      d.attempts++;
      const n = ++this.attempts;
      const ledger = this.ledgers.get(venue)!;
      const id = `reconcile:${cause.id}:${venue}:${n}`;
      let decision: { ok: boolean; haltReason: string | null; events: Array<{ type: EventType; data: unknown; idKey: string }> };
      try {
        const orderIds = [...ledger.orders.orders.values()].filter((o) => lifecycle.isWorking(o.status)).map((o) => o.orderId);
        const report = await this.req.executionClients!.get(venue)!.reconciliationReport!({ orderIds, instruments: [...ledger.positions.keys()] });
        decision = reconcile.decide(ledger, report, { id });
      } catch (e) {
        const why = e instanceof TapedeckError ? e.describe() : String((e as Error)?.message ?? e);
        decision = {
          ok: false,
          haltReason: `${venue}: no reconciliation report: ${why}`,
          events: [{ type: 'ReconciliationCompleted', data: { venue, ok: false, mismatches: [{ what: 'report', key: venue, expected: 'a report', actual: why }] }, idKey: `${id}:completed` }],
        };
      }
      const events = decision.events.map((e) => engineEvent(this.k, e.type, e.data, e.idKey, cause));
      if (decision.ok) {
        this.due.delete(venue);
        this.req.executionClients!.get(venue)!.reconciled?.();
        if (this.due.size === 0 && this.stuck.size === 0 && this.k.risk.killSwitch === 'HALTED') {
          // Books agree; a halt someone else set still stands, and the record says that is why.
          events.push(this.haltedByOther === null
            ? engineEvent(this.k, 'KillSwitchChanged', { state: 'ACTIVE', reason: `reconciled: ledger and ${venue} agree`, by: ENGINE }, `${id}:resume`, cause)
            : engineEvent(this.k, 'KillSwitchChanged', { state: 'HALTED', reason: `reconciled with ${venue}; still halted: ${this.haltedByOther}`, by: ENGINE }, `${id}:still-halted`, cause));
        }
        return events;
      }
      const last = d.attempts >= RECONCILE_ATTEMPTS_MAX;
      if (last) {
        this.due.delete(venue);
        this.stuck.add(venue);
      } else {
        d.nextAtMs = nowMs + RECONCILE_RETRY_MS;
      }
      if (d.attempts === 1 || last) {
        const reason = `${decision.haltReason ?? `${venue}: not reconciled`}${last ? ` (gave up after ${d.attempts} attempts)` : ''}`;
        events.push(engineEvent(this.k, 'KillSwitchChanged', { state: 'HALTED', reason, by: ENGINE }, `${id}:halt`, cause));
      }
      return events;
    }
    return [];
  }
}

/**
 * Brings a fresh kernel to where a recorded run's durable log ends by feeding it the run's inputs, in
 * the order and at the revisions they were recorded (the engine's own step, minus the journal).
 * Null when the run does not exist yet. A run that was closed, or started with another config, is
 * refused: continuing it would mix two different runs under one id.
 */
async function resumeRun(store: EventStore, k: KernelState, configHash: string, guard: LiveGuard | null): Promise<{ revision: number; firstNs: bigint | null; lastNs: bigint | null } | null> {
  const revision = await store.streamRevision(k.stream);
  if (revision < 0) return null;
  const out: KernelOutput[] = [];
  let firstNs: bigint | null = null;
  let lastNs: bigint | null = null;
  let n = 0;
  for await (const e of store.readStream(k.stream)) {
    if (n++ === 0) {
      const recorded = (e.data as { manifest?: { configHash?: string } }).manifest?.configHash;
      if (e.type !== 'RunStarted') throw new TapedeckError('RUN_MALFORMED', `stream ${k.stream} does not start with RunStarted`, { stream: k.stream });
      if (recorded !== configHash) throw new TapedeckError('RUN_CONFIG_CHANGED', `run ${k.setup.runId} was started with config ${String(recorded)}, this one is ${configHash}: resume it with the same strategy and config, or start another run`, { stream: k.stream });
      continue;
    }
    if (e.type === 'RunEnded') throw new TapedeckError('RUN_ENDED', `run ${k.setup.runId} has ended (${String((e.data as { outcome?: string }).outcome)}): it takes no more events`, { stream: k.stream });
    // The live guard's ledgers hold everything the log holds, whatever its role.
    if (guard !== null && lifecycle.isOrderEvent(e)) guard.fold(storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position }));
    if (e.metadata.role !== 'input') continue;
    const input = storedToEnvelope(e.stream, e, { stream: e.stream, position: e.position });
    firstNs ??= input.eventTimeNs;
    lastNs = input.eventTimeNs;
    clear(out);
    releaseDue(k, input.eventTimeNs, out);
    clear(out);
    processInput(k, input, e.revision, out);
  }
  clear(out);
  return { revision, firstNs, lastNs };
}

/**
 * Asks the venue about an order whose outcome is unknown and returns what to feed the kernel: the
 * lifecycle events that resolve it (as inputs, so parity replays them), or, when the venue cannot be
 * asked or its answer cannot be reconciled, a kill switch set to HALTED (only cancels pass after it).
 * Nothing when the order was resolved meanwhile (the venue's replay after a reconnect often does it).
 */
async function resolveUnknown(k: KernelState, req: RunRequest, unknown: EventEnvelope<'OrderStatusUnknown'>): Promise<AnyEnvelope[]> {
  const orderId = unknown.data.orderId;
  const order = lifecycle.getOrder(k.orders, orderId);
  if (order === undefined || order.status !== 'unknown') return [];
  const at = { eventTimeNs: unknown.eventTimeNs, receiveTimeNs: unknown.receiveTimeNs };
  const envelope = (type: string, data: unknown, n: number): AnyEnvelope =>
    ({
      id: uuidFromName(k.setup.runId, `resolve:${unknown.id}:${n}`), type, schemaVersion: 1, stream: k.stream, ...at,
      causationId: unknown.id, correlationId: k.setup.runId, data,
    }) as AnyEnvelope;
  const halt = (reason: string): AnyEnvelope[] => [envelope('KillSwitchChanged', { state: 'HALTED', reason, by: ENGINE }, 0)];
  const client = req.executionClients?.get(order.venue);
  if (!client) return halt(`order ${orderId} is in an unknown state and no client for ${order.venue} can be asked`);
  let answer;
  try {
    answer = await client.queryOrder(orderId);
  } catch (e) {
    return halt(`order ${orderId} is in an unknown state and the venue could not be asked: ${e instanceof Error ? e.message : String(e)}`);
  }
  const current = lifecycle.getOrder(k.orders, orderId);
  if (current === undefined || current.status !== 'unknown') return [];
  const events = lifecycle.decide(current, orderId, { kind: 'ResolveStatus', status: answer });
  if (events instanceof TapedeckError) return halt(`order ${orderId}: the venue's answer cannot be reconciled: ${events.message}`);
  return events.map((ev, n) => envelope(ev.type, ev.data, n));
}

/**
 * Merges market data with the execution clients' reports into one input stream, in arrival order.
 * Ends when the market data ends (reports already received are delivered first).
 */
async function* mergeLiveInputs(market: AsyncIterable<AnyEnvelope>, clients: Map<string, ExecutionClient>, control: ControlFeed | null): AsyncGenerator<AnyEnvelope> {
  const reports: AnyEnvelope[] = [...(control?.initial ?? [])];
  let wake: (() => void) | null = null;
  const arrive = (e: AnyEnvelope): void => {
    reports.push(e);
    wake?.();
  };
  for (const c of clients.values()) c.onReport(arrive);
  control?.onInput(arrive);
  const it = market[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<AnyEnvelope>> | null = null;
  while (true) {
    while (reports.length > 0) yield reports.shift()!;
    pending ??= it.next();
    const signal = new Promise<'report'>((resolve) => (wake = () => resolve('report')));
    const r = await Promise.race([pending, signal]);
    wake = null;
    if (r === 'report') continue;
    pending = null;
    while (reports.length > 0) yield reports.shift()!;
    if (r.done) return;
    yield r.value;
  }
}

async function sendLive(req: RunRequest, c: VenueCommand): Promise<void> {
  const client = req.executionClients?.get(c.venue);
  if (!client) throw new TapedeckError('UNKNOWN_VENUE', `no execution client for venue ${c.venue}`, { field: 'venue' });
  await client.send(c);
}
