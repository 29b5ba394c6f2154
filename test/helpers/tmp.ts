import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tmpDir(prefix = 'tapedeck-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** Third-party fixtures copied into the repository, with provenance and licences in its PROVENANCE.md. */
export const datasetsDir = path.resolve(repoRoot, 'test/fixtures/datasets');
