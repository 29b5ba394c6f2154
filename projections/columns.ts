/**
 * Column-wise row buffers and the bulk path into DuckDB.
 *
 * Rows are collected per table column by column (numbers in typed arrays, strings in arrays) and
 * written 2048 rows at a time as DuckDB data chunks through an appender: a numeric column is ONE
 * memory copy into the chunk's vector, a string column a few native calls (see `textColumn`). The
 * row-wise appender (`appendBigInt` ... `endRow`) pays a native call per value. The raw bindings
 * (`@duckdb/node-bindings`, the library under `@duckdb/node-api`) are used for the copies because the
 * public vector wrappers copy each value once more.
 *
 * Exactness: DECIMAL columns are DECIMAL(38, 18), written from bigint mantissas rescaled to 18 decimal
 * places (exact for every scale <= 18, which is every price, quantity and fee scale the catalogue
 * allows; products of two scales above 18 are rounded half-even, see `toDec18`).
 */
import duckdb from '@duckdb/node-bindings';
import type { DuckDBAppender, DuckDBConnection, DuckDBDataChunk as DataChunk, DuckDBType } from '@duckdb/node-api';
import { divRound, pow10 } from '../domain/core/fixed.js';
import { duckdbApi } from './duckdb.js';

const { DuckDBDataChunk, BIGINT, BLOB, BOOLEAN, DECIMAL, HUGEINT, INTEGER, TIMESTAMP_NS, VARCHAR } = duckdbApi;

export type ColumnKind = 'bigint' | 'int' | 'bool' | 'text' | 'dec' | 'ts' | 'hugeint' | 'blob';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  nullable?: boolean;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  /** Key columns: the deterministic ORDER BY for exports, and the upsert key for tables that change. */
  key: string[];
  /** Rows change after they are written (current-state tables): written by delete + insert of the key. */
  upsert: boolean;
  /** One line for `describe` output and the README. */
  about: string;
}

export const DEC_SCALE = 18;
const DEC_POW: bigint[] = Array.from({ length: DEC_SCALE + 1 }, (_, s) => pow10(DEC_SCALE - s));

/** A mantissa at `scale` as a DECIMAL(38,18) mantissa. Exact for scale <= 18; half-even above. */
export function toDec18(mantissa: bigint | number, scale: number): bigint {
  const m = typeof mantissa === 'bigint' ? mantissa : BigInt(mantissa);
  if (scale <= DEC_SCALE) return m * DEC_POW[scale]!;
  return divRound(m, pow10(scale - DEC_SCALE), 'half-even');
}

export function sqlType(kind: ColumnKind): string {
  switch (kind) {
    case 'bigint': return 'BIGINT';
    case 'int': return 'INTEGER';
    case 'bool': return 'BOOLEAN';
    case 'text': return 'VARCHAR';
    case 'dec': return `DECIMAL(38, ${DEC_SCALE})`;
    case 'ts': return 'TIMESTAMP_NS';
    case 'hugeint': return 'HUGEINT';
    case 'blob': return 'BLOB';
  }
}

function duckType(kind: ColumnKind): DuckDBType {
  switch (kind) {
    case 'bigint': return BIGINT;
    case 'int': return INTEGER;
    case 'bool': return BOOLEAN;
    case 'text': return VARCHAR;
    case 'dec': return DECIMAL(38, DEC_SCALE);
    case 'ts': return TIMESTAMP_NS;
    case 'hugeint': return HUGEINT;
    case 'blob': return BLOB;
  }
}

export function createTableSql(spec: TableSpec, name = spec.name, temp = false): string {
  const cols = spec.columns.map((c) => `  "${c.name}" ${sqlType(c.kind)}${c.nullable ? '' : ' NOT NULL'}`).join(',\n');
  return `CREATE ${temp ? 'TEMP ' : ''}TABLE IF NOT EXISTS "${name}" (\n${cols}\n)`;
}

export type Cell = number | bigint | string | boolean | Uint8Array | null;

const CHUNK = 2048;

/** Column kinds as small integers for the per-cell dispatch. */
const K_I64 = 0;
const K_I32 = 1;
const K_BOOL = 2;
const K_I128 = 3;
const K_TEXT = 4;
const K_BLOB = 5;

function kindCode(kind: ColumnKind): number {
  switch (kind) {
    case 'bigint': case 'ts': return K_I64;
    case 'int': return K_I32;
    case 'bool': return K_BOOL;
    case 'dec': case 'hugeint': return K_I128;
    case 'text': return K_TEXT;
    case 'blob': return K_BLOB;
  }
}

/** One column's cells: numbers in the typed array DuckDB's vector takes as is, strings and blobs in an array. */
interface Column {
  kind: number;
  /** 64-bit cells (K_I64), or two per row, low then high (K_I128). */
  i64: BigInt64Array;
  i32: Int32Array;
  u8: Uint8Array;
  refs: Cell[];
  /** 1 where the cell is null. */
  nulls: Uint8Array;
  nullCount: number;
}

const INITIAL_ROWS = 1024;

/**
 * Rows for one table, column by column. `add(...)` takes the cells in column order. Rows are sent to
 * DuckDB by `flushTo` (within the caller's transaction) and the buffer is emptied.
 *
 * Numeric cells go straight into typed arrays laid out as DuckDB's vectors are (int64, int32, bool
 * bytes, 128-bit little endian): no boxed bigint stays alive on the JS heap until the flush (the
 * garbage collector would copy each one twice), and a chunk's column is ONE memory copy.
 */
export class TableBuffer {
  length = 0;
  private capacity = INITIAL_ROWS;
  private readonly columns: Column[];
  private chunk: DataChunk | null = null;
  private readonly validity = new BigUint64Array(CHUNK / 64);
  private readonly str16 = new Uint8Array(CHUNK * 16);
  private readonly str32 = new Uint32Array(this.str16.buffer);
  private arena = new Uint8Array(64 * 1024);
  private readonly longAt = new Int32Array(CHUNK);
  private readonly longOff = new Int32Array(CHUNK);

  constructor(readonly spec: TableSpec) {
    this.columns = spec.columns.map((c) => {
      const kind = kindCode(c.kind);
      const n = this.capacity;
      return {
        kind,
        i64: new BigInt64Array(kind === K_I64 ? n : kind === K_I128 ? 2 * n : 0),
        i32: new Int32Array(kind === K_I32 ? n : 0),
        u8: new Uint8Array(kind === K_BOOL ? n : 0),
        refs: [],
        nulls: new Uint8Array(n),
        nullCount: 0,
      };
    });
  }

  private grow(): void {
    const n = this.capacity * 2;
    for (const col of this.columns) {
      const grow64 = (a: BigInt64Array, size: number): BigInt64Array => {
        const b = new BigInt64Array(size);
        b.set(a);
        return b;
      };
      if (col.kind === K_I64) col.i64 = grow64(col.i64, n);
      else if (col.kind === K_I128) col.i64 = grow64(col.i64, 2 * n);
      else if (col.kind === K_I32) {
        const b = new Int32Array(n);
        b.set(col.i32);
        col.i32 = b;
      } else if (col.kind === K_BOOL) {
        const b = new Uint8Array(n);
        b.set(col.u8);
        col.u8 = b;
      }
      const nb = new Uint8Array(n);
      nb.set(col.nulls);
      col.nulls = nb;
    }
    this.capacity = n;
  }

  private put(col: Column, row: number, v: Cell | undefined): void {
    if (v === null || v === undefined) {
      col.nulls[row] = 1;
      col.nullCount++;
      switch (col.kind) {
        case K_I64: col.i64[row] = 0n; break;
        case K_I32: col.i32[row] = 0; break;
        case K_BOOL: col.u8[row] = 0; break;
        case K_I128: col.i64[2 * row] = 0n; col.i64[2 * row + 1] = 0n; break;
        default: col.refs.push(null);
      }
      return;
    }
    col.nulls[row] = 0;
    switch (col.kind) {
      case K_I64:
        col.i64[row] = typeof v === 'bigint' ? v : BigInt(v as number);
        return;
      case K_I32:
        col.i32[row] = v as number;
        return;
      case K_BOOL:
        col.u8[row] = v ? 1 : 0;
        return;
      case K_I128: {
        // 128-bit little endian: low 64 bits (unsigned) then high 64 bits (signed).
        if (typeof v === 'number') {
          col.i64[2 * row] = BigInt(v);
          col.i64[2 * row + 1] = v < 0 ? -1n : 0n;
        } else {
          const b = v as bigint;
          col.i64[2 * row] = BigInt.asIntN(64, b);
          col.i64[2 * row + 1] = b >> 64n;
        }
        return;
      }
      default:
        col.refs.push(v);
    }
  }

  /** Appends one row; cells in column order. */
  add(...cells: Cell[]): void {
    const row = this.length;
    if (row === this.capacity) this.grow();
    const cols = this.columns;
    for (let c = 0; c < cols.length; c++) this.put(cols[c]!, row, cells[c]);
    this.length = row + 1;
  }

  /** Appends one row from an object keyed by column name (slow path, for rare rows). */
  addObject(row: Record<string, Cell | undefined>): void {
    const r = this.length;
    if (r === this.capacity) this.grow();
    const cols = this.columns;
    const spec = this.spec.columns;
    for (let c = 0; c < cols.length; c++) this.put(cols[c]!, r, row[spec[c]!.name]);
    this.length = r + 1;
  }

  clear(): void {
    for (const c of this.columns) {
      c.refs.length = 0;
      c.nullCount = 0;
    }
    this.length = 0;
  }

  /** Writes every buffered row through an appender on `con` into `table` (default: the spec's table), then clears. */
  async flushTo(con: DuckDBConnection, table = this.spec.name, catalog: string | null = null): Promise<number> {
    const n = this.length;
    if (n === 0) return 0;
    const app = await con.createAppender(table, null, catalog);
    try {
      for (let from = 0; from < n; from += CHUNK) this.appendChunk(app, from, Math.min(CHUNK, n - from));
      app.flushSync();
    } finally {
      app.closeSync();
    }
    this.clear();
    return n;
  }

  private appendChunk(app: DuckDBAppender, from: number, count: number): void {
    if (this.chunk === null) this.chunk = DuckDBDataChunk.create(this.spec.columns.map((c) => duckType(c.kind)));
    const raw = this.chunk.chunk;
    duckdb.data_chunk_reset(raw);
    const specs = this.spec.columns;
    const validity = this.validity;
    for (let c = 0; c < specs.length; c++) {
      const spec = specs[c]!;
      const col = this.columns[c]!;
      const vector = duckdb.data_chunk_get_vector(raw, c);
      let nulls = 0;
      if (spec.nullable) validity.fill(0xffffffffffffffffn);
      if (col.nullCount > 0) {
        const nb = col.nulls;
        for (let i = 0; i < count; i++) {
          if (nb[from + i] === 1) {
            nulls++;
            validity[i >> 6]! &= ~(1n << BigInt(i & 63));
          }
        }
      }
      switch (col.kind) {
        case K_I64:
          duckdb.copy_data_to_vector(vector, 0, col.i64.buffer as ArrayBuffer, from * 8, count * 8);
          break;
        case K_I32:
          duckdb.copy_data_to_vector(vector, 0, col.i32.buffer as ArrayBuffer, from * 4, count * 4);
          break;
        case K_BOOL:
          duckdb.copy_data_to_vector(vector, 0, col.u8.buffer as ArrayBuffer, from, count);
          break;
        case K_I128:
          duckdb.copy_data_to_vector(vector, 0, col.i64.buffer as ArrayBuffer, from * 16, count * 16);
          break;
        case K_BLOB: {
          const values = col.refs;
          for (let i = 0; i < count; i++) {
            const v = values[from + i];
            if (v !== null && v !== undefined) duckdb.vector_assign_string_element_len(vector, i, v as Uint8Array);
          }
          break;
        }
        default:
          this.textColumn(vector, col.refs, from, count);
      }
      if (nulls > 0 && !spec.nullable) throw new Error(`invariant violated: null in NOT NULL column ${this.spec.name}.${spec.name}`);
      if (spec.nullable) {
        // Always written for nullable columns: the chunk is reused, so an old mask must not linger.
        duckdb.vector_ensure_validity_writable(vector);
        duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer, 0, Math.ceil(count / 64) * 8);
      }
    }
    duckdb.data_chunk_set_size(raw, count);
    app.appendDataChunk(this.chunk);
  }

  /**
   * A VARCHAR vector in three native calls instead of one per value. DuckDB's string_t (duckdb.h,
   * `duckdb_string_t`) is 16 bytes: a uint32 length, then either up to 12 bytes inline (zero padded)
   * or a 4-byte prefix and a pointer to the bytes. Short strings (sides, states, venues, instruments,
   * run ids) are laid out inline here. Longer ones (ids) are packed into one arena that is assigned
   * natively as a single string, so DuckDB copies it into the vector's own string heap; its address
   * is read back and every long string becomes a pointer into that copy. The heap lives until the
   * chunk is reset, after the appender has copied the rows. Then the whole vector is ONE copy.
   */
  private textColumn(vector: duckdb.Vector, values: Cell[], from: number, count: number): void {
    const out = this.str16;
    const out32 = this.str32;
    let arena = this.arena;
    let used = 0;
    let longs = 0;
    const longAt = this.longAt;
    const longOff = this.longOff;
    // A value equal to the previous row's (run ids, venues, states) reuses its encoding.
    let prev: string | null = null;
    let prevSlot = 0;
    let prevOff = -1;
    for (let i = 0; i < count; i++) {
      const cell = values[from + i];
      const o = i << 4;
      if (cell === null || cell === undefined) {
        out.fill(0, o, o + 16);
        continue;
      }
      const v = typeof cell === 'string' ? cell : String(cell);
      if (v === prev) {
        const q = o >> 2;
        out32[q] = out32[prevSlot]!;
        out32[q + 1] = out32[prevSlot + 1]!;
        out32[q + 2] = out32[prevSlot + 2]!;
        out32[q + 3] = out32[prevSlot + 3]!;
        if (prevOff >= 0) {
          longAt[longs] = i;
          longOff[longs++] = prevOff;
        }
        continue;
      }
      prev = v;
      prevSlot = o >> 2;
      prevOff = -1;
      const n = v.length;
      if (n <= 12 && writeInlineAscii(out, o, v)) continue;
      if (used + 3 * n > arena.length) {
        // Room for the worst case (3 UTF-8 bytes per UTF-16 unit).
        const bigger = new Uint8Array(Math.max(arena.length * 2, used + 3 * n));
        bigger.set(arena.subarray(0, used));
        arena = this.arena = bigger;
      }
      let bytes: Buffer | null = null;
      let len = n;
      for (let k = 0; k < n; k++) {
        const ch = v.charCodeAt(k);
        if (ch > 127) {
          bytes = Buffer.from(v, 'utf8');
          len = bytes.length;
          break;
        }
        arena[used + k] = ch;
      }
      if (len <= 12) {
        // Non-ASCII but short enough to inline.
        out.fill(0, o, o + 16);
        out32[o >> 2] = len;
        out.set(bytes!, o + 4);
        continue;
      }
      if (bytes !== null) arena.set(bytes, used);
      out32[o >> 2] = len;
      out[o + 4] = arena[used]!;
      out[o + 5] = arena[used + 1]!;
      out[o + 6] = arena[used + 2]!;
      out[o + 7] = arena[used + 3]!;
      longAt[longs] = i;
      longOff[longs++] = used;
      prevOff = used;
      used += len;
    }
    if (longs > 0) {
      // The arena is > 12 bytes (it holds a long string), so DuckDB stores it out of line.
      duckdb.vector_assign_string_element_len(vector, 0, arena.subarray(0, used));
      const head = duckdb.vector_get_data(vector, 16);
      const view = new DataView(head.buffer, head.byteOffset, 16);
      const baseLo = view.getUint32(8, true);
      const baseHi = view.getUint32(12, true);
      for (let k = 0; k < longs; k++) {
        const w = (longAt[k]! << 2) + 2;
        const lo = baseLo + longOff[k]!;
        out32[w] = lo >>> 0;
        out32[w + 1] = baseHi + (lo >= 0x100000000 ? 1 : 0);
      }
    }
    duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, count * 16);
  }
}

/** Writes `v` as an inline string_t at out[o]; false (slot partly written, the caller rewrites it) unless every char is ASCII. */
function writeInlineAscii(out: Uint8Array, o: number, v: string): boolean {
  const n = v.length;
  let k = 0;
  for (; k < n; k++) {
    const ch = v.charCodeAt(k);
    if (ch > 127) return false;
    out[o + 4 + k] = ch;
  }
  for (; k < 12; k++) out[o + 4 + k] = 0;
  out[o] = n;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = 0;
  return true;
}
