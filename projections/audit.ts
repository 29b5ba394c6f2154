/**
 * `tapedeck audit ORDER_ID`: the whole causal chain of one order, from the log.
 *
 * The projections locate things (which run, which positions in the log hold the order's events, its
 * fills, the position series); every event shown is then read back from the store itself, so what is
 * printed is the record, not a summary of it. Raw venue bytes are decoded with the ITCH and OUCH codecs
 * (JSON frames are shown as text).
 */
import { TapedeckError } from '../domain/core/errors.js';
import { storedToEnvelope, toJsonValue, type AnyEnvelope, type RawBytes } from '../domain/events/envelope.js';
import { damagedRanges, type DamagedRange } from '../src/store/damage.js';
import { openStore as openStoreAt } from '../src/store/open.js';
import type { EventStore, RecordedEvent } from '../src/store/port.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { decodeMessage as decodeItch } from '../src/venues/nasdaq/itch/codec.js';
import { decodeClientMessage, decodeVenueMessage } from '../src/venues/nasdaq/ouch42/codec.js';
import { describeReference, inputsReferenceOf, referencedInput, type ReferenceOptions } from '../replay/inputs.js';
import { projectFrom } from './catchup.js';
import { defaultDbPath, openDbWithRetry, queryRows, sqlString, trimDecimal } from './db.js';

export interface AuditedEvent {
  /** Global position in the log; -1 for a referenced input that is not in the log (a dataset's, a file's: see `input`). */
  position: number;
  /** A referenced input (InputsReferenced): its number among the run's inputs and where it lives. */
  input?: { number: number; source: string };
  id: string;
  type: string;
  role: string | null;
  eventTimeNs: string;
  receiveTimeNs: string;
  causationId: string | null;
  data: unknown;
  raw?: { format: string; bytesHex: string; decoded: unknown };
}

export interface AuditReport {
  orderId: string;
  runId: string;
  run: Record<string, unknown>;
  order: Record<string, unknown>;
  cause: AuditedEvent | null;
  strategy: { id: string; codeHash: string; configHash: string; runCodeHash: unknown; runConfigHash: unknown };
  stateHash: string;
  decision: AuditedEvent;
  risk: { outcome: string; checks: string[]; code: string | null; detail: string | null; event: AuditedEvent | null };
  submission: AuditedEvent | null;
  venueMessages: AuditedEvent[];
  fills: Record<string, unknown>[];
  positionBefore: Record<string, unknown> | null;
  positionAfter: Record<string, unknown> | null;
  anomalies: Array<{ position: number; type: string; anomaly: string }>;
  /** Ranges the store reports unreadable: the chain may lack what they held. */
  unreadable?: DamagedRange[];
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The venue bytes decoded by their codec; an undecodable message says why instead of failing the audit. */
export function decodeRaw(raw: RawBytes): unknown {
  try {
    switch (raw.format) {
      case 'itch50':
        return toJsonValue(decodeItch(raw.bytes, 0, raw.bytes.length));
      case 'ouch42':
        try {
          return { direction: 'venue', ...(toJsonValue(decodeVenueMessage(raw.bytes)) as object) };
        } catch {
          return { direction: 'client', ...(toJsonValue(decodeClientMessage(raw.bytes)) as object) };
        }
      case 'json':
      case 'text': {
        const text = Buffer.from(raw.bytes).toString('utf8');
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      }
      default:
        return null;
    }
  } catch (e) {
    return { undecodable: (e as Error).message };
  }
}

function auditedInput(env: AnyEnvelope, position: number | null, number: number, source: string): AuditedEvent {
  const out: AuditedEvent = {
    position: position ?? -1, input: { number, source }, id: env.id, type: env.type, role: 'input', eventTimeNs: String(env.eventTimeNs),
    receiveTimeNs: String(env.receiveTimeNs), causationId: env.causationId, data: toJsonValue(env.data),
  };
  if (env.raw) out.raw = { format: env.raw.format, bytesHex: hex(env.raw.bytes), decoded: decodeRaw(env.raw) };
  return out;
}

function audited(rec: RecordedEvent): AuditedEvent {
  let env: AnyEnvelope | null = null;
  try {
    env = storedToEnvelope(rec.stream, { id: rec.id, type: rec.type, data: rec.data, metadata: rec.metadata });
  } catch {
    env = null;
  }
  const meta = rec.metadata;
  const out: AuditedEvent = {
    position: rec.position, id: rec.id, type: rec.type, role: typeof meta.role === 'string' ? meta.role : null,
    eventTimeNs: String(meta.eventTimeNs ?? ''), receiveTimeNs: String(meta.receiveTimeNs ?? ''),
    causationId: typeof meta.$causationId === 'string' ? meta.$causationId : null, data: rec.data,
  };
  if (env?.raw) out.raw = { format: env.raw.format, bytesHex: hex(env.raw.bytes), decoded: decodeRaw(env.raw) };
  return out;
}

async function readAt(store: EventStore, position: number): Promise<RecordedEvent | null> {
  for await (const e of store.readAll({ fromPosition: position, maxCount: 1 })) return e.position === position ? e : null;
  return null;
}

function clean(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'string' ? trimDecimal(v) : v;
  return out;
}

export interface AuditOptions extends ReferenceOptions {
  runId?: string;
  /** The projections database; default `<store>/projections.duckdb`. */
  dbPath?: string;
  /** Catch the projections up first (default true). */
  update?: boolean;
}

/** Opens the store at `location` read-only and audits one order in it. */
export async function auditOrder(location: string, orderId: string, options: AuditOptions = {}): Promise<AuditReport> {
  const store = await openStoreAt(location, { readOnly: true, create: false });
  try {
    const report = await auditOrderIn(store, options.dbPath ?? defaultDbPath(location), orderId, options);
    const unreadable = damagedRanges(store);
    return unreadable.length > 0 ? { ...report, unreadable } : report;
  } finally {
    await store.close();
  }
}

/** Audits one order of any store behind the port, with its projections in `dbPath`. */
export async function auditOrderIn(store: EventStore, dbPath: string, orderId: string, options: Omit<AuditOptions, 'dbPath'> = {}): Promise<AuditReport> {
  if (options.update !== false) await projectFrom(store, dbPath);
  const db = await openDbWithRetry(dbPath, { readOnly: true });
  try {
    return await auditOrderWith(db.con, async () => store, orderId, options);
  } finally {
    db.close();
  }
}

/**
 * The audit over an open projections connection and a store (the server keeps both open); `openStore`
 * is called once the order is known to exist.
 */
export async function auditOrderWith(con: DuckDBConnection, openStore: () => Promise<EventStore>, orderId: string, options: { runId?: string } & ReferenceOptions = {}): Promise<AuditReport> {
  {
    const orders = await queryRows(con, `SELECT * FROM orders WHERE order_id = ${sqlString(orderId)}${options.runId ? ` AND run_id = ${sqlString(options.runId)}` : ''} ORDER BY run_id`);
    if (orders.length === 0) {
      throw new TapedeckError('AUDIT_UNKNOWN_ORDER', `no order "${orderId}"${options.runId ? ` in run ${options.runId}` : ''} in this store (orders come from OrderIntended events; try tapedeck query "SELECT order_id, run_id FROM orders")`, { field: 'ORDER_ID' });
    }
    if (orders.length > 1) {
      throw new TapedeckError('AUDIT_AMBIGUOUS', `order "${orderId}" exists in ${orders.length} runs (${orders.map((o) => o.run_id).join(', ')}); pass --run`, { field: '--run' });
    }
    const order = orders[0]!;
    const runId = String(order.run_id);
    const k = `run_id = ${sqlString(runId)} AND order_id = ${sqlString(orderId)}`;
    const [run] = await queryRows(con, `SELECT * FROM runs WHERE run_id = ${sqlString(runId)}`);
    const [decision] = await queryRows(con, `SELECT * FROM decisions WHERE ${k}`);
    const events = await queryRows(con, `SELECT position, event_type, anomaly FROM order_events WHERE ${k} ORDER BY position`);
    const fills = await queryRows(con, `SELECT * FROM fills WHERE ${k} ORDER BY position`);
    const posKey = `run_id = ${sqlString(runId)} AND strategy = ${sqlString(String(order.strategy))} AND venue = ${sqlString(String(order.venue))} AND instrument = ${sqlString(String(order.instrument))}`;
    const firstPos = fills.length > 0 ? Number(fills[0]!.position) : Number(order.intended_position);
    const lastPos = fills.length > 0 ? Number(fills[fills.length - 1]!.position) : Number(order.intended_position);
    const [before] = await queryRows(con, `SELECT * FROM position_history WHERE ${posKey} AND position < ${firstPos} ORDER BY position DESC LIMIT 1`);
    const [after] = await queryRows(con, `SELECT * FROM position_history WHERE ${posKey} AND position <= ${lastPos} ORDER BY position DESC LIMIT 1`);

    const store = await openStore();
    const byPosition = new Map<number, AuditedEvent>();
    for (const e of events) {
      const rec = await readAt(store, Number(e.position));
      if (rec !== null) byPosition.set(rec.position, audited(rec));
    }
    const orderEvents = [...byPosition.values()];
    const intent = orderEvents.find((e) => e.type === 'OrderIntended');
    if (intent === undefined) throw new TapedeckError('AUDIT_NO_INTENT', `order ${orderId} has no OrderIntended in the log`, { field: 'ORDER_ID' });
    // The cause: by its revision in the run stream, else by the position projections resolved, else by id.
    let cause: AuditedEvent | null = null;
    const runStream = String(run?.stream ?? `run-${runId}`);
    const causeId = String(decision?.cause_event_id ?? order.cause_event_id);
    const causeRevision = ((intent.data as { decision?: { causeRevision?: unknown } }).decision ?? {}).causeRevision;
    const causeInput = ((intent.data as { decision?: { causeInput?: unknown } }).decision ?? {}).causeInput;
    if (typeof causeInput === 'number') {
      // The run references its inputs: the tick is read through the reference (refused if its data changed).
      const ref = await inputsReferenceOf(store, runId);
      if (ref !== null) {
        const r = await referencedInput(store, runId, ref, causeInput, options);
        if (r !== null && r.input.id === causeId) cause = auditedInput(r.input, r.position, causeInput, describeReference(ref, options));
      }
    }
    if (cause === null && typeof causeRevision === 'number') {
      for await (const rec of store.readStream(runStream, { fromRevision: causeRevision, maxCount: 1 })) if (rec.id === causeId) cause = audited(rec);
    }
    const causePos = decision?.cause_position;
    if (cause === null && causePos !== null && causePos !== undefined) {
      const rec = await readAt(store, Number(causePos));
      if (rec !== null && rec.id === causeId) cause = audited(rec);
    }
    if (cause === null && typeof causeInput !== 'number') {
      for await (const rec of store.readStream(runStream)) {
        if (rec.position >= intent.position) break;
        if (rec.id === causeId) cause = audited(rec);
      }
    }
    const riskEvent = orderEvents.find((e) => e.type === 'RiskApproved' || e.type === 'RiskDenied') ?? null;
    const riskData = (riskEvent?.data ?? {}) as { checks?: string[]; code?: string; detail?: string };
    const dec = (intent.data as { decision?: Record<string, unknown> }).decision ?? {};
    return {
      orderId, runId,
      run: clean(run ?? {}),
      order: clean(order),
      cause,
      strategy: {
        id: String(dec.strategyId ?? order.strategy), codeHash: String(dec.strategyCodeHash ?? ''), configHash: String(dec.configHash ?? ''),
        runCodeHash: run?.code_hash ?? null, runConfigHash: run?.config_hash ?? null,
      },
      stateHash: String(dec.stateHash ?? ''),
      decision: intent,
      risk: {
        outcome: riskEvent === null ? 'none' : riskEvent.type === 'RiskApproved' ? 'approved' : 'denied',
        checks: riskData.checks ?? [], code: riskData.code ?? null, detail: riskData.detail ?? null, event: riskEvent,
      },
      submission: orderEvents.find((e) => e.type === 'OrderSubmitted') ?? null,
      venueMessages: orderEvents.filter((e) => e.role === 'venue' || (e.role === null && !['OrderIntended', 'RiskApproved', 'RiskDenied', 'CancelRequested', 'ReplaceRequested'].includes(e.type))),
      fills: fills.map(clean),
      positionBefore: before ? clean(before) : null,
      positionAfter: after ? clean(after) : null,
      anomalies: events.filter((e) => e.anomaly !== null).map((e) => ({ position: Number(e.position), type: String(e.event_type), anomaly: String(e.anomaly) })),
    };
  }
}

/** A readable timeline of the report. */
export function formatAudit(r: AuditReport): string {
  const o = r.order;
  const lines: string[] = [];
  const ev = (e: AuditedEvent): string => `${e.input ? `input ${e.input.number} of ${e.input.source}` : `#${e.position}`} ${e.type}${e.role ? ` [${e.role}]` : ''} t=${e.eventTimeNs}`;
  lines.push(`order ${r.orderId} (run ${r.runId}, ${r.run.mode ?? '?'}): ${o.side} ${o.quantity} ${o.instrument} ${o.order_type}${o.price !== null ? ` @ ${o.price}` : ''} → ${o.state}`);
  lines.push(`strategy ${r.strategy.id}  code ${r.strategy.codeHash}  config ${r.strategy.configHash}  state ${r.stateHash}`);
  if (r.cause) {
    lines.push(`cause    ${ev(r.cause)} id ${r.cause.id}`);
    lines.push(`         ${JSON.stringify(r.cause.data)}`);
    if (r.cause.raw) lines.push(`         raw ${r.cause.raw.format} ${r.cause.raw.bytesHex}\n         decoded ${JSON.stringify(r.cause.raw.decoded)}`);
  } else lines.push('cause    (not found in the log)');
  lines.push(`decision ${ev(r.decision)}`);
  lines.push(`risk     ${r.risk.outcome}${r.risk.checks.length ? ` checks ${r.risk.checks.join(',')}` : ''}${r.risk.code ? ` ${r.risk.code}: ${r.risk.detail}` : ''}`);
  if (r.submission) lines.push(`submit   ${ev(r.submission)}`);
  for (const m of r.venueMessages) {
    lines.push(`venue    ${ev(m)} ${JSON.stringify(m.data)}`);
    if (m.raw) lines.push(`         raw ${m.raw.format} decoded ${JSON.stringify(m.raw.decoded)}`);
  }
  for (const f of r.fills) lines.push(`fill     ${f.fill_id}: ${f.side} ${f.quantity} @ ${f.price} fee ${f.fee} ${f.fee_currency} (${f.liquidity})`);
  const pos = (p: Record<string, unknown> | null): string => (p === null ? 'flat (no earlier fill)' : `${p.quantity} avg ${p.avg_price ?? '-'} realized ${p.realized_pnl}`);
  lines.push(`position before ${pos(r.positionBefore)}`);
  lines.push(`position after  ${pos(r.positionAfter)}`);
  for (const a of r.anomalies) lines.push(`anomaly  #${a.position} ${a.type}: ${a.anomaly}`);
  return lines.join('\n') + '\n';
}
