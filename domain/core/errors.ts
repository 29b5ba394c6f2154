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

export class TapedeckError extends Error {
  readonly code: string;
  readonly where: ErrorPlace | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, where?: ErrorPlace, details?: Record<string, unknown>) {
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
