/**
 * A seeded pseudo-random generator kept IN STATE: xoshiro128** (Blackman & Vigna), seeded through
 * splitmix32. Its whole state is four uint32 numbers in a plain object, so a reducer that owns one can
 * be hashed with canonicalJson, snapshotted and replayed: the same seed gives the same sequence on
 * every machine. The domain never calls Math.random (the lint forbids it).
 *
 * `nextU32` advances the state IN PLACE (the generator belongs to the reducer state that holds it;
 * copy it with `clonePrng` if you need to fork a stream).
 */
import { invariant } from './errors.js';

export interface PrngState {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

/** splitmix32 step: spreads a 32-bit seed over the four state words (never all zero). */
function splitmix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

export function seedPrng(seed: number): PrngState {
  invariant(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
  // Fold a 53-bit seed into 32 bits so seeds above 2^32 still differ.
  let x = (seed % 0x100000000) ^ Math.floor(seed / 0x100000000);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [n, z] = splitmix32(x);
    x = n;
    words.push(z);
  }
  const st: PrngState = { s0: words[0]!, s1: words[1]!, s2: words[2]!, s3: words[3]! };
  if ((st.s0 | st.s1 | st.s2 | st.s3) === 0) st.s0 = 1;
  return st;
}

export function clonePrng(p: PrngState): PrngState {
  return { s0: p.s0, s1: p.s1, s2: p.s2, s3: p.s3 };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Next uint32 in [0, 2^32). Advances `p` in place. */
export function nextU32(p: PrngState): number {
  const result = Math.imul(rotl(Math.imul(p.s1, 5), 7), 9) >>> 0;
  const t = p.s1 << 9;
  p.s2 ^= p.s0;
  p.s3 ^= p.s1;
  p.s1 ^= p.s2;
  p.s0 ^= p.s3;
  p.s2 ^= t;
  p.s3 = rotl(p.s3, 11);
  p.s0 |= 0;
  p.s1 |= 0;
  p.s2 |= 0;
  p.s3 |= 0;
  return result;
}

/** Uniform integer in [0, bound), bound ≤ 2^32, without modulo bias (rejection sampling). */
export function nextInt(p: PrngState, bound: number): number {
  invariant(Number.isInteger(bound) && bound > 0 && bound <= 0x100000000, `bound must be an integer in 1..2^32, got ${bound}`);
  if (bound === 1) return 0;
  const limit = 0x100000000 - (0x100000000 % bound);
  // Bounded loop: each try succeeds with probability > 1/2, so 64 failures in a row mean a broken generator.
  for (let i = 0; i < 64; i++) {
    const x = nextU32(p);
    if (x < limit) return x % bound;
  }
  throw new Error('invariant violated: prng rejection sampling did not terminate');
}

/** Uniform float in [0, 1) with 32 bits of randomness (IEEE arithmetic is the same everywhere). */
export function nextFloat(p: PrngState): number {
  return nextU32(p) / 0x100000000;
}
