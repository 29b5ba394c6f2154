/**
 * The order book of one instrument of a catalogue dataset at a point in time (`tapedeck book`).
 *
 * Events are applied in catalogue order while their receive time is at or before `at` (receive time is
 * the order they were recorded in; exchange times of REST snapshots and websocket diffs are not
 * comparable). Per feed:
 *   - L2 snapshots and deltas: domain/book/l2 (with Kraken's depth truncation);
 *   - Binance depth (deltas with first/final update ids U/u): the documented snapshot-plus-diff
 *     procedure, domain/book/binance-sync, is run over the stored snapshots and diffs: every diff must
 *     continue the chain (U <= last u + 1 <= u); a break is a gap, reported with its update ids, and the
 *     book stays unsynced until the next snapshot. Gaps the capture reader already reported
 *     (BookAnomalyReported sequence-gap) are reported too;
 *   - L3 (ITCH) and L1 quotes: domain/market/book (orders aggregated into price levels).
 */
import { TapedeckError } from '../../domain/core/errors.js';
import { formatDecimal } from '../../domain/core/fixed.js';
import { initialSyncState, step, type BinanceSyncState, type SyncEvent } from '../../domain/book/binance-sync.js';
import { L2Book } from '../../domain/book/l2.js';
import { applyMarketEvent, initialMarketState } from '../../domain/market/book.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { readManifest } from './manifest.js';
import { catalogEventSource } from './source.js';

export interface BookLevel {
  price: string;
  quantity: string;
}

export interface BookGap {
  kind: string;
  /** Receive time of the event where the gap showed (ns). */
  timeNs: string;
  expectedFirstUpdateId: number | null;
  firstUpdateId: number | null;
  finalUpdateId: number | null;
  detail: string;
}

export interface BookView {
  dataset: string;
  instrument: string;
  /** The time asked for (ns, string), or the last event's when none was asked for. */
  time: string;
  /** Receive time of the last event applied (ns), null when none was. */
  lastEventTime: string | null;
  eventsApplied: number;
  /** False when no snapshot was applied yet, or a gap broke the chain since the last one. */
  synced: boolean;
  lastUpdateId: number | null;
  bids: BookLevel[];
  asks: BookLevel[];
  gaps: BookGap[];
}

/** Parses --at: ns since the epoch (digits) or an ISO-8601 time. */
export function parseTime(text: string): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) throw new TapedeckError('TIME_FORMAT', `--at "${text}" is neither ns since the epoch nor an ISO-8601 time (2021-10-12T00:28:40.5Z)`, { field: '--at' });
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const tz = m[8];
  if (tz !== undefined && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

/** Resolves SYMBOL or VENUE:SYMBOL against the dataset's instruments. */
export function resolveInstrument(instruments: string[], symbol: string): string {
  if (instruments.includes(symbol)) return symbol;
  const matches = instruments.filter((i) => i.slice(i.indexOf(':') + 1).toUpperCase() === symbol.toUpperCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new TapedeckError('BOOK_INSTRUMENT', `"${symbol}" is ambiguous: ${matches.join(', ')}`, { field: '--instrument' });
  throw new TapedeckError('BOOK_INSTRUMENT', `the dataset has no instrument "${symbol}" (it has ${instruments.slice(0, 12).join(', ')}${instruments.length > 12 ? ', ...' : ''})`, { field: '--instrument' });
}

export async function bookAt(catalogDir: string, datasetId: string, symbol: string, options: { at?: bigint; levels: number }): Promise<BookView> {
  const manifest = readManifest(catalogDir, datasetId);
  const instrument = resolveInstrument(manifest.instruments, symbol);
  const l2 = { book: null as L2Book | null, chained: false };
  const market = initialMarketState();
  let mode: 'none' | 'l2' | 'market' = 'none';
  type Changes = ReadonlyArray<{ side: 'buy' | 'sell'; priceTicks: number; qtyLots: number }>;
  type SyncStep = { state: BinanceSyncState<Changes, null>; events: SyncEvent<Changes, null>[] };
  let sync: BinanceSyncState<Changes, null> | null = null;
  let priceScale = 0;
  let qtyScale = 0;
  const gaps: BookGap[] = [];
  let applied = 0;
  let lastTime: bigint | null = null;
  const gap = (env: AnyEnvelope, kind: string, expected: number | null, first: number | null, final: number | null, detail: string): void => {
    gaps.push({ kind, timeNs: String(env.receiveTimeNs), expectedFirstUpdateId: expected, firstUpdateId: first, finalUpdateId: final, detail });
  };
  for await (const env of catalogEventSource(catalogDir, datasetId, { instrument })) {
    if (options.at !== undefined && env.receiveTimeNs > options.at) break;
    lastTime = env.receiveTimeNs;
    switch (env.type) {
      case 'BookSnapshotted': {
        const d = env.data;
        mode = 'l2';
        priceScale = d.priceScale;
        qtyScale = d.qtyScale;
        if (l2.book === null) l2.book = new L2Book(d.depth !== undefined ? { maxDepth: d.depth } : {});
        if (d.sequence !== undefined && l2.chained) {
          sync ??= initialSyncState<Changes, null>();
          const r: SyncStep = step(sync, { kind: 'snapshot', snapshot: { lastUpdateId: d.sequence, payload: null } });
          sync = r.state;
          if (r.events.some((e) => e.kind === 'SnapshotIgnored')) break;
          l2.book.applySnapshot(d.bids, d.asks, d.sequence);
          applied++;
          // Diffs the procedure had buffered before this snapshot and now applies on top of it.
          for (const e of r.events) if (e.kind === 'DiffApplied') for (const c of e.diff.payload) l2.book.applyChange(c.side, c.priceTicks, c.qtyLots);
          break;
        }
        l2.book.applySnapshot(d.bids, d.asks, d.sequence);
        applied++;
        break;
      }
      case 'BookDeltaApplied': {
        const d = env.data;
        mode = 'l2';
        priceScale = d.priceScale;
        qtyScale = d.qtyScale;
        l2.book ??= new L2Book();
        if (d.firstSequence !== undefined && d.sequence !== undefined) {
          // Binance diffs: the chain rule decides whether (and on which snapshot) this diff applies.
          l2.chained = true;
          sync ??= initialSyncState<Changes, null>();
          if (sync.phase === 'idle' && l2.book.sequence !== null) {
            // The snapshot came before the first chained diff was seen: hand it to the procedure now.
            sync = step(sync, { kind: 'snapshot', snapshot: { lastUpdateId: l2.book.sequence, payload: null } }).state;
          }
          const r: SyncStep = step(sync, { kind: 'diff', diff: { firstUpdateId: d.firstSequence, finalUpdateId: d.sequence, payload: d.changes } });
          sync = r.state;
          for (const e of r.events) {
            if (e.kind === 'DiffApplied') {
              for (const c of e.diff.payload) l2.book.applyChange(c.side, c.priceTicks, c.qtyLots);
              l2.book.sequence = e.diff.finalUpdateId;
              applied++;
            }
            if (e.kind === 'GapDetected') {
              gap(env, e.reason, e.expectedFirstUpdateId, e.diff.firstUpdateId, e.diff.finalUpdateId,
                `update ids ${e.diff.firstUpdateId}..${e.diff.finalUpdateId} do not continue the book at ${e.lastUpdateId} (expected ${e.expectedFirstUpdateId})`);
              l2.book.markUnsynced();
            }
          }
          break;
        }
        for (const c of d.changes) l2.book.applyChange(c.side, c.priceTicks, c.qtyLots);
        if (d.sequence !== undefined) l2.book.sequence = d.sequence;
        applied++;
        break;
      }
      case 'BookAnomalyReported': {
        const d = env.data;
        gap(env, d.kind, d.expectedSequence ?? null, d.firstSequence ?? null, d.sequence ?? null, d.detail);
        if (d.kind === 'sequence-gap') l2.book?.markUnsynced();
        break;
      }
      case 'QuoteUpdated':
      case 'BookOrderAdded':
      case 'BookOrderExecuted':
      case 'BookOrderCanceled':
      case 'BookOrderDeleted':
      case 'BookOrderReplaced': {
        if (mode === 'l2' && env.type === 'QuoteUpdated') break; // depth is the better source; quotes only overlay it
        if (mode === 'none') mode = 'market';
        const b = applyMarketEvent(market, env);
        if (b !== null) {
          priceScale = b.priceScale;
          qtyScale = b.qtyScale;
          applied++;
        }
        break;
      }
      default:
        break;
    }
  }
  const fmt = (levels: Array<readonly [number, number]>): BookLevel[] =>
    levels.map(([p, q]) => ({ price: formatDecimal(p, priceScale), quantity: formatDecimal(q, qtyScale) }));
  let bids: BookLevel[] = [];
  let asks: BookLevel[] = [];
  let synced = false;
  let lastUpdateId: number | null = null;
  if (mode === 'l2' && l2.book !== null) {
    bids = fmt(l2.book.top('buy', options.levels));
    asks = fmt(l2.book.top('sell', options.levels));
    synced = l2.book.synced && (sync === null || sync.phase === 'synced' || sync.phase === 'bridging');
    lastUpdateId = l2.book.sequence;
  } else if (mode === 'market') {
    const b = market.books.get(instrument);
    if (b !== undefined) {
      const side = (l: { prices: number[]; qtys: number[] }): Array<[number, number]> => {
        const out: Array<[number, number]> = [];
        for (let i = l.prices.length - 1; i >= 0 && out.length < options.levels; i--) if (l.qtys[i]! > 0) out.push([l.prices[i]!, l.qtys[i]!]);
        return out;
      };
      bids = fmt(side(b.bids));
      asks = fmt(side(b.asks));
      synced = true;
    }
  }
  return {
    dataset: datasetId, instrument, time: options.at !== undefined ? String(options.at) : String(lastTime ?? ''),
    lastEventTime: lastTime === null ? null : String(lastTime), eventsApplied: applied, synced, lastUpdateId, bids, asks, gaps,
  };
}
