// A cap on the bytes that object-store writers hold in memory, shared by every writer of the process.
// distribution's S3 driver buffers each upload on its own and gets OOM-killed under many concurrent pushes; here a
// writer reserves a whole part before it buffers one and waits (first come, first served) while the cap is used up.
// A reservation is only ever held by a writer that is filling its part or by a part upload in flight, both of which
// finish without needing more budget, so waiting cannot deadlock.

export const MiB = 1024 * 1024;

/** Default cap for the process: about 25 parts of distribution's default 10 MiB chunksize. */
export const DEFAULT_BUFFER_BUDGET_BYTES = 256 * MiB;

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class BufferBudget {
  private used = 0;
  private highWater = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`buffer budget must be a positive byte count, not ${limit}`);
  }

  /** Bytes reserved right now. */
  get inUse(): number {
    return this.used;
  }

  /** Most bytes ever reserved at once. */
  get peak(): number {
    return this.highWater;
  }

  /** Writers waiting for budget right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves once `bytes` are reserved. A reservation larger than the whole cap is granted when nothing else is held. */
  acquire(bytes: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push({ bytes, grant: resolve });
    });
  }

  release(bytes: number): void {
    if (bytes > this.used) throw new RangeError(`releasing ${bytes} bytes but only ${this.used} are reserved`);
    this.used -= bytes;
    for (let next = this.waiters[0]; next !== undefined && this.fits(next.bytes); next = this.waiters[0]) {
      this.waiters.shift();
      this.take(next.bytes);
      next.grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  private take(bytes: number): void {
    this.used += bytes;
    this.highWater = Math.max(this.highWater, this.used);
  }
}

/** The one budget every S3 and OSS driver of this process shares unless a test passes its own. */
export const processBufferBudget = new BufferBudget(DEFAULT_BUFFER_BUDGET_BYTES);
