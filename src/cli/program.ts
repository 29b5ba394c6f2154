/**
 * The tapedeck program: every command group and the top-level commands it registers. Each group lives in
 * src/cli/commands/<group>.ts and exports `register(program)`; add it to COMMAND_GROUPS with the names it
 * registers. Only the group named on the command line is loaded, so a command starts without loading every
 * other (the test suite and scripts start tapedeck hundreds of times); with no command, --help or a name no
 * group lists, every group is loaded. test/cli/program.test.ts checks the names against what each group registers.
 */
import { Command } from 'commander';
import { provideCatalogReader } from '../venues/catalog-reader.js';

export interface CommandGroup {
  names: readonly string[];
  load: () => Promise<{ register: (program: Command) => void }>;
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { names: ['store'], load: () => import('./commands/store.js') },
  { names: ['replay', 'paper', 'parity', 'strategies'], load: () => import('./commands/run.js') },
  { names: ['bench'], load: () => import('./commands/bench.js') },
  { names: ['demo'], load: () => import('./commands/demo.js') },
  { names: ['itch'], load: () => import('./commands/itch.js') },
  { names: ['capture'], load: () => import('./commands/capture.js') },
  { names: ['query'], load: () => import('./commands/query.js') },
  { names: ['datasets', 'book'], load: () => import('./commands/datasets.js') },
  { names: ['audit', 'rebuild', 'slippage'], load: () => import('./commands/analytics.js') },
  { names: ['venues'], load: () => import('./commands/venues.js') },
  { names: ['gateway', 'worker', 'publish'], load: () => import('./commands/kafka.js') },
  { names: ['live', 'reconcile', 'sim-venue'], load: () => import('./commands/live.js') },
  { names: ['serve'], load: () => import('./commands/serve.js') },
  { names: ['report'], load: () => import('./commands/report.js') },
];

// The shell wires what the layers below may not import: the dataset catalog's reader (datasets/), loaded
// only when a run reads catalog:DIR#DATASET, so DuckDB and Arrow stay unloaded otherwise.
provideCatalogReader(async () => (await import('../../datasets/catalog.js')).catalogEventSource);

/** The program with the group that registers `command` (every group when none does, or when `command` is undefined). */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('tapedeck')
    .description('Event-sourced trading ledger: backtest, paper and live trading as one program')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = COMMAND_GROUPS.filter((g) => command !== undefined && g.names.includes(command));
  for (const g of named.length > 0 ? named : COMMAND_GROUPS) (await g.load()).register(program);
  return program;
}
