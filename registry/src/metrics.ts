// Prometheus metrics of one registry process (http.debug.prometheus), on a registry of its own rather than
// prom-client's global one, so tests can build several apps in one process.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'registry_' });
  }
}
