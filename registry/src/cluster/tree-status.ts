// What the primary's debug server reports for the whole process tree: one /debug/health and one scrape of /metrics
// for all workers, each counted once. prom-client's AggregatorRegistry sums the workers' metrics and the primary's
// own (clusterMetrics() would leave the primary's out, and fail the whole scrape when one worker died mid-way).
import { AggregatorRegistry, Registry } from 'prom-client';
import type { HealthSource, MetricsSource } from '../debug-server.js';
import { registerProcessMetrics } from '../metrics.js';
import type { WorkerPool } from './worker-pool.js';

/** Failing when any serving worker's checks fail, or when no worker serves at all. */
export function treeHealth(pool: WorkerPool): HealthSource {
  return {
    async failing() {
      const answers = await pool.ask('health');
      if (answers.length === 0) return { workers: 'no worker is serving' };
      return Object.assign({}, ...answers.map((a) => a.value as Record<string, string>)) as Record<string, string>;
    },
  };
}

/** Every worker's metrics and the primary's process metrics, summed (a worker's RSS stays apart under its id). */
export function treeMetrics(pool: WorkerPool): MetricsSource {
  const own = new Registry();
  registerProcessMetrics(own, 0);
  return {
    contentType: own.contentType,
    async metrics() {
      const answers = await pool.ask('metrics');
      const all: object[] = [...answers.map((a) => a.value as object), await own.getMetricsAsJSON()];
      return AggregatorRegistry.aggregate(all).metrics();
    },
  };
}
