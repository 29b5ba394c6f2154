#!/usr/bin/env node
/**
 * The tapedeck command line. The command groups are in src/cli/program.ts (add a new group there); parsing
 * is commander's; errors follow src/cli/run.ts.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { reportError } from './run.js';

async function main(): Promise<void> {
  // `tapedeck store read ... | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = await buildProgram(process.argv[2]);
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
