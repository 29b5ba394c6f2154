/**
 * A fast structural hash (128 bits, four murmur3-style 32-bit lanes) over plain data: numbers,
 * strings, booleans, bigint, null, arrays, objects, Maps, Sets and bytes. It walks values in their
 * own order (insertion order for objects and Maps), which deterministic code makes deterministic, and
 * builds no strings, so the kernel can hash a strategy's state before every decision cheaply.
 * Not a cryptographic hash: it detects divergence, it does not resist forgery.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export class StructuralHasher {
  private h1 = 0x9747b28c;
  private h2 = 0x85ebca6b;
  private h3 = 0xc2b2ae35;
  private h4 = 0x27d4eb2f;

  private mix(k: number): void {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    this.h1 ^= k;
    this.h1 = (this.h1 << 13) | (this.h1 >>> 19);
    this.h1 = (Math.imul(this.h1, 5) + 0xe6546b64) | 0;
    this.h2 = (Math.imul(this.h2 ^ k, 0x85ebca6b) + this.h1) | 0;
    this.h3 = (Math.imul(this.h3 ^ ((k >>> 7) | (k << 25)), 0xc2b2ae35) + this.h2) | 0;
    this.h4 = (Math.imul(this.h4 ^ this.h3, 0x27d4eb2f) ^ k) | 0;
  }

  private str(s: string): void {
    this.mix(0x53000000 ^ s.length);
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  private num(n: number): void {
    if (Number.isInteger(n) && Math.abs(n) <= 0x7fffffff) {
      this.mix(0x4e000000);
      this.mix(n | 0);
    } else {
      this.mix(0x46000000);
      const hi = Math.floor(n / 4294967296);
      this.mix(hi | 0);
      this.mix((n - hi * 4294967296) | 0);
      if (!Number.isInteger(n)) this.str(String(n));
    }
  }

  update(v: unknown): this {
    if (v === null || v === undefined) {
      this.mix(v === null ? 0x4c : 0x55);
      return this;
    }
    switch (typeof v) {
      case 'number':
        this.num(v);
        return this;
      case 'string':
        this.str(v);
        return this;
      case 'boolean':
        this.mix(v ? 0x54 : 0x46);
        return this;
      case 'bigint':
        this.mix(0x42000000);
        this.str(v.toString(16));
        return this;
      case 'object': {
        if (Array.isArray(v)) {
          this.mix(0x41000000 ^ v.length);
          for (let i = 0; i < v.length; i++) this.update(v[i]);
        } else if (v instanceof Map) {
          this.mix(0x4d000000 ^ v.size);
          for (const [k, x] of v) {
            this.update(k);
            this.update(x);
          }
        } else if (v instanceof Set) {
          this.mix(0x5e000000 ^ v.size);
          for (const x of v) this.update(x);
        } else if (v instanceof Uint8Array) {
          this.mix(0x59000000 ^ v.length);
          for (let i = 0; i < v.length; i++) this.mix(v[i]!);
        } else {
          this.mix(0x4f000000);
          const o = v as Record<string, unknown>;
          for (const k in o) {
            const x = o[k];
            if (x === undefined || typeof x === 'function') continue;
            this.str(k);
            this.update(x);
          }
        }
        return this;
      }
      default:
        return this; // functions and symbols are not state
    }
  }

  digestHex(): string {
    const f = (h: number) => {
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return (h >>> 0).toString(16).padStart(8, '0');
    };
    const a = this.h1 ^ this.h4, b = this.h2 ^ this.h1, c = this.h3 ^ this.h2, d = this.h4 ^ this.h3;
    return f(a) + f(b) + f(c) + f(d);
  }
}

export function structuralHash(v: unknown): string {
  return new StructuralHasher().update(v).digestHex();
}
