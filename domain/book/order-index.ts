/**
 * A hash map from order reference (a safe non-negative integer) to a slot number, built on typed arrays:
 * open addressing with linear probing and backward-shift deletion (no tombstones, so lookups stay short
 * however many orders come and go). A JS Map would box order refs above 2^30 and allocate per insert;
 * this allocates only when it doubles. Capacity follows the peak number of live orders, not the day's total.
 */
const EMPTY = -1;
const MIN_CAPACITY = 1024;

export class OrderIndex {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private shift: number;
  size = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  get capacity(): number {
    return this.keys.length;
  }

  private home(key: number): number {
    // Fibonacci hashing of the low word mixed with the high word: ITCH refs are nearly sequential.
    const lo = key >>> 0;
    const h = key > 0xffffffff ? lo ^ Math.imul((key / 0x100000000) >>> 0, 0x85ebca6b) : lo;
    return Math.imul(h, 0x9e3779b1) >>> this.shift;
  }

  /** The slot for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    while (true) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Inserts; returns false (and changes nothing) when the key is already there. */
  insert(key: number, slot: number): boolean {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    while (true) {
      const k = keys[i]!;
      if (k === EMPTY) {
        keys[i] = key;
        this.vals[i] = slot;
        this.size++;
        return true;
      }
      if (k === key) return false;
      i = (i + 1) & mask;
    }
  }

  /** Removes `key`; returns its slot, or -1 when absent. */
  remove(key: number): number {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.home(key);
    while (true) {
      const k = keys[i]!;
      if (k === EMPTY) return -1;
      if (k === key) break;
      i = (i + 1) & mask;
    }
    const slot = vals[i]!;
    // Backward-shift: pull later entries of the probe run into the hole when their home allows it.
    let hole = i;
    let j = (i + 1) & mask;
    while (true) {
      const k = keys[j]!;
      if (k === EMPTY) break;
      const h = this.home(k);
      // Move k into the hole unless its home lies cyclically in (hole, j].
      if (((j - h) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        vals[hole] = vals[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    keys[hole] = EMPTY;
    this.size--;
    return slot;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== EMPTY) this.insert(k, oldVals[i]!);
    }
  }
}
