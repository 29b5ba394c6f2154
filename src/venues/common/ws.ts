/**
 * The `ws` package, loaded the first time a socket or a server is opened. The venue registry is read by
 * every command, and most of them never open a websocket (replay, parity, query, audit…): loading `ws` at
 * start-up cost about 60 ms of CPU per `tapedeck replay` (0.32 -> 0.26 s for a start-up that fails at once,
 * measured), paid by every command the test suite and scripts start.
 */
let loading: Promise<typeof import('ws')> | undefined;

export function loadWs(): Promise<typeof import('ws')> {
  loading ??= import('ws');
  return loading;
}
