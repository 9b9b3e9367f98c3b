// Paginated listings: the catalog over many repositories and tags/list over many tags, walked page by page by
// following Link headers as a client does. Whatever pagination a registry really does is recorded with the time.
import { performance } from 'node:perf_hooks';
import { Client } from '../lib/http.js';
import { imageBlobs, manifestBody, mountImageBlobs, pushImageBlobs, putManifest } from '../lib/manifests.js';
import { runPool } from '../lib/pool.js';
import type { Sizes, Workload } from './workload.js';

const SETUP_CONCURRENCY = 8;
const nextLink = /<([^>]+)>\s*;\s*rel="?next"?/;

interface Walk {
  ms: number;
  pages: number;
  entries: number;
}

/** GETs `first` and every page its Link headers lead to; `field` is the JSON array each page lists. */
async function walk(client: Client, first: string, field: 'repositories' | 'tags'): Promise<Walk> {
  let path: string | undefined = first;
  let pages = 0;
  let entries = 0;
  const started = performance.now();
  while (path !== undefined) {
    const reply = await client.call('GET', path, [200]);
    const page = JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
    const list = page[field];
    if (!Array.isArray(list)) throw new Error(`GET ${path}: no "${field}" array in ${reply.body.toString('utf8', 0, 200)}`);
    pages++;
    entries += list.length;
    const link = reply.headers.link;
    const match = typeof link === 'string' ? nextLink.exec(link) : null;
    path = match ? client.pathOf(match[1] as string) : undefined;
  }
  return { ms: performance.now() - started, pages, entries };
}

const padded = (i: number): string => String(i).padStart(5, '0');

export function catalogWorkload(sizes: Sizes): Workload {
  const blobs = imageBlobs('catalog');
  const body = manifestBody(blobs, 'catalog');
  return {
    name: 'catalog',
    metrics: [{ id: 'catalog', label: `/v2/_catalog, ${sizes.listEntries} repositories, n=${sizes.pageSize} (ms)`, better: 'lower' }],
    async prepare(target) {
      const client = new Client(target.url, SETUP_CONCURRENCY);
      try {
        const base = 'catalog/base';
        await pushImageBlobs(client, base, blobs);
        await runPool(sizes.listEntries - 1, SETUP_CONCURRENCY, async (i) => {
          const repo = `catalog/r${padded(i)}`;
          await mountImageBlobs(client, repo, base, blobs);
          await putManifest(client, repo, 'latest', body);
        });
      } finally {
        client.close();
      }
    },
    async run(target) {
      const client = new Client(target.url, 1);
      try {
        const { ms, pages, entries } = await walk(client, `/v2/_catalog?n=${sizes.pageSize}`, 'repositories');
        return { values: { catalog: ms }, details: { pages, repositories: entries } };
      } finally {
        client.close();
      }
    },
  };
}

export function tagsWorkload(sizes: Sizes): Workload {
  const blobs = imageBlobs('tags');
  const body = manifestBody(blobs, 'tags');
  const repo = 'bench/tags';
  return {
    name: 'tags-list',
    metrics: [
      { id: 'tags-list', label: `tags/list, ${sizes.listEntries} tags, n=${sizes.pageSize} (ms)`, better: 'lower' },
      // distribution 2.8 ignores n and answers everything at once: this is the like-for-like comparison.
      { id: 'tags-list-all', label: `tags/list, ${sizes.listEntries} tags, no n (ms)`, better: 'lower' },
    ],
    async prepare(target) {
      const client = new Client(target.url, SETUP_CONCURRENCY);
      try {
        await pushImageBlobs(client, repo, blobs);
        await runPool(sizes.listEntries, SETUP_CONCURRENCY, (i) => putManifest(client, repo, `t${padded(i)}`, body));
      } finally {
        client.close();
      }
    },
    async run(target) {
      const client = new Client(target.url, 1);
      try {
        const { ms, pages, entries } = await walk(client, `/v2/${repo}/tags/list?n=${sizes.pageSize}`, 'tags');
        const whole = await walk(client, `/v2/${repo}/tags/list`, 'tags');
        return {
          values: { 'tags-list': ms, 'tags-list-all': whole.ms },
          details: { pages, tags: entries, withoutN: { pages: whole.pages, tags: whole.entries } },
        };
      } finally {
        client.close();
      }
    },
  };
}
