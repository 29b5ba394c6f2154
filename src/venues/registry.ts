/**
 * The venue registry: every venue tapedeck knows, one line each. A venue is one folder under
 * src/venues/ (see README.md there) whose adapter.ts exports a VenueAdapter; adding a venue is that
 * folder plus its line in VENUES below. The CLI, the capture reader, paper mode and the dataset catalog
 * ask this module; none keeps a venue list or a switch of its own.
 *
 * Layering: src/venues must not import datasets/, projections/ or replay/. What lives there and is
 * still looked up by venue-independent code (the dataset catalog's reader) is provided by the shell
 * (src/cli) at start-up through `provideCatalogReader`.
 */
import { TapedeckError } from '../../domain/core/errors.js';
import { formatIssues } from '../../domain/events/envelope.js';
import type { CaptureFormat, VenueAdapter } from './adapter.js';
import { alpaca } from './alpaca/adapter.js';
import { binance } from './binance/adapter.js';
import { coinbase } from './coinbase/adapter.js';
import { kalshi } from './kalshi/adapter.js';
import { kraken } from './kraken/adapter.js';
import { nasdaq } from './nasdaq/adapter.js';
import { polymarket } from './polymarket/adapter.js';

export type { CaptureFormat, VenueAdapter } from './adapter.js';

/** Every venue, one line each. */
export const VENUES: readonly VenueAdapter<any>[] = Object.freeze([
  binance,
  kraken,
  coinbase,
  nasdaq,
  polymarket,
  kalshi,
  alpaca,
]);

const BY_ID: ReadonlyMap<string, VenueAdapter<any>> = indexById(VENUES);

function indexById(venues: readonly VenueAdapter<any>[]): Map<string, VenueAdapter<any>> {
  const m = new Map<string, VenueAdapter<any>>();
  for (const v of venues) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(v.id)) throw new Error(`venue id "${v.id}" must be upper case letters, digits and _`);
    if (m.has(v.id)) throw new Error(`venue ${v.id} is registered twice`);
    m.set(v.id, v);
  }
  return m;
}

export function venueIds(): string[] {
  return VENUES.map((v) => v.id);
}

/** The venue with this id (any case), or null. */
export function findVenue(id: string): VenueAdapter<any> | null {
  return BY_ID.get(id.toUpperCase()) ?? null;
}

/** The venue with this id (any case); a user-facing error listing the known ones otherwise. */
export function getVenue(id: string): VenueAdapter<any> {
  const v = findVenue(id);
  if (v === null) throw new TapedeckError('VENUE_UNKNOWN', `unknown venue "${id}" (known: ${venueIds().join(', ')})`, { field: 'venue' });
  return v;
}

/** Venues whose recordings come in `format`. */
export function captureVenues(format: CaptureFormat): VenueAdapter<any>[] {
  return VENUES.filter((v) => v.marketData?.captureFormat === format);
}

/** The venue whose endpoints live on this URL's host, or null. */
export function venueOfUrl(url: string): VenueAdapter<any> | null {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  return VENUES.find((v) => v.hosts.some((re) => re.test(host))) ?? null;
}

/** The venue owning a recording in a format of its own (ITCH), told by the file name; else null. */
export function venueOfOwnCapture(file: string): VenueAdapter<any> | null {
  return VENUES.find((v) => v.marketData?.captureFormat !== 'cryptofeed' && v.marketData?.recognisesCapture?.(file) === true) ?? null;
}

/** Validates a venue's config (strict keys); errors name the venue and the field. */
export function parseVenueConfig<C>(venue: VenueAdapter<C>, raw: unknown): C {
  const r = venue.config.safeParse(raw ?? {});
  if (r.success) return r.data;
  // An unknown key's path ends with the key itself, and its message names the closest known key.
  const { field, message } = formatIssues(r.error);
  throw new TapedeckError('VENUE_CONFIG', `${venue.id} config: ${message}`, { field: `${venue.id}.${field}` });
}

/**
 * Dataset formats the catalog imports: every capture format of a registered venue, and the archive
 * formats venues declare (`binance-csv`), in registry order.
 */
export function datasetFormats(): string[] {
  const out: string[] = [];
  for (const v of VENUES) {
    for (const f of [v.marketData?.captureFormat, ...(v.marketData?.archiveFormats ?? [])]) {
      if (f !== undefined && !out.includes(f)) out.push(f);
    }
  }
  return out;
}

/**
 * The one venue whose recordings or archives come in `format` (`itch` → NASDAQ, `binance-csv` → BINANCE),
 * or null when none or several do (`cryptofeed` is shared: there the file names the venue).
 */
export function venueOfFormat(format: string): VenueAdapter<any> | null {
  const owners = VENUES.filter((v) => v.marketData?.captureFormat === format || (v.marketData?.archiveFormats ?? []).includes(format));
  return owners.length === 1 ? owners[0]! : null;
}

// ---------------------------------------------------------------- provided by the shell

// The dataset catalog's reader (catalog-reader.ts: a module of its own, so the CLI can provide it without loading every venue).
export { catalogReader, provideCatalogReader, type CatalogReader } from './catalog-reader.js';
