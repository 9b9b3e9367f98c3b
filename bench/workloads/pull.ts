// Blob pulls of one big blob: alone, then several at once. The content is checked once per registry, untimed, so no
// client-side hash caps the timed figures.
import { performance } from 'node:perf_hooks';
import { pullBlob, pushMonolithic, verifyBlob, type BlobFile } from '../lib/blobs.js';
import { curlGet } from '../lib/curl.js';
import type { Ceilings } from '../lib/ceilings.js';
import { Client } from '../lib/http.js';
import { mbPerSecond } from '../lib/stats.js';
import { mib, type Sizes, type Workload } from './workload.js';

const REPO = 'bench/pull';

/** A registry has to read every byte and send it over loopback. */
export function pullCeiling(c: Ceilings): number {
  return Math.min(c.diskRead, c.loopback);
}

export function pullWorkload(sizes: Sizes): Workload {
  let blob: BlobFile | undefined;
  const n = sizes.pullConcurrency;
  return {
    name: 'pull',
    metrics: [
      { id: 'pull', label: `pull ${mib(sizes.bigBlob)} (MB/s)`, better: 'higher', ceiling: pullCeiling },
      { id: 'pull-concurrent', label: `pull ${mib(sizes.bigBlob)}, ${n} at once (aggregate MB/s)`, better: 'higher', ceiling: pullCeiling },
      { id: 'pull-curl', label: `pull ${mib(sizes.bigBlob)} with curl (MB/s)`, better: 'higher', ceiling: pullCeiling },
      { id: 'pull-curl-concurrent', label: `pull ${mib(sizes.bigBlob)} with curl, ${n} at once (aggregate MB/s)`, better: 'higher', ceiling: pullCeiling },
    ],
    async prepare(target, env) {
      blob = await env.blobFile('pull', sizes.bigBlob);
      const client = new Client(target.url, 1);
      try {
        await pushMonolithic(client, REPO, blob);
        await verifyBlob(client, REPO, blob);
        // Untimed, once per registry: the first pull of a run read through a cold JIT (393 MB/s and 463 ms of client
        // CPU, against 800-1000 MB/s and 113-152 ms once warm), and it always went to the registry measured first.
        await pullBlob(client, REPO, blob.digest);
      } finally {
        client.close();
      }
    },
    async run(target) {
      if (!blob) throw new Error('pull: prepare() did not run');
      const { digest, size } = blob;
      const client = new Client(target.url, n);
      try {
        let started = performance.now();
        const cpuBefore = process.cpuUsage();
        const got = await pullBlob(client, REPO, digest);
        const single = mbPerSecond(got, performance.now() - started);
        const { user, system } = process.cpuUsage(cpuBefore);
        started = performance.now();
        const all = await Promise.all(Array.from({ length: n }, () => pullBlob(client, REPO, digest)));
        const concurrent = mbPerSecond(all.reduce((a, b) => a + b, 0), performance.now() - started);
        // The same pulls by curl (C, one process each), which takes less of the 2 cores the registry shares with its
        // client than a Node client does, so its rows are nearer the server's own speed.
        const url = `${target.url}/v2/${REPO}/blobs/${digest}`;
        const byCurl = await curlGet(url);
        started = performance.now();
        const allByCurl = await Promise.all(Array.from({ length: n }, () => curlGet(url)));
        const concurrentByCurl = mbPerSecond(allByCurl.reduce((a, b) => a + b.bytes, 0), performance.now() - started);
        const received = [got, ...all, byCurl.bytes, ...allByCurl.map((c) => c.bytes)];
        if (received.some((bytes) => bytes !== size)) throw new Error(`pull: expected ${size} bytes, got ${received.join(', ')}`);
        return {
          values: { pull: single, 'pull-concurrent': concurrent, 'pull-curl': byCurl.mbPerSecond, 'pull-curl-concurrent': concurrentByCurl },
          // The Node client's own CPU for the single pull: where it reaches the wall time, the client was the limit.
          details: { singlePullClientCpuMs: Math.round((user + system) / 1000) },
        };
      } finally {
        client.close();
      }
    },
  };
}
