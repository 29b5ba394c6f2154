/**
 * Reads an ITCH day for some instruments only. Every message is framed and counted (its index is its
 * place in the day, as in itchEventSource, so ids and causes match), but only those whose stock locate
 * the stock directory ('R') names as a wanted instrument are decoded into envelopes; the rest cost a
 * two-byte read. Envelopes derive their ids lazily (LazyIdEnvelope): they are for a kernel only.
 * A partitioned replay (src/runtime/partitioned.ts) gives each worker thread the whole
 * day and one of these, so nothing is copied between threads.
 */
import type { AnyEnvelope } from '../../../../domain/events/envelope.js';
import type { PayloadSink } from '../framing/payload-sink.js';
import { decodeMessage } from './codec.js';
import { readItchBytes } from './reader.js';
import { ItchEventMapper, type ItchEventOptions } from './to-events.js';
import { ItchMessageView } from './views.js';

const TYPE_STOCK_DIRECTORY = 0x52; // 'R'

/** 1 for the types that map to a catalogue event (R H A F E C X D U P Q, as ItchEventMapper.map): those count as inputs. */
const MAPPED = new Uint8Array(256);
for (const c of 'RHAFECXDUPQ') MAPPED[c.charCodeAt(0)] = 1;

export class ItchInstrumentFilter implements PayloadSink {
  /** Messages framed so far: the index of the next one. */
  messages = 0;
  /**
   * Messages that map to an event so far: the number of the next input, counted as a reference to the
   * day's file numbers them (InputsReferenced kind file: input n is the n-th event its reader yields).
   */
  inputs = 0;
  /** Messages decoded (those of wanted instruments, their directory entries included). */
  kept = 0;
  /** 1 at a wanted instrument's locate. */
  private readonly wantedLocate = new Uint8Array(65_536);
  private readonly mapper: ItchEventMapper;
  private readonly view = new ItchMessageView();

  constructor(
    private readonly instruments: ReadonlySet<string>,
    options: ItchEventOptions & { fileId: string },
    private readonly onEvent: (env: AnyEnvelope, inputNumber: number) => void,
    /** A day held in memory for as long as the envelopes live: their raw bytes may then be views into it, not copies. */
    private readonly stable: Uint8Array | null = null,
  ) {
    this.mapper = new ItchEventMapper(options);
  }

  payload(bytes: Uint8Array, offset: number, length: number): void {
    const index = this.messages++;
    const t = bytes[offset]!;
    const input = MAPPED[t] === 1 ? this.inputs++ : -1;
    const locate = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
    if (t === TYPE_STOCK_DIRECTORY) {
      if (this.instruments.has(this.mapper.instrumentOf(locate, decodeStock(bytes, offset, length)))) this.wantedLocate[locate] = 1;
    }
    if (this.wantedLocate[locate] !== 1) return;
    // The envelope keeps its raw bytes: a view into a stable day, else a copy (a reader's chunk is reused).
    // A directory entry is always copied: it is kept in the run stream and may cross threads.
    const raw = bytes === this.stable && t !== TYPE_STOCK_DIRECTORY ? bytes.subarray(offset, offset + length) : bytes.slice(offset, offset + length);
    const env = this.mapper.mapView(this.view.wrap(bytes, offset), raw, index, true);
    this.kept++;
    if (env !== null) this.onEvent(env, input);
  }
}

function decodeStock(bytes: Uint8Array, offset: number, length: number): string {
  const m = decodeMessage(bytes, offset, length);
  return m.messageType === 'R' ? m.stock : '';
}

/** Messages per instrument of an ITCH day (named by its stock directory), busiest first, ties by name. */
export function itchInstrumentActivity(day: Uint8Array, venue = 'NASDAQ'): Array<{ instrument: string; messages: number }> {
  const counts = new Float64Array(65_536);
  const names = new Map<number, string>();
  readItchBytes(day, {
    payload(bytes: Uint8Array, offset: number, length: number): void {
      const locate = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
      counts[locate]!++;
      if (bytes[offset] === TYPE_STOCK_DIRECTORY) {
        const stock = decodeStock(bytes, offset, length).trimEnd();
        if (stock.length > 0 && !/[\s:]/.test(stock)) names.set(locate, `${venue}:${stock}`);
      }
    },
  });
  return [...names].map(([locate, instrument]) => ({ instrument, messages: counts[locate]! })).sort((a, b) => b.messages - a.messages || (a.instrument < b.instrument ? -1 : 1));
}
