/**
 * The projector: folds the event log into the DuckDB tables of schema.ts.
 *
 * It reads events in log order (position), keeps per-run state in memory (the pure reducers of
 * domain/orders/lifecycle and domain/portfolio do the order and position arithmetic: nothing is
 * re-derived here), buffers rows column-wise, and commits a batch in ONE DuckDB transaction together
 * with the checkpoint (the last position folded) and the state it needs to continue. A restart resumes
 * from that checkpoint with that state, so no event is counted twice and none is skipped; projecting
 * from zero gives the same tables (rows do not depend on where batches were cut).
 *
 * One fold per read model (projections/folds/, listed in folds/index.ts) takes the events of its types,
 * decoded once here by the catalogue's decoder (domain/events parsePayload, as the kernel and audit do):
 * a catalogue change is made in domain/events only. Only the events some fold takes are decoded; the
 * rest (book deltas, L3 messages) cost a type lookup and a counter.
 *
 * Bad events (malformed payloads, impossible order transitions) never stop the projection: the first
 * kind goes to `projection_errors`, the second to `order_events.anomaly` (and the order's `anomalies`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { TapedeckError } from '../domain/core/errors.js';
import { pow10, divRound } from '../domain/core/fixed.js';
import { isWorking, type OrderState, type OrderStatus } from '../domain/orders/lifecycle.js';
import { initialState as initialPortfolio, valuePosition } from '../domain/portfolio/portfolio.js';
import type { DomainEvent } from '../domain/events/event.js';
import { isEventType } from '../domain/events/catalog.js';
import { parsePayload } from '../domain/events/envelope.js';
import { createTableSql, TableBuffer, toDec18, type Cell, type TableSpec } from './columns.js';
import {
  BALANCES, CHECKPOINT_TABLE, DECISIONS, FILLS, INSTRUMENTS, MARKET_TRADES, ORDER_EVENTS, ORDERS, PNL, POSITION_HISTORY,
  POSITIONS, PROJECTION_ERRORS, PROJECTOR_NAME, RUNS, SCHEMA_VERSION,
} from './schema.js';
import { parseState, stringifyState } from './serial.js';
import { FlatScanner } from './fastjson.js';
import { queryRows, sqlString } from './db.js';
import { FOLD_OF_TYPE } from './folds/index.js';
import { evolveMarked } from './folds/market.js';
import {
  avgPrice18, BadEvent, bigOf, moneyDec, newRunRow, positionCells, runIdOfStream,
  type DecisionRec, type Dirty, type FoldContext, type OrderRec, type ProjectedEvent, type RunState,
} from './folds/state.js';

export { runIdOfStream, type ProjectedEvent } from './folds/state.js';

const RUN_STATE: TableSpec = {
  name: '_tapedeck_run_state',
  about: 'projector state per run (portfolio, counters), to resume after a restart',
  key: ['stream'],
  upsert: true,
  columns: [{ name: 'stream', kind: 'text' }, { name: 'run_id', kind: 'text' }, { name: 'ended', kind: 'bool' }, { name: 'state', kind: 'text' }],
};

const APPEND_TABLES = [ORDER_EVENTS, FILLS, POSITION_HISTORY, MARKET_TRADES, PROJECTION_ERRORS];
const UPSERT_TABLES = [RUNS, ORDERS, POSITIONS, PNL, BALANCES, DECISIONS, INSTRUMENTS, RUN_STATE];

export function projectorSchemaSql(): string[] {
  return [createTableSql(RUN_STATE), ...UPSERT_TABLES.map((s) => createTableSql(s, `_stage_${s.name}`, true))];
}

/** The types some fold takes; the rest cost a lookup and a counter. */
const RELEVANT: ReadonlySet<string> = new Set(FOLD_OF_TYPE.keys());

/** Metadata as JSON.stringify writes it ends with the role; checked in place for the inputs counter. */
const ROLE_INPUT_SUFFIX = Buffer.from('"role":"input"}');
const META_KEYS = ['eventTimeNs', 'receiveTimeNs', '$causationId', '$correlationId', 'role'] as const;
const [M_EVENT_TIME, M_RECEIVE_TIME, M_CAUSATION, M_CORRELATION, M_ROLE] = [0, 1, 2, 3, 4];
const TRADE_KEYS = ['venue', 'instrument', 'tradeId', 'priceTicks', 'qtyLots', 'priceScale', 'qtyScale', 'aggressor', 'cross'] as const;
const [T_VENUE, T_INSTRUMENT, T_TRADE_ID, T_PRICE, T_QTY, T_PRICE_SCALE, T_QTY_SCALE, T_AGGRESSOR, T_CROSS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const QUOTE_KEYS = ['instrument', 'bidPriceTicks', 'askPriceTicks'] as const;
const [Q_INSTRUMENT, Q_BID, Q_ASK] = [0, 1, 2];

function endsWith(buf: Buffer, start: number, end: number, suffix: Buffer): boolean {
  const n = suffix.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (buf[end - n + i] !== suffix[i]) return false;
  return true;
}

/**
 * Event type names without a string per event: the few distinct names are kept, found by a hash of
 * their bytes and checked byte for byte (a collision just replaces the slot).
 */
class Interner {
  private readonly bytes: Array<Buffer | null> = new Array<Buffer | null>(256).fill(null);
  private readonly strs: string[] = new Array<string>(256).fill('');

  get(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n === 0 || n > 64) return buf.toString('utf8', start, end);
    let h = n;
    for (let i = start; i < end; i++) h = (h * 31 + buf[i]!) | 0;
    const slot = h & 255;
    const k = this.bytes[slot];
    if (k !== null && k !== undefined && k.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (k[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.strs[slot]!;
    }
    const s = buf.toString('utf8', start, end);
    this.bytes[slot] = Buffer.from(buf.subarray(start, end));
    this.strs[slot] = s;
    return s;
  }
}

export interface ProjectorStats {
  events: number;
  decoded: number;
  rows: number;
  errors: number;
}

export class Projector implements FoldContext {
  private runs = new Map<string, RunState>();
  private dirty = new Map<RunState, Dirty>();
  readonly orders = new Map<string, OrderRec>();
  readonly dirtyOrders = new Set<string>();
  readonly decisions = new Map<string, DecisionRec>();
  readonly dirtyDecisions = new Set<string>();
  readonly instruments = new Map<string, Record<string, Cell>>();

  private readonly buffers = new Map<string, TableBuffer>();
  private readonly stage = new Map<string, TableBuffer>();

  /** Last position folded (the checkpoint once committed). */
  position = -1;
  /** Events folded in total (committed + pending). */
  events = 0;
  readonly stats: ProjectorStats = { events: 0, decoded: 0, rows: 0, errors: 0 };

  private lastStream = '';
  private lastRun: RunState | null = null;
  private readonly meta = new FlatScanner(META_KEYS);
  /** Position whose metadata `meta` holds (-2: none). */
  private metaAt = -2;
  private readonly types = new Interner();
  private readonly trade = new FlatScanner(TRADE_KEYS);
  private readonly quote = new FlatScanner(QUOTE_KEYS);

  /**
   * `rows: false` folds state only (no table rows are buffered): `rebuild` uses the same fold as the
   * tables, held in memory, without a database.
   */
  constructor(options: { rows?: boolean } = {}) {
    const rows = options.rows ?? true;
    for (const s of APPEND_TABLES) this.buffers.set(s.name, rows ? new TableBuffer(s) : new DiscardBuffer(s));
    for (const s of UPSERT_TABLES) this.stage.set(s.name, new TableBuffer(s));
  }

  rows(spec: TableSpec): TableBuffer {
    return this.buffers.get(spec.name)!;
  }

  // ------------------------------------------------------------------ loading

  /** Restores the state committed with the checkpoint. */
  async load(con: DuckDBConnection): Promise<void> {
    const cp = await queryRows(con, `SELECT position, events, schema_version FROM ${CHECKPOINT_TABLE} WHERE projector = ${sqlString(PROJECTOR_NAME)}`);
    if (cp.length === 0) return;
    this.position = Number(cp[0]!.position);
    this.events = Number(cp[0]!.events);
    for (const r of await queryRows(con, `SELECT stream, state FROM ${RUN_STATE.name}`)) {
      const s = parseState<Omit<RunState, 'stream'>>(String(r.state));
      const run: RunState = { ...s, stream: String(r.stream) };
      this.runs.set(run.stream, run);
    }
    const active = [...this.runs.values()].filter((r) => !r.ended).map((r) => sqlString(r.runId));
    if (active.length === 0) return;
    const inList = active.join(',');
    const fillIds = new Map<string, string[]>();
    for (const r of await queryRows(con, `SELECT run_id, order_id, fill_id FROM fills WHERE run_id IN (${inList}) ORDER BY position`)) {
      const k = `${r.run_id}|${r.order_id}`;
      const l = fillIds.get(k) ?? [];
      l.push(String(r.fill_id));
      fillIds.set(k, l);
    }
    const streamOf = new Map([...this.runs.values()].map((r) => [r.runId, r.stream]));
    for (const r of await queryRows(con, `SELECT *, fees::VARCHAR AS fees_text FROM orders WHERE run_id IN (${inList})`)) {
      const rec = orderFromRow(r, fillIds.get(`${r.run_id}|${r.order_id}`) ?? [], streamOf.get(String(r.run_id)) ?? `run-${r.run_id}`);
      this.orders.set(`${rec.runId}|${rec.state.orderId}`, rec);
    }
    for (const r of await queryRows(con, `SELECT * FROM decisions WHERE risk_outcome = 'pending' AND run_id IN (${inList})`)) {
      const cells: Record<string, Cell> = {};
      for (const c of DECISIONS.columns) cells[c.name] = cellFromJson(r[c.name], c.kind);
      this.decisions.set(`${r.run_id}|${r.order_id}`, { runId: String(r.run_id), stream: streamOf.get(String(r.run_id)) ?? '', cells });
    }
  }

  // ------------------------------------------------------------------ folding

  runOf(stream: string, position: number, correlationId: string | null): RunState {
    if (stream === this.lastStream && this.lastRun !== null) return this.lastRun;
    let run = this.runs.get(stream);
    if (run === undefined) {
      run = {
        stream, runId: runIdOfStream(stream) ?? correlationId ?? stream, row: newRunRow(position), portfolio: initialPortfolio(),
        posMeta: new Map(), markAsOf: new Map(), cashAsOf: new Map(), ended: false,
      };
      this.runs.set(stream, run);
    }
    this.lastStream = stream;
    this.lastRun = run;
    return run;
  }

  dirtyOf(run: RunState): Dirty {
    let d = this.dirty.get(run);
    if (d === undefined) {
      d = { run: true, positions: new Set(), marks: new Set(), cash: false };
      this.dirty.set(run, d);
    }
    return d;
  }

  /**
   * Folds one event from the embedded store's cursor (the fast path: only relevant events are
   * decoded). `c` is only valid during the call.
   *
   * TradeReported and QuoteUpdated (the hot types: about 40% of a replay's events) are read off the
   * bytes here instead of through the catalogue's decoder: on `tapedeck bench projections --trades 50000`
   * (same machine, runs interleaved) dropping this path cost about 10% of projected events/s and 30-40%
   * of fold-only events/s. It checks the fields the tables use (non-empty ids, safe integers, scales
   * 0..18); anything it does not accept falls through to the decoder, which has the last word.
   */
  visitCursor(c: {
    position: number; revision: number; stream: string; type: string; id: string; data: unknown; metadata: Record<string, unknown>;
    buf: Buffer; typeStart: number; typeEnd: number; dataStart: number; dataEnd: number; metaStart: number; metaEnd: number; isJson: boolean;
  }): void {
    const position = c.position;
    const stream = c.stream;
    const type = this.types.get(c.buf, c.typeStart, c.typeEnd);
    this.metaAt = -2;
    this.events++;
    this.stats.events++;
    this.position = position;
    const isRun = stream.startsWith('run-');
    if (isRun) {
      const run = this.runOf(stream, position, null);
      if (run.ended) return this.afterEnd(run, position, c.id, type);
      this.touchRun(run, position);
      if (endsWith(c.buf, c.metaStart, c.metaEnd, ROLE_INPUT_SUFFIX) || (c.metaEnd > c.metaStart && this.scanMeta(c) && this.meta.str(M_ROLE) === 'input')) {
        run.row.inputs++;
        run.lastInputRevision = c.revision;
        run.lastInputPosition = position;
      }
    }
    if (!RELEVANT.has(type)) return;
    if (!c.isJson) {
      this.error(position, stream, c.id, type, 'payload is not JSON');
      return;
    }
    if (type === 'TradeReported') {
      if (this.fastTrade(c, isRun)) return;
    } else if (type === 'QuoteUpdated') {
      if (!isRun) return;
      const q = this.quote;
      if (q.scan(c.buf, c.dataStart, c.dataEnd)) {
        const instrument = q.str(Q_INSTRUMENT);
        if (typeof instrument === 'string') {
          const run = this.runOf(stream, position, null);
          // Quotes only move marks, and only for instruments the run holds.
          if (!run.portfolio.marks.has(instrument)) return;
          const bid = q.str(Q_BID) === null ? null : q.int(Q_BID);
          const ask = q.str(Q_ASK) === null ? null : q.int(Q_ASK);
          if (bid !== undefined && ask !== undefined) {
            this.stats.decoded++;
            evolveMarked(this, run, position, { type: 'QuoteUpdated', data: { instrument, bidPriceTicks: bid, askPriceTicks: ask } } as unknown as DomainEvent, instrument);
            return;
          }
        }
      }
    }
    let ev: ProjectedEvent;
    try {
      ev = { position, stream, id: c.id, type, data: c.data, metadata: this.fastMeta(c) ?? c.metadata };
    } catch (e) {
      this.error(position, stream, c.id, type, `payload or metadata is not valid JSON: ${(e as Error).message}`);
      return;
    }
    this.fold(ev, isRun);
  }

  /** Scans the current event's metadata once, however many of the paths below need it. */
  private scanMeta(c: { position: number; buf: Buffer; metaStart: number; metaEnd: number }): boolean {
    if (this.metaAt === c.position) return true;
    if (!this.meta.scan(c.buf, c.metaStart, c.metaEnd)) return false;
    this.metaAt = c.position;
    return true;
  }

  /** The metadata fields the projector uses, read off the bytes; null to fall back to JSON.parse. */
  private fastMeta(c: { position: number; buf: Buffer; metaStart: number; metaEnd: number }): Record<string, unknown> | null {
    if (c.metaEnd <= c.metaStart) return {};
    const m = this.meta;
    if (!this.scanMeta(c)) return null;
    const eventTimeNs = m.bigint(M_EVENT_TIME);
    const receiveTimeNs = m.bigint(M_RECEIVE_TIME);
    const causation = m.str(M_CAUSATION);
    const correlation = m.str(M_CORRELATION);
    const role = m.str(M_ROLE);
    if (eventTimeNs === undefined || receiveTimeNs === undefined) return null;
    if ((causation === undefined && m.has(M_CAUSATION)) || (correlation === undefined && m.has(M_CORRELATION)) || (role === undefined && m.has(M_ROLE))) return null;
    return { eventTimeNs, receiveTimeNs, $causationId: causation ?? null, $correlationId: correlation ?? null, role: role ?? null };
  }

  /** TradeReported without building objects; false when the bytes need the full parser. */
  private fastTrade(c: { position: number; stream: string; buf: Buffer; dataStart: number; dataEnd: number; metaStart: number; metaEnd: number }, isRun: boolean): boolean {
    const d = this.trade;
    if (!d.scan(c.buf, c.dataStart, c.dataEnd)) return false;
    const venue = d.str(T_VENUE);
    const instrument = d.str(T_INSTRUMENT);
    const tradeId = d.str(T_TRADE_ID);
    const priceTicks = d.int(T_PRICE);
    const qtyLots = d.int(T_QTY);
    const priceScale = d.int(T_PRICE_SCALE);
    const qtyScale = d.int(T_QTY_SCALE);
    const aggressor = d.str(T_AGGRESSOR);
    const cross = d.bool(T_CROSS);
    if (typeof venue !== 'string' || typeof instrument !== 'string' || typeof tradeId !== 'string' || venue === '' || instrument === '' || tradeId === '') return false;
    if (priceTicks === undefined || qtyLots === undefined || qtyLots < 0 || priceScale === undefined || qtyScale === undefined) return false;
    if (priceScale < 0 || priceScale > 18 || qtyScale < 0 || qtyScale > 18) return false;
    if ((cross === undefined && d.has(T_CROSS)) || (typeof aggressor !== 'string' && d.has(T_AGGRESSOR))) return false;
    let eventTime = 0n;
    if (c.metaEnd > c.metaStart) {
      if (!this.scanMeta(c)) return false;
      const t = this.meta.bigint(M_EVENT_TIME);
      if (t === undefined) return false;
      eventTime = t;
    }
    this.stats.decoded++;
    const runId = isRun ? runIdOfStream(c.stream) : null;
    this.rows(MARKET_TRADES).add(
      c.position, runId, c.stream, venue, instrument, tradeId, priceTicks, qtyLots, priceScale, qtyScale,
      typeof aggressor === 'string' ? aggressor : 'unknown', cross === true, eventTime,
    );
    if (isRun) {
      const run = this.runOf(c.stream, c.position, null);
      if (run.portfolio.marks.has(instrument)) {
        evolveMarked(this, run, c.position, { type: 'TradeReported', data: { instrument, priceTicks } } as unknown as DomainEvent, instrument);
      }
    }
    return true;
  }

  /** Folds one decoded event (any backend's RecordedEvent fits). */
  visit(ev: ProjectedEvent): void {
    this.events++;
    this.stats.events++;
    this.position = ev.position;
    const isRun = ev.stream.startsWith('run-');
    if (isRun) {
      const run = this.runOf(ev.stream, ev.position, null);
      if (run.ended) return this.afterEnd(run, ev.position, ev.id, ev.type);
      this.touchRun(run, ev.position);
      if (ev.metadata.role === 'input') {
        run.row.inputs++;
        if (ev.revision !== undefined) {
          run.lastInputRevision = ev.revision;
          run.lastInputPosition = ev.position;
        }
      }
    }
    if (RELEVANT.has(ev.type)) this.fold(ev, isRun);
  }

  /** A closed run takes no more events: one appended after RunEnded is flagged, never folded. */
  private afterEnd(run: RunState, position: number, id: string, type: string): void {
    this.error(position, run.stream, id, type, `run ${run.runId} ended at position ${run.row.endedPosition}: an event after RunEnded is not folded`);
  }

  touchRun(run: RunState, position: number): void {
    run.row.events++;
    run.row.lastPosition = position;
    const d = this.dirty.get(run);
    if (d === undefined) this.dirtyOf(run);
  }

  private fold(ev: ProjectedEvent, isRun: boolean): void {
    this.stats.decoded++;
    try {
      // The catalogue's own decoder (the one the kernel and audit use) validates the payload and fills in its
      // defaults: a catalogue change is made in domain/events only. RELEVANT holds catalogue types only.
      const f = FOLD_OF_TYPE.get(ev.type);
      if (f === undefined || (f.runStreamsOnly === true && !isRun)) return;
      if (!isEventType(ev.type)) throw new BadEvent(`unknown event type "${ev.type}"`);
      const data = parsePayload(ev.type, ev.data) as Record<string, unknown>;
      const meta = ev.metadata ?? {};
      const eventTime = bigOf(meta.eventTimeNs ?? 0, 'metadata.eventTimeNs');
      f.fold(this, { ev, data, meta, eventTime, isRun });
    } catch (e) {
      if (e instanceof BadEvent || e instanceof TapedeckError || e instanceof SyntaxError) {
        this.error(ev.position, ev.stream, ev.id, ev.type, e.message);
        return;
      }
      throw e;
    }
  }

  private error(position: number, stream: string, id: string, type: string, message: string): void {
    this.stats.errors++;
    this.rows(PROJECTION_ERRORS).add(position, stream, id, type, message);
  }








  /** Every run with its orders (all of them while the run is active), in stream order. */
  runStates(): Array<{ run: RunState; orders: OrderRec[] }> {
    const byStream = new Map<string, OrderRec[]>();
    for (const o of this.orders.values()) {
      const l = byStream.get(o.stream) ?? [];
      l.push(o);
      byStream.set(o.stream, l);
    }
    return [...this.runs.values()].sort((a, b) => (a.stream < b.stream ? -1 : 1)).map((run) => ({ run, orders: byStream.get(run.stream) ?? [] }));
  }

  // ------------------------------------------------------------------ committing

  /** Rows waiting to be committed. */
  get pendingRows(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.length;
    return n + this.dirtyOrders.size + this.dirtyDecisions.size;
  }

  /**
   * Commits everything folded so far, with the checkpoint, in one transaction. On failure the
   * transaction is rolled back and the projector must be discarded (its memory is ahead of the file).
   */
  async commit(con: DuckDBConnection): Promise<void> {
    await (await this.beginCommit(con)).done;
  }

  /**
   * Writes everything folded so far and the checkpoint inside a transaction, and returns the pending
   * COMMIT. The projector may fold the next events while it runs (DuckDB commits on its own thread);
   * await it before the next beginCommit. If it rejects, the transaction was rolled back and this
   * projector must be discarded.
   */
  async beginCommit(con: DuckDBConnection): Promise<{ done: Promise<void> }> {
    this.fillStage();
    this.afterCommit();
    const position = this.position;
    const events = this.events;
    const rollback = async (e: unknown): Promise<never> => {
      try {
        await con.run('ROLLBACK');
      } catch {
        /* the transaction may already be aborted */
      }
      throw e;
    };
    await con.run('BEGIN TRANSACTION');
    // The rows go in through appenders (JS thread); the upserts, the checkpoint and the COMMIT are ONE
    // script that DuckDB runs on its own thread while the caller folds the next batch (statements
    // issued one by one would each wait for the JS thread to be free). DuckDB stops at the first
    // failing statement, so the COMMIT never runs after a failure and the rollback below undoes it all.
    const script: string[] = [];
    try {
      for (const b of this.buffers.values()) this.stats.rows += await b.flushTo(con);
      for (const spec of UPSERT_TABLES) {
        const b = this.stage.get(spec.name)!;
        if (b.length === 0) continue;
        const n = await b.flushTo(con, `_stage_${spec.name}`, 'temp');
        this.stats.rows += n;
        const match = spec.key.map((k) => `s."${k}" IS NOT DISTINCT FROM t."${k}"`).join(' AND ');
        script.push(
          `DELETE FROM "${spec.name}" t WHERE EXISTS (SELECT 1 FROM temp."_stage_${spec.name}" s WHERE ${match})`,
          `INSERT INTO "${spec.name}" SELECT * FROM temp."_stage_${spec.name}"`,
          `DELETE FROM temp."_stage_${spec.name}"`,
        );
      }
      script.push(
        `INSERT OR REPLACE INTO ${CHECKPOINT_TABLE} VALUES (${sqlString(PROJECTOR_NAME)}, ${SCHEMA_VERSION}, ${position}, ${events}, '{}')`,
        'COMMIT',
      );
    } catch (e) {
      return rollback(e);
    }
    // Wrapped: an async function returning a bare promise would wait for it.
    return { done: con.run(script.join(';\n')).then(() => undefined, rollback) };
  }

  private fillStage(): void {
    const st = (s: TableSpec): TableBuffer => this.stage.get(s.name)!;
    for (const [run, d] of this.dirty) {
      const r = run.row;
      st(RUNS).add(
        run.runId, run.stream, r.mode, r.strategy, r.codeHash, r.configHash, r.seed, r.source, r.dataFrom, r.dataTo, r.config,
        r.startedPosition, r.startedTime, r.endedPosition, r.endedTime, r.outcome, r.reason, r.reportedEvents, r.reportedDecisions,
        r.decisionsHash, r.events, r.inputs, r.orders, r.fills, r.firstPosition, r.lastPosition,
      );
      const pf = run.portfolio;
      const pnlKeys = new Set(d.positions);
      if (d.marks.size > 0) for (const [k, p] of pf.positions) if (d.marks.has(p.instrument)) pnlKeys.add(k);
      for (const k of d.positions) {
        const p = pf.positions.get(k);
        const meta = run.posMeta.get(k);
        if (p === undefined || meta === undefined) continue;
        st(POSITIONS).add(...positionCells(run, p), meta.lastFillId, meta.lastPosition, meta.lastEventTime);
      }
      for (const k of pnlKeys) {
        const p = pf.positions.get(k);
        if (p === undefined) continue;
        const v = valuePosition(pf, k, p);
        const ms = v.moneyScale;
        const realized = toDec18(v.realizedPnl, ms);
        const unrealized = v.unrealizedPnl === null ? null : toDec18(v.unrealizedPnl, ms);
        const fees = moneyDec(p.fees.get(p.quoteCurrency));
        const other = [...p.fees.entries()].filter(([c]) => c !== p.quoteCurrency).sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([c, m]) => `${c}:${formatTrim(m.amount, m.scale)}`).join(';');
        const asOf = Math.max(run.posMeta.get(k)?.lastPosition ?? -1, run.markAsOf.get(p.instrument) ?? -1);
        st(PNL).add(
          run.runId, p.strategyId, p.venue, p.instrument, p.quoteCurrency, toDec18(p.qtyLots, p.qtyScale), realized, unrealized,
          v.markTicks === null ? null : toDec18(v.markTicks, p.priceScale), fees, other === '' ? null : other,
          realized + (unrealized ?? 0n) - fees, asOf,
        );
      }
      if (d.cash) {
        for (const [k, c] of pf.cash) {
          st(BALANCES).add(
            run.runId, c.venue, c.currency, moneyDec(c.total), c.reportedAvailable === null ? null : moneyDec(c.reportedAvailable),
            run.cashAsOf.get(k) ?? r.lastPosition,
          );
        }
      }
      const { stream: _s, ...persisted } = run;
      st(RUN_STATE).add(run.stream, run.runId, run.ended, stringifyState(persisted));
    }
    for (const key of this.dirtyOrders) {
      const rec = this.orders.get(key);
      if (rec !== undefined) st(ORDERS).add(...orderCells(rec));
    }
    for (const key of this.dirtyDecisions) {
      const dr = this.decisions.get(key);
      if (dr !== undefined) st(DECISIONS).addObject(dr.cells);
    }
    for (const row of this.instruments.values()) st(INSTRUMENTS).addObject(row);
  }

  private afterCommit(): void {
    for (const run of this.dirty.keys()) {
      if (!run.ended) continue;
      // A finished run's orders and decisions are final: keep them in the tables only.
      for (const [k, o] of this.orders) if (o.stream === run.stream) this.orders.delete(k);
      for (const [k, dr] of this.decisions) if (dr.stream === run.stream) this.decisions.delete(k);
    }
    for (const key of this.dirtyDecisions) {
      const dr = this.decisions.get(key);
      if (dr !== undefined && dr.cells.risk_outcome !== 'pending') this.decisions.delete(key);
    }
    this.dirty.clear();
    this.dirtyOrders.clear();
    this.dirtyDecisions.clear();
    this.instruments.clear();
  }
}

/** A buffer that keeps nothing (state-only folds). */
class DiscardBuffer extends TableBuffer {
  override add(): void {
    /* state only */
  }
}

/** One run's state as the log leaves it: what `tapedeck rebuild` prints. */
export interface RunStateView {
  runId: string;
  stream: string;
  strategy: string | null;
  mode: string | null;
  ended: boolean;
  outcome: string | null;
  lastPosition: number;
  events: number;
  positions: Array<Record<string, string | number | null>>;
  openOrders: Array<Record<string, string | number | boolean | null>>;
  balances: Array<Record<string, string | null>>;
}

function fmt(m: bigint | number, scale: number): string {
  return formatTrim(typeof m === 'bigint' ? m : BigInt(m), scale);
}

/** Runs' positions, open orders and balances from a projector's in-memory state (sorted, stable). */
export function stateViews(p: Projector): RunStateView[] {
  return p.runStates().map(({ run, orders }) => {
    const pf = run.portfolio;
    const positions = [...pf.positions.keys()].sort().map((k) => {
      const pos = pf.positions.get(k)!;
      const v = valuePosition(pf, k, pos);
      const ms = v.moneyScale;
      const avg = avgPrice18(pos.costBasis, pos.qtyLots, pos.priceScale);
      return {
        strategy: pos.strategyId, venue: pos.venue, instrument: pos.instrument, quoteCurrency: pos.quoteCurrency,
        quantity: fmt(pos.qtyLots, pos.qtyScale), avgPrice: avg === null ? null : fmt(avg, 18), costBasis: fmt(pos.costBasis, ms),
        realizedPnl: fmt(pos.realizedPnl, ms), unrealizedPnl: v.unrealizedPnl === null ? null : fmt(v.unrealizedPnl, ms),
        markPrice: v.markTicks === null ? null : fmt(v.markTicks, pos.priceScale), fills: pos.fillCount,
        fees: [...pos.fees.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, m]) => `${fmt(m.amount, m.scale)} ${c}`).join(', ') || '0',
      };
    });
    const openOrders = orders
      .filter((o) => isWorking(o.state.status) || o.state.status === 'intended' || o.state.status === 'approved')
      .sort((a, b) => a.intendedPosition - b.intendedPosition)
      .map((o) => {
        const s = o.state;
        return {
          orderId: s.orderId, strategy: s.strategyId, venue: s.venue, instrument: s.instrument, side: s.side, orderType: s.orderType,
          price: s.priceTicks === null ? null : fmt(s.priceTicks, s.priceScale), quantity: fmt(s.qtyLots, s.qtyScale),
          filledQuantity: fmt(s.filledLots, s.qtyScale), leavesQuantity: fmt(s.leavesLots, s.qtyScale), state: s.status,
          venueOrderId: s.venueOrderId, cancelRequested: s.cancelRequested,
        };
      });
    const balances = [...pf.cash.keys()].sort().map((k) => {
      const c = pf.cash.get(k)!;
      return {
        venue: c.venue, currency: c.currency, total: fmt(c.total.amount, c.total.scale),
        reportedAvailable: c.reportedAvailable === null ? null : fmt(c.reportedAvailable.amount, c.reportedAvailable.scale),
      };
    });
    return {
      runId: run.runId, stream: run.stream, strategy: run.row.strategy, mode: run.row.mode, ended: run.ended, outcome: run.row.outcome,
      lastPosition: run.row.lastPosition, events: run.row.events, positions, openOrders, balances,
    };
  });
}

function formatTrim(amount: bigint, scale: number): string {
  const neg = amount < 0n;
  const digits = (neg ? -amount : amount).toString().padStart(scale + 1, '0');
  let text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  if (scale > 0) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return (neg ? '-' : '') + text;
}

function orderCells(rec: OrderRec): Cell[] {
  const o = rec.state;
  const ms = o.priceScale + o.qtyScale;
  const avg = o.filledLots === 0 ? null : divRound(rec.filledNotional * pow10(18 - o.priceScale), BigInt(o.filledLots), 'half-even');
  return [
    o.orderId, rec.runId, o.strategyId, o.venue, o.instrument, o.side, o.orderType,
    o.priceTicks === null ? null : toDec18(o.priceTicks, o.priceScale), toDec18(o.qtyLots, o.qtyScale), o.status,
    o.timeInForce, o.postOnly, o.reduceOnly, o.clientTag, o.priceTicks, o.qtyLots, o.priceScale, o.qtyScale,
    toDec18(o.filledLots, o.qtyScale), o.filledLots, o.leavesLots, avg, toDec18(rec.filledNotional, ms), o.fillIds.length,
    rec.fees === null ? null : toDec18(rec.fees.amount, rec.fees.scale), rec.feesMixed ? 'mixed' : rec.feeCurrency,
    o.venueOrderId, o.submitAttempts, o.cancelRequested, o.replacePending?.priceTicks ?? null, o.replacePending?.qtyLots ?? null,
    o.replaceCount, o.statusBeforeUnknown, o.denial?.code ?? null, o.denial?.detail ?? null, rec.rejectReason,
    rec.decisionId, rec.causeEventId, rec.intendedPosition, rec.intendedTime, rec.lastEventType, rec.lastPosition, rec.lastEventTime, rec.anomalies,
  ];
}

/** Rebuilds an order's in-memory record from its `orders` row (restart). */
function orderFromRow(r: Record<string, unknown>, fillIds: string[], stream: string): OrderRec {
  const num = (v: unknown): number => Number(v);
  const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const s = (v: unknown): string => String(v);
  const sOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const priceScale = num(r.price_scale);
  const qtyScale = num(r.qty_scale);
  const state: OrderState = {
    orderId: s(r.order_id), strategyId: s(r.strategy), venue: s(r.venue), instrument: s(r.instrument),
    side: s(r.side) as OrderState['side'], orderType: s(r.order_type) as OrderState['orderType'], priceTicks: numOrNull(r.price_ticks),
    qtyLots: num(r.qty_lots), priceScale, qtyScale, timeInForce: s(r.time_in_force) as OrderState['timeInForce'],
    postOnly: r.post_only === true, reduceOnly: r.reduce_only === true, clientTag: sOrNull(r.client_tag), status: s(r.state) as OrderStatus,
    filledLots: num(r.filled_lots), leavesLots: num(r.leaves_lots), venueOrderId: sOrNull(r.venue_order_id), submitAttempts: num(r.submit_attempts),
    cancelRequested: r.cancel_requested === true,
    replacePending: r.replace_pending_qty_lots === null ? null : { priceTicks: numOrNull(r.replace_pending_price_ticks), qtyLots: num(r.replace_pending_qty_lots) },
    replaceCount: num(r.replace_count), statusBeforeUnknown: sOrNull(r.status_before_unknown) as OrderStatus | null,
    denial: r.deny_code === null ? null : { code: s(r.deny_code) as NonNullable<OrderState['denial']>['code'], detail: s(r.deny_detail ?? '') },
    fillIds,
  };
  const feeCurrency = sOrNull(r.fee_currency);
  const feesMixed = feeCurrency === 'mixed';
  return {
    state, runId: s(r.run_id), stream, decisionId: s(r.decision_id), causeEventId: s(r.cause_event_id),
    intendedPosition: num(r.intended_position), intendedTime: tsToNs(r.intended_time), lastEventType: s(r.last_event_type),
    lastPosition: num(r.last_position), lastEventTime: tsToNs(r.last_event_time), anomalies: num(r.anomalies),
    filledNotional: decTextToMantissa(s(r.filled_notional), priceScale + qtyScale),
    fees: r.fees_text === null || feesMixed ? null : { amount: decTextToMantissa(s(r.fees_text), 18), scale: 18 },
    feeCurrency: feesMixed ? null : feeCurrency, feesMixed, rejectReason: sOrNull(r.reject_reason),
  };
}

/** A DECIMAL(38,18) text as a mantissa at `scale` (exact: the value was written from that scale). */
export function decTextToMantissa(text: string, scale: number): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`invariant violated: "${text}" is not a decimal`);
  const frac = (m[3] ?? '').padEnd(scale, '0');
  const extra = frac.slice(scale);
  if (/[^0]/.test(extra)) throw new Error(`invariant violated: ${text} has more than ${scale} decimals`);
  const v = BigInt((m[2] ?? '0') + frac.slice(0, scale));
  return m[1] ? -v : v;
}

/** A TIMESTAMP_NS as JSON text ("2021-10-12 01:02:03.123456789") back to ns since the epoch. */
export function tsToNs(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  const text = String(v);
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/.exec(text);
  if (!m) throw new Error(`invariant violated: "${text}" is not a timestamp`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

function cellFromJson(v: unknown, kind: string): Cell {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'dec': return decTextToMantissa(String(v), 18);
    case 'ts': return tsToNs(v);
    case 'bigint': case 'hugeint': return BigInt(String(v));
    case 'int': return Number(v);
    case 'bool': return v === true;
    default: return String(v);
  }
}

