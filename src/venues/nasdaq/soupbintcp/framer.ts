/**
 * Reassembles SoupBinTCP packets from a byte stream that arrives in arbitrary pieces (TCP reads,
 * capture records). Whole packets inside a chunk are handed over as views into that chunk, with no
 * copy; only a packet split across chunks is copied, into one carry buffer that is reused. So the
 * payload given to `onPacket` is valid only during the call: copy it to keep it.
 *
 * Bounds: the carry buffer never holds more than one packet (at most 65,537 bytes), and each
 * push() does work proportional to its chunk. A bad length or a type the peer may not send is a
 * TapedeckError naming the stream offset; after one, the framer refuses further input.
 */
import { TapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';
import { SOUP_HEADER_LENGTH, soupKindOf } from './packets.js';

export type PacketHandler = (typeByte: number, payload: Uint8Array, streamOffset: number) => void;

export interface FramerOptions {
  /** Packet types this peer may send, e.g. SERVER_PACKET_TYPES; others are a protocol error. */
  allowedTypes?: string;
  /** Largest accepted length field (type + payload); default 65535, the protocol's maximum. */
  maxPacketLength?: number;
  /** Added to error places, e.g. `{ stream: 'capture 3' }`. */
  where?: ErrorPlace;
}

export class SoupFramer {
  private readonly allowed: Uint8Array | null;
  private readonly maxPacketLength: number;
  private readonly where: ErrorPlace;
  private carry: Uint8Array;
  private carryLen = 0;
  private offset = 0;
  private failure: TapedeckError | null = null;

  constructor(private readonly onPacket: PacketHandler, options: FramerOptions = {}) {
    this.maxPacketLength = Math.min(options.maxPacketLength ?? 0xffff, 0xffff);
    this.where = options.where ?? {};
    if (options.allowedTypes !== undefined) {
      this.allowed = new Uint8Array(256);
      for (let i = 0; i < options.allowedTypes.length; i++) this.allowed[options.allowedTypes.charCodeAt(i)] = 1;
    } else {
      this.allowed = null;
    }
    this.carry = new Uint8Array(256);
  }

  /** Stream offset of the first byte not yet consumed into a packet. */
  get streamOffset(): number {
    return this.offset;
  }

  /** Bytes held for a packet not yet complete. */
  get bufferedBytes(): number {
    return this.carryLen;
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk);
    } catch (e) {
      if (e instanceof TapedeckError) this.failure = e;
      throw e;
    }
  }

  private consume(chunk: Uint8Array): void {
    let i = 0;
    // Finish a packet begun in an earlier chunk.
    if (this.carryLen > 0) {
      while (this.carryLen < 2 && i < chunk.length) this.carry[this.carryLen++] = chunk[i++]!;
      if (this.carryLen < 2) return;
      const need = 2 + this.checkLength((this.carry[0]! << 8) | this.carry[1]!, this.offset);
      this.ensureCarry(need);
      const take = Math.min(need - this.carryLen, chunk.length - i);
      this.carry.set(chunk.subarray(i, i + take), this.carryLen);
      this.carryLen += take;
      i += take;
      if (this.carryLen < need) return;
      this.carryLen = 0;
      this.emit(this.carry, 0, need);
    }
    // Whole packets straight out of the chunk.
    while (chunk.length - i >= 2) {
      const len = this.checkLength((chunk[i]! << 8) | chunk[i + 1]!, this.offset);
      if (chunk.length - i < 2 + len) break;
      this.emit(chunk, i, 2 + len);
      i += 2 + len;
    }
    // Keep the start of the next packet.
    const rest = chunk.length - i;
    if (rest > 0) {
      if (rest >= 2) this.ensureCarry(2 + this.checkLength((chunk[i]! << 8) | chunk[i + 1]!, this.offset));
      this.carry.set(chunk.subarray(i), 0);
      this.carryLen = rest;
    }
  }

  private checkLength(len: number, at: number): number {
    if (len === 0) {
      throw new TapedeckError('SOUP_FRAME_LENGTH', 'packet length 0: a SoupBinTCP packet has at least its type byte', { ...this.where, offset: at, field: 'length' });
    }
    if (len > this.maxPacketLength) {
      throw new TapedeckError('SOUP_FRAME_LENGTH', `packet length ${len} exceeds the limit of ${this.maxPacketLength}`, { ...this.where, offset: at, field: 'length' });
    }
    return len;
  }

  private ensureCarry(n: number): void {
    if (this.carry.length >= n) return;
    const bigger = new Uint8Array(Math.max(n, this.carry.length * 2));
    bigger.set(this.carry.subarray(0, this.carryLen));
    this.carry = bigger;
  }

  private emit(buf: Uint8Array, start: number, total: number): void {
    const at = this.offset;
    const typeByte = buf[start + 2]!;
    if (this.allowed && this.allowed[typeByte] !== 1) {
      const kind = soupKindOf(typeByte);
      const what = kind ? `a ${kind} packet ('${String.fromCharCode(typeByte)}'), which this peer must not send` : `unknown packet type 0x${typeByte.toString(16).padStart(2, '0')}`;
      throw new TapedeckError('SOUP_UNEXPECTED_TYPE', `received ${what}`, { ...this.where, offset: at + 2, field: 'type' });
    }
    this.offset += total;
    this.onPacket(typeByte, buf.subarray(start + SOUP_HEADER_LENGTH, start + total), at);
  }
}
