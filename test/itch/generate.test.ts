import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BX_20191230_COUNTS, generateItchDay, writeItchDay } from '../../datasets/itch/generate.js';
import { decodeMessage } from '../../src/venues/nasdaq/itch/codec.js';
import type { ItchMessage } from '../../src/venues/nasdaq/itch/messages.js';
import { readItchBytes, readItchFile } from '../../src/venues/nasdaq/itch/reader.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('tapedeck-itch-gen-');
afterAll(() => tmp.cleanup());

function decodeAll(bytes: Uint8Array): ItchMessage[] {
  const out: ItchMessage[] = [];
  readItchBytes(bytes, { payload: (b, o, l) => void out.push(decodeMessage(b, o, l)) });
  return out;
}

const N = 60_000;
const day = generateItchDay({ seed: 42, messages: N, symbols: 40 });
const msgs = decodeAll(day);

describe('synthetic ITCH day generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(Buffer.from(generateItchDay({ seed: 42, messages: N, symbols: 40 })).equals(Buffer.from(day))).toBe(true);
    expect(Buffer.from(generateItchDay({ seed: 43, messages: N, symbols: 40 })).equals(Buffer.from(day))).toBe(false);
  });

  it('writes exactly the asked number of messages, with true BinaryFILE length prefixes', () => {
    const s = readItchBytes(day, { payload: () => {} });
    expect(s).toMatchObject({ messages: N, bytes: day.length, prefixStyle: 'true-length', errors: 0 });
  });

  it('uses the real BX per-type counts of real_message_snippets.json', () => {
    const snippets = JSON.parse(fs.readFileSync(path.join(datasetsDir, 'itch/real_message_snippets.json'), 'utf8'));
    // The upstream listing predates the 'O' (DLCR) message; the generator counts it as 0.
    const { O, ...listed } = BX_20191230_COUNTS;
    expect(O).toBe(0);
    expect(listed).toEqual(snippets.bx_20191230.full_file_message_counts_upstream.counts);
  });

  it('follows the BX mix in the trading phase', () => {
    const trading = ['A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'N'] as const;
    const bxTotal = trading.reduce((n, t) => n + BX_20191230_COUNTS[t], 0);
    const counts: Record<string, number> = {};
    for (const m of msgs) counts[m.messageType] = (counts[m.messageType] ?? 0) + 1;
    const total = trading.reduce((n, t) => n + (counts[t] ?? 0), 0);
    for (const t of ['A', 'D', 'U', 'N', 'E', 'X', 'P'] as const) {
      const want = BX_20191230_COUNTS[t] / bxTotal;
      const got = (counts[t] ?? 0) / total;
      // Within 15% of the BX share (adds also stand in when nothing is live to act on).
      expect(Math.abs(got - want) / want, t).toBeLessThan(0.15);
    }
  });

  it('has the shape of a real day: system events in order, directory first, time moving forward', () => {
    expect(msgs.filter((m) => m.messageType === 'S').map((m) => (m as { eventCode: string }).eventCode)).toEqual(['O', 'S', 'Q', 'M', 'E', 'C']);
    const dir = msgs.filter((m) => m.messageType === 'R') as Array<Extract<ItchMessage, { messageType: 'R' }>>;
    expect(dir.map((r) => r.stockLocate)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(dir.map((r) => r.stock)).size).toBe(40);
    expect(msgs.filter((m) => m.messageType === 'H')).toHaveLength(40);
    const firstOrder = msgs.findIndex((m) => m.messageType === 'A');
    expect(msgs.slice(firstOrder).some((m) => m.messageType === 'R')).toBe(false);
    const backwards = msgs.findIndex((m, i) => i > 0 && m.timestamp < msgs[i - 1]!.timestamp);
    expect(backwards).toBe(-1);
    const q = msgs.find((m) => m.messageType === 'S' && (m as { eventCode: string }).eventCode === 'Q')!;
    expect(q.timestamp).toBeGreaterThanOrEqual(((9 * 60 + 30) * 60) * 1e9);
  });

  it('gives orders realistic lives: most deleted soon after their add, some executed or replaced', () => {
    const addedAt = new Map<bigint, number>();
    const lifetimes: number[] = [];
    let executed = 0;
    msgs.forEach((m, i) => {
      if (m.messageType === 'A' || m.messageType === 'F') addedAt.set(m.orderReferenceNumber, i);
      else if (m.messageType === 'U') addedAt.set(m.newOrderReferenceNumber, i);
      else if (m.messageType === 'D') lifetimes.push(i - addedAt.get(m.orderReferenceNumber)!);
      else if (m.messageType === 'E') executed++;
    });
    const adds = msgs.filter((m) => m.messageType === 'A' || m.messageType === 'F').length;
    expect(lifetimes.length / adds).toBeGreaterThan(0.9);
    expect(executed).toBeGreaterThan(0);
    lifetimes.sort((a, b) => a - b);
    expect(lifetimes[lifetimes.length >> 1]).toBeLessThan(N / 50);
  });

  it('writes the same day to a file, plain or gzip', async () => {
    for (const name of ['day.itch', 'day.itch.gz']) {
      const file = path.join(tmp.dir, name);
      const r = await writeItchDay(file, { seed: 42, messages: N, symbols: 40 });
      expect(r).toEqual({ messages: N, bytes: day.length });
      const back: Uint8Array[] = [];
      const s = await readItchFile(file, { payload: (b, o, l) => void back.push(b.slice(o, o + l)) });
      expect(s.messages).toBe(N);
      expect(Buffer.concat(back).length).toBe(day.length - 2 * N);
    }
    expect(fs.readFileSync(path.join(tmp.dir, 'day.itch')).equals(Buffer.from(day))).toBe(true);
  });

  it('adds opening and closing crosses on request', () => {
    const d = decodeAll(generateItchDay({ seed: 1, messages: 2000, symbols: 5, crossTrades: true }));
    const q = d.filter((m) => m.messageType === 'Q') as Array<Extract<ItchMessage, { messageType: 'Q' }>>;
    expect(q.map((m) => m.crossType).join('')).toBe('OOOOOCCCCC');
    expect(d).toHaveLength(2000);
  });

  it('refuses options it cannot honour', () => {
    expect(() => generateItchDay({ seed: 1, messages: 10, symbols: 40 })).toThrow(/messages must be/);
    expect(() => generateItchDay({ seed: 1.5, messages: 1000 })).toThrow(/seed/);
    expect(() => generateItchDay({ seed: 1, messages: 1000, unknownRefRate: 2 })).toThrow(/unknownRefRate/);
  });
});
