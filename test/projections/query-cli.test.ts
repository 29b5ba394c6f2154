import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectStore } from '../../projections/catchup.js';
import { hashTables } from '../../projections/export.js';
import { runReadOnlyQuery } from '../../projections/query.js';
import { TapedeckError } from '../../domain/core/errors.js';
import { CLI, jsonLines, tapedeck, tapedeckAsync } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { factsOf, writeRuns } from './fixtures.js';

const tmp = tmpDir('tapedeck-query-');
const store = path.join(tmp.dir, 'store');
let fills = 0;

beforeAll(async () => {
  const runs = await writeRuns(store, [{ runId: 'q1', seed: 21, trades: 4000 }]);
  fills = factsOf(runs.get('q1')!).fills;
});
afterAll(() => tmp.cleanup());

describe('tapedeck query', () => {
  it('catches up, then prints an aligned table or JSON lines with exact decimals', () => {
    const t = tapedeck(['query', 'SELECT count(*) AS n FROM fills', '--store', store]);
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^n\s*$/);
    expect(t.stdout).toContain(String(fills));
    const j = tapedeck(['query', "SELECT fill_id, price, quantity, fee FROM fills ORDER BY position LIMIT 3", '--store', store, '--json']);
    expect(j.code).toBe(0);
    const rows = jsonLines(j.stdout);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(typeof r.price).toBe('string');
      expect(r.price).toMatch(/^\d+(\.\d+)?$/);
      expect(r.fee).toMatch(/^-?\d+(\.\d+)?$/);
    }
  });

  it('refuses writes, several statements, unknown tables and bad syntax with one line and exit 2, changing nothing', async () => {
    await projectStore(store); // caught up (nothing to do when the test above ran)
    const dbPath = path.join(store, 'projections.duckdb');
    const before = await hashTables(dbPath);
    const bad: Array<[string, RegExp]> = [
      ['DELETE FROM fills', /QUERY_READ_ONLY/],
      ['INSERT INTO runs (run_id) VALUES (1)', /QUERY_READ_ONLY/],
      ['DROP TABLE fills', /QUERY_READ_ONLY/],
      ['UPDATE orders SET state = 1', /QUERY_READ_ONLY/],
      ["COPY fills TO '/tmp/x.csv'", /QUERY_READ_ONLY/],
      ["ATTACH ':memory:' AS x", /QUERY_READ_ONLY/],
      ['SELECT 1; DELETE FROM fills', /QUERY_MULTIPLE/],
      ['SELECT * FROM no_such_table', /QUERY_UNKNOWN_NAME/],
      ['SELEC 1', /QUERY_SYNTAX/],
      ["SELECT * FROM read_csv('/etc/passwd')", /QUERY_READ_ONLY/],
      ['EXPLAIN ANALYZE SELECT 1', /QUERY_READ_ONLY/],
      ['', /QUERY_EMPTY/],
    ];
    // Every case through the library (fast), three through the CLI (exit code and the one-line error).
    for (const [sql, code] of bad) {
      const err = await runReadOnlyQuery(dbPath, sql).then(() => null, (e: unknown) => e);
      expect(err, sql).toBeInstanceOf(TapedeckError);
      expect((err as TapedeckError).code, sql).toMatch(code);
      expect((err as TapedeckError).describe().split('\n'), sql).toHaveLength(1);
    }
    // (side by side: each opens the projections read-only)
    const cli = [bad[0]!, bad[6]!, bad[7]!];
    const results = await Promise.all(cli.map(([sql]) => tapedeckAsync(['query', sql, '--store', store, '--no-update'])));
    for (const [i, [sql, code]] of cli.entries()) {
      const r = results[i]!;
      expect(r.code, sql).toBe(2);
      expect(r.stderr, sql).toMatch(code);
      expect(r.stderr.trim().split('\n'), sql).toHaveLength(1);
      expect(r.stdout, sql).toBe('');
    }
    expect(await hashTables(dbPath)).toEqual(before);
  });

  it('a catch-up killed with SIGKILL at random points resumes without double counting', async () => {
    const killed = path.join(tmp.dir, 'killed');
    fs.cpSync(store, killed, { recursive: true });
    fs.rmSync(path.join(killed, 'projections.duckdb'), { force: true });
    fs.rmSync(path.join(killed, 'projections.duckdb.wal'), { force: true });
    const delays = [300, 800, 550, 1100];
    for (const ms of delays) {
      const child = spawn(process.execPath, [CLI, 'query', 'SELECT 1', '--store', killed, '--batch-events', '1500'], { stdio: 'ignore' });
      // listening from the start: on a quiet machine the catch-up can finish before its kill
      const exited = new Promise((r) => child.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
      child.kill('SIGKILL');
      await exited;
    }
    const r = tapedeck(['query', 'SELECT count(*) AS n FROM fills', '--store', killed, '--json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0].n).toBe(String(fills));
    // Equal to a projection from zero of the same log: the original store's, which the first test's query
    // made (or made here, when that test did not run); the killed store is a copy of it.
    await projectStore(store);
    expect(await hashTables(path.join(killed, 'projections.duckdb'))).toEqual(await hashTables(path.join(store, 'projections.duckdb')));
  });
});
