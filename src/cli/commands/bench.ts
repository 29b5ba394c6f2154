/**
 * `tapedeck bench <what>`: benchmarks that print figures and a baseline measured in the same run.
 * Speed targets live here, never in timed tests. Each benchmark is a module in src/bench/.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const bench = program.command('bench').description('run a benchmark and print its figures with a same-run baseline');
  void bench;
  // BENCH-REGISTRATIONS (each benchmark adds one subcommand below this line)
}
