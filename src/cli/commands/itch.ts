/**
 * `tapedeck itch stats|decode|book|generate`: NASDAQ TotalView-ITCH 5.0 files from the command line.
 * FILE may be gzip (detected by its magic bytes). Bad input stops with one line naming the byte offset,
 * unless --skip-errors, which counts and skips what can be skipped.
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { formatDecimal } from '../../../domain/core/fixed.js';
import { ASK, BID, type LevelView } from '../../../domain/book/l3.js';
import { toJsonValue } from '../../../domain/events/envelope.js';
import { writeItchDay } from '../../../datasets/itch/generate.js';
import { pumpFile, readFileChunks } from '../../venues/nasdaq/framing/byte-source.js';
import { ItchBookListener } from '../../venues/nasdaq/itch/book-listener.js';
import { decodeMessage } from '../../venues/nasdaq/itch/codec.js';
import { ITCH_MESSAGE_TYPES, isItchMessageType } from '../../venues/nasdaq/itch/messages.js';
import { itchFileReader, readItchFile, type ItchReadSummary } from '../../venues/nasdaq/itch/reader.js';
import { action, intOption, printJson } from '../run.js';

interface CommonOptions {
  json: boolean;
  skipErrors: boolean;
}

function errorFields(s: ItchReadSummary, o: CommonOptions): Record<string, unknown> {
  return o.skipErrors ? { errors: s.errors, errorsByCode: s.errorsByCode, firstErrors: s.firstErrors } : {};
}

function parseTypes(text: string | undefined): Uint8Array | null {
  if (text === undefined) return null;
  const wanted = new Uint8Array(256);
  for (const t of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    if (!isItchMessageType(t)) {
      throw new TapedeckError('CLI_TYPES', `--types: "${t}" is not an ITCH 5.0 message type (known, case matters: ${ITCH_MESSAGE_TYPES.join(',')})`, { field: '--types' });
    }
    wanted[t.charCodeAt(0)] = 1;
  }
  return wanted;
}

/** Writes text to stdout, waiting when the pipe is full; a closed pipe (`| head`) ends quietly. */
async function writeOut(text: string): Promise<boolean> {
  if (text.length === 0) return true;
  if (process.stdout.destroyed) return false;
  const ok = process.stdout.write(text);
  if (!ok) {
    await new Promise<void>((resolve) => {
      process.stdout.once('drain', resolve);
      process.stdout.once('error', () => resolve());
    });
  }
  return !process.stdout.destroyed;
}

async function stats(file: string, o: CommonOptions): Promise<void> {
  const counts = new Float64Array(256);
  const summary = await readItchFile(file, { payload: (b, off) => { const t = b[off]!; counts[t] = counts[t]! + 1; } }, { onError: o.skipErrors ? 'skip' : 'stop' });
  const countByType: Record<string, number> = {};
  for (const t of ITCH_MESSAGE_TYPES) countByType[t] = counts[t.charCodeAt(0)]!;
  const result = {
    messages: summary.messages,
    bytes: summary.bytes,
    countByType,
    endOfSession: summary.endOfSession,
    prefixStyle: summary.prefixStyle,
    ...errorFields(summary, o),
  };
  if (o.json) {
    printJson(result);
    return;
  }
  process.stdout.write(`${file}: ${summary.messages} messages, ${summary.bytes} bytes (length prefixes: ${summary.prefixStyle})\n`);
  for (const t of ITCH_MESSAGE_TYPES) if (countByType[t]! > 0) process.stdout.write(`  ${t}  ${String(countByType[t]).padStart(12)}\n`);
  if (summary.endOfSession) process.stdout.write(`  end of session at byte ${summary.endOfSessionOffset}\n`);
  if (o.skipErrors && summary.errors > 0) process.stdout.write(`  ${summary.errors} errors skipped: ${JSON.stringify(summary.errorsByCode)}\n`);
}

async function decode(file: string, o: CommonOptions & { limit?: number; types?: string }): Promise<void> {
  const wanted = parseTypes(o.types);
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  let printed = 0;
  let out = '';
  const reader = itchFileReader(
    {
      payload(bytes, offset, length) {
        if (printed >= limit) {
          reader.stop();
          return;
        }
        if (wanted !== null && wanted[bytes[offset]!] === 0) return;
        const m = decodeMessage(bytes, offset, length);
        out += o.json ? `${JSON.stringify(toJsonValue(m))}\n` : `${formatMessage(m as unknown as Record<string, unknown>)}\n`;
        if (++printed >= limit) reader.stop();
      },
    },
    { file, onError: o.skipErrors ? 'skip' : 'stop' },
  );
  let open = true;
  // Flush what each chunk produced before reading on, so output memory stays at about one chunk's worth.
  for await (const chunk of readFileChunks(file)) {
    reader.push(chunk);
    open = await writeOut(out);
    out = '';
    if (reader.done || !open) break;
  }
  const summary = reader.finish();
  if (open) await writeOut(out);
  if (o.skipErrors && summary.errors > 0) {
    process.stderr.write(`tapedeck: ${summary.errors} bad records skipped: ${JSON.stringify(summary.errorsByCode)}\n`);
  }
}

function formatMessage(m: Record<string, unknown>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

async function book(file: string, o: CommonOptions & { stock: string; levels: number }): Promise<void> {
  const listener = new ItchBookListener();
  const summary = await pumpFile(file, itchFileReader(listener, { file, onError: o.skipErrors ? 'skip' : 'stop' }));
  const locate = listener.locateOf(o.stock);
  if (locate === undefined) {
    const known = [...listener.symbols.values()];
    const sample = known.slice(0, 10).join(', ') + (known.length > 10 ? ', ...' : '');
    throw new TapedeckError(
      'ITCH_UNKNOWN_STOCK',
      `--stock ${o.stock} is not in the file's stock directory (${known.length} symbols${known.length > 0 ? `: ${sample}` : ''})`,
      { file, field: '--stock' },
    );
  }
  const fmt = (l: LevelView) => ({ price: formatDecimal(l.priceTicks, 4), shares: l.shares, orders: l.orders });
  const bids = listener.book.depth(locate, BID, o.levels).map(fmt);
  const asks = listener.book.depth(locate, ASK, o.levels).map(fmt);
  if (o.json) {
    printJson({ stock: o.stock, bids, asks, ...(o.skipErrors ? errorFields(summary, o) : {}) });
    return;
  }
  const inst = listener.book.peek(locate);
  process.stdout.write(`${o.stock} (locate ${locate}): ${inst?.liveOrders ?? 0} live orders, book anomalies in file: ${listener.book.anomalyCount}\n`);
  process.stdout.write(`${'bid orders'.padStart(10)} ${'bid shares'.padStart(12)} ${'bid'.padStart(12)} | ${'ask'.padEnd(12)} ${'ask shares'.padEnd(12)} ask orders\n`);
  for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
    const b = bids[i];
    const a = asks[i];
    process.stdout.write(
      `${String(b?.orders ?? '').padStart(10)} ${String(b?.shares ?? '').padStart(12)} ${(b?.price ?? '').padStart(12)} | ` +
        `${(a?.price ?? '').padEnd(12)} ${String(a?.shares ?? '').padEnd(12)} ${a?.orders ?? ''}\n`,
    );
  }
}

export function register(program: Command): void {
  const itch = program.command('itch').description('read NASDAQ TotalView-ITCH 5.0 files (BinaryFILE framing, gzip or not)');

  itch
    .command('stats')
    .description('count messages by type')
    .argument('<file>', 'ITCH 5.0 file (.gz allowed)')
    .option('--json', 'one JSON line: {"messages","bytes","countByType"}', false)
    .option('--skip-errors', 'count and skip bad records instead of stopping at the first', false)
    .action(action((file: string, o: CommonOptions) => stats(file, o)));

  itch
    .command('decode')
    .description('print messages with the spec field names (u64 as strings with --json)')
    .argument('<file>', 'ITCH 5.0 file (.gz allowed)')
    .option('--limit <n>', 'stop after n printed messages', intOption('--limit', 0))
    .option('--types <list>', 'only these message types, e.g. A,F,E (case matters: h is not H)')
    .option('--json', 'one JSON object per line', false)
    .option('--skip-errors', 'count and skip bad records instead of stopping at the first', false)
    .action(action((file: string, o: CommonOptions & { limit?: number; types?: string }) => decode(file, o)));

  itch
    .command('book')
    .description('rebuild the order book and print the price levels of one stock at the end of the file')
    .argument('<file>', 'ITCH 5.0 file (.gz allowed)')
    .requiredOption('--stock <symbol>', 'stock symbol as in the stock directory, e.g. AAPL')
    .option('--levels <n>', 'price levels per side', intOption('--levels', 1), 5)
    .option('--json', 'one JSON line: {"stock","bids":[{"price","shares","orders"}],"asks":[...]}', false)
    .option('--skip-errors', 'count and skip bad records instead of stopping at the first', false)
    .action(action((file: string, o: CommonOptions & { stock: string; levels: number }) => book(file, o)));

  itch
    .command('generate')
    .description('write a seeded synthetic ITCH 5.0 day (BinaryFILE, true length prefixes; gzip if FILE ends in .gz)')
    .argument('<file>', 'output file')
    .option('--seed <n>', 'PRNG seed', intOption('--seed', 0), 1)
    .option('--messages <n>', 'exact number of messages', intOption('--messages', 1), 1_000_000)
    .option('--symbols <n>', 'distinct stocks', intOption('--symbols', 1), 100)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (file: string, o: { seed: number; messages: number; symbols: number; json: boolean }) => {
        const r = await writeItchDay(file, { seed: o.seed, messages: o.messages, symbols: o.symbols });
        if (o.json) printJson({ file, ...r });
        else process.stdout.write(`${file}: ${r.messages} messages, ${r.bytes} bytes\n`);
      }),
    );
}
