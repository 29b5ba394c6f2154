/**
 * `tapedeck gateway | worker | publish`: events between machines over Kafka (src/bus). The gateway
 * publishes normalized market data, one partition per instrument; workers in a consumer group run the
 * kernel on their partitions into their own store; publish streams a store's log to a topic.
 */
import type { Command } from 'commander';
import { TapedeckError } from '../../../domain/core/errors.js';
import { getStrategy } from '../../../domain/strategies/registry.js';
import type { KafkaBus, KafkaBusOptions } from '../../bus/kafka.js';
import { publishLog } from '../../bus/outbox.js';
import { readConfigFile } from '../../runtime/config.js';
import { defaultTopic, runGateway } from '../../runtime/gateway.js';
import { resolveSource } from '../../runtime/sources.js';
import { startWorker } from '../../runtime/worker.js';
import { openStore } from '../../store/open.js';
import { action, intOption, printJson } from '../run.js';
import { captureVenues } from '../../venues/registry.js';

/** kafkajs errors are the environment's (broker down, topic missing), not bugs: one line, not a stack. */
async function onBus<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof TapedeckError) throw e;
    const name = (e as Error)?.name ?? '';
    if (name.startsWith('KafkaJS')) throw new TapedeckError('BUS_UNAVAILABLE', `${what}: ${(e as Error).message}`);
    throw e;
  }
}

/** kafkajs is loaded only by the commands that use it: every other command starts without it (it is most of the CLI's start-up time). */
async function openBus(options: KafkaBusOptions): Promise<KafkaBus> {
  return new (await import('../../bus/kafka.js')).KafkaBus(options);
}

function sessionOption(v: string): number {
  return intOption('--session-timeout-ms', 1000)(v);
}

export function register(program: Command): void {
  program
    .command('gateway')
    .description('publish market data, normalized once, to Kafka: one partition per instrument, keyed by instrument, each record carrying its event id')
    .requiredOption('--venue <venue>', `venue code (${captureVenues('cryptofeed').map((v) => v.id).join(', ')})`)
    .requiredOption('--capture <file>', 'a recorded capture of that venue (cryptofeed format)')
    .requiredOption('--kafka <brokers>', 'bootstrap brokers host:port[,host:port]')
    .option('--topic <name>', 'topic (default tapedeck.md.<venue>)')
    .option('--partitions <n>', 'partitions (default: one per instrument)', intOption('--partitions', 1))
    .option('--batch <n>', 'records per acknowledged send', intOption('--batch', 1), 500)
    .option('--json', 'print the summary as JSON', false)
    .action(
      action(async (o: { venue: string; capture: string; kafka: string; topic?: string; partitions?: number; batch: number; json: boolean }) => {
        const venue = o.venue.toUpperCase();
        if (!/^[A-Z0-9_]{2,32}$/.test(venue)) throw new TapedeckError('USAGE', `--venue must be a venue code like BINANCE, got "${o.venue}"`, { field: '--venue' });
        const source = resolveSource(o.capture);
        if (source.kind !== 'cryptofeed') throw new TapedeckError('SOURCE_KIND', `${o.capture} is not a venue capture (cryptofeed format)`, { file: o.capture });
        const bus = await openBus({ brokers: o.kafka, clientId: 'tapedeck-gateway' });
        try {
          const s = await onBus('gateway', () => runGateway({ bus, source, venue, topic: o.topic ?? defaultTopic(venue), batch: o.batch, ...(o.partitions !== undefined ? { partitions: o.partitions } : {}) }));
          if (o.json) printJson(s);
          else process.stdout.write(`published ${s.events} events to ${s.topic} (${s.partitions} partitions)\n`);
        } finally {
          await bus.close();
        }
      }),
    );

  program
    .command('worker')
    .description('a consumer-group member running the kernel on its partitions; inputs, decisions and offsets go to the store together (runs until SIGTERM or SIGINT, which commit, end its runs and exit; restarted, it continues in new runs)')
    .requiredOption('--kafka <brokers>', 'bootstrap brokers host:port[,host:port]')
    .requiredOption('--group <group>', 'consumer group')
    .requiredOption('--strategy <name>', 'strategy (see tapedeck strategies)')
    .option('--config <file>', 'JSON: {seed, params, risk, venues}')
    .requiredOption('--store <location>', 'event store (a directory: the embedded store)')
    .option('--topic <name>', 'market-data topic', 'tapedeck.md.binance')
    .option('--session-timeout-ms <ms>', 'how long the group waits for this worker when it goes silent', sessionOption, 10_000)
    .option('--max-batch-bytes <n>', 'bytes fetched per partition at once (small: smaller batches, more commits)', intOption('--max-batch-bytes', 1024))
    .option('--json', 'JSON lines: assignments, then the runs when stopped', false)
    .action(
      action(async (o: { kafka: string; group: string; strategy: string; config?: string; store: string; topic: string; sessionTimeoutMs: number; maxBatchBytes?: number; json: boolean }) => {
        if (!/^[A-Za-z0-9._-]{1,200}$/.test(o.group)) throw new TapedeckError('USAGE', `--group must be letters, digits, ".", "_" or "-", got "${o.group}"`, { field: '--group' });
        getStrategy(o.strategy);
        const config = readConfigFile(o.config);
        const bus = await openBus({ brokers: o.kafka, clientId: `tapedeck-worker-${o.group}` });
        const store = await openStore(o.store);
        const say = (v: Record<string, unknown>, text: string) => (o.json ? printJson(v) : process.stdout.write(text + '\n'));
        try {
          const w = await onBus('worker', () =>
            startWorker({
              bus, store, group: o.group, topic: o.topic, strategy: o.strategy, config, configLabel: o.config ?? '--config', sessionTimeoutMs: o.sessionTimeoutMs,
              ...(o.maxBatchBytes !== undefined ? { maxBatchBytes: o.maxBatchBytes } : {}),
              onAssignment: (partitions) => say({ event: 'assigned', partitions }, `assigned partitions ${partitions.join(', ') || '(none)'}`),
            }),
          );
          const stopSignal = new Promise<string>((resolve) => {
            process.once('SIGTERM', () => resolve('SIGTERM'));
            process.once('SIGINT', () => resolve('SIGINT'));
          });
          await onBus('worker', () => Promise.race([stopSignal, w.failed]));
          const runs = await onBus('worker stop', () => w.stop());
          say(
            { event: 'stopped', runs: runs.map((r) => ({ runId: r.runId, events: r.events, decisions: r.decisions, decisionsHash: r.decisionsHash })) },
            runs.map((r) => `run ${r.runId}: ${r.events} events, ${r.decisions} decisions, hash ${r.decisionsHash}`).join('\n') || 'no runs',
          );
        } finally {
          await bus.close();
          await store.close();
        }
      }),
    );

  program
    .command('publish')
    .description("stream the store's log to a Kafka topic (an outbox), resuming after the last position already there")
    .requiredOption('--store <location>', 'event store (a directory: the embedded store)')
    .requiredOption('--kafka <brokers>', 'bootstrap brokers host:port[,host:port]')
    .option('--topic <name>', 'topic', 'tapedeck.log')
    .option('--json', 'print the summary as JSON', false)
    .action(
      action(async (o: { store: string; kafka: string; topic: string; json: boolean }) => {
        const store = await openStore(o.store, { readOnly: true });
        const bus = await openBus({ brokers: o.kafka, clientId: 'tapedeck-publish' });
        try {
          const s = await onBus('publish', () => publishLog(bus, store, o.topic));
          if (o.json) printJson(s);
          else process.stdout.write(`published ${s.published} events to ${s.topic} (positions ${s.checkpoint + 1}..${s.head})\n`);
        } finally {
          await bus.close();
          await store.close();
        }
      }),
    );
}
