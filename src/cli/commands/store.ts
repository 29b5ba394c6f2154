/** `tapedeck store ...`: append, read and verify the embedded event store. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('store').description('append, read and verify an event store');
}
