/** The lint step enforces principle 1: code under domain/ cannot reach I/O, the clock, randomness or src/. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/tmp.js';

const eslint = new ESLint({ cwd: repoRoot });

async function lint(code: string, file = 'domain/kernel/example.ts'): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: `${repoRoot}/${file}` });
  return r!.messages.map((m) => m.message);
}

describe('domain purity lint', () => {
  it.each([
    ["import fs from 'node:fs';\nexport const x = fs;", /no Node built-ins/],
    ["import { readFileSync } from 'fs';\nexport const x = readFileSync;", /no Node built-ins/],
    ["import { EmbeddedEventStore } from '../../src/store/embedded/store.js';\nexport const x = EmbeddedEventStore;", /must not import from src/],
    ['export const t = Date.now();', /Date\.now\(\) is a clock/],
    ['export const t = new Date();', /new Date\(\) is a clock/],
    ['export const r = Math.random();', /hidden randomness/],
    ['export const p = performance.now();', /no clock/],
    ['setTimeout(() => 1, 5);', /time is an input/],
    ['export const e = process.env.HOME;', /do not read process/],
    ["export const m = import('node:fs');", /no dynamic import/],
  ])('rejects %s', async (code, message) => {
    const msgs = await lint(code);
    expect(msgs.some((m) => message.test(m)), msgs.join(' | ')).toBe(true);
  });

  it('accepts pure code, and allows the same calls outside domain/', async () => {
    expect(await lint("import { z } from 'zod';\nexport const t = (nowNs: bigint) => nowNs + 1n;\nexport const s = z.string();")).toEqual([]);
    expect(await lint('export const t = Date.now();', 'src/runtime/example.ts')).toEqual([]);
  });

  it('the domain/ tree as committed is clean', async () => {
    const results = await eslint.lintFiles(['domain/**/*.ts']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
  });
});
