/** `tapedeck store append|read|verify|copy`: the event store from the command line. */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { z } from 'zod';
import { TapedeckError } from '../../../domain/core/errors.js';
import { UUID_RE } from '../../../domain/core/sha256.js';
import { isEventType } from '../../../domain/events/catalog.js';
import { formatIssues, parsePayload } from '../../../domain/events/envelope.js';
import { checkByReading, copyStore } from '../../store/copy.js';
import { assertRunOpen, openRunStore } from '../../runtime/run-streams.js';
import { openStore } from '../../store/open.js';
import type { EventData, ExpectedRevision, RecordedEvent } from '../../store/port.js';
import { damagedRanges, describeCorrupt, describeDamage } from '../../store/damage.js';
import { action, ExitCode, intOption, noteLine, partialAnswer, printJson } from '../run.js';

const lineSchema = z.object({
  id: z.string().regex(UUID_RE, 'must be a UUID').optional(),
  type: z.string().min(1).max(255),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export function parseExpectedRevision(text: string | undefined): ExpectedRevision {
  if (text === undefined || text === 'any') return 'any';
  if (text === 'no_stream' || text === 'no-stream') return 'no_stream';
  if (text === 'stream_exists' || text === 'stream-exists') return 'stream_exists';
  const n = Number(text);
  if (Number.isSafeInteger(n) && n >= 0) return n;
  throw new TapedeckError('EXPECTED_REVISION', `--expected-revision must be any, no_stream, stream_exists or an integer >= 0, got "${text}"`, { field: '--expected-revision' });
}

/** Parses JSON lines into events; any bad line fails the whole batch, naming the line and field. */
export function parseEventLines(text: string, strict: boolean, source = 'stdin'): EventData[] {
  const events: EventData[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new TapedeckError('INPUT_JSON', `malformed JSON: ${(e as Error).message}`, { file: source, line });
    }
    const r = lineSchema.safeParse(value);
    if (!r.success) {
      const { field, message } = formatIssues(r.error);
      throw new TapedeckError('INPUT_EVENT', message, { file: source, line, field });
    }
    const e = r.data;
    if (strict) {
      if (!isEventType(e.type)) throw new TapedeckError('EVENT_UNKNOWN_TYPE', `unknown event type "${e.type}" (--strict checks the domain catalogue)`, { file: source, line, field: 'type' });
      parsePayload(e.type, e.data, { file: source, line });
    }
    events.push({ id: e.id ?? randomUUID(), type: e.type, data: e.data, metadata: e.metadata });
  }
  return events;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function recordedToJson(e: RecordedEvent): Record<string, unknown> {
  return {
    id: e.id,
    type: e.type,
    stream: e.stream,
    revision: e.revision,
    position: e.position,
    data: e.isJson ? e.data : { $bytesBase64: Buffer.from(e.data as Uint8Array).toString('base64') },
    metadata: e.metadata,
  };
}

export function register(program: Command): void {
  const store = program.command('store').description('append, read, verify and copy an event store');

  store
    .command('append')
    .description('append JSON lines from stdin to one stream, as one atomic append; exits 0 once durable')
    .requiredOption('--store <dir>', 'store directory (created if missing)')
    .requiredOption('--stream <name>', 'stream to append to')
    .option('--expected-revision <rev>', 'any | no_stream | stream_exists | N', 'any')
    .option('--strict', 'check each event against the domain catalogue', false)
    .action(
      action(async (opts: { store: string; stream: string; expectedRevision: string; strict: boolean }) => {
        const expected = parseExpectedRevision(opts.expectedRevision);
        const events = parseEventLines(await readStdin(), opts.strict);
        if (events.length === 0) throw new TapedeckError('INPUT_EMPTY', 'no events on stdin (one JSON object per line)', { file: 'stdin' });
        const s = await openRunStore(opts.store, {}, noteLine);
        try {
          await assertRunOpen(s, opts.stream);
          const r = await s.appendToStream(opts.stream, events, { expectedRevision: expected });
          printJson({ stream: opts.stream, events: events.length, nextExpectedRevision: r.nextExpectedRevision, position: r.position });
        } finally {
          await s.close();
        }
      }),
    );

  store
    .command('read')
    .description('read events as JSON lines')
    .requiredOption('--store <dir>', 'store directory')
    .option('--stream <name>', 'one stream')
    .option('--all', 'every stream, in global order', false)
    .option('--from <n>', 'first revision (with --stream) or position (with --all)', intOption('--from'))
    .option('--max <n>', 'at most this many events', intOption('--max', 1))
    .option('--json', 'JSON lines (the only format for now)', true)
    .action(
      action(async (opts: { store: string; stream?: string; all: boolean; from?: number; max?: number }) => {
        if (!opts.stream === !opts.all) throw new TapedeckError('USAGE', 'give exactly one of --stream NAME or --all');
        const s = await openStore(opts.store, { readOnly: true });
        try {
          const it = opts.stream
            ? s.readStream(opts.stream, { fromRevision: opts.from ?? 'start', maxCount: opts.max })
            : s.readAll({ fromPosition: opts.from ?? 'start', maxCount: opts.max });
          const out: string[] = [];
          for await (const e of it) {
            out.push(JSON.stringify(recordedToJson(e)));
            if (out.length >= 1000) {
              process.stdout.write(out.join('\n') + '\n');
              out.length = 0;
            }
          }
          if (out.length) process.stdout.write(out.join('\n') + '\n');
          const damaged = damagedRanges(s);
          if (damaged.length > 0) throw partialAnswer(describeDamage(damaged));
        } finally {
          await s.close();
        }
      }),
    );

  store
    .command('verify')
    .description('check every event of the store: the embedded log record by record (exit 0 unless a record is corrupt; a torn tail is not corruption), KurrentDB by reading $all (every event decodes, revisions run 0, 1, 2... in each stream)')
    .requiredOption('--store <location>', 'store directory, or kurrentdb://host:2113?tls=false')
    .option('--json', 'print one JSON object', false)
    .action(
      action(async (opts: { store: string; json: boolean }) => {
        const s = await openStore(opts.store, { readOnly: true });
        const verify = s.capabilities?.verify;
        if (!verify) {
          // A backend without a log of its own to check (KurrentDB): read everything through the port.
          let checked;
          try {
            checked = await checkByReading(s);
          } finally {
            await s.close();
          }
          if (opts.json) printJson({ ...checked, checkedBy: 'reading $all' });
          else {
            process.stdout.write(`${checked.ok ? 'ok' : 'BAD'}: ${checked.events} events, ${checked.streams} streams, read through $all${checked.lastPosition >= 0 ? ` to position ${checked.lastPosition}` : ''}\n`);
            for (const p of checked.problems) process.stdout.write(`  ${p.position !== null ? `position ${p.position}: ` : ''}${p.reason}\n`);
          }
          if (!checked.ok) throw new ExitCode(1);
          return;
        }
        const h = verify();
        await s.close();
        const report = {
          ok: h.ok,
          records: h.records,
          events: h.events,
          streams: h.streams,
          corrupt: h.corrupt.map((c) => ({
            segment: c.segment, offset: c.offset, length: c.length, reason: c.reason,
            ...(c.fromPosition !== undefined ? { fromPosition: c.fromPosition, toPosition: c.toPosition ?? null } : {}),
          })),
          truncatedTail: h.truncatedTail,
          tornTailBytes: h.tornTailBytes,
        };
        if (opts.json) printJson(report);
        else {
          process.stdout.write(`${h.ok ? 'ok' : 'CORRUPT'}: ${h.records} records, ${h.events} events, ${h.streams} streams${h.truncatedTail ? `, torn tail of ${h.tornTailBytes} bytes (an unacknowledged append)` : ''}\n`);
          for (const c of h.corrupt) process.stdout.write(`  corrupt: ${describeCorrupt(c)}\n`);
        }
        if (!h.ok) throw new ExitCode(1);
      }),
    );

  store
    .command('copy')
    .description('copy every event of one store into another (embedded to KurrentDB and back): ids, order, stream revisions, data, raw bytes and metadata; positions are the destination\'s')
    .requiredOption('--from <location>', 'source: store directory or kurrentdb://...')
    .requiredOption('--to <location>', 'destination: an empty store directory or kurrentdb://... (see --resume)')
    .option('--resume', 'continue a copy that stopped: the destination must hold the start of the source, checked event by event', false)
    .option('--batch <n>', 'events per append at most', intOption('--batch', 1), 500)
    .option('--json', 'print one JSON object', false)
    .action(
      action(async (opts: { from: string; to: string; resume: boolean; batch: number; json: boolean }) => {
        if (opts.from === opts.to) throw new TapedeckError('USAGE', `--from and --to are the same store (${opts.from})`, { field: '--to' });
        const from = await openStore(opts.from, { readOnly: true, create: false });
        try {
          const to = await openStore(opts.to);
          try {
            const r = await copyStore(from, to, { resume: opts.resume, batchEvents: opts.batch });
            const head = await to.headPosition();
            if (opts.json) printJson({ ...r, from: opts.from, to: opts.to, destinationHead: head });
            else process.stdout.write(`copied ${r.copied} events${r.alreadyThere ? ` (${r.alreadyThere} were there already)` : ''} in ${r.streams} streams, ${r.appends} appends; the destination holds ${r.events} events\n`);
          } finally {
            await to.close();
          }
        } finally {
          await from.close();
        }
      }),
    );
}
