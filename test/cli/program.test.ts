/**
 * The CLI loads only the command group named on the command line (src/cli/program.ts): the table of names
 * must say exactly what each group registers, or a command would be missing when run on its own. Checked on
 * the compiled program, in one child process (loading every group through vitest's transform is slow).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tapedeck } from '../helpers/cli.js';
import { repoRoot } from '../helpers/tmp.js';

const PROGRAM = path.join(repoRoot, 'dist/src/cli/program.js');

/** What the compiled program says: each group's table names and what it registers; what buildProgram loads. */
function inspect(): { groups: Array<{ names: string[]; registered: string[] }>; parity: string[]; unknown: string[]; none: string[] } {
  const script = `
    import { Command } from 'commander';
    import { buildProgram, COMMAND_GROUPS } from ${JSON.stringify(PROGRAM)};
    const groups = [];
    for (const g of COMMAND_GROUPS) {
      const p = new Command('tapedeck');
      (await g.load()).register(p);
      groups.push({ names: [...g.names], registered: p.commands.map((c) => c.name()) });
    }
    const names = async (c) => (await buildProgram(c)).commands.map((x) => x.name());
    console.log(JSON.stringify({ groups, parity: await names('parity'), unknown: await names('no-such-command'), none: await names() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('command groups (src/cli/program.ts)', () => {
  it('each group registers exactly the names the table gives it; a named command loads its group only, anything else every group', () => {
    const r = inspect();
    for (const g of r.groups) expect([...g.registered].sort(), g.names.join(', ')).toEqual([...g.names].sort());
    const names = r.groups.flatMap((g) => g.names);
    expect(new Set(names).size).toBe(names.length);
    expect(r.parity).toEqual(['replay', 'paper', 'parity', 'strategies']);
    expect(r.unknown).toEqual(r.groups.flatMap((g) => g.registered));
    expect(r.none).toEqual(r.unknown);
    // Every module under src/cli/commands is a group in the table.
    const listed = fs.readFileSync(path.join(repoRoot, 'src/cli/program.ts'), 'utf8');
    for (const m of fs.readdirSync(path.join(repoRoot, 'src/cli/commands')).filter((f) => f.endsWith('.ts'))) {
      expect(listed, `src/cli/commands/${m} is not in COMMAND_GROUPS`).toContain(`import('./commands/${m.replace(/\.ts$/, '.js')}')`);
    }
  });

  it('through the CLI: a typo gets a suggestion from every group (exit 2), and --help lists every group', () => {
    const r = tapedeck(['replya']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'replya'/);
    expect(r.stderr).toMatch(/Did you mean replay\?/);
    const h = tapedeck(['--help']);
    expect(h.code).toBe(0);
    for (const name of ['store', 'replay', 'query', 'worker', 'serve', 'report']) expect(h.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });
});
