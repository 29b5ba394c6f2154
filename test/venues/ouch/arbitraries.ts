/** fast-check generators for OUCH 4.2 records and SoupBinTCP packets, built from the layout tables. */
import fc from 'fast-check';
import { CLIENT_LAYOUTS, VENUE_LAYOUTS, type FieldSpec, type MessageLayout, type OuchMessage } from '../../../src/venues/nasdaq/ouch42/messages.js';
import type { SoupPacket } from '../../../src/venues/nasdaq/soupbintcp/packets.js';

const byteChar = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));

/** Text a field can carry: single-byte characters, no trailing space (the padding is not content). */
export function paddedText(maxLength: number, opts: { trimStart?: boolean } = {}): fc.Arbitrary<string> {
  return fc
    .array(byteChar(0x20, 0xff), { maxLength })
    .map((cs) => cs.join(''))
    .filter((s) => !s.endsWith(' ') && !(opts.trimStart && s.startsWith(' ')));
}

function fieldArb(f: FieldSpec): fc.Arbitrary<unknown> {
  switch (f.type) {
    case 'char':
      return byteChar(0, 0xff);
    case 'alpha':
      return paddedText(f.size);
    case 'u32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  }
}

export function layoutArb(layout: MessageLayout): fc.Arbitrary<OuchMessage> {
  const model: Record<string, fc.Arbitrary<unknown>> = { kind: fc.constant(layout.kind) };
  for (const f of layout.fields) model[f.name] = fieldArb(f);
  if (layout.optionalTail) model[layout.optionalTail.name] = fc.option(fieldArb(layout.optionalTail), { nil: null });
  return fc.record(model) as unknown as fc.Arbitrary<OuchMessage>;
}

export const clientMessageArb = fc.oneof(...CLIENT_LAYOUTS.map(layoutArb));
export const venueMessageArb = fc.oneof(...VENUE_LAYOUTS.map(layoutArb));

const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

export const soupPacketArb: fc.Arbitrary<SoupPacket> = fc.oneof(
  fc.record({ kind: fc.constant('debug' as const), text: fc.array(byteChar(0, 0xff), { maxLength: 40 }).map((a) => a.join('')) }),
  fc.record({ kind: fc.constant('loginAccepted' as const), session: paddedText(10, { trimStart: true }), sequenceNumber: seq }),
  fc.record({ kind: fc.constant('loginRejected' as const), reason: byteChar(0, 0xff) }),
  fc.record({ kind: fc.constant('sequencedData' as const), payload: bytes(120) }),
  fc.constant({ kind: 'serverHeartbeat' as const }),
  fc.constant({ kind: 'endOfSession' as const }),
  fc.record({
    kind: fc.constant('loginRequest' as const),
    username: paddedText(6),
    password: paddedText(10),
    requestedSession: paddedText(10, { trimStart: true }),
    requestedSequenceNumber: seq,
  }),
  fc.record({ kind: fc.constant('unsequencedData' as const), payload: bytes(120) }),
  fc.constant({ kind: 'clientHeartbeat' as const }),
  fc.constant({ kind: 'logoutRequest' as const }),
);

/** Splits `total` bytes into chunk lengths (some of them 0). */
export function chunking(maxChunk: number) {
  return fc.array(fc.integer({ min: 0, max: maxChunk }), { minLength: 1, maxLength: 60 });
}

export function splitBy(data: Uint8Array, lengths: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  for (let i = 0; o < data.length; i++) {
    const n = lengths[i % lengths.length]!;
    // A zero length still makes progress every full cycle: force 1 byte when the whole cycle is 0.
    const take = n === 0 && lengths.every((x) => x === 0) ? 1 : n;
    out.push(data.subarray(o, Math.min(data.length, o + take)));
    o += take;
  }
  return out;
}
