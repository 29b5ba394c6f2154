/**
 * `tapedeck bench marketdata`: crypto market-data ingestion on the recorded cryptofeed captures, each
 * figure beside a same-run baseline.
 * - parse: captureEventSource end to end (read, validate, exact decimals, ids, Binance book procedure)
 *   per venue; baseline: reading the same lines and JSON.parse of each payload, nothing else.
 * - book: applying the snapshots and deltas to L2 books; baseline: one Map.set per level change.
 * - loopback: the capture replay server at full speed into the live adapter over 127.0.0.1; baseline:
 *   the same frames from a plain ws server to a plain ws client that only counts them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { L2BookSet } from '../../domain/book/l2.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { captureEventSource, findWsCaptures, readCapture } from '../venues/cryptofeed/capture.js';
import { openPaperFeed } from '../venues/cryptofeed/paper.js';

export interface MarketDataBenchOptions {
  /** Directory of the cryptofeed captures. */
  dir: string;
  /** Passes over each capture (figures are over all passes). */
  repeat: number;
}

const round = (n: number): number => Math.round(n);

async function parseFigures(files: string[], repeat: number): Promise<{ frames: number; events: number; bytes: number; sec: number; baselineSec: number; sample: AnyEnvelope[] }> {
  const bytes = files.reduce((a, f) => a + fs.statSync(f).size, 0) * repeat;
  let frames = 0;
  let events = 0;
  let sample: AnyEnvelope[] = [];
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) {
    const src = captureEventSource(files);
    const keep: AnyEnvelope[] = [];
    for await (const e of src) {
      events++;
      if (r === 0) keep.push(e);
    }
    frames += src.stats.records.received;
    if (r === 0) sample = keep;
  }
  const sec = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  let sink = 0;
  const decoder = new TextDecoder();
  for (let r = 0; r < repeat; r++) {
    for (const f of files) {
      for await (const rec of readCapture(f)) if (rec.kind === 'received') sink += (JSON.parse(decoder.decode(rec.payload)) === null ? 0 : 1);
    }
  }
  const baselineSec = (performance.now() - t1) / 1000;
  if (sink < 0) throw new Error('unreachable');
  return { frames, events, bytes, sec, baselineSec, sample };
}

function bookFigures(sample: AnyEnvelope[], repeat: number): { changes: number; sec: number; baselineSec: number } {
  const bookEvents = sample.filter((e) => e.type === 'BookSnapshotted' || e.type === 'BookDeltaApplied');
  let changes = 0;
  for (const e of bookEvents) changes += e.type === 'BookDeltaApplied' ? e.data.changes.length : e.data.bids.length + e.data.asks.length;
  const passes = Math.max(1, repeat * 5);
  const t0 = performance.now();
  for (let r = 0; r < passes; r++) {
    const set = new L2BookSet();
    for (const e of bookEvents) set.apply(e);
  }
  const sec = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let r = 0; r < passes; r++) {
    const maps = new Map<string, Map<number, number>>();
    for (const e of bookEvents) {
      let m = maps.get(e.data.instrument);
      if (m === undefined) maps.set(e.data.instrument, (m = new Map()));
      if (e.type === 'BookSnapshotted') for (const [p, q] of [...e.data.bids, ...e.data.asks]) m.set(p, q);
      else if (e.type === 'BookDeltaApplied') for (const c of e.data.changes) m.set(c.side === 'buy' ? c.priceTicks : -c.priceTicks, c.qtyLots);
    }
  }
  const baselineSec = (performance.now() - t1) / 1000;
  return { changes: changes * passes, sec, baselineSec };
}

async function loopbackFigures(files: string[]): Promise<{ frames: number; sec: number; baselineSec: number }> {
  const feed = await openPaperFeed(files, { speed: 'max' });
  let events = 0;
  const t0 = performance.now();
  try {
    for await (const _ of feed.client.events()) events++;
  } finally {
    await feed.close();
  }
  const sec = (performance.now() - t0) / 1000;
  if (events === 0) throw new Error('loopback produced no events');
  const frames = feed.server.connections.reduce((a, c) => a + c.frames, 0);

  // Baseline: the same frame texts through a plain ws pair, counted only.
  const texts: string[] = [];
  const decoder = new TextDecoder();
  for (const f of files) for await (const r of readCapture(f)) if (r.kind === 'received') texts.push(decoder.decode(r.payload));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (ws) => {
    void (async () => {
      for (let i = 0; i < texts.length; i++) {
        if (i % 256 === 255) await new Promise<void>((resolve) => ws.send(texts[i]!, () => resolve()));
        else ws.send(texts[i]!);
      }
      ws.close(1000);
    })();
  });
  const port = (wss.address() as AddressInfo).port;
  const t1 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    let n = 0;
    c.on('message', () => n++);
    c.on('close', () => (n === texts.length ? resolve() : reject(new Error(`baseline got ${n} of ${texts.length} frames`))));
    c.on('error', reject);
  });
  const baselineSec = (performance.now() - t1) / 1000;
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  return { frames, sec, baselineSec };
}

export async function runMarketDataBench(opts: MarketDataBenchOptions): Promise<Record<string, unknown>> {
  const venues: Array<[string, string[]]> = [
    ['binance', [path.join(opts.dir, 'BINANCE.ws.1.0')]],
    ['kraken', findWsCaptures(opts.dir, 'KRAKEN')],
    ['coinbase', [path.join(opts.dir, 'COINBASE.ws.28.0')]],
  ];
  const out: Record<string, unknown> = { repeat: opts.repeat };
  let allSample: AnyEnvelope[] = [];
  for (const [name, files] of venues) {
    const p = await parseFigures(files, opts.repeat);
    out[`${name}ParseFramesPerSec`] = round(p.frames / p.sec);
    out[`${name}ParseEventsPerSec`] = round(p.events / p.sec);
    out[`${name}ParseMBPerSec`] = Number((p.bytes / 1e6 / p.sec).toFixed(1));
    out[`${name}BaselineJsonParseFramesPerSec`] = round(p.frames / p.baselineSec);
    allSample = allSample.concat(p.sample);
  }
  const b = bookFigures(allSample, opts.repeat);
  out.bookLevelChangesPerSec = round(b.changes / b.sec);
  out.baselineMapSetPerSec = round(b.changes / b.baselineSec);
  for (const [name, files] of [venues[0]!, venues[2]!]) {
    const l = await loopbackFigures(files);
    out[`${name}LoopbackFramesPerSec`] = round(l.frames / l.sec);
    out[`${name}BaselinePlainWsFramesPerSec`] = round(l.frames / l.baselineSec);
  }
  return out;
}
