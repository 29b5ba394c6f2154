/**
 * `tapedeck bench serve` end to end, short and small: WebSocket clients and API readers against a store
 * receiving a live run's events; every client gets every event (no timing is asserted: speed figures
 * belong to the benchmark's own output).
 */
import { describe, expect, it } from 'vitest';
import { tapedeck } from '../helpers/cli.js';

describe('tapedeck bench serve', () => {
  it('reports latency and delivery lag, and no client misses an event', () => {
    const r = tapedeck(['bench', 'serve', '--seconds', '1', '--clients', '5', '--rps', '20', '--events-per-second', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, clients: 5, clientsMissingEvents: 0, gaps: 0, disconnected: 0 });
    expect(out.eventsAppended).toBeGreaterThan(0);
    expect(out.eventsDeliveredPerClient.min).toBeGreaterThan(0);
    expect(out.requests).toBeGreaterThan(0);
    for (const k of ['p50', 'p99']) {
      expect(typeof out.latencyMs[k]).toBe('number');
      expect(typeof out.deliveryLagMs[k]).toBe('number');
    }
  });
});
