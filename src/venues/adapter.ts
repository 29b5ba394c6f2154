/**
 * The shape every venue adapter has (NautilusTrader's adapter layout): one folder under src/venues/
 * and one entry in src/venues/registry.ts. The CLI, the capture reader, paper mode and the dataset
 * catalog learn what a venue can do from this record, never from a switch of their own.
 *
 *   id            venue code: instrument ids are `<id>:<symbol>`, capture files `<id>.ws.*`
 *   config        zod schema of the venue's settings (URLs, symbols, session); credentials are not config
 *   hosts         the host names its endpoints live on (a capture's URLs name its venue by them)
 *   marketData    how recorded and live payloads become catalogue events (optional: execution-only venues)
 *   execution     the live execution client, and the simulated venue speaking its wire protocol (optional)
 *   fixtures      the recorded payloads its tests replay, repository paths
 *
 * Only `id`, `title`, `config`, `hosts` and `fixtures` are required; everything else is optional so a
 * venue can land with market data first and execution later (or the other way round).
 */
import type { z } from 'zod';
import type { PayloadOf } from '../../domain/events/catalog.js';
import type { AnyEnvelope, EventEnvelope } from '../../domain/events/envelope.js';
import type { Side } from '../../domain/events/primitives.js';
import type { OrderState } from '../../domain/orders/lifecycle.js';
import type { VenueReport } from '../../domain/reconcile/reconcile.js';
import type { ExecutionClient, MarketDataClient } from './port.js';
import type { VenueParser } from './common/frame.js';
import type { FeedIssue } from './common/json-feed-client.js';
import type { ReplayServer } from './cryptofeed/replay-server.js';

/**
 * How a venue's recorded market data is stored. `cryptofeed` is the shared recorded-JSON format (one
 * websocket frame a line, REST answers in companion files): a venue with a `newParser` is read by the
 * shared capture reader for free. Any other format is read by the venue's own `openCapture`.
 */
export type CaptureFormat = 'cryptofeed' | 'itch';

/** Options the paper-mode replay client passes on to a venue's live market-data client. */
export interface ReplayClientOptions {
  /** Receive clock, ns since the epoch (paper: the capture's own timeline). */
  clock?: () => bigint;
  onBadFrame?: 'stop' | 'skip';
  onIssue?: (issue: FeedIssue) => void;
  highWaterMark?: number;
  httpTimeoutMs?: number;
}

/**
 * A local-book procedure a venue's feed requires between the parser and the kernel (Binance: diffs
 * buffered until a REST snapshot, then released in order, with gap detection). The capture reader runs
 * it on recordings, the venue's live client on the socket, so both yield the same events.
 */
export interface BookSequencer {
  push(event: AnyEnvelope): void;
  /** Events ready to go out, in order. */
  take(): AnyEnvelope[];
  /** End of stream: release what can be released. */
  end(): void;
  deliverSnapshot(snapshot: EventEnvelope<'BookSnapshotted'>): void;
  snapshotUnavailable(instrument: string, reason: string): void;
  readonly stats: Readonly<Record<string, number>>;
}

export interface BookProcedure {
  /** The book key (symbol) a REST URL answers a depth snapshot for, or null for any other URL. */
  snapshotKeyOf(url: string): string | null;
  /** The book key of an instrument id (`BINANCE:NKNUSDT` → `NKNUSDT`). */
  keyOf(instrument: string): string;
  /** A fresh sequencer; it calls `requestSnapshot` when an instrument needs a snapshot. */
  newSequencer(requestSnapshot: (instrument: string) => void): BookSequencer;
}

export interface MarketDataAdapter {
  /** The format its recordings come in (what `tapedeck replay FILE` and `datasets import --format` read). */
  readonly captureFormat: CaptureFormat;
  /**
   * A fresh parser of the venue's JSON payloads (one per stream: a parser keeps instrument metadata and
   * the latest venue time). Required for `cryptofeed` captures.
   */
  newParser?(): VenueParser;
  /**
   * The venue's LIVE market-data client pointed at a capture replay server (paper trading: the real
   * adapter over a real socket, subscribed as the recording was).
   */
  replayClient?(server: ReplayServer, options: ReplayClientOptions): MarketDataClient;
  /** The local-book procedure its feed requires, if any (the capture reader runs it on recordings). */
  readonly bookProcedure?: BookProcedure;
  /** Formats other than cryptofeed: is this file one of the venue's recordings (by its name)? */
  recognisesCapture?(file: string): boolean;
  /** Formats other than cryptofeed: the recording as catalogue envelopes, in venue order. */
  openCapture?(file: string): AsyncIterable<AnyEnvelope>;
  /**
   * Archive formats of the venue the dataset catalog imports (`binance-csv`): names only; the
   * readers live with the catalog (datasets/catalog/sources.ts), which checks it knows every name.
   */
  readonly archiveFormats?: readonly string[];
}

/** What an execution client is given beside its config: secrets and the clock come from the shell. */
export interface ExecutionContext {
  /** Secrets, from the environment or a secrets file the shell read; never from the venue config. */
  credentials: Readonly<Record<string, string>>;
  /** Venue clock, ns since the epoch (default: the wall clock). */
  clockNs?: () => bigint;
}

/** A simulated venue on loopback speaking the venue's wire protocol (tests, rehearsals). */
export interface SimulatedVenueServer {
  readonly port: number;
  /** What `tapedeck sim-venue` prints as its first JSON line (the base URLs a client is pointed at). */
  readonly urls?: { rest: string; ws: string };
  close(): Promise<void>;
}

export interface SimulatedVenueOptions {
  /** The accounts it accepts (the same credentials the client is given). */
  credentials: Readonly<Record<string, string>>;
  /** 0 or absent: any free port. */
  port?: number;
  /** Venue clock, ns since the epoch (default: the wall clock). */
  clockNs?: () => bigint;
  /** A recording whose market data the simulator plays and matches against (venues that simulate from one). */
  capture?: string;
  /** Replay speed of `capture`: 1 = as recorded. */
  speed?: number;
  /** Hold `capture` at its start until the first market-data subscriber (venues that support it). */
  startOnSubscribe?: boolean;
  /** Faults to inject (the venue's own spec, `name:probability[:ms],...`). */
  faults?: string;
  /** Seed of a synthetic market (venues that generate one without a capture). */
  seed?: number;
}

/**
 * A live session on a venue that the generic live runner (src/runtime/live-venue.ts: `tapedeck live` and
 * `tapedeck reconcile` for venues that are not driven through ccxt) reconciles, trades and cancels with.
 */
export interface LiveVenueSession {
  readonly venue: string;
  /** Instruments it trades, with their scales. */
  readonly instruments: ReadonlyMap<string, { symbol: string; priceScale: number; qtyScale: number }>;
  /** InstrumentDefined events for `instruments`, stamped `atNs` (the first market event's venue time). */
  instrumentsDefined(instruments: readonly string[], atNs: bigint): AnyEnvelope[];
  /** What the venue reports for reconciliation: our orders, fills and positions on these instruments. */
  report(request: { instruments: string[]; sides: ReadonlyMap<string, Side>; orders?: readonly OrderState[] }): Promise<LiveVenueReport>;
  /** Cancels an order (of an earlier session); true when the venue took it. */
  cancel(order: { orderId: string; instrument: string; venueOrderId: string | null; replaceCount: number }): Promise<boolean>;
  newExecutionClient(o: { knownFillIds: Iterable<string>; eventClockNs: () => bigint; onLog?: (line: string) => void }): ExecutionClient & { readonly stats?: object };
  newMarketData(instruments: readonly string[], onLog?: (line: string) => void): MarketDataClient;
  /** Takes every secret out of a text (logs, errors). */
  redact(text: string): string;
  close(): Promise<void>;
}

/** A venue report, plus what each order's venue record says about replaces (amends) that took. */
export type LiveVenueReport = VenueReport & {
  /** Per kernel order id: how many replaces the venue applied, and the order's price and total now. */
  replaced?: ReadonlyMap<string, { replaceCount: number; priceTicks: number; qtyLots: number; venueOrderId: string }>;
  /** Fills the venue reported and then undid (a Polymarket trade that FAILED on chain): the ledger reverses those it holds. */
  reversedFills?: ReadonlyArray<PayloadOf<'FillReversed'>>;
};

export interface LiveSessionOptions {
  /** The shell's environment (credentials come from there, never from the config). */
  env: Readonly<Record<string, string | undefined>>;
  /** REST base of the venue (a simulated one); without it the config's (production) endpoints. */
  baseUrl?: string;
  /** WebSocket base, when the venue's differs from what `baseUrl` implies. */
  wsUrl?: string;
  confirmLive: boolean;
  /** Instruments the run trades (the session follows their markets besides the config's). */
  instruments?: readonly string[];
}

export interface ExecutionAdapter<Config> {
  /** The live execution client (src/venues/port.ts), not yet connected. */
  newClient(config: Config, context: ExecutionContext): ExecutionClient;
  /** The simulated venue speaking this venue's wire protocol, listening on 127.0.0.1 (port 0 = any). */
  startSim?(options: SimulatedVenueOptions): Promise<SimulatedVenueServer>;
  /** Environment variables holding the account's credentials (shared by `live` and `sim-venue`). */
  readonly credentialVariables?: readonly string[];
  /** A live session for the generic live runner (venues not traded through ccxt). */
  openLive?(config: Config, options: LiveSessionOptions): Promise<LiveVenueSession>;
}

export interface VenueAdapter<Config = unknown> {
  /** Venue code, upper case (`BINANCE`): instrument ids are `<id>:<symbol>`, captures `<id>.ws.*`. */
  readonly id: string;
  /** One line for `--help` and listings. */
  readonly title: string;
  /** The venue's settings, strict keys, with defaults for the public endpoints. */
  readonly config: z.ZodType<Config>;
  /** Host names (suffix match) of the venue's endpoints. */
  readonly hosts: readonly RegExp[];
  readonly marketData?: MarketDataAdapter;
  readonly execution?: ExecutionAdapter<Config>;
  /** Recorded payloads the venue's tests replay (repository paths; see test/fixtures/.../PROVENANCE.md). */
  readonly fixtures: readonly string[];
}

/** Types a venue record, keeping its config type (`export const kraken = defineVenue({...})`). */
export function defineVenue<Config>(adapter: VenueAdapter<Config>): VenueAdapter<Config> {
  return adapter;
}
