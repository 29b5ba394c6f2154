/**
 * The server's read model: the DuckDB projections (projections/) kept open and caught up with the log
 * as it grows. One connection folds and commits (the projector's own batches, checkpoint included);
 * a second one answers reads, which see only committed batches. Answers are cached per checkpoint:
 * until the projections move, the same question costs nothing, so hundreds of readers per second
 * cost what one costs.
 *
 * The database is the server's own file (`<store>/serve.duckdb` by default), so `tapedeck query`
 * on the same store keeps working while the server runs (DuckDB allows one writing process per file).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { prepareDb } from '../../projections/catchup.js';
import { openDbWithRetry, queryRows, type OpenDb } from '../../projections/db.js';
import { Projector } from '../../projections/projector.js';
import { EmbeddedEventStore } from '../store/embedded/store.js';
import type { EventStore } from '../store/port.js';

const BATCH_EVENTS = 50_000;
const CACHE_MAX = 512;

export class LiveProjections {
  private readonly projector = new Projector();
  private running: Promise<void> | null = null;
  private again = false;
  private cache = new Map<string, Promise<Record<string, unknown>[]>>();
  private cachedAt = -2;
  /** Events folded and committed since the server started (for the projected-events counter). */
  projectedEvents = 0;
  lastError: string | null = null;
  private closed = false;

  private constructor(private readonly store: EventStore, private readonly db: OpenDb, private readonly reader: DuckDBConnection) {}

  static async open(store: EventStore, dbPath: string): Promise<LiveProjections> {
    const db = await openDbWithRetry(dbPath);
    await prepareDb(db);
    const reader = await db.instance.connect();
    const p = new LiveProjections(store, db, reader);
    await p.projector.load(db.con);
    return p;
  }

  /** Position of the last event the projections hold (committed). */
  get position(): number {
    return this.projector.position;
  }

  /** Starts a catch-up unless one runs; a call during one makes it go round again. Resolves when caught up. */
  catchUp(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.foldToHead();
        } while (this.again && !this.closed);
        this.lastError = null;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async foldToHead(): Promise<void> {
    const head = await this.store.headPosition();
    const p = this.projector;
    while (p.position < head && !this.closed) {
      let n = 0;
      const store = this.store;
      if (store instanceof EmbeddedEventStore) {
        store.scan(p.position + 1, (c) => {
          if (c.position > head) return false;
          p.visitCursor(c);
          n++;
          return n < BATCH_EVENTS;
        });
      } else {
        for await (const e of store.readAll({ fromPosition: p.position + 1, maxCount: BATCH_EVENTS })) {
          if (e.position > head) break;
          p.visit({ position: e.position, stream: e.stream, id: e.id, type: e.type, data: e.isJson ? e.data : null, metadata: e.metadata });
          n++;
        }
      }
      if (n === 0) break;
      await (await p.beginCommit(this.db.con)).done;
      this.projectedEvents += n;
    }
  }

  /** Rows of a reading statement, cached until the projections move. `sql` is built by the server, never by a client. */
  rows(sql: string): Promise<Record<string, unknown>[]> {
    if (this.cachedAt !== this.projector.position) {
      this.cache = new Map();
      this.cachedAt = this.projector.position;
    }
    let hit = this.cache.get(sql);
    if (hit === undefined) {
      hit = queryRows(this.reader, sql);
      hit.catch(() => this.cache.delete(sql));
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(sql, hit);
    }
    return hit;
  }

  /** The read connection, for callers that need more than rows (the audit). */
  get connection(): DuckDBConnection {
    return this.reader;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    try {
      this.reader.closeSync();
    } finally {
      this.db.close();
    }
  }
}
