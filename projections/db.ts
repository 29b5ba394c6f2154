/**
 * Opening the projections database (a DuckDB file beside the store by default) and the few helpers
 * every reader and writer of it shares. Errors a person can act on (locked by another process, not a
 * DuckDB file) become TapedeckErrors.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { TapedeckError } from '../domain/core/errors.js';
import { duckdbApi } from './duckdb.js';

export const DEFAULT_DB_NAME = 'projections.duckdb';

export function defaultDbPath(storeDir: string): string {
  return path.join(path.resolve(storeDir), DEFAULT_DB_NAME);
}

export interface OpenDb {
  instance: DuckDBInstance;
  con: DuckDBConnection;
  file: string;
  close(): void;
}

export interface OpenDbOptions {
  readOnly?: boolean;
  /** DuckDB worker threads (the machine is shared: default 2). */
  threads?: number;
  /** Extra DuckDB settings. */
  settings?: Record<string, string>;
}

function describeOpenError(file: string, e: unknown): TapedeckError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/lock/i.test(msg)) {
    return new TapedeckError('PROJECTIONS_BUSY', `the projections database is in use by another process (${firstLine(msg)}); wait for it to finish and retry`, { file });
  }
  if (/not a valid DuckDB database|Unable to open|magic/i.test(msg)) {
    return new TapedeckError('PROJECTIONS_NOT_DUCKDB', `${file} is not a DuckDB database (${firstLine(msg)})`, { file });
  }
  return new TapedeckError('PROJECTIONS_OPEN', `cannot open the projections database: ${firstLine(msg)}`, { file });
}

export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '')[0] ?? text;
}

/** Opens (or creates) a DuckDB file. Read-only opening never creates it. */
export async function openDb(file: string, options: OpenDbOptions = {}): Promise<OpenDb> {
  // ':memory:' is DuckDB's in-memory database, not a file name to resolve.
  const abs = file === ':memory:' ? file : path.resolve(file);
  if (options.readOnly && abs !== ':memory:' && !fs.existsSync(abs)) {
    throw new TapedeckError('PROJECTIONS_NOT_FOUND', `no projections database at ${abs}`, { file: abs });
  }
  const config: Record<string, string> = { threads: String(options.threads ?? 2), ...(options.settings ?? {}) };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  let instance: DuckDBInstance;
  try {
    instance = await duckdbApi.DuckDBInstance.create(abs, config);
  } catch (e) {
    throw describeOpenError(abs, e);
  }
  const con = await instance.connect();
  return {
    instance,
    con,
    file: abs,
    close() {
      try {
        con.closeSync();
      } finally {
        instance.closeSync();
      }
    },
  };
}

/** Opens, retrying a few times while another process holds the write lock (another `query` catching up). */
export async function openDbWithRetry(file: string, options: OpenDbOptions = {}, attempts = 40, delayMs = 250): Promise<OpenDb> {
  for (let i = 0; ; i++) {
    try {
      return await openDb(file, options);
    } catch (e) {
      if (!(e instanceof TapedeckError) || e.code !== 'PROJECTIONS_BUSY' || i + 1 >= attempts) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** Runs a statement and returns its rows as JSON-safe objects (bigint, DECIMAL, timestamps as strings). */
export async function queryRows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** "65000.120000000000000000" → "65000.12", "5.000" → "5": the same exact number, without padding. */
export function trimDecimal(text: string): string {
  if (!/^-?\d+\.\d+$/.test(text)) return text;
  const t = text.replace(/0+$/, '');
  return t.endsWith('.') ? t.slice(0, -1) : t;
}
