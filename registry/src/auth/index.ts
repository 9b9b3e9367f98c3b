// Picks the access controller config.auth names; no auth section means an open registry.
import type { AuthConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { AccessController } from './controller.js';
import { createHtpasswdController } from './htpasswd.js';
import { createSillyController } from './silly.js';
import { createTokenController } from './token.js';

export async function createAccessController(config: AuthConfig | undefined, logger: Logger): Promise<AccessController | undefined> {
  switch (config?.type) {
    case undefined:
      return undefined;
    case 'silly':
      return createSillyController(config);
    case 'htpasswd':
      return createHtpasswdController(config, logger);
    case 'token':
      return createTokenController(config, logger);
  }
}
