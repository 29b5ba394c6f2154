/** `tapedeck report --store DIR --run RUN --out FILE.html`: a run's self-contained HTML tearsheet (src/server/report.ts). */
import type { Command } from 'commander';
import { action, printJson } from '../run.js';

export function register(program: Command): void {
  program
    .command('report')
    .description("a run's tearsheet as one self-contained HTML file: equity and drawdown, fills over price, P&L by instrument, order statistics, slippage against its backtest")
    .requiredOption('--store <dir>', 'the event store directory')
    .requiredOption('--run <runId>', 'the run')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--json', 'print {out, bytes} as JSON', false)
    .action(
      action(async (o: { store: string; run: string; out: string; json: boolean }) => {
        const r = await (await import('../../server/report.js')).writeReport(o.store, o.run, o.out);
        if (o.json) printJson(r);
        else process.stdout.write(`${r.out}\n`);
      }),
    );
}
