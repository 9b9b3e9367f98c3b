// Failed-login limiting: after `failures` failures within `window` for one key (an account, an address), further
// attempts are refused until the oldest failure leaves the window. Kept in memory: a restart forgets, which is fine
// for slowing down password guessing.

/** Keys kept at most; past it, keys whose failures all left the window are dropped first. */
const MAX_KEYS = 100_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private limit: number,
    private windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Applies new limits (a reloaded console.yml) without forgetting the failures counted so far. */
  configure(limit: number, windowMs: number): void {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    const freeAt = recent[recent.length - this.limit]! + this.windowMs;
    return Math.max(1, Math.ceil((freeAt - this.now()) / 1000));
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent.slice(-this.limit));
    if (this.failures.size > MAX_KEYS) this.prune();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
    // Still full of live keys: drop the oldest inserted, an attacker's flood of addresses must not exhaust memory.
    for (const key of this.failures.keys()) {
      if (this.failures.size <= MAX_KEYS) break;
      this.failures.delete(key);
    }
  }
}
