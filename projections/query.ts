/**
 * Read-only SQL over the projections, two layers deep:
 *   1. the text must be ONE statement of a reading kind (SELECT / WITH / FROM, EXPLAIN, DESCRIBE, SHOW,
 *      SUMMARIZE, VALUES), checked with DuckDB's own parser (statement type) and the leading keyword;
 *   2. it runs on a database opened READ_ONLY, with external access (files, COPY TO, ATTACH,
 *      extensions) disabled and the configuration locked, so even a statement that slipped through
 *      layer 1 cannot change anything.
 * Errors (syntax, unknown table or column, a write) become one-line TapedeckErrors.
 */
import type { DuckDBConnection, StatementType as StatementKind } from '@duckdb/node-api';
import { TapedeckError, type TapedeckErrorCode } from '../domain/core/errors.js';
import { firstLine, openDbWithRetry, trimDecimal } from './db.js';
import { duckdbApi } from './duckdb.js';

const { StatementType } = duckdbApi;

export interface QueryResult {
  columns: string[];
  types: string[];
  rows: Record<string, unknown>[];
}

const READING_KEYWORDS = /^(select|with|from|explain|describe|desc|show|summarize|values|table|pivot|unpivot|\()/i;
const ALLOWED_TYPES = new Set<StatementKind>([StatementType.SELECT, StatementType.EXPLAIN]);

function stripLeadingComments(sql: string): string {
  let s = sql.trimStart();
  while (true) {
    if (s.startsWith('--')) {
      const nl = s.indexOf('\n');
      s = nl < 0 ? '' : s.slice(nl + 1).trimStart();
    } else if (s.startsWith('/*')) {
      const end = s.indexOf('*/');
      s = end < 0 ? '' : s.slice(end + 2).trimStart();
    } else return s;
  }
}

function queryError(e: unknown, code: TapedeckErrorCode = 'QUERY_FAILED'): TapedeckError {
  const msg = e instanceof Error ? e.message : String(e);
  const line = firstLine(msg.replace(/^Failed to extract statements: /, ''));
  if (/Catalog Error/.test(msg)) return new TapedeckError('QUERY_UNKNOWN_NAME', line);
  if (/Parser Error/.test(msg)) return new TapedeckError('QUERY_SYNTAX', line);
  if (/read-only|read only|Permission Error/i.test(msg)) return new TapedeckError('QUERY_READ_ONLY', `only reading statements are allowed: ${line}`);
  if (/Binder Error/.test(msg)) return new TapedeckError('QUERY_INVALID', line);
  return new TapedeckError(code, line);
}

/** Layer 1: exactly one reading statement. Throws QUERY_* TapedeckErrors. */
export async function checkReadOnlySql(con: DuckDBConnection, sql: string): Promise<void> {
  const body = stripLeadingComments(sql);
  if (body.trim() === '') throw new TapedeckError('QUERY_EMPTY', 'no SQL given');
  let extracted;
  try {
    extracted = await con.extractStatements(sql);
  } catch (e) {
    throw queryError(e);
  }
  if (extracted.count !== 1) {
    throw new TapedeckError('QUERY_MULTIPLE', `give exactly one statement (got ${extracted.count})`);
  }
  if (!READING_KEYWORDS.test(body)) {
    const word = body.split(/\s+/)[0] ?? '';
    throw new TapedeckError('QUERY_READ_ONLY', `only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW and SUMMARIZE are allowed, not ${word.toUpperCase()}`);
  }
  if (/^explain\s+analy[sz]e/i.test(body)) {
    throw new TapedeckError('QUERY_READ_ONLY', 'EXPLAIN ANALYZE runs the statement; use EXPLAIN');
  }
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (e) {
    throw queryError(e);
  }
  const type = prepared.statementType;
  if (!ALLOWED_TYPES.has(type)) {
    throw new TapedeckError('QUERY_READ_ONLY', `only reading statements are allowed (this one is ${StatementType[type] ?? type})`);
  }
}

/** Runs one reading statement on a read-only connection to `dbPath`. */
export async function runReadOnlyQuery(dbPath: string, sql: string): Promise<QueryResult> {
  const db = await openDbWithRetry(dbPath, {
    readOnly: true,
    settings: { enable_external_access: 'false', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', lock_configuration: 'true' },
  });
  try {
    await checkReadOnlySql(db.con, sql);
    let reader;
    try {
      reader = await db.con.runAndReadAll(sql);
    } catch (e) {
      throw queryError(e);
    }
    const columns = reader.deduplicatedColumnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    return { columns, types, rows };
  } finally {
    db.close();
  }
}

/** Cell text for output: decimals without trailing zeros (still exact), null as NULL in tables. */
export function cellText(v: unknown, type: string, nullText = 'NULL'): string {
  if (v === null || v === undefined) return nullText;
  if (typeof v === 'string') return type.startsWith('DECIMAL') ? trimDecimal(v) : v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** JSON value for --json lines: DECIMAL and 64/128-bit integers as exact strings. */
export function jsonCell(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' && type.startsWith('DECIMAL')) return trimDecimal(v);
  return v;
}

/** An aligned text table (numbers right-aligned). */
export function formatTable(r: QueryResult): string {
  const numeric = r.types.map((t) => /^(DECIMAL|BIGINT|INTEGER|HUGEINT|SMALLINT|TINYINT|UBIGINT|UINTEGER|DOUBLE|FLOAT)/.test(t));
  const cells = r.rows.map((row) => r.columns.map((c, i) => cellText(row[c], r.types[i]!)));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[], header = false): string =>
    vals.map((v, i) => (numeric[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(r.columns, true), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of cells) out.push(line(row));
  out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}
