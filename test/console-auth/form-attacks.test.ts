// Attacks on the token endpoint's POST form and GET query: repeated fields, bracketed keys a nested-form parser
// would turn into arrays and objects, and generated bodies mixing them. Every answer is a 200, 400, 401 or 429 with
// a readable body and one audit line, never a 500.
import { expect } from 'chai';
import fc from 'fast-check';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { call, decode, type Answer } from '../helpers/http-call.js';

const LOGIN = { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'fuzz' };
const FIELDS = ['grant_type', 'username', 'password', 'client_id', 'service', 'scope', 'refresh_token', 'access_type', 'offline_token', 'account', 'other'];

function form(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

function message(answer: Answer): string {
  return String(answer.body.error_description);
}

describe('console-auth token endpoint: form and query attacks', function () {
  let ca: ConsoleAuth;

  before(async function () {
    ca = await startConsoleAuth({ accounts: { alice: 'alice-secret' }, rules: [{ account: 'alice', repository: '*', actions: ['*'] }], ratelimit: { failures: 100_000, window: '1m' } });
  });

  after(async function () {
    await ca.stop();
  });

  const audits = (): number => ca.logLines().filter((l) => l.audit !== undefined).length;

  it('grants a POST of 21 and of 100 scope fields, as many as the docs allow', async function () {
    for (const n of [21, 100]) {
      const scopes = Array.from({ length: n }, (_, i) => ['scope', `repository:r${i}:pull`] as const);
      const answer = await call(ca.realm, { formText: form([...Object.entries(LOGIN), ...scopes]) });
      expect(answer.status, `${n} scopes: ${JSON.stringify(answer.body)}`).to.equal(200);
      expect(decode(answer.body.token).payload.access).to.have.length(n);
    }
  });

  it('refuses bracketed keys with 400 naming the key, never reading them as arrays or objects', async function () {
    const cases: Array<[string, RegExp]> = [
      [form([...Object.entries(LOGIN), ['scope[a]', 'repository:x:pull']]), /"scope\[a\]"/],
      [form([['grant_type', 'password'], ['username', 'alice'], ['password[a]', 'x'], ['client_id', 'c']]), /"password\[a\]"/],
      [form([['grant_type[]', 'password'], ['username', 'alice'], ['password', 'x'], ['client_id', 'c']]), /"grant_type\[\]"/],
      ['grant_type=password&username=alice&password=alice-secret&client_id=c&scope[0]=repository:x:pull', /"scope\[0\]"/],
    ];
    for (const [body, named] of cases) {
      const before = audits();
      const answer = await call(ca.realm, { formText: body });
      expect(answer.status, body).to.equal(400);
      expect(message(answer), body).to.match(named).and.match(/plain name=value/);
      expect(audits(), body).to.equal(before + 1);
    }
  });

  it('refuses a field given twice where one is expected with 400 saying so', async function () {
    for (const field of ['grant_type', 'username', 'password', 'client_id', 'service', 'refresh_token', 'access_type']) {
      const body = `${form(Object.entries(LOGIN))}&${field}=a&${field}=b`;
      const answer = await call(ca.realm, { formText: body });
      expect(answer.status, field).to.equal(400);
      expect(message(answer), field).to.match(new RegExp(`${field} is given [23] times; give it once`));
    }
  });

  it('refuses bracketed keys in a GET query too', async function () {
    const answer = await call(`${ca.realm}?service=${ca.service}&scope[a]=repository:x:pull`, { basic: ['alice', 'alice-secret'] });
    expect(answer.status).to.equal(400);
    expect(message(answer)).to.match(/"scope\[a\]"/);
  });

  it('answers generated forms with 200, 400, 401 or 429 and one audit line each, never 500', async function () {
    const key = fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom('', '', '', '[]', '[a]', '[0]', '[__proto__]', '.x')).map(([name, suffix]) => name + suffix);
    const value = fc.oneof(fc.constantFrom('password', 'alice', 'alice-secret', 'repository:a:pull', 'offline', ca.service), fc.string({ maxLength: 20 }));
    const pair = fc.tuple(key, value);
    const body = fc.oneof(fc.array(pair, { maxLength: 30 }).map(form), fc.string({ maxLength: 60 }));
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const before = audits();
        const answer = await call(ca.realm, { formText: text });
        expect([200, 400, 401, 429], `${text}: ${JSON.stringify(answer.body)}`).to.include(answer.status);
        if (answer.status !== 200) expect(message(answer)).to.not.equal('undefined');
        expect(audits(), text).to.equal(before + 1);
      }),
      { numRuns: 300 },
    );
  });
});
