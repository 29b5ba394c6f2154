/**
 * End to end over real TCP: the OUCH execution client against the simulated NASDAQ (OUCH 4.2 over
 * SoupBinTCP in front of domain/venue/simulated.ts). Every event the client reports is checked against
 * the catalogue schema and applied to the pure order lifecycle, so an impossible transition fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TapedeckError } from '../../../domain/core/errors.js';
import { parsePayload, type AnyEnvelope } from '../../../domain/events/envelope.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import { decide, evolve, getOrder, initialState, type OrdersState } from '../../../domain/orders/lifecycle.js';
import { OuchExecutionClient, orderToken, type OuchAdapterStatus } from '../../../src/venues/nasdaq/ouch-adapter.js';
import { decodeVenueMessage } from '../../../src/venues/nasdaq/ouch42/codec.js';
import { SimNasdaq } from '../../../src/venues/nasdaq/sim-nasdaq.js';
import { SoupBinTcpClient } from '../../../src/venues/nasdaq/soupbintcp/client.js';
import { encodeMessage } from '../../../src/venues/nasdaq/itch/codec.js';
import type { ItchMessage } from '../../../src/venues/nasdaq/itch/messages.js';
import { ItchEventMapper } from '../../../src/venues/nasdaq/itch/to-events.js';
import { waitFor } from './helpers.js';

type Submit = Extract<VenueCommand, { kind: 'SubmitOrder' }>;

const FAST = { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 1000 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const AAPL = 'NASDAQ:AAPL';

function market(): TimedEvent[] {
  const t = nowNs();
  return [
    { type: 'InstrumentDefined', eventTimeNs: t, data: { venue: 'NASDAQ', instrument: AAPL, symbol: 'AAPL', kind: 'equity', quoteCurrency: 'USD', priceScale: 4, qtyScale: 0, tickSizeTicks: 1, lotSizeLots: 1 } },
    { type: 'QuoteUpdated', eventTimeNs: t, data: { venue: 'NASDAQ', instrument: AAPL, bidPriceTicks: 1_000_000, bidQtyLots: 500, askPriceTicks: 1_001_000, askQtyLots: 300, priceScale: 4, qtyScale: 0 } },
  ] as TimedEvent[];
}

function order(orderId: string, over: Partial<Submit> = {}): Submit {
  return {
    kind: 'SubmitOrder', orderId, venue: 'NASDAQ', instrument: AAPL, side: 'buy', orderType: 'limit', priceTicks: 10_000,
    qtyLots: 100, priceScale: 2, qtyScale: 0, timeInForce: 'DAY', postOnly: false, reduceOnly: false, ...over,
  };
}

/** The kernel's side, reduced to what this test needs: the order lifecycle and schema checks. */
class Ledger {
  readonly orders: OrdersState = initialState();
  readonly events: AnyEnvelope[] = [];
  readonly errors: string[] = [];

  intend(c: Submit): void {
    const { kind: _kind, ...spec } = c;
    this.apply({ type: 'OrderIntended', data: { ...spec, decision: { strategyId: 's', strategyCodeHash: 'h', configHash: 'h', stateHash: 'h', causeEventId: 'e', causePosition: null } } });
    this.apply({ type: 'RiskApproved', data: { orderId: c.orderId, checks: [] } });
    this.apply({ type: 'OrderSubmitted', data: { orderId: c.orderId, venue: 'NASDAQ', attempt: 1 } });
  }

  apply(e: { type: string; data: unknown }): void {
    const r = evolve(this.orders, e);
    if (r instanceof TapedeckError) this.errors.push(r.describe());
  }

  report = (e: AnyEnvelope): void => {
    this.events.push(e);
    try {
      parsePayload(e.type, e.data);
    } catch (err) {
      this.errors.push(`schema: ${(err as Error).message}`);
    }
    this.apply(e);
  };

  of(orderId: string, type?: string): AnyEnvelope[] {
    return this.events.filter((e) => (e.data as { orderId: string }).orderId === orderId && (type === undefined || e.type === type));
  }

  status(orderId: string): string | undefined {
    return getOrder(this.orders, orderId)?.status;
  }
}

async function setup(over: { sendTimeoutMs?: number } = {}) {
  const serverEvents: string[] = [];
  const sim = await SimNasdaq.start({ credentials: { trader: 'pw' }, ...FAST, onServerEvent: (e) => serverEvents.push(e.kind) });
  cleanups.push(() => sim.close());
  for (const e of market()) sim.feed(e);
  const ledger = new Ledger();
  const statuses: OuchAdapterStatus[] = [];
  const client = new OuchExecutionClient({
    port: sim.port, username: 'trader', password: 'pw', firm: 'TAPE', ...FAST, reconnect: { delayMs: 20, maxAttempts: 50 },
    queryTimeoutMs: 2000, sendTimeoutMs: over.sendTimeoutMs ?? 2000, onStatus: (s) => statuses.push(s),
  });
  client.onReport(ledger.report);
  cleanups.push(() => client.close());
  await client.connect();
  const send = async (c: VenueCommand) => {
    if (c.kind === 'SubmitOrder') ledger.intend(c);
    if (c.kind === 'ReplaceOrder') ledger.apply({ type: 'ReplaceRequested', data: { orderId: c.orderId, priceTicks: c.priceTicks, qtyLots: c.qtyLots } });
    if (c.kind === 'CancelOrder') ledger.apply({ type: 'CancelRequested', data: { orderId: c.orderId } });
    await client.send(c);
  };
  return { sim, client, ledger, statuses, send, serverEvents };
}

describe('orderToken', () => {
  it('is deterministic, at most 14 characters, and new for each replacement', () => {
    const t0 = orderToken('0b6e7a3e-1d1f-4a54-9d3e-8f1c2a3b4c5d');
    expect(t0).toBe(orderToken('0b6e7a3e-1d1f-4a54-9d3e-8f1c2a3b4c5d'));
    expect(t0).toMatch(/^[0-9A-Za-z]{14}$/);
    expect(orderToken('0b6e7a3e-1d1f-4a54-9d3e-8f1c2a3b4c5d', 1)).not.toBe(t0);
    expect(orderToken('0b6e7a3e-1d1f-4a54-9d3e-8f1c2a3b4c5d', 1).slice(0, 12)).toBe(t0.slice(0, 12));
    expect(orderToken('another-order')).not.toBe(t0);
    expect(() => orderToken('x', 62 * 62)).toThrow(TapedeckError);
  });
});

describe('OUCH execution client against the simulated NASDAQ', () => {
  it('maps submit, fill, replace, cancel and rejects to catalogue events with the OUCH bytes', async () => {
    const { client, ledger, send } = await setup();
    // Rests below the ask.
    await send(order('rest-1'));
    await waitFor('rest-1 accepted', () => ledger.of('rest-1', 'OrderAccepted').length === 1);
    const acc = ledger.of('rest-1', 'OrderAccepted')[0]!;
    expect(acc.raw?.format).toBe('ouch42');
    const accMsg = decodeVenueMessage(acc.raw!.bytes);
    expect(accMsg).toMatchObject({ kind: 'Accepted', orderToken: orderToken('rest-1'), side: 'B', shares: 100, stock: 'AAPL', priceTicks: 1_000_000, firm: 'TAPE', timeInForceSeconds: 99_998 });
    expect(acc.data).toEqual({ orderId: 'rest-1', venueOrderId: (accMsg as { orderReferenceNumber: bigint }).orderReferenceNumber.toString() });

    // Marketable IOC: takes 200 of the 300 offered at 100.10.
    await send(order('take-1', { priceTicks: 10_010, qtyLots: 200, timeInForce: 'IOC' }));
    await waitFor('take-1 filled', () => ledger.status('take-1') === 'filled');
    const fill = ledger.of('take-1', 'OrderFilled')[0]!;
    const exec = decodeVenueMessage(fill.raw!.bytes);
    expect(exec.kind).toBe('Executed');
    expect(fill.data).toMatchObject({
      instrument: AAPL, side: 'buy', priceTicks: 10_010, priceScale: 2, qtyLots: 200, qtyScale: 0, liquidity: 'taker', leavesLots: 0,
      fillId: `NASDAQ-${(exec as { matchNumber: bigint }).matchNumber}-B`,
    });

    // Replace: a new price and size, under a new token.
    await send({ kind: 'ReplaceOrder', orderId: 'rest-1', venue: 'NASDAQ', instrument: AAPL, priceTicks: 10_001, qtyLots: 150 });
    await waitFor('rest-1 replaced', () => ledger.of('rest-1', 'OrderReplaced').length === 1);
    expect(ledger.of('rest-1', 'OrderReplaced')[0]!.data).toMatchObject({ orderId: 'rest-1', priceTicks: 10_001, qtyLots: 150 });
    expect(decodeVenueMessage(ledger.of('rest-1', 'OrderReplaced')[0]!.raw!.bytes)).toMatchObject({
      kind: 'Replaced', previousOrderToken: orderToken('rest-1', 0), replacementOrderToken: orderToken('rest-1', 1), shares: 150, priceTicks: 1_000_100,
    });

    // Cancel the whole order.
    await send({ kind: 'CancelOrder', orderId: 'rest-1', venue: 'NASDAQ', instrument: AAPL });
    await waitFor('rest-1 canceled', () => ledger.status('rest-1') === 'canceled');
    expect(ledger.of('rest-1', 'OrderCanceled')[0]!.data).toMatchObject({ canceledLots: 150, reason: 'user requested cancel' });

    // Unknown stock and a crossing post-only order: rejected with the OUCH reason code.
    await send(order('bad-stock', { instrument: 'NASDAQ:ZZZZ' }));
    await send(order('post-cross', { priceTicks: 10_010, postOnly: true }));
    await waitFor('two rejects', () => ledger.status('bad-stock') === 'rejected' && ledger.status('post-cross') === 'rejected');
    expect(ledger.of('bad-stock', 'OrderRejected')[0]!.data).toMatchObject({ venueCode: 'S', reason: 'invalid stock' });
    expect(ledger.of('post-cross', 'OrderRejected')[0]!.data).toMatchObject({ venueCode: 'O' });

    // The venue's view, after catching up.
    expect(await client.queryOrder('take-1')).toMatchObject({ state: 'filled', filledLots: 200, leavesLots: 0 });
    expect(await client.queryOrder('rest-1')).toMatchObject({ state: 'canceled' });
    expect(await client.queryOrder('never-sent')).toMatchObject({ state: 'not-found' });
    expect(ledger.errors).toEqual([]);
    expect(new Set(ledger.events.map((e) => e.id)).size).toBe(ledger.events.length);
  });

  it('refuses what OUCH cannot carry before sending it', async () => {
    const { client } = await setup();
    await expect(client.send(order('frac', { priceTicks: 100_000_001, priceScale: 6 }))).rejects.toMatchObject({ code: 'OUCH_PRICE' });
    await expect(client.send(order('half', { qtyLots: 15, qtyScale: 1 }))).rejects.toMatchObject({ code: 'OUCH_QTY' });
    await expect(client.send(order('other', { venue: 'BINANCE' }))).rejects.toMatchObject({ code: 'VENUE_MISMATCH' });
    await expect(client.send({ kind: 'CancelOrder', orderId: 'nope', venue: 'NASDAQ', instrument: AAPL })).rejects.toMatchObject({ code: 'OUCH_UNKNOWN_ORDER' });
  });

  it('a dropped connection: unanswered commands become OrderStatusUnknown, then the replay resolves them, with no gap and no duplicate', async () => {
    const { sim, client, ledger, statuses, send } = await setup();
    await send(order('x1'));
    await send(order('y1', { qtyLots: 80 }));
    await waitFor('both accepted', () => ledger.status('x1') === 'accepted' && ledger.status('y1') === 'accepted');

    // The venue is slow: the cancel reaches it but waits; then the line drops.
    sim.hold(true);
    await send({ kind: 'CancelOrder', orderId: 'x1', venue: 'NASDAQ', instrument: AAPL });
    await waitFor('the cancel queued at the venue', () => sim.heldCount === 1);
    const seqBeforeDrop = client.nextSequenceNumber;
    sim.soup.dropConnections();
    await waitFor('OrderStatusUnknown for x1', () => ledger.of('x1', 'OrderStatusUnknown').length === 1);
    expect(ledger.status('x1')).toBe('unknown');
    expect(ledger.of('y1', 'OrderStatusUnknown')).toEqual([]); // nothing of y1's was unanswered

    // While we are away: the venue cancels x1 and a trade through 100.00 fills 50 of y1 (x1 is gone by then).
    sim.hold(false);
    sim.feed({ type: 'TradeReported', eventTimeNs: nowNs(), data: { venue: 'NASDAQ', instrument: AAPL, tradeId: 't1', priceTicks: 999_900, qtyLots: 50, priceScale: 4, qtyScale: 0, aggressor: 'sell' } } as TimedEvent);
    await waitFor('reconnected', () => statuses.filter((s) => s.kind === 'loggedIn').length === 2, 5000);
    await waitFor('x1 canceled and y1 partly filled', () => ledger.status('x1') === 'canceled' && ledger.of('y1', 'OrderFilled').length === 1);
    const relogin = statuses.filter((s) => s.kind === 'loggedIn')[1] as { sequenceNumber: number };
    expect(relogin.sequenceNumber).toBe(seqBeforeDrop);
    expect(ledger.of('y1', 'OrderFilled')[0]!.data).toMatchObject({ qtyLots: 50, leavesLots: 30, liquidity: 'maker', priceTicks: 10_000 });

    // Life goes on after the reconnect.
    await send(order('z1', { side: 'sell', priceTicks: 10_020 }));
    await waitFor('z1 accepted', () => ledger.status('z1') === 'accepted');
    expect(await client.queryOrder('x1')).toMatchObject({ state: 'canceled', filledLots: 0 });
    expect(await client.queryOrder('y1')).toMatchObject({ state: 'open', filledLots: 50, leavesLots: 30 });

    // Every venue message became exactly one event, in session order: no gap, no duplicate.
    const venueEvents = ledger.events.filter((e) => e.raw !== undefined);
    const ids = ledger.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(venueEvents.length).toBe(sim.soup.lastSequenceNumber);
    for (let i = 0; i < venueEvents.length; i++) expect([...venueEvents[i]!.raw!.bytes]).toEqual([...sim.soup.message(i + 1)!]);
    expect(ledger.errors).toEqual([]);
  });

  it('a command lost on the way: unknown, then the query says not-found and the lifecycle closes the order', async () => {
    const { sim, client, ledger, statuses, send } = await setup();
    sim.hold(true);
    await send(order('lost-1'));
    await waitFor('queued at the venue', () => sim.heldCount === 1);
    sim.hold(false, { discard: true }); // the network ate it
    sim.soup.dropConnections();
    await waitFor('unknown', () => ledger.status('lost-1') === 'unknown');
    await waitFor('reconnected', () => statuses.filter((s) => s.kind === 'loggedIn').length === 2, 5000);
    const answer = await client.queryOrder('lost-1');
    expect(answer).toMatchObject({ state: 'not-found' });
    const resolution = decide(getOrder(ledger.orders, 'lost-1'), 'lost-1', { kind: 'ResolveStatus', status: answer });
    expect(resolution).not.toBeInstanceOf(TapedeckError);
    for (const e of resolution as Array<{ type: string; data: unknown }>) ledger.apply(e);
    expect(ledger.status('lost-1')).toBe('rejected');
    expect(ledger.errors).toEqual([]);
  });

  it('refuses to send while the venue stays unreachable, naming the order', async () => {
    const { sim, client } = await setup({ sendTimeoutMs: 150 });
    await sim.close();
    await waitFor('the client to notice', () => !(client as unknown as { client: { loggedIn: boolean } }).client.loggedIn, 3000);
    const err = await client.send(order('late-1')).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TapedeckError);
    expect((err as TapedeckError).code).toBe('VENUE_DISCONNECTED');
    expect((err as TapedeckError).message).toContain('late-1');
  });

  it('a venue restarted with a fresh session: VenueSessionReset, new orders refused until reconciled, old orders not guessed', async () => {
    const { sim, client, ledger, send, statuses } = await setup();
    await send(order('rest-1'));
    await waitFor('rest-1 accepted', () => ledger.status('rest-1') === 'accepted');
    await sim.restart({ session: 'SIMDAY2' });
    await waitFor('the reset', () => ledger.events.some((e) => e.type === 'VenueSessionReset'), 4000);
    expect(ledger.events.find((e) => e.type === 'VenueSessionReset')!.data).toEqual({
      venue: 'NASDAQ', previousSession: 'SIMNASDAQ', session: 'SIMDAY2', reason: 'new SoupBinTCP session: the server is in session SIMDAY2, was SIMNASDAQ',
    });
    expect(statuses.some((st) => st.kind === 'sessionReset')).toBe(true);
    // Nothing new goes out before the books are reconciled; a cancel may.
    const refused = await client.send(order('new-1')).then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'VENUE_NOT_SENT', message: 'EnterOrder for order new-1 not sent: the NASDAQ session was reset and ledger and venue are not reconciled yet' });
    await client.send({ kind: 'CancelOrder', orderId: 'rest-1', venue: 'NASDAQ', instrument: AAPL });
    // OUCH cannot tell what became of an order of the old session: no drop copy, no answer (never "not found").
    await expect(client.queryOrder('rest-1')).rejects.toMatchObject({ code: 'VENUE_QUERY_UNAVAILABLE' });
    const report = await client.reconciliationReport({ orderIds: ['rest-1'], instruments: [AAPL] });
    expect(report).toMatchObject({ positions: null, positionsComplete: false, openOrdersComplete: false, orders: [] });
    // The venue's own record knows: the restart canceled the resting order.
    expect(sim.dropCopy().orders).toEqual([expect.objectContaining({ token: orderToken('rest-1'), state: 'canceled', filledShares: 0, openShares: 0 })]);
    client.reconciled();
    await send(order('new-2'));
    await waitFor('new-2 accepted in the new session', () => ledger.status('new-2') === 'accepted');
    // Event ids stay unique although the new session numbers its messages from 1 again.
    expect(new Set(ledger.events.map((e) => e.id)).size).toBe(ledger.events.length);
  });

  it('the simulator records undecodable client messages and keeps the session', async () => {
    const { sim, ledger, send } = await setup();
    const raw = new SoupBinTcpClient({ port: sim.port, username: 'trader', password: 'pw', sequenceNumber: 0, ...FAST }, { onSequenced: () => undefined });
    cleanups.push(() => raw.close());
    await raw.connect();
    raw.send(new Uint8Array([0x51, 1, 2, 3])); // 'Q': no such client message
    raw.send(new Uint8Array([0x4f, 1, 2])); // Enter Order, 3 bytes instead of 49
    await waitFor('two protocol errors', () => sim.protocolErrors.length === 2);
    expect(sim.protocolErrors.map((e) => e.code)).toEqual(['OUCH_UNKNOWN_TYPE', 'OUCH_LENGTH']);
    await send(order('after-garbage'));
    await waitFor('still trading', () => ledger.status('after-garbage') === 'accepted');
  });

  it('is fed ITCH: an order takes the liquidity ITCH messages put on the book, at the ITCH price', async () => {
    const { sim, ledger, send } = await setup();
    const now = nowNs();
    const midnight = now - (now % 86_400_000_000_000n);
    const ts = Number(now - midnight);
    const head = { stockLocate: 7, trackingNumber: 0, timestamp: ts };
    const itch: ItchMessage[] = [
      {
        messageType: 'R', ...head, stock: 'MSFT    ', marketCategory: 'Q', financialStatusIndicator: 'N', roundLotSize: 100, roundLotsOnly: 'N',
        issueClassification: 'C', issueSubType: 'Z ', authenticity: 'P', shortSaleThresholdIndicator: 'N', ipoFlag: 'N',
        luldReferencePriceTier: '1', etpFlag: 'N', etpLeverageFactor: 0, inverseIndicator: 'N',
      },
      { messageType: 'A', ...head, orderReferenceNumber: 1n, buySellIndicator: 'S', shares: 300, stock: 'MSFT    ', price: 4_200_500 },
      { messageType: 'A', ...head, orderReferenceNumber: 2n, buySellIndicator: 'S', shares: 100, stock: 'MSFT    ', price: 4_201_000 },
      { messageType: 'A', ...head, orderReferenceNumber: 3n, buySellIndicator: 'B', shares: 500, stock: 'MSFT    ', price: 4_199_000 },
    ] as ItchMessage[];
    const mapper = new ItchEventMapper({ fileId: 'ouch-adapter-test', sessionMidnightNs: midnight });
    itch.forEach((m, i) => {
      const e = mapper.map(m, encodeMessage(m), i);
      if (e) sim.feed(e as unknown as TimedEvent);
    });
    // Buy 350 up to 420.10: 300 at 420.05, then 50 at 420.10.
    await send(order('itch-buy', { instrument: 'NASDAQ:MSFT', priceTicks: 42_010, qtyLots: 350, timeInForce: 'IOC' }));
    await waitFor('itch-buy filled', () => ledger.status('itch-buy') === 'filled');
    const fills = ledger.of('itch-buy', 'OrderFilled').map((e) => e.data as { priceTicks: number; qtyLots: number; priceScale: number });
    expect(fills.map((f) => [f.qtyLots, f.priceTicks, f.priceScale])).toEqual([[300, 42_005, 2], [50, 42_010, 2]]);
    expect(ledger.errors).toEqual([]);
  });
});
