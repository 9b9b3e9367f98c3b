// auth: htpasswd — Basic credentials checked against an Apache htpasswd file of bcrypt entries, as distribution
// does (other hash formats are refused with a warning). Any valid user may do anything.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import type { HtpasswdAuth } from '../config/types.js';
import type { Logger } from '../log.js';
import { BoundedMap } from '../storage/bounded-map.js';
import { parseBasicAuth } from './basic.js';
import { Challenge, type AccessController } from './controller.js';

/** How often the file's mtime is checked, so edits apply without a restart and without a stat per request. */
const RELOAD_CHECK_MS = 1000;

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

export async function createHtpasswdController(config: HtpasswdAuth, logger: Logger): Promise<AccessController> {
  const challenge = `Basic realm="${config.realm}"`;
  let users = new Map<string, string>();
  let mtime = 0;
  let checkedAt = 0;
  // bcrypt is deliberately slow; a pull of 20 layers must not pay it 20 times.
  const verified = new BoundedMap<string, string>(1000);

  async function load(): Promise<void> {
    const info = await stat(config.path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`auth.htpasswd.path: cannot read ${config.path}: ${err.code ?? err.message}`);
    });
    if (info.mtimeMs === mtime) return;
    users = parseHtpasswd(await readFile(config.path, 'utf8'), logger, config.path);
    mtime = info.mtimeMs;
    verified.clear();
    logger.info({ path: config.path, users: users.size }, 'htpasswd loaded');
  }

  await load();

  return {
    async authorize(request) {
      const now = Date.now();
      if (now - checkedAt > RELOAD_CHECK_MS) {
        checkedAt = now;
        await load().catch((err: Error) => logger.error({ err }, 'htpasswd reload failed; keeping the users already loaded'));
      }
      const credentials = parseBasicAuth(request.authorization);
      if (!credentials) throw new Challenge(challenge, 'UNAUTHORIZED', 'authentication required: send Basic credentials');
      const hash = users.get(credentials.username);
      const key = createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex');
      const ok = hash !== undefined && (verified.get(key) === hash || (await bcrypt.compare(credentials.password, hash)));
      if (!ok || hash === undefined) throw new Challenge(challenge, 'UNAUTHORIZED', 'invalid username or password');
      verified.set(key, hash);
      return { subject: credentials.username };
    },
  };
}
