// The operator's migration both ways: stop distribution 2.8 (Debian's docker-registry), start this registry on the
// same rootdirectory, and every image still pulls with its digests; and back again. Images are pushed and pulled
// with skopeo, so each side speaks to a real client, not to our own test code.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiArchIndex, buildOciImage, skopeo, toDockerV2s2, type BuiltImage, type BuiltIndex, type ImageRef } from '../../helpers/images.js';
import { startDistribution, stopAll } from '../../helpers/processes.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { treeChecksum } from '../../helpers/tree-checksum.js';

interface Images {
  app: BuiltImage;
  multi: BuiltIndex;
  docker: ImageRef;
}

/** What a registry says about its content: the catalog and each repository's tags, as served. */
interface Listing {
  catalog: string[];
  tags: Record<string, string[]>;
}

const REPOSITORIES = ['compat/app', 'compat/multi', 'compat/docker'];

/** A running registry of either kind, as the checks need it. */
interface Server {
  url: string;
  stop(): Promise<void>;
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function pushAll(host: string, images: Images): Promise<void> {
  const dest = (ref: string) => `docker://${host}/${ref}`;
  await skopeo(['copy', '--dest-tls-verify=false', images.app.ref, dest('compat/app:v1')]);
  await skopeo(['copy', '--dest-tls-verify=false', images.app.ref, dest('compat/app:stable')]);
  await skopeo(['copy', '--all', '--dest-tls-verify=false', images.multi.ref, dest('compat/multi:v1')]);
  await skopeo(['copy', '--dest-tls-verify=false', images.docker.ref, dest('compat/docker:v1')]);
}

async function listing(url: string): Promise<Listing> {
  const catalog = (await (await fetch(`${url}/v2/_catalog`)).json()) as { repositories: string[] };
  const tags: Record<string, string[]> = {};
  for (const name of REPOSITORIES) tags[name] = ((await (await fetch(`${url}/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags;
  return { catalog: catalog.repositories, tags };
}

/** Pulls every image back with skopeo into out/ and checks the manifest digests and every blob's content. */
async function pullAndVerify(host: string, images: Images, out: string): Promise<void> {
  const src = (ref: string) => `docker://${host}/${ref}`;
  const raw = (ref: string) => skopeo(['inspect', '--raw', '--tls-verify=false', src(ref)]);
  await mkdir(out, { recursive: true });
  expect(sha256(await raw('compat/app:v1'))).to.equal(images.app.digest);
  expect(sha256(await raw('compat/app:stable'))).to.equal(images.app.digest);
  expect(sha256(await raw('compat/multi:v1'))).to.equal(images.multi.digest);
  expect(sha256(await raw('compat/docker:v1'))).to.equal(images.docker.digest);

  await skopeo(['copy', '--src-tls-verify=false', src('compat/app:v1'), `oci:${join(out, 'oci')}:app`]);
  await skopeo(['copy', '--all', '--src-tls-verify=false', src('compat/multi:v1'), `oci:${join(out, 'oci')}:multi`]);
  await skopeo(['copy', '--src-tls-verify=false', src('compat/docker:v1'), `dir:${join(out, 'docker')}`]);
  const layout = JSON.parse(await readFile(join(out, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const tagged = Object.fromEntries(layout.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
  expect(tagged).to.deep.equal({ app: images.app.digest, multi: images.multi.digest });
  const blobs = [
    images.app.digest,
    images.app.manifest.config.digest,
    ...images.app.manifest.layers.map((l) => l.digest),
    images.multi.digest,
    ...images.multi.manifests.map((m) => m.digest),
  ];
  // skopeo verifies digests as it copies; reading each file back proves the bytes landed whole.
  for (const digest of blobs) expect(sha256(await readFile(join(out, 'oci', 'blobs', ...digest.split(':')))), digest).to.equal(digest);
  expect(sha256(await readFile(join(out, 'docker', 'manifest.json')))).to.equal(images.docker.digest);
}

describe('compat: distribution 2.8 and this registry serve each other\'s data directory', function () {
  this.timeout(120_000);
  let tmp: string;
  let images: Images;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'compat-distribution-'));
    const oci = join(tmp, 'images');
    images = {
      app: await buildOciImage(oci, { tag: 'app', layers: 3, layerSize: 300 * 1024 }),
      multi: await buildMultiArchIndex(oci, 'multi', ['amd64', 'arm64'], { layers: 2 }),
      docker: await toDockerV2s2((await buildOciImage(oci, { tag: 'docker', layers: 2 })).ref, join(tmp, 'docker-v2s2')),
    };
  });
  after(async () => {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  /**
   * Pushes into `writer`, stops it, starts `reader` on the same directory and pulls everything back; the directory
   * is unchanged by the reads. Returns the catalog and tags each one served.
   */
  async function migrate(root: string, writer: () => Promise<Server>, reader: () => Promise<Server>): Promise<{ written: Listing; served: Listing }> {
    const first = await writer();
    let written: Listing;
    try {
      await pushAll(new URL(first.url).host, images);
      written = await listing(first.url);
    } finally {
      await first.stop();
    }
    const before = await treeChecksum(root);
    const second = await reader();
    let served: Listing;
    try {
      await pullAndVerify(new URL(second.url).host, images, join(tmp, `pulled-from-${root.split('/').pop() as string}`));
      served = await listing(second.url);
    } finally {
      await second.stop();
    }
    const after = await treeChecksum(root);
    expect(after.files).to.deep.equal(before.files);
    expect(after.digest).to.equal(before.digest);
    return { written, served };
  }

  // distribution 2.8 lists tags in directory order; this registry sorts them, as the OCI spec asks.
  const sorted = (l: Listing): Listing => ({ catalog: l.catalog.slice().sort(), tags: Object.fromEntries(Object.entries(l.tags).map(([k, v]) => [k, v.slice().sort()])) });
  const expected: Listing = {
    catalog: ['compat/app', 'compat/docker', 'compat/multi'],
    tags: { 'compat/app': ['stable', 'v1'], 'compat/multi': ['v1'], 'compat/docker': ['v1'] },
  };

  const distribution = (rootDir: string) => async (): Promise<Server> => {
    const d = await startDistribution({ rootDir });
    return { url: d.url, stop: () => d.stop() };
  };
  const ours = (rootDir: string) => async (): Promise<Server> => {
    const r = await startTestRegistry({ rootDir });
    return { url: r.url, stop: () => r.stop() };
  };

  it('images pushed into distribution 2.8 pull intact from this registry on the same directory', async () => {
    const root = join(tmp, 'written-by-distribution');
    const { written, served } = await migrate(root, distribution(root), ours(root));
    expect(served).to.deep.equal(expected);
    expect(sorted(written)).to.deep.equal(expected);
  });

  it('images pushed into this registry pull intact from distribution 2.8 on the same directory', async () => {
    const root = join(tmp, 'written-by-ours');
    const { written, served } = await migrate(root, ours(root), distribution(root));
    expect(written).to.deep.equal(expected);
    expect(sorted(served)).to.deep.equal(expected);
  });
});
