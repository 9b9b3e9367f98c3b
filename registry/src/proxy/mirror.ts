// The pull-through cache (config `proxy`, docs/mirror.md) as the API sees it: which repositories mirror which
// upstream, the blob and manifest paths for them, the refusal of pushes to them, and the eviction job.
import type { Context } from '../api/context.js';
import { queryString } from '../api/http-input.js';
import type { routePatterns } from '../api/routes.js';
import type { ScheduledJob } from '../coord/exclusive.js';
import type { Coordinator } from '../coord/coordinator.js';
import { SingleFlight } from '../coord/single-flight.js';
import type { ProxyConfig, UpstreamConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Digest } from '../storage/digest.js';
import type { RegistryStore } from '../storage/registry-store.js';
import { serveMirroredBlob } from './blobs.js';
import type { MirrorServices, Upstream } from './context.js';
import { scheduleEviction } from './evict.js';
import { MirroredManifests, type ManifestSource } from './manifests.js';
import { mirrorRouting } from './middleware.js';
import { Routes } from './routing.js';
import { UpstreamClient } from './upstream-client.js';
import { UsageRecords } from './usage.js';

export interface MirrorDeps {
  store: RegistryStore;
  coord: Coordinator;
  logger: Logger;
  metrics?: Metrics;
}

/** A follower waits at most this long for a fetch led elsewhere: a large blob from a slow upstream takes a while. */
const FLIGHT_WAIT_MS = 3_600_000;

export class Mirror {
  readonly routes: Routes;
  private readonly clients = new Map<UpstreamConfig, UpstreamClient>();
  private readonly services: MirrorServices;
  private readonly flight: SingleFlight;

  constructor(
    config: ProxyConfig,
    private readonly deps: MirrorDeps,
  ) {
    this.routes = new Routes(config);
    for (const upstream of this.routes.all()) this.clients.set(upstream, new UpstreamClient(upstream, deps.metrics));
    this.flight = new SingleFlight(deps.coord, deps.logger.child({ component: 'mirror' }), { maxWaitMs: FLIGHT_WAIT_MS });
    this.services = {
      store: deps.store,
      flight: this.flight,
      usage: new UsageRecords(deps.store.driver),
      ...(deps.metrics && { metrics: deps.metrics }),
    };
  }

  /** Koa middleware: `?ns=` routing, and the refusal of pushes to mirrored repositories. */
  routing(patterns: ReturnType<typeof routePatterns>, httpPrefix: string) {
    return mirrorRouting(this.routes, patterns, httpPrefix);
  }

  /**
   * For a mirrored repository, answers a blob GET or HEAD that storage cannot (true), or makes sure storage can
   * (false: the ordinary path serves it). Always false for a local repository.
   */
  async serveBlob(ctx: Context, name: string, digest: Digest, headers: Record<string, string>): Promise<boolean> {
    const upstream = this.upstream(ctx, name);
    return upstream ? serveMirroredBlob(this.services, ctx, name, upstream, digest, headers) : false;
  }

  /** The mirror's view of a mirrored repository's manifests; undefined for a local repository. */
  manifests(ctx: Context, name: string): ManifestSource | undefined {
    const upstream = this.upstream(ctx, name);
    return upstream && new MirroredManifests(this.services, ctx, name, upstream);
  }

  /** proxy.ttl's job, once per fleet; undefined when nothing expires. */
  scheduleEviction(): ScheduledJob | undefined {
    return scheduleEviction(this.deps.coord, this.deps.store, this.routes, this.deps.logger.child({ component: 'mirror' }));
  }

  close(): void {
    this.flight.close();
    for (const client of this.clients.values()) client.close();
  }

  private upstream(ctx: Context, name: string): Upstream | undefined {
    const route = this.routes.route(name, queryString(ctx.query.ns));
    const client = route && this.clients.get(route.upstream);
    return route && client && { ...route, client };
  }
}
