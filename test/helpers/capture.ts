import fs from 'node:fs';
import path from 'node:path';

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
