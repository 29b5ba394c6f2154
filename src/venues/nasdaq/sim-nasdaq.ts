/**
 * A simulated NASDAQ on loopback: OUCH 4.2 over SoupBinTCP 3.0 in front of the kernel's pure
 * simulated venue (domain/venue/simulated.ts). It decodes the client's OUCH messages into
 * VenueCommands, steps the simulated venue with them and with market data (`feed`), and turns the
 * venue's reports into OUCH messages in the SoupBinTCP session, so a reconnecting client replays them.
 *
 * OUCH semantics kept here (OUCH 4.2 / 5.0 text as transcribed by Atomic Wire's Orchestra):
 * - the order token is the order's identity; a duplicate token, or a replace/cancel of a token that is
 *   not live, is ignored; a replacement gets a new token and a new order reference number;
 * - the shares of Replace Order and Cancel Order are the order's new OPEN quantity (shares already
 *   executed are not counted), and Replaced's shares likewise; this reading is flagged in the README;
 * - a replace the venue refuses is answered with Rejected carrying the replacement token (no change).
 * Mapping to the venue: TIF 0 → IOC (FOK when minimum quantity = shares), 99998 → DAY, else GTC;
 * display 'P'/'L' → post-only; price 0x7FFFFFFF (market cross price) → a market order.
 * Timestamps are ns since UTC midnight of the venue clock (Nasdaq uses US Eastern midnight).
 *
 * Market data: `feed()` takes catalogue market events (e.g. from itch/to-events.ts) for `NASDAQ:<stock>` at price
 * scale 4 and quantity scale 0 (what an ITCH reader produces). Time is the wall clock in ns,
 * or `clockNs` when given; with latency configured, due reports are released by a timer.
 */
import { TapedeckError } from '../../../domain/core/errors.js';
import type { TimedEvent } from '../../../domain/events/event.js';
import type { VenueCommand } from '../../../domain/orders/commands.js';
import type { SimVenueConfigInput } from '../../../domain/venue/config.js';
import { initialState, nextDueNs, step, type SimVenueState, type VenueReport } from '../../../domain/venue/simulated.js';
import { decodeClientMessage, encodeOuch } from './ouch42/codec.js';
import {
  OUCH_MARKET_CROSS_PRICE_TICKS,
  OUCH_MAX_PRICE_TICKS,
  OUCH_PRICE_SCALE,
  TIF_IMMEDIATE_OR_CANCEL,
  TIF_MARKET_HOURS,
  type CancelOrder,
  type EnterOrder,
  type ModifyOrder,
  type OuchVenueMessage,
  type ReplaceOrder,
} from './ouch42/messages.js';
import { validateOuch } from './ouch42/validate.js';
import { SoupBinTcpServer, type SoupServerEvent } from './soupbintcp/server.js';

const NS_PER_DAY = 86_400_000_000_000n;
/** OUCH caps an order at 1,000,000 shares (Replace case 2 in the spec text). */
const MAX_SHARES = 999_999;
const MAX_ERRORS = 1000;
/** Bound on messages queued while held (fault injection). */
const MAX_HELD = 100_000;

export interface SimNasdaqOptions {
  host?: string;
  port?: number;
  session?: string;
  credentials: Record<string, string>;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Venue code in instruments and the simulated venue; default NASDAQ. */
  venue?: string;
  /** The simulated venue's settings (latency, fees, instrument rules); `venue` is set from above. */
  sim?: Omit<SimVenueConfigInput, 'venue'>;
  /** Venue clock, ns since the Unix epoch; default the wall clock. */
  clockNs?: () => bigint;
  onServerEvent?(event: SoupServerEvent): void;
}

/** What the simulator tracks per order, beyond the simulated venue: OUCH's view of it. */
interface OuchOrder {
  orderId: string;
  token: string;
  enter: EnterOrder;
  priceTicks: number;
  /** Open shares. */
  openShares: number;
  filledShares: number;
  orderReferenceNumber: bigint;
  /** Replaces and reductions sent to the venue, answered in order. */
  pending: Array<{ kind: 'replace'; msg: ReplaceOrder; filledAtSend: number } | { kind: 'reduce'; fromOpen: number; toOpen: number; filledAtSend: number }>;
  done: boolean;
}

export class SimNasdaq {
  private readonly state: SimVenueState;
  private readonly venue: string;
  private readonly orders = new Map<string, OuchOrder>();
  /** Every token ever used (live or not): OUCH tokens are day-unique. */
  private readonly tokens = new Map<string, OuchOrder>();
  private nextOrderReference = 1n;
  private nextMatchNumber = 1n;
  private lastNs = 0n;
  private held: Uint8Array[] | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly out: VenueReport[] = [];
  /** Client messages that could not be decoded or kept, for tests and logs (the latest MAX_ERRORS). */
  readonly protocolErrors: TapedeckError[] = [];

  private constructor(readonly soup: SoupBinTcpServer, private readonly options: SimNasdaqOptions) {
    this.venue = options.venue ?? 'NASDAQ';
    this.state = initialState({ ...(options.sim ?? {}), venue: this.venue });
  }

  static async start(options: SimNasdaqOptions): Promise<SimNasdaq> {
    let sim: SimNasdaq | null = null;
    const soup = await SoupBinTcpServer.listen({
      host: options.host,
      port: options.port,
      session: options.session ?? 'SIMNASDAQ',
      credentials: options.credentials,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      onUnsequenced: (payload) => sim?.receive(payload),
      onEvent: (e) => options.onServerEvent?.(e),
    });
    sim = new SimNasdaq(soup, options);
    return sim;
  }

  get port(): number {
    return this.soup.port;
  }

  /** Market data for the simulated venue (instruments `NASDAQ:<stock>`, price scale 4, qty scale 0). */
  feed(event: TimedEvent): void {
    this.stepWith({ kind: 'market', event });
  }

  /**
   * Fault injection: while held, client messages are queued unprocessed (the venue is slow); on
   * release they are processed in arrival order.
   */
  hold(held: boolean, options: { discard?: boolean } = {}): void {
    if (held) {
      this.held ??= [];
      return;
    }
    const queue = this.held ?? [];
    this.held = null;
    // Discarding plays a network that lost them: the venue never sees these messages.
    if (!options.discard) for (const p of queue) this.process(p);
  }

  /** Client messages received while held, not yet processed. */
  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.soup.close();
  }

  // ---------- client → venue ----------

  private receive(payload: Uint8Array): void {
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(payload.slice());
      else this.error(new TapedeckError('SIM_HELD_FULL', `more than ${MAX_HELD} client messages held; this one is dropped`));
      return;
    }
    this.process(payload);
  }

  private error(e: TapedeckError): void {
    if (this.protocolErrors.length >= MAX_ERRORS) this.protocolErrors.shift();
    this.protocolErrors.push(e);
  }

  private process(payload: Uint8Array): void {
    let msg;
    try {
      msg = decodeClientMessage(payload, { stream: 'sim-nasdaq client' });
    } catch (e) {
      // Nasdaq would end the session; the simulator keeps it and records why (tests look here).
      if (e instanceof TapedeckError) this.error(e);
      else throw e;
      return;
    }
    switch (msg.kind) {
      case 'EnterOrder':
        return this.enter(msg);
      case 'ReplaceOrder':
        return this.replace(msg);
      case 'CancelOrder':
        return this.cancel(msg);
      case 'ModifyOrder':
        return this.modify(msg);
      case 'TradeNow':
        return; // no crossing to trigger in the simulation
    }
  }

  private enter(m: EnterOrder): void {
    if (this.tokens.has(m.orderToken)) return; // duplicate token: ignored, as Nasdaq does
    const invalid = validateOuch(m);
    const reject = (reason: string): void => this.publish({ kind: 'Rejected', timestampNs: this.ouchTime(this.now()), orderToken: m.orderToken, reason });
    if (invalid) {
      const field = String(invalid.where?.field ?? '');
      return reject(field.endsWith('stock') ? 'S' : field.endsWith('display') ? 'D' : 'O');
    }
    if (m.shares === 0 || m.shares > MAX_SHARES) return reject('Z');
    const market = m.priceTicks === OUCH_MARKET_CROSS_PRICE_TICKS;
    if (!market && (m.priceTicks === 0 || m.priceTicks > OUCH_MAX_PRICE_TICKS)) return reject('X');
    if (m.minimumQuantity > m.shares) return reject('N');
    const o: OuchOrder = {
      orderId: m.orderToken, token: m.orderToken, enter: m, priceTicks: m.priceTicks, openShares: m.shares, filledShares: 0,
      orderReferenceNumber: 0n, pending: [], done: false,
    };
    this.orders.set(o.orderId, o);
    this.tokens.set(m.orderToken, o);
    const ioc = m.timeInForceSeconds === TIF_IMMEDIATE_OR_CANCEL;
    this.command({
      kind: 'SubmitOrder', orderId: o.orderId, venue: this.venue, instrument: `${this.venue}:${m.stock}`,
      side: m.side === 'B' ? 'buy' : 'sell', orderType: market ? 'market' : 'limit', priceTicks: market ? null : m.priceTicks,
      qtyLots: m.shares, priceScale: OUCH_PRICE_SCALE, qtyScale: 0,
      timeInForce: ioc ? (m.minimumQuantity === m.shares ? 'FOK' : 'IOC') : m.timeInForceSeconds === TIF_MARKET_HOURS ? 'DAY' : 'GTC',
      postOnly: m.display === 'P' || m.display === 'L', reduceOnly: false,
    });
  }

  private liveByToken(token: string): OuchOrder | undefined {
    const o = this.tokens.get(token);
    return o && !o.done && o.token === token ? o : undefined;
  }

  private replace(m: ReplaceOrder): void {
    const o = this.liveByToken(m.existingOrderToken);
    if (!o || this.tokens.has(m.replacementOrderToken)) return; // not live, or token reused: silently ignored
    this.tokens.set(m.replacementOrderToken, o);
    o.pending.push({ kind: 'replace', msg: m, filledAtSend: o.filledShares });
    this.command({
      kind: 'ReplaceOrder', orderId: o.orderId, venue: this.venue, instrument: `${this.venue}:${o.enter.stock}`,
      priceTicks: m.priceTicks === OUCH_MARKET_CROSS_PRICE_TICKS ? null : m.priceTicks, qtyLots: o.filledShares + m.shares,
    });
  }

  private cancel(m: CancelOrder): void {
    const o = this.liveByToken(m.orderToken);
    if (!o) {
      this.publish({ kind: 'CancelReject', timestampNs: this.ouchTime(this.now()), orderToken: m.orderToken });
      return;
    }
    const instrument = `${this.venue}:${o.enter.stock}`;
    if (m.shares === 0) {
      this.command({ kind: 'CancelOrder', orderId: o.orderId, venue: this.venue, instrument });
      return;
    }
    if (m.shares >= o.openShares) return; // nothing to reduce
    // A partial cancel keeps priority: the simulated venue does that for a same-price, smaller replace.
    o.pending.push({ kind: 'reduce', fromOpen: o.openShares, toOpen: m.shares, filledAtSend: o.filledShares });
    this.command({ kind: 'ReplaceOrder', orderId: o.orderId, venue: this.venue, instrument, priceTicks: o.priceTicks, qtyLots: o.filledShares + m.shares });
  }

  private modify(m: ModifyOrder): void {
    const o = this.liveByToken(m.orderToken);
    const sellFamily = (s: string) => s === 'S' || s === 'T' || s === 'E';
    // Modify only moves between sell, short and short exempt; anything else is ignored.
    if (!o || !sellFamily(o.enter.side) || !sellFamily(m.side)) return;
    o.enter = { ...o.enter, side: m.side };
    this.publish({ kind: 'OrderModified', timestampNs: this.ouchTime(this.now()), orderToken: o.token, side: m.side, shares: o.openShares });
  }

  // ---------- the simulated venue ----------

  private command(command: VenueCommand): void {
    this.stepWith({ kind: 'command', command, sentNs: this.now() });
  }

  private stepWith(input: Parameters<typeof step>[1]): void {
    this.out.length = 0;
    step(this.state, input, this.out);
    for (const r of this.out) this.report(r);
    this.scheduleDue();
  }

  /** With latency configured, reports fall due later: wake up then. */
  private scheduleDue(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const due = nextDueNs(this.state);
    if (due === null) return;
    const waitMs = Math.max(0, Number((due - this.now()) / 1_000_000n) + 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.stepWith({ kind: 'advance', nowNs: this.now() });
    }, waitMs);
    this.timer.unref();
  }

  private report(r: VenueReport): void {
    const o = this.orders.get(r.data.orderId);
    if (!o) return;
    const ts = this.ouchTime(r.eventTimeNs);
    switch (r.type) {
      case 'OrderAccepted': {
        o.orderReferenceNumber = this.nextOrderReference++;
        const e = o.enter;
        this.publish({
          kind: 'Accepted', timestampNs: ts, orderToken: o.token, side: e.side, shares: e.shares, stock: e.stock, priceTicks: e.priceTicks,
          timeInForceSeconds: e.timeInForceSeconds, firm: e.firm, display: e.display, orderReferenceNumber: o.orderReferenceNumber,
          capacity: e.capacity, intermarketSweepEligibility: e.intermarketSweepEligibility, minimumQuantity: e.minimumQuantity,
          crossType: e.crossType, orderState: 'L', bboWeightIndicator: ' ',
        });
        return;
      }
      case 'OrderRejected': {
        o.done = true;
        const why = r.data.reason;
        const code = /instrument/.test(why) ? 'S' : /price|tick/.test(why) ? 'X' : /quantity|lot/.test(why) ? 'Z' : 'O';
        this.publish({ kind: 'Rejected', timestampNs: ts, orderToken: o.token, reason: code });
        return;
      }
      case 'OrderFilled': {
        o.filledShares += r.data.qtyLots;
        o.openShares -= r.data.qtyLots;
        if (o.openShares <= 0) o.done = true;
        this.publish({
          kind: 'Executed', timestampNs: ts, orderToken: o.token, executedShares: r.data.qtyLots, executionPriceTicks: r.data.priceTicks,
          liquidityFlag: r.data.liquidity === 'maker' ? 'A' : 'R', matchNumber: this.nextMatchNumber++,
        });
        return;
      }
      case 'OrderCanceled':
      case 'OrderExpired': {
        const decrement = r.type === 'OrderCanceled' ? r.data.canceledLots : o.openShares;
        const reason = r.type === 'OrderExpired' ? 'T' : /IOC|FOK|market/.test(r.data.reason ?? '') ? 'I' : 'U';
        o.openShares = 0;
        o.done = true;
        this.publish({ kind: 'Canceled', timestampNs: ts, orderToken: o.token, decrementShares: decrement, reason });
        return;
      }
      case 'OrderReplaced': {
        const p = o.pending.shift();
        if (!p) return;
        if (p.kind === 'reduce') {
          // Fills between the request and now came out of the shares that stay open.
          o.openShares = p.filledAtSend + p.toOpen - o.filledShares;
          this.publish({ kind: 'Canceled', timestampNs: ts, orderToken: o.token, decrementShares: p.fromOpen - p.toOpen, reason: 'U' });
          return;
        }
        const m = p.msg;
        const previous = o.token;
        o.token = m.replacementOrderToken;
        o.priceTicks = m.priceTicks;
        o.openShares = p.filledAtSend + m.shares - o.filledShares;
        o.orderReferenceNumber = this.nextOrderReference++;
        o.enter = { ...o.enter, priceTicks: m.priceTicks, shares: m.shares, timeInForceSeconds: m.timeInForceSeconds, display: m.display,
          intermarketSweepEligibility: m.intermarketSweepEligibility, minimumQuantity: m.minimumQuantity };
        const e = o.enter;
        this.publish({
          kind: 'Replaced', timestampNs: ts, replacementOrderToken: o.token, side: e.side, shares: o.openShares, stock: e.stock, priceTicks: m.priceTicks,
          timeInForceSeconds: e.timeInForceSeconds, firm: e.firm, display: e.display, orderReferenceNumber: o.orderReferenceNumber,
          capacity: e.capacity, intermarketSweepEligibility: e.intermarketSweepEligibility, minimumQuantity: e.minimumQuantity,
          crossType: e.crossType, orderState: 'L', previousOrderToken: previous, bboWeightIndicator: ' ',
        });
        return;
      }
      case 'ReplaceRejected': {
        const p = o.pending.shift();
        if (!p || p.kind === 'reduce') return; // a refused reduction leaves the order as it was
        this.tokens.delete(p.msg.replacementOrderToken); // not consumed: the client may use it again
        this.publish({ kind: 'Rejected', timestampNs: ts, orderToken: p.msg.replacementOrderToken, reason: 'O' });
        return;
      }
      case 'CancelRejected':
        this.publish({ kind: 'CancelReject', timestampNs: ts, orderToken: o.token });
        return;
    }
  }

  private publish(msg: OuchVenueMessage): void {
    this.soup.publish(encodeOuch(msg));
  }

  /** Venue clock in ns, never going backwards. */
  private now(): bigint {
    const t = this.options.clockNs ? this.options.clockNs() : BigInt(Date.now()) * 1_000_000n;
    if (t > this.lastNs) this.lastNs = t;
    return this.lastNs;
  }

  private ouchTime(eventTimeNs: bigint): bigint {
    const t = eventTimeNs % NS_PER_DAY;
    return t < 0n ? t + NS_PER_DAY : t;
  }
}
