/**
 * `tapedeck store copy` and `store verify` through the compiled CLI, and a KurrentDB location with no
 * server behind it failing fast in one line. The copy is embedded → embedded here (no KurrentDB server
 * can be installed on these machines); embedded → KurrentDB and back is the same code through the port.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const NO_SERVER = 'kurrentdb://127.0.0.1:1?tls=false';

function comparable(e: RecordedEvent): unknown {
  return { ...e, data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('hex') };
}

async function readEverything(dir: string): Promise<unknown[]> {
  const s = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    return (await collect(s.readAll())).map(comparable);
  } finally {
    await s.close();
  }
}

describe('tapedeck store copy / verify (CLI)', () => {
  it('copies embedded → embedded with every event identical, refuses a non-empty destination, and verifies the copy', async () => {
    const t = tmpDir('td-copy-cli-');
    const src = path.join(t.dir, 'src');
    const dst = path.join(t.dir, 'dst');
    const s = await EmbeddedEventStore.open(src);
    for (let i = 0; i < 40; i++) {
      await s.appendToStream(`md-${i % 3}`, [
        { id: randomUUID(), type: 'TradeReported', data: { priceTicks: 6_500_000 + i, qtyLots: i }, metadata: { schemaVersion: 1, $correlationId: 'run-1', $causationId: randomUUID(), raw: { format: 'json', base64: Buffer.from(`{"p":${i}}`).toString('base64') } } },
        { id: randomUUID(), type: 'ItchMessage', data: Uint8Array.from([i, 0, 255, 13, 10]) },
      ]);
    }
    await s.close();

    const c = tapedeck(['store', 'copy', '--from', src, '--to', dst, '--batch', '7', '--json']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ copied: 80, alreadyThere: 0, events: 80, streams: 3, destinationHead: 79 });
    const a = await readEverything(src);
    expect(a.length).toBe(80);
    expect(await readEverything(dst)).toEqual(a);

    const again = tapedeck(['store', 'copy', '--from', src, '--to', dst]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^tapedeck: error COPY_DESTINATION_NOT_EMPTY: the destination already holds events \(the first is md-0@0\); .*--resume.*\n$/);
    const resumed = tapedeck(['store', 'copy', '--from', src, '--to', dst, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe('copied 0 events (80 were there already) in 3 streams, 0 appends; the destination holds 80 events\n');
    expect(await readEverything(dst)).toEqual(a);

    const v = tapedeck(['store', 'verify', '--store', dst, '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, events: 80, streams: 3 });
    t.cleanup();
  });

  it('a KurrentDB location with no server fails fast in one line, STORE_UNAVAILABLE, no stack trace', async () => {
    const t = tmpDir('td-copy-cli-ns-');
    await (await EmbeddedEventStore.open(t.dir)).close();
    const runs = [tapedeck(['store', 'read', '--store', NO_SERVER, '--all']), tapedeck(['store', 'copy', '--from', t.dir, '--to', NO_SERVER])];
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('tapedeck: error STORE_UNAVAILABLE: KurrentDB at 127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1); is the server running, and is tls=false right for it?\n');
    }
    t.cleanup();
  });
});
