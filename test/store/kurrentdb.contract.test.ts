/**
 * The store contract (test/store/contract.ts), unchanged, against a real KurrentDB server, whenever
 * KURRENTDB_URL names one (e.g. kurrentdb://127.0.0.1:2113?tls=false; see the README's KurrentDB section
 * for the docker compose line). Each harness gets its own namespace on the server, so runs do not see
 * each other's streams and a "new, empty store" is a fresh namespace.
 *
 * No KurrentDB server can be installed from the package registries these machines reach, so here the
 * suite does not run: the file says so in one line and reports the suite as skipped, never as passed.
 */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { KurrentDbEventStore } from '../../src/store/kurrentdb/store.js';
import type { EventStore } from '../../src/store/port.js';
import { defineStoreContract } from './contract.js';

const url = process.env.KURRENTDB_URL;

function withNamespace(location: string, namespace: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}tapedeckNamespace=${namespace}`;
}

if (url) {
  defineStoreContract(`kurrentdb (${url})`, () => {
    const location = withNamespace(url, `contract-${randomUUID()}`);
    const opened: EventStore[] = [];
    return {
      async create() {
        const s = await KurrentDbEventStore.open(location);
        opened.push(s);
        return s;
      },
      async reopen(store) {
        await store.close();
        const s = await KurrentDbEventStore.open(location);
        opened.push(s);
        return s;
      },
      async cleanup() {
        for (const s of opened) await s.close();
      },
    };
  });
} else {
  const why = 'KURRENTDB_URL is not set (no KurrentDB server can be installed from the registries this machine reaches)';
  process.stdout.write(`KurrentDB store contract: NOT RUN: ${why}\n`);
  describe('EventStore contract: kurrentdb', () => {
    it.skip(`not run: ${why}`, () => undefined);
  });
}
