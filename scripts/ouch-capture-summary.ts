/**
 * Summarises captures in the nluka packet-capture format (SoupBinTCP 'S' packets carrying OUCH 4.2,
 * split across `[u16 stream][u32 length]` records) in the layout of the fixtures' .expected files.
 *   npx tsc -p . && node dist/scripts/ouch-capture-summary.js <file.packets>...
 * Bad input is one line on stderr naming the file, stream and byte offset, and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { reportError } from '../src/cli/run.js';
import { formatCaptureSummary, summarizeOuchCapture } from '../src/venues/nasdaq/ouch42/capture.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: ouch-capture-summary <file.packets>...\n');
  process.exitCode = 2;
}
for (const file of files) {
  try {
    const summary = summarizeOuchCapture(new Uint8Array(readFileSync(file)), file);
    if (files.length > 1) process.stdout.write(`== ${file}\n`);
    process.stdout.write(formatCaptureSummary(summary));
    for (const [stream, bytes] of summary.incomplete) process.stderr.write(`${file}: stream ${stream} ends inside a packet (${bytes} bytes left over)\n`);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}
