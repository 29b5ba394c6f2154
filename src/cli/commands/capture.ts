/**
 * `tapedeck capture info|serve`: recorded exchange traffic (cryptofeed captures) from the command line.
 * - info: venue, REST companions, instruments with their scales, events by type, time range.
 * - serve: the loopback replay server (websocket + recorded REST), for paper trading by hand.
 * FILES are websocket captures of one venue (several are merged by receive time).
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { describeCapture } from '../../venues/cryptofeed/capture.js';
import { startCaptureReplayServer } from '../../venues/cryptofeed/replay-server.js';
import { action, intOption, printJson } from '../run.js';

function parseSpeed(text: string): number | 'max' {
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new TapedeckError('CLI_SPEED', `--speed must be a number >= 0 or "max", got "${text}"`, { field: '--speed' });
  return n;
}

export function register(program: Command): void {
  const capture = program.command('capture').description('recorded exchange traffic (cryptofeed capture files)');
  capture
    .command('info')
    .description('venue, instruments, events by type and time range of a capture')
    .argument('<files...>', 'websocket capture files of one venue')
    .option('--skip-errors', 'report bad lines and frames and go on', false)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (files: string[], o: { skipErrors: boolean; json: boolean }) => {
        const d = await describeCapture(files, { onBadLine: o.skipErrors ? 'skip' : 'stop' });
        if (o.json) {
          printJson(d);
          return;
        }
        const out = process.stdout;
        out.write(`venue       ${d.venue}\nfiles       ${d.files.join(' ')}\nrest files  ${d.restFiles.join(' ') || '(none)'}\n`);
        if (d.firstReceiveNs !== null && d.lastReceiveNs !== null) {
          out.write(`received    ${new Date(Number(d.firstReceiveNs / 1_000_000n)).toISOString()} .. ${new Date(Number(d.lastReceiveNs / 1_000_000n)).toISOString()}\n`);
        }
        out.write('instruments\n');
        for (const i of d.instruments) out.write(`  ${i.instrument.padEnd(22)} priceScale ${i.priceScale} tick ${i.tickSizeTicks}  qtyScale ${i.qtyScale} lot ${i.lotSizeLots}\n`);
        out.write('events\n');
        for (const [k, v] of Object.entries(d.events)) out.write(`  ${k.padEnd(22)} ${v}\n`);
        out.write('frames\n');
        for (const [k, v] of Object.entries(d.frames)) out.write(`  ${k.padEnd(22)} ${v}\n`);
        if (d.issues.length > 0) {
          out.write(`issues      ${d.issues.length}\n`);
          for (const i of d.issues.slice(0, 10)) out.write(`  ${i.file}:${i.line} ${i.code}: ${i.message}\n`);
        }
      }),
    );
  capture
    .command('serve')
    .description('replay a capture over a loopback websocket (and its recorded REST answers) until stopped')
    .argument('<files...>', 'websocket capture files of one venue (one per recorded connection)')
    .option('--speed <x>', '1 = real time, N = N times faster, max = as fast as possible', parseSpeed, 1 as number | 'max')
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free one)', intOption('--port', 0), 0)
    .option('--json', 'print the URLs as one JSON line', false)
    .action(
      action(async (files: string[], o: { speed: number | 'max'; port: number; json: boolean }) => {
        const server = await startCaptureReplayServer({ captures: files, speed: o.speed, port: o.port });
        const info = {
          venue: server.venue, wsBaseUrl: server.wsBaseUrl, httpBaseUrl: server.httpBaseUrl,
          connections: server.connections.map((c) => ({ url: server.urlFor(c.url), recordedUrl: c.url, frames: c.frames, sent: c.sent.length })),
        };
        if (o.json) printJson(info);
        else {
          process.stdout.write(`replaying ${server.venue} at ${o.speed === 'max' || o.speed === 0 ? 'full speed' : `${o.speed}x`}; REST at ${server.httpBaseUrl}\n`);
          for (const c of info.connections) process.stdout.write(`  ${c.url}  (${c.frames} frames)\n`);
          process.stdout.write('Ctrl-C to stop\n');
        }
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await server.close();
      }),
    );
}
