/**
 * One error style for the whole project: a stable code, a message a person can act on, and the place.
 * `where` names the file, line, byte offset or field path, whatever locates the fault.
 * A TapedeckError is an expected failure (bad input, wrong revision, corrupt bytes); the CLI prints it
 * without a stack trace. Anything else is a bug and keeps its stack.
 */
export interface ErrorPlace {
  file?: string;
  line?: number;
  offset?: number;
  segment?: string;
  field?: string;
  stream?: string;
  [key: string]: string | number | undefined;
}

/**
 * Every TapedeckError code, by area. A new code is added here first (the constructor takes only these),
 * and the commonest ones are explained for users in the README's table of exit codes and errors.
 */
export type TapedeckErrorCode =
  // the command line and configuration
  | 'CLI_SPEED' | 'CLI_TYPES' | 'CONFIG_INVALID' | 'CONFIG_READ' | 'CONFIRM_LIVE' | 'CREDENTIALS'
  | 'EXPECTED_REVISION' | 'FILE_NOT_FOUND' | 'FILE_UNREADABLE' | 'GEN_OPTION' | 'GZIP_CORRUPT' | 'INPUT_EMPTY'
  | 'INPUT_EVENT' | 'INPUT_JSON' | 'NO_SURVEY' | 'PATH_OUTSIDE' | 'SOURCE_KIND' | 'SOURCE_NOT_FOUND' | 'TIME_FORMAT'
  | 'TOKEN_FILE' | 'USAGE'
  // the event store
  | 'APPEND_TOO_LARGE' | 'COPY_DESTINATION_NOT_EMPTY' | 'COPY_DIVERGED' | 'COPY_FAILED' | 'COPY_REVISION'
  | 'COPY_SOURCE' | 'EVENT_DATA' | 'EVENT_DECODE' | 'EVENT_ID' | 'EVENT_INVALID' | 'EVENT_TYPE'
  | 'EVENT_UNKNOWN_TYPE' | 'KURRENTDB_ERROR' | 'KURRENTDB_POSITION' | 'KURRENTDB_REVISION' | 'MAX_COUNT'
  | 'NOT_A_STORE' | 'POSITION' | 'REVISION' | 'STORE_CORRUPT' | 'STORE_LOCATION' | 'STORE_LOCKED' | 'STORE_NOT_FOUND'
  | 'STORE_READ_ONLY' | 'STORE_UNAVAILABLE' | 'STORE_VERSION' | 'STREAM_DELETED' | 'STREAM_NAME' | 'STREAM_NOT_FOUND'
  | 'WRONG_EXPECTED_REVISION'
  // exact numbers, the catalogue, books, orders, risk, strategies and the kernel
  | 'BOOK_DEPTH' | 'BOOK_INSTRUMENT' | 'BOOK_LEVEL' | 'BOOK_NEGATIVE_QTY' | 'BOOK_SNAPSHOT_DUPLICATE'
  | 'BOOK_SNAPSHOT_SEQUENCE' | 'FIXED_DIV_ZERO' | 'FIXED_INEXACT' | 'FIXED_PARSE' | 'FIXED_PRECISION' | 'FIXED_RANGE'
  | 'FIXED_SCALE' | 'KERNEL_RUNAWAY' | 'ORDER_FILLS_MISSING' | 'ORDER_TRANSITION' | 'RISK_CONFIG' | 'SIM_HELD_FULL'
  | 'SIM_VENUE_CONFIG' | 'STRATEGY_FAILED' | 'STRATEGY_PARAMS' | 'STRATEGY_UNKNOWN' | 'UNKNOWN_VENUE'
  // runs, parity, projections, audit, rebuild and slippage
  | 'AUDIT_AMBIGUOUS' | 'AUDIT_NO_INTENT' | 'AUDIT_UNKNOWN_ORDER' | 'PROJECTIONS_BUSY' | 'PROJECTIONS_NOT_DUCKDB'
  | 'PROJECTIONS_NOT_FOUND' | 'PROJECTIONS_OPEN' | 'QUERY_EMPTY' | 'QUERY_FAILED' | 'QUERY_INVALID'
  | 'QUERY_MULTIPLE' | 'QUERY_READ_ONLY' | 'QUERY_SYNTAX' | 'QUERY_UNKNOWN_NAME' | 'REBUILD_POSITION'
  | 'RECONCILE_NO_BASELINE' | 'RUN_CONFIG_CHANGED' | 'RUN_ENDED' | 'RUN_MALFORMED' | 'RUN_NOT_FOUND'
  | 'SLIPPAGE_ZERO_PRICE' | 'INPUTS_MISSING' | 'INPUTS_CHANGED'
  // venues, feeds and captures
  | 'CAPTURE_EMPTY' | 'CAPTURE_LINE_TOO_LONG' | 'CAPTURE_MULTI_CONNECTION' | 'CAPTURE_NONE' | 'CAPTURE_NO_CONNECTION'
  | 'CAPTURE_READ' | 'CAPTURE_REUSED' | 'CAPTURE_SYNTAX' | 'CAPTURE_TRUNCATED' | 'CAPTURE_VENUE' | 'CLIENT_CLOSED'
  | 'CLIENT_NOT_CONNECTED' | 'CLIENT_ORDER_ID' | 'FEED_CLOSED' | 'FEED_CONFIG' | 'FRAME_BINARY' | 'FRAME_ENCODING'
  | 'FRAME_INVALID' | 'FRAME_JSON' | 'FRAME_TIME' | 'HTTP_STATUS' | 'INSTRUMENT_UNKNOWN' | 'KALSHI_KEY' | 'KALSHI_REQUEST'
  | 'POLYMARKET_ADDRESS'
  | 'POLYMARKET_AMOUNT' | 'POLYMARKET_CHAIN' | 'POLYMARKET_EXCHANGE' | 'POLYMARKET_KEY' | 'POLYMARKET_ORDER_VERSION'
  | 'POLYMARKET_PRICE' | 'POLYMARKET_SECRET' | 'POLYMARKET_TICK' | 'REPLAY_CLIENT' | 'REPLAY_CONNECTIONS'
  | 'REPLAY_SPEED' | 'UNKNOWN_INSTRUMENT' | 'UNKNOWN_ORDER' | 'VENUE_CONFIG' | 'VENUE_CREDENTIALS'
  | 'VENUE_DISCONNECTED' | 'VENUE_ERROR' | 'VENUE_MISMATCH' | 'VENUE_NOT_SENT' | 'VENUE_QUERY'
  | 'VENUE_QUERY_TIMEOUT' | 'VENUE_QUERY_UNAVAILABLE' | 'VENUE_TRADE' | 'VENUE_UNAVAILABLE' | 'VENUE_UNKNOWN'
  // NASDAQ protocols (ITCH, OUCH, SoupBinTCP, MoldUDP64, BinaryFILE)
  | 'BINARYFILE_TRUNCATED' | 'ITCH_BUFFER' | 'ITCH_DATE' | 'ITCH_FIELD' | 'ITCH_LENGTH_MISMATCH' | 'ITCH_MORE_ERRORS'
  | 'ITCH_RANGE' | 'ITCH_TRUNCATED' | 'ITCH_UNKNOWN_STOCK' | 'ITCH_UNKNOWN_TYPE' | 'MOLD_FIELD'
  | 'MOLD_TRAILING_BYTES' | 'MOLD_TRUNCATED' | 'OUCH_BUFFER' | 'OUCH_CODE' | 'OUCH_DUPLICATE_ORDER' | 'OUCH_EMPTY'
  | 'OUCH_FIELD' | 'OUCH_INSTRUMENT' | 'OUCH_LENGTH' | 'OUCH_PRICE' | 'OUCH_QTY' | 'OUCH_REPLACE'
  | 'OUCH_REPLACE_IN_FLIGHT' | 'OUCH_TEXT' | 'OUCH_TOKEN' | 'OUCH_UNKNOWN_ORDER' | 'OUCH_UNKNOWN_TYPE'
  | 'SOUP_BUFFER' | 'SOUP_CLOSED' | 'SOUP_CONFIG' | 'SOUP_CONNECT' | 'SOUP_DISCONNECTED' | 'SOUP_FIELD'
  | 'SOUP_FRAME_LENGTH' | 'SOUP_GAP' | 'SOUP_LENGTH' | 'SOUP_LISTEN' | 'SOUP_LOGIN_REJECTED' | 'SOUP_LOGIN_TIMEOUT'
  | 'SOUP_NOT_CONNECTED' | 'SOUP_RECONNECT_FAILED' | 'SOUP_SESSION_ENDED' | 'SOUP_SESSION_FULL' | 'SOUP_STATE'
  | 'SOUP_TIMEOUT' | 'SOUP_TOO_LONG' | 'SOUP_TRUNCATED' | 'SOUP_UNEXPECTED_TYPE' | 'SOUP_UNKNOWN_TYPE'
  // datasets and the catalog
  | 'CATALOG_CHECKSUM' | 'CATALOG_EVENT_TYPE' | 'CATALOG_FILE_MISSING' | 'CATALOG_ID' | 'CATALOG_MANIFEST'
  | 'CATALOG_NOT_FOUND' | 'CATALOG_ORDER' | 'CATALOG_REUSED' | 'CSV_BAD_ROWS' | 'CSV_KIND' | 'CSV_READ' | 'CSV_ROW'
  | 'CSV_SYMBOL' | 'IMPORT_EMPTY' | 'IMPORT_FORMAT' | 'IMPORT_NOT_FOUND' | 'IMPORT_VENUE'
  // the bus (Kafka)
  | 'BUS_RECORD_INVALID' | 'BUS_UNAVAILABLE' | 'TOPIC_NOT_FOUND' | 'TOPIC_PARTITIONS';

export class TapedeckError extends Error {
  readonly code: TapedeckErrorCode;
  readonly where: ErrorPlace | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: TapedeckErrorCode, message: string, where?: ErrorPlace, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TapedeckError';
    this.code = code;
    this.where = where;
    this.details = details;
  }

  /** `code: message (at file:line, field x)`, the one-line form the CLI prints. */
  describe(): string {
    const place = this.where ? describePlace(this.where) : '';
    return `${this.code}: ${this.message}${place ? ` (${place})` : ''}`;
  }
}

export function describePlace(where: ErrorPlace): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.line !== undefined ? `${where.file}:${where.line}` : where.file);
  else if (where.line !== undefined) parts.push(`line ${where.line}`);
  for (const [k, v] of Object.entries(where)) {
    if (k === 'file' || k === 'line' || v === undefined) continue;
    parts.push(`${k} ${v}`);
  }
  return parts.join(', ');
}

export function isTapedeckError(e: unknown): e is TapedeckError {
  return e instanceof TapedeckError;
}

/** Assertions state what must be true; a failed one is a bug, not user error. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
