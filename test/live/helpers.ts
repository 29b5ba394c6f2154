/**
 * Live sessions against the simulated Binance on loopback, in process: the sim (src/venues/binance/sim.ts), a
 * ccxt session pointed at it, a store, and the market maker's config.
 */
import path from 'node:path';
import type { ResolvedRunConfig } from '../../src/runtime/config.js';
import { openVenueSession, runLive, type LiveResult, type VenueSession } from '../../src/runtime/live.js';
import { EmbeddedEventStore } from '../../src/store/embedded/store.js';
import { collect } from '../../src/store/port.js';
import { SimBinance, type SimBinanceOptions, type SimFillRecord, type SimOrderRecord } from '../../src/venues/binance/sim.js';
import { repoRoot } from '../helpers/tmp.js';

export const CAPTURE = path.join(repoRoot, 'datasets/samples/binance/BINANCE.ws.1.0');
export const KEY = 'tapedeck-test-key-7f3a9c';
export const SECRET = 'tapedeck-test-SECRET-4b1e8d02a9';
export const ENV = { BINANCE_API_KEY: KEY, BINANCE_API_SECRET: SECRET };

/** 500 NKN quotes one tick inside the touch, inventory limit one quote: fills, partial fills, replaces and cancels in 30 s of capture. */
export const MM_CONFIG: ResolvedRunConfig = {
  strategy: 'market-maker',
  seed: 1,
  params: { venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', priceScale: 8, qtyScale: 8, quoteQtyLots: 50_000_000_000, halfSpreadTicks: 1, maxInventoryLots: 50_000_000_000, skewPerLots: 100_000_000_000 },
  risk: { maxOpenOrders: 10, allowUnknownInstruments: true },
  venues: [],
};

export async function startSim(o: Partial<SimBinanceOptions> = {}): Promise<SimBinance> {
  return SimBinance.start({ capture: CAPTURE, speed: 6, loop: true, apiKey: KEY, apiSecret: SECRET, startOnSubscribe: true, ...o });
}

export async function session(sim: SimBinance): Promise<VenueSession> {
  return openVenueSession({ venue: 'binance', baseUrl: sim.urls.rest, env: ENV });
}

/**
 * Runs a live session for at most `durationMs`. With `until`, the session ends as soon as the venue's truth
 * shows what the test needs (polled every 200 ms), so a slow machine gets more wall time instead of a weaker run.
 */
export async function liveRun(sim: SimBinance, dir: string, o: { durationMs: number; until?: (venue: { orders: SimOrderRecord[]; fills: SimFillRecord[] }) => boolean; onEnd?: 'cancel' | 'leave'; logs?: string[]; config?: ResolvedRunConfig }): Promise<{ result: LiveResult; store: EmbeddedEventStore }> {
  const s = await session(sim);
  const store = await EmbeddedEventStore.open(dir);
  const stop = new AbortController();
  let polling = o.until !== undefined;
  const poll = async (): Promise<void> => {
    while (polling && !stop.signal.aborted) {
      await new Promise((r) => setTimeout(r, 200));
      const venue = { orders: await simJson<SimOrderRecord[]>(sim, '/_sim/orders'), fills: await simJson<SimFillRecord[]>(sim, '/_sim/fills') };
      if (o.until!(venue)) stop.abort();
    }
  };
  const poller = poll();
  try {
    const result = await runLive({ store, session: s, config: o.config ?? MM_CONFIG, onEnd: o.onEnd ?? 'cancel', durationMs: o.durationMs, signal: stop.signal, onLog: (l) => o.logs?.push(l) });
    return { result, store };
  } finally {
    polling = false;
    await poller;
    await s.close();
  }
}

export async function simJson<T>(sim: SimBinance, p: string): Promise<T> {
  return (await (await fetch(`${sim.urls.rest}${p}`)).json()) as T;
}

export async function allEvents(store: EmbeddedEventStore) {
  return collect(store.readAll());
}
