/**
 * The projection tables, defined once: the DDL, the row buffers and the deterministic exports all come
 * from these specs. Money, prices and quantities are DECIMAL(38, 18) (exact), counts and ticks BIGINT,
 * times TIMESTAMP_NS (exact ns) next to the raw `*_ns` BIGINT where a reader may want the integer.
 * Bump SCHEMA_VERSION when a table changes shape: an older database is then rebuilt from the log.
 */
import { createTableSql, type ColumnSpec, type TableSpec } from './columns.js';

export const SCHEMA_VERSION = 1;
export const PROJECTOR_NAME = 'tapedeck-projections';
export const CHECKPOINT_TABLE = '_tapedeck_checkpoint';

const t = (name: string, kind: ColumnSpec['kind'], nullable = false): ColumnSpec => ({ name, kind, nullable });

export const RUNS: TableSpec = {
  name: 'runs',
  about: 'one row per run: manifest (mode, strategy, hashes, seed, source), outcome and counters',
  key: ['run_id'],
  upsert: true,
  columns: [
    t('run_id', 'text'), t('stream', 'text'), t('mode', 'text', true), t('strategy', 'text', true),
    t('code_hash', 'text', true), t('config_hash', 'text', true), t('seed', 'bigint', true), t('source', 'text', true),
    t('data_from', 'ts', true), t('data_to', 'ts', true), t('config', 'text', true),
    t('started_position', 'bigint', true), t('started_time', 'ts', true),
    t('ended_position', 'bigint', true), t('ended_time', 'ts', true), t('outcome', 'text', true), t('reason', 'text', true),
    t('reported_events', 'bigint', true), t('reported_decisions', 'bigint', true), t('decisions_hash', 'text', true),
    t('events', 'bigint'), t('inputs', 'bigint'), t('orders', 'bigint'), t('fills', 'bigint'),
    t('first_position', 'bigint'), t('last_position', 'bigint'), t('last_event_time', 'ts', true),
  ],
};

export const ORDERS: TableSpec = {
  name: 'orders',
  about: 'one row per order with its current state (domain/orders/lifecycle), fills summary and cause',
  // The same order id in two runs stays two rows (ids are per run by contract, but the log is outside input).
  key: ['run_id', 'order_id'],
  upsert: true,
  columns: [
    t('order_id', 'text'), t('run_id', 'text', true), t('strategy', 'text'), t('venue', 'text'), t('instrument', 'text'),
    t('side', 'text'), t('order_type', 'text'), t('price', 'dec', true), t('quantity', 'dec'), t('state', 'text'),
    t('time_in_force', 'text'), t('post_only', 'bool'), t('reduce_only', 'bool'), t('client_tag', 'text', true),
    t('price_ticks', 'bigint', true), t('qty_lots', 'bigint'), t('price_scale', 'int'), t('qty_scale', 'int'),
    t('filled_quantity', 'dec'), t('filled_lots', 'bigint'), t('leaves_lots', 'bigint'), t('avg_fill_price', 'dec', true),
    t('filled_notional', 'dec'), t('fill_count', 'bigint'), t('fees', 'dec', true), t('fee_currency', 'text', true),
    t('venue_order_id', 'text', true), t('submit_attempts', 'bigint'), t('cancel_requested', 'bool'),
    t('replace_pending_price_ticks', 'bigint', true), t('replace_pending_qty_lots', 'bigint', true), t('replace_count', 'bigint'),
    t('status_before_unknown', 'text', true), t('deny_code', 'text', true), t('deny_detail', 'text', true), t('reject_reason', 'text', true),
    t('decision_id', 'text'), t('cause_event_id', 'text'), t('intended_position', 'bigint'), t('intended_time', 'ts'),
    t('last_event_type', 'text'), t('last_position', 'bigint'), t('last_event_time', 'ts'), t('anomalies', 'bigint'),
  ],
};

export const ORDER_EVENTS: TableSpec = {
  name: 'order_events',
  about: 'every order event (intent, risk, venue messages) in log order, with the state it left the order in (payloads: in the log, by position)',
  key: ['position'],
  upsert: false,
  columns: [
    t('position', 'bigint'), t('run_id', 'text', true), t('order_id', 'text'), t('event_id', 'text'), t('event_type', 'text'),
    t('role', 'text', true), t('event_time', 'ts'), t('receive_time', 'ts'), t('causation_id', 'text', true),
    t('state_after', 'text', true), t('anomaly', 'text', true),
  ],
};

export const FILLS: TableSpec = {
  name: 'fills',
  about: 'one row per applied fill (duplicates refused by the lifecycle are in order_events.anomaly)',
  key: ['position'],
  upsert: false,
  columns: [
    t('fill_id', 'text'), t('order_id', 'text'), t('run_id', 'text', true), t('strategy', 'text'), t('venue', 'text'),
    t('instrument', 'text'), t('side', 'text'), t('price', 'dec'), t('quantity', 'dec'), t('fee', 'dec'), t('fee_currency', 'text'),
    t('liquidity', 'text'), t('leaves_lots', 'bigint'), t('price_ticks', 'bigint'), t('qty_lots', 'bigint'),
    t('price_scale', 'int'), t('qty_scale', 'int'), t('fee_mantissa', 'hugeint'), t('fee_scale', 'int'),
    t('event_time', 'ts'), t('receive_time', 'ts'), t('position', 'bigint'), t('event_id', 'text'),
  ],
};

const positionCols: ColumnSpec[] = [
  t('run_id', 'text', true), t('strategy', 'text'), t('venue', 'text'), t('instrument', 'text'),
  t('quantity', 'dec'), t('avg_price', 'dec', true), t('cost_basis', 'dec'), t('realized_pnl', 'dec'),
  t('quote_currency', 'text'), t('qty_lots', 'bigint'), t('bought_lots', 'bigint'), t('sold_lots', 'bigint'),
  t('fill_count', 'bigint'), t('fees', 'dec'), t('price_scale', 'int'), t('qty_scale', 'int'),
];

export const POSITIONS: TableSpec = {
  name: 'positions',
  about: 'current position per (run, strategy, venue, instrument): average cost, realized P&L (domain/portfolio)',
  key: ['run_id', 'strategy', 'venue', 'instrument'],
  upsert: true,
  columns: [...positionCols, t('last_fill_id', 'text', true), t('last_position', 'bigint'), t('last_event_time', 'ts')],
};

export const POSITION_HISTORY: TableSpec = {
  name: 'position_history',
  about: 'the position after every fill: the time series of positions',
  key: ['position'],
  upsert: false,
  columns: [t('position', 'bigint'), t('event_time', 'ts'), t('fill_id', 'text'), ...positionCols],
};

export const PNL: TableSpec = {
  name: 'pnl',
  about: 'realized and unrealized P&L with fees by run, strategy, venue and instrument, at the last mark',
  key: ['run_id', 'strategy', 'venue', 'instrument'],
  upsert: true,
  columns: [
    t('run_id', 'text', true), t('strategy', 'text'), t('venue', 'text'), t('instrument', 'text'), t('quote_currency', 'text'),
    t('quantity', 'dec'), t('realized_pnl', 'dec'), t('unrealized_pnl', 'dec', true), t('mark_price', 'dec', true),
    t('fees', 'dec'), t('other_fees', 'text', true), t('net_pnl', 'dec'), t('as_of_position', 'bigint'),
  ],
};

export const BALANCES: TableSpec = {
  name: 'balances',
  about: 'cash by run, venue and currency: last reported balance plus every fill and fee since',
  key: ['run_id', 'venue', 'currency'],
  upsert: true,
  columns: [
    t('run_id', 'text', true), t('venue', 'text'), t('currency', 'text'), t('total', 'dec'), t('reported_available', 'dec', true),
    t('as_of_position', 'bigint'),
  ],
};

export const DECISIONS: TableSpec = {
  name: 'decisions',
  about: 'each order intent with its cause event, strategy/config/state hashes and the risk outcome',
  key: ['run_id', 'decision_id'],
  upsert: true,
  columns: [
    t('decision_id', 'text'), t('run_id', 'text', true), t('order_id', 'text'), t('strategy', 'text'),
    t('strategy_code_hash', 'text'), t('config_hash', 'text'), t('state_hash', 'text'),
    t('cause_event_id', 'text'), t('cause_position', 'bigint', true), t('venue', 'text'), t('instrument', 'text'),
    t('side', 'text'), t('order_type', 'text'), t('price', 'dec', true), t('quantity', 'dec'),
    t('event_time', 'ts'), t('position', 'bigint'),
    t('risk_outcome', 'text'), t('risk_checks', 'text', true), t('risk_code', 'text', true), t('risk_detail', 'text', true),
    t('risk_position', 'bigint', true), t('risk_event_id', 'text', true),
  ],
};

export const MARKET_TRADES: TableSpec = {
  name: 'market_trades',
  about: 'every TradeReported (raw ticks and lots; the `trades` view adds decimals, `bars` aggregates them)',
  key: ['position'],
  upsert: false,
  columns: [
    t('position', 'bigint'), t('run_id', 'text', true), t('stream', 'text'), t('venue', 'text'), t('instrument', 'text'),
    t('trade_id', 'text'), t('price_ticks', 'bigint'), t('qty_lots', 'bigint'), t('price_scale', 'int'), t('qty_scale', 'int'),
    t('aggressor', 'text'), t('cross', 'bool'), t('event_time_ns', 'bigint'),
  ],
};

export const INSTRUMENTS: TableSpec = {
  name: 'instruments',
  about: 'InstrumentDefined, last definition per instrument',
  key: ['instrument'],
  upsert: true,
  columns: [
    t('instrument', 'text'), t('venue', 'text'), t('symbol', 'text'), t('kind', 'text'), t('base_currency', 'text', true),
    t('quote_currency', 'text'), t('price_scale', 'int'), t('qty_scale', 'int'), t('tick_size', 'dec'), t('lot_size', 'dec'),
    t('position', 'bigint'),
  ],
};

export const PROJECTION_ERRORS: TableSpec = {
  name: 'projection_errors',
  about: 'events the projector could not use (malformed payloads): reported here, never a crash',
  key: ['position'],
  upsert: false,
  columns: [t('position', 'bigint'), t('stream', 'text'), t('event_id', 'text'), t('event_type', 'text'), t('error', 'text')],
};

export const TABLES: TableSpec[] = [
  RUNS, ORDERS, ORDER_EVENTS, FILLS, POSITIONS, POSITION_HISTORY, PNL, BALANCES, DECISIONS, MARKET_TRADES, INSTRUMENTS, PROJECTION_ERRORS,
];

/**
 * `td_dec(mantissa, scale)`: an integer mantissa at a decimal scale as an exact DECIMAL(38,18). SQL has
 * no "make decimal"; multiplying by a decimal literal of that scale is exact, so one branch per scale.
 */
export const MACRO_SQL = `CREATE OR REPLACE MACRO td_dec(m, s) AS CASE s ${Array.from({ length: 19 }, (_, s) =>
  `WHEN ${s} THEN (m::DECIMAL(38,0) * ${s === 0 ? '1' : `0.${'0'.repeat(s - 1)}1`}::DECIMAL(${Math.max(s, 1)},${s}))::DECIMAL(38,18)`).join(' ')} END`;

export const VIEWS_SQL = [
  `CREATE OR REPLACE VIEW trades AS
   SELECT position, run_id, stream, venue, instrument, trade_id, price_ticks, qty_lots, price_scale, qty_scale,
          td_dec(price_ticks, price_scale) AS price, td_dec(qty_lots, qty_scale) AS quantity,
          aggressor, "cross", make_timestamp_ns(event_time_ns) AS event_time, event_time_ns
   FROM market_trades`,
  // OHLCV per run (NULL run_id: market-data streams outside any run), instrument and minute.
  `CREATE OR REPLACE VIEW bars AS
   SELECT run_id, venue, instrument,
          make_timestamp_ns((event_time_ns // 60000000000) * 60000000000) AS minute,
          arg_min(price, (event_time_ns, position)) AS open,
          max(price) AS high, min(price) AS low,
          arg_max(price, (event_time_ns, position)) AS close,
          sum(quantity) AS volume,
          sum(td_dec(price_ticks::HUGEINT * qty_lots, price_scale + qty_scale)) AS notional, count(*) AS trades,
          min(position) AS first_position, max(position) AS last_position
   FROM trades
   WHERE NOT "cross"
   GROUP BY run_id, venue, instrument, event_time_ns // 60000000000`,
  // Open orders: what `rebuild` reports and risk would see.
  `CREATE OR REPLACE VIEW open_orders AS
   SELECT * FROM orders WHERE state IN ('intended', 'approved', 'submitted', 'accepted', 'partially-filled', 'unknown')`,
];

export const VIEW_NAMES = ['trades', 'bars', 'open_orders'];

export function schemaSql(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (projector VARCHAR PRIMARY KEY, schema_version INTEGER NOT NULL, position BIGINT NOT NULL, events BIGINT NOT NULL, state VARCHAR NOT NULL)`,
    ...TABLES.map((s) => createTableSql(s)),
    MACRO_SQL,
    ...VIEWS_SQL,
  ];
}
