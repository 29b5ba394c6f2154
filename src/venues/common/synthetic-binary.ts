/**
 * A seeded synthetic binary-outcome market for the simulated prediction-market venues (Polymarket,
 * Kalshi) when no capture is given: the outcome's probability walks randomly on the tick grid, and a
 * book of YES and NO is built around it. The two books are one market seen from both sides: NO bids are
 * 1 − YES asks and NO asks are 1 − YES bids, so YES bid + NO bid < 1 always (no free complete set).
 *
 * Everything is integer ticks and lots (the venue picks the scales); the same seed gives the same walk.
 */
import { nextFloat, nextInt, seedPrng, type PrngState } from '../../../domain/core/prng.js';

/** [priceTicks, qtyLots], best first. */
export type Level = [number, number];

export interface BinaryBook {
  bids: Level[];
  asks: Level[];
}

export interface BinaryMarketStep {
  /** Step number from 0. */
  n: number;
  /** The walk's probability of YES, in ticks of the price scale (payoutTicks = certainty). */
  probTicks: number;
  yes: BinaryBook;
  no: BinaryBook;
  /** A trade printed at this step (on YES), or null. */
  trade: { priceTicks: number; qtyLots: number; aggressor: 'buy' | 'sell' } | null;
}

export interface SyntheticBinaryOptions {
  seed: number;
  /** The price of certainty (1 at the price scale: 10_000 at scale 4). */
  payoutTicks: number;
  /** The price grid (0.01 = 100 at scale 4). */
  tickTicks: number;
  /** Where the probability starts (default: half the payout, on the grid). */
  startTicks?: number;
  /** Levels per side (default 5). */
  levels?: number;
  /** Size of a level: between 1 and 4 times this (default 100 lots). */
  sizeLots: number;
  /** Half the YES spread, in ticks of the grid (default 1: bid and ask one grid step from the mid). */
  halfSpreadSteps?: number;
  /** Chance per step that the walk moves one grid step (default 0.5, up or down evenly). */
  moveProbability?: number;
  /** Chance per step of a printed trade (default 0.3). */
  tradeProbability?: number;
}

export class SyntheticBinaryMarket {
  private readonly rng: PrngState;
  private probTicks: number;
  private n = 0;
  private readonly o: Required<SyntheticBinaryOptions>;

  constructor(options: SyntheticBinaryOptions) {
    const grid = options.tickTicks;
    if (!(Number.isSafeInteger(grid) && grid > 0 && options.payoutTicks % grid === 0 && options.payoutTicks / grid >= 10)) {
      throw new Error(`synthetic market: the payout (${options.payoutTicks}) must be at least 10 grid steps of ${grid}`);
    }
    const start = options.startTicks ?? Math.round(options.payoutTicks / 2 / grid) * grid;
    this.o = {
      levels: 5, halfSpreadSteps: 1, moveProbability: 0.5, tradeProbability: 0.3, ...options, startTicks: start,
    };
    this.rng = seedPrng(options.seed);
    this.probTicks = start;
  }

  /** The next step of the walk and the books around it. */
  step(): BinaryMarketStep {
    const { tickTicks: g, payoutTicks: one, halfSpreadSteps: h } = this.o;
    if (this.n > 0 && nextFloat(this.rng) < this.o.moveProbability) {
      const up = nextInt(this.rng, 2) === 1;
      const lo = (h + 1) * g;
      const hi = one - (h + 1) * g;
      this.probTicks = Math.min(hi, Math.max(lo, this.probTicks + (up ? g : -g)));
    }
    const yesBids: Level[] = [];
    const yesAsks: Level[] = [];
    for (let i = 0; i < this.o.levels; i++) {
      const bid = this.probTicks - (h + i) * g;
      const ask = this.probTicks + (h + i) * g;
      if (bid >= g) yesBids.push([bid, this.size()]);
      if (ask <= one - g) yesAsks.push([ask, this.size()]);
    }
    const no: BinaryBook = {
      bids: yesAsks.map(([p, q]) => [one - p, q]),
      asks: yesBids.map(([p, q]) => [one - p, q]),
    };
    let trade: BinaryMarketStep['trade'] = null;
    if (nextFloat(this.rng) < this.o.tradeProbability) {
      const buy = nextInt(this.rng, 2) === 1;
      const top = buy ? yesAsks[0] : yesBids[0];
      if (top !== undefined) trade = { priceTicks: top[0], qtyLots: Math.max(1, Math.floor(top[1] / 4)), aggressor: buy ? 'buy' : 'sell' };
    }
    return { n: this.n++, probTicks: this.probTicks, yes: { bids: yesBids, asks: yesAsks }, no, trade };
  }

  private size(): number {
    return this.o.sizeLots * (1 + nextInt(this.rng, 4));
  }
}
