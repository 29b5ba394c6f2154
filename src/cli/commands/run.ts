/** `tapedeck replay | paper | parity | strategies`: runs of the kernel, and the check that they replay identically. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { getStrategy, strategyIdentity, strategyNames } from '../../../domain/strategies/registry.js';
import { readManifest, type DatasetManifest } from '../../../datasets/catalog/manifest.js';
import { datasetReference } from '../../../datasets/catalog/reference.js';
import { checkParity } from '../../../replay/parity.js';
import { readConfigFile, resolveRunConfig } from '../../runtime/config.js';
import { runKernel, type RunSummary } from '../../runtime/engine.js';
import { checkDistinctSources, mergeSurveys, openPaperSources, fileReference, storeStreamEvents, openReplaySource, openReplaySources, resolveSource, sourcesLabel, surveySource } from '../../runtime/sources.js';
import { journalPartitionedRun, runPartitionedReplay } from '../../runtime/partitioned.js';
import { openRunStore } from '../../runtime/run-streams.js';
import { itchInstrumentActivity } from '../../venues/nasdaq/itch/instrument-filter.js';
import { openStore } from '../../store/open.js';
import { action, ExitCode, printJson, noteLine } from '../run.js';
import { z } from 'zod';

function progressBar(label: string): { update: (n: number, d: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${label} {events} events | {decisions} decisions | {rate} ev/s`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(0, 0, { events: 0, decisions: 0, rate: 0 });
  return {
    update: (n, d) => bar.update(0, { events: n, decisions: d, rate: Math.round(n / Math.max(0.001, (Date.now() - t0) / 1000)) }),
    stop: () => bar.stop(),
  };
}

function printSummary(s: RunSummary, json: boolean): void {
  const out = { runId: s.runId, events: s.events, decisions: s.decisions, orders: s.orders, fills: s.fills, realizedPnl: s.realizedPnl, decisionsHash: s.decisionsHash };
  if (json) printJson(out);
  else {
    process.stdout.write(`run ${s.runId} (${s.mode}, ${s.strategy})\n`);
    process.stdout.write(`  ${s.events} events, ${s.decisions} decisions, ${s.orders} orders, ${s.fills} fills\n`);
    process.stdout.write(`  realized P&L ${s.realizedPnl}${Object.keys(s.realizedPnlByCurrency).length ? ` (${Object.entries(s.realizedPnlByCurrency).map(([c, v]) => `${v} ${c}`).join(', ')})` : ''}\n`);
    process.stdout.write(`  decisions hash ${s.decisionsHash}\n`);
  }
}

interface RunOpts {
  strategy: string;
  config?: string;
  store: string;
  json: boolean;
  speed?: string;
}

async function prepare(sourceArgs: string[], opts: RunOpts) {
  getStrategy(opts.strategy); // unknown names fail before anything is opened
  const cfg = readConfigFile(opts.config);
  const sources = sourceArgs.map((a) => resolveSource(a));
  checkDistinctSources(sources);
  const survey = mergeSurveys(await Promise.all(sources.map(async (s) => surveySource(await openReplaySource(s)))));
  const config = resolveRunConfig(opts.strategy, cfg, survey, opts.config ?? '--config');
  return { sources, label: sourcesLabel(sources), config };
}

/**
 * `tapedeck replay stream:NAME`: a backtest of market data already in the store (the stream a paper or live
 * session wrote), referencing that stream, so the session and its backtest read the very same inputs.
 */
async function replayStoreStream(stream: string, opts: RunOpts): Promise<void> {
  getStrategy(opts.strategy);
  const cfg = readConfigFile(opts.config);
  const store = await openRunStore(opts.store, { durability: 'batched' }, noteLine);
  const bar = progressBar('replay');
  try {
    const last = await store.streamRevision(stream);
    if (last < 0) throw new TapedeckError('SOURCE_NOT_FOUND', `no stream ${stream} in the store ${opts.store}`, { field: 'source', stream });
    const config = resolveRunConfig(opts.strategy, cfg, await surveySource(storeStreamEvents(store, stream)), opts.config ?? '--config');
    const s = await runKernel({
      mode: 'replay', store, config, sourceLabel: `stream:${stream}`, events: storeStreamEvents(store, stream), onProgress: bar.update,
      inputsReference: { source: { kind: 'stream', stream }, inputs: last + 1 },
    });
    bar.stop();
    printSummary(s, opts.json);
  } finally {
    bar.stop();
    await store.close();
  }
}

/**
 * `tapedeck replay DAY.itch --workers N`: the day split by instrument over worker threads
 * (src/runtime/partitioned.ts), journaled with its inputs referenced (the file's size and SHA-256).
 */
async function replayPartitioned(sourceArgs: string[], opts: RunOpts & { workers: string; instruments?: string }): Promise<void> {
  const workers = Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new TapedeckError('USAGE', `--workers must be an integer from 0 to 64, got "${opts.workers}"`, { field: '--workers' });
  const { sources, label, config } = await prepare(sourceArgs, opts);
  const only = sources.length === 1 ? sources[0]! : null;
  if (only === null || only.kind !== 'itch') throw new TapedeckError('USAGE', `--workers splits one ITCH day by instrument; ${label} is not one`, { field: '--workers' });
  if (getStrategy(opts.strategy).forInstrument === undefined) {
    throw new TapedeckError('USAGE', `strategy ${opts.strategy} shares state across instruments (it declares no forInstrument), so it runs as one kernel: replay it without --workers`, { field: '--workers' });
  }
  const fileBytes = fs.readFileSync(only.file);
  const plain = only.file.endsWith('.gz') ? zlib.gunzipSync(fileBytes) : fileBytes;
  const day = new Uint8Array(new SharedArrayBuffer(plain.length));
  day.set(plain);
  const instruments = opts.instruments !== undefined
    ? opts.instruments.split(',').map((x) => x.trim()).filter((x) => x.length > 0)
    : itchInstrumentActivity(day).filter((a) => a.messages > 0).map((a) => a.instrument);
  if (instruments.length === 0) throw new TapedeckError('USAGE', `no instruments to trade in ${label} (give --instruments NASDAQ:SYM,...)`, { field: '--instruments' });
  const reference = fileReference(only);
  const store = await openRunStore(opts.store, { durability: 'batched' }, noteLine);
  try {
    const r = await runPartitionedReplay({ runId: randomUUID(), config, day, fileId: path.basename(only.file), instruments, workers });
    await journalPartitionedRun(store, r, { config, sourceLabel: label, instruments, reference: reference.source });
    const out = { runId: r.runId, events: r.dayInputs, kernelInputs: r.inputs, instruments: instruments.length, workers: r.workers, decisions: r.decisions, orders: r.orders, fills: r.fills, decisionsHash: r.decisionsHash };
    if (opts.json) printJson(out);
    else for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(16)} ${v}\n`);
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('backtest: run a strategy over a recorded capture, an ITCH file or a catalog entry, as fast as the machine allows')
    .argument('<source...>', 'capture file, ITCH file, catalog:DIR#DATASET, or stream:NAME (a market-data stream of --store); several are merged in event-time order (ties: the order given)')
    .requiredOption('--strategy <name>', 'strategy (see tapedeck strategies)')
    .option('--config <file>', 'JSON: {seed, params, risk, venues}')
    .requiredOption('--store <dir>', 'event store directory (created if missing)')
    .option('--reference-inputs', 'a recording file is referenced (path, size, SHA-256) rather than copied into the run stream; a catalog dataset always is', false)
    .option('--workers <n>', 'an ITCH day split by instrument: one kernel per instrument over N worker threads (0: all in this thread), for a strategy that keeps no state across instruments; same decisions and hash for any N; inputs referenced')
    .option('--instruments <list>', 'with --workers: the instruments traded, comma-separated (NASDAQ:SYM; default every one in the day)')
    .option('--json', 'print the summary as JSON', false)
    .action(
      action(async (sourceArgs: string[], opts: RunOpts & { referenceInputs: boolean; workers?: string; instruments?: string }) => {
        if (opts.workers !== undefined) return replayPartitioned(sourceArgs, opts as RunOpts & { workers: string; instruments?: string });
        if (opts.instruments !== undefined) throw new TapedeckError('USAGE', '--instruments goes with --workers (a replay split by instrument)', { field: '--instruments' });
        const streamSource = sourceArgs.length === 1 ? /^stream:(.+)$/.exec(sourceArgs[0]!) : null;
        if (streamSource !== null) return replayStoreStream(streamSource[1]!, opts);
        const { sources, label, config } = await prepare(sourceArgs, opts);
        // A replay or paper run can be redone from its source, so its journal is synced in batches (every
        // 20 ms and on close) rather than per append; live trading syncs before every command.
        const store = await openRunStore(opts.store, { durability: 'batched' }, noteLine);
        const bar = progressBar('replay');
        try {
          // One catalog dataset is stored once: the run references it (and its checksums) instead of copying it.
          // (Several sources merged are journaled inline, as before.)
          const only = sources.length === 1 ? sources[0]! : null;
          if (opts.referenceInputs && only === null) throw new TapedeckError('USAGE', '--reference-inputs takes one source (several merged are copied into the run stream)', { field: '--reference-inputs' });
          const events = only !== null ? await openReplaySource(only) : await openReplaySources(sources);
          const inputsReference = only?.kind === 'catalog'
            ? datasetReference(only.file, (events as { manifest?: DatasetManifest }).manifest ?? readManifest(only.file, only.datasetId!))
            : only !== null && opts.referenceInputs ? fileReference(only) : undefined;
          const s = await runKernel({ mode: 'replay', store, config, sourceLabel: label, events, onProgress: bar.update, ...(inputsReference ? { inputsReference } : {}) });
          bar.stop();
          printSummary(s, opts.json);
        } finally {
          bar.stop();
          await store.close();
        }
      }),
    );

  program
    .command('paper')
    .description('paper trading through the live code path: the live market-data adapter reads a capture replayed over a socket; the simulated venue fills')
    .argument('<source...>', 'recorded venue captures (cryptofeed format); several venues are read by their own live adapters at once')
    .requiredOption('--strategy <name>', 'strategy (see tapedeck strategies)')
    .option('--config <file>', 'JSON: {seed, params, risk, venues}')
    .requiredOption('--store <dir>', 'event store directory (created if missing)')
    .option('--speed <n>', 'replay speed: 1 = real time, N = N times faster, 0 = as fast as possible', '1')
    .option('--market-data-stream', 'write the market data received to the stream marketdata-<runId> as it arrives, and reference it from the run instead of copying it in', false)
    .option('--json', 'print the summary as JSON', false)
    .action(
      action(async (sourceArgs: string[], opts: RunOpts & { marketDataStream: boolean }) => {
        const speed = Number(opts.speed);
        if (!Number.isFinite(speed) || speed < 0) throw new TapedeckError('USAGE', `--speed must be a number >= 0, got "${opts.speed}"`, { field: '--speed' });
        const { sources, label, config } = await prepare(sourceArgs, opts);
        // A replay or paper run can be redone from its source, so its journal is synced in batches (every
        // 20 ms and on close) rather than per append; live trading syncs before every command.
        const store = await openRunStore(opts.store, { durability: 'batched' }, noteLine);
        const feed = await openPaperSources(sources, speed);
        const bar = progressBar('paper');
        try {
          const s = await runKernel({ mode: 'paper', store, config, sourceLabel: label, events: feed.events, onProgress: bar.update, progressEvery: 100, marketDataStream: opts.marketDataStream });
          bar.stop();
          printSummary(s, opts.json);
        } finally {
          bar.stop();
          await feed.close();
          await store.close();
        }
      }),
    );

  program
    .command('parity')
    .description("feed a recorded run's inputs through the same strategy again and compare the decisions one by one")
    .requiredOption('--store <dir>', 'event store directory')
    .requiredOption('--run <runId...>', 'the run to check; several (a worker makes one run per partition) are checked in turn, one result line each')
    .option('--catalog <dir>', 'where the datasets a run references are now (default: where the run read them)')
    .option('--json', 'print the result as JSON', false)
    .action(
      action(async (opts: { store: string; run: string[]; catalog?: string; json: boolean }) => {
        const store = await openStore(opts.store, { readOnly: true });
        // One run prints as it always did; several print one line each, named by run id.
        const several = opts.run.length > 1;
        let allIdentical = true;
        try {
          for (const runId of opts.run) {
            const r = await checkParity(store, runId, opts.catalog !== undefined ? { catalog: opts.catalog } : {});
            const named = several ? `run ${runId}: ` : '';
            if (opts.json) {
              printJson({
                ...(several ? { runId } : {}),
                identical: r.identical, complete: r.complete, decisions: r.decisions, inputs: r.inputs, hash: r.hash,
                ...(r.complete ? {} : { incomplete: r.incomplete }),
                ...(r.divergence || (r.complete && !r.identical) ? { recordedHash: r.recordedHash, firstDivergence: r.divergence ?? null } : {}),
              });
            } else if (r.identical) {
              process.stdout.write(`${named}identical: ${r.decisions} decisions, hash ${r.hash}${r.codeHashMatches ? '' : ' (note: the code changed since the run was recorded)'}\n`);
            } else {
              if (!r.complete) {
                const sofar = r.divergence ? `diverged at decision ${r.divergence.index}` : 'all identical so far';
                process.stdout.write(`${named}INCOMPLETE: compared ${r.decisions} decisions over ${r.inputs} inputs (${sofar}); ${r.incomplete.join('; ')}\n`);
              } else process.stdout.write(`${named}DIVERGED at decision ${r.divergence?.index ?? r.decisions}${r.divergence ? '' : `: recorded hash ${r.recordedHash}, replayed ${r.hash}`}\n`);
              if (r.divergence) process.stdout.write(`  expected ${JSON.stringify(r.divergence.expected)}\n  actual   ${JSON.stringify(r.divergence.actual)}\n`);
            }
            if (!r.complete) process.stderr.write(`tapedeck: incomplete: run ${runId} cannot be compared in full: ${r.incomplete.join('; ')}\n`);
            if (!r.identical) allIdentical = false;
          }
          if (!allIdentical) throw new ExitCode(1);
        } finally {
          await store.close();
        }
      }),
    );

  program
    .command('strategies')
    .description('list the strategies with their parameters')
    .option('--json', 'JSON', false)
    .action(
      action((opts: { json: boolean }) => {
        const list = strategyNames().map((name) => {
          const s = getStrategy(name);
          const schema = z.toJSONSchema(s.params, { unrepresentable: 'any', io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
          return { name, id: strategyIdentity(s), description: s.description, parameters: schema.properties ?? {}, required: schema.required ?? [] };
        });
        if (opts.json) printJson(list);
        else for (const s of list) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n   params: ${Object.keys(s.parameters).join(', ')}\n`);
      }),
    );
}
