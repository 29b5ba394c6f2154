/**
 * A single-consumer queue that turns socket callbacks into an AsyncIterable. Bounded in the way a
 * socket can be: above `highWaterMark` queued items it calls `onHigh` (pause the socket), and when the
 * consumer has drained it below `lowWaterMark` it calls `onLow` (resume). `end(error)` finishes the
 * iteration after the queued items, with that error if one is given.
 */
export interface AsyncQueueOptions {
  highWaterMark?: number;
  lowWaterMark?: number;
  onHigh?: () => void;
  onLow?: () => void;
}

export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private ended = false;
  private error: unknown = null;
  private wake: (() => void) | null = null;
  private paused = false;
  private readonly high: number;
  private readonly low: number;

  constructor(private readonly options: AsyncQueueOptions = {}) {
    this.high = options.highWaterMark ?? 10_000;
    this.low = options.lowWaterMark ?? Math.floor(this.high / 2);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    if (!this.paused && this.size >= this.high) {
      this.paused = true;
      this.options.onHigh?.();
    }
    this.notify();
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.error = error;
    this.notify();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      if (this.head < this.items.length) {
        const item = this.items[this.head]!;
        this.items[this.head++] = undefined as T;
        if (this.head > 4096 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        if (this.paused && this.size <= this.low) {
          this.paused = false;
          this.options.onLow?.();
        }
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.error !== null) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
