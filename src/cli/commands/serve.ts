/**
 * `tapedeck serve --store LOCATION`: the dashboard, JSON APIs, event stream, metrics and control over
 * one store (src/server/). Prints its URL first (`{"url":...}` with --json), binds 127.0.0.1 unless
 * told otherwise, and refuses to listen beyond loopback without a control token: a kill switch on an
 * open port must not be one anybody can press. Runs until SIGINT or SIGTERM.
 */
import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { isTapedeckError, TapedeckError } from '../../../domain/core/errors.js';
import { openStore } from '../../store/open.js';
import type { EventStore } from '../../store/port.js';
import { action, intOption, printJson } from '../run.js';

const server = () => import('../../server/app.js');

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1';
  return false;
}

interface ServeOpts {
  store: string;
  port: number;
  bind: string;
  tokenFile?: string;
  db?: string;
  json: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('dashboard, JSON APIs, live event stream, /metrics and the kill switch over a store (127.0.0.1 by default)')
    .requiredOption('--store <location>', 'the event store')
    .option('--port <n>', 'TCP port (0: any free port)', intOption('--port', 0), 7700)
    .option('--bind <addr>', 'address to listen on; beyond loopback a control token is required', '127.0.0.1')
    .option('--token-file <file>', 'file holding the control bearer token (else TAPEDECK_CONTROL_TOKEN; neither: control disabled)')
    .option('--db <file>', "the server's projections database (default: <store>/serve.duckdb)")
    .option('--json', 'print the URL as JSON', false)
    .action(
      action(async (o: ServeOpts) => {
        // The server (Fastify, DuckDB) loads after the usage checks: a refusal answers at once.
        const token = o.tokenFile !== undefined ? (await server()).readTokenFile(o.tokenFile) : (process.env.TAPEDECK_CONTROL_TOKEN?.trim() || null);
        if (token !== null && token.length < 16) throw new TapedeckError('USAGE', 'TAPEDECK_CONTROL_TOKEN must be at least 16 characters', { field: 'TAPEDECK_CONTROL_TOKEN' });
        if (!net.isIP(o.bind) && o.bind !== 'localhost') throw new TapedeckError('USAGE', `--bind must be an IP address or localhost, got "${o.bind}"`, { field: '--bind' });
        if (!isLoopback(o.bind) && token === null) {
          throw new TapedeckError('USAGE', `refusing to listen on ${o.bind} (beyond loopback) without a control token: set TAPEDECK_CONTROL_TOKEN or --token-file`, { field: '--bind' });
        }
        const { createServer } = await server();
        let store: EventStore;
        let writable = true;
        try {
          store = await openStore(o.store);
        } catch (e) {
          if (!isTapedeckError(e) || e.code !== 'STORE_LOCKED') throw e;
          // Another process (a live session) writes this store: serve what is there, without control.
          process.stderr.write(`tapedeck: ${e.message}; serving it read-only, control disabled\n`);
          store = await openStore(o.store, { readOnly: true, create: false });
          writable = false;
        }
        const s = await createServer({ store, dbPath: o.db ?? path.join(path.resolve(o.store), 'serve.duckdb'), token, writable });
        const url = await s.listen(o.port, o.bind);
        if (o.json) printJson({ url });
        else process.stdout.write(`${url}\n  dashboard ${url}/  metrics ${url}/metrics  control ${token === null ? 'disabled (no token)' : 'enabled'}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await s.close();
        await store.close();
      }),
    );
}
