// Blob pushes: one big blob in a single PUT, many small blobs in parallel, one big blob in fixed-size PATCHes.
import { performance } from 'node:perf_hooks';
import { blobBytes, pushChunked, pushMonolithic, type BlobBytes } from '../lib/blobs.js';
import type { Ceilings } from '../lib/ceilings.js';
import { Client } from '../lib/http.js';
import { runPool } from '../lib/pool.js';
import { mbPerSecond } from '../lib/stats.js';
import { mib, type Sizes, type Workload } from './workload.js';

/** A registry has to receive, hash and store every byte; perfectly pipelined, the slowest of the three sets the pace. */
export function pushCeiling(c: Ceilings): number {
  return Math.min(c.sha256, c.diskWrite, c.loopback);
}

export function pushMonolithicWorkload(sizes: Sizes): Workload {
  return {
    name: 'push-monolithic',
    metrics: [{ id: 'push-monolithic', label: `push ${mib(sizes.bigBlob)} monolithic (MB/s)`, better: 'higher', ceiling: pushCeiling }],
    async run(target, env, round) {
      const blob = await env.blobFile(`monolithic-r${round}`, sizes.bigBlob);
      const client = new Client(target.url, 1);
      try {
        const started = performance.now();
        await pushMonolithic(client, `bench/monolithic-r${round}`, blob);
        return { values: { 'push-monolithic': mbPerSecond(blob.size, performance.now() - started) } };
      } finally {
        client.close();
      }
    },
  };
}

export function pushChunkedWorkload(sizes: Sizes): Workload {
  return {
    name: 'push-chunked',
    metrics: [
      { id: 'push-chunked', label: `push ${mib(sizes.bigBlob)} in ${mib(sizes.chunk)} PATCHes (MB/s)`, better: 'higher', ceiling: pushCeiling },
    ],
    async run(target, env, round) {
      const blob = await env.blobFile(`chunked-r${round}`, sizes.bigBlob);
      const client = new Client(target.url, 1);
      try {
        const started = performance.now();
        await pushChunked(client, `bench/chunked-r${round}`, blob, sizes.chunk);
        return { values: { 'push-chunked': mbPerSecond(blob.size, performance.now() - started) } };
      } finally {
        client.close();
      }
    },
  };
}

export function pushSmallWorkload(sizes: Sizes): Workload {
  // Generated once per round and pushed to both registries; held in memory (count x size, 32 MiB by default).
  let current: { round: number; blobs: BlobBytes[] } | undefined;
  const blobsFor = (round: number): BlobBytes[] => {
    if (current?.round !== round) {
      current = { round, blobs: Array.from({ length: sizes.smallBlobs }, (_, i) => blobBytes(`small-r${round}-${i}`, sizes.smallBlobSize)) };
    }
    return current.blobs;
  };
  const label = `push ${sizes.smallBlobs} x ${sizes.smallBlobSize / 1024} KiB, ${sizes.smallConcurrency} parallel (blobs/s)`;
  return {
    name: 'push-small',
    metrics: [{ id: 'push-small', label, better: 'higher' }],
    async run(target, _env, round) {
      const blobs = blobsFor(round);
      const client = new Client(target.url, sizes.smallConcurrency);
      try {
        const repo = `bench/small-r${round}`;
        const started = performance.now();
        await runPool(blobs.length, sizes.smallConcurrency, (i) => pushMonolithic(client, repo, blobs[i] as BlobBytes));
        return { values: { 'push-small': blobs.length / ((performance.now() - started) / 1000) } };
      } finally {
        client.close();
      }
    },
  };
}
