/**
 * A seeded synthetic market for the simulated venues that trade a price (equities: the simulated Alpaca)
 * when no capture is given, and the kernel's simulated venue as a matcher without latency. (The prediction
 * markets' YES/NO book is common/synthetic-binary.ts.)
 *
 *   SyntheticMarket  per instrument a random walk of the mid on its tick, a quote around it and trades at the
 *                    touch, as catalogue events (QuoteUpdated, TradeReported) that the simulator feeds to the
 *                    matcher and renders in its venue's format; the same seed gives the same market
 *   SimMatcher       domain/venue/simulated.ts with immediate latency: commands and market events in, the
 *                    venue reports they cause out
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import { nextFloat, nextInt, seedPrng, type PrngState } from '../../../domain/core/prng.js';
import { makeEvent, type AnyEnvelope } from '../../../domain/events/envelope.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, step, stepMarket, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { EventIds, marketDataStream } from './frame.js';

// ---------------------------------------------------------------- synthetic market

export interface SyntheticInstrument {
  venue: string;
  instrument: string;
  priceScale: number;
  qtyScale: number;
  /** Starting mid, on the tick. */
  startTicks: number;
  tickTicks: number;
  /** Half the quoted spread, in ticks of `tickTicks` (default 1: a one-tick-each-side market around the mid). */
  halfSpread?: number;
  /** Bounds of the mid (a probability market stays inside (0, 1)). */
  minTicks?: number;
  maxTicks?: number;
  /** Quote and trade sizes are uniform in [minLots, maxLots]. */
  minLots: number;
  maxLots: number;
}

/**
 * A seeded market: each `step(nowNs)` moves one instrument (round robin) by −1, 0 or +1 tick, quotes around the
 * new mid, and with probability `tradeProbability` prints a trade at the bid or the ask. The same seed gives the
 * same sequence; time comes from the caller.
 */
export class SyntheticMarket {
  private readonly rng: PrngState;
  private readonly mids: number[];
  private readonly ids: EventIds;
  private turn = 0;
  private tradeNo = 0;

  constructor(readonly instruments: readonly SyntheticInstrument[], seed: number, private readonly tradeProbability = 0.5) {
    if (instruments.length === 0) throw new TapedeckError('USAGE', 'a synthetic market needs at least one instrument', { field: 'instruments' });
    this.rng = seedPrng(seed);
    this.mids = instruments.map((i) => i.startTicks);
    this.ids = new EventIds(`tapedeck/sim/${instruments[0]!.venue}`);
  }

  step(nowNs: bigint): TimedEvent[] {
    const k = this.turn++ % this.instruments.length;
    const ins = this.instruments[k]!;
    const half = (ins.halfSpread ?? 1) * ins.tickTicks;
    const lo = Math.max(ins.minTicks ?? half + ins.tickTicks, half + ins.tickTicks);
    const hi = ins.maxTicks ?? Number.MAX_SAFE_INTEGER - half;
    let mid = this.mids[k]! + (nextInt(this.rng, 3) - 1) * ins.tickTicks;
    mid = Math.min(hi, Math.max(lo, mid));
    this.mids[k] = mid;
    const size = (): number => ins.minLots + nextInt(this.rng, ins.maxLots - ins.minLots + 1);
    const bid = mid - half;
    const ask = mid + half;
    const out: TimedEvent[] = [];
    const base = { venue: ins.venue, instrument: ins.instrument, priceScale: ins.priceScale, qtyScale: ins.qtyScale };
    out.push(this.event('QuoteUpdated', ins, nowNs, { ...base, bidPriceTicks: bid, bidQtyLots: size(), askPriceTicks: ask, askQtyLots: size() }));
    if (nextFloat(this.rng) < this.tradeProbability) {
      const buy = nextInt(this.rng, 2) === 0;
      const tradeId = String(++this.tradeNo);
      out.push(this.event('TradeReported', ins, nowNs, { ...base, tradeId, priceTicks: buy ? ask : bid, qtyLots: size(), aggressor: buy ? 'buy' : 'sell' }));
    }
    return out;
  }

  private event(type: 'QuoteUpdated' | 'TradeReported', ins: SyntheticInstrument, nowNs: bigint, data: Record<string, unknown>): TimedEvent {
    return makeEvent({
      id: this.ids.content(`${type}:${ins.instrument}:${nowNs}:${JSON.stringify(data)}`), type, stream: marketDataStream(ins.instrument),
      eventTimeNs: nowNs, receiveTimeNs: nowNs, data: data as never,
    }) as AnyEnvelope as TimedEvent;
  }
}

// ---------------------------------------------------------------- matching

/** The kernel's simulated venue, with no latency: what a command or a market event causes, at once. */
export class SimMatcher {
  readonly state: SimVenueState;
  private readonly out: VenueReport[] = [];

  constructor(config: SimVenueConfigInput) {
    this.state = initialState(config);
  }

  command(command: VenueCommand, nowNs: bigint): VenueReport[] {
    this.out.length = 0;
    step(this.state, { kind: 'command', command, sentNs: nowNs }, this.out);
    return this.out.splice(0);
  }

  market(event: TimedEvent): VenueReport[] {
    this.out.length = 0;
    stepMarket(this.state, event, this.out);
    return this.out.splice(0);
  }
}
