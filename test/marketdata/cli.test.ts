/**
 * `tapedeck capture info|serve` through the compiled CLI (npm test builds dist/ first).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BinanceMarketDataClient } from '../../src/venues/binance/marketdata.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { CLI, tapedeck } from '../helpers/cli.js';
import { datasetsDir, repoRoot } from '../helpers/tmp.js';

const BINANCE_WS = path.join(datasetsDir, 'recorded_ws/cryptofeed/BINANCE.ws.1.0');

describe('tapedeck capture', () => {
  it('info --json: venue, instruments and event counts equal the library reader', async () => {
    const r = tapedeck(['capture', 'info', BINANCE_WS, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { venue: string; instruments: Array<{ instrument: string }>; events: Record<string, number> };
    const src = captureEventSource(BINANCE_WS);
    const ids: string[] = [];
    for await (const e of src) if (e.type === 'InstrumentDefined') ids.push(e.data.instrument);
    expect(d.venue).toBe('BINANCE');
    expect(d.instruments.map((i) => i.instrument)).toEqual(ids);
    expect(d.events).toEqual(src.stats.events);
  });

  it('a missing file: one line on stderr naming it, exit 2', () => {
    const r = tapedeck(['capture', 'info', '/nonexistent/BINANCE.ws.1.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('CAPTURE_READ');
    expect(r.stderr).toContain('/nonexistent/BINANCE.ws.1.0');
  });

  it('serve: a live adapter connected to the printed URL gets the capture; SIGTERM stops the server', async () => {
    const child = spawn(process.execPath, [CLI, 'capture', 'serve', BINANCE_WS, '--speed', 'max', '--json'], { cwd: repoRoot });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
        });
        child.on('exit', (c) => reject(new Error(`serve exited with ${c}`)));
      });
      const info = JSON.parse(line) as { httpBaseUrl: string; connections: Array<{ url: string }> };
      const client = new BinanceMarketDataClient({ wsUrl: info.connections[0]!.url, restUrl: info.httpBaseUrl });
      let n = 0;
      for await (const _ of client.events()) n++;
      let expected = 0;
      for await (const _ of captureEventSource(BINANCE_WS)) expected++;
      expect(n).toBe(expected);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
