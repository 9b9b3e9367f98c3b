// LAIN's rights from SSO groups: the admin group may do anything, an app's group (`<prefix>-<app>`) may pull and push
// the app's repository and every repository under it (`<app>/*`), provided the group is that app's and not the group
// of the app spelled with dashes for dots or back (LainSsoIdentity.groupServes).
import type { Logger } from '../../registry/src/log.js';
import type { Grantor } from './grants.js';
import type { LainSsoIdentity } from './lain-sso.js';
import type { Principal } from './policy.js';
import type { Scope } from './scope.js';

const NONE: ReadonlySet<string> = new Set();
const ALL: ReadonlySet<string> = new Set(['*']);
const PULL_PUSH: ReadonlySet<string> = new Set(['pull', 'push']);

export class SsoGroupRights implements Grantor {
  constructor(
    private readonly sso: LainSsoIdentity,
    private readonly logger: Logger,
  ) {}

  async allowed(principal: Principal | undefined, scope: Scope): Promise<ReadonlySet<string>> {
    if (principal === undefined || (scope.type !== 'repository' && scope.type !== 'registry')) return NONE;
    if (await this.sso.memberOf(principal.account, this.sso.adminGroup)) return ALL;
    if (scope.type !== 'repository') return NONE;
    const app = scope.name.split('/')[0]!;
    const group = this.sso.appGroup(app);
    if (group === undefined || !(await this.sso.memberOf(principal.account, group))) return NONE;
    const serves = await this.sso.groupServes(group, app);
    if (serves.serves) return PULL_PUSH;
    this.logger.warn({ account: principal.account, app, group }, `no rights on ${app} through SSO group ${group}: ${serves.reason}`);
    return NONE;
  }
}
