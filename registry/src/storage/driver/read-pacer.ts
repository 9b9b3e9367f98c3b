// Whether a blob copy reads the file on the event loop or in libuv's thread pool. A read from the page cache costs
// less CPU done inline: the thread-pool round trip (queue, wake a thread, wake the loop) and the buffer filled on
// another core cost about half as much again as the copy itself. Measured on 2 cores, 16 curl clients pulling a
// 256 MiB blob from 2 workers: 1374-1408 MB/s and 6.2-7.0 s of server CPU with thread-pool reads, 1619-1749 MB/s and
// 4.2-4.7 s with this (docs/benchmarks.md, "Changes measured").
//
// A read that waits for a disk would block every request of the worker meanwhile. So when an inline read is slow, the
// process's storage reads (/proc/self/io read_bytes) say why: if they grew by a readahead's worth, the read went to the
// disk, and reads go to the thread pool for SLOW_READ_BACKOFF_MS (at most one such stall per back-off). If not, the
// thread was only kept off its core by a busy machine, as under a deploy's fan-out, where 2-17 ms reads were seen on 2
// loaded cores with nothing read from disk, and a page or two of the worker's other reads (a link file) came in
// between. Reads then stay inline. The counter is compared with its value at the previous slow read, so the worker's
// other storage reads since then can send reads to the thread pool for a minute needlessly, never the other way.
// Where /proc/self/io cannot be read, every slow read counts as a disk read.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Longer than a page-cache read of a copy buffer (about 0.1-0.3 ms for 512 KiB), shorter than a disk seek. */
export const SLOW_READ_MS = 2;
export const SLOW_READ_BACKOFF_MS = 60_000;
/** Less than the kernel's smallest readahead window (128 KiB), more than the few pages of a link or manifest. */
export const STORAGE_READ_BYTES = 64 * 1024;

/** Bytes this process has made the kernel fetch from storage, or undefined where the kernel does not say. */
export function storageReadBytes(): number | undefined {
  try {
    const match = /^read_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class ReadPacer {
  private threadPoolUntil = 0;
  private lastStorageBytes: number | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly storageBytes: () => number | undefined = storageReadBytes,
  ) {
    this.lastStorageBytes = storageBytes();
  }

  /** Whether the next read may run on the event loop. */
  inline(): boolean {
    return this.now() >= this.threadPoolUntil;
  }

  /** Runs `read` on the event loop and records whether it had to wait for storage. */
  timed<T>(read: () => T): T {
    const started = this.now();
    try {
      return read();
    } finally {
      if (this.now() - started > SLOW_READ_MS) {
        const bytes = this.storageBytes();
        const fromStorage = bytes === undefined || this.lastStorageBytes === undefined || bytes - this.lastStorageBytes >= STORAGE_READ_BYTES;
        this.lastStorageBytes = bytes;
        if (fromStorage) this.threadPoolUntil = this.now() + SLOW_READ_BACKOFF_MS;
      }
    }
  }
}
