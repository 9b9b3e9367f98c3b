// Prometheus metrics of one registry process (http.debug.prometheus), on a registry of its own rather than
// prom-client's global one, so tests can build several apps in one process. With several workers, the primary sums
// every process's metrics into one scrape (cluster/tree-status.ts).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What every process reports about itself: Node's default metrics (summed over the process tree when there are
 * workers: registry_process_resident_memory_bytes is then the tree's total) and its own resident set under its worker
 * id, so the total can be read apart per process. Worker 0 is the process that serves alone, or the primary.
 */
export function registerProcessMetrics(registry: Registry, worker: number): void {
  collectDefaultMetrics({ register: registry, prefix: 'registry_' });
  new Gauge({
    name: 'registry_worker_resident_memory_bytes',
    help: 'Resident set size of each process of registry serve, by worker id (0: the primary, or the only process)',
    labelNames: ['worker'] as const,
    registers: [registry],
    collect() {
      this.set({ worker: String(worker) }, process.memoryUsage.rss());
    },
  });
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'registry_http_requests_total',
    help: 'HTTP requests by route, method and status code',
    labelNames: ['route', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'registry_http_request_duration_seconds',
    help: 'HTTP request latency by route and method, until the response is fully sent',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'registry_http_in_bytes_total',
    help: 'Bytes received in request bodies and headers, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'registry_http_out_bytes_total',
    help: 'Bytes sent in responses, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly storage = new Histogram({
    name: 'registry_storage_operation_duration_seconds',
    help: 'Storage driver operation latency by driver and operation',
    labelNames: ['driver', 'operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly uploadsInProgress = new Gauge({
    name: 'registry_uploads_in_progress',
    help: 'Blob upload requests (POST with body, PATCH, PUT) being received now',
    registers: [this.registry],
  });
  readonly mirrorHits = new Counter({
    name: 'registry_mirror_hits_total',
    help: 'Mirrored blobs and manifests served from storage, by kind (a tag the upstream could not confirm counts too)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly mirrorMisses = new Counter({
    name: 'registry_mirror_misses_total',
    help: 'Mirrored blobs and manifests a request had to fetch from the upstream, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly mirrorUpstreamBytes = new Counter({
    name: 'registry_mirror_upstream_bytes_total',
    help: 'Bytes of blobs and manifests received from each upstream (its namespace, or "remoteurl")',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly mirrorUpstreamErrors = new Counter({
    name: 'registry_mirror_upstream_errors_total',
    help: 'Upstream requests that failed, by upstream and reason (unreachable, status, digest, auth)',
    labelNames: ['upstream', 'reason'] as const,
    registers: [this.registry],
  });
  readonly mirrorFetches = new Gauge({
    name: 'registry_mirror_fetches_in_flight',
    help: 'Fetches from an upstream this process is leading now, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly gcRuns = new Counter({
    name: 'registry_gc_runs_total',
    help: 'Background garbage collections run by this process (storage.maintenance.gc), by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly gcDuration = new Histogram({
    name: 'registry_gc_duration_seconds',
    help: 'Duration of the background garbage collections run by this process, grace included',
    buckets: [5, 10, 30, 60, 300, 900, 3600, 14400],
    registers: [this.registry],
  });
  readonly gcBlobsFreed = new Counter({
    name: 'registry_gc_blobs_freed_total',
    help: 'Blobs deleted by the background garbage collections of this process',
    registers: [this.registry],
  });
  readonly gcBytesFreed = new Counter({
    name: 'registry_gc_bytes_freed_total',
    help: 'Bytes of the blobs deleted by the background garbage collections of this process',
    registers: [this.registry],
  });
  readonly gcManifestsDeleted = new Counter({
    name: 'registry_gc_manifests_deleted_total',
    help: 'Untagged manifests deleted by the background garbage collections of this process (deleteuntagged)',
    registers: [this.registry],
  });
  readonly gcSpared = new Counter({
    name: 'registry_gc_spared_total',
    help: 'Blobs and manifests a background collection planned to delete and kept, because a push referenced them meanwhile',
    registers: [this.registry],
  });
  readonly gcLastSuccess = new Gauge({
    name: 'registry_gc_last_success_timestamp_seconds',
    help: 'When a background garbage collection of this process last succeeded (Unix time); 0 before the first',
    // One process of the tree runs the collector: the tree's answer is the latest, not a sum.
    aggregator: 'max',
    registers: [this.registry],
  });

  constructor(worker = 0) {
    registerProcessMetrics(this.registry, worker);
  }
}
