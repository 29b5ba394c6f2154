/**
 * A store with real runs for the server's tests: the bundled Binance recording (real traffic,
 * datasets/samples/binance, see its PROVENANCE) replayed with the market maker (a backtest), and the
 * same recording paper-traded through the live WebSocket adapter (so slippage has a pair).
 */
import path from 'node:path';
import { projectStore } from '../../projections/catchup.js';
import { defaultDbPath } from '../../projections/db.js';
import { jsonCell, runReadOnlyQuery } from '../../projections/query.js';
import { readConfigFile, resolveRunConfig } from '../../src/runtime/config.js';
import { runKernel, type RunSummary } from '../../src/runtime/engine.js';
import { openPaperSource, openReplaySource, resolveSource, surveySource } from '../../src/runtime/sources.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { repoRoot } from '../helpers/tmp.js';

export const SAMPLE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');

export async function writeDemoRuns(dir: string, options: { paper?: boolean } = {}): Promise<{ backtest: RunSummary; paper: RunSummary | null }> {
  const source = resolveSource(SAMPLE);
  const config = resolveRunConfig('market-maker', readConfigFile(undefined), await surveySource(await openReplaySource(source)));
  const store = await EmbeddedEventStore.open(dir, { durability: 'batched' });
  try {
    const label = 'datasets/samples/binance/BINANCE.ws.1.0';
    const backtest = await runKernel({ mode: 'replay', store, config, sourceLabel: label, events: await openReplaySource(source) });
    let paper: RunSummary | null = null;
    if (options.paper !== false) {
      const feed = await openPaperSource(source, 0);
      try {
        paper = await runKernel({ mode: 'paper', store, config, sourceLabel: label, events: feed.events });
      } finally {
        await feed.close();
      }
    }
    return { backtest, paper };
  } finally {
    await store.close();
  }
}

/**
 * `tapedeck query SQL --store DIR --json`, in this process (the query command's own steps: a catch-up of
 * DIR/projections.duckdb to the log's head, then one read-only statement, each cell as its --json line
 * prints it), so a test comparing a server's answers with the query costs no CLI start-up per question.
 * The first call catches the projections up, later ones read them as they are (`--no-update`; every call
 * with `update: false`). The command's wiring (arguments, output, refusals) is test/projections/query-cli.test.ts's.
 */
export function storeQuery(dir: string, o: { update?: boolean } = {}): (sql: string) => Promise<Array<Record<string, string>>> {
  const dbPath = defaultDbPath(dir);
  let caughtUp: Promise<void> | null = o.update === false ? Promise.resolve() : null;
  return async (sql) => {
    await (caughtUp ??= projectStore(dir, { dbPath }).then((r) => {
      // The command answers, then exits non-zero, when part of the log is unreadable.
      if (r.unreadable?.length) throw new Error(`the store has unreadable ranges: ${JSON.stringify(r.unreadable)}`);
    }));
    const r = await runReadOnlyQuery(dbPath, sql);
    // Through JSON as the command prints it, so values compare exactly as they did from its output.
    return r.rows.map((row) => {
      const out: Record<string, unknown> = {};
      r.columns.forEach((c, i) => (out[c] = jsonCell(row[c], r.types[i]!)));
      return JSON.parse(JSON.stringify(out)) as Record<string, string>;
    });
  };
}
