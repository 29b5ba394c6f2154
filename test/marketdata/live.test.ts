/**
 * The live adapters over a real loopback socket, fed by the capture replay server, against the direct
 * capture reader: paper trading must see exactly what replay sees.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { captureEventSource, findWsCaptures } from '../../src/venues/cryptofeed/capture.js';
import { startCaptureReplayServer, type ReplayServer } from '../../src/venues/cryptofeed/replay-server.js';
import { openPaperFeed, replayClientFor } from '../../src/venues/cryptofeed/paper.js';
import { BinanceMarketDataClient } from '../../src/venues/binance/marketdata.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { isTapedeckError } from '../../domain/core/errors.js';
import { capturePrefix } from '../helpers/capture.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const dir = path.join(datasetsDir, 'recorded_ws/cryptofeed');
const BINANCE_WS = path.join(dir, 'BINANCE.ws.1.0');

async function collect<T>(src: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of src) out.push(e);
  return out;
}

/** Everything but the receive time, which differs by nature (event time is venue time: common/event-time.ts). */
function comparable(e: AnyEnvelope) {
  return { ...untimed(e), eventTimeNs: e.eventTimeNs };
}

/** Without the event time either: for messages with no venue time, stamped with the latest one seen. */
function untimed(e: AnyEnvelope) {
  return { id: e.id, type: e.type, stream: e.stream, data: e.data, raw: e.raw ? Buffer.from(e.raw.bytes).toString('utf8') : null };
}

const servers: ReplayServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function server(opts: Parameters<typeof startCaptureReplayServer>[0]): Promise<ReplayServer> {
  const s = await startCaptureReplayServer(opts);
  servers.push(s);
  return s;
}

describe('Binance live adapter over the replay server', () => {
  it('yields exactly the events of the direct capture reader: same ids, same order, same payloads', async () => {
    const direct = await collect(captureEventSource(BINANCE_WS));
    const s = await server({ captures: BINANCE_WS, speed: 'max' });
    expect(s.venue).toBe('BINANCE');
    const client = replayClientFor(s);
    const live = await collect(client.events());
    await client.close();
    expect(live.length).toBe(direct.length);
    expect(live.map(comparable)).toEqual(direct.map(comparable));
    // Exchange times survive the socket; receive times are the adapter's own clock.
    const trade = (xs: AnyEnvelope[]) => xs.find((e) => e.type === 'TradeReported')!;
    expect(trade(live).eventTimeNs).toBe(trade(direct).eventTimeNs);
    expect(trade(live).receiveTimeNs).not.toBe(trade(direct).receiveTimeNs);
  });

  it('paces frames by the capture timestamps: at 50x the replay takes at least span/50', async () => {
    const text = fs.readFileSync(BINANCE_WS, 'utf8');
    const connect = Number(/<-> ([\d.]+)/.exec(text)![1]);
    const stamps = [...text.matchAll(/^([\d.]+): /gm)].map((m) => Number(m[1]));
    const spanMs = (stamps[stamps.length - 1]! - connect) * 1000;
    const feed = await openPaperFeed(BINANCE_WS, { speed: 50 });
    servers.push(feed.server);
    const t0 = performance.now();
    const evs = await collect(feed.client.events());
    const elapsed = performance.now() - t0;
    expect(evs.length).toBeGreaterThan(200);
    // A lower bound only: the replay may never run AHEAD of the recorded clock (upper bounds are for benches).
    expect(elapsed).toBeGreaterThanOrEqual((spanMs / 50) * 0.95);
    // Receive times of the adapter advance like the capture's, scaled: the first and last frame are span/50 apart.
    const recv = evs.filter((e) => e.type === 'BookDeltaApplied').map((e) => e.receiveTimeNs);
    expect(Number(recv[recv.length - 1]! - recv[0]!) / 1e6).toBeGreaterThan((spanMs / 50) * 0.5);
  });

  it('a client asking for a subset of the recorded streams gets only those', async () => {
    const s = await server({ captures: BINANCE_WS, speed: 'max' });
    const client = new BinanceMarketDataClient({ wsUrl: `${s.wsBaseUrl}/stream?streams=nknusdt@bookTicker/lrcbtc@bookTicker`, restUrl: s.httpBaseUrl });
    const evs = await collect(client.events());
    const expected = fs.readFileSync(BINANCE_WS, 'utf8').split('\n').filter((l) => /"stream":"(nknusdt|lrcbtc)@bookTicker"/.test(l)).length;
    expect(evs.filter((e) => e.type === 'QuoteUpdated').length).toBe(expected);
    expect(new Set(evs.map((e) => e.type))).toEqual(new Set(['InstrumentDefined', 'QuoteUpdated']));
  });

  it('serves each recorded REST answer once, then 404; unknown streams are refused', async () => {
    const s = await server({ captures: BINANCE_WS, speed: 'max' });
    const url = `${s.httpBaseUrl}/api/v3/depth?limit=1000&symbol=NKNUSDT`; // parameter order does not matter
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { lastUpdateId: number }).lastUpdateId).toBe(499869752);
    expect((await fetch(url)).status).toBe(404);
    const ws = new WebSocket(`${s.wsBaseUrl}/stream?streams=btcusdt@trade`);
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(1008);
  });

  it('a malformed frame from the venue ends the stream with an error naming the socket and frame number', async () => {
    const { dir: tmp, cleanup } = tmpDir();
    try {
      const lines = fs.readFileSync(BINANCE_WS, 'utf8').split('\n');
      lines[5] = lines[5]!.replace('"u":', '"u":"oops",');
      fs.writeFileSync(path.join(tmp, 'BINANCE.ws.1.0'), lines.join('\n'));
      fs.copyFileSync(path.join(dir, 'BINANCE.http.0.0'), path.join(tmp, 'BINANCE.http.0.0'));
      const s = await server({ captures: path.join(tmp, 'BINANCE.ws.1.0'), speed: 'max' });
      const client = replayClientFor(s);
      let err: unknown = null;
      try {
        await collect(client.events());
      } catch (e) {
        err = e;
      }
      expect(isTapedeckError(err)).toBe(true);
      if (!isTapedeckError(err)) return;
      expect(err.code).toBe('FRAME_JSON');
      // Frame 5 on the socket is capture line 6 (line 1 is the connection).
      expect(err.where).toMatchObject({ file: s.urlFor(s.connections[0]!.url), line: 5 });
      await client.close();
    } finally {
      cleanup();
    }
  });
});

describe('Kraken and Coinbase live adapters over the replay server', () => {
  // The two large captures cut to a prefix (every message type, all of Kraken's book snapshots): the same
  // sockets, subscriptions and checks event for event; the full captures are read in capture.test.ts.
  const short = tmpDir('td-live-prefix-');
  afterAll(() => short.cleanup());

  it('Coinbase (one connection, subscriptions sent by the client): exactly the capture reader events', async () => {
    const file = capturePrefix(path.join(dir, 'COINBASE.ws.28.0'), 2500, path.join(short.dir, 'coinbase'));
    const direct = await collect(captureEventSource(file));
    const feed = await openPaperFeed(file, { speed: 'max' });
    servers.push(feed.server);
    const live = await collect(feed.client.events());
    expect(live.map(comparable)).toEqual(direct.map(comparable));
  });

  it('the first message picks the recorded connection; one no recording sent is refused', async () => {
    const s = await server({ captures: findWsCaptures(dir, 'KRAKEN'), speed: 'max' });
    expect(s.connections.map((c) => JSON.parse(c.sent[0]!).subscription.name)).toEqual(['trade', 'ticker', 'book']);
    const ws = new WebSocket(s.urlFor('wss://ws.kraken.com'));
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    ws.send(JSON.stringify({ event: 'subscribe', pair: ['XBT/USD'], subscription: { name: 'trade' } }));
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(1008);
    // The recorded ticker subscription, keys in another order, gets the ticker recording.
    const sub = JSON.parse(s.connections[1]!.sent[0]!) as { event: string; pair: string[]; subscription: object };
    const ws2 = new WebSocket(s.urlFor('wss://ws.kraken.com'));
    const frames: string[] = [];
    ws2.on('message', (d) => frames.push(d.toString()));
    await new Promise<void>((resolve) => ws2.on('open', () => resolve()));
    ws2.send(JSON.stringify({ subscription: sub.subscription, pair: sub.pair, event: sub.event }));
    expect(await new Promise<number>((resolve) => ws2.on('close', (c) => resolve(c)))).toBe(1000);
    expect(frames.length).toBe(s.connections[1]!.frames);
    expect(frames.filter((f) => f.endsWith(',"ticker","XMR/USD"]')).length).toBeGreaterThan(0);
  });

  it('Kraken (three connections): per connection the same events in the same order, and the same set overall', async () => {
    const kraken = path.join(short.dir, 'kraken');
    capturePrefix(path.join(dir, 'KRAKEN.ws.50.0'), 1200, kraken);
    for (const f of ['KRAKEN.ws.48.0', 'KRAKEN.ws.49.0']) fs.copyFileSync(path.join(dir, f), path.join(kraken, f));
    const files = findWsCaptures(kraken, 'KRAKEN');
    expect(files).toHaveLength(3);
    const direct = await collect(captureEventSource(files));
    const feed = await openPaperFeed(files, { speed: 'max' });
    servers.push(feed.server);
    const live = await collect(feed.client.events());
    expect(new Set(live.map((e) => e.id))).toEqual(new Set(direct.map((e) => e.id)));
    expect(live.length).toBe(direct.length);
    // Each channel travelled on its own socket, so its order is deterministic; across sockets it is the network's.
    // Trades and book levels carry their venue times; a ticker carries none and takes the latest venue time
    // seen on any socket, so its time depends on how the sockets interleaved.
    const channel = (e: AnyEnvelope): string => (e.type === 'BookSnapshotted' || e.type === 'BookDeltaApplied' ? 'book' : e.type);
    for (const c of ['TradeReported', 'QuoteUpdated', 'book']) {
      const view = c === 'QuoteUpdated' ? untimed : comparable;
      expect(live.filter((e) => channel(e) === c).map(view)).toEqual(direct.filter((e) => channel(e) === c).map(view));
    }
  });
});
