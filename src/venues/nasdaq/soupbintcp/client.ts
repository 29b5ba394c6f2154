/**
 * A SoupBinTCP 3.0 client with reconnection.
 *
 * The client counts sequenced messages itself: the first after Login Accepted has the number the
 * server gave, each next one is one more. `nextSequenceNumber` is the number it expects next, and a
 * reconnect logs in with exactly that number (asking for the server's current session), so the server
 * replays what was missed. A later number would be a gap, which ends the client with SOUP_GAP rather than
 * hide lost messages.
 *
 * A new session: when a reconnect is answered with another session id, or with an earlier number than the
 * one expected (a server that restarted and lost its messages), this is not a replay of repeats but a new
 * session. The client reports `sessionReset`, counts the new session from message 1 (logging in again from
 * 1 when the server resumed later) and delivers every message of it: nothing new is dropped as a repeat.
 * What happened in the old session that the client did not read is for the layer above to find out.
 *
 * Timeouts: the connection is abandoned when the server is silent for `heartbeatTimeoutMs` (no data,
 * no heartbeats), then reconnected if `reconnect` allows. Attempts are bounded by `maxAttempts`.
 */
import { connect as netConnect } from 'node:net';
import { TapedeckError } from '../../../../domain/core/errors.js';
import { LOGIN_REJECT_NOT_AUTHORIZED, LOGIN_REJECT_SESSION_NOT_AVAILABLE, type SoupPacket } from './packets.js';
import { SoupSession } from './session.js';

export interface SoupClientOptions {
  host?: string;
  port: number;
  username: string;
  password: string;
  /** '' (default) asks for the server's current session. */
  session?: string;
  /** First message wanted: 1 (default) replays the whole session, 0 starts with the next new one. */
  sequenceNumber?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Bound on TCP connect plus login. */
  loginTimeoutMs?: number;
  /** Reconnect after an unexpected disconnect; off by default. */
  reconnect?: { delayMs: number; maxAttempts: number };
}

export type SoupClientStatus =
  | { kind: 'loggedIn'; session: string; sequenceNumber: number; reconnect: boolean }
  /** The server is in a new session (another id, or numbering that went back): counting restarts at 1. */
  | { kind: 'sessionReset'; previousSession: string; session: string; expectedSequenceNumber: number; serverSequenceNumber: number }
  | { kind: 'disconnected'; reason: string }
  | { kind: 'heartbeatTimeout'; silentMs: number }
  | { kind: 'reconnecting'; attempt: number; maxAttempts: number; afterMs: number }
  | { kind: 'endOfSession' }
  | { kind: 'debug'; text: string }
  | { kind: 'failed'; error: TapedeckError }
  | { kind: 'closed' };

export interface SoupClientHandlers {
  /** A sequenced message, in order, each number once. The payload is a view valid only during the call. */
  onSequenced(payload: Uint8Array, sequenceNumber: number): void;
  onStatus?(status: SoupClientStatus): void;
}

interface Waiter {
  resolve: () => void;
  reject: (e: TapedeckError) => void;
  timer: NodeJS.Timeout;
}

type State = 'idle' | 'connecting' | 'loggedIn' | 'waitingToReconnect' | 'closed';

export interface LoginResult {
  session: string;
  sequenceNumber: number;
}

export class SoupBinTcpClient {
  private state: State = 'idle';
  private current: SoupSession | null = null;
  private expected: number;
  /** Number of the next 'S' packet on the current connection. */
  private connectionSeq = 0;
  private sessionName: string;
  private everLoggedIn = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closedEmitted = false;
  private attempt = 0;
  private loginWaiters: Waiter[] = [];
  private caughtUpWaiters: Waiter[] = [];
  /** A server heartbeat arrived after the last login: everything the server wrote before it has been read. */
  private heardHeartbeatSinceLogin = false;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly loginTimeoutMs: number;

  constructor(private readonly options: SoupClientOptions, private readonly handlers: SoupClientHandlers) {
    this.expected = options.sequenceNumber ?? 1;
    this.sessionName = options.session ?? '';
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 15_000;
    this.loginTimeoutMs = options.loginTimeoutMs ?? 5000;
  }

  /** The sequence number of the next message this client will deliver. */
  get nextSequenceNumber(): number {
    return this.expected;
  }

  get loggedIn(): boolean {
    return this.state === 'loggedIn';
  }

  get session(): string {
    return this.sessionName;
  }

  /** Connects and logs in once. Rejects with a TapedeckError naming the user when the login is refused. */
  async connect(): Promise<LoginResult> {
    if (this.state !== 'idle') throw new TapedeckError('SOUP_STATE', `connect() called while ${this.state}`);
    return this.open();
  }

  /** Sends Unsequenced Data. Throws SOUP_NOT_CONNECTED when not logged in: the message was not sent. */
  send(payload: Uint8Array): void {
    if (this.state !== 'loggedIn' || !this.current?.send({ kind: 'unsequencedData', payload })) {
      throw new TapedeckError('SOUP_NOT_CONNECTED', `cannot send: the SoupBinTCP client is ${this.state === 'loggedIn' ? 'closing' : this.state}`);
    }
  }

  /** Resolves when logged in (now or after a reconnect), rejects after `timeoutMs` or when the client ends. */
  whenLoggedIn(timeoutMs: number): Promise<void> {
    if (this.state === 'loggedIn') return Promise.resolve();
    return this.wait(this.loginWaiters, timeoutMs, `not logged in within ${timeoutMs} ms`);
  }

  /**
   * Resolves once the replay after the latest login has been read: the server sends heartbeats only
   * when idle and after the replay, so the first heartbeat after login marks the end of the backlog.
   */
  whenCaughtUp(timeoutMs: number): Promise<void> {
    if (this.state === 'loggedIn' && this.heardHeartbeatSinceLogin) return Promise.resolve();
    return this.wait(this.caughtUpWaiters, timeoutMs, `not caught up with the server within ${timeoutMs} ms`);
  }

  private wait(list: Waiter[], timeoutMs: number, message: string): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new TapedeckError('SOUP_CLOSED', 'the SoupBinTCP client is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = list.indexOf(waiter);
          if (i >= 0) list.splice(i, 1);
          reject(new TapedeckError('SOUP_TIMEOUT', message));
        }, timeoutMs),
      };
      list.push(waiter);
    });
  }

  private static settle(list: Waiter[], error: TapedeckError | null): void {
    for (const w of list.splice(0)) {
      clearTimeout(w.timer);
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  /** Fault injection: cuts the connection as a network failure would (reconnects if configured). */
  dropConnection(): void {
    this.current?.destroy('dropped by the client (fault injection)');
  }

  /** Logs out politely ('O') and waits (bounded) for the server to close. */
  async logout(): Promise<void> {
    const s = this.current;
    this.stopReconnecting();
    if (s && s.isOpen && this.state === 'loggedIn') {
      this.state = 'closed';
      s.send({ kind: 'logoutRequest' });
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy('logout: server did not close in time');
          resolve();
        }, this.loginTimeoutMs);
        s.socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.finishClosed();
  }

  /** Closes at once; no reconnect. */
  async close(): Promise<void> {
    this.stopReconnecting();
    const s = this.current;
    this.state = 'closed';
    if (s && !s.socket.destroyed) {
      await new Promise<void>((resolve) => {
        s.socket.once('close', () => resolve());
        s.destroy('closed by the client');
      });
    }
    this.finishClosed();
  }

  // ---------- connection attempts ----------

  private open(): Promise<LoginResult> {
    this.state = 'connecting';
    const requested = this.expected;
    return new Promise<LoginResult>((resolve, reject) => {
      let settled = false;
      const settle = (err: TapedeckError | null, result?: LoginResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(result!);
      };
      const host = this.options.host ?? '127.0.0.1';
      const socket = netConnect({ host, port: this.options.port });
      const session = new SoupSession(socket, {
        side: 'client',
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        heartbeatTimeoutMs: this.heartbeatTimeoutMs,
        where: { stream: `soupbintcp client ${this.options.username}@${host}:${this.options.port}` },
        onPacket: (p) => {
          const r = this.packet(session, p);
          if (r) settle(r.error, r.result);
        },
        onData: (payload) => this.sequenced(session, payload),
        onHeartbeatTimeout: (silentMs) => {
          this.status({ kind: 'heartbeatTimeout', silentMs });
          session.destroy(`server silent for ${silentMs} ms (heartbeat timeout ${this.heartbeatTimeoutMs} ms)`);
        },
        onClose: (reason) => {
          settle(new TapedeckError('SOUP_CONNECT', `connection to ${host}:${this.options.port} closed before login: ${reason}`));
          this.connectionClosed(session, reason);
        },
      });
      this.current = session;
      const timer = setTimeout(() => {
        settle(new TapedeckError('SOUP_LOGIN_TIMEOUT', `no login answer from ${host}:${this.options.port} within ${this.loginTimeoutMs} ms`));
        session.destroy('login timeout');
      }, this.loginTimeoutMs);
      socket.once('connect', () => {
        session.send({
          kind: 'loginRequest',
          username: this.options.username,
          password: this.options.password,
          // A reconnect asks for the current session, whatever it is now, and checks it (loginAccepted).
          requestedSession: this.everLoggedIn ? '' : this.sessionName,
          requestedSequenceNumber: requested,
        });
      });
    });
  }

  /** Handles one packet; returns a login outcome when this packet decides it. */
  private packet(session: SoupSession, p: SoupPacket): { error: TapedeckError | null; result?: LoginResult } | null {
    if (session !== this.current) return null;
    switch (p.kind) {
      case 'loginAccepted':
        return this.loginAccepted(session, p.session, p.sequenceNumber);
      case 'loginRejected': {
        const why = p.reason === LOGIN_REJECT_NOT_AUTHORIZED
          ? 'not authorized (wrong username or password)'
          : p.reason === LOGIN_REJECT_SESSION_NOT_AVAILABLE
            ? `session ${this.sessionName === '' ? '(current)' : `"${this.sessionName}"`} not available`
            : `reject code ${JSON.stringify(p.reason)}`;
        const error = new TapedeckError('SOUP_LOGIN_REJECTED', `login rejected for user "${this.options.username}": ${why}`, { field: 'username' });
        this.fail(error);
        session.destroy('login rejected');
        return { error };
      }
      case 'endOfSession':
        this.status({ kind: 'endOfSession' });
        this.state = 'closed';
        this.stopReconnecting();
        session.end('end of session');
        return null;
      case 'debug':
        this.status({ kind: 'debug', text: p.text });
        return null;
      case 'serverHeartbeat':
        if (this.state === 'loggedIn' && !this.heardHeartbeatSinceLogin) {
          this.heardHeartbeatSinceLogin = true;
          SoupBinTcpClient.settle(this.caughtUpWaiters, null);
        }
        return null;
      default:
        return null;
    }
  }

  private sequenced(session: SoupSession, payload: Uint8Array): void {
    if (session !== this.current) return;
    if (this.state !== 'loggedIn') {
      session.destroy('sequenced data before login');
      return;
    }
    const seq = this.connectionSeq++;
    if (seq < this.expected) {
      // loginAccepted turns a resume below `expected` into a new session, so this is a bug: never drop silently.
      session.destroy(`message ${seq} arrived while ${this.expected} was expected`);
      return;
    }
    this.expected = seq + 1;
    this.handlers.onSequenced(payload, seq);
  }

  private loginAccepted(session: SoupSession, sessionName: string, next: number): { error: TapedeckError | null; result?: LoginResult } {
    const resuming = this.everLoggedIn || (this.options.sequenceNumber ?? 1) > 0;
    const previous = this.sessionName;
    if (this.everLoggedIn && ((previous !== '' && sessionName !== previous) || next < this.expected)) {
      this.status({ kind: 'sessionReset', previousSession: previous, session: sessionName, expectedSequenceNumber: this.expected, serverSequenceNumber: next });
      this.sessionName = sessionName;
      this.expected = 1;
      if (next !== 1) {
        // The server would start this login at `next`: messages 1..next-1 of the new session would be missed.
        session.destroy(`new session ${sessionName}: logging in again from message 1`);
        return { error: null, result: { session: sessionName, sequenceNumber: next } };
      }
    } else if (resuming && next > this.expected) {
      const error = new TapedeckError('SOUP_GAP', `server resumes at message ${next} but ${this.expected} is the next one not yet received: messages ${this.expected}..${next - 1} would be lost`);
      this.fail(error);
      session.destroy('sequence gap');
      return { error };
    }
    if (!resuming) this.expected = next;
    const reconnect = this.everLoggedIn;
    this.sessionName = sessionName;
    this.connectionSeq = next;
    this.everLoggedIn = true;
    this.attempt = 0;
    this.state = 'loggedIn';
    this.heardHeartbeatSinceLogin = false;
    session.startKeepAlive();
    this.status({ kind: 'loggedIn', session: sessionName, sequenceNumber: next, reconnect });
    SoupBinTcpClient.settle(this.loginWaiters, null);
    return { error: null, result: { session: sessionName, sequenceNumber: next } };
  }

  private connectionClosed(session: SoupSession, reason: string): void {
    if (session !== this.current) return;
    this.current = null;
    if (this.state === 'closed') {
      this.finishClosed();
      return;
    }
    this.status({ kind: 'disconnected', reason });
    const rc = this.options.reconnect;
    if (!this.everLoggedIn || !rc) {
      if (this.everLoggedIn) this.fail(new TapedeckError('SOUP_DISCONNECTED', `disconnected: ${reason}`));
      else this.state = 'idle';
      return;
    }
    this.scheduleReconnect(rc);
  }

  private scheduleReconnect(rc: { delayMs: number; maxAttempts: number }): void {
    if (this.attempt >= rc.maxAttempts) {
      this.fail(new TapedeckError('SOUP_RECONNECT_FAILED', `could not reconnect to ${this.options.host ?? '127.0.0.1'}:${this.options.port} in ${rc.maxAttempts} attempts`));
      return;
    }
    this.attempt++;
    this.state = 'waitingToReconnect';
    this.status({ kind: 'reconnecting', attempt: this.attempt, maxAttempts: rc.maxAttempts, afterMs: rc.delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state !== 'waitingToReconnect') return;
      // A failed attempt closes its socket, and connectionClosed schedules the next one.
      this.open().catch(() => undefined);
    }, rc.delayMs);
  }

  private fail(error: TapedeckError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopReconnecting();
    this.status({ kind: 'failed', error });
    SoupBinTcpClient.settle(this.loginWaiters, error);
    SoupBinTcpClient.settle(this.caughtUpWaiters, error);
  }

  private stopReconnecting(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private finishClosed(): void {
    this.state = 'closed';
    const closed = new TapedeckError('SOUP_CLOSED', 'the SoupBinTCP client is closed');
    SoupBinTcpClient.settle(this.loginWaiters, closed);
    SoupBinTcpClient.settle(this.caughtUpWaiters, closed);
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.status({ kind: 'closed' });
  }

  private status(s: SoupClientStatus): void {
    this.handlers.onStatus?.(s);
  }
}
