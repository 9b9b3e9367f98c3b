// Asserting on the error a call fails with, for tests that need the error itself (its class, its fields).
import { expect } from 'chai';

/** The error `run` rejects (or throws) with, checked to be a `type`; fails the test if the call succeeds. */
export async function failureOf<T extends Error>(type: abstract new (...args: never[]) => T, run: () => Promise<unknown>): Promise<T> {
  try {
    await run();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(type);
    return err as T;
  }
  expect.fail(`expected the call to fail with ${type.name}`);
}
