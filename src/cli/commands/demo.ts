/** `tapedeck demo`: the README's main job (`npm start`). */
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('demo').description('the main job: replay a bundled sample on the embedded store and check parity');
}
