/**
 * A SoupBinTCP 3.0 server for one session, on loopback (simulated venues and tests).
 *
 * The session's sequenced messages are kept in order (message n at index n-1, bounded by
 * `maxSessionMessages`). A client that logs in with requested sequence number n >= 1 is sent
 * messages n.. from the log and then live ones, so a client that reconnects at its next expected
 * number misses nothing and gets nothing twice. Requested sequence 0 means "from the next new
 * message" (the spec's "most recently generated"; read here as no replay). A number beyond the log
 * is clamped to the next new message, and Login Accepted says which number comes next.
 *
 * Login failures answer Login Rejected and close: 'A' (not authorized) for a wrong user or password,
 * 'S' (session not available) for another session name or after end of session.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TapedeckError } from '../../../../domain/core/errors.js';
import { LOGIN_REJECT_NOT_AUTHORIZED, LOGIN_REJECT_SESSION_NOT_AVAILABLE, SOUP_HEADER_LENGTH, encodeSoupPacketInto, soupPacketLength, type SoupPacket } from './packets.js';
import { SoupSession } from './session.js';

export interface SoupServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Session name, at most 10 characters. */
  session: string;
  /** username → password, or a check. */
  credentials: Record<string, string> | ((username: string, password: string) => boolean);
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** A connection that has not logged in by then is closed. */
  loginTimeoutMs?: number;
  maxSessionMessages?: number;
  maxConnections?: number;
  /** A client's Unsequenced Data. The payload is a view valid only during the call. */
  onUnsequenced?(payload: Uint8Array, connection: SoupServerConnection): void;
  /** Logins, rejections and disconnects, for logs and tests. */
  onEvent?(event: SoupServerEvent): void;
}

export type SoupServerEvent =
  | { kind: 'login'; connectionId: number; username: string; sequenceNumber: number }
  | { kind: 'loginRejected'; connectionId: number; username: string; reason: string }
  | { kind: 'disconnect'; connectionId: number; username: string | null; reason: string };

export interface SoupServerConnection {
  readonly id: number;
  readonly username: string | null;
}

interface Connection extends SoupServerConnection {
  username: string | null;
  session: SoupSession;
  loggedIn: boolean;
  loginTimer: NodeJS.Timeout | null;
}

export class SoupBinTcpServer {
  /** Sequenced messages as framed 'S' packets, so live sends and replays write them as they are. */
  private readonly log: Uint8Array[] = [];
  private readonly connections = new Map<number, Connection>();
  private nextConnectionId = 1;
  private ended = false;
  private heartbeatsPaused = false;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly loginTimeoutMs: number;
  private readonly maxSessionMessages: number;
  private readonly maxConnections: number;

  private constructor(private readonly server: Server, private readonly options: SoupServerOptions) {
    if (options.session.length > 10) throw new TapedeckError('SOUP_CONFIG', `session name "${options.session}" is longer than 10 characters`, { field: 'session' });
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 15_000;
    this.loginTimeoutMs = options.loginTimeoutMs ?? 5000;
    this.maxSessionMessages = options.maxSessionMessages ?? 1_000_000;
    this.maxConnections = options.maxConnections ?? 16;
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(options: SoupServerOptions): Promise<SoupBinTcpServer> {
    const server = createServer();
    const s = new SoupBinTcpServer(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new TapedeckError('SOUP_LISTEN', `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${e.message}`)));
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return s;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get session(): string {
    return this.options.session;
  }

  /** Sequence number of the last message published, 0 before any. */
  get lastSequenceNumber(): number {
    return this.log.length;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get loggedInCount(): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.loggedIn) n++;
    return n;
  }

  /** A copy of sequenced message n (1-based). */
  message(sequenceNumber: number): Uint8Array | undefined {
    return this.log[sequenceNumber - 1]?.slice(SOUP_HEADER_LENGTH);
  }

  /** Appends a message to the session and sends it to every logged-in client. Returns its sequence number. */
  publish(payload: Uint8Array): number {
    if (this.ended) throw new TapedeckError('SOUP_SESSION_ENDED', `session ${this.options.session} has ended; no more sequenced messages`);
    if (this.log.length >= this.maxSessionMessages) {
      throw new TapedeckError('SOUP_SESSION_FULL', `session ${this.options.session} holds its maximum of ${this.maxSessionMessages} messages`);
    }
    const packet = encodeSequenced(payload);
    this.log.push(packet);
    for (const c of this.connections.values()) if (c.loggedIn) c.session.sendBytes(packet);
    return this.log.length;
  }

  /** Sends End of Session to everyone and closes; later logins are rejected. */
  endSession(): void {
    this.ended = true;
    for (const c of this.connections.values()) {
      if (c.loggedIn) c.session.send({ kind: 'endOfSession' });
      c.session.end('end of session');
    }
  }

  /** Fault injection: drops every connection at once, as a network failure would. */
  dropConnections(): void {
    for (const c of this.connections.values()) c.session.destroy('dropped by the server (fault injection)');
  }

  /** Fault injection: stop (or resume) server heartbeats, so a client sees a silent server. */
  pauseHeartbeats(paused: boolean): void {
    this.heartbeatsPaused = paused;
    for (const c of this.connections.values()) c.session.heartbeatsPaused = paused;
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) c.session.destroy('server closed');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    const id = this.nextConnectionId++;
    const conn: Connection = {
      id,
      username: null,
      loggedIn: false,
      loginTimer: null,
      session: new SoupSession(socket, {
        side: 'server',
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        heartbeatTimeoutMs: this.heartbeatTimeoutMs,
        where: { stream: `soupbintcp server connection ${id}` },
        onPacket: (p) => this.packet(conn, p),
        onData: (payload) => {
          if (conn.loggedIn) this.options.onUnsequenced?.(payload, conn);
          else conn.session.destroy('unsequenced data before login');
        },
        onHeartbeatTimeout: (silentMs) => conn.session.destroy(`client silent for ${silentMs} ms (heartbeat timeout ${this.heartbeatTimeoutMs} ms)`),
        onClose: (reason) => {
          if (conn.loginTimer) clearTimeout(conn.loginTimer);
          this.connections.delete(id);
          this.options.onEvent?.({ kind: 'disconnect', connectionId: id, username: conn.username, reason });
        },
      }),
    };
    conn.session.heartbeatsPaused = this.heartbeatsPaused;
    conn.loginTimer = setTimeout(() => conn.session.destroy(`no login within ${this.loginTimeoutMs} ms`), this.loginTimeoutMs);
    conn.loginTimer.unref();
    this.connections.set(id, conn);
  }

  private packet(conn: Connection, p: SoupPacket): void {
    if (!conn.loggedIn) {
      if (p.kind !== 'loginRequest') {
        conn.session.destroy(`expected a login request first, got ${p.kind}`);
        return;
      }
      this.login(conn, p);
      return;
    }
    switch (p.kind) {
      case 'logoutRequest':
        conn.session.end('logout requested by the client');
        return;
      case 'loginRequest':
        conn.session.destroy('a second login request on a logged-in connection');
        return;
      default:
        // Client heartbeats and debug text only prove the client is alive (the session saw the bytes).
        return;
    }
  }

  private login(conn: Connection, p: Extract<SoupPacket, { kind: 'loginRequest' }>): void {
    if (conn.loginTimer) clearTimeout(conn.loginTimer);
    conn.loginTimer = null;
    conn.username = p.username;
    const creds = this.options.credentials;
    const authorized = typeof creds === 'function' ? creds(p.username, p.password) : Object.prototype.hasOwnProperty.call(creds, p.username) && creds[p.username] === p.password;
    let reject: string | null = null;
    if (!authorized) reject = LOGIN_REJECT_NOT_AUTHORIZED;
    else if (this.ended || (p.requestedSession !== '' && p.requestedSession !== this.options.session)) reject = LOGIN_REJECT_SESSION_NOT_AVAILABLE;
    if (reject !== null) {
      conn.session.send({ kind: 'loginRejected', reason: reject });
      conn.session.end(`login rejected (${reject})`);
      this.options.onEvent?.({
        kind: 'loginRejected',
        connectionId: conn.id,
        username: p.username,
        reason: reject === LOGIN_REJECT_NOT_AUTHORIZED ? 'not authorized' : `session "${p.requestedSession}" not available`,
      });
      return;
    }
    const next = p.requestedSequenceNumber === 0 ? this.log.length + 1 : Math.min(p.requestedSequenceNumber, this.log.length + 1);
    conn.session.send({ kind: 'loginAccepted', session: this.options.session, sequenceNumber: next });
    conn.loggedIn = true;
    this.replay(conn, next);
    conn.session.startKeepAlive();
    this.options.onEvent?.({ kind: 'login', connectionId: conn.id, username: p.username, sequenceNumber: next });
  }

  /** Sends messages from `from` to the end of the log, batched into few writes. */
  private replay(conn: Connection, from: number): void {
    const BATCH_BYTES = 64 * 1024;
    let i = from - 1;
    while (i < this.log.length) {
      let size = 0;
      let j = i;
      while (j < this.log.length && (size === 0 || size + this.log[j]!.length <= BATCH_BYTES)) size += this.log[j++]!.length;
      const buf = new Uint8Array(size);
      let o = 0;
      for (let k = i; k < j; k++) {
        buf.set(this.log[k]!, o);
        o += this.log[k]!.length;
      }
      conn.session.sendBytes(buf);
      i = j;
    }
  }
}

function encodeSequenced(payload: Uint8Array): Uint8Array {
  const p: SoupPacket = { kind: 'sequencedData', payload };
  const out = new Uint8Array(soupPacketLength(p));
  encodeSoupPacketInto(p, out, 0);
  return out;
}
