/**
 * An event as the pure reducers need it: its type and its payload, discriminated by type. Every
 * EventEnvelope satisfies it, so the kernel passes envelopes straight in; tests can pass `{ type, data }`.
 */
import type { EventType, PayloadOf } from './catalog.js';

export type DomainEvent = { [K in EventType]: { type: K; data: PayloadOf<K> } }[EventType];

/** A DomainEvent with its event time (ns), for reducers that measure time (rate limits, daily loss). */
export type TimedEvent = DomainEvent & { eventTimeNs: bigint };
