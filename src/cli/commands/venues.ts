/** `tapedeck venues`: the venue registry (src/venues/registry.ts), what each venue can do. */
import type { Command } from 'commander';
import { VENUES } from '../../venues/registry.js';
import { action, printJson } from '../run.js';

export function register(program: Command): void {
  program
    .command('venues')
    .description('the venues tapedeck knows and what each can do (market data, capture format, execution, simulator)')
    .option('--json', 'one JSON line per venue', false)
    .action(
      action(async (o: { json: boolean }) => {
        for (const v of VENUES) {
          const row = {
            id: v.id, title: v.title,
            captureFormat: v.marketData?.captureFormat ?? null,
            archiveFormats: v.marketData?.archiveFormats ?? [],
            paper: v.marketData?.replayClient !== undefined,
            execution: v.execution !== undefined,
            simulator: v.execution?.startSim !== undefined,
            hosts: v.hosts.map((h) => h.source),
          };
          if (o.json) printJson(row);
          else process.stdout.write(`${v.id.padEnd(10)} ${row.captureFormat ?? '-'}${row.paper ? ', paper' : ''}${row.execution ? ', execution' : ''}${row.simulator ? ', simulator' : ''}  ${v.title}\n`);
        }
      }),
    );
}
