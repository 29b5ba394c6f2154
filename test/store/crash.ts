/**
 * The embedded store's crash test: a child appending continuously from six concurrent writers
 * (test/fixtures/crash-writer.ts) is SIGKILLed at seeded random moments, again and again, on the same store;
 * every few kills a torn, unacknowledged record is appended by hand, as a power cut mid-write leaves one.
 * After each kill the store is reopened and checked: every acknowledged append present, at the position and
 * revision it was acknowledged with, exactly once and in order; no append half-present; positions dense.
 *
 * Used by test/store/crash.test.ts (6 kills, in the suite) and scripts/crash-store.ts (`npm run crash:store`,
 * 100 kills by default).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { listSegments, SEGMENTS_DIR } from '../../src/store/embedded/segments.js';
import { collect, type RecordedEvent } from '../../src/store/port.js';

export interface StoreCrashOptions {
  repoRoot: string;
  dir: string;
  kills: number;
  seed?: number;
  /** A torn record is appended after every `tearEvery`-th kill. */
  tearEvery?: number;
  /** Small segments, so the kills also land around segment rolls. */
  segmentBytes?: number;
  onProgress?: (line: string) => void;
}

export interface StoreCrashReport {
  kills: number;
  acknowledged: number;
  tornInjected: number;
  tornTruncated: number;
  segments: number;
  /** After the last kill, read-only: healthy and with nothing left to truncate. */
  finalHealthy: boolean;
  /** What was wrong, after which kill (empty when every check held); the first few only. */
  problems: string[];
  seconds: number;
}

interface Ack { run: string; w: number; batch: number; count: number; stream: string; lastRevision: number; position: number }

export async function runStoreCrashTest(o: StoreCrashOptions): Promise<StoreCrashReport> {
  const t0 = Date.now();
  const child = path.join(o.repoRoot, 'dist/test/fixtures/crash-writer.js');
  if (!fs.existsSync(child)) throw new Error(`build first: ${child} is missing (npm test runs tsc before vitest)`);
  const tearEvery = o.tearEvery ?? 2;
  const segmentBytes = o.segmentBytes ?? 16 * 1024;
  const killAfterMs = fc.sample(fc.integer({ min: 5, max: 120 }), { numRuns: o.kills, seed: o.seed ?? 20261121 });
  const allAcks: Ack[] = [];
  const problems: string[] = [];
  let tornInjected = 0;
  let tornTruncated = 0;
  for (let i = 0; i < o.kills && problems.length === 0; i++) {
    allAcks.push(...(await runAndKill(child, o.dir, `r${i}`, killAfterMs[i]!, segmentBytes)));
    if (i % tearEvery === tearEvery - 1) {
      // A power cut mid-write leaves part of an unacknowledged record: a valid header start and a cut body.
      const segs = listSegments(o.dir);
      const last = path.join(o.dir, SEGMENTS_DIR, segs[segs.length - 1]!);
      const torn = Buffer.alloc(12 + (killAfterMs[i]! % 200));
      torn.writeUInt32LE(0x31524454, 0);
      torn.writeUInt32LE(5000, 4);
      fs.appendFileSync(last, torn);
      tornInjected++;
    }
    const s = await EmbeddedEventStore.open(o.dir);
    try {
      const h = s.health();
      if (h.truncatedTail) tornTruncated++;
      if (!h.ok) problems.push(`kill ${i + 1}: store not healthy: ${JSON.stringify(h.corrupt)}`);
      problems.push(...checkLog(await collect(s.readAll()), allAcks).map((p) => `kill ${i + 1}: ${p}`));
    } finally {
      await s.close();
    }
    o.onProgress?.(`kill ${i + 1}/${o.kills}: ${allAcks.length} acknowledged appends so far, ${tornTruncated} torn tails truncated, ${problems.length === 0 ? 'ok' : 'NOT OK'}`);
  }
  const verified = await EmbeddedEventStore.open(o.dir, { readOnly: true });
  const h = verified.health();
  await verified.close();
  return {
    kills: o.kills, acknowledged: allAcks.length, tornInjected, tornTruncated, segments: listSegments(o.dir).length,
    finalHealthy: h.ok && !h.truncatedTail, problems: problems.slice(0, 20), seconds: Math.round((Date.now() - t0) / 1000),
  };
}

function runAndKill(child: string, dir: string, run: string, killAfterMs: number, segmentBytes: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, run, String(segmentBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === null && out.includes('ready\n')) timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own (${signal ?? code}): ${err}`));
      const acks: Ack[] = [];
      for (const line of out.split('\n')) {
        const f = line.split(' ');
        if (f[0] !== 'ack' || f.length !== 8) continue; // a line cut by the kill is not an ack we saw
        acks.push({ run: f[1]!, w: Number(f[2]), batch: Number(f[3]), count: Number(f[4]), stream: f[5]!, lastRevision: Number(f[6]), position: Number(f[7]) });
      }
      resolve(acks);
    });
  });
}

/** Everything wrong with the log given the acknowledged appends (empty when it is right). */
export function checkLog(events: RecordedEvent[], acks: Ack[]): string[] {
  const problems: string[] = [];
  // Positions are dense and strictly increasing: nothing duplicated, nothing reordered.
  const gap = events.findIndex((e, i) => e.position !== i);
  if (gap >= 0) problems.push(`event ${gap} is at position ${events[gap]!.position}`);
  // Group events into their appends; every append present must be complete (no half append).
  const batches = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    const m = e.metadata as { run: string; w: number; batch: number; idx: number; of: number };
    const key = `${m.run}/${m.w}/${m.batch}`;
    const list = batches.get(key) ?? [];
    list.push(e);
    batches.set(key, list);
  }
  for (const [key, list] of batches) {
    const of = (list[0]!.metadata as { of: number }).of;
    if (list.length !== of) problems.push(`append ${key} is half-present: ${list.length} of ${of} events`);
    const idx = list.map((e) => (e.metadata as { idx: number }).idx);
    if (idx.some((v, k) => v !== k)) problems.push(`append ${key} holds its events in the order ${idx.join(',')}`);
    for (let k = 1; k < list.length; k++) if (list[k]!.position !== list[k - 1]!.position + 1) problems.push(`append ${key} is not contiguous`);
  }
  // Every acknowledged append is there, at the position and revision it was acknowledged with.
  for (const a of acks) {
    const key = `${a.run}/${a.w}/${a.batch}`;
    const last = batches.get(key)?.at(-1);
    if (!last) problems.push(`acknowledged append ${key} is missing`);
    else if (last.position !== a.position || last.revision !== a.lastRevision || last.stream !== a.stream) {
      problems.push(`acknowledged append ${key} ends at ${last.stream}@${last.revision} position ${last.position}, acknowledged as ${a.stream}@${a.lastRevision} position ${a.position}`);
    }
  }
  // Per writer and run, appends appear in the order they were made (batches 0..k with no hole).
  const seen = new Map<string, number[]>();
  for (const key of batches.keys()) {
    const [run, w, b] = key.split('/');
    const k = `${run}/${w}`;
    seen.set(k, [...(seen.get(k) ?? []), Number(b)]);
  }
  for (const [k, list] of seen) if (list.some((b, i) => b !== i)) problems.push(`writer ${k} appended batches ${list.join(',')}`);
  return problems;
}
