/**
 * Risk and the venue's instrument rules: with `instrumentRules`, an order off the tick or lot grid that the
 * venue's InstrumentDefined recorded is denied INVALID_ORDER (a new order and a replace alike); without it,
 * or before any rules are known, nothing changes.
 */
import { describe, expect, it } from 'vitest';
import type { TimedEvent } from '../../domain/events/event.js';
import { initialMarketState } from '../../domain/market/book.js';
import { parseRiskConfig } from '../../domain/risk/config.js';
import * as risk from '../../domain/risk/risk.js';

const defined = {
  type: 'InstrumentDefined', eventTimeNs: 1n, receiveTimeNs: 1n,
  data: { venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', symbol: 'NKNUSDT', kind: 'spot', quoteCurrency: 'USDT', priceScale: 8, qtyScale: 8, tickSizeTicks: 10_000, lotSizeLots: 100_000_000 },
} as unknown as TimedEvent;
const order = (priceTicks: number, qtyLots: number) => ({
  kind: 'place' as const,
  order: { orderId: 'o1', venue: 'BINANCE', instrument: 'BINANCE:NKNUSDT', side: 'buy' as const, orderType: 'limit' as const, priceTicks, qtyLots, priceScale: 8, qtyScale: 8, reduceOnly: false },
});
const ctx = { eventTimeNs: 2n, market: initialMarketState() };

describe('risk: instrument rules from the venue', () => {
  it('given the venue\'s tick and lot, when an order is off either grid, then INVALID_ORDER; on the grid it passes', () => {
    const s = risk.evolve(risk.initialState(parseRiskConfig({ instrumentRules: true })), defined);
    expect(risk.check(s, order(35_210_000, 500_000_000), ctx)).toMatchObject({ approved: true });
    expect(risk.check(s, order(35_215_001, 500_000_000), ctx)).toMatchObject({ approved: false, code: 'INVALID_ORDER', detail: expect.stringMatching(/tick of 10000/) });
    expect(risk.check(s, order(35_210_000, 550_000_000), ctx)).toMatchObject({ approved: false, code: 'INVALID_ORDER', detail: expect.stringMatching(/lot of 100000000/) });
  });

  it('off by default, and nothing to check before the venue defined the instrument', () => {
    const off = risk.evolve(risk.initialState(parseRiskConfig({})), defined);
    expect(risk.check(off, order(35_215_001, 550_000_000), ctx)).toMatchObject({ approved: true });
    const unknown = risk.initialState(parseRiskConfig({ instrumentRules: true }));
    expect(risk.check(unknown, order(35_215_001, 550_000_000), ctx)).toMatchObject({ approved: true });
  });
});
