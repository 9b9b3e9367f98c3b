// The primary's workers: forks them (node:cluster, all serving one listening socket), gives each the config, replaces
// one that dies (at once after a long life, with a growing pause after a short one, so a worker that keeps failing
// does not spin), passes bus messages between them, asks them about themselves, and stops them all.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { PasswordLogin } from '../auth/htpasswd.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { SettingError } from '../setting-error.js';
import { isFromWorker, type FromWorker, type Question, type ToWorker } from './messages.js';
import { answerLogin } from './tree-login.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/** A worker that lived at least this long before it died is replaced at once. */
const SETTLED_MS = 10_000;
/** Pause before replacing a worker that died young, doubled each time its slot does so again, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** How long the primary waits for a worker's answer (a worker stuck longer is left out of that answer). */
const ANSWER_MS = 2_000;

interface Slot {
  /** 1..count: the worker id in logs and metrics, kept by the replacement of a worker that died. */
  id: number;
  worker?: Worker;
  pid?: number;
  /** Where it serves, once ready. */
  url?: string;
  /** Whether it said hello: a message sent to it before then would be lost. */
  greeted: boolean;
  ready: boolean;
  startedAt: number;
  /** Deaths in a row within SETTLED_MS of their start. */
  quickDeaths: number;
  failure?: { message: string; setting?: string };
  respawn?: NodeJS.Timeout;
}

export interface Answer {
  worker: number;
  value: unknown;
}

interface PendingAsk {
  answered(worker: number, value: unknown): void;
  gone(worker: number): void;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly asks = new Map<number, PendingAsk>();
  private nextAsk = 0;
  private stopping = false;
  /** Settled once every worker of the first generation is ready, or one of them could not start. */
  private firstGeneration: { resolve(): void; reject(err: Error): void; done: boolean } | undefined;
  private allExited: (() => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    count: number,
    /** The machine's group id in the coordination layer. */
    private readonly group: string,
    /** htpasswd logins, for every worker (tree-login.ts); absent when auth is not htpasswd. */
    private readonly login?: PasswordLogin,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ id: i + 1, greeted: false, ready: false, startedAt: 0, quickDeaths: 0 }));
  }

  /**
   * Forks every worker; resolves once all serve. Rejects when one cannot start (with a SettingError when a setting is
   * the cause: an address in use, a file it cannot read), and replaces none from then on: the caller stops the rest.
   */
  start(): Promise<void> {
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [] });
    const started = new Promise<void>((resolve, reject) => {
      this.firstGeneration = { resolve, reject, done: false };
    });
    for (const slot of this.slots) this.fork(slot);
    return started;
  }

  /** Workers serving now, with their pids and where they serve (the same address for all). */
  serving(): { worker: number; pid: number; url: string }[] {
    return this.slots.filter((s) => s.ready).map((s) => ({ worker: s.id, pid: s.pid as number, url: s.url as string }));
  }

  /** Asks every serving worker; resolves with the answers that came within ANSWER_MS. */
  ask(question: Question): Promise<Answer[]> {
    const targets = this.slots.filter((s) => s.ready && s.worker?.isConnected());
    if (targets.length === 0) return Promise.resolve([]);
    const id = this.nextAsk++;
    return new Promise((resolve) => {
      const answers: Answer[] = [];
      const waiting = new Set(targets.map((s) => s.id));
      const finish = () => {
        clearTimeout(timer);
        this.asks.delete(id);
        resolve(answers.sort((a, b) => a.worker - b.worker));
      };
      const timer = setTimeout(finish, ANSWER_MS);
      this.asks.set(id, {
        answered(worker, value) {
          if (!waiting.delete(worker)) return;
          answers.push({ worker, value });
          if (waiting.size === 0) finish();
        },
        gone(worker) {
          if (waiting.delete(worker) && waiting.size === 0) finish();
        },
      });
      for (const slot of targets) this.send(slot, { type: 'registry:ask', id, question });
    });
  }

  /**
   * Tells every worker to drain and exit, and resolves once all have exited: true when each exited 0. No worker is
   * replaced from now on.
   */
  async stop(): Promise<boolean> {
    this.stopping = true;
    const live = this.slots.filter((s) => s.worker !== undefined);
    for (const slot of this.slots) clearTimeout(slot.respawn);
    if (live.length === 0) return true;
    const exited = new Promise<void>((resolve) => (this.allExited = resolve));
    const codes = live.map((slot) => new Promise<number | null>((resolve) => slot.worker?.once('exit', (code) => resolve(code))));
    // One that has not said hello yet is told to stop when it does.
    for (const slot of live) if (slot.greeted) this.send(slot, { type: 'registry:stop' });
    await exited;
    return (await Promise.all(codes)).every((code) => code === 0);
  }

  /** Ends the workers that did not stop in time. */
  kill(): void {
    for (const slot of this.slots) slot.worker?.process.kill('SIGKILL');
  }

  private fork(slot: Slot): void {
    slot.respawn = undefined;
    slot.greeted = false;
    slot.ready = false;
    slot.failure = undefined;
    slot.startedAt = Date.now();
    const worker = cluster.fork();
    slot.worker = worker;
    slot.pid = worker.process.pid;
    worker.on('message', (message: unknown) => {
      if (isFromWorker(message)) this.receive(slot, worker, message);
    });
    worker.on('error', (err) => this.logger.warn({ err, child: slot.id }, 'worker IPC error'));
    worker.once('exit', (code, signal) => this.exited(slot, worker, code, signal));
  }

  private receive(slot: Slot, worker: Worker, message: FromWorker): void {
    switch (message.type) {
      case 'registry:hello':
        slot.greeted = true;
        this.send(
          slot,
          this.stopping ? { type: 'registry:stop' } : { type: 'registry:start', config: this.config, worker: slot.id, group: this.group, runsJobs: slot.id === 1 },
        );
        return;
      case 'registry:ready':
        slot.ready = true;
        slot.url = message.url;
        this.logger.info({ child: slot.id, childPid: worker.process.pid }, 'worker serving');
        if (this.firstGeneration && !this.firstGeneration.done && this.slots.every((s) => s.ready)) {
          this.firstGeneration.done = true;
          this.firstGeneration.resolve();
        }
        return;
      case 'registry:failed':
        slot.failure = { message: message.message, ...(message.setting !== undefined && { setting: message.setting }) };
        return;
      case 'registry:answer':
        this.asks.get(message.id)?.answered(slot.id, message.value);
        return;
      case 'registry:login': {
        const { id, username, password, address } = message;
        const answered = this.login ? answerLogin(this.login, username, password, address) : Promise.resolve({ failed: 'auth is not htpasswd in the primary' });
        void answered.then((answer) => this.send(slot, { type: 'registry:login-answer', id, answer }));
        return;
      }
      case 'registry:relay':
        for (const other of this.slots) if (other !== slot && other.worker?.isConnected()) this.send(other, message);
        return;
    }
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    const wasReady = slot.ready;
    slot.worker = undefined;
    slot.ready = false;
    for (const ask of this.asks.values()) ask.gone(slot.id);
    const fields = { child: slot.id, childPid: worker.process.pid, code, signal };
    if (this.stopping) {
      this.logger.info(fields, 'worker exited');
      if (this.slots.every((s) => s.worker === undefined)) this.allExited?.();
      return;
    }
    const first = this.firstGeneration;
    if (first && !first.done && !wasReady) {
      // Nothing served yet: a worker that cannot start (an address in use, a file it cannot read) would fail again.
      first.done = true;
      this.stopping = true;
      const { failure } = slot;
      first.reject(
        failure?.setting !== undefined
          ? new SettingError(failure.setting, failure.message)
          : new Error(`worker ${slot.id} could not start: ${failure?.message ?? `it exited (code ${code}, signal ${signal})`}`),
      );
      return;
    }
    const livedMs = Date.now() - slot.startedAt;
    slot.quickDeaths = livedMs < SETTLED_MS ? slot.quickDeaths + 1 : 0;
    const delayMs = slot.quickDeaths === 0 ? 0 : Math.min(FIRST_BACKOFF_MS * 2 ** (slot.quickDeaths - 1), MAX_BACKOFF_MS);
    this.logger.error({ ...fields, livedMs, restartInMs: delayMs, ...(slot.failure && { failure: slot.failure.message }) }, 'worker exited; starting another');
    slot.respawn = setTimeout(() => this.fork(slot), delayMs);
  }

  private send(slot: Slot, message: ToWorker): void {
    slot.worker?.send(message, (err: Error | null) => {
      // The worker exited between the check and the send; its exit is handled on its own.
      if (err) this.logger.debug({ err, child: slot.id }, 'message to a worker not delivered');
    });
  }
}
