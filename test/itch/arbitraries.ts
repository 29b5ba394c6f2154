/** fast-check arbitraries for ITCH 5.0 messages, built from the layout table. */
import fc from 'fast-check';
import { ITCH_MESSAGE_TYPES, layoutOf, type CompiledField, type ItchMessage, type ItchMessageType } from '../../src/venues/nasdaq/itch/messages.js';

const byteChar = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));

function fieldArb(f: CompiledField): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'char':
      return byteChar;
    case 'alpha':
      return fc.array(byteChar, { minLength: f.width, maxLength: f.width }).map((a) => a.join(''));
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'u32':
    case 'price4':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'u48':
      return fc.integer({ min: 0, max: 2 ** 48 - 1 });
    case 'u64':
    case 'price8':
      // Bias towards both ends: the 2^53 boundary matters for the number accessors.
      return fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 54n }));
  }
}

export function messageArb(type: ItchMessageType): fc.Arbitrary<ItchMessage> {
  const layout = layoutOf(type);
  const fields: Record<string, fc.Arbitrary<unknown>> = {
    stockLocate: fc.integer({ min: 0, max: 0xffff }),
    trackingNumber: fc.integer({ min: 0, max: 0xffff }),
    timestamp: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  };
  for (const f of layout.fields) fields[f.name] = fieldArb(f);
  return fc.record(fields).map((r) => ({ messageType: type, ...r }) as unknown as ItchMessage);
}

export const anyMessageArb: fc.Arbitrary<ItchMessage> = fc.constantFrom(...ITCH_MESSAGE_TYPES).chain(messageArb);

/** Random bytes of exactly the type's length, with its type byte: every such string is a valid message. */
export function rawMessageArb(type: ItchMessageType): fc.Arbitrary<Uint8Array> {
  const len = layoutOf(type).length;
  return fc.uint8Array({ minLength: len - 1, maxLength: len - 1 }).map((rest) => {
    const b = new Uint8Array(len);
    b[0] = type.charCodeAt(0);
    b.set(rest, 1);
    return b;
  });
}
