// console-auth checks passwords (bcrypt) off its event loop: while eight checks at cost 12 run, the same process
// keeps answering other requests.
import { expect } from 'chai';
import { startConsoleAuth, type ConsoleAuth } from '../helpers/console-auth.js';
import { answeredWhile } from '../helpers/event-loop.js';
import { call, tokenUrl } from '../helpers/http-call.js';

describe('console-auth password checks and the event loop', function () {
  let ca: ConsoleAuth;

  before(async function () {
    ca = await startConsoleAuth({ accounts: { dora: 'dora-secret', emil: 'emil-secret' }, cost: 12, ratelimit: { failures: 5, window: '1m' } });
  });

  after(async function () {
    await ca.stop();
  });

  it('answers cheap requests by the hundred while eight bcrypt checks at cost 12 are in flight', async function () {
    // Two accounts, four addresses each: within every login limit, so all eight are checked.
    const guesses = ['dora', 'emil'].flatMap((user) =>
      [1, 2, 3, 4].map((i) => call(tokenUrl(ca.realm, { service: ca.service }), { basic: [user, `wrong-${i}`], localAddress: `127.0.0.${40 + i}` })),
    );
    const checked = Promise.all(guesses);
    const answered = await answeredWhile(checked, () => call(`${ca.url}/cheap`));
    expect((await checked).map((a) => a.status)).to.deep.equal(Array(8).fill(401));
    // On the event loop, bcryptjs hands back control only every 100 ms per check: a few answers, not fifty.
    expect(answered).to.be.at.least(50);
  });
});
