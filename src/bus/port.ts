/**
 * The bus port: events carried between machines. A producer publishes keyed records (the key is the
 * instrument or stream, so one key always lands on one partition and keeps its order) that carry the
 * event id; a group member receives the partitions the group gives it, one batch at a time, and commits
 * offsets itself, only after what it did with a batch is durable. Kafka is the implementation
 * (`kafka.ts`); nothing outside src/bus knows it is Kafka.
 */

/** One record to publish. */
export interface BusMessage {
  /** Partitioning key (instrument, stream); records with one key keep their order. */
  key: string;
  /** The event's id, also in a header, so a consumer can dedupe without decoding the value. */
  eventId: string;
  value: Buffer;
  /** An explicit partition; otherwise the key chooses. */
  partition?: number;
  headers?: Record<string, string>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** The record's offset in its partition. */
  offset: bigint;
  key: string;
  eventId: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

export interface BatchContext {
  /** Commits the group's offset for this batch's partition: the next record to read is `nextOffset`. */
  commit(nextOffset: bigint): Promise<void>;
  /** Keeps the membership alive during long work. */
  heartbeat(): Promise<void>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface BusProducer {
  /** Resolves once every message is acknowledged by the broker (all in-sync replicas); order per partition is kept. */
  send(topic: string, messages: BusMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface GroupMemberOptions {
  group: string;
  topics: string[];
  /** Where a partition with no committed offset starts. */
  fromBeginning: boolean;
  /** How long the group waits for a silent member before moving its partitions (a crashed worker). */
  sessionTimeoutMs?: number;
  /** Upper bound on one fetch per partition (bytes); small values make small batches (tests, benches). */
  maxBatchBytes?: number;
}

export interface GroupMember {
  /**
   * Starts consuming. Batches are handled one at a time; a rebalance waits for the batch in hand, so
   * a handler that commits before it returns never hands over a partition with work half done.
   */
  run(handler: (batch: ConsumedBatch, ctx: BatchContext) => Promise<void>): Promise<void>;
  /** Called with the member's partitions after every rebalance. */
  onAssignment(listener: (partitions: TopicPartition[]) => void): void;
  /** Rejects when consuming stops for good (the handler threw, or the client gave up). */
  readonly failed: Promise<never>;
  /** Leaves the group (its partitions move to the other members at once). */
  stop(): Promise<void>;
}

export interface Bus {
  /** Creates the topic with this many partitions if it does not exist; an existing topic must have exactly that many. */
  ensureTopic(topic: string, partitions: number): Promise<void>;
  /** Resolves once the topic exists (a worker may start before the gateway). */
  waitForTopic(topic: string, timeoutMs?: number): Promise<void>;
  producer(): Promise<BusProducer>;
  member(options: GroupMemberOptions): Promise<GroupMember>;
  /** Partition → the offset after its last record (the high watermark). */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** Partition → the group's committed offset (the next record it will read), absent when none. */
  committedOffsets(group: string, topic: string): Promise<Map<number, bigint>>;
  /** Reads one partition from `fromOffset` up to its current end (no group, nothing committed). */
  readPartition(topic: string, partition: number, fromOffset: bigint): AsyncIterable<ConsumedMessage>;
  close(): Promise<void>;
}
