// bcrypt off the event loop. bcryptjs is JavaScript: one comparison at cost 10 holds a thread for about 70 ms, and on
// the event loop that thread is the one answering every other request. Comparisons run in worker threads instead,
// one comparison per thread at a time, the rest queued in arrival order. How many may queue is the callers' business
// (login-throttle.ts bounds it). A thread costs about 11 MiB, so threads start when needed and stop when idle.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CompareAnswer, CompareJob } from './bcrypt-worker.js';

const WORKER = new URL('./bcrypt-worker.js', import.meta.url);

/** How long a thread waits idle for the next comparison before it stops. */
const IDLE_MS = 30_000;

/** Whether a password matches a bcrypt hash: BcryptPool.compare, or a stand-in that records what it is asked. */
export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

/** The shared pool's compare, for callers that take a BcryptCompare. */
export const pooledCompare: BcryptCompare = (password, hash) => sharedBcryptPool().compare(password, hash);

interface Job extends CompareJob {
  resolve(right: boolean): void;
  reject(err: Error): void;
}

export class BcryptPool {
  /** Every live thread, with the job it is running (undefined: idle). */
  private readonly threads = new Map<Worker, Job | undefined>();
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly queue: Job[] = [];

  constructor(
    readonly size: number = availableParallelism(),
    private readonly idleMs: number = IDLE_MS,
  ) {}

  /** Whether `password` matches the bcrypt `hash`; rejects for a hash bcrypt cannot read. */
  compare(password: string, hash: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ password, hash, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.idleThread() ?? (this.threads.size < this.size ? this.spawn() : undefined);
      if (thread === undefined) return;
      const job = this.queue.shift()!;
      clearTimeout(this.idleTimers.get(thread));
      this.idleTimers.delete(thread);
      this.threads.set(thread, job);
      // Held only while it works, so an idle pool never keeps the process alive.
      thread.ref();
      thread.postMessage({ password: job.password, hash: job.hash } satisfies CompareJob);
    }
  }

  private idleThread(): Worker | undefined {
    for (const [thread, job] of this.threads) if (job === undefined) return thread;
    return undefined;
  }

  private spawn(): Worker {
    const thread = new Worker(WORKER);
    thread.unref();
    this.threads.set(thread, undefined);
    thread.on('message', (answer: CompareAnswer) => {
      const job = this.threads.get(thread);
      this.threads.set(thread, undefined);
      thread.unref();
      if ('error' in answer) job?.reject(new Error(`bcrypt: ${answer.error}`));
      else job?.resolve(answer.ok);
      this.dispatch();
      if (this.threads.get(thread) === undefined) this.stopWhenIdle(thread);
    });
    // A thread that dies fails its job only; the next job starts a new thread.
    const lost = (err: Error): void => {
      if (!this.threads.has(thread)) return;
      const job = this.threads.get(thread);
      this.threads.delete(thread);
      clearTimeout(this.idleTimers.get(thread));
      this.idleTimers.delete(thread);
      job?.reject(err);
      this.dispatch();
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`bcrypt worker thread exited with code ${code}`)));
    return thread;
  }

  private stopWhenIdle(thread: Worker): void {
    const timer = setTimeout(() => {
      this.threads.delete(thread);
      this.idleTimers.delete(thread);
      void thread.terminate();
    }, this.idleMs);
    timer.unref();
    this.idleTimers.set(thread, timer);
  }

  /** Threads running now, idle ones included. */
  get threadCount(): number {
    return this.threads.size;
  }
}

let shared: BcryptPool | undefined;

/**
 * The process's pool. One per process, not one per caller: it is sized to the cores, and two pools would each
 * claim all of them.
 */
export function sharedBcryptPool(): BcryptPool {
  shared ??= new BcryptPool();
  return shared;
}
