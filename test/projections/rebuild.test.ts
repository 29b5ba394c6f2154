import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDecimal } from '../../domain/core/fixed.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { initKernel, processInput, releaseDue, type KernelOutput } from '../../domain/kernel/kernel.js';
import { isWorking } from '../../domain/orders/lifecycle.js';
import { projectStore } from '../../projections/catchup.js';
import { openDb, queryRows, trimDecimal } from '../../projections/db.js';
import { rebuild } from '../../projections/rebuild.js';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { kernelSetup } from '../../src/runtime/engine.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { capturePrefix } from '../helpers/capture.js';
import { CLI } from '../helpers/cli.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('tapedeck-rebuild-');
afterAll(() => tmp.cleanup());
// The first 3,000 lines of the Coinbase capture (10k events in full, 1.6 s of CPU a replay; full-size runs of
// it are in test/kernel/itch-coinbase-parity.test.ts): a run of 3,200 events is three journal batches of 1,000
// and a last one with RunEnded, so the kills still land part way at each durable prefix a kill can leave, and
// the kernel states compared still hold positions, fills and open orders.
const CAPTURE = capturePrefix(path.join(datasetsDir, 'recorded_ws/cryptofeed/COINBASE.ws.28.0'), 3000, path.join(tmp.dir, 'capture'));

const t = (m: bigint | number, s: number): string => trimDecimal(formatDecimal(m, s));

/** The capture's inputs, read once for every kernel driven below (the kernel only reads its inputs). */
let inputs: Promise<AnyEnvelope[]> | undefined;
function captureInputs(): Promise<AnyEnvelope[]> {
  inputs ??= (async () => {
    const all: AnyEnvelope[] = [];
    for await (const e of captureEventSource(CAPTURE)) all.push(e);
    return all;
  })();
  return inputs;
}

/**
 * The kernel's own state after the inputs whose outputs make up the first `n` events of the run:
 * the kernel is driven here exactly as the engine drives it (same run id, same resolved config).
 * Throws if `n` does not fall on an input boundary (a durable prefix always does).
 */
async function kernelStateAfter(runId: string, config: ResolvedRunConfig, recorded: RecordedEvent[]) {
  const k = initKernel(kernelSetup(runId, config));
  const n = recorded.length;
  let count = 1; // RunStarted
  const out: KernelOutput[] = [];
  const ids: string[] = [recorded[0]!.id];
  if (count === n) return { k, ids };
  for (const input of await captureInputs()) {
    out.length = 0;
    releaseDue(k, input.eventTimeNs, out);
    const before = out.length;
    processInput(k, input, count + before, out); // its revision in the run stream
    for (const o of out) if (o.kind === 'event') ids.push(o.env.id);
    count += out.filter((o) => o.kind === 'event').length;
    if (count === n) return { k, ids };
    if (count > n) throw new Error(`the durable prefix (${n} events) ends inside an input's outputs (${count})`);
  }
  return { k, ids, complete: true };
}

describe('tapedeck rebuild', () => {
  it('after a replay killed with SIGKILL at random points, equals the kernel state at the last durable event', async () => {
    // A complete run first: its log size tells where "part way" is.
    const full = path.join(tmp.dir, 'kill-full');
    await new Promise((r) => spawn(process.execPath, [CLI, 'replay', CAPTURE, '--strategy', 'market-maker', '--store', full, '--json'], { stdio: 'ignore' }).once('exit', r));
    const logBytes = (d: string): number => {
      const seg = path.join(d, 'segments');
      return fs.existsSync(seg) ? fs.readdirSync(seg).reduce((a, f) => a + fs.statSync(path.join(seg, f)).size, 0) : 0;
    };
    const fullBytes = logBytes(full);
    expect(fullBytes).toBeGreaterThan(0);
    // Kill when the log has grown past a random fraction of the full run (SIGKILL: no cleanup at all).
    // Three kills: a kill leaves one of three durable prefixes of this run (after its first, second or third
    // journal batch of 1,000 events), and these fractions of the log land one in each.
    const fractions = [0.15, 0.45, 0.8].map((f) => f + Math.random() * 0.1);
    const dirs = [full];
    let partial = 0;
    let compared = 0;
    // The replays run side by side, each into its own store, each killed at its own point.
    await Promise.all(fractions.map(async (f, i) => {
      const dir = path.join(tmp.dir, `kill-${i}`);
      dirs.push(dir);
      const child = spawn(process.execPath, [CLI, 'replay', CAPTURE, '--strategy', 'market-maker', '--store', dir, '--json'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      let done = false;
      void exited.then(() => (done = true));
      while (!done && logBytes(dir) < f * fullBytes) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
    }));
    // Each store is checked on its own (side by side: the projections' database work overlaps).
    await Promise.all(dirs.map(async (dir) => {
      if (!fs.existsSync(path.join(dir, 'tapedeck-store.json'))) return;
      const store = await EmbeddedEventStore.open(dir, { readOnly: true });
      const names = store.streamNames().filter((s) => s.startsWith('run-'));
      if (names.length === 0) {
        await store.close();
        return;
      }
      const recorded: RecordedEvent[] = [];
      for await (const e of store.readStream(names[0]!)) recorded.push(e);
      await store.close();
      const manifest = (recorded[0]!.data as any).manifest;
      const ended = recorded[recorded.length - 1]!.type === 'RunEnded';
      const prefix = ended ? recorded.slice(0, -1) : recorded;
      if (!ended) partial++;
      const { k, ids } = await kernelStateAfter(manifest.runId, manifest.config as ResolvedRunConfig, prefix);
      // the stored run is this deterministic kernel's run, event for event
      expect(ids.slice(0, prefix.length)).toEqual(prefix.map((e) => e.id));

      const rb = await rebuild(dir);
      expect(rb.errors).toBe(0);
      expect(rb.runs).toHaveLength(1);
      const run = rb.runs[0]!;
      expect(run.ended).toBe(ended);
      const want = [...k.portfolio.positions.values()].map((p) => ({
        instrument: p.instrument, quantity: t(p.qtyLots, p.qtyScale), costBasis: t(p.costBasis, p.priceScale + p.qtyScale),
        realizedPnl: t(p.realizedPnl, p.priceScale + p.qtyScale),
      })).sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
      expect(run.positions.map((p) => ({ instrument: p.instrument, quantity: p.quantity, costBasis: p.costBasis, realizedPnl: p.realizedPnl }))).toEqual(want);
      const open = [...k.orders.orders.values()].filter((o) => isWorking(o.status) || o.status === 'intended' || o.status === 'approved')
        .map((o) => `${o.orderId} ${o.status} ${t(o.leavesLots, o.qtyScale)}`).sort();
      expect(run.openOrders.map((o) => `${o.orderId} ${o.state} ${o.leavesQuantity}`).sort()).toEqual(open);
      const cash = [...k.portfolio.cash.values()].map((c) => `${c.venue} ${c.currency} ${t(c.total.amount, c.total.scale)}`).sort();
      expect(run.balances.map((b) => `${b.venue} ${b.currency} ${b.total}`).sort()).toEqual(cash);
      compared++;

      // The projection tables (the "snapshot") agree with the rebuild from zero.
      await projectStore(dir);
      const db = await openDb(path.join(dir, 'projections.duckdb'), { readOnly: true });
      try {
        const rows = await queryRows(db.con, `SELECT order_id, state, leaves_lots, qty_scale FROM open_orders`);
        expect(rows.map((r) => `${r.order_id} ${r.state} ${t(BigInt(String(r.leaves_lots)), Number(r.qty_scale))}`).sort()).toEqual(open);
        const pos = await queryRows(db.con, `SELECT instrument, quantity::VARCHAR q FROM positions ORDER BY instrument`);
        expect(pos.map((p) => `${p.instrument} ${trimDecimal(String(p.q))}`)).toEqual(want.map((w) => `${w.instrument} ${w.quantity}`));
      } finally {
        db.close();
      }
    }));
    expect(compared).toBeGreaterThanOrEqual(4);
    expect(partial).toBeGreaterThanOrEqual(2);
  });

  it('--at folds the log up to a position, equal to the kernel state there', async () => {
    // the largest store the kills left
    const dirs = fs.readdirSync(tmp.dir).filter((d) => d.startsWith('kill-') && fs.existsSync(path.join(tmp.dir, d, 'tapedeck-store.json'))).map((d) => path.join(tmp.dir, d));
    const sizeOf = (d: string): number => fs.readdirSync(path.join(d, 'segments')).reduce((a, f) => a + fs.statSync(path.join(d, 'segments', f)).size, 0);
    const dir = dirs.sort((a, b) => sizeOf(b) - sizeOf(a))[0]!;
    const store = await EmbeddedEventStore.open(dir, { readOnly: true });
    const recorded: RecordedEvent[] = [];
    for await (const e of store.readStream(store.streamNames().find((s) => s.startsWith('run-'))!)) recorded.push(e);
    await store.close();
    // an input boundary about half way: the position just before an input event
    const half = recorded.findIndex((e, i) => i > recorded.length / 2 && e.metadata.role === 'input');
    const manifest = (recorded[0]!.data as any).manifest;
    const { k } = await kernelStateAfter(manifest.runId, manifest.config, recorded.slice(0, half));
    const rb = await rebuild(dir, { at: recorded[half - 1]!.position });
    const run = rb.runs[0]!;
    expect(run.lastPosition).toBe(recorded[half - 1]!.position);
    const open = [...k.orders.orders.values()].filter((o) => isWorking(o.status) || o.status === 'intended' || o.status === 'approved').map((o) => o.orderId).sort();
    expect(run.openOrders.map((o) => o.orderId).sort()).toEqual(open);
    expect(run.positions.map((p) => p.quantity)).toEqual([...k.portfolio.positions.values()].map((p) => t(p.qtyLots, p.qtyScale)));
    await expect(rebuild(dir, { at: 10_000_000 })).rejects.toThrow(/past the head/);
  });
});
