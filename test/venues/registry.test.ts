/**
 * The venue registry (src/venues/registry.ts): every venue is one folder with the template's files and
 * one line in VENUES, its fixtures are in the repository, and the capture reader, paper mode, the
 * source resolver and the dataset catalog take what they know about venues from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../domain/core/errors.js';
import type { AnyEnvelope } from '../../domain/events/envelope.js';
import {
  VENUES, captureVenues, catalogReader, datasetFormats, findVenue, getVenue, parseVenueConfig, provideCatalogReader,
  venueIds, venueOfFormat, venueOfOwnCapture, venueOfUrl,
} from '../../src/venues/registry.js';
import { captureEventSource, cryptofeedVenueIds, detectCaptureVenue } from '../../src/venues/cryptofeed/capture.js';
import { openReplaySource, resolveSource } from '../../src/runtime/sources.js';
import { isCatalogFormat } from '../../datasets/catalog/sources.js';
import { tapedeck } from '../helpers/cli.js';
import { repoRoot } from '../helpers/tmp.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('the venue registry', () => {
  it('lists each venue once, with an upper-case id, a folder holding the template files and its fixtures in the repository', () => {
    // Derived, not listed: adding a venue touches its own folder and one registry line, never this test.
    const ids = venueIds();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['BINANCE', 'KRAKEN', 'COINBASE', 'NASDAQ']));
    const folders = fs.readdirSync(path.join(repoRoot, 'src/venues'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(repoRoot, 'src/venues', d.name, 'adapter.ts')))
      .map((d) => d.name.toUpperCase());
    expect([...ids].sort()).toEqual(folders.sort());
    for (const v of VENUES) {
      const folder = path.join(repoRoot, 'src/venues', v.id.toLowerCase());
      for (const f of ['adapter.ts', 'config.ts', 'README.md']) expect(fs.existsSync(path.join(folder, f)), `${v.id}: ${f}`).toBe(true);
      expect(v.fixtures.length, v.id).toBeGreaterThan(0);
      for (const f of v.fixtures) expect(fs.existsSync(path.join(repoRoot, f)), f).toBe(true);
      if (v.marketData?.captureFormat === 'cryptofeed') expect(v.marketData.newParser, v.id).toBeTypeOf('function');
      else if (v.marketData !== undefined) expect(v.marketData.openCapture, v.id).toBeTypeOf('function');
    }
  });

  it('finds venues by id in any case, and names the known ones when asked for another', () => {
    expect(findVenue('kraken')?.id).toBe('KRAKEN');
    expect(findVenue('NOPE')).toBeNull();
    const e = caught(() => getVenue('nope'));
    expect(isTapedeckError(e) && e.code).toBe('VENUE_UNKNOWN');
    expect((e as Error).message).toContain(venueIds().join(', '));
  });

  it('validates each venue config with strict keys, defaults filling the public endpoints', () => {
    for (const v of VENUES) expect(() => parseVenueConfig(v, {}), v.id).not.toThrow();
    expect(parseVenueConfig(getVenue('KRAKEN'), { pairs: ['XBT/USD'] })).toMatchObject({ wsUrl: 'wss://ws.kraken.com', pairs: ['XBT/USD'], bookDepth: 10 });
    const extra = caught(() => parseVenueConfig(getVenue('BINANCE'), { wsUrl: 'wss://x.test/stream', secret: 'k' }));
    expect(isTapedeckError(extra) && extra.code).toBe('VENUE_CONFIG');
    expect((extra as Error).message).toMatch(/^BINANCE config: /);
    const bad = caught(() => parseVenueConfig(getVenue('COINBASE'), { products: ['btc/usd'] }));
    expect(isTapedeckError(bad) && bad.where?.field).toBe('COINBASE.products.0');
  });

  it('tells a venue by the host of a URL', () => {
    expect(venueOfUrl('wss://stream.binance.com:9443/stream?streams=a@depth')?.id).toBe('BINANCE');
    expect(venueOfUrl('https://data.binance.vision/x')?.id).toBe('BINANCE');
    expect(venueOfUrl('wss://ws.kraken.com')?.id).toBe('KRAKEN');
    expect(venueOfUrl('wss://ws-feed.pro.coinbase.com')?.id).toBe('COINBASE');
    expect(venueOfUrl('wss://notkraken.com.evil.test')).toBeNull();
    expect(venueOfUrl('not a url')).toBeNull();
  });

  it('is where the capture reader learns its venues: each cryptofeed venue reads its own fixtures', async () => {
    expect(cryptofeedVenueIds()).toEqual(captureVenues('cryptofeed').map((v) => v.id));
    for (const v of captureVenues('cryptofeed')) {
      const ws = v.fixtures.filter((f) => /\.ws\./.test(f)).map((f) => path.join(repoRoot, f));
      expect(ws.length, v.id).toBeGreaterThan(0);
      for (const f of ws) expect(detectCaptureVenue(f)).toBe(v.id);
      const src = captureEventSource(ws);
      let n = 0;
      for await (const e of src) {
        expect(e.stream.startsWith(`md-${v.id}:`)).toBe(true);
        if (++n >= 500) break;
      }
      expect(n, v.id).toBeGreaterThan(0);
    }
  });

  it('resolves replay sources through it: a venue format of its own (ITCH) or a cryptofeed capture', async () => {
    const itch = getVenue('NASDAQ').fixtures.find((f) => /ITCH/.test(f))!;
    expect(venueOfOwnCapture(path.join(repoRoot, itch))?.id).toBe('NASDAQ');
    const spec = resolveSource(path.join(repoRoot, itch));
    expect(spec).toMatchObject({ kind: 'itch', venue: 'NASDAQ' });
    const first: AnyEnvelope[] = [];
    for await (const e of await openReplaySource(spec)) if (first.push(e) >= 3) break;
    expect(first.length).toBe(3);
    const kraken = resolveSource(path.join(repoRoot, getVenue('KRAKEN').fixtures.find((f) => /\.ws\./.test(f))!));
    expect(kraken).toMatchObject({ kind: 'cryptofeed', venue: 'KRAKEN' });
  });

  it('gives the catalog reader only once the shell provides it (src/runtime never imports datasets/)', async () => {
    const runtime = fs.readFileSync(path.join(repoRoot, 'src/runtime/sources.ts'), 'utf8');
    expect(runtime).not.toMatch(/datasets\//);
    expect(runtime).not.toMatch(/import\(\s*[a-z]/);
    const e = await catalogReader().catch((x: unknown) => x);
    expect(isTapedeckError(e) && e.code).toBe('SOURCE_KIND');
    const seen: string[] = [];
    provideCatalogReader(async () => async function* (dir: string, id: string) {
      seen.push(`${dir}#${id}`);
      yield* [] as AnyEnvelope[];
    });
    const events: AnyEnvelope[] = [];
    for await (const ev of await openReplaySource(resolveSource('catalog:/tmp/cat#ds1'))) events.push(ev);
    expect(events).toEqual([]);
    expect(seen).toEqual([`${path.resolve('/tmp/cat')}#ds1`]);
  });

  it('names the dataset formats the catalog imports, each one the catalog has a reader for', () => {
    expect(datasetFormats()).toEqual(['cryptofeed', 'binance-csv', 'itch']);
    for (const f of datasetFormats()) expect(isCatalogFormat(f), f).toBe(true);
    // A format one venue owns names its venue; the shared capture format does not.
    expect(venueOfFormat('binance-csv')?.id).toBe('BINANCE');
    expect(venueOfFormat('itch')?.id).toBe('NASDAQ');
    expect(venueOfFormat('cryptofeed')).toBeNull();
  });

  it('keeps venue names out of shared code: Kraken and Coinbase are only their folders and a registry line', () => {
    const hits: string[] = [];
    const walk = (dir: string): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) {
          const rel = path.relative(repoRoot, p);
          // A venue's own folder may name what it adapts (the ccxt family handles Kraken's ids); shared code may not.
          if (/^src\/venues\/(?!common\/|cryptofeed\/)[^/]+\//.test(rel) || rel === 'src/venues/registry.ts' || rel.startsWith('src/bench/')) continue;
          // Code only: comments may mention them as examples.
          const code = fs.readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
          if (/KRAKEN|COINBASE|KrakenParser|CoinbaseParser/i.test(code)) hits.push(rel);
        }
      }
    };
    for (const top of ['src', 'datasets', 'replay', 'projections']) walk(path.join(repoRoot, top));
    expect(hits).toEqual([]);
    // The shared capture format knows no venue at all: parsers and the Binance book procedure come from the registry.
    for (const f of fs.readdirSync(path.join(repoRoot, 'src/venues/cryptofeed')).filter((n) => n.endsWith('.ts'))) {
      const code = fs.readFileSync(path.join(repoRoot, 'src/venues/cryptofeed', f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const v of venueIds()) expect(code, `${f} names ${v}`).not.toMatch(new RegExp(`${v}|from '\\.\\./${v.toLowerCase()}/`, 'i'));
    }
  });

  it('starts the simulated NASDAQ and connects the OUCH client to it, both from the registry', async () => {
    const nasdaq = getVenue('NASDAQ');
    const credentials = { username: 'trader', password: 'pw' };
    const sim = await nasdaq.execution!.startSim!({ credentials });
    try {
      const client = nasdaq.execution!.newClient(parseVenueConfig(nasdaq, { port: sim.port, firm: 'TAPE' }), { credentials });
      await client.connect();
      expect(client.venue).toBe('NASDAQ');
      await client.close();
      const e = caught(() => nasdaq.execution!.newClient(parseVenueConfig(nasdaq, { port: sim.port }), { credentials: {} }));
      expect(isTapedeckError(e) && e.code).toBe('VENUE_CREDENTIALS');
    } finally {
      await sim.close();
    }
  });

  it('tapedeck venues --json lists the registry, one line a venue', () => {
    const r = tapedeck(['venues', '--json']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; captureFormat: string | null; execution: boolean });
    expect(rows.map((x) => x.id)).toEqual(venueIds());
    expect(rows.find((x) => x.id === 'NASDAQ')).toMatchObject({ captureFormat: 'itch', execution: true });
  });
});
