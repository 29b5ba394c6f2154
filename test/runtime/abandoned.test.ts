/**
 * A run whose process died is marked abandoned by the next writer, with what it kept; a paper
 * session journals at least every second of wall time, so a killed one keeps what it saw.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markAbandonedRuns, openRunStore } from '../../src/runtime/run-streams.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';
import { CLI, tapedeck } from '../helpers/cli.js';
import { datasetsDir, repoRoot, tmpDir } from '../helpers/tmp.js';

const BINANCE = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');
const t = tmpDir('td-abandoned-');
afterAll(() => t.cleanup());

async function runStreams(dir: string): Promise<Map<string, RecordedEvent[]>> {
  const s = await EmbeddedEventStore.open(dir, { readOnly: true });
  try {
    const out = new Map<string, RecordedEvent[]>();
    for (const e of await collect(s.readAll())) if (e.stream.startsWith('run-')) out.set(e.stream, [...(out.get(e.stream) ?? []), e]);
    return out;
  } finally {
    await s.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a killed paper session', () => {
  it('keeps the inputs it journaled, and the next writer marks the run abandoned at its last durable position', { timeout: 60_000 }, async () => {
    const store = path.join(t.dir, 'paper');
    // About 8 s of recorded traffic at --speed 4: the session is killed long before it ends.
    const child = spawn(process.execPath, [CLI, 'paper', BINANCE, '--strategy', 'market-maker', '--store', store, '--speed', '4', '--json'], { cwd: repoRoot, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    let inputs = 0;
    // Wait (up to 15 s) until some inputs are durable; with 1,000-event batches only, none ever would be.
    for (let waited = 0; waited < 15_000 && inputs === 0; waited += 200) {
      await sleep(200);
      try {
        const runs = await runStreams(store);
        inputs = [...runs.values()][0]?.filter((e) => e.metadata.role === 'input').length ?? 0;
      } catch {
        /* the store is not created yet */
      }
    }
    child.kill('SIGKILL');
    await exited;

    const before = await runStreams(store);
    expect(before.size).toBe(1);
    const [stream, evs] = [...before.entries()][0]!;
    expect(evs[0]!.type).toBe('RunStarted');
    expect((evs[0]!.data as { manifest: { owner: { pid: number; host: string } } }).manifest.owner).toEqual({ pid: child.pid, host: os.hostname() });
    expect(evs.some((e) => e.type === 'RunEnded')).toBe(false);
    expect(evs.filter((e) => e.metadata.role === 'input').length).toBeGreaterThan(0);
    const last = evs.at(-1)!;

    // The next writer (here: an append to another stream) marks the run.
    const w = tapedeck(['store', 'append', '--store', store, '--stream', 'notes'], '{"type":"Note","data":{}}\n');
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(new RegExp(`^tapedeck: note: run ${stream.slice(4)} marked abandoned: its owner process ${child.pid} on .* is gone .*position ${last.position}`));
    const after = (await runStreams(store)).get(stream)!;
    expect(after.slice(0, evs.length)).toEqual(evs); // nothing stored was lost or changed
    expect(after).toHaveLength(evs.length + 1);
    expect(after.at(-1)).toMatchObject({ type: 'RunAbandoned', data: { runId: stream.slice(4), lastPosition: last.position, lastRevision: last.revision, owner: { pid: child.pid } } });

    // Parity says the run is incomplete, and why.
    const p = tapedeck(['parity', '--store', store, '--run', stream.slice(4), '--json']);
    expect(p.code).toBe(1);
    expect(JSON.parse(p.stdout)).toMatchObject({ complete: false, incomplete: [expect.stringMatching(/^the run was abandoned: its owner process/), expect.stringMatching(/no RunEnded/)] });

    // A second writer does not mark it again.
    const s = await EmbeddedEventStore.open(store);
    expect(await markAbandonedRuns(s)).toEqual([]);
    await s.close();
  });
});

describe('which runs are abandoned', () => {
  async function startRun(s: EmbeddedEventStore, runId: string, owner: unknown, extra: Array<{ type: string; data: unknown }> = []): Promise<void> {
    const meta = { schemaVersion: 1, eventTimeNs: '0', receiveTimeNs: '0', $causationId: null, $correlationId: runId, role: 'run' };
    const manifest = { runId, mode: 'paper', strategy: 'x@1', codeHash: 'c', configHash: 'h', seed: 1, source: 's', dataRange: { fromNs: null, toNs: null }, ...(owner ? { owner } : {}) };
    await s.appendToStream(`run-${runId}`, [
      { id: crypto.randomUUID(), type: 'RunStarted', data: { manifest }, metadata: meta },
      ...extra.map((e) => ({ id: crypto.randomUUID(), type: e.type, data: e.data, metadata: meta })),
    ]);
  }

  it('leaves runs of live processes, of this process and of other hosts alone; marks dead and owner-less ones', async () => {
    const dir = path.join(t.dir, 'which');
    const s = await EmbeddedEventStore.open(dir);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    try {
      await startRun(s, 'alive', { pid: sleeper.pid, host: os.hostname() });
      await startRun(s, 'mine', { pid: process.pid, host: os.hostname() });
      await startRun(s, 'elsewhere', { pid: 12345, host: 'another-host' });
      await startRun(s, 'dead', { pid: dead.pid, host: os.hostname() });
      await startRun(s, 'ownerless', null);
      await startRun(s, 'ended', { pid: dead.pid, host: os.hostname() }, [{ type: 'RunEnded', data: { runId: 'ended', outcome: 'completed', events: 0, decisions: 0, decisionsHash: '' } }]);
      const marked = await markAbandonedRuns(s);
      expect(marked.map((m) => m.runId).sort()).toEqual(['dead', 'ownerless']);
      expect(marked.find((m) => m.runId === 'ownerless')!.reason).toMatch(/no owner was recorded/);
    } finally {
      sleeper.kill('SIGKILL');
      await s.close();
    }
    const again = await openRunStore(dir);
    expect(await markAbandonedRuns(again)).toEqual([]);
    await again.close();
  });
});
