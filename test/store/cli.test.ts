/** `tapedeck store append|read|verify` through the compiled CLI, including every kind of bad input. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEventLines } from '../../src/cli/commands/store.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { jsonLines, tapedeck } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const trade = (i: number) =>
  JSON.stringify({
    type: 'TradeReported',
    data: { venue: 'BINANCE', instrument: 'BINANCE:BTCUSDT', tradeId: `t${i}`, priceTicks: 6500000 + i, qtyLots: 10, priceScale: 2, qtyScale: 4, aggressor: 'buy' },
    metadata: { note: `line ${i}` },
  });

/**
 * Set-up appends, done in this process (a CLI start-up each saved): the same parsing as `store append`, one
 * atomic append per call. What the tests check of `store append` itself goes through the CLI.
 */
async function appendHere(store: string, stream: string, lines: string): Promise<void> {
  const s = await EmbeddedEventStore.open(store);
  try {
    await s.appendToStream(stream, parseEventLines(lines, false));
  } finally {
    await s.close();
  }
}

describe('tapedeck store (CLI)', () => {
  it('appends JSON lines atomically, reads them back, and verifies', () => {
    const t = tmpDir('td-cli-');
    const store = path.join(t.dir, 'store');
    const input = [0, 1, 2].map(trade).join('\n') + '\n';
    const a = tapedeck(['store', 'append', '--store', store, '--stream', 'md-BTCUSDT', '--expected-revision', 'no_stream', '--strict'], input);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual({ stream: 'md-BTCUSDT', events: 3, nextExpectedRevision: 2, position: 2 });
    const b = tapedeck(['store', 'append', '--store', store, '--stream', 'orders', '--expected-revision', 'no_stream'], '{"type":"Anything","data":{"x":1}}\n');
    expect(b.code).toBe(0);
    const r = tapedeck(['store', 'read', '--store', store, '--all', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => [l.stream, l.revision, l.position, l.type])).toEqual([
      ['md-BTCUSDT', 0, 0, 'TradeReported'],
      ['md-BTCUSDT', 1, 1, 'TradeReported'],
      ['md-BTCUSDT', 2, 2, 'TradeReported'],
      ['orders', 0, 3, 'Anything'],
    ]);
    expect(lines[1].data.priceTicks).toBe(6500001);
    expect(lines[1].metadata).toEqual({ note: 'line 1' });
    expect(lines.every((l) => /^[0-9a-f-]{36}$/.test(l.id))).toBe(true);
    const s = tapedeck(['store', 'read', '--store', store, '--stream', 'md-BTCUSDT', '--from', '1', '--json']);
    expect(jsonLines(s.stdout).map((l) => l.revision)).toEqual([1, 2]);
    const v = tapedeck(['store', 'verify', '--store', store, '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, records: 2, streams: 2, corrupt: [], truncatedTail: false });
    t.cleanup();
  });

  it('rejects bad input with a clear error naming the line and field, and appends nothing', async () => {
    const t = tmpDir('td-cli-bad-');
    const store = path.join(t.dir, 'store');
    await appendHere(store, 's', trade(0) + '\n');
    const cases: Array<[string, RegExp]> = [
      [`${trade(1)}\n{"type": "TradeReported", "data": {oops}\n`, /INPUT_JSON: malformed JSON.*\(stdin:2\)/],
      [`${trade(1)}\n{"data": {"a": 1}}\n`, /INPUT_EVENT: type: .*stdin:2, field type/],
      [`{"type":"T","data":{"a":1},"id":"not-a-uuid"}\n`, /INPUT_EVENT: id: must be a UUID.*stdin:1, field id/],
    ];
    for (const [input, re] of cases) {
      const r = tapedeck(['store', 'append', '--store', store, '--stream', 's'], input);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    const strictType = tapedeck(['store', 'append', '--store', store, '--stream', 's', '--strict'], `${trade(1)}\n{"type":"Nope","data":{}}\n`);
    expect(strictType.code).toBe(2);
    expect(strictType.stderr).toMatch(/EVENT_UNKNOWN_TYPE: unknown event type "Nope".*stdin:2, field type/);
    const bad = JSON.parse(trade(1));
    delete bad.data.priceTicks;
    const strictField = tapedeck(['store', 'append', '--store', store, '--stream', 's', '--strict'], JSON.stringify(bad) + '\n');
    expect(strictField.code).toBe(2);
    expect(strictField.stderr).toMatch(/EVENT_INVALID: TradeReported: priceTicks: .*stdin:1, field data\.priceTicks/);
    const wrongRev = tapedeck(['store', 'append', '--store', store, '--stream', 's', '--expected-revision', '7'], trade(1) + '\n');
    expect(wrongRev.code).toBe(2);
    expect(wrongRev.stderr).toMatch(/WRONG_EXPECTED_REVISION: stream "s" is at revision 0, the append expected 7/);
    // nothing of the failed appends was stored (read and verify here: their CLI is the first test's)
    const s = await EmbeddedEventStore.open(store, { readOnly: true });
    try {
      expect((await collect(s.readAll())).length).toBe(1);
      expect(s.health().ok).toBe(true);
    } finally {
      await s.close();
    }
    t.cleanup();
  });

  it('refuses a directory that is not a store, and a missing store for reads', () => {
    const t = tmpDir('td-cli-notstore-');
    fs.writeFileSync(path.join(t.dir, 'precious.txt'), 'do not touch');
    const r = tapedeck(['store', 'append', '--store', t.dir, '--stream', 's'], trade(0) + '\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NOT_A_STORE: .* is not a tapedeck store/);
    expect(fs.readdirSync(t.dir)).toEqual(['precious.txt']);
    const missing = tapedeck(['store', 'read', '--store', path.join(t.dir, 'nope'), '--all']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/STORE_NOT_FOUND/);
    const usage = tapedeck(['store', 'read', '--store', t.dir]);
    expect(usage.code).toBe(2);
    t.cleanup();
  });

  it('refuses a store held by another live process, and takes over a lock left by a killed one', async () => {
    const t = tmpDir('td-cli-lock-');
    const store = path.join(t.dir, 'store');
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      const { EmbeddedEventStore } = await import(${JSON.stringify(path.join(repoRoot, 'dist/src/store/embedded/store.js'))});
      await EmbeddedEventStore.open(${JSON.stringify(store)});
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    const r = tapedeck(['store', 'append', '--store', store, '--stream', 's'], trade(0) + '\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`STORE_LOCKED: store .* is held by live process ${holder.pid}`));
    // Readers do not need the lock.
    expect(tapedeck(['store', 'verify', '--store', store, '--json']).code).toBe(0);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
    expect(fs.existsSync(path.join(store, 'LOCK'))).toBe(true); // left behind by the killed process
    const after = tapedeck(['store', 'append', '--store', store, '--stream', 's'], trade(0) + '\n');
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    t.cleanup();
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const t = tmpDir('td-cli-pipe-');
    const store = path.join(t.dir, 'store');
    await appendHere(store, 's', Array.from({ length: 4000 }, (_, i) => trade(i)).join('\n') + '\n');
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'store', 'read', '--store', store, '--all', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy(); // like head after its first lines
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    t.cleanup();
  });

  it('verify exits 1 and names the segment and offset of a corrupt record', async () => {
    const t = tmpDir('td-cli-verify-');
    const store = path.join(t.dir, 'store');
    for (let i = 0; i < 3; i++) await appendHere(store, 's', trade(i) + '\n'); // three records
    const segDir = path.join(store, 'segments');
    const seg = path.join(segDir, fs.readdirSync(segDir)[0]!);
    const bytes = fs.readFileSync(seg);
    const second = 12 + bytes.readUInt32LE(4);
    bytes[second + 40] = bytes[second + 40]! ^ 0xff;
    fs.writeFileSync(seg, bytes);
    const v = tapedeck(['store', 'verify', '--store', store, '--json']);
    expect(v.code).toBe(1);
    const report = JSON.parse(v.stdout);
    expect(report.ok).toBe(false);
    expect(report.corrupt).toEqual([expect.objectContaining({ segment: fs.readdirSync(segDir)[0], offset: second })]);
    const w = tapedeck(['store', 'append', '--store', store, '--stream', 's'], trade(9) + '\n');
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/STORE_CORRUPT: .*segment 0+\.log, offset \d+/);
    t.cleanup();
  });
});
