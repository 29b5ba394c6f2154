import fs from 'node:fs';
import path from 'node:path';
import { ITCH_MESSAGE_LENGTHS } from '../../src/venues/nasdaq/itch/messages.js';

/**
 * The first `lines` lines of a recorded websocket capture (cryptofeed layout), written under the same name
 * into `dir` beside copies of the REST files recorded with it (`COINBASE.0`, `BINANCE.http.0.0`): the same
 * venue, connection and snapshots, over a shorter stretch of time. For tests where the input's size is not
 * the point (a full-size run of the same capture stays where it is). Returns the new capture's path.
 */
export function capturePrefix(capture: string, lines: number, dir: string): string {
  const name = path.basename(capture);
  const venue = name.split('.')[0]!;
  const text = fs.readFileSync(capture, 'utf8');
  let end = -1;
  for (let i = 0; i < lines; i++) {
    end = text.indexOf('\n', end + 1);
    if (end < 0) throw new Error(`${capture} has fewer than ${lines} lines`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, name);
  fs.writeFileSync(out, text.slice(0, end + 1));
  const from = path.dirname(capture);
  for (const f of fs.readdirSync(from)) {
    if (f.startsWith(`${venue}.`) && !/\.ws\./.test(f)) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  }
  return out;
}

/**
 * The first `messages` messages of an ITCH 5.0 file (BinaryFILE framing: a 2-byte prefix, the length implied
 * by the message type), written under the same name into `dir`. Returns the new file's path.
 */
export function itchPrefix(file: string, messages: number, dir: string): string {
  const bytes = fs.readFileSync(file);
  let off = 0;
  for (let i = 0; i < messages; i++) {
    const len = ITCH_MESSAGE_LENGTHS[bytes[off + 2]!];
    if (!len) throw new Error(`${file}: no ITCH message type at offset ${off}`);
    off += 2 + len;
  }
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, path.basename(file));
  fs.writeFileSync(out, bytes.subarray(0, off));
  return out;
}
