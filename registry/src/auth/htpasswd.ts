// auth: htpasswd — Basic credentials checked against an Apache htpasswd file of bcrypt entries, as distribution
// does (other hash formats are refused with a warning). Any valid user may do anything. Unlike distribution, wrong
// passwords are limited (login-throttle.ts) and bcrypt runs off the event loop (bcrypt-pool.ts).
import { readFile, stat } from 'node:fs/promises';
import type { HtpasswdAuth } from '../config/types.js';
import { RegistryError } from '../errcode.js';
import type { Logger } from '../log.js';
import { parseBasicAuth } from './basic.js';
import { decoyHash } from './bcrypt-decoy.js';
import { pooledCompare, type BcryptCompare } from './bcrypt-pool.js';
import { Challenge, type AccessController } from './controller.js';
import { LoginThrottle, TooManyAttempts } from './login-throttle.js';
import { PasswordChecks } from './password-checks.js';

/** How often the file's mtime is checked, so edits apply without a restart and without a stat per request. */
const RELOAD_CHECK_MS = 1000;

/**
 * console-auth's defaults: 5 failures per (user, address) and 20 per address a minute. Behind a load balancer every
 * client has the balancer's address, so the address budget is shared: token auth with console-auth, which reads
 * the client address from trusted proxies, avoids that.
 */
const POLICY = { pairFailures: 5, addressFailures: 20, windowMs: 60_000 };

export function parseHtpasswd(text: string, logger: Logger, path: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, index) => {
    const entry = line.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const colon = entry.indexOf(':');
    const user = entry.slice(0, colon);
    const hash = entry.slice(colon + 1);
    if (colon <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash)) {
      logger.warn({ path, line: index + 1 }, 'htpasswd entry ignored: only bcrypt entries are supported (htpasswd -B)');
      return;
    }
    users.set(user, hash);
  });
  return users;
}

/**
 * One login checked against the users: the user's name when the password is right, undefined when it is not. Throws
 * TooManyAttempts for an attempt over a login limit. In a tree of workers the primary runs the only one (cluster/),
 * so that the limits count every worker's attempts together.
 */
export type PasswordLogin = (username: string, password: string, address: string) => Promise<string | undefined>;

/** Loads the file (a missing one stops the start, naming it) and checks logins under the limits. */
export async function createHtpasswdLogin(config: HtpasswdAuth, logger: Logger, compare: BcryptCompare = pooledCompare): Promise<PasswordLogin> {
  let users = new Map<string, string>();
  // An unknown user is checked against this, so that refusing one takes as long as refusing a known one.
  let decoy = decoyHash([]);
  let mtime = 0;
  let checkedAt = 0;
  const throttle = new LoginThrottle(POLICY);
  // Remembered right passwords are keyed by the hash too, so an edited entry is checked again.
  const checks = new PasswordChecks(true);

  async function load(): Promise<void> {
    const info = await stat(config.path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`auth.htpasswd.path: cannot read ${config.path}: ${err.code ?? err.message}`);
    });
    if (info.mtimeMs === mtime) return;
    users = parseHtpasswd(await readFile(config.path, 'utf8'), logger, config.path);
    decoy = decoyHash(users.values());
    mtime = info.mtimeMs;
    logger.info({ path: config.path, users: users.size }, 'htpasswd loaded');
  }

  await load();

  return async (username, password, address) => {
    const now = Date.now();
    if (now - checkedAt > RELOAD_CHECK_MS) {
      checkedAt = now;
      await load().catch((err: Error) => logger.error({ err }, 'htpasswd reload failed; keeping the users already loaded'));
    }
    return throttle.attempt(username, address, password, async (run) => {
      const hash = users.get(username);
      const checked = hash ?? decoy;
      const right = await checks.check(PasswordChecks.guess(username, password, checked), () => run(() => compare(password, checked)));
      return right && hash !== undefined ? username : undefined;
    });
  };
}

/** Basic credentials checked by `login`: this process's own, or its primary's in a tree of workers. */
export function createHtpasswdController(config: HtpasswdAuth, login: PasswordLogin): AccessController {
  const challenge = `Basic realm="${config.realm}"`;
  return {
    async authorize(request) {
      const credentials = parseBasicAuth(request.authorization);
      if (!credentials) throw new Challenge(challenge, 'UNAUTHORIZED', 'authentication required: send Basic credentials');
      const address = (request.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
      let subject: string | undefined;
      try {
        subject = await login(credentials.username, credentials.password, address);
      } catch (err) {
        if (!(err instanceof TooManyAttempts)) throw err;
        throw new RegistryError('TOO_MANY_REQUESTS', err.message).withHeaders({ 'Retry-After': String(err.retryAfter) });
      }
      if (subject === undefined) throw new Challenge(challenge, 'UNAUTHORIZED', 'invalid username or password');
      return { subject };
    },
  };
}
