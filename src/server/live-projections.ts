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
import { foldBatch, prepareDb } from '../../projections/catchup.js';
import { openDbWithRetry, queryRows, type OpenDb } from '../../projections/db.js';
import { Projector } from '../../projections/projector.js';
import type { EventStore } from '../store/port.js';

const BATCH_EVENTS = 50_000;
const CACHE_MAX = 512;

export class LiveProjections {
  private readonly projector = new Projector();
  private running: Promise<void> | null = null;
  private again = false;
  private readonly cache = new Map<string, { position: number; value: Promise<Record<string, unknown>[]> | null; refreshing: Promise<Record<string, unknown>[]> | null }>();
  /** Events folded and committed since the server started (for the projected-events counter). */
  projectedEvents = 0;
  lastError: string | null = null;
  private closed = false;

  private next = 0;

  /** `readers`: connections answering reads, round robin (one DuckDB connection runs one query at a time). */
  private constructor(private readonly store: EventStore, private readonly db: OpenDb, private readonly readers: DuckDBConnection[]) {}

  static async open(store: EventStore, dbPath: string, readers = 4): Promise<LiveProjections> {
    const db = await openDbWithRetry(dbPath, { threads: 2 });
    await prepareDb(db);
    const cons: DuckDBConnection[] = [];
    for (let i = 0; i < readers; i++) cons.push(await db.instance.connect());
    const p = new LiveProjections(store, db, cons);
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
      // The store's raw scan when it offers one, else readAll from the checkpoint (positions may be sparse).
      const n = await foldBatch(this.store, p, head, BATCH_EVENTS);
      if (n === 0) break;
      await (await p.beginCommit(this.db.con)).done;
      this.projectedEvents += n;
    }
  }

  /**
   * Rows of a reading statement (`sql` is built by the server, never by a client). Answers are cached
   * per statement: while the projections have not moved, the cached answer is served; once they move,
   * the first caller after that starts a fresh query and, until it lands, callers get the previous
   * answer (stale while revalidating, at most one checkpoint old: every answer says its position).
   */
  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.rowsAt(sql).then((r) => r.rows);
  }

  /** `rows`, with the position of the log the answer reflects. */
  async rowsAt(sql: string): Promise<{ position: number; rows: Record<string, unknown>[] }> {
    const at = this.projector.position;
    const hit = this.cache.get(sql);
    if (hit && (hit.position === at || hit.refreshing !== null)) {
      if (hit.value !== null) return { position: hit.position, rows: await hit.value };
      return { position: at, rows: await hit.refreshing! };
    }
    const q = queryRows(this.readers[this.next++ % this.readers.length]!, sql);
    const entry = hit ?? { position: at, value: null, refreshing: null };
    entry.refreshing = q;
    if (!hit) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(sql, entry);
    }
    q.then((rows) => {
      entry.value = Promise.resolve(rows);
      entry.position = at;
      entry.refreshing = null;
    }, () => {
      entry.refreshing = null;
      if (entry.value === null) this.cache.delete(sql);
    });
    if (entry.value !== null) return { position: entry.position, rows: await entry.value };
    return { position: at, rows: await q };
  }

  /** The answer of `rows` that is current (waits for a fresh one): for tests and checks. */
  fresh(sql: string): Promise<Record<string, unknown>[]> {
    return queryRows(this.readers[this.next++ % this.readers.length]!, sql);
  }

  /** The read connection, for callers that need more than rows (the audit). */
  get connection(): DuckDBConnection {
    return this.readers[0]!;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    try {
      for (const c of this.readers) c.closeSync();
    } finally {
      this.db.close();
    }
  }
}
