// What LAIN's clients (lain-cli, lainctl, the registry cleaner) rely on, anonymous_pull, and the faults of LAIN's
// console that must not come back: a 500 for a bad scope, a previous request's access reused, rights shared.
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { startLainConsole, type LainConsole } from './lain-console.js';
import { call, decode, tokenUrl, type Answer } from '../helpers/http-call.js';

type Access = Array<{ type: string; name: string; actions: string[] }>;

function accessOf(answer: Answer): Access | undefined {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
  return decode(answer.body.token).payload.access;
}

async function accounts(): Promise<Record<string, { password: string }>> {
  return {
    alice: { password: await bcrypt.hash('alice-pw', 4) },
    bob: { password: await bcrypt.hash('bob-pw', 4) },
  };
}

const RULES = [{ account: 'alice', repository: '*', actions: ['*'] }];

describe('console-auth anonymous_pull', function () {
  let off: LainConsole;
  let on: LainConsole;

  before(async function () {
    off = await startLainConsole({ accounts: await accounts(), rules: RULES });
    on = await startLainConsole({ accounts: await accounts(), rules: RULES, anonymous_pull: true });
  });

  after(async function () {
    await off.stop();
    await on.stop();
  });

  it('is off by default: a caller without credentials gets nothing', async function () {
    expect(accessOf(await call(tokenUrl(off.realm, { scope: 'repository:hello:pull' })))).to.deep.equal([{ type: 'repository', name: 'hello', actions: [] }]);
  });

  it('when on, grants pull to every caller without credentials, and nothing more', async function () {
    const asked = { scope: ['repository:hello:pull', 'repository:hello/web:pull,push', 'registry:catalog:*'] };
    expect(accessOf(await call(tokenUrl(on.realm, asked)))).to.deep.equal([
      { type: 'repository', name: 'hello', actions: ['pull'] },
      { type: 'repository', name: 'hello/web', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: [] },
    ]);
    expect(accessOf(await call(tokenUrl(on.realm, asked), { basic: ['bob', 'bob-pw'] }))?.map((a) => a.actions)).to.deep.equal([['pull'], ['pull'], []]);
    expect((await call(tokenUrl(on.realm, asked), { basic: ['bob', 'wrong'] })).status).to.equal(401);
  });
});

describe('console-auth wire compatibility with LAIN clients (http.anymethod)', function () {
  let ca: LainConsole;

  before(async function () {
    ca = await startLainConsole({ accounts: await accounts(), rules: RULES, http: { anymethod: true } });
  });

  after(async function () {
    await ca.stop();
  });

  it('answers every method like GET, with the token in "token", as LAIN\'s console did', async function () {
    const url = tokenUrl(ca.realm, { service: ca.service, scope: 'repository:hello:push' });
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'POST'] as const) {
      const answer = await call(url, { method, basic: ['alice', 'alice-pw'] });
      expect(answer.body, method).to.include.keys('token', 'access_token');
      expect(accessOf(answer), method).to.deep.equal([{ type: 'repository', name: 'hello', actions: ['push'] }]);
    }
    expect((await call(url, { method: 'HEAD', basic: ['alice', 'alice-pw'] })).status).to.equal(200);
    // An OAuth2 form POST is still one.
    const form = await call(ca.realm, { form: { grant_type: 'password', client_id: 'lain-cli', username: 'alice', password: 'alice-pw', scope: 'repository:hello:pull' } });
    expect(accessOf(form)).to.deep.equal([{ type: 'repository', name: 'hello', actions: ['pull'] }]);
  });

  it('answers several scope parameters, each one', async function () {
    const answer = await call(tokenUrl(ca.realm, { scope: ['repository:hello:pull', 'repository:world:push', 'repository:hello/a:pull,push'] }), { method: 'PUT', basic: ['alice', 'alice-pw'] });
    expect(accessOf(answer)?.map((a) => `${a.name}:${a.actions.join(',')}`)).to.deep.equal(['hello:pull', 'world:push', 'hello/a:pull,push']);
  });

  it('refuses with a 401 whose body says why', async function () {
    const refused = await call(tokenUrl(ca.realm, { scope: 'repository:hello:push' }), { method: 'DELETE', basic: ['alice', 'nope'] });
    expect(refused.status).to.equal(401);
    expect(refused.headers['content-type']).to.match(/^application\/json/);
    expect(refused.body).to.deep.include({ error_description: 'incorrect username or password' });
  });

  it('answers a malformed scope or Authorization header with 400 and a message, never 500', async function () {
    const cases: Array<[string, Record<string, string | string[]>, Record<string, string>]> = [
      ['scope without actions', { scope: 'repository:hello' }, {}],
      ['scope with a bad name', { scope: 'repository:Hello World:pull' }, {}],
      ['scope with a bad action', { scope: 'repository:hello:pull;rm' }, {}],
      ['one bad scope among good ones', { scope: ['repository:hello:pull', ':::'] }, {}],
      ['Basic that is not base64', { scope: 'repository:hello:pull' }, { Authorization: 'Basic %%%' }],
      ['Basic without a colon', { scope: 'repository:hello:pull' }, { Authorization: `Basic ${Buffer.from('alice').toString('base64')}` }],
      ['another scheme', { scope: 'repository:hello:pull' }, { Authorization: 'Digest x' }],
    ];
    for (const [what, params, headers] of cases) {
      for (const method of ['GET', 'PUT'] as const) {
        const answer = await call(tokenUrl(ca.realm, params), { method, headers });
        expect(answer.status, `${what} (${method})`).to.equal(400);
        expect(String(answer.body.error_description), what).to.not.equal('');
      }
    }
  });

  it('answers a request without scope with an empty access, never the previous request\'s', async function () {
    expect(accessOf(await call(tokenUrl(ca.realm, { scope: 'repository:hello:pull,push' }), { basic: ['alice', 'alice-pw'] }))).to.have.length(1);
    expect(accessOf(await call(tokenUrl(ca.realm, {}), { basic: ['alice', 'alice-pw'] }))).to.deep.equal([]);
    expect(accessOf(await call(tokenUrl(ca.realm, {}), { method: 'PUT' }))).to.deep.equal([]);
  });

  it('never gives one account\'s rights to the next caller', async function () {
    const scope = 'repository:hello:pull,push';
    for (let i = 0; i < 3; i++) {
      expect(accessOf(await call(tokenUrl(ca.realm, { scope }), { basic: ['alice', 'alice-pw'] }))?.[0]?.actions).to.deep.equal(['pull', 'push']);
      const bob = await call(tokenUrl(ca.realm, { scope }), { basic: ['bob', 'bob-pw'] });
      expect(decode(bob.body.token).payload.sub).to.equal('bob');
      expect(accessOf(bob)?.[0]?.actions).to.deep.equal([]);
      expect(accessOf(await call(tokenUrl(ca.realm, { scope })))?.[0]?.actions).to.deep.equal([]);
    }
  });
});
