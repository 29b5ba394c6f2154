#!/usr/bin/env node
/**
 * The tapedeck command line. Each command group lives in src/cli/commands/<group>.ts and exports
 * `register(program)`; add it to COMMANDS below. Parsing is commander's; errors follow src/cli/run.ts.
 */
import { Command, CommanderError } from 'commander';
import { reportError } from './run.js';
import { provideCatalogReader } from '../venues/registry.js';
import { register as registerStore } from './commands/store.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerRun } from './commands/run.js';
import { register as registerItch } from './commands/itch.js';
import { register as registerCapture } from './commands/capture.js';
import { register as registerQuery } from './commands/query.js';
import { register as registerDatasets } from './commands/datasets.js';
import { register as registerAnalytics } from './commands/analytics.js';
import { register as registerVenues } from './commands/venues.js';
import { register as registerKafka } from './commands/kafka.js';
import { register as registerLive } from './commands/live.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerReport } from './commands/report.js';

const COMMANDS: Array<(program: Command) => void> = [registerStore, registerRun, registerBench, registerDemo, registerItch, registerCapture, registerQuery, registerDatasets, registerAnalytics, registerVenues, registerKafka, registerLive, registerServe, registerReport];

// The shell wires what the layers below may not import: the dataset catalog's reader (datasets/), loaded
// only when a run reads catalog:DIR#DATASET, so DuckDB and Arrow stay unloaded otherwise.
provideCatalogReader(async () => (await import('../../datasets/catalog.js')).catalogEventSource);

export function buildProgram(): Command {
  const program = new Command('tapedeck')
    .description('Event-sourced trading ledger: backtest, paper and live trading as one program')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

async function main(): Promise<void> {
  // `tapedeck store read ... | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version).
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(e);
  }
}

await main();
