/**
 * One CLI style: every action goes through `action()`, which turns a TapedeckError (a user mistake or
 * bad input) into one line on stderr and exit code 2 (1 for the few codes that report a failed check), with no stack trace. Anything else is a bug:
 * it prints its stack and exits 70. `--json` output goes to stdout as one JSON document or JSON lines.
 */
import { isTapedeckError } from '../../domain/core/errors.js';
import { toJsonValue } from '../../domain/events/envelope.js';

export const EXIT_CHECK_FAILED = 1;
export const EXIT_USER_ERROR = 2;
export const EXIT_INTERNAL = 70;

export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      process.exitCode = reportError(e);
    }
  };
}

/** Errors that report a failed check (exit 1), not a mistake in what was asked: the data a run referenced changed. */
const CHECK_FAILED_CODES: ReadonlySet<string> = new Set(['INPUTS_CHANGED']);

export function reportError(e: unknown): number {
  if (e instanceof ExitCode) return e.code;
  if (isTapedeckError(e)) {
    process.stderr.write(`tapedeck: error ${e.describe()}\n`);
    return CHECK_FAILED_CODES.has(e.code) ? EXIT_CHECK_FAILED : EXIT_USER_ERROR;
  }
  process.stderr.write(`tapedeck: internal error (a bug, please report it):\n${e instanceof Error ? e.stack : String(e)}\n`);
  return EXIT_INTERNAL;
}

/**
 * An answer given from partial data: says so in one line on stderr and returns the exit code to throw
 * (1), after the command has printed what it could.
 */
export function partialAnswer(why: string): ExitCode {
  process.stderr.write(`tapedeck: partial: ${why}\n`);
  return new ExitCode(EXIT_CHECK_FAILED);
}

/** A note for the operator (something was found and handled), one line on stderr. */
export function noteLine(line: string): void {
  process.stderr.write(`tapedeck: note: ${line}\n`);
}

/** Writes a value as one line of JSON (bigint as strings, bytes as base64). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(toJsonValue(value)) + '\n');
}

/** Parses an integer option, naming the option when it is not one. */
export function intOption(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new (class extends Error {
        override name = 'InvalidArgumentError';
        code = 'commander.invalidArgument';
      })(`${name} must be an integer >= ${min}, got "${value}"`);
    }
    return n;
  };
}
