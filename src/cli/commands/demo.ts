/**
 * `tapedeck demo`, the README's main job (`npm start`): replays the bundled Binance recording with the
 * market-making strategy on the embedded store, checks parity, verifies the store, and says what it did.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { checkParity } from '../../../replay/parity.js';
import { readConfigFile, resolveRunConfig } from '../../runtime/config.js';
import { runKernel } from '../../runtime/engine.js';
import { openReplaySource, resolveSource, surveySource } from '../../runtime/sources.js';
import { openRunStore } from '../../runtime/run-streams.js';
import { action, ExitCode, noteLine } from '../run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Works from dist/src/cli/commands and from src/cli/commands alike. */
function repoRoot(): string {
  const up = path.resolve(here, '../../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

/** For people: 0.0000000000000000 reads as 0 (JSON output keeps the exact scale). */
function trimZeros(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/\.?0+$/, '') : decimal;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: replay the bundled Binance recording on the embedded store, check parity, verify the store')
    .option('--store <dir>', 'event store directory', '.tapedeck/store')
    .option('--strategy <name>', 'strategy', 'market-maker')
    .action(
      action(async (opts: { store: string; strategy: string }) => {
        const sample = path.join(repoRoot(), 'datasets/samples/binance/BINANCE.ws.1.0');
        const source = resolveSource(sample);
        const config = resolveRunConfig(opts.strategy, readConfigFile(undefined), await surveySource(await openReplaySource(source)));
        const say = (s: string) => process.stdout.write(s + '\n');
        say(`tapedeck: replaying ${path.relative(process.cwd(), sample)} (real Binance traffic, 2021-10-12)`);
        say(`  strategy ${config.strategy} on ${String(config.params.instrument)}, simulated venue with 1 ms latencies`);
        // A replay or paper run can be redone from its source, so its journal is synced in batches (every
        // 20 ms and on close) rather than per append; live trading syncs before every command.
        const store = await openRunStore(opts.store, { durability: 'batched' }, noteLine);
        let runId: string | null = null;
        try {
          const t0 = process.hrtime.bigint();
          const s = await runKernel({ mode: 'replay', store, config, sourceLabel: path.relative(process.cwd(), sample), events: await openReplaySource(source) });
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          runId = s.runId;
          say(`\nrun ${s.runId}`);
          const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
          say(`  ${n(s.events, 'market event')} in ${ms.toFixed(0)} ms, ${n(s.decisions, 'decision')}, ${n(s.orders, 'order')}, ${n(s.fills, 'fill')}`);
          say(`  realized P&L${Object.entries(s.realizedPnlByCurrency).map(([c, v]) => ` ${trimZeros(v)} ${c}`).join(',') || ' 0'}`);
          const p = await checkParity(store, s.runId);
          say(`\nparity: ${p.identical ? `identical, ${p.decisions} decisions replayed hash for hash (${p.hash})` : `DIVERGED at decision ${p.divergence?.index}`}`);
          const h = store.capabilities?.verify?.() ?? null;
          if (h) say(`store ${path.resolve(opts.store)}: ${h.ok ? 'ok' : 'CORRUPT'}, ${h.events} events in ${h.streams} streams`);
          const cli = 'npm run -s tapedeck --';
          say(`\nnext: ${cli} store read --store ${opts.store} --stream run-${s.runId} --json | head`);
          say(`      ${cli} query "SELECT order_id, side, state, filled_quantity FROM orders" --store ${opts.store}`);
          say(`      ${cli} audit ORDER_ID --store ${opts.store}`);
          if (!p.identical || (h !== null && !h.ok)) throw new ExitCode(1);
        } finally {
          await store.close();
        }
        // The run as a picture: a self-contained tearsheet beside the store, and the dashboard over it.
        const out = path.join(path.dirname(path.resolve(opts.store)), 'tearsheet.html');
        const { writeReport } = await import('../../server/report.js');
        await writeReport(opts.store, runId!, out);
        say(`\ntearsheet: ${out}`);
        say(`dashboard: npm run -s tapedeck -- serve --store ${opts.store}   (then open the URL it prints)`);
      }),
    );
}
