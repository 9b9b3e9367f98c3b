// The LAIN SSO identity backend. A password is checked the way LAIN's console did it, since SSO has no API for that:
// the first step of an OAuth2 authorization-code login (POST <sso>/oauth2/auth with the form fields login and
// password, redirect not followed), where a `code` in the Location of the answer means the password is right.
// Groups come from GET <sso>/api/users/<user> (the user's groups) and GET <sso>/api/groups/<group>/members/<user>
// (200: a member, also through a group that is a member of the group, as LAIN adds its admin group to every app
// group). Lookups are cached for a short TTL. An SSO that does not answer fails closed: IdentityUnavailable.
import { randomUUID } from 'node:crypto';
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
  /** App groups are `<prefix>-<app>` with dots as dashes; without it `lainapp-<domain>` (etcd's /lain/config/domain). */
  appGroupPrefix?: string;
  cacheTtlMs: number;
  /** Milliseconds one SSO request may take. */
  timeoutMs: number;
}

/** Users and group memberships remembered at most; beyond it the oldest go first. */
const CACHE_ENTRIES = 10_000;

export class LainSsoIdentity implements Identity {
  private readonly users: TtlCache<readonly string[] | undefined>;
  private readonly members: TtlCache<boolean>;

  constructor(
    private readonly settings: SsoSettings,
    /** The LAIN keys from etcd as they are now, when etcd is configured. */
    private readonly lain: (() => LainSnapshot) | undefined,
    now: () => number = Date.now,
  ) {
    this.users = new TtlCache(settings.cacheTtlMs, CACHE_ENTRIES, now);
    this.members = new TtlCache(settings.cacheTtlMs, CACHE_ENTRIES, now);
  }

  async authenticate(account: string, password: string): Promise<AuthenticatedPrincipal | undefined> {
    const server = this.server();
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
    if (location === null || (new URL(location, server).searchParams.get('code') ?? '') === '') return undefined;
    return this.lookup(account);
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

  /** The SSO group of an app's maintainers, or undefined when no prefix is configured or known from etcd. */
  appGroup(app: string): string | undefined {
    const domain = this.lain?.().domain;
    const prefix = this.settings.appGroupPrefix ?? (domain === undefined ? undefined : `lainapp-${domain}`);
    return prefix === undefined ? undefined : `${prefix}-${app}`.replaceAll('.', '-');
  }

  /** The user's groups, or undefined when SSO does not know the user. */
  private groupsOf(account: string): Promise<readonly string[] | undefined> {
    return this.users.get(account, async () => {
      const server = this.server();
      const res = await this.fetch(server, new URL(`${server}/api/users/${encodeURIComponent(account)}`));
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw this.unavailable(server, `GET /api/users/${account} answered ${res.status}`);
      }
      let groups: unknown;
      try {
        groups = ((await res.json()) as { groups?: unknown }).groups;
      } catch (err) {
        throw this.unavailable(server, `GET /api/users/${account} answered no JSON (${(err as Error).message})`);
      }
      return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
    });
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
