/**
 * A path read from a file is confined to its folder: a dataset manifest naming a file outside its
 * dataset (`..`, absolute, or through a link) is refused in one line before anything is read.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { importDatasets } from '../../datasets/catalog/import.js';
import { manifestPath, readManifest } from '../../datasets/catalog/manifest.js';
import { confinedPath } from '../../src/runtime/confine.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('td-confine-');
afterAll(() => tmp.cleanup());

describe('paths read from files stay in their folder', () => {
  it('a dataset manifest naming a file outside its dataset is refused, exit 2, one line', async () => {
    const catalog = path.join(tmp.dir, 'catalog');
    const [r] = await importDatasets(path.join(datasetsDir, 'recorded_ws/cryptofeed/KRAKEN.ws.49.0'), { format: 'cryptofeed', catalog });
    const id = r!.manifest.id;
    const mfile = manifestPath(catalog, id);
    const original = fs.readFileSync(mfile, 'utf8');
    const part = path.join(catalog, id, r!.manifest.files[0]!.path);
    // The same bytes outside the dataset: checksums would pass, the path must not.
    const outside = path.join(tmp.dir, 'outside.parquet');
    fs.copyFileSync(part, outside);
    fs.symlinkSync(outside, path.join(catalog, id, 'link.parquet'));
    for (const bad of ['../../outside.parquet', outside, 'link.parquet']) {
      const m = JSON.parse(original);
      m.files[0].path = bad;
      fs.writeFileSync(mfile, JSON.stringify(m));
      expect(() => readManifest(catalog, id), bad).toThrow(expect.objectContaining({ code: 'CATALOG_MANIFEST', message: expect.stringContaining(`path ${JSON.stringify(bad)}`), where: expect.objectContaining({ field: 'files.0.path' }) }));
    }
    const v = tapedeck(['datasets', 'verify', '--catalog', catalog, '--id', id]);
    expect(v.code).toBe(2);
    expect(v.stderr.trim().split('\n')).toHaveLength(1);
    expect(v.stderr).toContain('CATALOG_MANIFEST: path "link.parquet" leads out of its folder through a link');
    expect(v.stderr).toContain('field files.0.path');
    fs.writeFileSync(mfile, original);
    expect(tapedeck(['datasets', 'verify', '--catalog', catalog, '--id', id]).code).toBe(0);
  });

  it('property: a relative path is accepted exactly when it resolves inside the folder', () => {
    const folder = path.join(tmp.dir, 'a', 'b');
    fs.mkdirSync(folder, { recursive: true });
    const segment = fc.constantFrom('..', '.', 'x', 'y', 'b', 'a');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segs) => {
        const rel = segs.join('/');
        const target = path.resolve(folder, rel);
        const within = target.startsWith(folder + path.sep);
        if (within) expect(confinedPath(folder, rel, { file: 'm.json', field: 'f' })).toBe(target);
        else expect(() => confinedPath(folder, rel, { file: 'm.json', field: 'f' })).toThrow(/PATH_OUTSIDE|leads out|not a file/);
      }),
      { numRuns: 300 },
    );
  });
});
