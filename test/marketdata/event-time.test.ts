/**
 * The event-time policy (src/venues/common/event-time.ts), for every JSON venue of the registry: event
 * time is venue time, set by frame order alone. The same recording with every receive time moved by an
 * hour gives exactly the same event times, through each venue's parser and the capture reader; and each
 * parser takes its times through the one helper.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import { VenueClock } from '../../src/venues/common/event-time.js';
import type { FrameContext } from '../../src/venues/common/frame.js';
import { captureEventSource } from '../../src/venues/cryptofeed/capture.js';
import { captureVenues, getVenue } from '../../src/venues/registry.js';
import { makeEvent } from '../../domain/events/envelope.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const HOUR_S = 3600n;
const HOUR_NS = HOUR_S * 1_000_000_000n;

/** A copy of a cryptofeed capture whose every capture timestamp (receive time) is `HOUR_S` later. */
function shifted(file: string, dir: string): string {
  const text = fs.readFileSync(file, 'utf8');
  const out = text.split('\n').map((line) => {
    if (line.startsWith('configuration: ') || line === '') return line;
    return line.replace(/^((?:\S+ (?:<->|<-|->) )?)(\d+)((?:\.\d*)?)/, (_m, pre: string, s: string, frac: string) => `${pre}${BigInt(s) + HOUR_S}${frac}`);
  });
  const to = path.join(dir, path.basename(file));
  fs.writeFileSync(to, out.join('\n'));
  return to;
}

/**
 * A copy of a recording with its websocket captures cut to their first 2500 lines (Coinbase's and Kraken's
 * book capture are longer; every message type and snapshot is in the prefix; the full captures are parsed in
 * capture.test.ts): the check is per event, the length adds only more of the same. REST files are copied whole.
 */
function wsPrefix(file: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const to = path.join(dir, path.basename(file));
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (!/\.ws\./.test(file) || lines.length <= 2501) fs.copyFileSync(file, to);
  else fs.writeFileSync(to, lines.slice(0, 2500).join('\n') + '\n');
  return to;
}

/** A venue's fixture recording through the capture reader (REST companions, merge, book procedure). */
async function read(files: string[]): Promise<AnyEnvelope[]> {
  const out: AnyEnvelope[] = [];
  for await (const e of captureEventSource(files.filter((f) => /\.ws\./.test(f)))) out.push(e);
  return out;
}

describe('event time is venue time, for every JSON venue in the registry', () => {
  const venues = captureVenues('cryptofeed').map((v) => v.id);

  it('covers the venues it should', () => {
    expect(venues).toEqual(['BINANCE', 'KRAKEN', 'COINBASE']);
  });

  for (const venue of venues) {
    it(`${venue}: the same recording received an hour later gets the same event times, for every event`, async () => {
      const t = tmpDir('td-evtime-');
      try {
        const files = getVenue(venue).fixtures.map((f) => wsPrefix(path.join(repoRoot, f), path.join(t.dir, 'cut')));
        const a = await read(files);
        const b = await read(files.map((f) => shifted(f, t.dir)));
        expect(a.length).toBeGreaterThan(100);
        expect(b.map((e) => e.id)).toEqual(a.map((e) => e.id));
        expect(b.map((e) => [e.type, e.eventTimeNs])).toEqual(a.map((e) => [e.type, e.eventTimeNs]));
        // Receive times did move, so the equality above is not a coincidence of equal inputs.
        for (let i = 0; i < a.length; i++) expect(b[i]!.receiveTimeNs - a[i]!.receiveTimeNs).toBe(HOUR_NS);
        expect(new Set(a.map((e) => e.type)).has('InstrumentDefined')).toBe(true);
      } finally {
        t.cleanup();
      }
    });
  }

  it('Kraken: a ticker takes the latest venue time seen, not its receive time', async () => {
    const events = await read(getVenue('KRAKEN').fixtures.map((f) => path.join(repoRoot, f)));
    const tickers = events.filter((e) => e.type === 'QuoteUpdated');
    expect(tickers.length).toBeGreaterThan(0);
    for (const t of tickers) expect(t.eventTimeNs).not.toBe(t.receiveTimeNs);
  });

  it('every JSON venue parser takes its times through the one helper and never stamps receive time as event time', () => {
    for (const venue of venues) {
      const src = fs.readFileSync(path.join(repoRoot, 'src/venues', venue.toLowerCase(), 'parse.ts'), 'utf8');
      expect(src, venue).toMatch(/import \{ VenueClock \} from '\.\.\/common\/event-time\.js'/);
      expect(src, venue).not.toMatch(/eventTimeNs:\s*ctx\.receiveTimeNs/);
      expect(src, venue).not.toMatch(/lastVenueNs/);
    }
  });
});

describe('VenueClock', () => {
  const ev = (id: string, t: bigint): AnyEnvelope => makeEvent({ id: `00000000-0000-4000-8000-00000000000${id}`, type: 'TimerFired', stream: 's', eventTimeNs: t, receiveTimeNs: t, data: { timerId: id, scheduledNs: t } }) as AnyEnvelope;
  const ctx: FrameContext = { file: 'f', line: 1, receiveTimeNs: 999n };

  it('keeps the greatest venue time seen; untimed messages take it, or the receive time before any', () => {
    const c = new VenueClock();
    expect(c.untimed(ctx)).toBe(999n);
    expect(c.stamp(10n)).toBe(10n);
    c.stamp(7n);
    expect(c.untimed(ctx)).toBe(10n);
    expect(c.latestNs).toBe(10n);
  });

  it('releases held messages at the next stamp of their key (or of anything), with its time; flush gives the rest as made', () => {
    const c = new VenueClock();
    c.hold([ev('1', 1n)], 'A');
    c.hold([ev('2', 2n)]);
    expect(c.hold([ev('3', 3n)], 'A', { replace: true }).map((e) => e.eventTimeNs)).toEqual([1n]);
    const out: AnyEnvelope[] = [];
    c.stamp(50n, out, 'B');
    expect(out.map((e) => [e.data, e.eventTimeNs])).toEqual([[{ timerId: '2', scheduledNs: 2n }, 50n]]);
    expect(() => c.stamp(60n)).toThrow(/held/);
    c.stamp(70n, out, 'A');
    expect(out.map((e) => e.eventTimeNs)).toEqual([50n, 70n]);
    c.hold([ev('4', 4n)], 'C');
    expect(c.flush().map((e) => e.eventTimeNs)).toEqual([4n]);
    expect(c.flush()).toEqual([]);
  });

  it('lets messages wait for the first venue time, but not forever: past the bound they go out as made', () => {
    const c = new VenueClock(2);
    expect(c.awaitVenueTime([ev('1', 1n)])).toEqual([]);
    expect(c.awaitVenueTime([ev('2', 2n)])).toEqual([]);
    expect(c.awaitVenueTime([ev('3', 3n)]).map((e) => e.eventTimeNs)).toEqual([1n, 2n, 3n]);
    expect(c.awaitVenueTime([ev('4', 4n)])).toEqual([]);
    const out: AnyEnvelope[] = [];
    c.stamp(40n, out);
    expect(out.map((e) => e.eventTimeNs)).toEqual([40n]);
  });
});
