/** The `market_trades` read model, and the marks (pnl's unrealized side) that trades and quotes move. */
import { evolve as evolvePortfolio } from '../../domain/portfolio/portfolio.js';
import type { DomainEvent } from '../../domain/events/event.js';
import { MARKET_TRADES } from '../schema.js';
import { int, runIdOfStream, scaleOf, str, type Fold, type FoldContext, type RunState } from './state.js';

/** Moves an instrument's mark; marks the run's pnl dirty when it changed. */
export function evolveMarked(ctx: FoldContext, run: RunState, position: number, e: DomainEvent, instrument: string): void {
  const before = run.portfolio.marks.get(instrument);
  evolvePortfolio(run.portfolio, e);
  if (run.portfolio.marks.get(instrument) !== before) {
    run.markAsOf.set(instrument, position);
    ctx.dirtyOf(run).marks.add(instrument);
  }
}

export const tradesFold: Fold = {
  name: 'market_trades',
  types: ['TradeReported'],
  fold(ctx, { ev, data, eventTime, isRun }) {
    const instrument = str(data, 'instrument');
    const priceTicks = int(data, 'priceTicks');
    const qtyLots = int(data, 'qtyLots');
    const runId = isRun ? runIdOfStream(ev.stream) : null;
    ctx.rows(MARKET_TRADES).add(
      ev.position, runId, ev.stream, str(data, 'venue'), instrument, str(data, 'tradeId'), priceTicks, qtyLots,
      scaleOf(data, 'priceScale'), scaleOf(data, 'qtyScale'), typeof data.aggressor === 'string' ? data.aggressor : 'unknown',
      data.cross === true, eventTime,
    );
    if (isRun) {
      const run = ctx.runOf(ev.stream, ev.position, null);
      if (run.portfolio.marks.has(instrument)) evolveMarked(ctx, run, ev.position, { type: 'TradeReported', data } as DomainEvent, instrument);
    }
  },
};

export const quotesFold: Fold = {
  name: 'marks',
  types: ['QuoteUpdated'],
  runStreamsOnly: true,
  fold(ctx, { ev, data, meta }) {
    const correlation = typeof meta.$correlationId === 'string' ? meta.$correlationId : null;
    const run = ctx.runOf(ev.stream, ev.position, correlation);
    const instrument = str(data, 'instrument');
    // Quotes only move marks, and only for instruments the run holds.
    if (!run.portfolio.marks.has(instrument)) return;
    evolveMarked(ctx, run, ev.position, { type: 'QuoteUpdated', data } as DomainEvent, instrument);
  },
};
