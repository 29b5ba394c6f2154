/**
 * A seeded generator of synthetic L2 market data for one instrument: an instrument definition, a book
 * snapshot, then book deltas and trades around a random-walk mid. Deterministic for a seed; generated
 * lazily, so memory stays flat however many events are asked for. Used by the kernel benchmark and the
 * kernel's property tests. Envelopes are built directly (ids name-based), without per-event validation.
 */
import { uuidFromName } from '../../domain/core/sha256.js';
import { nextInt, seedPrng } from '../../domain/core/prng.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';

export interface SyntheticL2Options {
  seed: number;
  events: number;
  venue?: string;
  symbol?: string;
  startNs?: bigint;
  /** Mean gap between events. */
  stepNs?: bigint;
  levels?: number;
  /** Share of events that are trades, in percent. */
  tradePct?: number;
  /** Reuse envelope ids from a counter instead of hashing (faster; ids stay unique within the run). */
  cheapIds?: boolean;
  /** Decimal places of prices (default 2: the mid starts at 50,000.00) and quantities (default 4). */
  priceScale?: number;
  qtyScale?: number;
  /** Starting mid in ticks. */
  midTicks?: number;
}

export function* syntheticL2(o: SyntheticL2Options): Generator<AnyEnvelope> {
  const venue = o.venue ?? 'SIMX';
  const symbol = o.symbol ?? 'BTCUSD';
  const instrument = `${venue}:${symbol}`;
  const levels = o.levels ?? 10;
  const PRICE_SCALE = o.priceScale ?? 2;
  const QTY_SCALE = o.qtyScale ?? 4;
  const tradePct = o.tradePct ?? 10;
  const stepNs = o.stepNs ?? 1_000_000n;
  let t = o.startNs ?? 1_700_000_000_000_000_000n;
  const rng = seedPrng(o.seed);
  const stream = `md-${instrument}`;
  const idPrefix = uuidFromName('synthetic-l2', `${o.seed}`).slice(0, 24);
  let n = 0;
  const id = (): string => (o.cheapIds ? idPrefix + (n++).toString(16).padStart(12, '0') : uuidFromName('synthetic-l2', `${o.seed}:${n++}`));
  const env = (type: string, data: unknown): AnyEnvelope =>
    ({ id: id(), type, schemaVersion: 1, stream, eventTimeNs: t, receiveTimeNs: t, causationId: null, correlationId: null, data }) as AnyEnvelope;

  let mid = o.midTicks ?? 5_000_000; // 50,000.00 at scale 2
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const qty = () => 1 + nextInt(rng, 50) * 100;
  yield env('InstrumentDefined', { venue, instrument, symbol, kind: 'spot', baseCurrency: 'BTC', quoteCurrency: 'USD', priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, tickSizeTicks: 1, lotSizeLots: 1 });
  for (let i = 1; i <= levels; i++) {
    bids.set(mid - i, qty());
    asks.set(mid + i, qty());
  }
  yield env('BookSnapshotted', {
    venue, instrument, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE,
    bids: [...bids].sort((a, b) => b[0] - a[0]), asks: [...asks].sort((a, b) => a[0] - b[0]),
  });
  let produced = 2;
  let tradeSeq = 0;
  while (produced < o.events) {
    t += stepNs / 2n + BigInt(nextInt(rng, Number(stepNs)));
    const r = nextInt(rng, 100);
    const bestBid = mid - 1;
    const bestAsk = mid + 1;
    if (r < tradePct) {
      const buy = (r & 1) === 0;
      const px = buy ? bestAsk : bestBid;
      const q = 1 + nextInt(rng, 20) * 10;
      yield env('TradeReported', { venue, instrument, tradeId: `${o.seed}-${++tradeSeq}`, priceTicks: px, qtyLots: q, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE, aggressor: buy ? 'buy' : 'sell' });
    } else if (r < tradePct + 5) {
      // The mid moves one tick: the book shifts, old touch levels go, new far levels come.
      const up = (r & 1) === 0;
      const changes: Array<{ side: 'buy' | 'sell'; priceTicks: number; qtyLots: number }> = [];
      if (up) {
        changes.push({ side: 'sell', priceTicks: mid + 1, qtyLots: 0 }, { side: 'buy', priceTicks: mid - levels, qtyLots: 0 });
        mid += 1;
        changes.push({ side: 'buy', priceTicks: mid - 1, qtyLots: qty() }, { side: 'sell', priceTicks: mid + levels, qtyLots: qty() });
      } else {
        changes.push({ side: 'buy', priceTicks: mid - 1, qtyLots: 0 }, { side: 'sell', priceTicks: mid + levels, qtyLots: 0 });
        mid -= 1;
        changes.push({ side: 'sell', priceTicks: mid + 1, qtyLots: qty() }, { side: 'buy', priceTicks: mid - levels, qtyLots: qty() });
      }
      yield env('BookDeltaApplied', { venue, instrument, changes, priceScale: PRICE_SCALE, qtyScale: QTY_SCALE });
    } else {
      const buy = (r & 1) === 0;
      const depth = 1 + nextInt(rng, levels);
      yield env('BookDeltaApplied', { venue, instrument, changes: [{ side: buy ? 'buy' : 'sell', priceTicks: buy ? mid - depth : mid + depth, qtyLots: qty() }], priceScale: PRICE_SCALE, qtyScale: QTY_SCALE });
    }
    produced++;
  }
}
