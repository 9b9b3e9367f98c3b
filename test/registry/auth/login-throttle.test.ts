import { expect } from 'chai';
import { LoginThrottle, RUNNING_TOTAL, TooManyAttempts, type RunCheck } from '../../../registry/src/auth/login-throttle.js';

const POLICY = { pairFailures: 5, addressFailures: 8, windowMs: 60_000 };

/** A check the test answers when it likes. */
function deferred(): { promise: Promise<boolean>; answer(right: boolean): void } {
  let answer: (right: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((resolve) => (answer = resolve));
  return { promise, answer };
}

/** A throttle on a clock the test moves, whose slowdown waits are recorded and not waited. */
function throttleAt(policy = POLICY): { throttle: LoginThrottle; clock: { now: number }; waits: number[] } {
  const clock = { now: 1_000_000 };
  const waits: number[] = [];
  const throttle = new LoginThrottle(
    policy,
    () => clock.now,
    async (ms) => waits.push(ms),
  );
  return { throttle, clock, waits };
}

/** One attempt whose check answers at once: the account when right, undefined when wrong. */
function login(throttle: LoginThrottle, account: string, address: string, password: string, right: boolean): Promise<string | undefined> {
  return throttle.attempt(account, address, password, (run) => run(async () => (right ? account : undefined)));
}

async function refusal(attempt: Promise<unknown>): Promise<TooManyAttempts> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(TooManyAttempts);
  return err as TooManyAttempts;
}

describe('login limits (registry/src/auth/login-throttle)', function () {
  it('counts a guess when it arrives: the sixth sent while five are being checked is refused unchecked', async function () {
    const { throttle } = throttleAt();
    const checks = Array.from({ length: 5 }, deferred);
    let checked = 0;
    const attempts = checks.map((check, i) =>
      throttle.attempt('alice', '10.0.0.1', `guess-${i}`, (run) => run(async () => ((checked++, await check.promise) ? 'alice' : undefined))),
    );
    // The fifth is refused by the bound on checks of one account in flight (4); it still counted when it arrived.
    const settled = Promise.allSettled(attempts);
    const sixth = await refusal(throttle.attempt('alice', '10.0.0.1', 'guess-6', async () => 'never checked'));
    expect(sixth.retryAfter).to.equal(1);
    expect(sixth.message).to.match(/too many failed logins for this account from your address/);
    expect(checked).to.equal(4);
    for (const check of checks) check.answer(false);
    expect((await settled).map((result) => result.status)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  });

  it('counts the same guess arriving several times at once as one attempt', async function () {
    const { throttle } = throttleAt();
    const check = deferred();
    const same = Array.from({ length: 10 }, () => throttle.attempt('alice', '10.0.0.1', 'same', async () => ((await check.promise) ? 'alice' : undefined)));
    for (let i = 0; i < 4; i++) void login(throttle, 'alice', '10.0.0.1', `other-${i}`, false);
    check.answer(false);
    await Promise.all(same);
    // One failure for the ten copies, four for the others: the budget of five is spent, not exceeded.
    await refusal(login(throttle, 'alice', '10.0.0.1', 'one more', true));
  });

  it('refuses a pair past its failures until the oldest leaves the window, and lets a right password reset it', async function () {
    const { throttle, clock } = throttleAt({ ...POLICY, addressFailures: 20 });
    for (let i = 0; i < 5; i++) {
      await login(throttle, 'alice', '10.0.0.1', `wrong-${i}`, false);
      clock.now += 1000;
    }
    const refused = await refusal(login(throttle, 'alice', '10.0.0.1', 'right', true));
    expect(refused.retryAfter).to.equal(55);
    clock.now += 55_000;
    expect(await login(throttle, 'alice', '10.0.0.1', 'right', true)).to.equal('alice');
    // The right password cleared the pair: five more wrong ones are allowed again.
    for (let i = 0; i < 5; i++) expect(await login(throttle, 'alice', '10.0.0.1', `again-${i}`, false)).to.equal(undefined);
  });

  it('never refuses an account from an address that has not failed, however many failed elsewhere', async function () {
    const { throttle, waits } = throttleAt();
    for (let i = 0; i < 7; i++) await login(throttle, 'alice', `10.0.1.${i}`, `wrong-${i}`, false);
    expect(await login(throttle, 'alice', '10.0.2.1', 'right', true)).to.equal('alice');
    // Past five failures of the account, each check waits first, longer with each failure.
    expect(waits).to.deep.equal([250, 500, 1000]);
  });

  it('refuses an address past its failures at any accounts, and no other address', async function () {
    const { throttle } = throttleAt();
    for (let i = 0; i < 8; i++) await login(throttle, `user-${i}`, '10.0.0.9', 'guess', false);
    const refused = await refusal(login(throttle, 'carol', '10.0.0.9', 'right', true));
    expect(refused.message).to.match(/too many failed logins from your address/);
    expect(await login(throttle, 'carol', '10.0.0.10', 'right', true)).to.equal('carol');
  });

  it('bounds checks in flight per account and per address, refusing past them without checking', async function () {
    const { throttle } = throttleAt({ pairFailures: 100, addressFailures: 100, windowMs: 60_000 });
    const check = deferred();
    const slow = (account: string, address: string, password: string): Promise<string | undefined> =>
      throttle.attempt(account, address, password, (run: RunCheck) => run(async () => ((await check.promise) ? account : undefined)));
    const running = [1, 2, 3, 4].map((i) => slow('alice', `10.0.3.${i}`, `a-${i}`));
    expect((await refusal(slow('alice', '10.0.3.9', 'a-9'))).message).to.match(/this account are being checked at once/);
    running.push(...[1, 2, 3, 4].map((i) => slow(`user-${i}`, '10.0.4.1', `b-${i}`)));
    expect((await refusal(slow('user-9', '10.0.4.1', 'b-9'))).message).to.match(/your address are being checked at once/);
    check.answer(false);
    await Promise.all(running);
    // A refusal for lack of room is not a failure: the account's budget from 10.0.3.9 is whole.
    expect(await login(throttle, 'alice', '10.0.3.9', 'right', true)).to.equal('alice');
  });

  it(`bounds checks in flight in the whole process to ${RUNNING_TOTAL}`, async function () {
    const { throttle } = throttleAt();
    const check = deferred();
    const running = Array.from({ length: RUNNING_TOTAL }, (_, i) =>
      throttle.attempt(`user-${i}`, `10.1.${i >> 8}.${i & 255}`, 'x', (run) => run(async () => ((await check.promise) ? 'x' : undefined))),
    );
    expect((await refusal(login(throttle, 'one-more', '10.2.0.1', 'x', true))).message).to.match(/server is checking too many logins at once/);
    check.answer(false);
    await Promise.all(running);
    expect(await login(throttle, 'one-more', '10.2.0.1', 'x', true)).to.equal('one-more');
  });

  it('counts an attempt whose check could not say (a backend down) neither way', async function () {
    const { throttle } = throttleAt();
    for (let i = 0; i < 10; i++) {
      const failed = throttle.attempt('alice', '10.0.0.1', `p-${i}`, () => Promise.reject(new Error('SSO down')));
      expect(await failed.catch((err: Error) => err.message)).to.equal('SSO down');
    }
    expect(await login(throttle, 'alice', '10.0.0.1', 'right', true)).to.equal('alice');
  });
});
