/**
 * Code and config identity for run manifests and decisions. The code hash covers the compiled pure
 * domain (every decision comes from it); the strategy code hash covers the strategy's own module; the
 * config hash covers the resolved config. Parity warns when a recorded run's code hash differs.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../../domain/core/canonical.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/domain when running compiled, domain/ when running from sources (vitest). */
const domainDir = path.resolve(here, '../../domain');

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.map')) out.push(p);
  }
  return out.sort();
}

function hashFiles(files: string[], root: string): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(path.relative(root, f));
    h.update('\0');
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

let domainHash: string | null = null;

export function codeHash(): string {
  domainHash ??= hashFiles(listFiles(domainDir), domainDir);
  return domainHash;
}

export function strategyCodeHash(name: string): string {
  const dir = path.join(domainDir, 'strategies');
  const own = listFiles(dir).filter((f) => path.basename(f).replace(/\.(js|ts)$/, '') === name);
  return hashFiles(own.length > 0 ? own : listFiles(dir), dir);
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
