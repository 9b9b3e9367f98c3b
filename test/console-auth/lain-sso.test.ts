// The lain-sso identity backend against a LAIN SSO stand-in (helpers/sso-standin.ts, not the real SSO): admin,
// app maintainer and outsider, the cache, the SSO URL and app-group prefix from etcd, and failing closed.
import { expect } from 'chai';
import { freePort, startEtcd, type Etcd } from '../helpers/processes.js';
import { startSsoStandin, type SsoStandin } from '../helpers/sso-standin.js';
import { startLainConsole, type LainConsole } from './lain-console.js';
import { call, decode, tokenUrl, type Answer } from '../helpers/http-call.js';

const PREFIX = 'lainapp-example.com';
const HELLO_GROUP = 'lainapp-example-com-hello';
const REDIRECT = 'http://console.example.com/api/v1/authorize/';

type Access = Array<{ type: string; name: string; actions: string[] }>;

function sso(url: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { backend: 'lain-sso', sso: { ...(url && { url }), clientid: 7, redirecturi: REDIRECT, cachettl: '1h', timeout: '2s', ...extra } };
}

async function token(console: LainConsole, user: string, password: string, scope: string[]): Promise<Answer> {
  return call(tokenUrl(console.realm, { service: console.service, scope }), { basic: [user, password] });
}

function accessOf(answer: Answer): Access {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  return decode(answer.body.token).payload.access ?? [];
}

describe('console-auth lain-sso: LAIN SSO groups decide (against an SSO stand-in)', function () {
  let standin: SsoStandin;
  let ca: LainConsole;

  before(async function () {
    standin = await startSsoStandin({
      clientId: '7',
      users: {
        root: { password: 'root-pw', groups: ['lain'] },
        mia: { password: 'mia-pw', groups: [HELLO_GROUP] },
        dot: { password: 'dot-pw', groups: ['lainapp-example-com-my-app'] },
        nested: { password: 'nested-pw', groups: ['team-x'] },
        olga: { password: 'olga-pw', groups: ['other'] },
        cachy: { password: 'cachy-pw', groups: [HELLO_GROUP] },
        dash: { password: 'dash-pw', groups: ['lainapp-example-com-a-b'] },
        dotted: { password: 'dotted-pw', groups: ['lainapp-example-com-c-d'] },
        plain: { password: 'plain-pw', groups: ['lainapp-example-com-e-f'] },
      },
      groupMembers: { [HELLO_GROUP]: ['team-x', 'lain'] },
      // What LAIN's console wrote when it created an app's group (`lain reposit`).
      fullnames: {
        'lainapp-example-com-my-app': 'lain app in example.com: my.app',
        'lainapp-example-com-a-b': 'lain app in example.com: a-b',
        'lainapp-example-com-c-d': 'lain app in example.com: c.d',
      },
    });
    ca = await startLainConsole({ identity: sso(standin.url, { appgroupprefix: PREFIX }) });
  });

  after(async function () {
    await ca.stop();
    await standin.stop();
  });

  it('gives a member of the admin group everything asked, catalog and delete included', async function () {
    const answer = await token(ca, 'root', 'root-pw', ['repository:hello:pull,push,delete', 'repository:any/thing:*', 'registry:catalog:*']);
    expect(decode(answer.body.token).payload.sub).to.equal('root');
    expect(accessOf(answer)).to.deep.equal([
      { type: 'repository', name: 'hello', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'any/thing', actions: ['*'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('gives an app maintainer pull and push on <app> and <app>/*, and nothing elsewhere', async function () {
    const answer = await token(ca, 'mia', 'mia-pw', ['repository:hello:pull,push,delete', 'repository:hello/worker:pull,push', 'repository:world:pull,push', 'registry:catalog:*']);
    expect(accessOf(answer)).to.deep.equal([
      { type: 'repository', name: 'hello', actions: ['pull', 'push'] },
      { type: 'repository', name: 'hello/worker', actions: ['pull', 'push'] },
      { type: 'repository', name: 'world', actions: [] },
      { type: 'registry', name: 'catalog', actions: [] },
    ]);
  });

  it('names an app with dots by the group with dashes, and counts membership through a member group', async function () {
    expect(accessOf(await token(ca, 'dot', 'dot-pw', ['repository:my.app:push']))).to.deep.equal([{ type: 'repository', name: 'my.app', actions: ['push'] }]);
    expect(accessOf(await token(ca, 'nested', 'nested-pw', ['repository:hello:push']))).to.deep.equal([{ type: 'repository', name: 'hello', actions: ['push'] }]);
  });

  it('gives an outsider with a right password a token with empty actions, and refuses wrong passwords with 401', async function () {
    expect(accessOf(await token(ca, 'olga', 'olga-pw', ['repository:hello:pull,push']))).to.deep.equal([{ type: 'repository', name: 'hello', actions: [] }]);
    for (const [user, password] of [['olga', 'wrong'], ['nobody', 'x']] as const) {
      const refused = await token(ca, user, password, ['repository:hello:pull']);
      expect(refused.status).to.equal(401);
      expect(refused.body.errors).to.deep.equal([{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }]);
      expect(refused.body).not.to.have.property('token');
    }
  });

  it('checks the password at every request but looks groups up once per TTL, also for requests arriving together', async function () {
    standin.resetCounts();
    const asked = ['repository:hello:pull,push', 'repository:hello/a:pull,push', 'repository:hello/b:pull'];
    const answers = await Promise.all(Array.from({ length: 20 }, () => token(ca, 'cachy', 'cachy-pw', asked)));
    for (const answer of answers) expect(accessOf(answer).map((a) => a.actions)).to.deep.equal([['pull', 'push'], ['pull', 'push'], ['pull']]);
    // One user lookup, one membership lookup for the admin group (the app group is among the user's own groups), at
    // most one look at the app group's fullname (cached already when an earlier test read it). Identical credentials
    // arriving together share one password check.
    const { auth, user, member, group } = standin.counts();
    expect({ user, member }).to.deep.equal({ user: 1, member: 1 });
    expect(group).to.be.at.most(1);
    expect(auth).to.be.within(1, 20);
    await token(ca, 'cachy', 'cachy-pw', asked);
    await token(ca, 'cachy', 'cachy-pw', asked);
    expect(standin.counts().auth).to.equal(auth + 2);
  });

  it('gives an app group\'s rights to the one app its fullname names, never to the app spelled with dots for dashes or back', async function () {
    const push = async (user: string, app: string): Promise<string[]> => accessOf(await token(ca, user, `${user}-pw`, [`repository:${app}:push`]))[0]!.actions;
    // The group lainapp-example-com-a-b serves both a-b and a.b by LAIN's mapping; its fullname says which.
    expect(await push('dash', 'a-b')).to.deep.equal(['push']);
    expect(await push('dash', 'a.b')).to.deep.equal([]);
    expect(await push('dotted', 'c.d')).to.deep.equal(['push']);
    expect(await push('dotted', 'c-d')).to.deep.equal([]);
    // A group whose fullname names no app serves the app its own name spells, not a dotted twin.
    expect(await push('plain', 'e-f')).to.deep.equal(['push']);
    expect(await push('plain', 'e.f')).to.deep.equal([]);
    const warning = ca.logLines().find((l) => l.app === 'e.f');
    expect(String(warning?.msg)).to.include('lainapp-example-com-e-f').and.match(/"lain app in .+: e\.f"/);
  });

  it('never lets one account\'s rights into another\'s request, however the requests interleave', async function () {
    const asks = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? ['root', 'root-pw'] : i % 3 === 1 ? ['olga', 'olga-pw'] : ['mia', 'mia-pw']) as [string, string]);
    const answers = await Promise.all(asks.map(([user, password]) => token(ca, user, password, ['repository:hello:pull,push,delete'])));
    answers.forEach((answer, i) => {
      const user = asks[i]![0];
      expect(decode(answer.body.token).payload.sub).to.equal(user);
      const expected = user === 'root' ? ['pull', 'push', 'delete'] : user === 'mia' ? ['pull', 'push'] : [];
      expect(accessOf(answer), user).to.deep.equal([{ type: 'repository', name: 'hello', actions: expected }]);
    });
  });

  it('fails closed with a 401 saying so when SSO does not answer', async function () {
    const dead = await startLainConsole({ identity: sso(`http://127.0.0.1:${await freePort()}`, { appgroupprefix: PREFIX }) });
    try {
      const refused = await token(dead, 'root', 'root-pw', ['repository:hello:pull']);
      expect(refused.status).to.equal(401);
      expect(refused.body.error).to.equal('temporarily_unavailable');
      expect(String(refused.body.error_description)).to.match(/^LAIN SSO at http:\/\/127\.0\.0\.1:\d+ is unreachable or failing \(ECONNREFUSED\).*try again later$/);
      expect(refused.body).not.to.have.property('token');
    } finally {
      await dead.stop();
    }
  });
});

describe('console-auth lain-sso: the SSO URL and app-group prefix from etcd', function () {
  let etcd: Etcd;
  let standin: SsoStandin;
  let ca: LainConsole;

  before(async function () {
    etcd = await startEtcd();
    standin = await startSsoStandin({ clientId: '7', users: { mia: { password: 'mia-pw', groups: [HELLO_GROUP] } } });
    ca = await startLainConsole({ identity: sso(undefined), etcd: { endpoints: [etcd.endpoint], poll: '100ms' } });
  });

  after(async function () {
    await ca.stop();
    await standin.stop();
    await etcd.stop();
  });

  it('refuses with 401 and the etcdctl command to run while /lain/config/auth/console is not set', async function () {
    const refused = await token(ca, 'mia', 'mia-pw', ['repository:hello:push']);
    expect(refused.status).to.equal(401);
    expect(String(refused.body.error_description)).to.include('LAIN SSO is not configured').and.include(`etcdctl set /lain/config/auth/console '{"type":"lain-sso","url":"http://sso.<domain>"}'`);
  });

  it('uses the URL `etcdctl set` puts in /lain/config/auth/console and the prefix lainapp-<domain> of /lain/config/domain', async function () {
    // The domain first: a poll that sees the URL then sees the domain too.
    await etcd.setV2('/lain/config/domain', 'example.com');
    await etcd.setV2('/lain/config/auth/console', JSON.stringify({ type: 'lain-sso', url: standin.url }));
    // The console polls etcd every 100ms: wait for the key to be read rather than for a time.
    let answer = await token(ca, 'mia', 'mia-pw', ['repository:hello:push']);
    for (let tries = 0; answer.status !== 200 && tries < 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await token(ca, 'mia', 'mia-pw', ['repository:hello:push']);
    }
    expect(accessOf(answer)).to.deep.equal([{ type: 'repository', name: 'hello', actions: ['push'] }]);
  });
});
