// htpasswd logins in a tree of workers: every worker asks the primary, which runs the only PasswordLogin, so the tree
// has one set of login limits. A set per worker would let a guesser, whose connections node:cluster spreads over the
// workers, try N times as many passwords. The round trip over the local pipe costs tens of microseconds; the bcrypt
// check it may run, tens of milliseconds.
import type { PasswordLogin } from '../auth/htpasswd.js';
import { TooManyAttempts } from '../auth/login-throttle.js';
import { isToWorker, type FromWorker, type LoginAnswer } from './messages.js';

/** The primary's side: what `login` finds, as a message. */
export async function answerLogin(login: PasswordLogin, username: string, password: string, address: string): Promise<LoginAnswer> {
  try {
    return { subject: (await login(username, password, address)) ?? null };
  } catch (err) {
    if (err instanceof TooManyAttempts) return { refused: err.message, retryAfter: err.retryAfter };
    return { failed: (err as Error).message };
  }
}

/** A worker's side: logins checked by its primary. */
export function remoteLogin(): PasswordLogin {
  const waiting = new Map<number, { resolve(answer: LoginAnswer): void; reject(err: Error): void }>();
  let next = 0;
  process.on('message', (value: unknown) => {
    if (!isToWorker(value) || value.type !== 'registry:login-answer') return;
    const pending = waiting.get(value.id);
    waiting.delete(value.id);
    pending?.resolve(value.answer);
  });
  process.on('disconnect', () => {
    for (const pending of waiting.values()) pending.reject(new Error('the primary process is gone; this worker is stopping'));
    waiting.clear();
  });
  function ask(username: string, password: string, address: string): Promise<LoginAnswer> {
    const id = next++;
    return new Promise<LoginAnswer>((resolve, reject) => {
      if (!process.connected || !process.send) return reject(new Error('the primary process is gone; this worker is stopping'));
      waiting.set(id, { resolve, reject });
      const message: FromWorker = { type: 'registry:login', id, username, password, address };
      process.send(message, undefined, undefined, (err: Error | null) => {
        if (err && waiting.delete(id)) reject(err);
      });
    });
  }
  // The same login asked while one is on its way shares its answer, as the limits count it once anyway
  // (login-throttle.ts): a pull of 20 layers with Basic credentials makes one round trip, not 20.
  const asking = new Map<string, Promise<LoginAnswer>>();
  return async (username, password, address) => {
    const key = JSON.stringify([username, password, address]);
    let answer = asking.get(key);
    if (answer === undefined) {
      answer = ask(username, password, address).finally(() => asking.delete(key));
      asking.set(key, answer);
    }
    const found = await answer;
    if ('refused' in found) throw new TooManyAttempts(found.refused, found.retryAfter);
    if ('failed' in found) throw new Error(`login check in the primary process: ${found.failed}`);
    return found.subject ?? undefined;
  };
}
