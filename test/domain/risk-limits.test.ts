/**
 * Risk limits at their edges: the daily-loss day (rollover at the configured offset, before and after
 * the epoch, fees counted per day), orders while a position is already over its limit (reducing ones
 * pass, anything that adds is refused), and the exact boundaries of each comparison.
 */
import { describe, expect, it } from 'vitest';
import type { TimedEvent } from '../../domain/events/event.js';
import { parseRiskConfig, type RiskConfigInput } from '../../domain/risk/config.js';
import { dailyPnl, riskDecider, type PlaceOrderFacts, type RiskOutcome, type RiskRequest } from '../../domain/risk/risk.js';
import { DeciderSpecification } from '../helpers/decider.js';
import { at, filled, intended, quote } from './builders.js';
import { market, order } from './risk-fixture.js';

const DAY = 86_400_000_000_000n;
const HOUR = 3_600_000_000_000n;

const mkt = market(quote(9_990, 10, 10_010, 10));

const place = (over: Partial<PlaceOrderFacts> = {}, t = 1_000n, m = mkt): RiskRequest => ({ intent: { kind: 'place', order: order(over) }, ctx: { eventTimeNs: t, market: m } });

/** An order intended, approved and filled in one fill at `t` (price, side, fee as given). */
function traded(id: string, side: 'buy' | 'sell', qtyLots: number, priceTicks: number, t: bigint, fee = 0n): TimedEvent[] {
  return [
    intended(id, { side, qtyLots, priceTicks }, t),
    at('RiskApproved', { orderId: id, checks: [] }, t),
    filled(id, qtyLots, priceTicks, 0, { side, fee, fillId: `${id}-f` }, t),
  ];
}
/** A round trip losing 60.00 realized at time t (bought 10 at 100.00, sold 10 at 94.00). */
const loss60 = (t: bigint): TimedEvent[] => [...traded(`b${t}`, 'buy', 10, 10_000, t), ...traded(`s${t}`, 'sell', 10, 9_400, t)];

const approved = (out: readonly RiskOutcome[]) => expect(out).toMatchObject([{ type: 'RiskApproved', data: { orderId: 'n1' } }]);
const deniedWith = (code: string) => (out: readonly RiskOutcome[]) => expect(out).toMatchObject([{ type: 'RiskDenied', data: { orderId: 'n1', code } }]);
const spec = (cfg: RiskConfigInput) => DeciderSpecification.for(riskDecider(parseRiskConfig(cfg)));

describe('DAILY_LOSS: the trading day', () => {
  const limit = spec({ maxDailyLoss: '50' });

  it('a realized loss counts for the rest of its day, and no longer once a new day starts', () => {
    limit.given(loss60(1_000n)).when(place({}, 2_000n)).then(deniedWith('DAILY_LOSS'));
    limit.given(loss60(1_000n)).when(place({}, DAY - 1n)).then(deniedWith('DAILY_LOSS'));
    // Next day, before any event of that day: yesterday's realized loss is not today's.
    limit.given(loss60(1_000n)).when(place({}, DAY)).then(approved);
    // A timer on the new day rolls it: realized so far becomes the day's start.
    limit.given([...loss60(1_000n), at('TimerFired', { timerId: 't', scheduledNs: DAY + 5n }, DAY + 5n)]).when(place({}, DAY + 6n)).then(approved);
    // A later event of the SAME day does not roll it: the loss still counts.
    limit.given([...loss60(1_000n), at('TimerFired', { timerId: 't', scheduledNs: DAY - 10n }, DAY - 10n)]).when(place({}, DAY - 5n)).then(deniedWith('DAILY_LOSS'));
  });

  it('a loss on the new day counts from the new day\'s start only', () => {
    // Day 0: −60 (over). Day 1: −30 (under 50 on its own) → approved; another −30 the same day → −60 → denied.
    const day1 = [...traded('b1', 'buy', 10, 10_000, DAY + 1n), ...traded('s1', 'sell', 10, 9_700, DAY + 1n)];
    limit.given([...loss60(1_000n), ...day1]).when(place({}, DAY + 2n)).then(approved);
    const more = [...traded('b2', 'buy', 10, 10_000, DAY + 3n), ...traded('s2', 'sell', 10, 9_700, DAY + 3n)];
    limit.given([...loss60(1_000n), ...day1, ...more]).when(place({}, DAY + 4n)).then(deniedWith('DAILY_LOSS'));
  });

  it('the day starts at the configured offset, also for times before it (negative day numbers)', () => {
    const shifted = spec({ maxDailyLoss: '50', dayStartOffsetNs: String(HOUR) });
    // Loss at 00:00:00.000001 is on the day that started at 01:00 the day before (day −1).
    shifted.given(loss60(1_000n)).when(place({}, HOUR - 1n)).then(deniedWith('DAILY_LOSS'));
    shifted.given(loss60(1_000n)).when(place({}, HOUR)).then(approved);
    // A loss at 01:00 exactly is on the new day, through 00:59:59.999… of the next.
    shifted.given(loss60(HOUR)).when(place({}, DAY + HOUR - 1n)).then(deniedWith('DAILY_LOSS'));
    shifted.given(loss60(HOUR)).when(place({}, DAY + HOUR)).then(approved);
    // Negative times: −DAY+HOUR is the first instant of day −1; one nanosecond earlier is day −2.
    shifted.given(loss60(-DAY + HOUR)).when(place({}, -1n)).then(deniedWith('DAILY_LOSS'));
    shifted.given(loss60(-DAY + HOUR - 1n)).when(place({}, HOUR - 1n)).then(approved);
  });

  it('fees paid today count toward the loss; yesterday\'s do not', () => {
    // Flat after a round trip at the same price, but 25.00 + 25.01 in fees (fee scale 2) = −50.01.
    const fees = (t: bigint): TimedEvent[] => [...traded(`fb${t}`, 'buy', 10, 10_000, t, 2_500n), ...traded(`fs${t}`, 'sell', 10, 10_000, t, 2_501n)];
    limit.given(fees(1_000n)).when(place({}, 2_000n)).then(deniedWith('DAILY_LOSS'));
    limit.given(fees(1_000n)).when(place({}, DAY)).then(approved);
    // Exactly at the limit (−50.00) is reached: the comparison is "≤ −limit".
    const exact = [...traded('xb', 'buy', 10, 10_000, 1_000n, 2_500n), ...traded('xs', 'sell', 10, 10_000, 1_000n, 2_500n)];
    limit.given(exact).when(place({}, 2_000n)).then(deniedWith('DAILY_LOSS'));
    const under = [...traded('ub', 'buy', 10, 10_000, 1_000n, 2_500n), ...traded('us', 'sell', 10, 10_000, 1_000n, 2_499n)];
    limit.given(under).when(place({}, 2_000n)).then(approved);
  });

  it('dailyPnl: realized today + unrealized at the mark − fees today, at money scale', () => {
    // Bought 10 at 105.00 (fee 1.00), mid 100.00: unrealized −50.00, fee −1.00.
    limit.given(traded('a', 'buy', 10, 10_500, 1_000n, 100n)).thenState((s) => {
      expect(dailyPnl(s, mkt, 2_000n)).toBe(-5_100_000_000n);
      // Next day: the open position's unrealized still counts, the fee was yesterday's.
      expect(dailyPnl(s, mkt, DAY)).toBe(-5_000_000_000n);
      // No market price: the last fill's price marks it (no unrealized at 105.00).
      expect(dailyPnl(s, market(), 2_000n)).toBe(-100_000_000n);
    });
    // A loss-making position being reduced always passes, even over the limit.
    limit.given(traded('a', 'buy', 10, 10_500, 1_000n, 100n)).when(place({ side: 'sell', qtyLots: 10 }, 2_000n)).then(approved);
    limit.given(traded('a', 'buy', 10, 10_500, 1_000n, 100n)).when(place({ side: 'sell', qtyLots: 11 }, 2_000n)).then(deniedWith('DAILY_LOSS'));
  });
});

describe('POSITION_LIMIT while the position is already over it', () => {
  // 8 lots long against a 5-lot limit (the limit was lowered, or fills exceeded it).
  const over = spec({ defaults: { maxPositionLots: 5 } });
  const long8 = traded('a', 'buy', 8, 10_000, 0n);
  const short8 = traded('a', 'sell', 8, 10_000, 0n);

  it('a reducing order passes, whole or partial', () => {
    over.given(long8).when(place({ side: 'sell', qtyLots: 2 })).then(approved);
    over.given(long8).when(place({ side: 'sell', qtyLots: 8 })).then(approved);
    over.given(short8).when(place({ side: 'buy', qtyLots: 3 })).then(approved);
  });

  it('an order that crosses zero passes while the worst case does not grow, and is refused once it would', () => {
    // Selling 16 leaves −8: the worst case stays 8, not above where it stands.
    over.given(long8).when(place({ side: 'sell', qtyLots: 16 })).then(approved);
    over.given(long8).when(place({ side: 'sell', qtyLots: 17 })).then(deniedWith('POSITION_LIMIT'));
    over.given(short8).when(place({ side: 'buy', qtyLots: 17 })).then(deniedWith('POSITION_LIMIT'));
  });

  it('anything that adds is refused, by one lot', () => {
    over.given(long8).when(place({ side: 'buy', qtyLots: 1 })).then(deniedWith('POSITION_LIMIT'));
    over.given(short8).when(place({ side: 'sell', qtyLots: 1 })).then(deniedWith('POSITION_LIMIT'));
  });

  it('working orders count: a sell that would reduce is refused when working sells already cover the position', () => {
    const working = [intended('w', { side: 'sell', qtyLots: 8, priceTicks: 10_000 }, 0n), at('RiskApproved', { orderId: 'w', checks: [] }, 0n)];
    // Long 8 with 8 working to sell: the short case is 0; selling 9 more makes it −9 (> 8 now).
    over.given([...long8, ...working]).when(place({ side: 'sell', qtyLots: 9 })).then(deniedWith('POSITION_LIMIT'));
    over.given([...long8, ...working]).when(place({ side: 'sell', qtyLots: 8 })).then(approved);
  });

  it('the limit itself is allowed, one more lot is not', () => {
    const long3 = traded('a', 'buy', 3, 10_000, 0n);
    over.given(long3).when(place({ side: 'buy', qtyLots: 2 })).then(approved);
    over.given(long3).when(place({ side: 'buy', qtyLots: 3 })).then(deniedWith('POSITION_LIMIT'));
  });

  it('under a REDUCING kill switch the same orders are judged by whether they reduce', () => {
    const reducing = at('KillSwitchChanged', { state: 'REDUCING', reason: 'loss', by: 'risk' });
    over.given([...long8, reducing]).when(place({ side: 'sell', qtyLots: 8 })).then(approved);
    over.given([...long8, reducing]).when(place({ side: 'sell', qtyLots: 9 })).then(deniedWith('KILL_SWITCH'));
    over.given([...short8, reducing]).when(place({ side: 'buy', qtyLots: 8 })).then(approved);
    over.given([...short8, reducing]).when(place({ side: 'sell', qtyLots: 1 })).then(deniedWith('KILL_SWITCH'));
  });
});
