/**
 * What the folds of projections/folds share: the per-run state the projector keeps (and persists in
 * _tapedeck_run_state), the context a fold writes through, and accessors over payloads the catalogue's
 * decoder (domain/events parsePayload) already validated.
 */
import { divRound, pow10 } from '../../domain/core/fixed.js';
import type { OrderState } from '../../domain/orders/lifecycle.js';
import type { PortfolioState, Position } from '../../domain/portfolio/portfolio.js';
import type { Money } from '../../domain/portfolio/position.js';
import type { EventType } from '../../domain/events/catalog.js';
import { toDec18, type Cell, type TableBuffer, type TableSpec } from '../columns.js';

export interface RunRow {
  mode: string | null;
  strategy: string | null;
  codeHash: string | null;
  configHash: string | null;
  seed: number | null;
  source: string | null;
  dataFrom: bigint | null;
  dataTo: bigint | null;
  config: string | null;
  startedPosition: number | null;
  startedTime: bigint | null;
  endedPosition: number | null;
  endedTime: bigint | null;
  outcome: string | null;
  reason: string | null;
  reportedEvents: number | null;
  reportedDecisions: number | null;
  decisionsHash: string | null;
  events: number;
  inputs: number;
  orders: number;
  fills: number;
  firstPosition: number;
  lastPosition: number;
}

export interface PositionMeta {
  lastFillId: string | null;
  lastPosition: number;
  lastEventTime: bigint;
}

export interface RunState {
  stream: string;
  runId: string;
  row: RunRow;
  portfolio: PortfolioState;
  posMeta: Map<string, PositionMeta>;
  /** Position of the event that last changed each instrument's mark. */
  markAsOf: Map<string, number>;
  /** Position of the event that last changed each cash balance (venue|currency). */
  cashAsOf: Map<string, number>;
  ended: boolean;
  /**
   * The latest input of the run stream (revision, position): a decision names its cause by revision
   * (positions are assigned by the store, after the decision was made), and this gives its position.
   */
  lastInputRevision?: number;
  lastInputPosition?: number;
  /** The run references its inputs (InputsReferenced): none is in its stream, RunEnded counts them. */
  inputsReferenced?: boolean;
}

export interface Dirty {
  run: boolean;
  positions: Set<string>;
  marks: Set<string>;
  cash: boolean;
}

export interface OrderRec {
  state: OrderState;
  runId: string;
  stream: string;
  decisionId: string;
  causeEventId: string;
  intendedPosition: number;
  intendedTime: bigint;
  lastEventType: string;
  lastPosition: number;
  lastEventTime: bigint;
  anomalies: number;
  /** Σ price ticks × lots of the fills, at priceScale + qtyScale. */
  filledNotional: bigint;
  fees: Money | null;
  feeCurrency: string | null;
  feesMixed: boolean;
  rejectReason: string | null;
}

export interface DecisionRec {
  runId: string;
  stream: string;
  cells: Record<string, Cell>;
}

/** A decoded event as the projector sees it. */
export interface ProjectedEvent {
  position: number;
  /** Revision in its stream, when the reader knows it. */
  revision?: number;
  stream: string;
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

/** An event as a fold receives it: its payload decoded by the catalogue, its event time read. */
export interface FoldInput {
  ev: ProjectedEvent;
  data: Record<string, unknown>;
  meta: Record<string, unknown>;
  eventTime: bigint;
  /** The event is in a run stream (`run-...`). */
  isRun: boolean;
}

/** What a fold reads and writes: the projector's state and row buffers (the projector implements it). */
export interface FoldContext {
  runOf(stream: string, position: number, correlationId: string | null): RunState;
  touchRun(run: RunState, position: number): void;
  dirtyOf(run: RunState): Dirty;
  /** The append buffer of a table (rows committed with the next checkpoint). */
  rows(spec: TableSpec): TableBuffer;
  readonly orders: Map<string, OrderRec>;
  readonly dirtyOrders: Set<string>;
  readonly decisions: Map<string, DecisionRec>;
  readonly dirtyDecisions: Set<string>;
  readonly instruments: Map<string, Record<string, Cell>>;
}

/** One read model's fold: the event types it takes, and what it does with one. */
export interface Fold {
  name: string;
  types: readonly EventType[];
  /** Only events of run streams matter to it: others are not even decoded. */
  runStreamsOnly?: boolean;
  fold(ctx: FoldContext, input: FoldInput): void;
}

/**
 * The run an event belongs to: its stream's, or (outside a run stream) the one its correlation id names,
 * which then counts the event.
 */
export function runFor(ctx: FoldContext, { ev, meta, isRun }: FoldInput): RunState {
  const correlation = typeof meta.$correlationId === 'string' ? meta.$correlationId : null;
  // A paper or live session's market-data stream (InputsReferenced kind stream) belongs to its run.
  if (ev.stream.startsWith(MARKET_DATA_PREFIX)) return ctx.runOf(`run-${ev.stream.slice(MARKET_DATA_PREFIX.length)}`, ev.position, correlation);
  const run = ctx.runOf(ev.stream, ev.position, correlation);
  if (!isRun) ctx.touchRun(run, ev.position);
  return run;
}

const MARKET_DATA_PREFIX = 'marketdata-';

export function runIdOfStream(stream: string): string | null {
  return stream.startsWith('run-') ? stream.slice(4) : null;
}

/** A payload the projector cannot fold (goes to projection_errors). */
export class BadEvent extends Error {}

export function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) throw new BadEvent(`data.${k}: expected a non-empty string`);
  return v;
}
export function optStr(o: Record<string, unknown>, k: string): string | null {
  const v = o[k];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new BadEvent(`data.${k}: expected a string`);
  return v;
}
export function int(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new BadEvent(`data.${k}: expected a safe integer`);
  return v;
}
export function optInt(o: Record<string, unknown>, k: string): number | null {
  const v = o[k];
  if (v === undefined || v === null) return null;
  return int(o, k);
}
export function scaleOf(o: Record<string, unknown>, k: string): number {
  const v = int(o, k);
  if (v < 0 || v > 18) throw new BadEvent(`data.${k}: scale ${v} is outside 0..18`);
  return v;
}
export function bigOf(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new BadEvent(`${what}: expected an integer`);
}
export function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadEvent(`${what}: expected an object`);
  return v as Record<string, unknown>;
}

export function newRunRow(position: number): RunRow {
  return {
    mode: null, strategy: null, codeHash: null, configHash: null, seed: null, source: null, dataFrom: null, dataTo: null, config: null,
    startedPosition: null, startedTime: null, endedPosition: null, endedTime: null, outcome: null, reason: null,
    reportedEvents: null, reportedDecisions: null, decisionsHash: null, events: 0, inputs: 0, orders: 0, fills: 0,
    firstPosition: position, lastPosition: position,
  };
}

/** Average cost as a DECIMAL(38,18) mantissa: costBasis / qtyLots in ticks, half-even. */
export function avgPrice18(costBasis: bigint, qtyLots: number, priceScale: number): bigint | null {
  if (qtyLots === 0) return null;
  return divRound(costBasis * pow10(18 - priceScale), BigInt(qtyLots), 'half-even');
}

export function moneyDec(m: Money | undefined): bigint {
  return m === undefined ? 0n : toDec18(m.amount, m.scale);
}

export function positionCells(run: RunState, p: Position): Cell[] {
  const ms = p.priceScale + p.qtyScale;
  return [
    run.runId, p.strategyId, p.venue, p.instrument, toDec18(p.qtyLots, p.qtyScale), avgPrice18(p.costBasis, p.qtyLots, p.priceScale),
    toDec18(p.costBasis, ms), toDec18(p.realizedPnl, ms), p.quoteCurrency, p.qtyLots, p.boughtLots, p.soldLots, p.fillCount,
    moneyDec(p.fees.get(p.quoteCurrency)), p.priceScale, p.qtyScale,
  ];
}
