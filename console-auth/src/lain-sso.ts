// The LAIN SSO identity backend. A password is checked the way LAIN's console did it, since SSO has no API for that:
// the first step of an OAuth2 authorization-code login (POST <sso>/oauth2/auth with the form fields login and
// password, redirect not followed), where a `code` in the Location of the answer means the password is right.
// Groups come from GET <sso>/api/users/<user> (the user's groups) and GET <sso>/api/groups/<group>/members/<user>
// (200: a member, also through a group that is a member of the group, as LAIN adds its admin group to every app
// group), and GET <sso>/api/groups/<group> (its fullname, which says what app an app group was made for). Lookups are
// cached for a short TTL. An SSO that does not answer fails closed: IdentityUnavailable.
import { randomUUID } from 'node:crypto';
import type { RunCheck } from '../../registry/src/auth/login-throttle.js';
import { PasswordChecks } from '../../registry/src/auth/password-checks.js';
import { IdentityUnavailable, type AuthenticatedPrincipal, type Identity } from './identity.js';
import type { LainSnapshot } from './lain-etcd.js';
import { TtlCache } from './ttl-cache.js';

export interface SsoSettings {
  /** console.yml's identity.sso.url; without it the URL of etcd's /lain/config/auth/console. */
  url?: string;
  clientId: string;
  redirectUri: string;
  /** Members may do anything (LAIN: `lain`). */
  adminGroup: string;
  /**
   * App groups are `<prefix>-<app>` with dots as dashes (their fullname tells `a.b` from `a-b`); without it
   * `lainapp-<domain>` (etcd's /lain/config/domain).
   */
  appGroupPrefix?: string;
  cacheTtlMs: number;
  /** Milliseconds one SSO request may take. */
  timeoutMs: number;
}

/** Users and group memberships remembered at most; beyond it the oldest go first. */
const CACHE_ENTRIES = 10_000;

/** The fullname LAIN's console gave the group it made for an app (`lain reposit`): "lain app in <domain>: <app>". */
const APP_FULLNAME = /^lain app in .+: (\S+)$/;

/** Whether an app group serves an app: LAIN's naming alone cannot tell `a.b` from `a-b`. */
export type GroupServes = { serves: true } | { serves: false; reason: string };

export class LainSsoIdentity implements Identity {
  private readonly users: TtlCache<readonly string[] | undefined>;
  private readonly members: TtlCache<boolean>;
  /** A group's fullname; undefined for a group SSO does not know. */
  private readonly fullnames: TtlCache<string | undefined>;
  // SSO's password may change at any time, so a right one is not remembered; identical checks at once share one.
  private readonly checks = new PasswordChecks(false);

  constructor(
    private readonly settings: SsoSettings,
    /** The LAIN keys from etcd as they are now, when etcd is configured. */
    private readonly lain: (() => LainSnapshot) | undefined,
    now: () => number = Date.now,
  ) {
    this.users = new TtlCache(settings.cacheTtlMs, CACHE_ENTRIES, now);
    this.members = new TtlCache(settings.cacheTtlMs, CACHE_ENTRIES, now);
    this.fullnames = new TtlCache(settings.cacheTtlMs, CACHE_ENTRIES, now);
  }

  async authenticate(account: string, password: string, run: RunCheck): Promise<AuthenticatedPrincipal | undefined> {
    const server = this.server();
    const right = await this.checks.check(PasswordChecks.guess(account, password, server), () => run(() => this.passwordRight(server, account, password)));
    return right ? this.lookup(account) : undefined;
  }

  private async passwordRight(server: string, account: string, password: string): Promise<boolean> {
    const url = new URL(`${server}/oauth2/auth`);
    url.search = new URLSearchParams({
      client_id: this.settings.clientId,
      response_type: 'code',
      scope: 'write:group',
      redirect_uri: this.settings.redirectUri,
      state: randomUUID(),
    }).toString();
    const res = await this.fetch(server, url, { method: 'POST', body: new URLSearchParams({ login: account, password }), redirect: 'manual' });
    await res.body?.cancel();
    if (res.status >= 500) throw this.unavailable(server, `POST /oauth2/auth answered ${res.status}`);
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    return location !== null && (new URL(location, server).searchParams.get('code') ?? '') !== '';
  }

  async lookup(account: string): Promise<AuthenticatedPrincipal | undefined> {
    const groups = await this.groupsOf(account);
    return groups === undefined ? undefined : { account, groups, stamp: `lain-sso ${this.server()}` };
  }

  /** Whether the account is in the group, directly or through a member group. */
  async memberOf(account: string, group: string): Promise<boolean> {
    if ((await this.groupsOf(account))?.includes(group) === true) return true;
    return this.members.get(`${group}\n${account}`, async () => {
      const server = this.server();
      const res = await this.fetch(server, new URL(`${server}/api/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(account)}`));
      await res.body?.cancel();
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw this.unavailable(server, `GET /api/groups/${group}/members/${account} answered ${res.status}`);
    });
  }

  get adminGroup(): string {
    return this.settings.adminGroup;
  }

  /**
   * The SSO group LAIN names for an app's maintainers, `<prefix>-<app>` with dots as dashes, or undefined when no
   * prefix is configured or known from etcd. Apps `a.b` and `a-b` get the same name: see groupServes.
   */
  appGroup(app: string): string | undefined {
    const domain = this.lain?.().domain;
    const prefix = this.settings.appGroupPrefix ?? (domain === undefined ? undefined : `lainapp-${domain}`);
    return prefix === undefined ? undefined : `${prefix}-${app}`.replaceAll('.', '-');
  }

  /**
   * Whether the app group serves this app and no other spelled the same. Its fullname decides when it names an app
   * (LAIN's console wrote "lain app in <domain>: <app>"); otherwise the group serves the app its own name spells,
   * the one without dots, and a dotted app gets nothing from it.
   */
  async groupServes(group: string, app: string): Promise<GroupServes> {
    const fullname = await this.fullname(group);
    const named = fullname === undefined ? undefined : APP_FULLNAME.exec(fullname)?.[1];
    if (named === app || (named === undefined && fullname !== undefined && !app.includes('.'))) return { serves: true };
    if (fullname === undefined) return { serves: false, reason: `SSO has no group ${group}` };
    if (named !== undefined) return { serves: false, reason: `SSO group ${group} is app ${named}'s (its fullname is "${fullname}"), not ${app}'s` };
    const domain = this.lain?.().domain ?? '<domain>';
    return {
      serves: false,
      reason:
        `SSO group ${group} may be the group of ${app} or of ${app.replaceAll('.', '-')} (LAIN names both so) and its fullname "${fullname}" does not say which, ` +
        `so it serves ${app.replaceAll('.', '-')} only; to make it ${app}'s, set its fullname to "lain app in ${domain}: ${app}"`,
    };
  }

  private fullname(group: string): Promise<string | undefined> {
    return this.fullnames.get(group, async () => {
      const found = await this.getJson(`/api/groups/${encodeURIComponent(group)}`);
      if (found === undefined) return undefined;
      // SSO gives a group made without a fullname its name as the fullname.
      return typeof found.fullname === 'string' && found.fullname !== '' ? found.fullname : group;
    });
  }

  /** The user's groups, or undefined when SSO does not know the user. */
  private groupsOf(account: string): Promise<readonly string[] | undefined> {
    return this.users.get(account, async () => {
      const found = await this.getJson(`/api/users/${encodeURIComponent(account)}`);
      if (found === undefined) return undefined;
      const groups = found.groups;
      return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
    });
  }

  /** GET of an SSO API object: undefined for 404, IdentityUnavailable for any other failure. */
  private async getJson(path: string): Promise<Record<string, unknown> | undefined> {
    const server = this.server();
    const res = await this.fetch(server, new URL(`${server}${path}`));
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw this.unavailable(server, `GET ${decodeURIComponent(path)} answered ${res.status}`);
    }
    try {
      const body: unknown = await res.json();
      return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    } catch (err) {
      throw this.unavailable(server, `GET ${decodeURIComponent(path)} answered no JSON (${(err as Error).message})`);
    }
  }

  private server(): string {
    if (this.settings.url !== undefined) return this.settings.url;
    const sso = this.lain?.().sso;
    if (sso !== undefined && 'url' in sso) return sso.url;
    throw new IdentityUnavailable(`LAIN SSO is not configured, so no password can be checked: ${sso?.problem ?? 'identity.sso.url is not set'}`);
  }

  private async fetch(server: string, url: URL, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.settings.timeoutMs) });
    } catch (err) {
      const cause = err as Error & { cause?: { code?: string } };
      throw this.unavailable(server, cause.cause?.code ?? cause.message, err);
    }
  }

  private unavailable(server: string, what: string, cause?: unknown): IdentityUnavailable {
    return new IdentityUnavailable(`LAIN SSO at ${server} is unreachable or failing (${what}): passwords and groups cannot be checked now; try again later`, { cause });
  }
}
