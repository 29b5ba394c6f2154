/**
 * One SoupBinTCP connection, the part both ends share (nassau's SoupBinTCPSession): a framer on the
 * socket's bytes, packet sending, and keep-alive. Keep-alive sends this side's heartbeat ('R' from a
 * client, 'H' from a server) when nothing was sent for `heartbeatIntervalMs`, and calls
 * `onHeartbeatTimeout` once when nothing arrived for `heartbeatTimeoutMs`. Bad bytes from the peer
 * close the connection with a reason; they never throw out of a socket callback.
 */
import type { Socket } from 'node:net';
import { isTapedeckError, type ErrorPlace } from '../../../../domain/core/errors.js';
import { SoupFramer } from './framer.js';
import { CLIENT_PACKET_TYPES, SERVER_PACKET_TYPES, decodeSoupBody, encodeSoupPacket, type SoupPacket } from './packets.js';

export interface SoupSessionOptions {
  /** Which end this is: a client sends 'R' heartbeats and accepts server packet types, and vice versa. */
  side: 'client' | 'server';
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** Data payloads are views valid only during the call. */
  onPacket(packet: SoupPacket): void;
  /**
   * The hot path: Sequenced Data (at a client) or Unsequenced Data (at a server) straight from the
   * framer, with no packet object. The payload is a view valid only during the call.
   */
  onData(payload: Uint8Array): void;
  onHeartbeatTimeout(silentMs: number): void;
  /** Called once, whoever closed it. */
  onClose(reason: string): void;
  where?: ErrorPlace;
}

const HEARTBEAT_CLIENT: SoupPacket = { kind: 'clientHeartbeat' };
const HEARTBEAT_SERVER: SoupPacket = { kind: 'serverHeartbeat' };

export class SoupSession {
  private readonly framer: SoupFramer;
  private readonly heartbeatBytes: Uint8Array;
  private lastRxMs = Date.now();
  private lastTxMs = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private closing: string | null = null;
  private done = false;
  private timedOut = false;
  /** Fault injection: stop sending heartbeats (the peer should then time out). */
  heartbeatsPaused = false;

  constructor(readonly socket: Socket, private readonly options: SoupSessionOptions) {
    this.heartbeatBytes = encodeSoupPacket(options.side === 'client' ? HEARTBEAT_CLIENT : HEARTBEAT_SERVER);
    const dataType = options.side === 'client' ? 0x53 /* S */ : 0x55 /* U */;
    this.framer = new SoupFramer((typeByte, payload, at) => {
      if (typeByte === dataType) this.options.onData(payload);
      else this.options.onPacket(decodeSoupBody(typeByte, payload, { ...options.where, offset: at }));
    }, { allowedTypes: options.side === 'client' ? SERVER_PACKET_TYPES : CLIENT_PACKET_TYPES, where: options.where });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e: Error) => {
      if (!this.closing) this.closing = `socket error: ${e.message}`;
    });
    socket.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return !this.done && this.closing === null;
  }

  /** Starts keep-alive; the tick is a fraction of the shorter interval so a timeout is seen promptly. */
  startKeepAlive(): void {
    if (this.timer || !this.isOpen) return;
    const tickMs = Math.max(2, Math.min(250, Math.floor(Math.min(this.options.heartbeatIntervalMs, this.options.heartbeatTimeoutMs) / 4)));
    this.lastRxMs = Date.now();
    this.timer = setInterval(() => this.keepAlive(), tickMs);
    this.timer.unref();
  }

  send(packet: SoupPacket): boolean {
    return this.sendBytes(encodeSoupPacket(packet));
  }

  sendBytes(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.socket.write(bytes);
    this.lastTxMs = Date.now();
    return true;
  }

  /** Graceful close: pending writes go out first. */
  end(reason: string): void {
    if (!this.isOpen) return;
    this.closing = reason;
    this.stopTimer();
    this.socket.end();
  }

  /** Abrupt close, as a dropped connection. */
  destroy(reason: string): void {
    if (this.done) return;
    if (!this.closing) this.closing = reason;
    this.stopTimer();
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.done) return;
    this.lastRxMs = Date.now();
    try {
      this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      this.destroy(isTapedeckError(e) ? `protocol error: ${e.describe()}` : `error while handling a packet: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private keepAlive(): void {
    if (!this.isOpen) return;
    const now = Date.now();
    if (!this.heartbeatsPaused && now - this.lastTxMs >= this.options.heartbeatIntervalMs) this.sendBytes(this.heartbeatBytes);
    const silentMs = now - this.lastRxMs;
    if (silentMs > this.options.heartbeatTimeoutMs && !this.timedOut) {
      this.timedOut = true;
      this.options.onHeartbeatTimeout(silentMs);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.stopTimer();
    this.options.onClose(this.closing ?? 'connection closed by the peer');
  }
}
