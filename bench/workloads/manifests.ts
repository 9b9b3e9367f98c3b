// Manifest writes (many small PUTs in parallel) and reads by tag under sustained load from many connections.
import { performance } from 'node:perf_hooks';
import { Client } from '../lib/http.js';
import { loadFromProcesses } from '../lib/load.js';
import { imageBlobs, MANIFEST_ACCEPT, manifestBody, pushImageBlobs, putManifest, type ImageBlobs } from '../lib/manifests.js';
import type { Target } from '../lib/registries.js';
import { runPool } from '../lib/pool.js';
import { percentile } from '../lib/stats.js';
import { sustain, type Load } from '../lib/sustain.js';
import type { Sizes, Workload } from './workload.js';

export function manifestPutWorkload(sizes: Sizes): Workload {
  const blobs = imageBlobs('manifest-put');
  return {
    name: 'manifest-put',
    metrics: [{ id: 'manifest-put', label: `manifest PUT x ${sizes.manifests}, ${sizes.manifestConcurrency} parallel (/s)`, better: 'higher' }],
    async run(target, _env, round) {
      const repo = `bench/manifests-r${round}`;
      const bodies = Array.from({ length: sizes.manifests }, (_, i) => manifestBody(blobs, `r${round}-${i}`));
      const client = new Client(target.url, sizes.manifestConcurrency);
      try {
        await pushImageBlobs(client, repo, blobs);
        const started = performance.now();
        await runPool(bodies.length, sizes.manifestConcurrency, (i) => putManifest(client, repo, `v${i}`, bodies[i] as Buffer));
        return { values: { 'manifest-put': bodies.length / ((performance.now() - started) / 1000) } };
      } finally {
        client.close();
      }
    },
  };
}

/** Requests per second and latency percentiles of a sustained load. */
function summarized(load: Load): { perSecond: number; p50: number; p99: number } {
  return { perSecond: load.count / (load.elapsedMs / 1000), p50: percentile(load.latencies, 50), p99: percentile(load.latencies, 99) };
}

const REPO = 'bench/get';
const WARMUP_SECONDS = 1;
const ACCEPT = { accept: MANIFEST_ACCEPT };

/** The image the reads ask for, by tag. */
async function pushTagged(target: Target, blobs: ImageBlobs, tag: string): Promise<void> {
  const client = new Client(target.url, 1);
  try {
    await pushImageBlobs(client, REPO, blobs);
    await putManifest(client, REPO, tag, manifestBody(blobs, tag));
  } finally {
    client.close();
  }
}

export function manifestReadWorkload(sizes: Sizes): Workload {
  const blobs = imageBlobs('manifest-get');
  const load = `by tag, ${sizes.loadConnections} connections, ${sizes.loadSeconds} s`;
  return {
    name: 'manifest-get-head',
    metrics: [
      { id: 'manifest-get', label: `manifest GET ${load} (req/s)`, better: 'higher' },
      { id: 'manifest-get-p50', label: 'manifest GET p50 (ms)', better: 'lower' },
      { id: 'manifest-get-p99', label: 'manifest GET p99 (ms)', better: 'lower' },
      { id: 'manifest-head', label: `manifest HEAD ${load} (req/s)`, better: 'higher' },
      { id: 'manifest-head-p50', label: 'manifest HEAD p50 (ms)', better: 'lower' },
      { id: 'manifest-head-p99', label: 'manifest HEAD p99 (ms)', better: 'lower' },
    ],
    prepare: (target) => pushTagged(target, blobs, 'latest'),
    async run(target) {
      const path = `/v2/${REPO}/manifests/latest`;
      const client = new Client(target.url, sizes.loadConnections);
      try {
        // Opens the connections and lets a JIT warm up, for both registries alike.
        await sustain(client, 'GET', path, ACCEPT, sizes.loadConnections, WARMUP_SECONDS);
        const get = summarized(await sustain(client, 'GET', path, ACCEPT, sizes.loadConnections, sizes.loadSeconds));
        const head = summarized(await sustain(client, 'HEAD', path, ACCEPT, sizes.loadConnections, sizes.loadSeconds));
        return {
          values: {
            'manifest-get': get.perSecond,
            'manifest-get-p50': get.p50,
            'manifest-get-p99': get.p99,
            'manifest-head': head.perSecond,
            'manifest-head-p50': head.p50,
            'manifest-head-p99': head.p99,
          },
        };
      } finally {
        client.close();
      }
    },
  };
}

/** Manifest GETs from many client processes at once: the nodes of a cluster resolving one tag. */
export function manifestFanOutWorkload(sizes: Sizes): Workload {
  const blobs = imageBlobs('manifest-fanout');
  const load = `by tag, ${sizes.fanoutConnections} connections from ${sizes.loadProcesses} processes, ${sizes.loadSeconds} s`;
  return {
    name: 'manifest-get-fanout',
    oneWorker: true,
    metrics: [
      { id: 'manifest-get-fanout', label: `manifest GET ${load} (req/s)`, better: 'higher' },
      { id: 'manifest-get-fanout-p99', label: `manifest GET, ${sizes.fanoutConnections} connections, p99 (ms)`, better: 'lower' },
    ],
    prepare: (target) => pushTagged(target, blobs, 'fanout'),
    async run(target) {
      const result = await loadFromProcesses({
        url: target.url,
        method: 'GET',
        path: `/v2/${REPO}/manifests/fanout`,
        headers: ACCEPT,
        connections: sizes.fanoutConnections,
        processes: sizes.loadProcesses,
        seconds: sizes.loadSeconds,
        warmupSeconds: WARMUP_SECONDS,
      });
      return { values: { 'manifest-get-fanout': result.perSecond, 'manifest-get-fanout-p99': result.p99 } };
    },
  };
}
