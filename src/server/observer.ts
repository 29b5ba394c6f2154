/**
 * What the server learns from the log as it reads it, one event at a time: the Prometheus metrics
 * (prom-client), each venue's health (last message age from receive times, reconciliation), the kill
 * switch as the control stream and live runs set it, and which runs are running. Everything here is a
 * fold of recorded events, never a look into an engine's memory (barter-rs's audit stream idea).
 *
 * Venue health and exposure only count live and paper runs: a replay's receive times are virtual.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RecordedEvent } from '../store/port.js';
import { CONTROL_STREAM } from '../runtime/control.js';

export type KillState = 'ACTIVE' | 'REDUCING' | 'HALTED';
export const KILL_STATE_VALUE: Record<KillState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
/** The label value for a global (all venues) kill switch. */
export const ALL_VENUES = '*';

export interface KillSwitchView {
  venue: string;
  state: KillState;
  reason: string;
  by: string;
  eventTimeNs: string;
  position: number;
}

export interface VenueHealth {
  venue: string;
  /** 'up' when a running live or paper run heard from it within `staleAfterMs`; 'stale' otherwise; 'idle' with no running run. */
  state: 'up' | 'stale' | 'idle';
  lastMessageAgeMs: number | null;
  lastReceiveTimeNs: string | null;
  reconciliation: 'ok' | 'failed' | 'none';
  killSwitch: KillState;
  orderRateHeadroom: number | null;
}

interface RunInfo {
  runId: string;
  mode: string;
  ended: boolean;
  orderRate: { maxOrders: number; windowNs: bigint } | null;
  /** Event times of recent submissions (for the order-rate headroom), bounded by maxOrders. */
  recentSubmitNs: bigint[];
}

const MAX_TRACKED_ORDERS = 200_000;
const MAX_TRACKED_CAUSES = 50_000;

export class Observer {
  readonly registry = new Registry();
  private readonly runs = new Map<string, RunInfo>();
  private readonly orderVenue = new Map<string, { venue: string; mode: string; causeNs: bigint | null }>();
  private readonly causeReceiveNs = new Map<string, bigint>();
  private readonly lastReceiveNs = new Map<string, bigint>();
  private readonly reconciliation = new Map<string, boolean>();
  readonly killSwitch = new Map<string, KillSwitchView>();
  /** Position of the last event observed. */
  position = -1;
  private readonly submitted = new Map<string, number>();
  private readonly filled = new Map<string, number>();

  readonly eventsObserved: Counter;
  readonly eventsProjected: Counter;
  readonly projectionLag: Gauge;
  readonly headPosition: Gauge;
  readonly decisionLatency: Histogram;
  readonly orders: Counter;
  readonly fills: Counter;
  readonly errors: Counter;
  readonly fillRatio: Gauge;
  readonly exposure: Gauge;
  readonly pnl: Gauge;
  readonly reconciliationOk: Gauge;
  readonly killSwitchState: Gauge;
  readonly venueUp: Gauge;
  readonly venueAge: Gauge;
  readonly rateHeadroom: Gauge;
  readonly controlRequests: Counter;

  constructor(private readonly options: { staleAfterMs: number; nowNs: () => bigint }) {
    const registers = [this.registry];
    this.eventsObserved = new Counter({ name: 'tapedeck_events_appended_total', help: 'events appended to the log (observed by the server since it started)', registers });
    this.eventsProjected = new Counter({ name: 'tapedeck_events_projected_total', help: 'events folded into the projections since the server started', registers });
    this.projectionLag = new Gauge({ name: 'tapedeck_projection_lag_events', help: 'events in the log not yet in the projections', registers });
    this.headPosition = new Gauge({ name: 'tapedeck_log_head_position', help: 'global position of the last durable event', registers });
    this.decisionLatency = new Histogram({
      name: 'tapedeck_decision_latency_seconds', help: 'live and paper: from receiving the input that caused an order to its message on the wire',
      labelNames: ['venue'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers,
    });
    this.orders = new Counter({ name: 'tapedeck_orders_total', help: 'orders by venue, run mode and outcome (submitted, rejected, denied, filled, canceled)', labelNames: ['venue', 'mode', 'outcome'], registers });
    this.fills = new Counter({ name: 'tapedeck_fills_total', help: 'fills by venue and run mode', labelNames: ['venue', 'mode'], registers });
    this.errors = new Counter({ name: 'tapedeck_errors_total', help: 'errors recorded in the log: unknown order states, failed runs, book anomalies', labelNames: ['kind', 'mode'], registers });
    this.fillRatio = new Gauge({ name: 'tapedeck_fill_ratio', help: 'orders fully filled / orders submitted, by venue (live and paper runs)', labelNames: ['venue'], registers });
    this.exposure = new Gauge({ name: 'tapedeck_open_exposure', help: 'absolute position notional at the last mark (quote currency), running live and paper runs', labelNames: ['venue', 'instrument'], registers });
    this.pnl = new Gauge({ name: 'tapedeck_pnl', help: 'P&L (quote currency) of running live and paper runs: realized, unrealized, net', labelNames: ['venue', 'instrument', 'kind'], registers });
    this.reconciliationOk = new Gauge({ name: 'tapedeck_reconciliation_ok', help: '1 when the last reconciliation with the venue matched, 0 when it failed', labelNames: ['venue'], registers });
    this.killSwitchState = new Gauge({ name: 'tapedeck_kill_switch_state', help: 'kill switch: 0 ACTIVE, 1 REDUCING, 2 HALTED (venue="*": all venues)', labelNames: ['venue'], registers });
    this.venueUp = new Gauge({ name: 'tapedeck_venue_up', help: '1 when a running live or paper run heard from the venue recently, 0 when it went quiet', labelNames: ['venue'], registers });
    this.venueAge = new Gauge({ name: 'tapedeck_venue_last_message_age_seconds', help: 'seconds since the last message from the venue (running live and paper runs)', labelNames: ['venue'], registers });
    this.rateHeadroom = new Gauge({ name: 'tapedeck_order_rate_headroom', help: 'orders the risk order-rate limit still allows in its window, by venue (running runs with a limit)', labelNames: ['venue'], registers });
    this.controlRequests = new Counter({ name: 'tapedeck_control_requests_total', help: 'control requests by kind and result (accepted, unauthorized, invalid)', labelNames: ['kind', 'result'], registers });
    this.killSwitchState.set({ venue: ALL_VENUES }, 0);
  }

  private isLiveLike(mode: string | undefined): boolean {
    return mode === 'live' || mode === 'paper';
  }

  private runOf(stream: string): RunInfo | undefined {
    return stream.startsWith('run-') ? this.runs.get(stream) : undefined;
  }

  observe(e: RecordedEvent): void {
    this.position = e.position;
    this.eventsObserved.inc();
    const run = this.runOf(e.stream);
    const mode = run?.mode ?? 'none';
    const meta = e.metadata;
    const data = (e.isJson ? e.data : {}) as Record<string, unknown>;
    const receiveNs = typeof meta.receiveTimeNs === 'string' ? BigInt(meta.receiveTimeNs) : null;
    const venue = typeof data.venue === 'string' ? data.venue : null;
    if (run && !run.ended && this.isLiveLike(mode) && receiveNs !== null && meta.role === 'input') {
      if (venue !== null) this.lastReceiveNs.set(venue, receiveNs);
      if (this.causeReceiveNs.size >= MAX_TRACKED_CAUSES) this.causeReceiveNs.clear();
      this.causeReceiveNs.set(e.id, receiveNs);
    }
    switch (e.type) {
      case 'RunStarted': {
        const m = (data.manifest ?? {}) as { runId?: string; mode?: string; config?: { risk?: { orderRate?: { maxOrders?: number; windowNs?: string | number } } } };
        const rate = m.config?.risk?.orderRate;
        this.runs.set(e.stream, {
          runId: String(m.runId ?? e.stream.slice(4)), mode: String(m.mode ?? 'unknown'), ended: false, recentSubmitNs: [],
          orderRate: rate?.maxOrders !== undefined && rate.windowNs !== undefined ? { maxOrders: rate.maxOrders, windowNs: BigInt(rate.windowNs) } : null,
        });
        break;
      }
      case 'RunEnded':
        if (run) run.ended = true;
        if (data.outcome === 'failed') this.errors.inc({ kind: 'run_failed', mode });
        break;
      case 'OrderIntended': {
        const dec = (data.decision ?? {}) as { causeEventId?: string };
        if (this.orderVenue.size >= MAX_TRACKED_ORDERS) this.orderVenue.clear();
        this.orderVenue.set(String(data.orderId), { venue: venue ?? 'unknown', mode, causeNs: dec.causeEventId ? (this.causeReceiveNs.get(dec.causeEventId) ?? null) : null });
        break;
      }
      case 'RiskDenied':
        this.countOrder(String(data.orderId), 'denied');
        break;
      case 'OrderSubmitted': {
        const v = this.countOrder(String(data.orderId), 'submitted');
        if (v && this.isLiveLike(v.mode)) this.submitted.set(v.venue, (this.submitted.get(v.venue) ?? 0) + 1);
        if (run?.orderRate && e.metadata.eventTimeNs !== undefined) {
          run.recentSubmitNs.push(BigInt(String(e.metadata.eventTimeNs)));
          if (run.recentSubmitNs.length > run.orderRate.maxOrders) run.recentSubmitNs.shift();
        }
        break;
      }
      case 'OrderRejected':
        this.countOrder(String(data.orderId), 'rejected');
        break;
      case 'OrderCanceled':
        this.countOrder(String(data.orderId), 'canceled');
        break;
      case 'OrderFilled': {
        const v = this.orderVenue.get(String(data.orderId));
        this.fills.inc({ venue: v?.venue ?? venue ?? 'unknown', mode });
        if (data.leavesLots === 0) {
          this.countOrder(String(data.orderId), 'filled');
          if (v && this.isLiveLike(v.mode)) this.filled.set(v.venue, (this.filled.get(v.venue) ?? 0) + 1);
        }
        break;
      }
      case 'VenueMessageSent': {
        const v = this.orderVenue.get(String(data.orderId));
        if (v && v.causeNs !== null && receiveNs !== null && data.messageType === 'EnterOrder' && this.isLiveLike(v.mode)) {
          this.decisionLatency.observe({ venue: v.venue }, Math.max(0, Number(receiveNs - v.causeNs)) / 1e9);
          v.causeNs = null;
        }
        break;
      }
      case 'OrderStatusUnknown':
        this.errors.inc({ kind: 'order_status_unknown', mode });
        break;
      case 'BookAnomalyReported':
        this.errors.inc({ kind: 'book_anomaly', mode });
        break;
      case 'ReconciliationCompleted':
        if (venue !== null) {
          this.reconciliation.set(venue, data.ok === true);
          this.reconciliationOk.set({ venue }, data.ok === true ? 1 : 0);
        }
        break;
      case 'KillSwitchChanged':
        // The operator's switch (the control stream) and the switches live runs recorded (engine halts).
        if (e.stream === CONTROL_STREAM || (run && this.isLiveLike(mode) && !run.ended && meta.role !== 'input')) {
          const scope = venue ?? ALL_VENUES;
          const state = data.state as KillState;
          this.killSwitch.set(scope, { venue: scope, state, reason: String(data.reason ?? ''), by: String(data.by ?? ''), eventTimeNs: String(meta.eventTimeNs ?? ''), position: e.position });
          this.killSwitchState.set({ venue: scope }, KILL_STATE_VALUE[state] ?? 0);
        }
        break;
      default:
        break;
    }
  }

  private countOrder(orderId: string, outcome: string): { venue: string; mode: string } | undefined {
    const v = this.orderVenue.get(orderId);
    this.orders.inc({ venue: v?.venue ?? 'unknown', mode: v?.mode ?? 'none', outcome });
    return v;
  }

  /** The effective kill switch for a venue: the stricter of the global one and the venue's own. */
  killStateOf(venue: string): KillState {
    const g = this.killSwitch.get(ALL_VENUES)?.state ?? 'ACTIVE';
    const v = this.killSwitch.get(venue)?.state ?? 'ACTIVE';
    return KILL_STATE_VALUE[g] >= KILL_STATE_VALUE[v] ? g : v;
  }

  runningLiveRuns(): RunInfo[] {
    return [...this.runs.values()].filter((r) => !r.ended && this.isLiveLike(r.mode));
  }

  /** Refreshes the time-dependent gauges and returns each venue's health. */
  venues(): VenueHealth[] {
    const now = this.options.nowNs();
    const running = this.runningLiveRuns();
    const names = new Set<string>([...this.lastReceiveNs.keys(), ...this.reconciliation.keys(), ...[...this.killSwitch.keys()].filter((k) => k !== ALL_VENUES)]);
    const out: VenueHealth[] = [];
    for (const venue of [...names].sort()) {
      const last = this.lastReceiveNs.get(venue);
      const ageMs = last === undefined ? null : Math.max(0, Number(now - last) / 1e6);
      const state: VenueHealth['state'] = running.length === 0 ? 'idle' : ageMs !== null && ageMs <= this.options.staleAfterMs ? 'up' : 'stale';
      let headroom: number | null = null;
      for (const r of running) {
        if (!r.orderRate) continue;
        const from = now - r.orderRate.windowNs;
        const inWindow = r.recentSubmitNs.filter((t) => t >= from).length;
        headroom = Math.min(headroom ?? Infinity, r.orderRate.maxOrders - inWindow);
      }
      if (running.length > 0) {
        this.venueUp.set({ venue }, state === 'up' ? 1 : 0);
        if (ageMs !== null) this.venueAge.set({ venue }, ageMs / 1000);
      }
      if (headroom !== null) this.rateHeadroom.set({ venue }, headroom);
      const sub = this.submitted.get(venue) ?? 0;
      if (sub > 0) this.fillRatio.set({ venue }, (this.filled.get(venue) ?? 0) / sub);
      const rec = this.reconciliation.get(venue);
      out.push({
        venue, state, lastMessageAgeMs: ageMs === null ? null : Math.round(ageMs), lastReceiveTimeNs: last?.toString() ?? null,
        reconciliation: rec === undefined ? 'none' : rec ? 'ok' : 'failed', killSwitch: this.killStateOf(venue), orderRateHeadroom: headroom,
      });
    }
    return out;
  }
}
