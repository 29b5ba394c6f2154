/**
 * A seeded synthetic binary-outcome market, for the simulated prediction-market venues (Kalshi, Polymarket)
 * when no recording is given: the outcome's probability takes a random walk, and around it sit two books of
 * bids, one for YES and one for NO (a NO bid at q is a YES ask at 1 − q: the complete set pays exactly 1).
 * Takers trade against the best levels now and then, in sizes that often leave a resting order partly filled.
 *
 * Prices are ticks at `priceScale` (2: cents), quantities lots at `qtyScale` (2: hundredths of a contract).
 * Everything is integer and comes from one seeded PRNG, so the same seed gives the same market, step for
 * step. Each venue's simulator turns a step into its own wire messages (Kalshi orderbook_delta, Polymarket
 * price_change) and into catalogue events for the kernel's simulated venue (`yesBook`: the YES instrument's
 * bids and asks).
 *
 * Invariant kept after every step: best YES bid + best NO bid < one (the books never cross).
 */
import { nextFloat, nextInt, seedPrng, type PrngState } from '../../../domain/core/prng.js';

export interface SyntheticPredictionOptions {
  seed?: number;
  /** Decimals of a price (2: cents). */
  priceScale?: number;
  /** Ticks of the price grid (1 at scale 2: one cent). */
  tickTicks?: number;
  /** Lots of one contract (100 at qty scale 2). */
  contractLots?: number;
  /** Starting probability of YES, in ticks (50 at scale 2: 0.50). */
  startTicks?: number;
  /** Levels per side. */
  levels?: number;
  /** Largest resting size per level, in contracts. */
  maxLevelContracts?: number;
  /** Largest taker trade, in contracts. */
  maxTradeContracts?: number;
  /** Chance per step that the probability moves one tick. */
  moveChance?: number;
  /** Chance per step of a taker trade. */
  tradeChance?: number;
}

export interface SyntheticTrade {
  /** 1, 2, 3... per market. */
  seq: number;
  /** The taker bought YES (lifted the YES ask = hit the best NO bid) or bought NO (hit the best YES bid). */
  takerOutcome: 'yes' | 'no';
  /** The trade's YES price in ticks (its NO price is one − this). */
  yesPriceTicks: number;
  qtyLots: number;
}

/** One level's new total on one side (0 removes the level), price in that side's own terms. */
export interface SyntheticLevelChange {
  outcome: 'yes' | 'no';
  priceTicks: number;
  qtyLots: number;
  /** Signed change from the level's previous total. */
  deltaLots: number;
}

export interface SyntheticStep {
  /** Level changes, in a deterministic order (YES then NO, by price). Trades' effects are included. */
  changes: SyntheticLevelChange[];
  trades: SyntheticTrade[];
}

export class SyntheticPredictionMarket {
  readonly priceScale: number;
  readonly tickTicks: number;
  readonly contractLots: number;
  /** 1.00 in ticks. */
  readonly oneTicks: number;
  /** The walk's centre, ticks. */
  fairTicks: number;
  /** price (YES terms) → lots; price (NO terms) → lots. */
  readonly yesBids = new Map<number, number>();
  readonly noBids = new Map<number, number>();
  private readonly rng: PrngState;
  private readonly o: Required<SyntheticPredictionOptions>;
  private tradeSeq = 0;

  constructor(options: SyntheticPredictionOptions = {}) {
    this.o = {
      seed: 1, priceScale: 2, tickTicks: 1, contractLots: 100, startTicks: 50, levels: 5, maxLevelContracts: 40, maxTradeContracts: 12,
      moveChance: 0.3, tradeChance: 0.6, ...options,
    };
    this.priceScale = this.o.priceScale;
    this.tickTicks = this.o.tickTicks;
    this.contractLots = this.o.contractLots;
    this.oneTicks = 10 ** this.priceScale;
    if (this.oneTicks % this.tickTicks !== 0) throw new Error('the tick must divide one');
    this.rng = seedPrng(this.o.seed);
    this.fairTicks = this.o.startTicks - (this.o.startTicks % this.tickTicks);
    this.reshape([]);
  }

  /** The YES instrument's book: bids = YES bids, asks = one − NO bids. Best first. */
  yesBook(): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const bids = [...this.yesBids].sort((a, b) => b[0] - a[0]);
    const asks = [...this.noBids].map(([p, q]): [number, number] => [this.oneTicks - p, q]).sort((a, b) => a[0] - b[0]);
    return { bids, asks };
  }

  /** The next step of the market. */
  step(): SyntheticStep {
    const before = { yes: new Map(this.yesBids), no: new Map(this.noBids) };
    const trades: SyntheticTrade[] = [];
    if (nextFloat(this.rng) < this.o.tradeChance) {
      const t = this.trade();
      if (t !== null) trades.push(t);
    }
    if (nextFloat(this.rng) < this.o.moveChance) {
      const lo = 5 * this.tickTicks;
      const hi = this.oneTicks - 5 * this.tickTicks;
      const next = this.fairTicks + (nextInt(this.rng, 2) === 0 ? -this.tickTicks : this.tickTicks);
      if (next >= lo && next <= hi) this.fairTicks = next;
    }
    this.reshape(trades);
    const changes: SyntheticLevelChange[] = [];
    for (const outcome of ['yes', 'no'] as const) {
      const now = outcome === 'yes' ? this.yesBids : this.noBids;
      const was = before[outcome];
      const prices = [...new Set([...was.keys(), ...now.keys()])].sort((a, b) => a - b);
      for (const p of prices) {
        const a = was.get(p) ?? 0;
        const b = now.get(p) ?? 0;
        if (a !== b) changes.push({ outcome, priceTicks: p, qtyLots: b, deltaLots: b - a });
      }
    }
    return { changes, trades };
  }

  private contracts(max: number): number {
    return (1 + nextInt(this.rng, max)) * this.contractLots;
  }

  /** A taker hits the best YES bid (buys NO) or lifts the YES ask (buys YES, hitting the best NO bid). */
  private trade(): SyntheticTrade | null {
    const takerOutcome = nextInt(this.rng, 2) === 0 ? 'yes' : 'no';
    const side = takerOutcome === 'yes' ? this.noBids : this.yesBids;
    if (side.size === 0) return null;
    const best = Math.max(...side.keys());
    const resting = side.get(best)!;
    const qty = Math.min(resting, this.contracts(this.o.maxTradeContracts));
    if (resting - qty === 0) side.delete(best);
    else side.set(best, resting - qty);
    return { seq: ++this.tradeSeq, takerOutcome, yesPriceTicks: takerOutcome === 'yes' ? this.oneTicks - best : best, qtyLots: qty };
  }

  /**
   * Re-centres both books on the fair price: the best YES bid one or two ticks below it, the best YES ask one
   * or two above; levels outside the window go, missing ones come, and each kept level's size changes now
   * and then. A level a trade just emptied stays empty for this step (the book shows the trade).
   */
  private reshape(trades: SyntheticTrade[]): void {
    const t = this.tickTicks;
    const bidTop = this.fairTicks - t * (1 + nextInt(this.rng, 2));
    const askTop = this.fairTicks + t * (1 + nextInt(this.rng, 2));
    const emptied = new Set(trades.map((x) => `${x.takerOutcome}:${x.yesPriceTicks}`));
    const fit = (book: Map<number, number>, top: number, outcome: 'yes' | 'no'): void => {
      const want = new Set<number>();
      for (let k = 0; k < this.o.levels; k++) {
        const p = top - k * t;
        if (p >= t) want.add(p);
      }
      for (const p of [...book.keys()]) if (!want.has(p)) book.delete(p);
      for (const p of [...want].sort((a, b) => a - b)) {
        const yesPrice = outcome === 'yes' ? p : this.oneTicks - p;
        const hitNow = emptied.has(`${outcome === 'yes' ? 'no' : 'yes'}:${yesPrice}`);
        if (!book.has(p)) {
          if (!hitNow) book.set(p, this.contracts(this.o.maxLevelContracts));
        } else if (nextFloat(this.rng) < 0.25) book.set(p, this.contracts(this.o.maxLevelContracts));
      }
    };
    fit(this.yesBids, bidTop, 'yes');
    fit(this.noBids, this.oneTicks - askTop, 'no');
  }
}
