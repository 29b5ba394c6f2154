/**
 * `tapedeck bench ouch`: OUCH 4.2 codec and SoupBinTCP figures, each beside a baseline from the same run.
 * - codec: encode (into one reused buffer) and decode of a mix of venue messages (Accepted, Executed,
 *   Canceled, Replaced); baseline: reading one u32 per message from the same bytes (the floor of any decoder).
 * - framer: reassembling SoupBinTCP packets from 1,460-byte pieces (a TCP segment) and decoding each OUCH
 *   message; baseline: copying the same pieces into a buffer (memory bandwidth).
 * - loopback: sequenced messages from the SoupBinTCP server to the client over 127.0.0.1, until the client
 *   has all; baseline: the same bytes over a plain socket, counted, without framing.
 */
import { createServer, connect, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeVenueMessage, encodeOuchInto, readU32 } from '../venues/nasdaq/ouch42/codec.js';
import type { OuchVenueMessage } from '../venues/nasdaq/ouch42/messages.js';
import { SoupFramer } from '../venues/nasdaq/soupbintcp/framer.js';
import { encodeSoupPacketInto } from '../venues/nasdaq/soupbintcp/packets.js';
import { SoupBinTcpClient } from '../venues/nasdaq/soupbintcp/client.js';
import { SoupBinTcpServer } from '../venues/nasdaq/soupbintcp/server.js';

export interface OuchBenchOptions {
  messages: number;
  loopbackMessages: number;
}

export interface OuchBenchResult {
  messages: number;
  encodeMsgsPerSec: number;
  decodeMsgsPerSec: number;
  baselineReadU32MsgsPerSec: number;
  framerDecodeMsgsPerSec: number;
  framerMBPerSec: number;
  baselineCopyMBPerSec: number;
  loopbackMessages: number;
  loopbackMsgsPerSec: number;
  baselineRawSocketMsgsPerSec: number;
}

function sampleMessages(): OuchVenueMessage[] {
  const order = {
    side: 'B', shares: 100, stock: 'AAPL', priceTicks: 1_234_500, timeInForceSeconds: 99_998, firm: 'FIRM', display: 'Y',
    orderReferenceNumber: 123_456_789n, capacity: 'A', intermarketSweepEligibility: 'N', minimumQuantity: 0, crossType: 'N',
    orderState: 'L', bboWeightIndicator: ' ',
  };
  return [
    { kind: 'Accepted', timestampNs: 34_200_000_000_000n, orderToken: 'TOKEN000000001', ...order },
    { kind: 'Executed', timestampNs: 34_200_000_000_001n, orderToken: 'TOKEN000000001', executedShares: 40, executionPriceTicks: 1_234_500, liquidityFlag: 'A', matchNumber: 987_654n },
    { kind: 'Canceled', timestampNs: 34_200_000_000_002n, orderToken: 'TOKEN000000001', decrementShares: 60, reason: 'U' },
    { kind: 'Replaced', timestampNs: 34_200_000_000_003n, replacementOrderToken: 'TOKEN000000002', previousOrderToken: 'TOKEN000000001', ...order },
  ];
}

/** n encoded messages back to back, and their offsets and lengths. */
function corpus(n: number): { bytes: Uint8Array; offsets: Uint32Array; lengths: Uint8Array } {
  const sample = sampleMessages();
  const bytes = new Uint8Array(n * 80);
  const offsets = new Uint32Array(n);
  const lengths = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = o;
    const len = encodeOuchInto(sample[i % sample.length]!, bytes, o);
    lengths[i] = len;
    o += len;
  }
  return { bytes: bytes.subarray(0, o), offsets, lengths };
}

function soupStream(c: { bytes: Uint8Array; offsets: Uint32Array; lengths: Uint8Array }): Uint8Array {
  const out = new Uint8Array(c.bytes.length + c.offsets.length * 3);
  let o = 0;
  for (let i = 0; i < c.offsets.length; i++) {
    o += encodeSoupPacketInto({ kind: 'sequencedData', payload: c.bytes.subarray(c.offsets[i]!, c.offsets[i]! + c.lengths[i]!) }, out, o);
  }
  return out;
}

function perSec(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export async function runOuchBench(options: OuchBenchOptions): Promise<OuchBenchResult> {
  const n = options.messages;
  const c = corpus(n);
  const sample = sampleMessages();

  // Each phase runs twice and the second run is timed, so every figure is taken with the JIT warm.
  const buf = new Uint8Array(128);
  let sink = 0;
  const time = (fn: () => void): number => {
    fn();
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  const encodeMs = time(() => {
    for (let i = 0; i < n; i++) sink += encodeOuchInto(sample[i & 3]!, buf, 0);
  });
  const decodeMs = time(() => {
    for (let i = 0; i < n; i++) sink += decodeVenueMessage(c.bytes.subarray(c.offsets[i]!, c.offsets[i]! + c.lengths[i]!)).kind.length;
  });
  const readMs = time(() => {
    for (let i = 0; i < n; i++) sink += readU32(c.bytes, c.offsets[i]! + 23);
  });

  // Framer + decode over TCP-segment-sized pieces; baseline copies the same pieces.
  const stream = soupStream(c);
  const SEG = 1460;
  let decoded = 0;
  const framerMs = time(() => {
    decoded = 0;
    const framer = new SoupFramer((type, payload) => {
      if (type === 0x53) {
        decodeVenueMessage(payload);
        decoded++;
      }
    });
    for (let o = 0; o < stream.length; o += SEG) framer.push(stream.subarray(o, Math.min(stream.length, o + SEG)));
  });
  const copy = new Uint8Array(SEG);
  const copyMs = time(() => {
    for (let o = 0; o < stream.length; o += SEG) {
      copy.set(stream.subarray(o, Math.min(stream.length, o + SEG)));
      sink += copy[0]!;
    }
  });
  if (decoded !== n) throw new Error(`bench: framer decoded ${decoded} of ${n} messages`);

  const loop = await loopback(options.loopbackMessages, c);
  const raw = await rawSocket(options.loopbackMessages, c);
  if (sink === -1) process.stdout.write(''); // keeps the loops from being optimised away

  const mb = stream.length / 1e6;
  return {
    messages: n,
    encodeMsgsPerSec: perSec(n, encodeMs),
    decodeMsgsPerSec: perSec(n, decodeMs),
    baselineReadU32MsgsPerSec: perSec(n, readMs),
    framerDecodeMsgsPerSec: perSec(n, framerMs),
    framerMBPerSec: Math.round(mb / (framerMs / 1000)),
    baselineCopyMBPerSec: Math.round(mb / (copyMs / 1000)),
    loopbackMessages: options.loopbackMessages,
    loopbackMsgsPerSec: perSec(options.loopbackMessages, loop),
    baselineRawSocketMsgsPerSec: perSec(options.loopbackMessages, raw),
  };
}

async function loopback(count: number, c: { bytes: Uint8Array; offsets: Uint32Array; lengths: Uint8Array }): Promise<number> {
  const server = await SoupBinTcpServer.listen({ session: 'BENCH', credentials: { bench: 'bench' }, maxSessionMessages: count + 1 });
  let got = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const client = new SoupBinTcpClient({ port: server.port, username: 'bench', password: 'bench' }, {
    onSequenced: () => {
      if (++got === count) done();
    },
  });
  try {
    await client.connect();
    const t = performance.now();
    const k = c.offsets.length;
    for (let i = 0; i < count; i++) {
      const j = i % k;
      server.publish(c.bytes.subarray(c.offsets[j]!, c.offsets[j]! + c.lengths[j]!));
    }
    await all;
    return performance.now() - t;
  } finally {
    await client.close();
    await server.close();
  }
}

/** The same packets over a plain socket: what TCP on loopback costs without any session logic. */
async function rawSocket(count: number, c: { bytes: Uint8Array; offsets: Uint32Array; lengths: Uint8Array }): Promise<number> {
  const k = c.offsets.length;
  const packets: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < Math.min(k, count); i++) {
    const p = new Uint8Array(c.lengths[i]! + 3);
    encodeSoupPacketInto({ kind: 'sequencedData', payload: c.bytes.subarray(c.offsets[i]!, c.offsets[i]! + c.lengths[i]!) }, p, 0);
    packets.push(p);
  }
  for (let i = 0; i < count; i++) total += packets[i % packets.length]!.length;
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const sock = connect({ host: '127.0.0.1', port });
  sock.on('data', (d: Buffer) => {
    received += d.length;
    if (received >= total) done();
  });
  const peer = await new Promise<import('node:net').Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => (sock.connecting ? sock.once('connect', () => r()) : r()));
  const t = performance.now();
  for (let i = 0; i < count; i++) peer.write(packets[i % packets.length]!);
  await all;
  const ms = performance.now() - t;
  sock.destroy();
  peer.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return ms;
}
