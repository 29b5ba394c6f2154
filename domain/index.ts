// domain/: pure trading vocabulary. No I/O, no clock, no randomness, nothing from src/ (enforced by eslint).
export * from './core/errors.js';
export * from './core/fixed.js';
export * from './core/canonical.js';
export * from './core/sha256.js';
export * from './events/primitives.js';
export * from './events/catalog.js';
export * from './events/envelope.js';
