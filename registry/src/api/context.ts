// What every route handler receives: the request context with its child logger, and the process's services.
import type { ParameterizedContext } from 'koa';
import type { AccessController } from '../auth/controller.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Mirror } from '../proxy/mirror.js';
import type { RegistryStore } from '../storage/registry-store.js';

export interface RequestState {
  requestId: string;
  log: Logger;
  /** Authenticated subject, for the access log. */
  subject?: string;
}

export type Context = ParameterizedContext<RequestState> & { captures?: string[] };

export interface Services {
  config: Config;
  store: RegistryStore;
  logger: Logger;
  access?: AccessController;
  /** The pull-through cache, when config.proxy is set. */
  mirror?: Mirror;
}
