// console.yml: read and validated in one place into a typed ConsoleConfig. Every problem is reported at once, each
// with its key path, and unknown keys are errors: a typo in a rule must never silently grant or lock out anyone.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../registry/src/config/duration.js';
import type { LogLevel } from '../../registry/src/config/types.js';
import type { AddressList } from './address-list.js';
import { readBoolean, readEtcd, readIdentity, readTrustedProxies, type IdentityConfig } from './lain-config.js';
import type { EtcdSettings } from './lain-etcd.js';

export const ACTIONS = ['pull', 'push', 'delete', '*'] as const;
export type Action = (typeof ACTIONS)[number];

/** An ACL rule: the first rule matching the account and the resource decides which actions it allows. */
export type Rule = { account: string; actions: Action[] } & ({ repository: string; registry?: undefined } | { registry: 'catalog'; repository?: undefined });

export interface AccountConfig {
  /** bcrypt hash ($2a$, $2b$ or $2y$). */
  password: string;
  /** Groups the account belongs to, matched by rules written `account: group:<glob>`. */
  groups: string[];
}

export interface ConsoleConfig {
  /** The file it came from, for messages and reloads. */
  source: string;
  http: {
    addr: string;
    /** The realm of the Basic challenge sent with a 401. */
    realm: string;
    /** Peers whose X-Real-IP / X-Forwarded-For name the client. */
    trustedProxies: AddressList;
    /** Every method is answered like GET (query and Basic credentials), as LAIN's console did. */
    anyMethod: boolean;
  };
  /** Who checks passwords: console.yml's accounts or LAIN SSO. */
  identity: IdentityConfig;
  /** Where the LAIN keys (whitelist, node network, SSO URL, domain) are read; none when absent. */
  etcd?: EtcdSettings;
  /** Pull-only scopes are granted to every caller, without credentials. */
  anonymousPull: boolean;
  token: {
    issuer: string;
    service: string;
    /** Absolute paths (relative ones are resolved against the config file's directory). */
    key: string;
    certificate: string;
    /** Seconds. */
    ttl: number;
    /** Seconds a refresh token (access_type=offline) stays usable. */
    refreshttl: number;
  };
  /** `acl`: rules decide; `open`: every request gets what it asks, as a console with auth off. */
  mode: 'acl' | 'open';
  accounts: Map<string, AccountConfig>;
  rules: Rule[];
  ratelimit: {
    /** Failed logins allowed per (account, address) within the window; past it the account's checks slow down. */
    failures: number;
    /** Failed logins allowed per address, whatever the accounts, within the window. */
    addressFailures: number;
    /** Milliseconds. */
    window: number;
  };
  log: { level: LogLevel };
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`);
    this.name = 'ConfigError';
  }
}

export type Tree = Record<string, unknown>;

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace', 'fatal', 'panic'];

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems while reading typed values out of the YAML tree. */
export class Reader {
  readonly problems: string[] = [];

  section(tree: unknown, path: string, known: readonly string[], required: boolean): Tree {
    if (tree === undefined || tree === null) {
      if (required) this.problems.push(`${path} is required`);
      return {};
    }
    if (!isTree(tree)) {
      this.problems.push(`${path} must be a mapping`);
      return {};
    }
    for (const key of Object.keys(tree)) {
      if (!known.includes(key)) this.problems.push(`${path === '' ? key : `${path}.${key}`} is not a known key (known: ${known.join(', ')})`);
    }
    return tree;
  }

  string(tree: Tree, key: string, path: string, fallback?: string): string {
    const value = tree[key];
    if (value === undefined || value === null) {
      if (fallback === undefined) this.problems.push(`${path} is required`);
      return fallback ?? '';
    }
    if (typeof value !== 'string' || value === '') {
      this.problems.push(`${path} must be a non-empty string`);
      return fallback ?? '';
    }
    return value;
  }

  duration(tree: Tree, key: string, path: string, fallback: string): number {
    const value = tree[key] ?? fallback;
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || ms <= 0) {
      this.problems.push(`${path} must be a positive duration such as "5m", "90s" or "720h" (got ${JSON.stringify(value)})`);
      return parseDuration(fallback)!;
    }
    return ms;
  }

  positiveInteger(tree: Tree, key: string, path: string, fallback: number): number {
    const value = tree[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      this.problems.push(`${path} must be a positive integer (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return value;
  }
}

// JWT times are whole seconds; a sub-second TTL still lives one second.
function wholeSeconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}

function readAccounts(r: Reader, tree: unknown): Map<string, AccountConfig> {
  const accounts = new Map<string, AccountConfig>();
  if (tree === undefined || tree === null) return accounts;
  if (!isTree(tree)) {
    r.problems.push('accounts must be a mapping of account name to {password}');
    return accounts;
  }
  for (const [name, value] of Object.entries(tree)) {
    const path = `accounts.${name}`;
    if (name === 'anonymous' || name.includes(':') || name.startsWith('group:') || name.trim() !== name || name === '') {
      r.problems.push(`${path}: "${name}" cannot be an account name (reserved, or contains ":" or surrounding spaces)`);
      continue;
    }
    const account = r.section(value, path, ['password', 'groups'], true);
    const password = r.string(account, 'password', `${path}.password`);
    if (password !== '' && !BCRYPT.test(password)) {
      r.problems.push(`${path}.password must be a bcrypt hash ("$2b$10$..."); make one with: console-auth hash-password`);
    }
    const groups = account.groups ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && g !== '')) {
      r.problems.push(`${path}.groups must be a list of group names`);
      accounts.set(name, { password, groups: [] });
      continue;
    }
    accounts.set(name, { password, groups: groups as string[] });
  }
  return accounts;
}

function readRules(r: Reader, tree: unknown): Rule[] {
  if (tree === undefined || tree === null) return [];
  if (!Array.isArray(tree)) {
    r.problems.push('rules must be a list of {account, repository, actions}');
    return [];
  }
  const rules: Rule[] = [];
  tree.forEach((value: unknown, i) => {
    const path = `rules[${i}]`;
    const rule = r.section(value, path, ['account', 'repository', 'registry', 'actions'], true);
    const account = r.string(rule, 'account', `${path}.account`);
    const actions = rule.actions;
    if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => (ACTIONS as readonly unknown[]).includes(a))) {
      r.problems.push(`${path}.actions must be a non-empty list of ${ACTIONS.join(', ')} (got ${JSON.stringify(actions)})`);
      return;
    }
    if ((rule.repository === undefined) === (rule.registry === undefined)) {
      r.problems.push(`${path} needs exactly one of repository (a glob) or registry (catalog)`);
      return;
    }
    if (rule.registry !== undefined) {
      if (rule.registry !== 'catalog') {
        r.problems.push(`${path}.registry can only be "catalog" (got ${JSON.stringify(rule.registry)})`);
        return;
      }
      rules.push({ account, registry: 'catalog', actions: actions as Action[] });
      return;
    }
    rules.push({ account, repository: r.string(rule, 'repository', `${path}.repository`), actions: actions as Action[] });
  });
  return rules;
}

/** Validates a parsed console.yml; `source` is its path, against which relative key and certificate paths resolve. */
export function parseConsoleConfig(text: string, source: string): ConsoleConfig {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML: ${(err as Error).message}`]);
  }
  const r = new Reader();
  const root = r.section(document, '', ['http', 'token', 'mode', 'accounts', 'rules', 'ratelimit', 'log', 'identity', 'etcd', 'anonymous_pull'], true);
  const http = r.section(root.http, 'http', ['addr', 'realm', 'trustedproxies', 'anymethod'], true);
  const token = r.section(root.token, 'token', ['issuer', 'service', 'key', 'certificate', 'ttl', 'refreshttl'], true);
  const ratelimit = r.section(root.ratelimit, 'ratelimit', ['failures', 'addressfailures', 'window'], false);
  const log = r.section(root.log, 'log', ['level'], false);
  const mode = root.mode ?? 'acl';
  if (mode !== 'acl' && mode !== 'open') r.problems.push(`mode must be "acl" or "open" (got ${JSON.stringify(mode)})`);
  const level = log.level ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) r.problems.push(`log.level must be one of ${LOG_LEVELS.join(', ')}`);
  const base = dirname(resolve(source));
  const accounts = readAccounts(r, root.accounts);
  const etcd = readEtcd(r, root.etcd);
  const config: ConsoleConfig = {
    source,
    http: {
      addr: r.string(http, 'addr', 'http.addr'),
      realm: r.string(http, 'realm', 'http.realm', 'console-auth'),
      trustedProxies: readTrustedProxies(r, http.trustedproxies),
      anyMethod: readBoolean(r, http, 'anymethod', 'http.anymethod'),
    },
    token: {
      issuer: r.string(token, 'issuer', 'token.issuer'),
      service: r.string(token, 'service', 'token.service'),
      key: resolve(base, r.string(token, 'key', 'token.key')),
      certificate: resolve(base, r.string(token, 'certificate', 'token.certificate')),
      ttl: wholeSeconds(r.duration(token, 'ttl', 'token.ttl', '5m')),
      refreshttl: wholeSeconds(r.duration(token, 'refreshttl', 'token.refreshttl', '720h')),
    },
    mode: mode === 'open' ? 'open' : 'acl',
    accounts,
    rules: readRules(r, root.rules),
    identity: readIdentity(r, root.identity, etcd !== undefined, accounts.size),
    ...(etcd !== undefined && { etcd }),
    anonymousPull: readBoolean(r, root, 'anonymous_pull', 'anonymous_pull'),
    ratelimit: {
      failures: r.positiveInteger(ratelimit, 'failures', 'ratelimit.failures', 5),
      addressFailures: r.positiveInteger(ratelimit, 'addressfailures', 'ratelimit.addressfailures', 20),
      window: r.duration(ratelimit, 'window', 'ratelimit.window', '1m'),
    },
    log: { level: level as LogLevel },
  };
  if (r.problems.length > 0) throw new ConfigError(source, r.problems);
  return config;
}

export async function loadConsoleConfig(path: string): Promise<ConsoleConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read: ${(err as Error).message}`]);
  }
  return parseConsoleConfig(text, path);
}
