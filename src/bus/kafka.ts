/**
 * The bus on Apache Kafka, through kafkajs (why kafkajs and not @platformatic/kafka: see the README's
 * Kafka section). Producers are idempotent with one request in flight, so a broker that dies mid-send
 * neither loses nor duplicates a record once it is back (the client retries with the same sequence
 * numbers); consumers commit offsets explicitly, never automatically.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type LogEntry, type Producer } from 'kafkajs';
import { TapedeckError } from '../../domain/core/errors.js';
import type { BatchContext, Bus, BusMessage, BusProducer, ConsumedBatch, ConsumedMessage, GroupMember, GroupMemberOptions, TopicPartition } from './port.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

export interface KafkaBusOptions {
  /** `host:port[,host:port...]` */
  brokers: string;
  clientId?: string;
  /** How long a send or fetch keeps retrying while the broker is away (ms). */
  retryForMs?: number;
}

/** Validates `--kafka host:port[,host:port]`. */
export function parseBrokers(spec: string, field = '--kafka'): string[] {
  const list = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new TapedeckError('USAGE', `${field} needs host:port[,host:port...], got "${spec}"`, { field });
  for (const b of list) {
    const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new TapedeckError('USAGE', `${field}: "${b}" is not host:port`, { field });
  }
  return list;
}

/**
 * kafkajs logs transient, retried errors (a coordinator still loading, a broker restarting) at ERROR
 * level; failures that matter reach the caller as thrown errors. So its log is off unless
 * TAPEDECK_KAFKA_LOG=1, then one line each on stderr.
 */
function logCreator() {
  return ({ level, log }: LogEntry) => {
    if (level > logLevel.WARN || process.env.TAPEDECK_KAFKA_LOG !== '1') return;
    const { message, error } = log as { message: string; error?: string };
    process.stderr.write(`kafka: ${message}${error ? `: ${error}` : ''}\n`);
  };
}

function isKafkaJsError(e: unknown): boolean {
  return e instanceof Error && e.name.startsWith('KafkaJS');
}

function headerString(h: IHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

export class KafkaBus implements Bus {
  readonly kafka: Kafka;
  private admin: Admin | null = null;
  private readonly open = new Set<{ disconnect(): Promise<void> }>();

  constructor(readonly options: KafkaBusOptions) {
    const retryForMs = options.retryForMs ?? 60_000;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'tapedeck',
      brokers: parseBrokers(options.brokers),
      logLevel: logLevel.ERROR,
      logCreator,
      connectionTimeout: 3000,
      // Short, many retries: a restarted broker is used within a second of coming back.
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: Math.max(5, Math.ceil(retryForMs / 1000)) },
    });
  }

  private async adminClient(): Promise<Admin> {
    if (this.admin === null) {
      const a = this.kafka.admin();
      await a.connect();
      this.admin = a;
    }
    return this.admin;
  }

  async waitForTopic(topic: string, timeoutMs = Infinity): Promise<void> {
    const admin = await this.adminClient();
    const until = Date.now() + timeoutMs;
    while (!(await admin.listTopics()).includes(topic)) {
      if (Date.now() > until) throw new TapedeckError('TOPIC_NOT_FOUND', `topic ${topic} does not exist`, { field: '--topic' });
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async ensureTopic(topic: string, partitions: number): Promise<void> {
    const admin = await this.adminClient();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const have = meta?.partitions.length ?? 0;
    if (have !== partitions) {
      throw new TapedeckError('TOPIC_PARTITIONS', `topic ${topic} has ${have} partitions, ${partitions} wanted: use another --topic or the same --partitions`, { field: '--partitions' });
    }
  }

  async producer(): Promise<BusProducer> {
    const p: Producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    this.open.add(p);
    return {
      send: async (topic: string, messages: BusMessage[]) => {
        if (messages.length === 0) return;
        await p.send({
          topic,
          acks: -1,
          messages: messages.map((m) => ({
            key: m.key,
            value: m.value,
            ...(m.partition !== undefined ? { partition: m.partition } : {}),
            headers: { ...(m.headers ?? {}), 'event-id': m.eventId },
          })),
        });
      },
      close: async () => {
        this.open.delete(p);
        await p.disconnect();
      },
    };
  }

  async member(options: GroupMemberOptions): Promise<GroupMember> {
    return (await this.makeMember(options)).member;
  }

  private async makeMember(options: GroupMemberOptions): Promise<{ member: GroupMember; consumer: Consumer }> {
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    const c: Consumer = this.kafka.consumer({
      groupId: options.group,
      sessionTimeout,
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 5)),
      rebalanceTimeout: Math.max(sessionTimeout * 2, 10_000),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
      ...(options.maxBatchBytes !== undefined ? { maxBytesPerPartition: options.maxBatchBytes, maxBytes: options.maxBatchBytes * 4 } : {}),
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 60 },
    });
    await c.connect();
    this.open.add(c);
    for (const topic of options.topics) await c.subscribe({ topic, fromBeginning: options.fromBeginning });
    const listeners: Array<(p: TopicPartition[]) => void> = [];
    let fail!: (e: unknown) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined);
    c.on(c.events.GROUP_JOIN, (e) => {
      const parts: TopicPartition[] = [];
      for (const [topic, ps] of Object.entries(e.payload.memberAssignment)) for (const partition of ps) parts.push({ topic, partition });
      for (const l of listeners) l(parts);
    });
    c.on(c.events.CRASH, (e) => {
      if (!e.payload.restart) fail(e.payload.error);
    });
    const member: GroupMember = {
      failed,
      onAssignment: (l) => void listeners.push(l),
      run: async (handler) => {
        await c.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, resolveOffset, commitOffsetsIfNecessary }) => {
            const messages: ConsumedMessage[] = batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: BigInt(m.offset),
              key: m.key?.toString('utf8') ?? '',
              eventId: headerString(m.headers, 'event-id') ?? '',
              value: m.value ?? Buffer.alloc(0),
              headers: Object.fromEntries(Object.keys(m.headers ?? {}).map((k) => [k, headerString(m.headers, k) ?? ''])),
            }));
            const ctx: BatchContext = {
              commit: async (next) => {
                // Through the batch's own committer: consumer.commitOffsets silently does nothing once the
                // consumer is stopping, and a worker leaving the group must still commit the batch in hand,
                // or the next owner applies it again.
                await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next.toString() }] }] });
                resolveOffset((next - 1n).toString());
              },
              heartbeat,
            };
            const b: ConsumedBatch = { topic: batch.topic, partition: batch.partition, messages };
            try {
              await handler(b, ctx);
              // Handled: the next fetch starts after it (committing is the handler's own, explicit step).
              const last = batch.messages.at(-1);
              if (last !== undefined) resolveOffset(last.offset);
            } catch (e) {
              // The bus's own errors (a commit or heartbeat while the broker restarts) go back to kafkajs,
              // which reconnects, rejoins and fetches again from what was resolved: the handler sees the
              // batch again and skips what it already made durable. Any other failure (a store that cannot
              // write, a hostile record) is final: stop, do not retry the batch.
              if (!isKafkaJsError(e)) fail(e);
              throw e;
            }
          },
        });
      },
      stop: async () => {
        this.open.delete(c);
        await c.disconnect();
      },
    };
    return { member, consumer: c };
  }

  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    const admin = await this.adminClient();
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  }

  async committedOffsets(group: string, topic: string): Promise<Map<number, bigint>> {
    const admin = await this.adminClient();
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const out = new Map<number, bigint>();
    for (const t of res) for (const p of t.partitions) if (Number(p.offset) >= 0) out.set(p.partition, BigInt(p.offset));
    return out;
  }

  async *readPartition(topic: string, partition: number, fromOffset: bigint): AsyncIterable<ConsumedMessage> {
    const end = (await this.endOffsets(topic)).get(partition) ?? 0n;
    if (fromOffset >= end) return;
    // kafkajs has no group-less consumer: a throwaway group that commits nothing and is deleted after.
    const group = `tapedeck-read-${randomUUID()}`;
    const { member, consumer } = await this.makeMember({ group, topics: [topic], fromBeginning: true });
    const got: ConsumedMessage[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    try {
      // The seek below may make the client fetch a range again: keep each offset once, in order.
      let next = fromOffset;
      await member.run(async (batch) => {
        if (batch.partition !== partition) return;
        for (const m of batch.messages) {
          if (m.offset < next || m.offset >= end) continue;
          got.push(m);
          next = m.offset + 1n;
        }
        if (next >= end || (batch.messages.at(-1)?.offset ?? -1n) >= end - 1n) done = true;
        wake?.();
      });
      if (fromOffset > 0n) consumer.seek({ topic, partition, offset: fromOffset.toString() });
      while (true) {
        while (got.length > 0) yield got.shift()!;
        if (done) return;
        await Promise.race([new Promise<void>((r) => (wake = r)), member.failed]);
      }
    } finally {
      await member.stop();
      await (await this.adminClient()).deleteGroups([group]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.open]) await c.disconnect().catch(() => undefined);
    this.open.clear();
    if (this.admin) await this.admin.disconnect();
    this.admin = null;
  }
}
