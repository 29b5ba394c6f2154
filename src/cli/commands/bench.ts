/**
 * `tapedeck bench <what>`: benchmarks that print figures and a baseline measured in the same run.
 * Speed targets live here, never in timed tests. Each benchmark is a module in src/bench/, loaded
 * only when its subcommand runs, so the CLI starts fast.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { action, ExitCode, intOption, printJson } from '../run.js';

/** The repository's root, from dist/src/cli/commands or src/cli/commands alike. */
function repoRoot(): string {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

export function register(program: Command): void {
  const bench = program.command('bench').description('run a benchmark and print its figures with a same-run baseline');
  void bench;
  // BENCH-REGISTRATIONS (each benchmark adds one subcommand below this line)
  bench
    .command('day')
    .description('a whole generated ITCH day (BX mix) in one run: decode, L3 books, the replay of a market maker on the busiest symbols split over worker threads (decisions journaled, inputs referenced), DuckDB projection; msgs/s per stage, peak RSS, store bytes per message, time for 423 M messages; baselines: memcpy, framing + dispatch')
    .option('--messages <n>', 'messages in the generated day', intOption('--messages', 1000), 5_000_000)
    .option('--symbols <n>', 'stocks in the generated day', intOption('--symbols', 1), 500)
    .option('--seed <n>', 'generator seed', intOption('--seed', 0), 1)
    .option('--traded <n>', 'busiest symbols the strategy trades', intOption('--traded', 1), 10)
    .option('--workers <list>', 'worker counts for the replay, beside the single-threaded run', '1,2')
    .option('--dir <dir>', 'where to write the store and DuckDB (default: a temporary directory, removed after)')
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { messages: number; symbols: number; seed: number; traded: number; workers: string; dir?: string; json: boolean }) => {
        const workers = o.workers.split(',').map((w) => Number(w.trim()));
        if (workers.some((w) => !Number.isInteger(w) || w < 1 || w > 64)) throw new TapedeckError('USAGE', `--workers takes a comma-separated list of counts from 1 to 64, got "${o.workers}"`, { field: '--workers' });
        const r = await (await import('../../bench/day.js')).runDayBench({ messages: o.messages, symbols: o.symbols, seed: o.seed, traded: o.traded, workers, ...(o.dir !== undefined ? { dir: o.dir } : {}) });
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(32)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      }),
    );
  bench
    .command('serve')
    .description('tapedeck serve under load: WebSocket clients on the event stream and API reads per second while a live session appends; p50/p99 latency, delivery lag, missed events; baseline: idle /healthz latency')
    .option('--seconds <n>', 'duration of the load', intOption('--seconds', 1), 60)
    .option('--clients <n>', 'concurrent WebSocket clients', intOption('--clients', 1), 200)
    .option('--rps <n>', 'API reads per second (open loop)', intOption('--rps', 1), 500)
    .option('--events-per-second <n>', "the live session's append rate", intOption('--events-per-second', 1), 200)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { seconds: number; clients: number; rps: number; eventsPerSecond: number; json: boolean }) => {
        const r = await (await import('../../bench/serve.js')).runServeBench(o);
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(28)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
        if (r.ok !== true) throw new ExitCode(1);
      }),
    );
  bench
    .command('live')
    .description('order round trip through ccxt over loopback against the simulated Binance (intent durable → ack durable), p50/p99; baselines: a raw HTTP GET and a raw signed order POST to the same server')
    .option('--orders <n>', 'orders timed (after 20 warm-up orders)', intOption('--orders', 1), 300)
    .option('--capture <file>', 'Binance capture driving the simulated book', 'datasets/samples/binance/BINANCE.ws.1.0')
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { orders: number; capture: string; json: boolean }) => {
        const r = await (await import('../../bench/live.js')).runLiveBench(o);
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(28)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      }),
    );
  bench
    .command('kafka')
    .description('events/s through the Kafka bus per producer and end to end (producer → worker kernels → store) with 1, 2 and 4 partitions; baseline: the raw kafkajs client producing and consuming the same records')
    .option('--kafka <brokers>', 'a running broker (default: $KAFKA_BROKERS; scripts/kafka-local.sh start prints one)')
    .option('--events <n>', 'events per run', intOption('--events', 1000), 100_000)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { kafka?: string; events: number; json: boolean }) => {
        const brokers = o.kafka ?? process.env.KAFKA_BROKERS ?? '';
        if (brokers === '') throw new TapedeckError('USAGE', 'give --kafka host:port or set KAFKA_BROKERS (scripts/kafka-local.sh start prints the address)', { field: '--kafka' });
        const r = await (await import('../../bench/kafka.js')).runKafkaBench({ brokers, events: o.events, partitions: [1, 2, 4] });
        if (o.json) printJson(r);
        else for (const x of r.runs as Array<Record<string, unknown>>) process.stdout.write(`${JSON.stringify(x)}\n`);
      }),
    );
  bench
    .command('projections')
    .description('events/s projected into DuckDB and rows/s scanned from Parquet; baselines: DuckDB INSERT ... SELECT, the raw appender, an in-memory table scan')
    .option('--trades <n>', 'market trades in the synthetic run (about 5 events each)', intOption('--trades', 1), 200_000)
    .option('--parquet-rows <n>', 'rows in the Parquet scan', intOption('--parquet-rows', 1), 5_000_000)
    .option('--dir <dir>', 'where to write (default: a temporary directory, removed after)')
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { trades: number; parquetRows: number; dir?: string; json: boolean }) => {
        const r = await (await import('../../bench/projections.js')).runProjectionBench({ trades: o.trades, parquetRows: o.parquetRows, ...(o.dir !== undefined ? { dir: o.dir } : {}) });
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(40)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      }),
    );
  bench
    .command('kernel')
    .description('market events/s through strategy, risk and the simulated venue on L2 data, peak RSS at two sizes; baseline: generating the events')
    .option('--small <n>', 'events in the first run', intOption('--small', 1000), 500_000)
    .option('--large <n>', 'events in the second run', intOption('--large', 1000), 2_000_000)
    .option('--journaled <n>', 'events through the engine with a durable journal', intOption('--journaled', 1000), 200_000)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { small: number; large: number; journaled: number; json: boolean }) => {
        const r = await (await import('../../bench/kernel.js')).runKernelBench(o);
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(30)} ${v}\n`);
      }),
    );
  bench
    .command('itch')
    .description('ITCH 5.0 on a generated day, each figure in its own worker: allocation-free decode, L3 book, object decode; baseline: Buffer.copy of the same bytes')
    .option('--messages <n>', 'messages in the generated day', intOption('--messages', 1000), 3_000_000)
    .option('--symbols <n>', 'stocks in the generated day', intOption('--symbols', 1), 500)
    .option('--seed <n>', 'generator seed', intOption('--seed', 0), 1)
    .option('--repeats <n>', 'runs of each figure (the best is kept)', intOption('--repeats', 1), 5)
    .option('--object-messages <n>', 'messages for the object-path figure', intOption('--object-messages', 1), 300_000)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { messages: number; symbols: number; seed: number; repeats: number; objectMessages: number; json: boolean }) => {
        const r = await (await import('../../bench/itch.js')).runItchBench(o);
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
      }),
    );
  bench
    .command('marketdata')
    .description('crypto capture parsing, L2 book, replay-server loopback; baselines: JSON.parse only, Map.set, a plain ws pair')
    .option('--dir <dir>', 'cryptofeed capture directory (default: the recorded captures in test/fixtures/datasets/recorded_ws/cryptofeed)')
    .option('--repeat <n>', 'passes over each capture', intOption('--repeat', 1), 3)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { dir?: string; repeat: number; json: boolean }) => {
        const { runMarketDataBench } = await import('../../bench/marketdata.js');
        const dir = o.dir ?? path.join(repoRoot(), 'test/fixtures/datasets/recorded_ws/cryptofeed');
        const r = await runMarketDataBench({ dir, repeat: o.repeat });
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
      }),
    );
  bench
    .command('ouch')
    .description('OUCH 4.2 codec, SoupBinTCP framer and loopback session; baselines: u32 reads, memory copy, a plain socket')
    .option('--messages <n>', 'messages for the codec and framer runs', intOption('--messages', 1), 1_000_000)
    .option('--loopback-messages <n>', 'sequenced messages over 127.0.0.1', intOption('--loopback-messages', 1), 200_000)
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { messages: number; loopbackMessages: number; json: boolean }) => {
        const r = await (await import('../../bench/ouch.js')).runOuchBench({ messages: o.messages, loopbackMessages: o.loopbackMessages });
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
      }),
    );
  bench
    .command('store')
    .description('embedded store: batched appends, sequential reads, group commit; baseline: raw sequential writes')
    .option('--batches <n>', 'appends of --batch-size events each', intOption('--batches', 1), 2000)
    .option('--batch-size <n>', 'events per append (one fsync each)', intOption('--batch-size', 1), 1000)
    .option('--writers <n>', 'concurrent single-event writers for group commit', intOption('--writers', 1), 64)
    .option('--seconds <n>', 'duration of the group-commit phase', intOption('--seconds', 1), 3)
    .option('--dir <dir>', 'where to write (default: a temporary directory, removed after)')
    .option('--json', 'one JSON line', false)
    .action(
      action(async (o: { batches: number; batchSize: number; writers: number; seconds: number; dir?: string; json: boolean }) => {
        const r = await (await import('../../bench/store.js')).runStoreBench({ batches: o.batches, batchSize: o.batchSize, writers: o.writers, groupCommitSeconds: o.seconds, dir: o.dir });
        if (o.json) printJson(r);
        else for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
      }),
    );
}
