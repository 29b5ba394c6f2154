/**
 * No command reports success on partial data: parity on a run that never ended, or whose stream lost
 * events to damage, is INCOMPLETE (exit 1, saying what was compared and what is missing); query,
 * rebuild and store read on a damaged store print what they can and say on stderr, in one line, which
 * positions are unreadable (exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { listSegments, SEGMENTS_DIR } from '../../src/store/embedded/segments.js';
import { collect } from '../../src/store/port.js';
import { tapedeck } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const BINANCE = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const t = tmpDir('td-partial-');
const whole = path.join(t.dir, 'whole');
let runId = '';

beforeAll(() => {
  const r = tapedeck(['replay', BINANCE, '--strategy', 'market-maker', '--store', whole, '--json']);
  expect(r.code, r.stderr).toBe(0);
  runId = JSON.parse(r.stdout).runId;
});
afterAll(() => t.cleanup());

/** The run's events copied, at the same positions, into a new store, in appends of 50 (so, records). */
async function copyRun(dir: string, keep: (type: string) => boolean = () => true): Promise<void> {
  const src = await EmbeddedEventStore.open(whole, { readOnly: true });
  const evs = (await collect(src.readStream(`run-${runId}`))).filter((e) => keep(e.type));
  await src.close();
  const dst = await EmbeddedEventStore.open(dir);
  for (let i = 0; i < evs.length; i += 50) {
    await dst.appendToStream(`run-${runId}`, evs.slice(i, i + 50).map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })));
  }
  await dst.close();
}

/** Flips one byte inside the body of the `k`-th record of the first segment; returns its offset. */
function damageRecord(dir: string, k: number): number {
  const file = path.join(dir, SEGMENTS_DIR, listSegments(dir)[0]!);
  const bytes = fs.readFileSync(file);
  let off = 0;
  for (let i = 0; i < k; i++) off += 12 + bytes.readUInt32LE(off + 4);
  bytes[off + 40] = bytes[off + 40]! ^ 0x5a;
  fs.writeFileSync(file, bytes);
  return off;
}

describe('parity on a run that cannot be compared in full', () => {
  it('a run with no RunEnded (killed) is INCOMPLETE, exit 1, with what was compared', async () => {
    const killed = path.join(t.dir, 'killed');
    await copyRun(killed, (type) => type !== 'RunEnded');
    const p = tapedeck(['parity', '--store', killed, '--run', runId]);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/^INCOMPLETE: compared \d+ decisions over \d+ inputs \(all identical so far\); the run has no RunEnded/);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toMatch(/incomplete: run .* cannot be compared in full: the run has no RunEnded/);
    const j = tapedeck(['parity', '--store', killed, '--run', runId, '--json']);
    expect(j.code).toBe(1);
    const r = JSON.parse(j.stdout);
    expect(r).toMatchObject({ identical: false, complete: false, incomplete: [expect.stringMatching(/no RunEnded/)] });
    expect(r.decisions).toBeGreaterThan(0);
    expect(r.inputs).toBeGreaterThan(0);
  });

  it('a run whose stream lost a record to damage is INCOMPLETE, naming the unreadable revisions', async () => {
    const damaged = path.join(t.dir, 'damaged-parity');
    await copyRun(damaged);
    expect(tapedeck(['parity', '--store', damaged, '--run', runId]).code).toBe(0); // the copy itself is whole and identical
    damageRecord(damaged, 3);
    const j = tapedeck(['parity', '--store', damaged, '--run', runId, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ identical: false, complete: false, incomplete: [expect.stringMatching(/^revisions \d+\.\.\d+ of run-.* are unreadable/)] });
  });
});

describe('reads from a damaged store say so', () => {
  const damaged = path.join(t.dir, 'damaged');
  let range = '';
  beforeAll(async () => {
    await copyRun(damaged);
    damageRecord(damaged, 2);
    const v = tapedeck(['store', 'verify', '--store', damaged, '--json']);
    expect(v.code).toBe(1);
    const c = JSON.parse(v.stdout).corrupt[0];
    range = `positions ${c.fromPosition}..${c.toPosition} unreadable`;
  });

  it('query answers, then says on stderr which positions are missing, exit 1', () => {
    const q = tapedeck(['query', 'SELECT count(*) AS n FROM orders', '--store', damaged, '--json']);
    expect(q.code).toBe(1);
    expect(JSON.parse(q.stdout.trim()).n).toBeDefined();
    expect(q.stderr.trim().split('\n')).toHaveLength(1);
    expect(q.stderr).toContain('tapedeck: partial: the store is damaged');
    expect(q.stderr).toContain(range);
  });

  it('rebuild reports the unreadable range, never errors: 0, exit 1', () => {
    const r = tapedeck(['rebuild', '--store', damaged, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.complete).toBe(false);
    expect(out.errors).toBeGreaterThan(0);
    expect(out.unreadable).toHaveLength(1);
    expect(r.stderr).toContain(range);
  });

  it('audit answers, then says the chain may lack what the damaged range held, exit 1', async () => {
    const src = await EmbeddedEventStore.open(whole, { readOnly: true });
    const order = (await collect(src.readStream(`run-${runId}`))).find((e) => e.type === 'OrderIntended')!;
    await src.close();
    const a = tapedeck(['audit', (order.data as { orderId: string }).orderId, '--store', damaged, '--json']);
    expect(a.code).toBe(1);
    expect(JSON.parse(a.stdout).unreadable).toHaveLength(1);
    expect(a.stderr).toContain(range);
  });

  it('store read serves what is readable and exits 1 saying what is not', () => {
    const r = tapedeck(['store', 'read', '--store', damaged, '--all']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(0);
    expect(r.stderr).toContain(range);
  });
});
