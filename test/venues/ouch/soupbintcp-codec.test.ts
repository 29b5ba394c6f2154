import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TapedeckError } from '../../../domain/core/errors.js';
import { SoupFramer } from '../../../src/venues/nasdaq/soupbintcp/framer.js';
import {
  CLIENT_PACKET_TYPES,
  SERVER_PACKET_TYPES,
  decodeSoupBody,
  decodeSoupPacket,
  encodeSoupPacket,
  type SoupPacket,
} from '../../../src/venues/nasdaq/soupbintcp/packets.js';
import { chunking, soupPacketArb, splitBy } from './arbitraries.js';

function thrown(fn: () => unknown): TapedeckError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TapedeckError) return e;
    throw new Error(`expected a TapedeckError, got ${String(e)}`);
  }
  throw new Error('expected a TapedeckError, nothing was thrown');
}

const text = (b: Uint8Array) => String.fromCharCode(...b);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Copies what the framer hands over, since its views are only valid during the call. */
function collect(options: ConstructorParameters<typeof SoupFramer>[1] = {}) {
  const got: SoupPacket[] = [];
  const framer = new SoupFramer((t, payload, at) => {
    const p = decodeSoupBody(t, payload.slice(), { offset: at });
    got.push(p);
  }, options);
  return { got, framer };
}

describe('SoupBinTCP packets', () => {
  it('Login Request is 49 bytes with nassau padding (user/password left, session/sequence right)', () => {
    const bytes = encodeSoupPacket({ kind: 'loginRequest', username: 'ab', password: 'pw', requestedSession: 'S1', requestedSequenceNumber: 42 });
    expect(bytes.length).toBe(49);
    expect([bytes[0], bytes[1]]).toEqual([0x00, 0x2f]);
    expect(text(bytes.subarray(2))).toBe('Lab    pw                S1' + '42'.padStart(20, ' '));
  });

  it('Login Accepted is 33 bytes: length field 31', () => {
    const bytes = encodeSoupPacket({ kind: 'loginAccepted', session: 'SESSION01', sequenceNumber: 7 });
    expect(bytes.length).toBe(33);
    expect([bytes[0], bytes[1]]).toEqual([0x00, 31]);
    expect(text(bytes.subarray(3, 13))).toBe(' SESSION01');
    expect(decodeSoupPacket(bytes)).toEqual({ kind: 'loginAccepted', session: 'SESSION01', sequenceNumber: 7 });
  });

  it('heartbeats, end of session and logout are a bare type byte', () => {
    expect([...encodeSoupPacket({ kind: 'serverHeartbeat' })]).toEqual([0, 1, 0x48]);
    expect([...encodeSoupPacket({ kind: 'clientHeartbeat' })]).toEqual([0, 1, 0x52]);
    expect([...encodeSoupPacket({ kind: 'endOfSession' })]).toEqual([0, 1, 0x5a]);
    expect([...encodeSoupPacket({ kind: 'logoutRequest' })]).toEqual([0, 1, 0x4f]);
  });

  it('bad packets are typed errors with offsets', () => {
    expect(thrown(() => decodeSoupPacket(new Uint8Array([0, 1, 0x51]))).code).toBe('SOUP_UNKNOWN_TYPE');
    const e = thrown(() => decodeSoupPacket(new Uint8Array([0, 2, 0x48, 0]), { offset: 9 }));
    expect(e.code).toBe('SOUP_LENGTH');
    expect(e.where).toMatchObject({ offset: 9 });
    expect(thrown(() => decodeSoupPacket(new Uint8Array([0, 5, 0x53]))).code).toBe('SOUP_LENGTH');
    const seq = encodeSoupPacket({ kind: 'loginAccepted', session: 'S', sequenceNumber: 1 });
    seq[32] = 0x41;
    const bad = thrown(() => decodeSoupPacket(seq));
    expect(bad.code).toBe('SOUP_FIELD');
    expect(bad.where).toMatchObject({ field: 'sequenceNumber', offset: 13 });
    expect(thrown(() => encodeSoupPacket({ kind: 'sequencedData', payload: new Uint8Array(70_000) })).code).toBe('SOUP_TOO_LONG');
    expect(thrown(() => encodeSoupPacket({ kind: 'loginRequest', username: 'toolong', password: '', requestedSession: '', requestedSequenceNumber: 0 })).where)
      .toMatchObject({ field: 'loginRequest.username' });
  });

  it('encode then decode is the identity for every packet type', () => {
    fc.assert(fc.property(soupPacketArb, (p) => {
      expect(decodeSoupPacket(encodeSoupPacket(p))).toEqual(p);
    }), { numRuns: 1500 });
  });

  it('random bytes never crash the packet decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      try {
        decodeSoupPacket(b);
      } catch (e) {
        expect(e).toBeInstanceOf(TapedeckError);
      }
    }), { numRuns: 1000 });
  });
});

describe('SoupBinTCP stream reassembly', () => {
  it('gives back the same packets however the stream is cut', () => {
    fc.assert(fc.property(fc.array(soupPacketArb, { maxLength: 25 }), chunking(40), (packets, cuts) => {
      const stream = concat(packets.map(encodeSoupPacket));
      const { got, framer } = collect();
      for (const chunk of splitBy(stream, cuts)) framer.push(chunk);
      expect(got).toEqual(packets);
      expect(framer.bufferedBytes).toBe(0);
      expect(framer.streamOffset).toBe(stream.length);
    }), { numRuns: 300 });
  });

  it('byte by byte: a packet whose length field is split across reads', () => {
    const stream = concat([encodeSoupPacket({ kind: 'sequencedData', payload: new Uint8Array(300).fill(7) }), encodeSoupPacket({ kind: 'serverHeartbeat' })]);
    const { got, framer } = collect();
    for (let i = 0; i < stream.length; i++) framer.push(stream.subarray(i, i + 1));
    expect(got.map((p) => p.kind)).toEqual(['sequencedData', 'serverHeartbeat']);
    expect((got[0] as { payload: Uint8Array }).payload.length).toBe(300);
  });

  it('keeps partial packets until complete', () => {
    const { got, framer } = collect();
    const p = encodeSoupPacket({ kind: 'sequencedData', payload: new Uint8Array([1, 2, 3]) });
    framer.push(p.subarray(0, 4));
    expect(got).toEqual([]);
    expect(framer.bufferedBytes).toBe(4);
    framer.push(p.subarray(4));
    expect(got).toHaveLength(1);
  });

  it('rejects a zero length and a type the peer must not send, with the stream offset; then stays failed', () => {
    const { framer } = collect({ allowedTypes: SERVER_PACKET_TYPES });
    framer.push(encodeSoupPacket({ kind: 'serverHeartbeat' }));
    const e = thrown(() => framer.push(encodeSoupPacket({ kind: 'loginRequest', username: 'u', password: 'p', requestedSession: '', requestedSequenceNumber: 1 })));
    expect(e.code).toBe('SOUP_UNEXPECTED_TYPE');
    expect(e.message).toContain('loginRequest');
    expect(e.where).toMatchObject({ offset: 5 });
    expect(thrown(() => framer.push(new Uint8Array([0, 1, 0x48]))).code).toBe('SOUP_UNEXPECTED_TYPE');
    const z = collect({ allowedTypes: CLIENT_PACKET_TYPES });
    z.framer.push(new Uint8Array([0, 1, 0x52]));
    expect(thrown(() => z.framer.push(new Uint8Array([0, 0]))).where).toMatchObject({ offset: 3, field: 'length' });
  });

  it('random bytes in random pieces: only TapedeckErrors, and it finishes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), chunking(64), (data, cuts) => {
      const framer = new SoupFramer((t, payload, at) => {
        decodeSoupBody(t, payload, { offset: at });
      }, { allowedTypes: SERVER_PACKET_TYPES });
      try {
        for (const chunk of splitBy(data, cuts)) framer.push(chunk);
      } catch (e) {
        expect(e).toBeInstanceOf(TapedeckError);
      }
    }), { numRuns: 1000 });
  });
});
