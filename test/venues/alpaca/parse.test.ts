/**
 * Alpaca payloads → tapedeck (src/venues/alpaca/parse.ts), on the shapes of the fixtures in
 * test/fixtures/datasets/venues/alpaca (doc shapes and SDK test fixtures: values made up, shapes real):
 * market-data arrays with exact prices and venue event times, errors naming Alpaca's code, trade_updates
 * frames read the same binary or text, REST objects validated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTapedeckError } from '../../../domain/core/errors.js';
import { envelopeToStored } from '../../../domain/events/envelope.js';
import { AlpacaConfig } from '../../../src/venues/alpaca/config.js';
import { AlpacaCredentials, alpacaCredentials } from '../../../src/venues/alpaca/credentials.js';
import { alpacaRules } from '../../../src/venues/alpaca/marketdata.js';
import { AlpacaFillActivity, AlpacaOrder, AlpacaParser, exactJson, executionIdOfActivity, parseTradeStreamFrame } from '../../../src/venues/alpaca/parse.js';
import { parseVenueConfig, getVenue } from '../../../src/venues/registry.js';
import { repoRoot } from '../../helpers/tmp.js';

const DIR = path.join(repoRoot, 'test/fixtures/datasets/venues/alpaca');
const stream = JSON.parse(fs.readFileSync(path.join(DIR, 'trading_and_stream.json'), 'utf8')) as Record<string, any>;
const examples = JSON.parse(fs.readFileSync(path.join(DIR, 'examples.json'), 'utf8')) as Record<string, any>;
const ctx = (line = 1) => ({ file: 'wss://stream.data.alpaca.markets/v2/iex', line, receiveTimeNs: 5n });
const enc = (s: string) => new TextEncoder().encode(s);

describe('Alpaca market data', () => {
  it('reads every number as its decimal text, never a float', () => {
    expect(exactJson('[{"p":126.55,"s":1,"x":"1.5","n":-0.1000}]')).toEqual([{ p: '126.55', s: '1', x: '1.5', n: '-0.1000' }]);
    expect(exactJson('{"a":"he said \\"7.5\\"","b":[0.30000000000000004]}')).toEqual({ a: 'he said "7.5"', b: ['0.30000000000000004'] });
    expect(() => exactJson('[1e-7]')).toThrow(/plain decimal/);
  });

  it('turns t, q and b into TradeReported, QuoteUpdated and BarClosed at exact scale, with venue time, after InstrumentDefined', () => {
    const md = stream.market_data_stream_v2;
    const frame = `[${JSON.stringify(md.trade_t_shape_SYNTHETIC)},${JSON.stringify(md.quote_q_shape_SYNTHETIC)},${JSON.stringify(md.bar_b_shape_SYNTHETIC)}]`;
    const p = new AlpacaParser({ priceScale: 4, qtyScale: 0, tickSizeTicks: 100 });
    const out = p.parseFrame(enc(frame), ctx());
    expect(out.map((e) => `${e.type}:${(e.data as { instrument: string }).instrument}`)).toEqual([
      'InstrumentDefined:ALPACA:AAPL', 'TradeReported:ALPACA:AAPL', 'InstrumentDefined:ALPACA:AMD', 'QuoteUpdated:ALPACA:AMD', 'InstrumentDefined:ALPACA:SPY', 'BarClosed:ALPACA:SPY',
    ]);
    const [, trade, , quote, , bar] = out;
    expect(trade!.data).toMatchObject({ tradeId: 'D:96921', priceTicks: 1_265_500, qtyLots: 1, priceScale: 4, qtyScale: 0 });
    expect(trade!.eventTimeNs).toBe(BigInt(Date.parse('2021-02-22T15:51:44.208Z')) * 1_000_000n);
    expect(quote!.data).toMatchObject({ bidPriceTicks: 876_600, bidQtyLots: 1, askPriceTicks: 876_800, askQtyLots: 4 });
    expect(quote!.eventTimeNs).toBe(BigInt(Date.parse('2021-02-22T15:51:45.335Z')) * 1_000_000n + 689_322n);
    // Bars carry ns times: they are stored like every bigint-holding event.
    expect(JSON.stringify(envelopeToStored(bar!).data)).toContain(`"startNs":"${Date.parse('2021-02-22T19:15:00Z')}000000"`);
    expect(bar!.data).toMatchObject({ openTicks: 3_889_850, highTicks: 3_891_300, lowTicks: 3_889_750, closeTicks: 3_891_200, volumeLots: 49_378, trades: 461 });
    expect(out[0]!.data).toMatchObject({ kind: 'equity', quoteCurrency: 'USD', tickSizeTicks: 100, lotSizeLots: 1 });
    expect(out.every((e) => e.receiveTimeNs === 5n)).toBe(true);
    // A second frame for a known symbol: no second definition; the same trade read again has the same id.
    const again = new AlpacaParser({ priceScale: 4, qtyScale: 0, tickSizeTicks: 100 }).parseFrame(enc(frame), ctx());
    expect(again[1]!.id).toBe(trade!.id);
    expect(p.parseFrame(enc(`[${JSON.stringify(md.trade_t_shape_SYNTHETIC)}]`), ctx(2)).map((e) => e.type)).toEqual(['TradeReported']);
  });

  it('refuses a price finer than the scale (never rounded), and names Alpaca\'s error codes', () => {
    const p = new AlpacaParser({ priceScale: 2, qtyScale: 0, tickSizeTicks: 1 });
    const fine = '[{"T":"t","S":"AAPL","i":1,"x":"V","p":126.555,"s":1,"t":"2021-02-22T15:51:44.208Z"}]';
    const e = (() => { try { p.parseFrame(enc(fine), ctx(7)); } catch (x) { return x; } return null; })();
    expect(isTapedeckError(e) && e.where).toMatchObject({ line: 7, field: '0.p' });
    for (const err of stream.market_data_stream_v2.errors_shape) {
      expect(() => p.parseFrame(enc(JSON.stringify([err])), ctx())).toThrow(new RegExp(`error ${err.code}: ${err.msg}`));
    }
    // Control messages are counted, not events.
    for (const step of stream.market_data_stream_v2.handshake_shape.filter((s: { recv?: unknown }) => s.recv)) expect(p.parseFrame(enc(JSON.stringify(step.recv)), ctx())).toEqual([]);
    expect(p.frameCounts.get('subscription')).toBe(1);
    expect(() => p.parseFrame(enc('{"T":"t"}'), ctx())).toThrow(/array of messages/);
  });

  it('reads the SDK fixtures\' message kinds it does not subscribe to without an event', () => {
    const p = new AlpacaParser(alpacaRules(AlpacaConfig.parse({})));
    expect(p.parseFrame(enc(JSON.stringify([{ ...examples.market_data_stream.s_trading_status.payload, t: '2024-01-02T14:30:00Z' }])), ctx())).toEqual([]);
  });
});

describe('Alpaca trading API objects', () => {
  it('reads a trade update the same from a binary (paper) or a text (live) frame', () => {
    const msg = stream.trade_stream.fill_event_shape_SYNTHETIC;
    const text = JSON.stringify(msg);
    const a = parseTradeStreamFrame(Buffer.from(text), ctx());
    const b = parseTradeStreamFrame(text, ctx());
    expect(a).toEqual(b);
    expect(a).toMatchObject({ kind: 'trade_update', update: { event: 'fill', price: '131.355', qty: '0.1', execution_id: msg.data.execution_id, order: { status: 'filled', filled_qty: '0.1' } } });
    expect(parseTradeStreamFrame(JSON.stringify(stream.trade_stream.auth_reply_doc), ctx())).toEqual({ kind: 'authorization', authorized: true });
    expect(parseTradeStreamFrame(JSON.stringify(stream.trade_stream.listen_ack_doc), ctx())).toEqual({ kind: 'listening', streams: ['trade_updates'] });
    expect(() => parseTradeStreamFrame('{"stream":"trade_updates","data":{"event":"fill"}}', ctx(3))).toThrow(/trade update/);
  });

  it('validates orders, FILL activities and positions; an activity id ends with its execution id', () => {
    expect(AlpacaOrder.parse(examples.positions.close_all_positions.payload[0].body)).toMatchObject({ status: 'pending_new', qty: '0.0283', filled_qty: '0' });
    const act = AlpacaFillActivity.parse({ ...stream.rest.activity_fill_shape_SYNTHETIC, id: '20210421134312476::8a8e1d8c-0000-4000-8000-000000000001' });
    expect(executionIdOfActivity(act.id)).toBe('8a8e1d8c-0000-4000-8000-000000000001');
    expect(AlpacaFillActivity.safeParse({ ...stream.rest.activity_fill_shape_SYNTHETIC, id: 'x' }).success).toBe(false);
  });
});

describe('Alpaca config and credentials', () => {
  it('is strict, defaults to the paper endpoints, and sits in the registry', () => {
    const c = parseVenueConfig(getVenue('alpaca'), {});
    expect(c).toMatchObject({ restUrl: 'https://paper-api.alpaca.markets', tradeStreamUrl: 'wss://paper-api.alpaca.markets/stream', priceScale: 4, qtyScale: 0 });
    expect(() => parseVenueConfig(getVenue('alpaca'), { symbol: ['AAPL'] })).toThrow(/did you mean "symbols"/);
    expect(() => parseVenueConfig(getVenue('alpaca'), { symbols: ['aapl'] })).toThrow(/equity symbol/);
  });

  it('come from ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY and never print', () => {
    expect(() => alpacaCredentials({ ALPACA_API_KEY_ID: 'k' })).toThrow(/ALPACA_API_SECRET_KEY/);
    const c = alpacaCredentials({ ALPACA_API_KEY_ID: 'PKTESTKEY123', ALPACA_API_SECRET_KEY: 'very-secret-value-9' });
    expect(c).toBeInstanceOf(AlpacaCredentials);
    const shown = `${JSON.stringify(c)} ${String(c)} ${JSON.stringify({ c })}`;
    expect(shown).not.toMatch(/PKTESTKEY123|very-secret-value-9/);
    expect(c.headers()).toEqual({ 'APCA-API-KEY-ID': 'PKTESTKEY123', 'APCA-API-SECRET-KEY': 'very-secret-value-9' });
    expect(c.redact('auth very-secret-value-9 PKTESTKEY123 very-secret-value-9')).toBe('auth [redacted] [redacted] [redacted]');
    expect(c.matches('PKTESTKEY123', 'very-secret-value-9')).toBe('ok');
    expect(c.matches('PKTESTKEY123', 'nope')).toBe('wrong');
    expect(c.matches(undefined, 'nope')).toBe('missing');
  });
});
