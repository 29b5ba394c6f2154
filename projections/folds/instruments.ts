/** The `instruments` read model, and the run portfolio's instrument table (scales, currencies). */
import { evolve as evolvePortfolio } from '../../domain/portfolio/portfolio.js';
import type { DomainEvent } from '../../domain/events/event.js';
import { toDec18 } from '../columns.js';
import { int, optStr, runFor, scaleOf, str, type Fold } from './state.js';

export const instrumentsFold: Fold = {
  name: 'instruments',
  types: ['InstrumentDefined'],
  fold(ctx, input) {
    const { ev, data: d } = input;
    const instrument = str(d, 'instrument');
    const ps = scaleOf(d, 'priceScale');
    const qs = scaleOf(d, 'qtyScale');
    ctx.instruments.set(instrument, {
      instrument, venue: str(d, 'venue'), symbol: str(d, 'symbol'), kind: str(d, 'kind'), base_currency: optStr(d, 'baseCurrency'),
      quote_currency: str(d, 'quoteCurrency'), price_scale: ps, qty_scale: qs,
      tick_size: toDec18(int(d, 'tickSizeTicks'), ps), lot_size: toDec18(int(d, 'lotSizeLots'), qs), position: ev.position,
    });
    const run = runFor(ctx, input);
    evolvePortfolio(run.portfolio, { type: 'InstrumentDefined', data: d } as DomainEvent);
  },
};
