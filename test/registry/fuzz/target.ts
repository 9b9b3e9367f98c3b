// The system under fuzz: the real `registry serve` process on local disk, seeded with images, and the checks that
// close every fuzz run: the process is alive and answering, the stored tree (uploads aside) is byte for byte what
// it was, every seeded image still pulls with its digests, and nothing was logged at error level.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, DOCKER_LIST, DOCKER_MANIFEST } from '../../helpers/oci.js';
import type { ManagedProcess } from '../../helpers/processes.js';
import { treeChecksum, type TreeChecksum } from '../../helpers/tree-checksum.js';
import { registrySite, type RegistrySite } from '../crash/registry-process.js';
import { pullVerified, seedRegistry, type PushedImage } from '../gc/fixtures.js';

/** What the seeded registry holds, for generators that aim at real content (and must not delete it). */
export interface Seeds {
  names: string[];
  /** Tags per seeded repository. */
  tags: Record<string, string[]>;
  /** Manifest digests, every repository. */
  manifests: string[];
  /** Blob digests (configs and layers), every repository. */
  blobs: string[];
  /** An upload started before the run, so chunk requests reach a real upload. */
  uploadUuid: string;
  uploadName: string;
}

export interface FuzzTarget {
  url: string;
  site: RegistrySite;
  proc: ManagedProcess;
  client: Client;
  seeds: Seeds;
  before: TreeChecksum;
  tmp: string;
}

export async function startFuzzTarget(label: string): Promise<FuzzTarget> {
  const tmp = await mkdtemp(join(tmpdir(), `fuzz-${label}-`));
  let proc: ManagedProcess | undefined;
  try {
    const site = await registrySite(tmp);
    proc = await site.start();
    const client = new Client(site.url);
    const seeds = await seed(client);
    return { url: site.url, site, proc, client, seeds, before: await treeChecksum(site.rootDir), tmp };
  } catch (err) {
    await proc?.stop();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function seed(client: Client): Promise<Seeds> {
  const seeded = await seedRegistry(client);
  const images = [seeded.v1, seeded.v2, seeded.other, seeded.oldLatest, seeded.latest, seeded.signature, seeded.byDigest, ...seeded.multi.children];
  const docker = await seedDocker(client, seeded.v1);
  const started = await client.request('POST', '/v2/app/blobs/uploads/');
  return {
    names: ['app', 'other', 'multi', 'bydigest', 'docker'],
    tags: { app: ['v1', 'v2', 'latest'], other: ['v1'], multi: ['v1'], bydigest: [], docker: ['v2s2', 'list'] },
    manifests: [...images.map((i) => i.digest), seeded.multi.digest, ...docker],
    blobs: [...new Set(images.flatMap((i) => [i.config, ...i.layers]))],
    uploadUuid: started.headers.get('docker-upload-uuid') as string,
    uploadName: 'app',
  };
}

/**
 * The Docker media types next to the OCI ones: app:v1's blobs mounted into `docker`, a schema 2 manifest of them
 * tagged v2s2 and a manifest list of it tagged list. Returns their digests.
 */
async function seedDocker(client: Client, image: PushedImage): Promise<string[]> {
  for (const digest of [image.config, ...image.layers]) {
    const mounted = await client.request('POST', `/v2/docker/blobs/uploads/?mount=${digest}&from=app`);
    if (mounted.status !== 201) throw new Error(`mount ${digest} into docker: ${mounted.status}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config, size: image.configSize },
    layers: image.layers.map((digest, i) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest, size: image.layerSizes[i] })),
  });
  const { digest } = await client.pushManifest('docker', 'v2s2', manifest, DOCKER_MANIFEST);
  const list = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_LIST,
    manifests: [{ mediaType: DOCKER_MANIFEST, digest, size: Buffer.byteLength(manifest), platform: { architecture: 'amd64', os: 'linux' } }],
  });
  return [digest, (await client.pushManifest('docker', 'list', list, DOCKER_LIST)).digest];
}

/** The closing checks of a fuzz run. */
export async function expectIntact(target: FuzzTarget): Promise<void> {
  const exited = await Promise.race([target.proc.exited, Promise.resolve(undefined)]);
  expect(exited, 'the registry process is still running').to.equal(undefined);
  expect((await fetch(`${target.url}/v2/`)).status).to.equal(200);
  const after = await treeChecksum(target.site.rootDir);
  expect(after.files).to.deep.equal(target.before.files);
  expect(after.digest, 'the stored tree, uploads aside, is unchanged').to.equal(target.before.digest);
  for (const [name, tags] of Object.entries(target.seeds.tags)) for (const tag of tags) await pullVerified(target.client, name, tag);
  for (const digest of target.seeds.manifests) {
    const name = await ownerOf(target, digest);
    await pullVerified(target.client, name, digest);
  }
  const errors = (await target.proc.readLog())
    .split('\n')
    .filter((line) => line.includes('"level":"error"') || line.includes('"level":"fatal"'));
  expect(errors, 'error-level log lines').to.deep.equal([]);
}

async function ownerOf(target: FuzzTarget, digest: string): Promise<string> {
  for (const name of target.seeds.names) {
    const res = await target.client.request('HEAD', `/v2/${name}/manifests/${digest}`);
    if (res.status === 200) return name;
  }
  throw new Error(`seeded manifest ${digest} is in no seeded repository any more`);
}

export async function stopFuzzTarget(target: FuzzTarget | undefined): Promise<void> {
  if (!target) return;
  await target.proc.stop();
  await rm(target.tmp, { recursive: true, force: true });
}
