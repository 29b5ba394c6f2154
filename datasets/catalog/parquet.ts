/**
 * Catalogue envelopes ⇄ Parquet.
 *
 * Writing: envelopes are buffered column-wise (projections/columns.ts) into an in-memory DuckDB table
 * and written with `COPY ... TO 'part.parquet' (FORMAT parquet)`, one part file per `partRows` events,
 * so memory stays bounded whatever the size of the source. Every envelope is kept whole: `data` as the
 * catalogue's JSON (bigint as strings), `raw` as a BLOB; common fields (instrument, price, quantity,
 * side, times) are also typed columns for analytics (`SELECT sum(qty_lots) ... FROM 'events-*.parquet'`).
 *
 * Reading: DuckDB scans the Parquet file and hands over 2048-row data chunks; each chunk becomes an
 * Apache Arrow RecordBatch (numeric columns are typed arrays, copied once out of DuckDB's vectors),
 * and envelopes are built from the batch's columns, not from an intermediate object per row.
 */
import duckdb from '@duckdb/node-bindings';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Binary, Int32, Int64, RecordBatch, Utf8, makeData, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import { TapedeckError } from '../../domain/core/errors.js';
import { CATALOG, isEventType } from '../../domain/events/catalog.js';
import { parsePayload, toJsonValue, type AnyEnvelope, type EventEnvelope, type RawBytes } from '../../domain/events/envelope.js';
import { TableBuffer, createTableSql, type TableSpec } from '../../projections/columns.js';
import { sqlString } from '../../projections/db.js';
import { duckdbApi } from '../../projections/duckdb.js';

export const EVENTS_SPEC: TableSpec = {
  name: 'events',
  about: 'catalogue envelopes in source order',
  key: ['seq'],
  upsert: false,
  columns: [
    { name: 'seq', kind: 'bigint' },
    { name: 'id', kind: 'text' },
    { name: 'type', kind: 'text' },
    { name: 'schema_version', kind: 'int' },
    { name: 'stream', kind: 'text' },
    { name: 'event_time_ns', kind: 'bigint' },
    { name: 'receive_time_ns', kind: 'bigint' },
    { name: 'causation_id', kind: 'text', nullable: true },
    { name: 'correlation_id', kind: 'text', nullable: true },
    { name: 'venue', kind: 'text', nullable: true },
    { name: 'instrument', kind: 'text', nullable: true },
    { name: 'side', kind: 'text', nullable: true },
    { name: 'price_ticks', kind: 'bigint', nullable: true },
    { name: 'qty_lots', kind: 'bigint', nullable: true },
    { name: 'price_scale', kind: 'int', nullable: true },
    { name: 'qty_scale', kind: 'int', nullable: true },
    { name: 'data', kind: 'text' },
    { name: 'raw_format', kind: 'text', nullable: true },
    { name: 'raw', kind: 'blob', nullable: true },
  ],
};

export interface PartFile {
  /** File name inside the dataset directory. */
  path: string;
  rows: number;
}

async function memoryDb(): Promise<{ instance: DuckDBInstance; con: DuckDBConnection }> {
  const instance = await duckdbApi.DuckDBInstance.create(':memory:', { threads: '2' });
  return { instance, con: await instance.connect() };
}

/** Writes rows of one TableSpec as numbered Parquet parts. */
export class ParquetPartWriter {
  private db: { instance: DuckDBInstance; con: DuckDBConnection } | null = null;
  readonly buffer: TableBuffer;
  readonly parts: PartFile[] = [];
  private inTable = 0;

  constructor(readonly spec: TableSpec, private readonly dir: string, private readonly prefix: string, private readonly partRows = 1_000_000) {
    this.buffer = new TableBuffer(spec);
  }

  private async con(): Promise<DuckDBConnection> {
    if (this.db === null) {
      this.db = await memoryDb();
      await this.db.con.run(createTableSql(this.spec));
    }
    return this.db.con;
  }

  /** Moves buffered rows into DuckDB; call every few thousand rows. Writes a part when it is full. */
  async drain(): Promise<void> {
    if (this.buffer.length === 0) return;
    const con = await this.con();
    this.inTable += await this.buffer.flushTo(con);
    if (this.inTable >= this.partRows) await this.writePart();
  }

  private async writePart(): Promise<void> {
    if (this.inTable === 0) return;
    const con = await this.con();
    const name = `${this.prefix}-${String(this.parts.length).padStart(5, '0')}.parquet`;
    const file = `${this.dir}/${name}`;
    await con.run(`COPY "${this.spec.name}" TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
    await con.run(`DELETE FROM "${this.spec.name}"`);
    this.parts.push({ path: name, rows: this.inTable });
    this.inTable = 0;
  }

  async finish(): Promise<PartFile[]> {
    await this.drain();
    await this.writePart();
    this.close();
    return this.parts;
  }

  close(): void {
    if (this.db !== null) {
      this.db.con.closeSync();
      this.db.instance.closeSync();
      this.db = null;
    }
  }
}

/** The typed analytic columns of an envelope: venue, instrument, side, price, quantity. */
function analyticCells(env: AnyEnvelope): [string | null, string | null, string | null, number | null, number | null, number | null, number | null] {
  const d = env.data as Record<string, unknown>;
  const venue = typeof d.venue === 'string' ? d.venue : null;
  const instrument = typeof d.instrument === 'string' ? d.instrument : null;
  const side = typeof d.side === 'string' ? d.side : env.type === 'TradeReported' ? (d.aggressor as string) : null;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  let qty = num(d.qtyLots);
  if (env.type === 'BookOrderExecuted') qty = num(d.executedLots);
  if (env.type === 'BookOrderCanceled') qty = num(d.canceledLots);
  return [venue, instrument, side, num(d.priceTicks), qty, num(d.priceScale), num(d.qtyScale)];
}

/** Appends one envelope as a row of EVENTS_SPEC. */
export function addEnvelopeRow(buf: TableBuffer, seq: number, env: AnyEnvelope): void {
  const [venue, instrument, side, price, qty, ps, qs] = analyticCells(env);
  buf.add(
    seq, env.id, env.type, env.schemaVersion, env.stream, env.eventTimeNs, env.receiveTimeNs, env.causationId, env.correlationId,
    venue, instrument, side, price, qty, ps, qs, JSON.stringify(toJsonValue(env.data)), env.raw?.format ?? null, env.raw?.bytes ?? null,
  );
}

// ---------------------------------------------------------------- reading

export interface ReadOptions {
  /** SQL condition on the event columns (e.g. instrument filter); trusted text from our own callers. */
  where?: string;
  columns?: string[];
}

/**
 * Parquet parts as Arrow RecordBatches (one per DuckDB chunk, 2048 rows), in file order. The caller
 * verified the files first.
 */
export async function* readParquetBatches(files: string[], options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  if (files.length === 0) return;
  const db = await memoryDb();
  try {
    const cols = options.columns ?? EVENTS_SPEC.columns.map((c) => c.name);
    const kinds = cols.map((c) => EVENTS_SPEC.columns.find((s) => s.name === c)?.kind ?? 'text');
    for (const file of files) {
      const sql = `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM read_parquet(${sqlString(file)})${options.where ? ` WHERE ${options.where}` : ''}`;
      const result = await db.con.stream(sql);
      while (true) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        const vectors: Record<string, Data> = {};
        for (let c = 0; c < cols.length; c++) {
          const kind = kinds[c]!;
          const raw = duckdb.data_chunk_get_vector(chunk.chunk, c);
          const valid = validityOf(raw, n);
          if (kind === 'bigint') {
            const bytes = duckdb.vector_get_data(raw, n * 8);
            const values = new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
            vectors[cols[c]!] = makeData({ type: new Int64(), length: n, data: values, nullBitmap: valid });
          } else if (kind === 'int') {
            const bytes = duckdb.vector_get_data(raw, n * 4);
            const values = new Int32Array(bytes.buffer, bytes.byteOffset, n);
            vectors[cols[c]!] = makeData({ type: new Int32(), length: n, data: values, nullBitmap: valid });
          } else {
            const v = chunk.getColumnVector(c);
            const items: Array<string | Uint8Array | null> = new Array(n);
            for (let i = 0; i < n; i++) {
              const x = v.getItem(i) as unknown;
              items[i] = x === null ? null : kind === 'blob' ? (x as { bytes: Uint8Array }).bytes : String(x);
            }
            vectors[cols[c]!] = vectorFromArray(items, kind === 'blob' ? new Binary() : new Utf8()).data[0]!;
          }
        }
        yield new RecordBatch(vectors);
      }
    }
  } finally {
    db.con.closeSync();
    db.instance.closeSync();
  }
}

/** DuckDB's validity mask (64-bit words, bit set = valid) as Arrow's null bitmap (same bit order), or undefined when all valid. */
function validityOf(vector: duckdb.Vector, n: number): Uint8Array | undefined {
  const words = Math.ceil(n / 64);
  const bytes = duckdb.vector_get_validity(vector, words * 8) as Uint8Array | null;
  if (!bytes) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, Math.ceil(n / 8));
}

const MARKET_PLAIN = new Set(Object.entries(CATALOG).filter(([, v]) => v.category === 'market').map(([k]) => k));

/** Envelopes from event batches: same ids, same order, same payloads as when they were written. */
export async function* envelopesFromBatches(batches: AsyncIterable<RecordBatch>, stream?: string): AsyncGenerator<AnyEnvelope> {
  let lastSeq = -1n;
  for await (const b of batches) {
    const col = <T>(name: string): Vector<any> => {
      const v = b.getChild(name);
      if (v === null) throw new Error(`invariant violated: column ${name} missing`);
      return v as Vector<any> & { __t?: T };
    };
    const seq = col('seq').toArray() as BigInt64Array;
    const ids = col('id').toArray() as string[];
    const types = col('type').toArray() as string[];
    const versions = col('schema_version').toArray() as Int32Array;
    const streams = col('stream').toArray() as string[];
    const et = col('event_time_ns').toArray() as BigInt64Array;
    const rt = col('receive_time_ns').toArray() as BigInt64Array;
    const cause = col('causation_id');
    const corr = col('correlation_id');
    const data = col('data').toArray() as string[];
    const rawFormat = col('raw_format');
    const raw = col('raw');
    for (let i = 0; i < b.numRows; i++) {
      if (seq[i]! <= lastSeq) throw new TapedeckError('CATALOG_ORDER', `events are out of order at seq ${seq[i]} (after ${lastSeq})`);
      lastSeq = seq[i]!;
      const type = types[i]!;
      if (!isEventType(type)) throw new TapedeckError('CATALOG_EVENT_TYPE', `unknown event type "${type}" at seq ${seq[i]}`);
      const parsed = JSON.parse(data[i]!) as unknown;
      // Market payloads have no bigint or defaulted fields: the JSON is the payload. Others go through the schema.
      const payload = MARKET_PLAIN.has(type) ? parsed : parsePayload(type, parsed, { seq: Number(seq[i]) });
      const env: EventEnvelope = {
        id: ids[i]!, type, schemaVersion: versions[i]!, stream: stream ?? streams[i]!, eventTimeNs: et[i]!, receiveTimeNs: rt[i]!,
        causationId: (cause.get(i) as string | null) ?? null, correlationId: (corr.get(i) as string | null) ?? null, data: payload as never,
      };
      const rf = rawFormat.get(i) as string | null;
      if (rf !== null) env.raw = { format: rf as RawBytes['format'], bytes: raw.get(i) as Uint8Array };
      yield env as AnyEnvelope;
    }
  }
}
