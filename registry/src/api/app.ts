// createApp builds the Koa application from a config and its dependencies; listening is server.ts's job, so
// tests build the app and bind port 0.
import Koa from 'koa';
import Router from '@koa/router';
import type { AccessController } from '../auth/controller.js';
import { newCoordinatorId, type Coordinator } from '../coord/coordinator.js';
import { LocalCoordinator } from '../coord/local.js';
import type { DescriptorCache } from '../storage/descriptor-cache.js';
import type { Config } from '../config/types.js';
import { RegistryError } from '../errcode.js';
import type { HealthStatus } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { Mirror } from '../proxy/mirror.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { RegistryStore } from '../storage/registry-store.js';
import { registerBase } from './base.js';
import { registerBlobs } from './blobs.js';
import { registerCatalog } from './catalog.js';
import type { RequestState, Services } from './context.js';
import { isClientAbort, refuseWhenUnhealthy, renderErrors } from './errors.js';
import { registerManifests } from './manifests.js';
import { measureRequests } from './metrics-middleware.js';
import { registerReferrers } from './referrers.js';
import { requestContext } from './request-context.js';
import { routePatterns } from './routes.js';
import { registerTags } from './tags.js';
import { registerUploads } from './uploads.js';

export interface AppDeps {
  driver: StorageDriver;
  logger: Logger;
  access?: AccessController;
  metrics?: Metrics;
  health?: HealthStatus;
  /** storage.cache.blobdescriptor, built with the coordination layer (coord/factory.ts) */
  descriptors?: DescriptorCache;
  /**
   * The fleet's coordination layer (coord/factory.ts): its id names this process's writes to a garbage collection, and
   * the mirror fetches each blob once across it.
   */
  coord?: Coordinator;
}

export interface RegistryApp {
  koa: Koa<RequestState>;
  store: RegistryStore;
  mirror?: Mirror;
}

export function createApp(config: Config, deps: AppDeps): RegistryApp {
  const store = new RegistryStore(deps.driver, {
    writer: deps.coord?.id ?? newCoordinatorId(),
    ...(deps.descriptors && { descriptors: deps.descriptors }),
    manifests: {
      urls: {
        allow: config.validation.manifests.urls.allow.map((re) => new RegExp(re)),
        deny: config.validation.manifests.urls.deny.map((re) => new RegExp(re)),
      },
      skipBlobChecks: config.validation.disabled,
    },
  });
  const mirror = config.proxy
    ? new Mirror(config.proxy, { store, coord: deps.coord ?? new LocalCoordinator(deps.logger), logger: deps.logger, ...(deps.metrics && { metrics: deps.metrics }) })
    : undefined;
  const services: Services = { config, store, logger: deps.logger, ...(deps.access && { access: deps.access }), ...(mirror && { mirror }) };
  const routes = routePatterns(config.http.prefix);
  const router = new Router<RequestState>();
  registerBase(router, services, routes);
  registerCatalog(router, services, routes);
  registerTags(router, services, routes);
  // Upload routes first: "<name>/blobs/uploads/<uuid>" must not be read as a blob digest.
  registerUploads(router, services, routes);
  registerBlobs(router, services, routes);
  registerManifests(router, services, routes);
  registerReferrers(router, services, routes);

  const koa = new Koa<RequestState>({ proxy: false });
  if (deps.metrics) koa.use(measureRequests(deps.metrics, routes));
  koa.use(requestContext(services));
  koa.use(renderErrors);
  const health = deps.health;
  if (health) koa.use(refuseWhenUnhealthy(health));
  if (mirror) koa.use(mirror.routing(routes, config.http.prefix));
  koa.use(router.routes());
  koa.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new RegistryError('UNSUPPORTED', 'this endpoint does not support that method'),
      notImplemented: () => new RegistryError('UNSUPPORTED', 'the registry does not implement that method'),
    }),
  );
  // renderErrors renders and logs every error of the routes; one thrown before it (a header the request context
  // cannot set) reaches Koa, which answers a plain 500: log it with its request id instead of printing or dropping it.
  // Koa also reports a response it could not finish because the client went away (or sent bytes the HTTP parser
  // refused, answered by client-error.ts): nothing the registry did wrong.
  koa.on('error', (err: unknown, ctx?: Koa.ParameterizedContext<RequestState>) => {
    const log = ctx?.state.log ?? deps.logger;
    if (isClientAbort(err)) log.info({ err: { message: (err as Error).message } }, 'client went away before the response was complete');
    else log.error({ err }, 'request failed before its error could be rendered');
  });
  return { koa, store, ...(mirror && { mirror }) };
}
