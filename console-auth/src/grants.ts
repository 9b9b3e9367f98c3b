// Rights that come from elsewhere than console.yml's rules (LAIN SSO groups, anonymous_pull). What any of them allows
// on a scope is added to what the rules allow; none of them ever grants an action that was not asked.
import type { Principal } from './policy.js';
import type { Scope } from './scope.js';

export interface Grantor {
  /** The actions allowed to the caller on the scope's resource ("*": every action). */
  allowed(principal: Principal | undefined, scope: Scope): Promise<ReadonlySet<string>>;
}

const NONE: ReadonlySet<string> = new Set();
const PULL: ReadonlySet<string> = new Set(['pull']);

/** anonymous_pull: every caller, with or without credentials, may pull every repository (LAIN's console from 2018). */
export const anonymousPull: Grantor = {
  allowed: async (_principal, scope) => (scope.type === 'repository' ? PULL : NONE),
};

/** Per asked scope, the actions the grantors allow together. */
export async function extraRights(grantors: readonly Grantor[], principal: Principal | undefined, scopes: readonly Scope[]): Promise<ReadonlySet<string>[]> {
  return Promise.all(
    scopes.map(async (scope) => {
      const sets = await Promise.all(grantors.map((grantor) => grantor.allowed(principal, scope)));
      return new Set(sets.flatMap((set) => [...set]));
    }),
  );
}
