/**
 * Deterministic exports of the projection tables: every row, every column, ORDER BY ALL, as JSON lines,
 * and a SHA-256 per table. Two databases with equal hashes hold the same tables (the incremental vs
 * from-zero check, and "nothing changed" after a refused query).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDb, queryRows } from './db.js';
import { TABLES } from './schema.js';

export async function tableLines(con: DuckDBConnection, table: string): Promise<string[]> {
  const rows = await queryRows(con, `SELECT * FROM "${table}" ORDER BY ALL`);
  return rows.map((r) => JSON.stringify(r));
}

/**
 * table → { rows, sha256 } for every projection table: the SHA-256 of its rows as JSON (every column), one
 * a line, in the order of their text. Computed by DuckDB: the same rows in JS objects cost twice the CPU.
 */
export async function hashTables(dbPath: string): Promise<Record<string, { rows: number; sha256: string }>> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const out: Record<string, { rows: number; sha256: string }> = {};
    for (const t of TABLES) {
      const [r] = await queryRows(db.con, `SELECT count(*) AS n, sha256(coalesce(string_agg(j, chr(10) ORDER BY j), '')) AS h
        FROM (SELECT to_json(t)::VARCHAR AS j FROM "${t.name}" t)`);
      out[t.name] = { rows: Number(r!.n), sha256: String(r!.h) };
    }
    return out;
  } finally {
    db.close();
  }
}
