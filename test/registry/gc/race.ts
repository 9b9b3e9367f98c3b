// The race of issue 15, as clients run it: pushers that reuse layers of deleted images (HEAD, skip the upload),
// mount them across repositories, tag untagged manifests again, and delete tags and manifests, while collections run
// in a loop. Every push the registry acknowledged (201) is remembered; at the end every acknowledged tag must pull
// intact through every replica, and the tags must be exactly those acknowledged.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import { pullVerified } from './fixtures.js';

/** What one collection of the loop reports. */
export interface CollectionCounts {
  deleted: number;
  spared: number;
}

export interface RaceOptions {
  /** Concurrent pushers, each owning its repository race/p<i>. */
  pushers: number;
  durationMs: number;
  /** Layers shared by every pusher, first pushed in images that are then deleted. */
  layers: number;
  seed: number;
}

export interface RaceReport {
  collections: CollectionCounts[];
  acknowledged: number;
  refused: number;
  operations: Record<Operation, number>;
  /** Tags acknowledged and not deleted since: repository -> tag -> manifest. */
  expected: Map<string, Map<string, Pushed>>;
}

type Operation = 'push' | 'retag' | 'untag' | 'delete';

interface Pushed {
  digest: string;
  body: string;
}

/** mulberry32: the choices of a run follow from its seed (the timing of the collections does not). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const layerContent = (i: number) => pseudoRandomBytes(`race layer ${i}`, 2048);

/** POST then PUT ?digest= (what skopeo and docker do for a small blob). */
async function upload(client: Client, name: string, content: Buffer, location?: string): Promise<boolean> {
  let url = location;
  if (url === undefined) {
    const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
    await started.body?.cancel();
    if (started.status !== 202) return false;
    url = started.headers.get('location') as string;
  }
  const target = new URL(url, client.base);
  target.searchParams.set('digest', sha256(content));
  const done = await client.request('PUT', `${target.pathname}${target.search}`, { headers: { 'content-type': 'application/octet-stream' }, body: content });
  await done.body?.cancel();
  return done.status === 201;
}

class Pusher {
  readonly tags = new Map<string, Pushed>();
  /** Acknowledged, then untagged (tag moved or deleted), not deleted by digest. */
  private readonly untagged = new Map<string, Pushed>();
  private pushes = 0;

  constructor(
    readonly name: string,
    private readonly clients: Client[],
    private readonly others: string[],
    private readonly pool: Buffer[],
    private readonly rand: () => number,
    private readonly report: RaceReport,
  ) {}

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.rand() * items.length)] as T;
  }

  /** Each request to any replica, as a load balancer would send it. */
  private get client(): Client {
    return this.pick(this.clients);
  }

  /** HEAD, and the client skips a blob the registry says it has; else a mount from another repository, else an upload. */
  private async ensureBlob(content: Buffer): Promise<boolean> {
    const digest = sha256(content);
    const head = await this.client.request('HEAD', `/v2/${this.name}/blobs/${digest}`);
    if (head.status === 200) return true;
    if (this.rand() < 0.5) {
      const mounted = await this.client.request('POST', `/v2/${this.name}/blobs/uploads/?mount=${digest}&from=${this.pick(this.others)}`);
      await mounted.body?.cancel();
      if (mounted.status === 201) return true;
      if (mounted.status === 202) return upload(this.client, this.name, content, mounted.headers.get('location') as string);
      return false;
    }
    return upload(this.client, this.name, content);
  }

  private async putManifest(reference: string, body: string): Promise<number> {
    const res = await this.client.request('PUT', `/v2/${this.name}/manifests/${reference}`, { headers: { 'content-type': OCI_MANIFEST }, body });
    await res.body?.cancel();
    return res.status;
  }

  private moveTag(tag: string, pushed: Pushed): void {
    const previous = this.tags.get(tag);
    if (previous && previous.digest !== pushed.digest) this.untagged.set(previous.digest, previous);
    this.tags.set(tag, pushed);
    this.untagged.delete(pushed.digest);
  }

  /** A new image: two shared layers, one of its own, its own config; retried as a client would, a few times. */
  private async push(): Promise<void> {
    const n = this.pushes++;
    const blobs = [this.pick(this.pool), this.pick(this.pool), pseudoRandomBytes(`${this.name} layer ${n}`, 512)];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, push: `${this.name}#${n}` }));
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(b), size: b.length })),
    });
    const tag = `t${Math.floor(this.rand() * 4)}`;
    for (let attempt = 0; attempt < 4; attempt++) {
      let ready = true;
      for (const blob of [config, ...blobs]) ready = (await this.ensureBlob(blob)) && ready;
      if (ready && (await this.putManifest(tag, body)) === 201) {
        this.moveTag(tag, { digest: sha256(body), body });
        this.report.acknowledged++;
        return;
      }
      this.report.refused++;
    }
  }

  /** Tags a manifest again that lost its tag: it may have been collected meanwhile, then the PUT is refused. */
  private async retag(): Promise<void> {
    const candidates = [...this.untagged.values()];
    if (candidates.length === 0) return this.push();
    const pushed = this.pick(candidates);
    const tag = `t${Math.floor(this.rand() * 4)}`;
    if ((await this.putManifest(tag, pushed.body)) === 201) {
      this.moveTag(tag, pushed);
      this.report.acknowledged++;
    } else {
      this.untagged.delete(pushed.digest);
      this.report.refused++;
    }
  }

  private async untag(): Promise<void> {
    const tags = [...this.tags.keys()];
    if (tags.length === 0) return this.push();
    const tag = this.pick(tags);
    const res = await this.client.request('DELETE', `/v2/${this.name}/manifests/${tag}`);
    await res.body?.cancel();
    expect(res.status, `DELETE ${this.name}:${tag}`).to.equal(202);
    this.untagged.set((this.tags.get(tag) as Pushed).digest, this.tags.get(tag) as Pushed);
    this.tags.delete(tag);
  }

  /** Deletes an untagged manifest by digest; a collection may have deleted it first (404). */
  private async deleteManifest(): Promise<void> {
    const candidates = [...this.untagged.values()];
    if (candidates.length === 0) return this.push();
    const pushed = this.pick(candidates);
    const res = await this.client.request('DELETE', `/v2/${this.name}/manifests/${pushed.digest}`);
    await res.body?.cancel();
    expect([202, 404], `DELETE ${this.name}@${pushed.digest}`).to.include(res.status);
    this.untagged.delete(pushed.digest);
  }

  async step(): Promise<void> {
    const roll = this.rand();
    const op: Operation = roll < 0.55 ? 'push' : roll < 0.7 ? 'retag' : roll < 0.85 ? 'untag' : 'delete';
    this.report.operations[op]++;
    if (op === 'push') await this.push();
    else if (op === 'retag') await this.retag();
    else if (op === 'untag') await this.untag();
    else await this.deleteManifest();
  }
}

/** Images using every shared layer, deleted again: the layers are then stored and referenced by nothing. */
async function bury(client: Client, pool: Buffer[]): Promise<void> {
  for (let i = 0; i < pool.length; i += 2) {
    const image = await client.pushImage('race/graveyard', `g${i}`, pool.slice(i, i + 2));
    const res = await client.request('DELETE', `/v2/race/graveyard/manifests/${image.digest}`);
    expect(res.status).to.equal(202);
  }
}

/**
 * Runs the pushers against `urls` (the replicas) for durationMs while each of `collectors` runs again and again (each
 * call one whole collection; several loops overlap); returns what was acknowledged.
 */
export async function race(urls: string[], collectors: (() => Promise<CollectionCounts>)[], options: RaceOptions): Promise<RaceReport> {
  const clients = urls.map((url) => new Client(url));
  const pool = Array.from({ length: options.layers }, (_, i) => layerContent(i));
  await bury(clients[0] as Client, pool);
  const report: RaceReport = {
    collections: [],
    acknowledged: 0,
    refused: 0,
    operations: { push: 0, retag: 0, untag: 0, delete: 0 },
    expected: new Map(),
  };
  const names = Array.from({ length: options.pushers }, (_, i) => `race/p${i}`);
  const pushers = names.map((name, i) => new Pusher(name, clients, [...names.filter((n) => n !== name), 'race/graveyard'], pool, random(options.seed + i), report));
  const deadline = performance.now() + options.durationMs;
  let pushing = true;
  const collecting = Promise.all(
    collectors.map(async (collect) => {
      while (pushing) report.collections.push(await collect());
    }),
  );
  try {
    await Promise.all(
      pushers.map(async (pusher) => {
        while (performance.now() < deadline) await pusher.step();
      }),
    );
  } finally {
    pushing = false;
    await collecting;
  }
  for (const pusher of pushers) report.expected.set(pusher.name, pusher.tags);
  return report;
}

/** The counts a failure message shows. */
export function described(report: RaceReport): string {
  return JSON.stringify({ ...report, expected: undefined });
}

/** Every acknowledged tag pulls intact through every replica, and no other tag is there; returns what failed. */
export async function brokenImages(urls: string[], expected: Map<string, Map<string, Pushed>>): Promise<string[]> {
  const broken: string[] = [];
  for (const url of urls) {
    const client = new Client(url);
    for (const [name, tags] of expected) {
      const listed = await client.request('GET', `/v2/${name}/tags/list`);
      const names = listed.status === 200 ? ((await listed.json()) as { tags: string[] | null }).tags ?? [] : [];
      if (listed.status !== 200) await listed.body?.cancel();
      if (JSON.stringify([...names].sort()) !== JSON.stringify([...tags.keys()].sort())) {
        broken.push(`${url} ${name}: tags ${names.join(',') || 'none'}, acknowledged ${[...tags.keys()].join(',') || 'none'}`);
      }
      for (const [tag, pushed] of tags) {
        try {
          const fetched = await pullVerified(client, name, tag);
          if (fetched[0] !== pushed.digest) broken.push(`${url} ${name}:${tag} is ${fetched[0]}, acknowledged ${pushed.digest}`);
        } catch (err) {
          broken.push(`${url} ${(err as Error).message}`);
        }
      }
    }
  }
  return broken;
}

/** Waits until `check` resolves true, polling; fails after timeoutMs naming what it waited for. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(200);
  }
}
