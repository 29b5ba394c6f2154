/**
 * `tapedeck query "SQL" --store DIR [--json]`: brings the DuckDB projections beside the store up to the
 * log's head, then runs one read-only statement and prints an aligned table, or JSON lines with --json
 * (DECIMAL, BIGINT and HUGEINT as exact strings). Writes, unknown tables and syntax errors are one-line
 * errors (exit 2) and change nothing.
 */
import { Option, type Command } from 'commander';
import { describeDamage } from '../../store/damage.js';
import { action, intOption, partialAnswer } from '../run.js';

// DuckDB loads only when a query runs, so the rest of the CLI starts fast.
const catchup = () => import('../../../projections/catchup.js');
const db = () => import('../../../projections/db.js');
const query = () => import('../../../projections/query.js');

export function register(program: Command): void {
  program
    .command('query')
    .description('run one read-only SQL statement over the projections (orders, fills, positions, pnl, decisions, runs, bars, ...)')
    .argument('<sql>', 'one SELECT / WITH / EXPLAIN / DESCRIBE / SHOW / SUMMARIZE statement')
    .requiredOption('--store <dir>', 'the event store directory')
    .option('--db <file>', 'the projections database (default: <store>/projections.duckdb)')
    .option('--no-update', 'query the projections as they are, without catching up with the log first')
    .option('--json', 'one JSON object per row', false)
    .addOption(new Option('--batch-events <n>', 'events per projection transaction').argParser(intOption('--batch-events', 1)).hideHelp())
    .action(
      action(async (sql: string, o: { store: string; db?: string; update: boolean; json: boolean; batchEvents?: number }) => {
        const dbPath = o.db ?? (await db()).defaultDbPath(o.store);
        const caught = o.update ? await (await catchup()).projectStore(o.store, { dbPath, ...(o.batchEvents !== undefined ? { batchEvents: o.batchEvents } : {}) }) : null;
        const q = await query();
        const r = await q.runReadOnlyQuery(dbPath, sql);
        if (o.json) {
          const lines = r.rows.map((row) => {
            const out: Record<string, unknown> = {};
            r.columns.forEach((c, i) => (out[c] = q.jsonCell(row[c], r.types[i]!)));
            return JSON.stringify(out);
          });
          process.stdout.write(lines.length > 0 ? lines.join('\n') + '\n' : '');
        } else {
          process.stdout.write(q.formatTable(r));
        }
        if (caught?.unreadable?.length) throw partialAnswer(describeDamage(caught.unreadable));
      }),
    );
}
