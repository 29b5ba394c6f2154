/**
 * Deterministic exports of the projection tables: every row, every column, ORDER BY ALL, as JSON lines,
 * and a SHA-256 per table. Two databases with equal hashes hold the same tables (the incremental vs
 * from-zero check, and "nothing changed" after a refused query).
 */
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDb, queryRows } from './db.js';
import { TABLES } from './schema.js';

export async function tableLines(con: DuckDBConnection, table: string): Promise<string[]> {
  const rows = await queryRows(con, `SELECT * FROM "${table}" ORDER BY ALL`);
  return rows.map((r) => JSON.stringify(r));
}

/** table → { rows, sha256 } for every projection table. */
export async function hashTables(dbPath: string): Promise<Record<string, { rows: number; sha256: string }>> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const out: Record<string, { rows: number; sha256: string }> = {};
    for (const t of TABLES) {
      const lines = await tableLines(db.con, t.name);
      out[t.name] = { rows: lines.length, sha256: createHash('sha256').update(lines.join('\n')).digest('hex') };
    }
    return out;
  } finally {
    db.close();
  }
}
