/**
 * @duckdb/node-api, loaded with require. It is a CommonJS package of many files: imported as ESM, Node
 * scans each file it re-exports for named exports (cjs-module-lexer), about 0.2 s of CPU against 0.09 s
 * for require (measured), paid by every command that opens the projections or the dataset catalog
 * (`tapedeck query`, `audit`, `rebuild`, `datasets`). Import the values from here, the types from the package.
 */
import { createRequire } from 'node:module';

export const duckdbApi = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');
