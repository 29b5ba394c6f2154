/** openStore: one function from a location to the EventStore port, and one clear line for a location it cannot open. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { locationScheme, openStore } from '../../src/store/open.js';
import { tapedeck } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('openStore', () => {
  it('opens a directory (or a file:// URL of one) as the embedded store, behind the port', async () => {
    const t = tmpDir('td-open-');
    try {
      const dir = path.join(t.dir, 'store');
      const s = await openStore(dir);
      const r = await s.appendToStream('a', [{ id: '00000000-0000-4000-8000-000000000001', type: 'X', data: { n: 1 } }]);
      expect(r.nextExpectedRevision).toBe(0);
      expect(typeof s.capabilities?.rawScan).toBe('function');
      await s.close();
      const again = await openStore(pathToFileURL(dir).href, { readOnly: true });
      expect(await again.headPosition()).toBe(r.position);
      await again.close();
    } finally {
      t.cleanup();
    }
  });

  it('names the scheme of a location', () => {
    expect(locationScheme('/tmp/x')).toBeNull();
    expect(locationScheme('C:\\stores\\x')).toBeNull();
    expect(locationScheme('kurrentdb://localhost:2113?tls=false')).toBe('kurrentdb');
    expect(locationScheme('ESDB://h:2113')).toBe('esdb');
  });

  it('refuses an unknown scheme with STORE_LOCATION, before touching the disk', async () => {
    await expect(openStore('ftp://example/store')).rejects.toMatchObject({ code: 'STORE_LOCATION' });
    await expect(openStore('')).rejects.toMatchObject({ code: 'STORE_LOCATION' });
  });

  it('the CLI says so in one line and exits 2', () => {
    const r = tapedeck(['store', 'read', '--store', 'ftp://example/store', '--all']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/STORE_LOCATION: unknown store location scheme "ftp:\/\/"/);
  });
});
