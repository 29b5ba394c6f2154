/**
 * `tapedeck sim-venue | live | reconcile`: trading on a crypto exchange through ccxt, the simulated Binance
 * to test it against, and the reconciliation of the log with the venue's own reports.
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { action, ExitCode, intOption, printJson } from '../run.js';

function positiveNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new TapedeckError('USAGE', `${name} must be a number > 0, got "${text}"`, { field: name });
    return n;
  };
}

/** Runs until SIGTERM or SIGINT; resolves after `stop` ran. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const on = (): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      void stop().then(resolve, resolve);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export function register(program: Command): void {
  registerLiveRun(program);
  program
    .command('sim-venue')
    .description('a simulated exchange on 127.0.0.1 speaking the venue\'s REST and WebSocket API and checking its authentication; prints {rest, ws} as its first line')
    .argument('<venue>', 'binance (plays a recorded capture), kalshi or polymarket (a seeded synthetic market, or --capture)')
    .option('--capture <file>', 'recorded capture that drives the book (binance: cryptofeed format; kalshi: its WebSocket messages, one a line; polymarket: its market-channel frames, one a line, played once)')
    .option('--port <n>', 'port (0 = any free port)', intOption('--port', 0), 0)
    .option('--speed <x>', 'capture time per wall time (1 = recorded speed)', positiveNumber('--speed'), 1)
    .option('--loop', 'play the capture again (shifted times and ids) when it ends', false)
    .option('--start-on-subscribe', 'hold the capture at its start until the first market-stream client connects', false)
    .option('--faults <spec>', 'faults to inject: name:probability[:ms],... (binance: lose-ack, delay-ack, dup-exec, 429, 5xx, drop, restart; kalshi: lose-ack, delay-ack, 5xx, gap, drop; polymarket: lose-ack, 5xx, drop, fail-trade)')
    .option('--seed <n>', 'seed of a synthetic market', intOption('--seed', 0))
    .option('--rules <json>', 'per-symbol instrument rules, e.g. {"NKNUSDT":{"tickSize":"0.0001","stepSize":"1","minNotional":"5"}}')
    .action(
      action(async (venue: string, o: { capture?: string; port: number; speed: number; loop: boolean; startOnSubscribe: boolean; faults?: string; seed?: number; rules?: string }) => {
        if (venue.toLowerCase() !== 'binance') {
          const { getVenue } = await import('../../venues/registry.js');
          const adapter = getVenue(venue);
          if (adapter.execution?.startSim === undefined) throw new TapedeckError('USAGE', `sim-venue: ${adapter.id} has no simulated venue`, { field: 'venue' });
          const credentials: Record<string, string> = {};
          for (const k of adapter.execution.credentialVariables ?? []) {
            const v = process.env[k];
            if (v === undefined || v === '') throw new TapedeckError('CREDENTIALS', `sim-venue ${venue.toLowerCase()} needs ${adapter.execution.credentialVariables!.join(' and ')} in the environment (the account it accepts)`, { field: k });
            credentials[k] = v;
          }
          const sim = await adapter.execution.startSim({
            credentials, port: o.port, speed: o.speed, ...(o.capture !== undefined ? { capture: o.capture } : {}), ...(o.startOnSubscribe ? { startOnSubscribe: true } : {}), ...(o.faults !== undefined ? { faults: o.faults } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}),
          });
          printJson(sim.urls ?? { rest: `http://127.0.0.1:${sim.port}`, ws: `ws://127.0.0.1:${sim.port}` });
          await untilSignal(() => sim.close());
          return;
        }
        if (o.capture === undefined) throw new TapedeckError('USAGE', 'sim-venue binance plays a recorded capture: give --capture FILE', { field: '--capture' });
        const capture = o.capture;
        const apiKey = process.env.BINANCE_API_KEY;
        const apiSecret = process.env.BINANCE_API_SECRET;
        if (!apiKey || !apiSecret) throw new TapedeckError('CREDENTIALS', 'sim-venue binance needs BINANCE_API_KEY and BINANCE_API_SECRET in the environment (the account it accepts)', { field: 'env' });
        let rules: Record<string, Record<string, string>> | undefined;
        if (o.rules !== undefined) {
          try {
            rules = JSON.parse(o.rules) as Record<string, Record<string, string>>;
          } catch {
            throw new TapedeckError('USAGE', '--rules is not valid JSON', { field: '--rules' });
          }
        }
        const { SimBinance } = await import('../../venues/binance/sim.js');
        const sim = await SimBinance.start({ capture, port: o.port, speed: o.speed, loop: o.loop, startOnSubscribe: o.startOnSubscribe, ...(o.faults !== undefined ? { faults: o.faults } : {}), apiKey, apiSecret, ...(rules ? { rules } : {}) });
        printJson(sim.urls);
        await untilSignal(() => sim.close());
      }),
    );
}

interface LiveOpts {
  venue: string;
  baseUrl?: string;
  strategy: string;
  config?: string;
  store: string;
  duration?: number;
  confirmLive: boolean;
  marketDataStream: boolean;
  json: boolean;
}

export function registerLiveRun(program: Command): void {
  program
    .command('live')
    .description('trade live on a ccxt exchange with the same kernel as replay and paper: reconciles first, runs until SIGINT/SIGTERM or --duration, ends with RunEnded')
    .requiredOption('--venue <id>', 'binance (through ccxt), or a registered venue with a live session (kalshi, polymarket, alpaca); several venues at once as a,b (an event arbitrage)')
    .option('--base-url <url>', 'REST base of the venue (e.g. its simulator), or VENUE=URL,VENUE=URL for several; without it, production needs --confirm-live')
    .requiredOption('--strategy <name>', 'strategy (see tapedeck strategies)')
    .option('--config <file>', 'JSON: {seed, params, risk, live: {onEnd, requestsPerSecond, sandbox, secretsFile}}')
    .requiredOption('--store <dir>', 'event store directory (created if missing)')
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber('--duration'))
    .option('--confirm-live', 'allow trading on the production endpoints', false)
    .option('--market-data-stream', 'write the market data received to the stream marketdata-<runId> as it arrives, and reference it from the run instead of copying it in', false)
    .option('--json', 'print the summary as JSON', false)
    .action(
      action(async (o: LiveOpts) => {
        const { getStrategy } = await import('../../../domain/strategies/registry.js');
        getStrategy(o.strategy);
        const { readConfigFile, resolveRunConfig } = await import('../../runtime/config.js');
        const cfg = readConfigFile(o.config);
        const liveCfg = cfg.live ?? { onEnd: 'cancel' as const, requestsPerSecond: 20, sandbox: false };
        if (o.venue.toLowerCase() !== 'binance') return liveOnSession(o, cfg, liveCfg.onEnd);
        const { openVenueSession, runLive } = await import('../../runtime/live.js');
        const session = await openVenueSession({ venue: o.venue, ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}), confirmLive: o.confirmLive, sandbox: liveCfg.sandbox, ...(liveCfg.secretsFile !== undefined ? { secretsFile: liveCfg.secretsFile } : {}) });
        const { openStore } = await import('../../store/open.js');
        const store = await openStore(o.store);
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const survey = { instruments: new Map([...session.instruments.values()].map((i) => [i.instrument, { venue: session.venue, symbol: i.marketId, priceScale: i.priceScale, qtyScale: i.qtyScale, events: 0 }])) };
          if (cfg.params.instrument === undefined) throw new TapedeckError('CONFIG_INVALID', 'live needs params.instrument in the config (e.g. "BINANCE:NKNUSDT")', { file: o.config ?? '--config', field: 'params.instrument' });
          // Live, the venue's tick and lot (InstrumentDefined from its markets) are enforced by risk unless the config says otherwise.
          const config = resolveRunConfig(o.strategy, { ...cfg, risk: { instrumentRules: true, ...(cfg.risk ?? {}) }, venues: [] }, survey, o.config ?? '--config');
          const r = await runLive({
            store, session, config, onEnd: liveCfg.onEnd, requestsPerSecond: liveCfg.requestsPerSecond, signal: stop.signal, marketDataStream: o.marketDataStream,
            ...(o.duration !== undefined ? { durationMs: o.duration * 1000 } : {}),
            onLog: (line) => process.stderr.write(`tapedeck: ${session.redact(line)}\n`),
          });
          const out = {
            ...(r.summary ? { runId: r.summary.runId, events: r.summary.events, decisions: r.summary.decisions, orders: r.summary.orders, fills: r.summary.fills, realizedPnl: r.summary.realizedPnl, decisionsHash: r.summary.decisionsHash } : {}),
            reconciliation: { start: r.startReconciliation, end: r.endReconciliation },
            ...(r.haltReason ? { halted: r.haltReason } : {}),
            ...(r.clientStats ? { venue: r.clientStats } : {}),
          };
          if (o.json) printJson(out);
          else process.stdout.write(session.redact(JSON.stringify(out, null, 2)) + '\n');
          if (r.haltReason !== null) throw new ExitCode(1);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await session.close();
          await store.close();
        }
      }),
    );

  program
    .command('reconcile')
    .description('compare the log with the venue\'s orders, trades and balances; prints {ok, differences} and changes nothing')
    .requiredOption('--store <dir>', 'event store directory')
    .requiredOption('--venue <id>', 'ccxt exchange id (binance)')
    .option('--base-url <url>', 'REST base of the venue (e.g. the simulated Binance)')
    .option('--confirm-live', 'allow the production endpoints', false)
    .option('--config <file>', 'the live session\'s config (its live.venue settings), for venues with a live session')
    .option('--json', 'JSON', false)
    .action(
      action(async (o: { store: string; venue: string; baseUrl?: string; confirmLive: boolean; json: boolean; config?: string }) => {
        if (o.venue.toLowerCase() !== 'binance') return reconcileOnSession(o);
        const { openVenueSession, reconcileVenue } = await import('../../runtime/live.js');
        const session = await openVenueSession({ venue: o.venue, ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}), confirmLive: o.confirmLive });
        const { openStore } = await import('../../store/open.js');
        const store = await openStore(o.store, { readOnly: true });
        try {
          const r = await reconcileVenue(store, session, { apply: false });
          const differences = r.differences.map((d) => ({ kind: d.kind, key: d.key, ledger: d.ledger, venue: d.venue, explained: d.fixed }));
          if (o.json) printJson({ ok: r.ok, differences });
          else process.stdout.write(`${r.ok ? 'ok' : `NOT OK: ${r.haltReason}`}\n${differences.map((d) => `  ${d.kind} ${d.key}: ledger ${d.ledger}; venue ${d.venue}`).join('\n')}\n`);
          if (!r.ok) throw new ExitCode(1);
        } finally {
          await session.close();
          await store.close();
        }
      }),
    );
}

/** A venue's live session (LiveVenueSession: venues not traded through ccxt), from the registry. */
async function openSession(venue: string, o: { baseUrl?: string; confirmLive: boolean; instruments?: string[]; venueConfig?: Record<string, unknown> }) {
  const { getVenue, parseVenueConfig } = await import('../../venues/registry.js');
  const adapter = getVenue(venue);
  if (adapter.execution?.openLive === undefined) throw new TapedeckError('USAGE', `live trading is not wired for ${adapter.id}`, { field: '--venue' });
  return adapter.execution.openLive(parseVenueConfig(adapter, o.venueConfig ?? {}), {
    env: process.env, confirmLive: o.confirmLive, ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}), ...(o.instruments ? { instruments: o.instruments } : {}),
  });
}

/** `--venue a,b` → venue ids (upper case), in order. */
function venueList(text: string): string[] {
  const list = text.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (list.length === 0) throw new TapedeckError('USAGE', '--venue names no venue', { field: '--venue' });
  return list;
}

/** `--base-url URL` for one venue, or `VENUE=URL,VENUE=URL` for several. */
function baseUrls(venues: string[], text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const named = parts.every((p) => /^[A-Za-z][A-Za-z0-9_]*=/.test(p));
  if (!named) {
    if (venues.length !== 1 || parts.length !== 1) throw new TapedeckError('USAGE', `--base-url: with several venues give VENUE=URL for each (e.g. ${venues.map((v) => `${v.toLowerCase()}=http://127.0.0.1:PORT`).join(',')})`, { field: '--base-url' });
    out.set(venues[0]!.toUpperCase(), parts[0]!);
    return out;
  }
  for (const p of parts) {
    const eq = p.indexOf('=');
    const v = p.slice(0, eq).toUpperCase();
    if (!venues.some((x) => x.toUpperCase() === v)) throw new TapedeckError('USAGE', `--base-url names ${v}, which is not one of --venue (${venues.join(', ')})`, { field: '--base-url' });
    out.set(v, p.slice(eq + 1));
  }
  return out;
}

async function liveOnSession(o: LiveOpts, cfg: Awaited<ReturnType<typeof import('../../runtime/config.js')['readConfigFile']>>, onEnd: 'cancel' | 'leave'): Promise<void> {
  const { tradedInstruments, runLiveVenue } = await import('../../runtime/live-venue.js');
  const instruments = tradedInstruments(cfg.params);
  const venues = venueList(o.venue);
  const urls = baseUrls(venues, o.baseUrl);
  if (instruments.length === 0) throw new TapedeckError('CONFIG_INVALID', `live needs the instruments to trade in the config's params (e.g. params.instrument "${venues[0]!.toUpperCase()}:<market>")`, { file: o.config ?? '--config', field: 'params.instrument' });
  const sessions: Awaited<ReturnType<typeof openSession>>[] = [];
  const { resolveRunConfig } = await import('../../runtime/config.js');
  const { openStore } = await import('../../store/open.js');
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  const redact = (t: string): string => sessions.reduce((x, s) => s.redact(x), t);
  try {
    for (const v of venues) {
      const id = v.toUpperCase();
      const mine = instruments.filter((i) => i.startsWith(`${id}:`));
      const venueConfig = cfg.live?.venues?.[id] ?? (venues.length === 1 ? cfg.live?.venue : undefined);
      const url = urls.get(id);
      sessions.push(await openSession(v, { ...(url !== undefined ? { baseUrl: url } : {}), confirmLive: o.confirmLive, instruments: mine, ...(venueConfig ? { venueConfig } : {}) }));
    }
    store = await openStore(o.store);
    const survey = { instruments: new Map(sessions.flatMap((session) => [...session.instruments].map(([id, i]) => [id, { venue: session.venue, symbol: i.symbol, priceScale: i.priceScale, qtyScale: i.qtyScale, events: 0 }] as const))) };
    const config = resolveRunConfig(o.strategy, { ...cfg, risk: { instrumentRules: true, ...(cfg.risk ?? {}) }, venues: [] }, survey, o.config ?? '--config');
    const r = await runLiveVenue({
      store, session: sessions[0]!, sessions: sessions.slice(1), config, onEnd, signal: stop.signal, ...(o.duration !== undefined ? { durationMs: o.duration * 1000 } : {}), marketDataStream: o.marketDataStream,
      onLog: (line) => process.stderr.write(`tapedeck: ${redact(line)}\n`),
    });
    const out = {
      ...(r.summary ? { runId: r.summary.runId, events: r.summary.events, decisions: r.summary.decisions, orders: r.summary.orders, fills: r.summary.fills, realizedPnl: r.summary.realizedPnl, decisionsHash: r.summary.decisionsHash } : {}),
      ...(sessions.length > 1 ? { venues: sessions.map((s) => s.venue) } : {}),
      reconciliation: { start: r.startReconciliation, end: r.endReconciliation },
      ...(r.haltReason ? { halted: r.haltReason } : {}),
      ...(r.clientStats ? { venue: r.clientStats } : {}),
    };
    if (o.json) printJson(out);
    else process.stdout.write(redact(JSON.stringify(out, null, 2)) + '\n');
    if (r.haltReason !== null) throw new ExitCode(1);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.allSettled(sessions.map((s) => s.close()));
    await store?.close();
  }
}

async function reconcileOnSession(o: { store: string; venue: string; baseUrl?: string; confirmLive: boolean; json: boolean; config?: string }): Promise<void> {
  const { readConfigFile } = await import('../../runtime/config.js');
  const venueConfig = readConfigFile(o.config).live?.venue;
  const { openStore } = await import('../../store/open.js');
  const store = await openStore(o.store, { readOnly: true });
  try {
    // The markets the log traded on this venue.
    const instruments = new Set<string>();
    for await (const e of store.readAll()) {
      const i = (e.data as { instrument?: unknown }).instrument;
      if (e.type === 'OrderIntended' && typeof i === 'string' && i.startsWith(`${o.venue.toUpperCase()}:`)) instruments.add(i);
    }
    const session = await openSession(o.venue, { ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}), confirmLive: o.confirmLive, instruments: [...instruments], ...(venueConfig ? { venueConfig } : {}) });
    try {
      const { reconcileLiveVenue } = await import('../../runtime/live-venue.js');
      const r = await reconcileLiveVenue(store, session, { apply: false });
      const differences = r.differences.map((d) => ({ kind: d.kind, key: d.key, ledger: d.ledger, venue: d.venue, explained: d.fixed }));
      if (o.json) printJson({ ok: r.ok, differences });
      else process.stdout.write(`${r.ok ? 'ok' : `NOT OK: ${r.haltReason}`}\n${differences.map((d) => `  ${d.kind} ${d.key}: ledger ${d.ledger}; venue ${d.venue}`).join('\n')}\n`);
      if (!r.ok) throw new ExitCode(1);
    } finally {
      await session.close();
    }
  } finally {
    await store.close();
  }
}
