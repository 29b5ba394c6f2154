import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { UUID_RE, uuidFromName } from '../../domain/core/sha256.js';
import { envelopeToStored, parsePayload, storedToEnvelope, type AnyEnvelope } from '../../domain/events/envelope.js';
import { writeItchDay } from '../../datasets/itch/generate.js';
import { decodeMessage } from '../../src/venues/nasdaq/itch/codec.js';
import type { ItchMessage } from '../../src/venues/nasdaq/itch/messages.js';
import { readItchFile } from '../../src/venues/nasdaq/itch/reader.js';
import { ItchEventMapper, itchEventSource, nasdaqMidnightNs } from '../../src/venues/nasdaq/itch/to-events.js';
import { ItchMessageView } from '../../src/venues/nasdaq/itch/views.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';

const FILE = path.join(datasetsDir, 'itch/ritch_ex20101224.TEST_ITCH_50');
const tmp = tmpDir('tapedeck-itch-events-');
afterAll(() => tmp.cleanup());

async function collect(file: string, options: Parameters<typeof itchEventSource>[1] = {}): Promise<AnyEnvelope[]> {
  const out: AnyEnvelope[] = [];
  for await (const e of itchEventSource(file, options)) out.push(e);
  return out;
}

/** expect(data).toMatchObject(want) for flat `want`, with expect() called only when a field differs (per-event checks). */
function expectHas(data: unknown, want: Record<string, unknown>): void {
  const d = data as Record<string, unknown>;
  if (!Object.entries(want).every(([k, v]) => isDeepStrictEqual(d[k], v))) expect(data).toMatchObject(want);
}

describe('ITCH → catalogue events', () => {
  it('maps the RITCH sample: one event per mapped message, all valid catalogue payloads', async () => {
    const midnight = nasdaqMidnightNs('2010-12-24');
    let summary: { messages: number } | undefined;
    const events = await collect(`${FILE}.gz`, { sessionMidnightNs: midnight, chunkSize: 5000, onSummary: (s) => (summary = s) });
    expect(summary?.messages).toBe(12012);
    const counts: Record<string, number> = {};
    // Each check calls expect() only when it fails (expect() per event is the slow part): the same checks.
    for (const e of events) {
      counts[e.type] = (counts[e.type] ?? 0) + 1;
      const payload = parsePayload(e.type, e.data);
      if (!payload) expect(payload).toBeTruthy();
      if (!UUID_RE.test(e.id)) expect(e.id).toMatch(UUID_RE);
      const stream = `md-${(e.data as { instrument: string }).instrument}`;
      if (e.stream !== stream) expect(e.stream).toBe(stream);
      // The raw bytes are the message, and its timestamp gives the event time.
      const m = decodeMessage(e.raw!.bytes);
      if (e.eventTimeNs !== midnight + BigInt(m.timestamp)) expect(e.eventTimeNs).toBe(midnight + BigInt(m.timestamp));
      if (e.raw!.format !== 'itch50') expect(e.raw!.format).toBe('itch50');
    }
    expect(counts).toEqual({
      InstrumentDefined: 3, TradingStatusChanged: 3, BookOrderAdded: 5000, BookOrderExecuted: 198,
      BookOrderCanceled: 45, BookOrderDeleted: 1745, BookOrderReplaced: 12, TradeReported: 5000,
    });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const first = events[0]!;
    expect(first.type).toBe('InstrumentDefined');
    expect(first.data).toMatchObject({ venue: 'NASDAQ', instrument: 'NASDAQ:ALC', symbol: 'ALC', kind: 'equity', priceScale: 4, qtyScale: 0, locate: 1 });
    expect(first.id).toBe(uuidFromName('itch50', 'ritch_ex20101224.TEST_ITCH_50.gz:1'));
  });

  it('maps fields exactly: orders, executions, replaces, trades', async () => {
    const events = await collect(FILE);
    const byType = (t: string) => events.filter((e) => e.type === t);
    for (const e of byType('BookOrderAdded')) {
      const m = decodeMessage(e.raw!.bytes) as Extract<ItchMessage, { messageType: 'A' | 'F' }>;
      expectHas(e.data, {
        orderRef: m.orderReferenceNumber.toString(), side: m.buySellIndicator === 'B' ? 'buy' : 'sell', priceTicks: m.price, qtyLots: m.shares,
        instrument: `NASDAQ:${m.stock.trimEnd()}`,
      });
      if (m.messageType === 'F') expectHas(e.data, { mpid: m.attribution.trimEnd() });
    }
    const rep = byType('BookOrderReplaced')[0]!;
    const u = decodeMessage(rep.raw!.bytes) as Extract<ItchMessage, { messageType: 'U' }>;
    expect(rep.data).toMatchObject({ orderRef: u.originalOrderReferenceNumber.toString(), newOrderRef: u.newOrderReferenceNumber.toString(), priceTicks: u.price, qtyLots: u.shares });
    const ex = byType('BookOrderExecuted')[0]!;
    const em = decodeMessage(ex.raw!.bytes) as Extract<ItchMessage, { messageType: 'E' }>;
    expect(ex.data).toMatchObject({ executedLots: em.executedShares, matchNumber: em.matchNumber.toString() });
    // E carries only a locate: the instrument comes from the stock directory.
    expect((ex.data as { instrument: string }).instrument).toMatch(/^NASDAQ:(ALC|BOB|CHAR)$/);
    for (const t of byType('TradeReported')) expectHas(t.data, { aggressor: 'unknown' });
    expect(byType('TradingStatusChanged').map((e) => (e.data as { status: string }).status)).toEqual(['trading', 'trading', 'trading']);
  });

  it('ids are deterministic: the same file gives the same ids, another fileId others', async () => {
    const a = await collect(FILE, { fileId: 'day-1' });
    const b = await collect(FILE, { fileId: 'day-1', chunkSize: 3333 });
    const c = await collect(FILE, { fileId: 'day-2' });
    expect(b.map((e) => e.id)).toEqual(a.map((e) => e.id));
    expect(c[0]!.id).not.toBe(a[0]!.id);
    expect(a.map((e) => e.eventTimeNs)).toEqual(b.map((e) => e.eventTimeNs));
  });

  it('envelopes survive the store mapping (payload schema and raw bytes)', async () => {
    const events = (await collect(FILE)).slice(0, 50);
    for (const e of events) {
      const back = storedToEnvelope(e.stream, JSON.parse(JSON.stringify(envelopeToStored(e))));
      expect(back.data).toEqual(e.data);
      expect(Buffer.from(back.raw!.bytes).equals(Buffer.from(e.raw!.bytes))).toBe(true);
    }
  });

  it('maps C (with price and printable) and Q (cross: true) from a generated day', async () => {
    const file = path.join(tmp.dir, 'crosses.itch');
    await writeItchDay(file, { seed: 3, messages: 30_000, symbols: 4, crossTrades: true, mix: { C: 5_000_000 } });
    const events = await collect(file);
    const crosses = events.filter((e) => e.type === 'TradeReported' && (e.data as { cross?: boolean }).cross === true);
    expect(crosses).toHaveLength(8);
    const withPrice = events.filter((e) => e.type === 'BookOrderExecuted' && (e.data as { priceTicks?: number }).priceTicks !== undefined);
    expect(withPrice.length).toBeGreaterThan(100);
    for (const e of withPrice) {
      const m = decodeMessage(e.raw!.bytes) as Extract<ItchMessage, { messageType: 'C' }>;
      expectHas(e.data, { priceTicks: m.executionPrice, printable: m.printable === 'Y' });
    }
  });

  it('mapView (straight from the view) makes exactly what map makes, message for message: the RITCH sample and a generated day', async () => {
    const generated = path.join(tmp.dir, 'mapview.itch');
    await writeItchDay(generated, { seed: 9, messages: 12_000, symbols: 6, crossTrades: true, mix: { C: 2_000_000, F: 2_000_000, P: 1_000_000 } });
    for (const file of [`${FILE}.gz`, generated]) {
      const byMap = new ItchEventMapper({ fileId: 'f', sessionMidnightNs: 1_000n });
      const byView = new ItchEventMapper({ fileId: 'f', sessionMidnightNs: 1_000n });
      const view = new ItchMessageView();
      const types = new Set<string>();
      let index = 0;
      let compared = 0;
      await readItchFile(file, {
        payload(bytes, offset, length) {
          const raw = bytes.slice(offset, offset + length);
          const a = byMap.map(decodeMessage(raw, 0, length), raw, index);
          const b = byView.mapView(view.wrap(bytes, offset), raw, index++);
          if (!isDeepStrictEqual(b, a)) expect(b).toEqual(a); // expect() per message is the slow part
          if (a !== null) {
            types.add(String.fromCharCode(raw[0]!));
            compared++;
          }
        },
      });
      expect(compared).toBeGreaterThan(5_000);
      for (const t of ['A', 'D', 'U', 'E', 'X', 'P', 'R']) expect(types.has(t)).toBe(true);
      if (file === generated) for (const t of ['F', 'C', 'Q']) expect(types.has(t)).toBe(true);
    }
  });

  it('an unknown locate gets a placeholder instrument rather than failing', () => {
    const mapper = new ItchEventMapper({ fileId: 'x' });
    const d = { messageType: 'D', stockLocate: 77, trackingNumber: 0, timestamp: 1, orderReferenceNumber: 5n } as const;
    const e = mapper.map(d, new Uint8Array(19), 0)!;
    expect((e.data as { instrument: string }).instrument).toBe('NASDAQ:LOCATE-77');
    expect(parsePayload(e.type, e.data)).toBeTruthy();
    expect(mapper.map({ messageType: 'S', stockLocate: 0, trackingNumber: 0, timestamp: 1, eventCode: 'O' }, new Uint8Array(12), 1)).toBeNull();
  });

  it('nasdaqMidnightNs follows New York time, EST or EDT', () => {
    expect(nasdaqMidnightNs('2019-12-30')).toBe(BigInt(Date.UTC(2019, 11, 30, 5)) * 1_000_000n);
    expect(nasdaqMidnightNs('2020-07-01')).toBe(BigInt(Date.UTC(2020, 6, 1, 4)) * 1_000_000n);
    expect(nasdaqMidnightNs('2021-03-14')).toBe(BigInt(Date.UTC(2021, 2, 14, 5)) * 1_000_000n); // DST starts at 02:00
    expect(() => nasdaqMidnightNs('12/30/2019')).toThrow(/YYYY-MM-DD/);
  });
});
