/**
 * Config objects are strict: a key that names nothing is an error, never dropped, because a misspelt
 * limit silently removes the limit. The error names the key and the closest key the object knows
 * (Levenshtein distance), so `maxOrderQtyLot` says "did you mean maxOrderQtyLots?".
 * Use `configObject(shape)` for every object a person writes in a config file.
 */
import { closest } from 'fastest-levenshtein';
import { z } from 'zod';

/** `unknown key "x" (did you mean "y"?)`, for each unknown key. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((k) => (known.length > 0 ? `unknown key "${k}" (did you mean "${closest(k, known)}"?)` : `unknown key "${k}" (this object takes no keys)`))
    .join('; ');
}

/** A strict zod object whose unknown-key error names each key and the closest known one. */
export function configObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, known) : undefined),
  });
}
