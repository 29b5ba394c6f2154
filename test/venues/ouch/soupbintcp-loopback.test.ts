import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TapedeckError } from '../../../domain/core/errors.js';
import { SoupBinTcpClient, type SoupClientOptions, type SoupClientStatus } from '../../../src/venues/nasdaq/soupbintcp/client.js';
import { encodeSoupPacket } from '../../../src/venues/nasdaq/soupbintcp/packets.js';
import { SoupBinTcpServer, type SoupServerEvent, type SoupServerOptions } from '../../../src/venues/nasdaq/soupbintcp/server.js';
import { bytesOf, sleep, textOf, waitFor } from './helpers.js';

// Short enough for fast tests, long enough that a busy CI machine (GC, 2 shared cores) does not trip it.
const FAST = { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 500 };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(over: Partial<SoupServerOptions> = {}) {
  const events: SoupServerEvent[] = [];
  const received: string[] = [];
  const server = await SoupBinTcpServer.listen({
    session: 'TEST01',
    credentials: { alice: 'secret' },
    ...FAST,
    onEvent: (e) => events.push(e),
    onUnsequenced: (p) => received.push(textOf(p)),
    ...over,
  });
  cleanups.push(() => server.close());
  return { server, events, received };
}

function startClient(port: number, over: Partial<SoupClientOptions> = {}) {
  const got: Array<{ seq: number; text: string }> = [];
  const statuses: SoupClientStatus[] = [];
  const client = new SoupBinTcpClient(
    { port, username: 'alice', password: 'secret', loginTimeoutMs: 1000, ...FAST, ...over },
    { onSequenced: (p, seq) => got.push({ seq, text: textOf(p) }), onStatus: (s) => statuses.push(s) },
  );
  cleanups.push(() => client.close());
  return { client, got, statuses };
}

describe('SoupBinTCP client and server on loopback', () => {
  it('rejects a wrong password with an error naming the user', async () => {
    const { server, events } = await startServer();
    const { client, statuses } = startClient(server.port, { password: 'wrong' });
    const err = await client.connect().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TapedeckError);
    expect((err as TapedeckError).code).toBe('SOUP_LOGIN_REJECTED');
    expect((err as TapedeckError).message).toBe('login rejected for user "alice": not authorized (wrong username or password)');
    await waitFor('the server to see the rejection', () => events.some((e) => e.kind === 'loginRejected'));
    expect(events.find((e) => e.kind === 'loginRejected')).toMatchObject({ username: 'alice', reason: 'not authorized' });
    expect(statuses.map((s) => s.kind)).toContain('failed');
    await waitFor('the rejected connection to close', () => server.connectionCount === 0);
  });

  it('rejects an unknown session with reject code S', async () => {
    const { server } = await startServer();
    const { client } = startClient(server.port, { session: 'OTHER' });
    await expect(client.connect()).rejects.toThrow('login rejected for user "alice": session "OTHER" not available');
  });

  it('logs in and delivers sequenced messages in order, numbered by the server', async () => {
    const { server, events, received } = await startServer();
    server.publish(bytesOf('before-1'));
    server.publish(bytesOf('before-2'));
    const { client, got } = startClient(server.port);
    const login = await client.connect();
    expect(login).toEqual({ session: 'TEST01', sequenceNumber: 1 });
    for (let i = 3; i <= 10; i++) server.publish(bytesOf(`live-${i}`));
    await waitFor('10 messages', () => got.length === 10);
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(got.map((g) => g.text)).toEqual(['before-1', 'before-2', ...[3, 4, 5, 6, 7, 8, 9, 10].map((i) => `live-${i}`)]);
    expect(client.nextSequenceNumber).toBe(11);
    client.send(bytesOf('order-1'));
    client.send(bytesOf('order-2'));
    await waitFor('two unsequenced messages at the server', () => received.length === 2);
    expect(received).toEqual(['order-1', 'order-2']);
    expect(events.find((e) => e.kind === 'login')).toMatchObject({ username: 'alice', sequenceNumber: 1 });
  });

  it('sequence number 0 starts with the next new message; a later number skips the earlier ones', async () => {
    const { server } = await startServer();
    for (let i = 1; i <= 3; i++) server.publish(bytesOf(`m${i}`));
    const a = startClient(server.port, { sequenceNumber: 0 });
    expect(await a.client.connect()).toEqual({ session: 'TEST01', sequenceNumber: 4 });
    const b = startClient(server.port, { sequenceNumber: 3 });
    expect(await b.client.connect()).toEqual({ session: 'TEST01', sequenceNumber: 3 });
    server.publish(bytesOf('m4'));
    await waitFor('both clients to have m4', () => a.got.length === 1 && b.got.length === 2);
    expect(a.got).toEqual([{ seq: 4, text: 'm4' }]);
    expect(b.got).toEqual([{ seq: 3, text: 'm3' }, { seq: 4, text: 'm4' }]);
  });

  it('heartbeats keep an idle session alive in both directions', async () => {
    const { server, events } = await startServer();
    const { client, statuses } = startClient(server.port);
    await client.connect();
    await sleep(FAST.heartbeatTimeoutMs * 3);
    expect(client.loggedIn).toBe(true);
    expect(statuses.map((s) => s.kind)).toEqual(['loggedIn']);
    expect(events.filter((e) => e.kind === 'disconnect')).toEqual([]);
  });

  it('detects a silent server (heartbeat timeout) and, without reconnect, fails', async () => {
    const { server } = await startServer();
    const { client, statuses } = startClient(server.port);
    await client.connect();
    const t0 = Date.now();
    server.pauseHeartbeats(true);
    await waitFor('a heartbeat timeout', () => statuses.some((s) => s.kind === 'heartbeatTimeout'), 4000);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(FAST.heartbeatTimeoutMs);
    await waitFor('the client to fail', () => statuses.some((s) => s.kind === 'failed'));
    const failed = statuses.find((s) => s.kind === 'failed') as Extract<SoupClientStatus, { kind: 'failed' }>;
    expect(failed.error.code).toBe('SOUP_DISCONNECTED');
    expect(failed.error.message).toContain('server silent');
    expect(() => client.send(bytesOf('x'))).toThrow(/cannot send/);
  });

  it('the server drops a client that stops sending heartbeats', async () => {
    const { server, events } = await startServer();
    const socket = connect({ host: '127.0.0.1', port: server.port });
    cleanups.push(async () => {
      socket.destroy();
    });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(encodeSoupPacket({ kind: 'loginRequest', username: 'alice', password: 'secret', requestedSession: '', requestedSequenceNumber: 1 }));
    await waitFor('the silent client to be dropped', () => events.some((e) => e.kind === 'disconnect'), 4000);
    expect(events.find((e) => e.kind === 'disconnect')).toMatchObject({ username: 'alice' });
    expect((events.find((e) => e.kind === 'disconnect') as { reason: string }).reason).toMatch(/client silent for \d+ ms/);
  });

  it('closes a connection that sends garbage, and keeps serving others', async () => {
    const { server, events } = await startServer();
    const socket = connect({ host: '127.0.0.1', port: server.port });
    cleanups.push(async () => {
      socket.destroy();
    });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(new Uint8Array([0, 0, 1, 2, 3]));
    await waitFor('the garbage connection to close', () => events.some((e) => e.kind === 'disconnect'));
    expect((events.find((e) => e.kind === 'disconnect') as { reason: string }).reason).toContain('SOUP_FRAME_LENGTH');
    const { client } = startClient(server.port);
    expect(await client.connect()).toMatchObject({ sequenceNumber: 1 });
  });

  it('after a dropped connection, reconnects and resumes at the next expected message: no gap, no duplicate', async () => {
    const { server, events } = await startServer();
    const { client, got, statuses } = startClient(server.port, { reconnect: { delayMs: 20, maxAttempts: 20 } });
    await client.connect();
    for (let i = 1; i <= 3; i++) server.publish(bytesOf(`m${i}`));
    await waitFor('3 messages', () => got.length === 3);
    server.dropConnections();
    for (let i = 4; i <= 6; i++) server.publish(bytesOf(`m${i}`)); // published while the client is away
    await waitFor('the reconnect', () => statuses.filter((s) => s.kind === 'loggedIn').length === 2);
    for (let i = 7; i <= 8; i++) server.publish(bytesOf(`m${i}`));
    await waitFor('8 messages', () => got.length >= 8);
    await sleep(30);
    expect(got.map((g) => g.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const relogin = statuses.filter((s) => s.kind === 'loggedIn')[1];
    expect(relogin).toMatchObject({ reconnect: true, sequenceNumber: 4 });
    expect(events.filter((e) => e.kind === 'login').map((e) => (e as { sequenceNumber: number }).sequenceNumber)).toEqual([1, 4]);
  });

  it('drops in the middle of bursts lose nothing and repeat nothing', async () => {
    // Server and client share one event loop here, so a long burst can starve heartbeats: give them room.
    const slow = { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 2000 };
    const { server, events } = await startServer(slow);
    const got: Array<{ seq: number; text: string }> = [];
    let dropAt = -1;
    const client = new SoupBinTcpClient(
      { port: server.port, username: 'alice', password: 'secret', ...slow, reconnect: { delayMs: 5, maxAttempts: 50 } },
      {
        onSequenced: (p, seq) => {
          got.push({ seq, text: textOf(p).slice(0, 20) });
          // Cut the connection from the client side in the middle of a burst: whatever is in flight is lost.
          if (got.length === dropAt) client.dropConnection();
        },
      },
    );
    cleanups.push(() => client.close());
    await client.connect();
    // 1 KB messages, so a burst spans many TCP reads.
    const BURST = 2000;
    let n = 0;
    for (let round = 0; round < 3; round++) {
      await waitFor(`login ${round + 1}`, () => events.filter((e) => e.kind === 'login').length === round + 1);
      dropAt = got.length + 100 + round * 37;
      for (let i = 0; i < BURST; i++) server.publish(bytesOf(`burst-${++n} `.padEnd(1000, '.')));
      await waitFor('the drop', () => got.length >= dropAt);
    }
    await waitFor(`all ${n} messages`, () => got.length >= n, 10_000);
    await sleep(30);
    expect(got.length).toBe(n);
    expect(got.every((g, i) => g.seq === i + 1 && g.text.startsWith(`burst-${i + 1} `))).toBe(true);
    // Each drop was followed by a login that resumed inside the burst: the replay path was really taken.
    const resumedAt = events.filter((e) => e.kind === 'login').map((e) => (e as { sequenceNumber: number }).sequenceNumber);
    expect(resumedAt.length).toBe(4);
    expect(resumedAt.slice(1).every((s) => (s - 1) % BURST !== 0)).toBe(true);
  });

  // A venue that restarts starts a new session: its numbering goes back to 1 (same session id or another).
  // The client must deliver every new message, not drop them as repeats of the old session's numbers.
  for (const rename of [false, true]) {
    it(`a server that restarts with a fresh sequence${rename ? ' and another session id' : ''} is a new session: nothing new is dropped`, async () => {
      const first = await startServer();
      const port = first.server.port;
      const { client, got, statuses } = startClient(port, { reconnect: { delayMs: 10, maxAttempts: 100 } });
      await client.connect();
      for (let i = 1; i <= 4; i++) first.server.publish(bytesOf(`old${i}`));
      await waitFor('4 old messages', () => got.length === 4);
      await first.server.close();
      // The restarted venue says two things before the client is back, then more once it is.
      const second = await startServer({ port, session: rename ? 'TEST02' : 'TEST01' });
      second.server.publish(bytesOf('new1'));
      second.server.publish(bytesOf('new2'));
      await waitFor('the new session', () => statuses.some((st) => st.kind === 'loggedIn' && st.reconnect && st.sequenceNumber === 1), 4000);
      second.server.publish(bytesOf('new3'));
      await waitFor('3 new messages', () => got.length === 7);
      await sleep(30);
      expect(got.map((g) => `${g.seq}:${g.text}`)).toEqual(['1:old1', '2:old2', '3:old3', '4:old4', '1:new1', '2:new2', '3:new3']);
      expect(statuses.find((st) => st.kind === 'sessionReset')).toEqual({
        kind: 'sessionReset', previousSession: 'TEST01', session: rename ? 'TEST02' : 'TEST01', expectedSequenceNumber: 5, serverSequenceNumber: 3,
      });
      expect(client.session).toBe(rename ? 'TEST02' : 'TEST01');
      expect(client.nextSequenceNumber).toBe(4);
    });
  }

  it('a silent server is detected and the client reconnects on its own', async () => {
    const { server } = await startServer();
    const { client, got, statuses } = startClient(server.port, { reconnect: { delayMs: 10, maxAttempts: 20 } });
    await client.connect();
    server.publish(bytesOf('a'));
    server.pauseHeartbeats(true);
    await waitFor('a heartbeat timeout', () => statuses.some((s) => s.kind === 'heartbeatTimeout'), 4000);
    server.pauseHeartbeats(false);
    await waitFor('logged in again', () => statuses.filter((s) => s.kind === 'loggedIn').length === 2, 4000);
    server.publish(bytesOf('b'));
    await waitFor('b', () => got.length === 2);
    expect(got).toEqual([{ seq: 1, text: 'a' }, { seq: 2, text: 'b' }]);
  });

  it('gives up after maxAttempts when the server is gone', async () => {
    const { server } = await startServer();
    const { client, statuses } = startClient(server.port, { reconnect: { delayMs: 5, maxAttempts: 3 } });
    await client.connect();
    await server.close();
    await waitFor('failure', () => statuses.some((s) => s.kind === 'failed'), 3000);
    expect(statuses.filter((s) => s.kind === 'reconnecting').length).toBe(3);
    expect((statuses.find((s) => s.kind === 'failed') as { error: TapedeckError }).error.code).toBe('SOUP_RECONNECT_FAILED');
  });

  it('end of session closes the client and later logins are refused', async () => {
    const { server } = await startServer();
    const { client, statuses } = startClient(server.port, { reconnect: { delayMs: 5, maxAttempts: 3 } });
    await client.connect();
    server.endSession();
    await waitFor('closed', () => statuses.some((s) => s.kind === 'closed'));
    expect(statuses.map((s) => s.kind)).toEqual(['loggedIn', 'endOfSession', 'closed']);
    const late = startClient(server.port);
    await expect(late.client.connect()).rejects.toThrow(/session \(current\) not available/);
  });

  it('logout closes the connection at the server', async () => {
    const { server, events } = await startServer();
    const { client } = startClient(server.port);
    await client.connect();
    await client.logout();
    await waitFor('disconnect at the server', () => events.some((e) => e.kind === 'disconnect'));
    expect(events.find((e) => e.kind === 'disconnect')).toMatchObject({ reason: 'logout requested by the client' });
  });
});
