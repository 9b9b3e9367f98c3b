// Picks the access controller config.auth names; no auth section means an open registry. Each controller is loaded
// only when named: the token controller's JWT and X.509 libraries alone cost an open registry several MiB of RSS.
import type { AuthConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { AccessController } from './controller.js';
import type { PasswordLogin } from './htpasswd.js';

/** @param login set in a worker of a tree: where htpasswd logins are checked (its primary), instead of here. */
export async function createAccessController(config: AuthConfig | undefined, logger: Logger, login?: PasswordLogin): Promise<AccessController | undefined> {
  switch (config?.type) {
    case undefined:
      return undefined;
    case 'silly':
      return (await import('./silly.js')).createSillyController(config);
    case 'htpasswd': {
      const { createHtpasswdController, createHtpasswdLogin } = await import('./htpasswd.js');
      return createHtpasswdController(config, login ?? (await createHtpasswdLogin(config, logger)));
    }
    case 'token':
      return (await import('./token.js')).createTokenController(config, logger);
  }
}
