// The pull-through cache against distribution 2.8 in proxy mode: each registry runs a second instance with the same
// `proxy.remoteurl`, in front of the same upstream (a distribution 2.8 behind a loopback proxy that throttles its
// answers, as a slow link to Docker Hub would). Measured per round:
// - a cold pull of a blob neither mirror holds: time to the first body byte, and to the last;
// - concurrent cold pulls of one blob: how many GETs reached the upstream;
// - warm pulls through the mirror by curl, against plain pulls of the same blob from the registry itself (ratio).
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startUpstreamProxy, type UpstreamProxy } from '../../test/helpers/upstream-proxy.js';
import { pushMonolithic, verifyBlob, type BlobFile } from '../lib/blobs.js';
import { curlGet } from '../lib/curl.js';
import { Client } from '../lib/http.js';
import type { Target, TargetName } from '../lib/registries.js';
import { median } from '../lib/stats.js';
import { mib, type Sizes, type Workload } from './workload.js';

const REPO = 'bench/mirror';
const MiB = 1024 * 1024;
/** The upstream link's speed for cold pulls, per connection. */
const COLD_RATE = 32 * MiB;
/** Warm pulls per registry and round, plain and mirrored taking turns. */
const WARM_PULLS = 3;

interface Upstream {
  registry: Target;
  proxy: UpstreamProxy;
}

interface Timing {
  firstByteMs: number;
  totalMs: number;
}

/** GETs a blob and times its first and last body bytes; throws unless all `size` bytes arrived with a 200. */
function timedPull(url: string, size: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteMs = -1;
    let bytes = 0;
    get(url, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) firstByteMs = performance.now() - started;
        bytes += chunk.length;
      });
      res.once('end', () => {
        if (res.statusCode !== 200 || bytes !== size) reject(new Error(`GET ${url}: HTTP ${res.statusCode}, ${bytes} of ${size} bytes`));
        else resolve({ firstByteMs, totalMs: performance.now() - started });
      });
      res.once('error', reject);
    }).once('error', reject);
  });
}

async function push(url: string, blob: BlobFile): Promise<void> {
  const client = new Client(url, 1);
  try {
    await pushMonolithic(client, REPO, blob);
  } finally {
    client.close();
  }
}

export function mirrorWorkload(sizes: Sizes): Workload {
  let upstream: Promise<Upstream> | undefined;
  const mirrors = new Map<TargetName, Target>();
  let warm: BlobFile | undefined;
  const coldSize = sizes.bigBlob / 4;
  const n = sizes.pullConcurrency;
  const cold = `cold pull of ${mib(coldSize)} through the mirror, upstream at ${COLD_RATE / MiB} MiB/s`;
  return {
    name: 'mirror',
    metrics: [
      { id: 'mirror-cold-ttfb', label: `${cold}: first byte (ms)`, better: 'lower' },
      { id: 'mirror-cold-total', label: `${cold}: last byte (s)`, better: 'lower' },
      { id: 'mirror-cold-upstream-gets', label: `${n} concurrent cold pulls of one blob through the mirror: upstream GETs`, better: 'lower' },
      { id: 'mirror-warm', label: `warm pull ${mib(sizes.bigBlob)} through the mirror with curl (MB/s)`, better: 'higher' },
      { id: 'mirror-warm-ratio', label: 'warm pull through the mirror / plain pull from the same registry, curl (ratio)', better: 'higher' },
    ],
    async prepare(target, env) {
      upstream ??= (async () => {
        const registry = await env.startRegistry('distribution', {}, 'mirror-upstream');
        return { registry, proxy: await startUpstreamProxy(registry.url) };
      })();
      const { registry, proxy } = await upstream;
      const mirror = await env.startRegistry(target.name, { proxy: { remoteurl: proxy.url } }, 'mirror');
      mirrors.set(target.name, mirror);
      warm = await env.blobFile('mirror-warm', sizes.bigBlob);
      await push(registry.url, warm);
      await push(target.url, warm);
      // One pull through the mirror makes it warm; it also checks that the mirror serves the right bytes.
      const client = new Client(mirror.url, 1);
      try {
        await verifyBlob(client, REPO, warm);
      } finally {
        client.close();
      }
    },
    async run(target, env, round) {
      const mirror = mirrors.get(target.name);
      if (!upstream || !mirror || !warm) throw new Error('mirror: prepare() did not run');
      const { registry, proxy } = await upstream;

      const single = await env.blobFile(`mirror-cold-${round}`, coldSize);
      await push(registry.url, single);
      proxy.throttle(COLD_RATE);
      const timing = await timedPull(`${mirror.url}/v2/${REPO}/blobs/${single.digest}`, coldSize).finally(() => proxy.throttle(undefined));

      const fanout = await env.blobFile(`mirror-fanout-${round}`, coldSize);
      await push(registry.url, fanout);
      const path = new RegExp(`/blobs/${fanout.digest}$`);
      const before = proxy.count('GET', path);
      proxy.throttle(COLD_RATE);
      await Promise.all(Array.from({ length: n }, () => timedPull(`${mirror.url}/v2/${REPO}/blobs/${fanout.digest}`, coldSize))).finally(() =>
        proxy.throttle(undefined),
      );
      const upstreamGets = proxy.count('GET', path) - before;

      const plain: number[] = [];
      const mirrored: number[] = [];
      for (let i = 0; i < WARM_PULLS; i++) {
        plain.push((await curlGet(`${target.url}/v2/${REPO}/blobs/${warm.digest}`)).mbPerSecond);
        mirrored.push((await curlGet(`${mirror.url}/v2/${REPO}/blobs/${warm.digest}`)).mbPerSecond);
      }
      return {
        values: {
          'mirror-cold-ttfb': timing.firstByteMs,
          'mirror-cold-total': timing.totalMs / 1000,
          'mirror-cold-upstream-gets': upstreamGets,
          'mirror-warm': median(mirrored),
          'mirror-warm-ratio': median(mirrored) / median(plain),
        },
        details: { plainPullMBps: median(plain) },
      };
    },
    async cleanup() {
      await (await upstream)?.proxy.stop();
    },
  };
}
