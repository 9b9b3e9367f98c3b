// One check per guess at a time, and none again for a guess already found right. A pull of 20 layers with Basic
// credentials, or 100 CI jobs asking for tokens with one account at once, then costs one bcrypt run, not 20 or 100,
// and a right password that was checked recently needs no room among the checks in flight.
import { createHash } from 'node:crypto';
import { BoundedMap } from '../storage/bounded-map.js';

/** Right guesses remembered at most; the oldest are forgotten first. */
const REMEMBERED = 1000;

export class PasswordChecks {
  private readonly right = new BoundedMap<string, true>(REMEMBERED);
  private readonly running = new Map<string, Promise<boolean>>();

  /**
   * @param remember whether a right guess is remembered: yes where the secret it was checked against is part of the
   *   guess (a bcrypt hash: a new password is a new guess), no where the secret lives elsewhere (an SSO server).
   */
  constructor(private readonly remember: boolean) {}

  /** Names a guess without keeping the password: the account, the password and what it is checked against. */
  static guess(account: string, password: string, against: string): string {
    return createHash('sha256').update(JSON.stringify([account, password, against])).digest('base64url');
  }

  /** Whether the guess is right: remembered, joined to the same check running, or `check` run now. */
  check(guess: string, check: () => Promise<boolean>): Promise<boolean> {
    if (this.right.has(guess)) return Promise.resolve(true);
    const running = this.running.get(guess);
    if (running !== undefined) return running;
    const checked = check()
      .then((right) => {
        if (right && this.remember) this.right.set(guess, true);
        return right;
      })
      .finally(() => this.running.delete(guess));
    this.running.set(guess, checked);
    return checked;
  }
}
