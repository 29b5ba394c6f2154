import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableBuffer, createTableSql, type TableSpec } from '../../projections/columns.js';
import { openDb, type OpenDb } from '../../projections/db.js';

const SPEC: TableSpec = {
  name: 'strs',
  about: 'string round trip',
  key: ['i'],
  upsert: false,
  columns: [{ name: 'i', kind: 'bigint' }, { name: 's', kind: 'text', nullable: true }, { name: 't', kind: 'text' }],
};

let db: OpenDb;
beforeAll(async () => {
  db = await openDb(':memory:');
});
afterAll(() => db.close());

describe('TableBuffer text columns', () => {
  it('round-trips short, 12-byte, long, repeated, non-ASCII and null strings across chunks', async () => {
    // The inline (<= 12 UTF-8 bytes) and pointer (> 12) layouts, a chunk's long strings past the first arena size,
    // multi-byte characters on both sides of the 12-byte line, and nulls between them.
    const pool = [
      '', 'a', 'buy', 'abcdefghijkl', 'abcdefghijklm', 'partially-filled', 'é', 'ééééééé', 'éééééé', '日本語テキスト',
      '€€€€', '😀😀😀', 'x'.repeat(200), 'y'.repeat(70_000), 'OrderIntended', '0a1b2c3d-0001-8000-8000-000000000001', 'lone \ud800 surrogate',
    ];
    const want: Array<[number, string | null, string]> = [];
    const b = new TableBuffer(SPEC);
    for (let i = 0; i < 5000; i++) {
      const s = i % 7 === 3 ? null : i % 11 === 0 ? `u-${i}-${'z'.repeat(i % 20)}` : pool[i % pool.length]!;
      const t = pool[Math.floor(i / 3) % pool.length]!; // runs of equal values: the reuse-previous path
      b.add(i, s, t);
      want.push([i, s === null ? null : Buffer.from(s, 'utf8').toString('utf8'), Buffer.from(t, 'utf8').toString('utf8')]);
    }
    await db.con.run(createTableSql(SPEC));
    await b.flushTo(db.con);
    const rows = (await db.con.runAndReadAll('SELECT i, s, t, octet_length(encode(t)) AS n FROM strs ORDER BY i')).getRows();
    expect(rows.length).toBe(want.length);
    for (let k = 0; k < rows.length; k++) {
      const [i, s, t, n] = rows[k]!;
      expect([Number(i), s, t]).toEqual(want[k]);
      expect(Number(n)).toBe(Buffer.byteLength(want[k]![2], 'utf8'));
    }
    // Equal strings compare equal whichever way they were written (inline vs heap, first vs repeat).
    const groups = (await db.con.runAndReadAll('SELECT t, count(*) FROM strs GROUP BY t')).getRows();
    expect(groups.length).toBe(new Set(want.map((w) => w[2])).size);
  });
});
