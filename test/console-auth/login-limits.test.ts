// Attacks on console-auth's login limits, over HTTP from several loopback addresses: guesses sent all at once, a
// flood at many accounts from one address, and a stranger trying to lock an owner out from elsewhere.
import { expect } from 'chai';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { call, tokenUrl, type Answer } from '../helpers/http-call.js';

const RULES = [{ account: '*', repository: '*', actions: ['pull'] }];

function statuses(answers: readonly Answer[]): Record<number, number> {
  const counted: Record<number, number> = {};
  for (const answer of answers) counted[answer.status] = (counted[answer.status] ?? 0) + 1;
  return counted;
}

function loginTo(ca: ConsoleAuth) {
  return (user: string, password: string, localAddress: string): Promise<Answer> =>
    call(tokenUrl(ca.realm, { service: ca.service }), { basic: [user, password], localAddress });
}

describe('console-auth login limits: guesses sent at once', function () {
  let ca: ConsoleAuth;
  let login: ReturnType<typeof loginTo>;

  before(async function () {
    ca = await startConsoleAuth({
      accounts: { alice: 'alice-secret', dan: 'dan-secret', eve: 'eve-secret', fay: 'fay-secret' },
      rules: RULES,
      ratelimit: { failures: 5, window: '1h' },
      // A check long enough (0.3 s) for guesses sent together to arrive while the first ones are being checked.
      cost: 12,
    });
    login = loginTo(ca);
  });

  after(async function () {
    await ca.stop();
  });

  it('checks no more than the budget of 40 guesses sent at once, and answers the others 429 unchecked', async function () {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login('alice', `guess-${i}`, '127.0.0.11')));
    const counted = statuses(answers);
    // A 401 is a guess that was checked; the budget counts a guess when it arrives, not when its check ends.
    expect(counted[401] ?? 0, JSON.stringify(counted)).to.be.within(1, 5);
    expect(counted[429], JSON.stringify(counted)).to.equal(40 - (counted[401] ?? 0));
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(Number(refused.headers['retry-after'])).to.be.at.least(1);
      expect(refused.body.errors).to.deep.include({ code: 'TOOMANYREQUESTS', message: String(refused.body.error_description) });
    }
    // Once the checked guesses fill the budget, even the right password from that address is refused.
    for (let checked = counted[401] ?? 0; checked < 5; checked++) expect((await login('alice', `late-${checked}`, '127.0.0.11')).status).to.equal(401);
    expect((await login('alice', 'alice-secret', '127.0.0.11')).status).to.equal(429);
  });

  it('checks no more than five guesses per account when 200 guesses at three accounts arrive from one address at once', async function () {
    const users = ['dan', 'eve', 'fay'];
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => login(users[i % 3]!, `guess-${i}`, '127.0.0.12')));
    const counted = statuses(answers);
    expect(counted[401] ?? 0, JSON.stringify(counted)).to.be.within(3, 15);
    expect(counted[429], JSON.stringify(counted)).to.equal(200 - (counted[401] ?? 0));
    const refusals = ca.logLines().filter((l) => l.audit === 'refusal' && l.address === '127.0.0.12');
    expect(refusals).to.have.length(200);
  });

});

describe('console-auth login limits: nobody locks an owner out', function () {
  let ca: ConsoleAuth;
  let login: ReturnType<typeof loginTo>;

  before(async function () {
    ca = await startConsoleAuth({ accounts: { bob: 'bob-secret', carol: 'carol-secret' }, rules: RULES, ratelimit: { failures: 5, window: '1h' } });
    login = loginTo(ca);
  });

  after(async function () {
    await ca.stop();
  });

  it('lets the owner in from another address after five wrong passwords from one address', async function () {
    for (let i = 0; i < 5; i++) expect((await login('bob', `wrong-${i}`, '127.0.0.13')).status).to.equal(401);
    expect((await login('bob', 'bob-secret', '127.0.0.14')).status).to.equal(200);
    // The address that failed is still refused for that account, even with the right password.
    expect((await login('bob', 'bob-secret', '127.0.0.13')).status).to.equal(429);
  });

  it('lets the owner in after wrong passwords spread over six addresses, slowing down but never refusing', async function () {
    for (let i = 0; i < 6; i++) expect((await login('carol', `wrong-${i}`, `127.0.0.${20 + i}`)).status).to.equal(401);
    expect((await login('carol', 'carol-secret', '127.0.0.30')).status).to.equal(200);
  });
});

describe('console-auth login limits: per address', function () {
  let ca: ConsoleAuth;

  before(async function () {
    ca = await startConsoleAuth({ accounts: { carol: 'carol-secret' }, rules: RULES, ratelimit: { failures: 5, addressfailures: 3, window: '1h' } });
  });

  after(async function () {
    await ca.stop();
  });

  it('refuses an address that failed at several accounts, whatever account it tries next, and no other address', async function () {
    const login = loginTo(ca);
    for (const user of ['x1', 'x2', 'x3']) expect((await login(user, 'guess', '127.0.0.3')).status).to.equal(401);
    const refused = await login('carol', 'carol-secret', '127.0.0.3');
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 3600);
    expect(String(refused.body.error_description)).to.match(/too many failed logins from your address/);
    expect((await login('carol', 'carol-secret', '127.0.0.4')).status).to.equal(200);
    expect(ca.logLines().find((l) => l.audit === 'refusal' && l.status === 429)).to.deep.include({ account: 'carol', address: '127.0.0.3' });
  });
});
