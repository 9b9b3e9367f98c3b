// Identity: who is calling. The accounts of console.yml (bcrypt hashes) are one backend; LAIN SSO (lain-sso.ts) is
// the other.
import { createHash } from 'node:crypto';
import { decoyHash } from '../../registry/src/auth/bcrypt-decoy.js';
import { pooledCompare, type BcryptCompare } from '../../registry/src/auth/bcrypt-pool.js';
import type { RunCheck } from '../../registry/src/auth/login-throttle.js';
import { PasswordChecks } from '../../registry/src/auth/password-checks.js';
import type { AccountConfig } from './config.js';
import type { Principal } from './policy.js';

export interface Identity {
  /**
   * The principal when the password is right, undefined when the account is unknown or the password wrong. The
   * check itself (bcrypt, a request to SSO) runs through `run`, which bounds the checks in flight.
   */
  authenticate(account: string, password: string, run: RunCheck): Promise<AuthenticatedPrincipal | undefined>;
  /** The account as it is now, for a refresh token: undefined once it is gone. */
  lookup(account: string): Promise<AuthenticatedPrincipal | undefined>;
}

/**
 * The backend cannot say now (its server is down or answers errors): the request is refused with this message, and
 * it does not count as a failed login.
 */
export class IdentityUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdentityUnavailable';
  }
}

export interface AuthenticatedPrincipal extends Principal {
  /**
   * Changes whenever the account's credentials change; a refresh token carries the stamp it was issued under, so a new
   * password revokes every refresh token of the old one.
   */
  stamp: string;
}

export class AccountsIdentity implements Identity {
  // Compared against when the account does not exist, at the accounts' cost, so that an unknown name costs the
  // same bcrypt time as a known one and response times do not tell which accounts exist.
  private readonly decoy: string;
  private readonly checks = new PasswordChecks(true);

  constructor(
    private readonly accounts: ReadonlyMap<string, AccountConfig>,
    private readonly compare: BcryptCompare = pooledCompare,
  ) {
    this.decoy = decoyHash([...accounts.values()].map((entry) => entry.password));
  }

  async authenticate(account: string, password: string, run: RunCheck): Promise<AuthenticatedPrincipal | undefined> {
    const entry = this.accounts.get(account);
    const hash = entry?.password ?? this.decoy;
    const right = await this.checks.check(PasswordChecks.guess(account, password, hash), () => run(() => this.compare(password, hash)));
    return right && entry !== undefined ? this.principal(account, entry) : undefined;
  }

  async lookup(account: string): Promise<AuthenticatedPrincipal | undefined> {
    const entry = this.accounts.get(account);
    return entry === undefined ? undefined : this.principal(account, entry);
  }

  private principal(account: string, entry: AccountConfig): AuthenticatedPrincipal {
    return { account, groups: entry.groups, stamp: createHash('sha256').update(entry.password).digest('base64url').slice(0, 16) };
  }
}
