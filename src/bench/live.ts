/**
 * `tapedeck bench live`: the order round trip of live trading over loopback, through ccxt, against the
 * simulated Binance: from the intent (OrderIntended, RiskApproved and OrderSubmitted appended durably, as the
 * engine does before any venue sees a command) to the venue's acknowledgement durable in the log
 * (OrderAccepted appended and synced). Baselines measured in the same run against the same server: a raw HTTP
 * GET (/api/v3/time) and a raw signed order POST (node's fetch, HMAC by hand), so the figure reads as
 * network + venue + ccxt + log.
 */
import crypto, { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envelopeToStored, type AnyEnvelope } from '../../domain/events/envelope.js';
import { openVenueSession } from '../runtime/live.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';
import { SimBinance } from '../venues/binance/sim.js';
import { CcxtExecutionClient } from '../venues/ccxt/execution.js';

export interface LiveBenchResult {
  orders: number;
  roundTripMs: { p50: number; p99: number; mean: number };
  /** The same with ccxt's own rate limiter off (what the limiter adds when orders come back to back). */
  roundTripNoCcxtLimiterMs: { p50: number; p99: number; mean: number };
  baselineRawHttpGetMs: { p50: number; p99: number };
  baselineRawSignedOrderMs: { p50: number; p99: number };
  durableAppendMs: { p50: number; p99: number };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
};
const mean = (xs: number[]): number => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export async function runLiveBench(o: { orders: number; capture: string }): Promise<LiveBenchResult> {
  const key = `bench-key-${randomUUID()}`;
  const secret = `bench-secret-${randomUUID()}`;
  const sim = await SimBinance.start({ capture: o.capture, speed: 1, loop: true, apiKey: key, apiSecret: secret });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'td-bench-live-'));
  const store = await EmbeddedEventStore.open(dir);
  const session = await openVenueSession({ venue: 'binance', baseUrl: sim.urls.rest, env: { BINANCE_API_KEY: key, BINANCE_API_SECRET: secret } });
  const client = new CcxtExecutionClient({ exchange: session.exchange, exchangeId: 'binance', venue: 'BINANCE', instruments: session.instruments, redact: session.redact, requestsPerSecond: 1000 });
  const waiting = new Map<string, (e: AnyEnvelope) => void>();
  client.onReport((e) => {
    const id = (e.data as { orderId?: string }).orderId;
    if (id !== undefined && (e.type === 'OrderAccepted' || e.type === 'OrderRejected' || e.type === 'OrderStatusUnknown')) waiting.get(id)?.(e);
  });
  try {
    await client.connect();
    const stream = 'bench-live';
    const append = async (events: AnyEnvelope[]): Promise<void> => {
      await store.appendToStream(stream, events.map((e) => {
        const s = envelopeToStored(e);
        return { id: s.id, type: s.type, data: s.data, metadata: s.metadata };
      }), { expectedRevision: 'any' });
    };
    const env = (type: string, data: unknown): AnyEnvelope => ({ id: randomUUID(), type, schemaVersion: 1, stream, eventTimeNs: 0n, receiveTimeNs: 0n, causationId: null, correlationId: null, data }) as AnyEnvelope;
    const round: number[] = [];
    const roundNoLimiter: number[] = [];
    const appendOnly: number[] = [];
    const warmup = Math.min(20, o.orders);
    for (let i = 0; i < 2 * (o.orders + warmup); i++) {
      const second = i >= o.orders + warmup;
      if (second) session.exchange.enableRateLimit = false;
      const orderId = randomUUID();
      const spec = { venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', side: 'buy' as const, orderType: 'limit' as const, priceTicks: 1_000_000 + (i % 1_000_000), qtyLots: 1_000_000_000, priceScale: 8, qtyScale: 8, timeInForce: 'GTC' as const, postOnly: true, reduceOnly: false };
      const t0 = process.hrtime.bigint();
      await append([
        env('OrderIntended', { orderId, ...spec, decision: { strategyId: 'bench@1', strategyCodeHash: 'x', configHash: 'x', stateHash: 'x', causeEventId: 'x', causePosition: null } }),
        env('RiskApproved', { orderId, checks: [] }),
        env('OrderSubmitted', { orderId, venue: 'BINANCE', attempt: 1 }),
      ]);
      const tAppend = ms(t0);
      const acked = new Promise<AnyEnvelope>((resolve) => waiting.set(orderId, resolve));
      await client.send({ kind: 'SubmitOrder', orderId, ...spec });
      const ack = await acked;
      waiting.delete(orderId);
      await append([ack]);
      const k = second ? i - o.orders - warmup : i;
      if (k >= warmup) {
        (second ? roundNoLimiter : round).push(ms(t0));
        if (!second) appendOnly.push(tAppend);
      }
    }
    // Baselines against the same server, same run.
    const rawGet: number[] = [];
    const rawOrder: number[] = [];
    for (let i = 0; i < o.orders + warmup; i++) {
      let t0 = process.hrtime.bigint();
      await (await fetch(`${sim.urls.rest}/api/v3/time`)).arrayBuffer();
      if (i >= warmup) rawGet.push(ms(t0));
      const q = `symbol=NKNUSDT&side=BUY&type=LIMIT_MAKER&quantity=10&price=0.0${String(2_000_000 + i).padStart(7, '0')}&newClientOrderId=raw${i}${Date.now()}&timestamp=${Date.now()}`;
      const sig = crypto.createHmac('sha256', secret).update(q).digest('hex');
      t0 = process.hrtime.bigint();
      const r = await fetch(`${sim.urls.rest}/api/v3/order?${q}&signature=${sig}`, { method: 'POST', headers: { 'X-MBX-APIKEY': key } });
      await r.arrayBuffer();
      if (i >= warmup) rawOrder.push(ms(t0));
    }
    return {
      orders: round.length,
      roundTripMs: { p50: pct(round, 50), p99: pct(round, 99), mean: mean(round) },
      roundTripNoCcxtLimiterMs: { p50: pct(roundNoLimiter, 50), p99: pct(roundNoLimiter, 99), mean: mean(roundNoLimiter) },
      baselineRawHttpGetMs: { p50: pct(rawGet, 50), p99: pct(rawGet, 99) },
      baselineRawSignedOrderMs: { p50: pct(rawOrder, 50), p99: pct(rawOrder, 99) },
      durableAppendMs: { p50: pct(appendOnly, 50), p99: pct(appendOnly, 99) },
    };
  } finally {
    await client.close();
    await session.close();
    await store.close();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
