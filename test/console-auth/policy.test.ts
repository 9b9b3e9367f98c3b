import { expect } from 'chai';
import type { Rule } from '../../console-auth/src/config.js';
import { Policy, type Principal } from '../../console-auth/src/policy.js';
import { parseScope, parseScopes, ScopeError, type Scope } from '../../console-auth/src/scope.js';

const alice: Principal = { account: 'alice', groups: [] };
const bob: Principal = { account: 'bob', groups: [] };
const carol: Principal = { account: 'carol', groups: ['hello-maintainers'] };

const repo = (name: string, ...actions: string[]): Scope => ({ type: 'repository', name, actions });
const actionsOf = (policy: Policy, who: Principal | undefined, scope: Scope): string[] => policy.grant(who, [scope])[0]!.actions;

describe('console-auth policy', function () {
  describe('the issue example: alice everything, bob pull', function () {
    const policy = new Policy(
      [
        { account: 'alice', repository: '*', actions: ['*'] },
        { account: 'bob', repository: '*', actions: ['pull'] },
      ],
      'acl',
    );

    it('grants alice what she asks, on nested names too, and never more than asked', function () {
      expect(actionsOf(policy, alice, repo('team/app/web', 'pull', 'push'))).to.deep.equal(['pull', 'push']);
      expect(actionsOf(policy, alice, repo('app', 'pull'))).to.deep.equal(['pull']);
      expect(actionsOf(policy, alice, repo('app', 'delete', '*'))).to.deep.equal(['delete', '*']);
    });

    it('grants bob pull only: the intersection of asked and allowed', function () {
      expect(actionsOf(policy, bob, repo('app', 'pull', 'push'))).to.deep.equal(['pull']);
      expect(actionsOf(policy, bob, repo('app', 'push'))).to.deep.equal([]);
    });

    it('answers every asked scope, with empty actions where nothing is allowed', function () {
      const granted = policy.grant(undefined, [repo('a', 'pull'), repo('b', 'push')]);
      expect(granted).to.deep.equal([repo('a'), repo('b')]);
    });

    it('does not open the catalog through repository rules', function () {
      expect(actionsOf(policy, alice, { type: 'registry', name: 'catalog', actions: ['*'] })).to.deep.equal([]);
    });
  });

  it('decides by the first rule that matches account and repository', function () {
    const policy = new Policy(
      [
        { account: 'alice', repository: 'prod/*', actions: ['pull'] },
        { account: 'alice', repository: '*', actions: ['*'] },
      ],
      'acl',
    );
    expect(actionsOf(policy, alice, repo('prod/db', 'pull', 'push'))).to.deep.equal(['pull']);
    expect(actionsOf(policy, alice, repo('dev/db', 'pull', 'push'))).to.deep.equal(['pull', 'push']);
  });

  it('expands ${account} so each user owns a namespace', function () {
    const policy = new Policy([{ account: '*', repository: '${account}/*', actions: ['pull', 'push', 'delete'] }], 'acl');
    expect(actionsOf(policy, alice, repo('alice/tool', 'push'))).to.deep.equal(['push']);
    expect(actionsOf(policy, bob, repo('alice/tool', 'push'))).to.deep.equal([]);
    expect(actionsOf(policy, undefined, repo('anonymous/tool', 'pull'))).to.deep.equal([]);
  });

  it('matches groups with ${app}, the first path component, so an app\'s maintainers push <app> and <app>/*', function () {
    const policy = new Policy([{ account: 'group:${app}-maintainers', repository: '*', actions: ['pull', 'push'] }], 'acl');
    expect(actionsOf(policy, carol, repo('hello', 'push'))).to.deep.equal(['push']);
    expect(actionsOf(policy, carol, repo('hello/worker', 'push'))).to.deep.equal(['push']);
    expect(actionsOf(policy, carol, repo('other', 'push'))).to.deep.equal([]);
    expect(actionsOf(policy, alice, repo('hello', 'push'))).to.deep.equal([]);
  });

  it('treats glob characters literally except * and ?, and regex characters in names as text', function () {
    const policy = new Policy([{ account: 'alice', repository: 'lib-?/a.b', actions: ['pull'] }], 'acl');
    expect(actionsOf(policy, alice, repo('lib-1/a.b', 'pull'))).to.deep.equal(['pull']);
    expect(actionsOf(policy, alice, repo('lib-1/axb', 'pull'))).to.deep.equal([]);
    expect(actionsOf(policy, alice, repo('lib-12/a.b', 'pull'))).to.deep.equal([]);
  });

  it('gives anonymous callers pull where a rule allows it, and everyone at least what anonymous gets', function () {
    const rules: Rule[] = [
      { account: 'bob', repository: 'public/*', actions: ['push'] },
      { account: 'anonymous', repository: 'public/*', actions: ['pull'] },
    ];
    const policy = new Policy(rules, 'acl');
    expect(actionsOf(policy, undefined, repo('public/base', 'pull', 'push'))).to.deep.equal(['pull']);
    expect(actionsOf(policy, undefined, repo('private/base', 'pull'))).to.deep.equal([]);
    expect(actionsOf(policy, bob, repo('public/base', 'pull', 'push'))).to.deep.equal(['pull', 'push']);
    expect(actionsOf(policy, alice, repo('public/base', 'pull', 'push'))).to.deep.equal(['pull']);
  });

  it('does not let "*" accounts match anonymous callers', function () {
    const policy = new Policy([{ account: '*', repository: '*', actions: ['pull'] }], 'acl');
    expect(actionsOf(policy, undefined, repo('app', 'pull'))).to.deep.equal([]);
    expect(actionsOf(policy, bob, repo('app', 'pull'))).to.deep.equal(['pull']);
  });

  it('opens the catalog with a registry: catalog rule', function () {
    const policy = new Policy([{ account: 'alice', registry: 'catalog', actions: ['*'] }], 'acl');
    expect(actionsOf(policy, alice, { type: 'registry', name: 'catalog', actions: ['*'] })).to.deep.equal(['*']);
    expect(actionsOf(policy, bob, { type: 'registry', name: 'catalog', actions: ['*'] })).to.deep.equal([]);
  });

  it('in open mode grants every request what it asks, anonymous included', function () {
    const policy = new Policy([], 'open');
    expect(actionsOf(policy, undefined, repo('any/thing', 'pull', 'push', 'delete'))).to.deep.equal(['pull', 'push', 'delete']);
  });
});

describe('console-auth scopes', function () {
  it('parses type, name and actions, deduplicating actions', function () {
    expect(parseScope('repository:library/nginx:pull,push,pull')).to.deep.equal(repo('library/nginx', 'pull', 'push'));
    expect(parseScope('registry:catalog:*')).to.deep.equal({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('repository(plugin):vieux/sshfs:pull').type).to.equal('repository(plugin)');
  });

  it('reads repeated parameters and space-separated scopes in one value', function () {
    expect(parseScopes(['repository:a:pull repository:b:push', 'registry:catalog:*']).map((s) => s.name)).to.deep.equal(['a', 'b', 'catalog']);
    expect(parseScopes([])).to.deep.equal([]);
  });

  for (const bad of ['repository', 'repository:foo', 'repository:Foo:pull', 'repository::pull', 'repository:foo:', 'repository:foo:pull;rm', 'Repo:foo:pull', 'repository:host:5000/foo:pull', ':foo:pull']) {
    it(`refuses the malformed scope ${JSON.stringify(bad)} with a message`, function () {
      expect(() => parseScope(bad)).to.throw(ScopeError, /scope/);
    });
  }
});
