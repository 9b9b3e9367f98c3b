// Who may do what on which repository. Rules are tried in order and the first one matching the account and the
// resource decides; what anonymous rules allow is allowed to everyone, so logging in never loses a right.
import type { Rule } from './config.js';
import type { Scope } from './scope.js';

/** A caller whose password (or refresh token) was checked. Anonymous callers have none. */
export interface Principal {
  account: string;
  groups: readonly string[];
}

/** The account name rules use for callers without credentials. */
const ANONYMOUS = 'anonymous';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Compiles a rule pattern: `*` matches any run of characters ("/" included, so `app/*` covers every repository under
 * app), `?` one character, `${account}` the caller's account and `${app}` the first path component of the repository.
 */
function matches(pattern: string, value: string, vars: { account: string; app: string }): boolean {
  let source = '';
  for (const token of pattern.split(/(\$\{account\}|\$\{app\}|\*|\?)/)) {
    if (token === '*') source += '.*';
    else if (token === '?') source += '.';
    else if (token === '${account}') source += escapeRegExp(vars.account);
    else if (token === '${app}') source += escapeRegExp(vars.app);
    else source += escapeRegExp(token);
  }
  return new RegExp(`^${source}$`, 's').test(value);
}

function accountMatches(rule: Rule, principal: Principal | undefined, app: string): boolean {
  if (rule.account === ANONYMOUS) return principal === undefined;
  if (principal === undefined) return false;
  const vars = { account: principal.account, app };
  if (rule.account.startsWith('group:')) {
    const pattern = rule.account.slice('group:'.length);
    return principal.groups.some((group) => matches(pattern, group, vars));
  }
  return matches(rule.account, principal.account, vars);
}

function resourceMatches(rule: Rule, scope: Scope, principal: Principal | undefined, app: string): boolean {
  if (rule.registry !== undefined) return scope.type === 'registry' && scope.name === rule.registry;
  return scope.type === 'repository' && matches(rule.repository, scope.name, { account: principal?.account ?? ANONYMOUS, app });
}

export class Policy {
  constructor(
    private readonly rules: readonly Rule[],
    private readonly mode: 'acl' | 'open',
  ) {}

  /** The actions the first matching rule allows, or none when no rule matches. */
  private allowedBy(principal: Principal | undefined, scope: Scope): ReadonlySet<string> {
    const app = scope.name.split('/')[0]!;
    const rule = this.rules.find((r) => accountMatches(r, principal, app) && resourceMatches(r, scope, principal, app));
    return new Set(rule?.actions ?? []);
  }

  /** What the caller may do on the scope's resource: its own first matching rule plus the anonymous one. */
  allowed(principal: Principal | undefined, scope: Scope): ReadonlySet<string> {
    const own = this.allowedBy(principal, scope);
    return principal === undefined ? own : new Set([...own, ...this.allowedBy(undefined, scope)]);
  }

  /**
   * The access to grant: each asked scope with the asked actions the policy allows (possibly none, as the token spec
   * wants), never an action that was not asked. A rule's "*" allows every action; asking "*" needs a "*" rule.
   * `extra[i]` adds actions allowed on asked[i] by other sources (grants.ts).
   */
  grant(principal: Principal | undefined, asked: readonly Scope[], extra: readonly ReadonlySet<string>[] = []): Scope[] {
    return asked.map((scope, i) => {
      if (this.mode === 'open') return { ...scope, actions: [...scope.actions] };
      const allowed = new Set([...this.allowed(principal, scope), ...(extra[i] ?? [])]);
      return { ...scope, actions: scope.actions.filter((action) => allowed.has('*') || allowed.has(action)) };
    });
  }
}
