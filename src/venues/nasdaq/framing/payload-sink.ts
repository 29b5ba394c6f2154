/**
 * What every framing reader hands its payloads to. One method, called once per message with a window
 * into a buffer the reader owns: the bytes are valid only during the call (copy them to keep them).
 * The ITCH parser (itch/parser.ts) is one; a counter or a copier is another.
 */
export interface PayloadSink {
  payload(bytes: Uint8Array, offset: number, length: number): void;
}
