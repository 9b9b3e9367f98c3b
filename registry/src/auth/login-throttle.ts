// Login limits, the same for console-auth and the registry's htpasswd. Kept in memory: a restart forgets, which is
// fine for slowing down password guessing.
//
// - An attempt counts when it arrives, not when its check ends: a guess being checked counts as a failure until it
//   proves right, so guesses sent all at once meet the same budget as guesses sent one by one.
// - Budgets are per (account, address) and per address. The account alone has none: a stranger's wrong passwords
//   must not lock the owner out. Instead, past the per-pair budget in failures, every check of the account waits
//   first, longer with each further failure up to a few seconds: guessing from many addresses slows down, the owner
//   still gets in.
// - Checks in flight are bounded per account, per address and in total. Past a bound the answer is a refusal at
//   once, which costs no check; a right password already checked recently is answered from memory and needs no room.
// - The same guess arriving several times at once is one attempt and one check.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottlePolicy {
  /** Failed logins allowed per (account, address) within the window. */
  pairFailures: number;
  /** Failed logins allowed per address, whatever the accounts, within the window. */
  addressFailures: number;
  windowMs: number;
}

/** Checks of one account, and checks from one address, running at once. */
const RUNNING_PER_ACCOUNT = 4;
const RUNNING_PER_ADDRESS = 4;
/** Checks running at once in the process: enough to keep every core busy, few enough to refuse a flood at once. */
export const RUNNING_TOTAL = Math.max(16, 4 * availableParallelism());
/** The wait before checking an account past its budget in failures: doubling from the first to the most. */
const SLOWDOWN_FIRST_MS = 250;
const SLOWDOWN_MOST_MS = 5000;
/** Accounts, addresses and pairs tracked at most; past it, idle ones go first, so a flood of addresses cannot fill memory. */
const MAX_TALLIES = 100_000;

/** An attempt over a limit: refused before any check, with the seconds after which trying again may succeed. */
export class TooManyAttempts extends Error {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
    this.name = 'TooManyAttempts';
  }
}

/** Runs one check within the bounds on checks in flight, after the account's slowdown; may throw TooManyAttempts. */
export type RunCheck = <T>(check: () => Promise<T>) => Promise<T>;

interface Tally {
  /** When the recent failures happened, oldest first. */
  failures: number[];
  /** Guesses admitted and not answered yet, each with how many requests wait on it. */
  pending: Map<string, number>;
  /** Checks running now. */
  running: number;
}

type Outcome = 'right' | 'wrong' | 'unknown';

export class LoginThrottle {
  private readonly tallies = new Map<string, Tally>();
  private running = 0;

  constructor(
    private policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<unknown> = sleep,
  ) {}

  /** Applies new limits (a reloaded console.yml) without forgetting the failures counted so far. */
  configure(policy: ThrottlePolicy): void {
    this.policy = policy;
  }

  /**
   * One login attempt under the limits. `verify` finds out whether the password is right, calling `run` for any work
   * it cannot answer from memory, and resolves with what it found, or undefined for a wrong password. Throws
   * TooManyAttempts, before `verify` runs, for an attempt over a budget, and from `run` past a bound on checks in
   * flight. When `verify` throws (a backend that cannot say), the attempt counts neither way.
   */
  async attempt<T>(account: string, address: string, password: string, verify: (run: RunCheck) => Promise<T | undefined>): Promise<T | undefined> {
    this.prune();
    const guess = createHash('sha256').update(JSON.stringify([account, password])).digest('base64url');
    const pair = this.tally(['pair', account, address]);
    const from = this.tally(['address', address]);
    const of = this.tally(['account', account]);
    this.admit(pair, this.policy.pairFailures, guess, 'too many failed logins for this account from your address');
    this.admit(from, this.policy.addressFailures, guess, 'too many failed logins from your address');
    const tallies = [pair, from, of];
    for (const tally of tallies) tally.pending.set(guess, (tally.pending.get(guess) ?? 0) + 1);
    let outcome: Outcome = 'unknown';
    try {
      const found = await verify((check) => this.run(of, from, check));
      outcome = found === undefined ? 'wrong' : 'right';
      return found;
    } finally {
      this.settle(tallies, guess, outcome);
      if (outcome === 'right') pair.failures = [];
    }
  }

  private tally(parts: string[]): Tally {
    const key = JSON.stringify(parts);
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = { failures: [], pending: new Map(), running: 0 };
      this.tallies.set(key, tally);
    }
    return tally;
  }

  private recent(tally: Tally): number[] {
    const since = this.now() - this.policy.windowMs;
    while (tally.failures.length > 0 && tally.failures[0]! <= since) tally.failures.shift();
    return tally.failures;
  }

  /** Refuses a new guess when the failures and the guesses still being checked fill the budget. */
  private admit(tally: Tally, budget: number, guess: string, message: string): void {
    if (tally.pending.has(guess)) return;
    const recent = this.recent(tally);
    if (recent.length + tally.pending.size < budget) return;
    // Full of failures: free when the oldest that counts leaves the window. Full of checks in flight: free soon.
    const freeAt = recent.length >= budget ? recent[recent.length - budget]! + this.policy.windowMs : this.now();
    const retryAfter = Math.max(1, Math.ceil((freeAt - this.now()) / 1000));
    throw new TooManyAttempts(`${message}; try again in ${retryAfter} s`, retryAfter);
  }

  private async run<T>(account: Tally, address: Tally, check: () => Promise<T>): Promise<T> {
    if (account.running >= RUNNING_PER_ACCOUNT) throw new TooManyAttempts('too many logins to this account are being checked at once; try again in 1 s', 1);
    if (address.running >= RUNNING_PER_ADDRESS) throw new TooManyAttempts('too many logins from your address are being checked at once; try again in 1 s', 1);
    account.running++;
    address.running++;
    try {
      const failures = this.recent(account).length;
      if (failures >= this.policy.pairFailures) {
        await this.wait(Math.min(SLOWDOWN_MOST_MS, SLOWDOWN_FIRST_MS * 2 ** (failures - this.policy.pairFailures)));
      }
      // Checked after the wait, so that accounts waiting out their slowdown do not hold the process's room.
      if (this.running >= RUNNING_TOTAL) throw new TooManyAttempts('the server is checking too many logins at once; try again in 1 s', 1);
      this.running++;
      try {
        return await check();
      } finally {
        this.running--;
      }
    } finally {
      account.running--;
      address.running--;
    }
  }

  /** The last request waiting on a guess records its outcome: one failure per wrong guess, however often it came. */
  private settle(tallies: Tally[], guess: string, outcome: Outcome): void {
    const keep = Math.max(this.policy.pairFailures, this.policy.addressFailures) + 16;
    for (const tally of tallies) {
      const waiting = (tally.pending.get(guess) ?? 1) - 1;
      if (waiting > 0) {
        tally.pending.set(guess, waiting);
        continue;
      }
      tally.pending.delete(guess);
      if (outcome !== 'wrong') continue;
      tally.failures.push(this.now());
      if (tally.failures.length > keep) tally.failures.splice(0, tally.failures.length - keep);
    }
  }

  /** Past MAX_TALLIES, down to nine tenths of it, so that a full table is not walked at every attempt. */
  private prune(): void {
    if (this.tallies.size < MAX_TALLIES) return;
    const target = MAX_TALLIES * 0.9;
    const idle = (tally: Tally): boolean => tally.pending.size === 0 && tally.running === 0;
    for (const [key, tally] of this.tallies) if (idle(tally) && this.recent(tally).length === 0) this.tallies.delete(key);
    // Still full of live ones: the oldest idle go, failures and all; a flood of addresses must not exhaust memory.
    for (const [key, tally] of this.tallies) {
      if (this.tallies.size <= target) return;
      if (idle(tally)) this.tallies.delete(key);
    }
  }
}
