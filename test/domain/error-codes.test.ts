/** The README's table of error codes names only codes that exist (TapedeckErrorCode in domain/core/errors.ts). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/tmp.js';

function unionCodes(): string[] {
  const src = readFileSync(path.join(repoRoot, 'domain/core/errors.ts'), 'utf8');
  const start = src.indexOf('export type TapedeckErrorCode =');
  return [...src.slice(start, src.indexOf(';', start)).matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
}

describe('error codes', () => {
  it('are listed once each', () => {
    const codes = unionCodes();
    expect(codes.length).toBeGreaterThan(150);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('the README table explains only real codes, and the commonest ones', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## When a command fails'), readme.indexOf('\n## ', readme.indexOf('## When a command fails') + 5));
    const named = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    const known = new Set(unionCodes());
    expect([...named].filter((c) => !known.has(c))).toEqual([]);
    for (const c of ['USAGE', 'STORE_NOT_FOUND', 'STORE_LOCKED', 'STORE_CORRUPT', 'STORE_LOCATION', 'RUN_NOT_FOUND', 'STRATEGY_UNKNOWN']) expect(named.has(c), c).toBe(true);
  });
});
