import type WebSocket from 'ws';

/** Closes a websocket normally and resolves once it is closed (at once if it already is). */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000, 'client closed');
  });
}
