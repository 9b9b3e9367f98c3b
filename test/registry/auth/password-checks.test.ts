import { expect } from 'chai';
import { PasswordChecks } from '../../../registry/src/auth/password-checks.js';

describe('password checks (registry/src/auth/password-checks)', function () {
  const guess = PasswordChecks.guess('alice', 'secret', '$2b$10$hash');

  it('runs one check for the same guess arriving several times at once', async function () {
    const checks = new PasswordChecks(false);
    let runs = 0;
    let answer: (right: boolean) => void = () => undefined;
    const check = (): Promise<boolean> => ((runs++, new Promise((resolve) => (answer = resolve))));
    const together = Array.from({ length: 5 }, () => checks.check(guess, check));
    answer(true);
    expect(await Promise.all(together)).to.deep.equal([true, true, true, true, true]);
    expect(runs).to.equal(1);
    // Not remembering: a later guess is checked again.
    await checks.check(guess, async () => (runs++, true));
    expect(runs).to.equal(2);
  });

  it('remembers a right guess, never a wrong one, and names a guess by its secret too', async function () {
    const checks = new PasswordChecks(true);
    let runs = 0;
    expect(await checks.check(guess, async () => (runs++, true))).to.equal(true);
    expect(await checks.check(guess, async () => (runs++, false))).to.equal(true);
    const wrong = PasswordChecks.guess('alice', 'wrong', '$2b$10$hash');
    expect(await checks.check(wrong, async () => (runs++, false))).to.equal(false);
    expect(await checks.check(wrong, async () => (runs++, false))).to.equal(false);
    expect(runs).to.equal(3);
    expect(PasswordChecks.guess('alice', 'secret', '$2b$10$other')).not.to.equal(guess);
    expect(guess).not.to.include('secret');
  });

  it('forgets a check that failed, so the next one runs', async function () {
    const checks = new PasswordChecks(true);
    expect(await checks.check(guess, () => Promise.reject(new Error('down'))).catch((err: Error) => err.message)).to.equal('down');
    expect(await checks.check(guess, async () => true)).to.equal(true);
  });
});
