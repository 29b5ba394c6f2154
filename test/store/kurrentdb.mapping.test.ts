/**
 * The KurrentDB adapter's translations (src/store/kurrentdb/mapping.ts): pure functions, so they run
 * everywhere, server or not. The wire round trip below does to an event what the client does on the way
 * in and out (JSON.stringify of JSON data; metadata bytes sent as they are and JSON.parse'd on the way
 * back; bytes verbatim), as read in @kurrent/kurrentdb-client 1.3.1's append.js and convertRustEvent.js.
 */
import { randomUUID } from 'node:crypto';
import { AccessDeniedError, StreamDeletedError, UnavailableError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import {
  checkStreamName,
  errorSummary,
  fromAllPosition,
  fromPosition,
  fromRecorded,
  fromRevision,
  fromStoredStream,
  isKurrentLocation,
  mapClientError,
  parseKurrentLocation,
  toEventData,
  toPosition,
  toStoredStream,
  toStreamState,
  type KurrentEventData,
  type KurrentRecorded,
} from '../../src/store/kurrentdb/mapping.js';
import { StoreUnavailableError, WrongExpectedRevisionError, type EventData } from '../../src/store/port.js';

const ctx = { hosts: '127.0.0.1:2113', namespace: null };

/** What the client sends and what it gives back, for one event written to `stored` at a revision and position. */
function wire(e: KurrentEventData, stored: string, revision: bigint, position: bigint): KurrentRecorded {
  const dataBytes = e.contentType === 'application/json' ? Buffer.from(JSON.stringify(e.data), 'utf8') : Buffer.from(e.data as Uint8Array);
  const metaBytes = e.metadata === undefined ? new Uint8Array(0) : (e.metadata as Uint8Array);
  expect(e.metadata === undefined || e.metadata.constructor === Uint8Array).toBe(true); // the client sends only a plain Uint8Array as raw bytes
  let metadata: unknown;
  if (metaBytes.length) {
    try {
      metadata = JSON.parse(Buffer.from(metaBytes).toString('utf8'));
    } catch {
      metadata = metaBytes;
    }
  }
  let data: unknown = new Uint8Array(dataBytes);
  if (e.contentType === 'application/json') {
    try {
      data = JSON.parse(dataBytes.toString('utf8'));
    } catch {
      data = dataBytes.toString('utf8');
    }
  }
  return { streamId: stored, id: e.id, revision, type: e.type, isJson: e.contentType === 'application/json', data, metadata, position: { commit: position, prepare: position } };
}

describe('KurrentDB locations', () => {
  it('recognises the client schemes and strips tapedeck\'s namespace parameter', () => {
    expect(isKurrentLocation('kurrentdb://127.0.0.1:2113?tls=false')).toBe(true);
    expect(isKurrentLocation('esdb+discover://a:2113')).toBe(true);
    expect(isKurrentLocation('KurrentDB://a:2113')).toBe(true);
    expect(isKurrentLocation('/var/lib/store')).toBe(false);
    expect(isKurrentLocation('kafka://a:9092')).toBe(false);
    expect(parseKurrentLocation('kurrentdb://127.0.0.1:2113?tls=false')).toEqual({ connectionString: 'kurrentdb://127.0.0.1:2113?tls=false', namespace: null, hosts: '127.0.0.1:2113' });
    expect(parseKurrentLocation('esdb://admin:changeit@db:2113?tapedeckNamespace=paper-1&tls=false')).toEqual({
      connectionString: 'kurrentdb://admin:changeit@db:2113?tls=false',
      namespace: 'paper-1',
      hosts: 'db:2113',
    });
    expect(parseKurrentLocation('esdb+discover://a:2113,b:2113').connectionString).toBe('kurrentdb+discover://a:2113,b:2113');
  });

  it('refuses what is not a KurrentDB location, with one line naming it', () => {
    for (const [loc, re] of [
      ['kafka://x:9092', /not a KurrentDB location: kafka:\/\/x:9092/],
      ['kurrentdb://', /no host in kurrentdb:\/\//],
      ['kurrentdb://h:2113?tapedeckNamespace=a/b', /tapedeckNamespace must be .*"a\/b"/],
      ['kurrentdb://h:2113?tapedeckNamespace=', /tapedeckNamespace must be/],
    ] as const) {
      expect(() => parseKurrentLocation(loc)).toThrow(re);
      expect(() => parseKurrentLocation(loc)).toThrow(expect.objectContaining({ code: 'STORE_LOCATION' }));
    }
  });
});

describe('expected revisions, revisions and positions', () => {
  it("maps 'any' / 'no_stream' / 'stream_exists' / n to the client's streamState", () => {
    expect(toStreamState('any', 's')).toBe('any');
    expect(toStreamState('no_stream', 's')).toBe('no_stream');
    expect(toStreamState('stream_exists', 's')).toBe('stream_exists');
    expect(toStreamState(0, 's')).toBe(0n);
    expect(toStreamState(41, 's')).toBe(41n);
    expect(toStreamState(-1, 's')).toBe('no_stream');
    for (const bad of [-2, 1.5, Number.NaN, 2 ** 53, '3' as unknown as number]) {
      expect(() => toStreamState(bad, 's')).toThrow(expect.objectContaining({ code: 'EXPECTED_REVISION' }));
    }
  });

  it('revisions: bigint to number, no stream to -1, beyond 2^53 refused', () => {
    expect(fromRevision(0n)).toBe(0);
    expect(fromRevision(12345n)).toBe(12345);
    expect(fromRevision('no_stream')).toBe(-1);
    expect(fromRevision(undefined)).toBe(-1);
    expect(fromRevision('7')).toBe(7);
    expect(() => fromRevision(2n ** 53n)).toThrow(expect.objectContaining({ code: 'KURRENTDB_REVISION' }));
  });

  it('positions are commit positions: sparse, safe integers, round-tripping to {commit, prepare}', () => {
    expect(fromPosition({ commit: 0n, prepare: 0n })).toBe(0);
    expect(fromAllPosition({ commit: 18_446_123n, prepare: 18_446_123n })).toBe(18_446_123);
    expect(toPosition(18_446_123)).toEqual({ commit: 18_446_123n, prepare: 18_446_123n });
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }), (p) => {
      const n = fromAllPosition({ commit: p, prepare: p });
      expect(toPosition(n)).toEqual({ commit: p, prepare: p });
    }));
    // Positions keep their order: a later commit is a larger number.
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }), fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }), (a, b) => {
      expect(Math.sign(fromPosition({ commit: a, prepare: a }) - fromPosition({ commit: b, prepare: b }))).toBe(a < b ? -1 : a > b ? 1 : 0);
    }));
  });

  it('refuses positions it cannot name: none, beyond 2^53, or shared by an explicit transaction', () => {
    expect(() => fromPosition(undefined)).toThrow(/servers before 22\.6/);
    expect(() => fromPosition({ commit: 2n ** 53n, prepare: 2n ** 53n })).toThrow(expect.objectContaining({ code: 'KURRENTDB_POSITION' }));
    expect(() => fromAllPosition({ commit: 900n, prepare: 700n }, { stream: 's' })).toThrow(/explicit transaction/);
    expect(fromPosition({ commit: 900n, prepare: 700n })).toBe(900); // a stream read's position is the commit
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => toPosition(bad)).toThrow(expect.objectContaining({ code: 'POSITION' }));
  });
});

describe('stream names and namespaces', () => {
  it('puts a namespace in front of every stream and takes it off again; system streams are outside', () => {
    expect(toStoredStream(null, 'run-1')).toBe('run-1');
    expect(toStoredStream('paper', 'run-1')).toBe('paper/run-1');
    expect(fromStoredStream('paper', 'paper/run-1')).toBe('run-1');
    expect(fromStoredStream('paper', 'live/run-1')).toBeNull();
    expect(fromStoredStream('paper', 'paperx/run-1')).toBeNull();
    expect(fromStoredStream(null, 'run-1')).toBe('run-1');
    expect(fromStoredStream(null, '$stats-127.0.0.1:2113')).toBeNull();
    expect(fromStoredStream(null, '$$run-1')).toBeNull();
    expect(() => checkStreamName('$ce-run')).toThrow(expect.objectContaining({ code: 'STREAM_NAME' }));
    expect(() => checkStreamName('')).toThrow(expect.objectContaining({ code: 'STREAM_NAME' }));
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/), fc.string({ minLength: 1 }).filter((s) => !s.startsWith('$')), (ns, stream) => {
      expect(fromStoredStream(ns, toStoredStream(ns, stream))).toBe(stream);
    }));
  });
});

describe('events to KurrentDB and back', () => {
  const id = () => randomUUID();

  it('JSON stays JSON, bytes stay bytes (verbatim), metadata with $correlationId / $causationId is kept as it is', () => {
    const meta = { schemaVersion: 1, eventTimeNs: '1700000000000000000', receiveTimeNs: '1700000000000000001', $causationId: id(), $correlationId: 'run-1', raw: { format: 'json', base64: 'e30=' } };
    const json = toEventData({ id: id(), type: 'TradeReported', data: { priceTicks: 6500000, side: 'buy' }, metadata: meta }, 0);
    expect(json.contentType).toBe('application/json');
    expect(json.data).toEqual({ priceTicks: 6500000, side: 'buy' });
    expect(JSON.parse(Buffer.from(json.metadata as Uint8Array).toString('utf8'))).toEqual(meta);
    const back = fromRecorded(wire(json, 'md-BTC', 4n, 1234n), null, 'all')!;
    expect(back).toEqual({ id: json.id, type: 'TradeReported', stream: 'md-BTC', revision: 4, position: 1234, isJson: true, data: { priceTicks: 6500000, side: 'buy' }, metadata: meta });
    expect(back.metadata.$correlationId).toBe('run-1');
    expect(back.metadata.$causationId).toBe(meta.$causationId);

    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const raw = toEventData({ id: id(), type: 'ItchMessage', data: bytes }, 0);
    expect(raw.contentType).toBe('application/octet-stream');
    expect((raw.data as Uint8Array).constructor).toBe(Uint8Array); // a Buffer would be re-encoded by the client
    const rawBack = fromRecorded(wire(raw, 'itch', 0n, 99n), null, 'stream')!;
    expect(rawBack.isJson).toBe(false);
    expect(new Uint8Array(rawBack.data as Uint8Array)).toEqual(new Uint8Array(bytes));
    expect(rawBack.metadata).toEqual({});

    const preEncoded = toEventData({ id: id(), type: 'J', data: new TextEncoder().encode('{"a":1}'), contentType: 'application/json' }, 0);
    expect(preEncoded).toMatchObject({ contentType: 'application/json', data: { a: 1 } });
  });

  it('property: any JSON object or byte payload with any JSON metadata comes back the same', () => {
    const jsonObject = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }).map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
    fc.assert(
      fc.property(
        fc.oneof(jsonObject, fc.uint8Array({ maxLength: 64 })),
        fc.option(jsonObject, { nil: undefined }),
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,20}$/),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        (data, metadata, type, position) => {
          const input: EventData = { id: randomUUID(), type, data, metadata };
          const back = fromRecorded(wire(toEventData(input, 0), 'ns/s', 0n, position), 'ns', 'all')!;
          expect(back.id).toBe(input.id);
          expect(back.type).toBe(type);
          expect(back.stream).toBe('s');
          expect(back.position).toBe(Number(position));
          expect(back.isJson).toBe(!(data instanceof Uint8Array));
          if (data instanceof Uint8Array) expect(new Uint8Array(back.data as Uint8Array)).toEqual(data);
          else expect(back.data).toEqual(data);
          expect(back.metadata).toEqual(metadata ?? {});
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses, before sending anything, what KurrentDB would not store faithfully', () => {
    const cases: Array<[EventData, string, RegExp]> = [
      [{ id: '', type: 'T', data: {} }, 'EVENT_ID', /id must be a non-empty string/],
      [{ id: 'order-1', type: 'T', data: {} }, 'EVENT_ID', /UUIDs, written in lowercase; got "order-1"/],
      [{ id: randomUUID().toUpperCase(), type: 'T', data: {} }, 'EVENT_ID', /lowercase/],
      [{ id: randomUUID(), type: '', data: {} }, 'EVENT_TYPE', /type must be/],
      [{ id: randomUUID(), type: '$metadata', data: {} }, 'EVENT_TYPE', /reserves for system events/],
      [{ id: randomUUID(), type: 'T', data: { n: 10n } }, 'EVENT_DATA', /data is not JSON-serializable/],
      [{ id: randomUUID(), type: 'T', data: undefined }, 'EVENT_DATA', /data is missing or not JSON/],
      [{ id: randomUUID(), type: 'T', data: 'just a string' }, 'EVENT_DATA', /bare JSON string/],
      [{ id: randomUUID(), type: 'T', data: new TextEncoder().encode('{oops'), contentType: 'application/json' }, 'EVENT_DATA', /marked application\/json but is not JSON/],
      [{ id: randomUUID(), type: 'T', data: {}, metadata: [1] as unknown as Record<string, unknown> }, 'EVENT_DATA', /metadata must be a JSON object/],
      [{ id: randomUUID(), type: 'T', data: {}, metadata: { t: 1n } }, 'EVENT_DATA', /metadata is not JSON-serializable/],
    ];
    for (const [e, code, re] of cases) {
      let thrown: unknown;
      try {
        toEventData(e, 3);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `${code} ${re}`).toBeInstanceOf(TapedeckError);
      expect((thrown as TapedeckError).code).toBe(code);
      expect((thrown as TapedeckError).message).toMatch(re);
      expect((thrown as TapedeckError).where?.field).toMatch(/^events\[3\]/);
    }
  });

  it('reads: system streams and events and other namespaces are outside the store; what did not decode is an error', () => {
    const base: KurrentRecorded = { streamId: 'a/s', id: randomUUID(), revision: 0n, type: 'T', isJson: true, data: { x: 1 }, metadata: undefined, position: { commit: 10n, prepare: 10n } };
    expect(fromRecorded(base, 'a', 'all')).toMatchObject({ stream: 's', metadata: {} });
    expect(fromRecorded(base, 'b', 'all')).toBeNull();
    expect(fromRecorded({ ...base, streamId: '$stats-1' }, null, 'all')).toBeNull();
    expect(fromRecorded({ ...base, streamId: 's', type: '$>' }, null, 'all')).toBeNull();
    expect(() => fromRecorded({ ...base, metadata: new Uint8Array([1, 2]) }, 'a', 'all')).toThrow(expect.objectContaining({ code: 'EVENT_DECODE' }));
    expect(() => fromRecorded({ ...base, metadata: [1] }, 'a', 'all')).toThrow(/metadata is not a JSON object/);
    expect(() => fromRecorded({ ...base, data: '{bad' }, 'a', 'all')).toThrow(/marked JSON but does not parse/);
    expect(() => fromRecorded({ ...base, isJson: false, data: 'x' }, 'a', 'all')).toThrow(expect.objectContaining({ code: 'EVENT_DECODE' }));
    expect(() => fromRecorded({ ...base, position: { commit: 10n, prepare: 8n } }, 'a', 'all')).toThrow(expect.objectContaining({ code: 'KURRENTDB_POSITION' }));
  });
});

describe("the client's errors as the port's", () => {
  it('wrong expected version becomes WrongExpectedRevisionError with the actual revision', () => {
    const e = mapClientError(new WrongExpectedVersionError(undefined, { streamName: 'ns/a', current: 0n, expected: 5n }), { ...ctx, stream: 'a', expected: 5 });
    expect(e).toBeInstanceOf(WrongExpectedRevisionError);
    expect(e).toMatchObject({ code: 'WRONG_EXPECTED_REVISION', stream: 'a', expected: 5, actual: 0 });
    expect(mapClientError(new WrongExpectedVersionError(undefined, { streamName: 'b', current: 'no_stream', expected: 'stream_exists' }), { ...ctx, stream: 'b', expected: 'stream_exists' })).toMatchObject({ actual: -1 });
  });

  it('an unreachable, timed-out or refusing server is StoreUnavailableError, in one line', () => {
    const grpcRefused = Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '), { code: 14 });
    const e = mapClientError(grpcRefused, ctx);
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect((e as StoreUnavailableError).describe()).toBe('STORE_UNAVAILABLE: KurrentDB at 127.0.0.1:2113 is unreachable (connect ECONNREFUSED 127.0.0.1:1); is the server running, and is tls=false right for it?');
    expect(mapClientError(new UnavailableError(), ctx)).toBeInstanceOf(StoreUnavailableError);
    expect(mapClientError(Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }), ctx)).toBeInstanceOf(StoreUnavailableError);
    expect(mapClientError(new AccessDeniedError(), ctx).message).toMatch(/denied access/);
    expect(errorSummary(grpcRefused)).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });

  it('a deleted stream, an unknown error and a TapedeckError', () => {
    expect(mapClientError(StreamDeletedError.fromStreamName('ns/a'), { ...ctx, stream: 'a' })).toMatchObject({ code: 'STREAM_DELETED' });
    expect(mapClientError(new Error('something odd\n  at x'), ctx)).toMatchObject({ code: 'KURRENTDB_ERROR', message: 'KurrentDB at 127.0.0.1:2113: something odd at x' });
    const own = new TapedeckError('EVENT_DECODE', 'x');
    expect(mapClientError(own, ctx)).toBe(own);
  });
});
