import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TapedeckError } from '../../domain/core/errors.js';
import { generateItchDay } from '../../datasets/itch/generate.js';
import { BinaryFileReader, MAX_RECORD_LENGTH } from '../../src/venues/nasdaq/framing/binaryfile.js';
import { readFileChunks } from '../../src/venues/nasdaq/framing/byte-source.js';
import {
  MOLD_END_OF_SESSION_COUNT,
  decodeMoldPacket,
  decodeMoldRequest,
  encodeMoldEndOfSession,
  encodeMoldHeartbeat,
  encodeMoldPacket,
  encodeMoldRequest,
  forEachMoldMessage,
  packMoldPackets,
} from '../../src/venues/nasdaq/framing/moldudp64.js';
import type { PayloadSink } from '../../src/venues/nasdaq/framing/payload-sink.js';
import { decodeMessage, encodeMessage } from '../../src/venues/nasdaq/itch/codec.js';
import { ITCH_MESSAGE_LENGTHS, type ItchMessage } from '../../src/venues/nasdaq/itch/messages.js';
import { ItchListenerBase, ItchParser } from '../../src/venues/nasdaq/itch/parser.js';
import { itchFileReader, readItchBytes, readItchFile } from '../../src/venues/nasdaq/itch/reader.js';
import { datasetsDir, tmpDir } from '../helpers/tmp.js';
import { anyMessageArb } from './arbitraries.js';

const ITCH = path.join(datasetsDir, 'itch');
const RITCH = path.join(ITCH, 'ritch_ex20101224.TEST_ITCH_50');
const tmp = tmpDir('tapedeck-itch-framing-');
afterAll(() => tmp.cleanup());

/** Collects payloads as hex, with their record offsets. */
class Collect implements PayloadSink {
  readonly payloads: string[] = [];
  payload(bytes: Uint8Array, offset: number, length: number): void {
    this.payloads.push(Buffer.from(bytes.subarray(offset, offset + length)).toString('hex'));
  }
}

function frame(messages: Uint8Array[], prefix: (m: Uint8Array) => number = (m) => m.length): Uint8Array {
  const out = Buffer.alloc(messages.reduce((n, m) => n + 2 + m.length, 0));
  let pos = 0;
  for (const m of messages) {
    out.writeUInt16BE(prefix(m), pos);
    out.set(m, pos + 2);
    pos += 2 + m.length;
  }
  return new Uint8Array(out);
}

function thrown(f: () => unknown): TapedeckError {
  try {
    f();
  } catch (e) {
    if (e instanceof TapedeckError) return e;
    throw e;
  }
  throw new Error('expected a TapedeckError');
}

const D = (ref: bigint): ItchMessage => ({ messageType: 'D', stockLocate: 1, trackingNumber: 0, timestamp: 1000, orderReferenceNumber: ref });
const A = (ref: bigint): ItchMessage => ({ messageType: 'A', stockLocate: 1, trackingNumber: 0, timestamp: 999, orderReferenceNumber: ref, buySellIndicator: 'B', shares: 100, stock: 'AAPL', price: 1_000_000 });

describe('BinaryFILE, plain mode (nassau vector)', () => {
  const expected = JSON.parse(fs.readFileSync(path.join(ITCH, 'nassau_binaryfile_expected.json'), 'utf8'));
  const dat = new Uint8Array(fs.readFileSync(path.join(ITCH, 'nassau_binaryfile.dat')));

  it('reads foo, bar, baz, quux, then End of Session', () => {
    expect(Buffer.from(dat).toString('hex')).toBe(expected.hex);
    const c = new Collect();
    const r = new BinaryFileReader(c);
    r.push(dat);
    const s = r.finish();
    expect(c.payloads.map((h) => Buffer.from(h, 'hex').toString('ascii'))).toEqual(expected.expected_payloads_ascii);
    expect(s.endOfSession).toBe(expected.expected_end_of_session);
    expect(s.endOfSessionOffset).toBe(21);
    expect(s.bytes).toBe(23);
  });

  it('ignoring End of Session gives the empty fifth payload', () => {
    const c = new Collect();
    const r = new BinaryFileReader(c, { continueAfterEndOfSession: true });
    r.push(dat);
    r.finish();
    expect(c.payloads.map((h) => Buffer.from(h, 'hex').toString('ascii'))).toEqual(expected.expected_if_reader_ignores_eos);
  });

  it('reads the same byte by byte', () => {
    const c = new Collect();
    const r = new BinaryFileReader(c);
    for (const b of dat) r.push(Uint8Array.of(b));
    expect(r.finish().endOfSession).toBe(true);
    expect(c.payloads).toHaveLength(4);
  });
});

describe('BinaryFILE, typed (ITCH) mode', () => {
  it('reads the RITCH sample whose prefixes are all 0x0000', () => {
    const bytes = new Uint8Array(fs.readFileSync(RITCH));
    const s = readItchBytes(bytes, new Collect());
    expect(s).toMatchObject({ messages: 12012, bytes: bytes.length, prefixStyle: 'zero', endOfSession: false, errors: 0 });
  });

  it('reads real BX bytes with true length prefixes at offsets 0, 14, 55, 96', () => {
    const snippets = JSON.parse(fs.readFileSync(path.join(ITCH, 'real_message_snippets.json'), 'utf8'));
    const firstFour = snippets.bx_20191230.messages.slice(0, 4).map((m: { framed_hex: string }) => m.framed_hex).join('');
    const bytes = Uint8Array.from(Buffer.from(firstFour, 'hex'));
    const offsets: number[] = [];
    const s = readItchBytes(bytes, { payload: (_b, o) => void offsets.push(o - 2) });
    expect(offsets).toEqual([0, 14, 55, 96]);
    expect(s.prefixStyle).toBe('true-length');
  });

  it('the real first 10 bytes of 12302019.NASDAQ_ITCH50 are a truncated S message', () => {
    const snippets = JSON.parse(fs.readFileSync(path.join(ITCH, 'real_message_snippets.json'), 'utf8'));
    const bytes = Uint8Array.from(Buffer.from(snippets.nasdaq_12302019_first_10_bytes.hex, 'hex'));
    const e = thrown(() => readItchBytes(bytes, new Collect()));
    expect([e.code, e.where?.offset]).toEqual(['ITCH_TRUNCATED', 0]);
    expect(e.message).toContain("'S'");
  });

  it("itchy's truncated buffer: an error, then the end (skip mode counts it)", () => {
    const s = readItchBytes(Uint8Array.from(Buffer.from('000c53000000286a', 'hex')), new Collect(), { onError: 'skip' });
    expect(s).toMatchObject({ messages: 0, errors: 1, errorsByCode: { ITCH_TRUNCATED: 1 } });
    expect(s.firstErrors[0]!.offset).toBe(0);
  });

  it('a zero prefix after true lengths is End of Session', () => {
    const bytes = frame([encodeMessage(A(1n)), encodeMessage(D(1n)), new Uint8Array(0), encodeMessage(D(2n))]);
    const c = new Collect();
    const s = readItchBytes(bytes, c);
    expect(s.endOfSession).toBe(true);
    expect(s.endOfSessionOffset).toBe(38 + 21);
    expect(c.payloads).toHaveLength(2);
    const all = readItchBytes(bytes, new Collect(), { ignoreEndOfSession: true });
    expect(all.messages).toBe(3);
  });

  it('a file may end with a bare 0x0000 End of Session', () => {
    const bytes = frame([encodeMessage(D(1n)), new Uint8Array(0)]);
    expect(readItchBytes(bytes, new Collect())).toMatchObject({ messages: 1, endOfSession: true, bytes: bytes.length });
  });

  describe('bad input: typed errors with the byte offset, stop by default, skip and count on request', () => {
    const good = frame([encodeMessage(A(1n)), encodeMessage(D(1n))]); // 38 + 21 bytes

    it('unknown type byte (true-length prefix: skippable)', () => {
      const bad = new Uint8Array([...good.subarray(0, 38), 0x00, 0x05, 0x5a, 1, 2, 3, 4, ...good.subarray(38)]);
      const e = thrown(() => readItchBytes(bad, new Collect()));
      expect([e.code, e.where?.offset]).toEqual(['ITCH_UNKNOWN_TYPE', 40]);
      const s = readItchBytes(bad, new Collect(), { onError: 'skip' });
      expect(s).toMatchObject({ messages: 2, errors: 1, skippedRecords: 1, errorsByCode: { ITCH_UNKNOWN_TYPE: 1 }, bytes: bad.length });
    });

    it('unknown type byte after a zero prefix (no length to trust: stops even in skip mode)', () => {
      const bad = new Uint8Array([0, 0, ...encodeMessage(D(1n)), 0, 0, 0x7a, 9, 9, 9]);
      const e = thrown(() => readItchBytes(bad, new Collect()));
      expect([e.code, e.where?.offset]).toEqual(['ITCH_UNKNOWN_TYPE', 23]);
      const s = readItchBytes(bad, new Collect(), { onError: 'skip' });
      expect(s).toMatchObject({ messages: 1, errors: 1, errorsByCode: { ITCH_UNKNOWN_TYPE: 1 } });
    });

    it('length prefix disagreeing with the type', () => {
      const bad = new Uint8Array(good);
      bad[39] = 22; // the D record says 22 bytes, D is 19
      const padded = new Uint8Array([...bad, 0, 0, 0]);
      const e = thrown(() => readItchBytes(padded, new Collect(), { file: 'x.itch' }));
      expect([e.code, e.where?.offset, e.where?.file]).toEqual(['ITCH_LENGTH_MISMATCH', 38, 'x.itch']);
      expect(e.message).toContain('22');
      const s = readItchBytes(padded, new Collect(), { onError: 'skip' });
      expect(s).toMatchObject({ messages: 1, errors: 1, errorsByCode: { ITCH_LENGTH_MISMATCH: 1 }, skippedRecords: 1 });
    });

    it('truncated tail', () => {
      const cut = good.subarray(0, good.length - 5);
      const e = thrown(() => readItchBytes(cut, new Collect()));
      expect([e.code, e.where?.offset]).toEqual(['ITCH_TRUNCATED', 38]);
      const s = readItchBytes(cut, new Collect(), { onError: 'skip' });
      expect(s).toMatchObject({ messages: 1, errors: 1, errorsByCode: { ITCH_TRUNCATED: 1 } });
      const oneByte = new Uint8Array([...good, 7]);
      expect(thrown(() => readItchBytes(oneByte, new Collect())).where?.offset).toBe(good.length);
    });

    it('skip mode counts every error and keeps reading', () => {
      const msgs = [encodeMessage(A(1n)), encodeMessage(D(1n)), encodeMessage(D(2n))];
      const bad = frame([msgs[0]!, Uint8Array.of(0x5a, 1), msgs[1]!, Uint8Array.of(0x21), msgs[2]!]);
      const s = readItchBytes(bad, new Collect(), { onError: 'skip' });
      expect(s).toMatchObject({ messages: 3, errors: 2, skippedRecords: 2, errorsByCode: { ITCH_UNKNOWN_TYPE: 2 } });
      // Type bytes: after A (38 bytes) + prefix; after A, bad (4), D (21) + prefix.
      expect(s.firstErrors.map((x) => x.offset)).toEqual([40, 38 + 4 + 21 + 2]);
    });
  });

  it('random bytes in any chunking never hang or crash the reader: a summary or a TapedeckError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 20 }), fc.boolean(), (bytes, cuts, skip) => {
        const reader = itchFileReader(new ItchParser(new ItchListenerBase()), { onError: skip ? 'skip' : 'stop' });
        try {
          let pos = 0;
          for (const c of cuts) {
            reader.push(bytes.subarray(pos, pos + c));
            pos += c;
          }
          reader.push(bytes.subarray(pos));
          const s = reader.finish();
          expect(s.bytes).toBeLessThanOrEqual(bytes.length);
          expect(s.messages * 14).toBeLessThanOrEqual(s.bytes);
        } catch (e) {
          expect(skip).toBe(false);
          expect(e).toBeInstanceOf(TapedeckError);
          expect((e as TapedeckError).where?.offset).toBeTypeOf('number');
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('chunk boundaries anywhere give the same messages (true-length and zero-prefix files)', () => {
    const real = generateItchDay({ seed: 11, messages: 3000, symbols: 7 });
    const zero = new Uint8Array(real);
    for (let pos = 0; pos < zero.length; ) {
      const len = (zero[pos]! << 8) | zero[pos + 1]!;
      zero[pos] = 0;
      zero[pos + 1] = 0;
      pos += 2 + len;
    }
    const whole = new Collect();
    readItchBytes(real, whole);
    expect(whole.payloads).toHaveLength(3000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }), fc.boolean(), (sizes, useZero) => {
        const bytes = useZero ? zero : real;
        const c = new Collect();
        const reader = itchFileReader(c);
        let pos = 0;
        for (let i = 0; pos < bytes.length; i++) {
          const n = sizes[i % sizes.length]!;
          reader.push(bytes.subarray(pos, pos + n));
          pos += n;
        }
        const s = reader.finish();
        expect(s.prefixStyle).toBe(useZero ? 'zero' : 'true-length');
        expect(c.payloads).toEqual(whole.payloads);
      }),
      { numRuns: 40 },
    );
  });

  it('views read the right values whatever buffer a message sits in (chunk, carry, next chunk)', () => {
    const day = generateItchDay({ seed: 12, messages: 2000, symbols: 5 });
    class Timestamps extends ItchListenerBase {
      readonly seen: number[] = [];
      override addOrder(m: Parameters<ItchListenerBase['addOrder']>[0]): void {
        this.seen.push(m.timestamp(), m.orderReferenceNumber(), m.price(), m.stockLocate());
      }
      override orderDelete(m: Parameters<ItchListenerBase['orderDelete']>[0]): void {
        this.seen.push(m.timestamp(), m.orderReferenceNumber());
      }
    }
    const whole = new Timestamps();
    readItchBytes(day, new ItchParser(whole));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }), (sizes) => {
        const l = new Timestamps();
        const reader = itchFileReader(new ItchParser(l));
        let pos = 0;
        for (let i = 0; pos < day.length; i++) {
          const n = sizes[i % sizes.length]!;
          reader.push(day.slice(pos, pos + n)); // fresh buffers, as a stream gives
          pos += n;
        }
        reader.finish();
        expect(l.seen).toEqual(whole.seen);
      }),
      { numRuns: 15 },
    );
  });

  it('a record cut by a chunk keeps at most one record in memory (65,537 bytes)', () => {
    // A plain-mode record of the largest size, split in three.
    const big = new Uint8Array(MAX_RECORD_LENGTH);
    big[0] = 0xff;
    big[1] = 0xff;
    big.fill(7, 2);
    const c = new Collect();
    const r = new BinaryFileReader(c);
    r.push(big.subarray(0, 3));
    r.push(big.subarray(3, 40000));
    r.push(big.subarray(40000));
    expect(r.finish().messages).toBe(1);
    expect(c.payloads[0]!.length).toBe(0xffff * 2);
  });
});

describe('files: streamed in chunks, gzip detected by magic bytes', () => {
  it('the RITCH sample and its .gz read the same with tiny chunks', async () => {
    const a = new Collect();
    const b = new Collect();
    const sa = await readItchFile(RITCH, a, { chunkSize: 1000 });
    const sb = await readItchFile(`${RITCH}.gz`, b, { chunkSize: 777 });
    expect(sa.messages).toBe(12012);
    expect(sb).toEqual(sa);
    expect(b.payloads).toEqual(a.payloads);
  });

  it('memory stays bounded: chunks are at most the chunk size', async () => {
    let max = 0;
    for await (const c of readFileChunks(`${RITCH}.gz`, { chunkSize: 4096 })) max = Math.max(max, c.length);
    expect(max).toBeLessThanOrEqual(4096);
  });

  it('a missing file and a corrupt gzip are TapedeckErrors naming the file', async () => {
    await expect(readItchFile(path.join(tmp.dir, 'nope.itch'), new Collect())).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const gz = zlib.gzipSync(Buffer.from(frame([encodeMessage(D(1n))])));
    const corrupt = path.join(tmp.dir, 'corrupt.gz');
    fs.writeFileSync(corrupt, Buffer.concat([gz.subarray(0, 12), Buffer.from('garbage-garbage'), gz.subarray(12)]));
    await expect(readItchFile(corrupt, new Collect())).rejects.toMatchObject({ code: 'GZIP_CORRUPT', where: { file: corrupt } });
    const cut = path.join(tmp.dir, 'cut.gz');
    fs.writeFileSync(cut, gz.subarray(0, gz.length - 6));
    await expect(readItchFile(cut, new Collect())).rejects.toBeInstanceOf(TapedeckError);
  });
});

describe('MoldUDP64', () => {
  it('encode then decode gives the session, sequence number and messages back', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 30 }),
        (session, seq, messages) => {
          const p = decodeMoldPacket(encodeMoldPacket(session, seq, messages));
          expect(p).toMatchObject({ kind: 'messages', session: session.padEnd(10, ' '), sequenceNumber: seq, messageCount: messages.length });
          expect(p.messages.map((m) => [...m])).toEqual(messages.map((m) => [...m]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('heartbeats and End of Session carry no messages; requests round-trip', () => {
    expect(decodeMoldPacket(encodeMoldHeartbeat('SESSION1', 42n))).toMatchObject({ kind: 'heartbeat', sequenceNumber: 42n, messages: [] });
    const eos = encodeMoldEndOfSession('SESSION1', 43n);
    expect(eos.length).toBe(20);
    expect((eos[18]! << 8) | eos[19]!).toBe(MOLD_END_OF_SESSION_COUNT);
    expect(decodeMoldPacket(eos)).toMatchObject({ kind: 'end-of-session', sequenceNumber: 43n, messages: [] });
    const req = { session: '000000001 ', sequenceNumber: 12345678901n, requestedMessageCount: 250 };
    expect(decodeMoldRequest(encodeMoldRequest(req))).toEqual(req);
  });

  it('carries ITCH: the same parser reads ITCH from MoldUDP64 as from BinaryFILE', () => {
    fc.assert(
      fc.property(fc.array(anyMessageArb, { minLength: 1, maxLength: 80 }), (msgs) => {
        const encoded = msgs.map(encodeMessage);
        const packets = packMoldPackets('NASDAQ', 1n, encoded);
        let seq = 1n;
        const viaMold: ItchMessage[] = [];
        const sink: PayloadSink = { payload: (b, o, l) => void viaMold.push(decodeMessage(b, o, l)) };
        for (const p of packets) {
          expect(p.length).toBeLessThanOrEqual(20 + 1400);
          const header = decodeMoldPacket(p);
          expect(header.sequenceNumber).toBe(seq);
          seq += BigInt(forEachMoldMessage(p, 0, p.length, sink));
        }
        expect(viaMold).toEqual(msgs);
        const viaFile: ItchMessage[] = [];
        readItchBytes(frame(encoded), { payload: (b, o, l) => void viaFile.push(decodeMessage(b, o, l)) });
        expect(viaFile).toEqual(viaMold);
      }),
      { numRuns: 60 },
    );
  });

  it('short, overrunning or padded packets are errors with the offset', () => {
    const p = encodeMoldPacket('S', 1n, [Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
    expect(thrown(() => decodeMoldPacket(p.subarray(0, 19))).code).toBe('MOLD_TRUNCATED');
    const over = thrown(() => decodeMoldPacket(p.subarray(0, p.length - 1)));
    expect([over.code, over.where?.offset]).toEqual(['MOLD_TRUNCATED', 25]);
    expect(thrown(() => decodeMoldPacket(new Uint8Array([...p, 0]))).code).toBe('MOLD_TRAILING_BYTES');
    expect(thrown(() => encodeMoldPacket('ELEVEN-CHAR', 1n, [])).code).toBe('MOLD_FIELD');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decodeMoldPacket(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TapedeckError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

it('ITCH_MESSAGE_LENGTHS is what the typed framing checks against', () => {
  expect(ITCH_MESSAGE_LENGTHS['A'.charCodeAt(0)]).toBe(36);
});
