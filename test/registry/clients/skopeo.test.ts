// skopeo (containers/image, the library behind podman and CRI-O) against this registry on local disk: real
// multi-layer images built offline go in, are inspected and listed, come back out byte for byte, move between
// repositories by cross-repository mount, and are deleted.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiArchIndex, buildOciImage, skopeo, toDockerV2s2, type BuiltImage, type BuiltIndex, type ImageRef } from '../../helpers/images.js';
import { Client, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

interface Inspect {
  Digest: string;
  Architecture: string;
  Layers: string[];
}

interface LayoutIndex {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A blob of an OCI layout (`oci:` directory) by digest. */
function layoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(join(dir, 'blobs', ...digest.split(':')));
}

async function layoutTag(dir: string, tag: string): Promise<string | undefined> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as LayoutIndex;
  return index.manifests.find((m) => m.annotations?.[REF_NAME] === tag)?.digest;
}

function failure(run: Promise<unknown>): Promise<string> {
  return run.then(
    () => '',
    (err: Error) => err.message,
  );
}

describe('clients: skopeo copies real images in and out of the registry', function () {
  this.timeout(120_000);
  let tmp: string;
  let registry: TestRegistry;
  let oci: string;
  let app: BuiltImage;
  let multi: BuiltIndex;
  let docker: ImageRef;
  let dockerDir: string;

  const host = () => new URL(registry.url).host;
  const remote = (ref: string) => `docker://${host()}/${ref}`;
  const push = (args: string[], src: string, dest: string) => skopeo(['copy', ...args, '--dest-tls-verify=false', src, remote(dest)]);
  const pull = (args: string[], src: string, dest: string) => skopeo(['copy', ...args, '--src-tls-verify=false', remote(src), dest]);
  const inspect = async (ref: string) => JSON.parse(await skopeo(['inspect', '--tls-verify=false', remote(ref)])) as Inspect;
  const raw = (ref: string) => skopeo(['inspect', '--raw', '--tls-verify=false', remote(ref)]);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'clients-skopeo-'));
    registry = await startTestRegistry({ storage: 'filesystem' });
    oci = join(tmp, 'oci');
    // Three layers, one over a megabyte, so a blob crosses several request chunks.
    app = await buildOciImage(oci, { tag: 'app', layers: 3, layerSize: 1536 * 1024 });
    multi = await buildMultiArchIndex(oci, 'multi', ['amd64', 'arm64', 'ppc64le'], { layers: 2 });
    const forDocker = await buildOciImage(oci, { tag: 'for-docker', layers: 2 });
    dockerDir = join(tmp, 'v2s2');
    docker = await toDockerV2s2(forDocker.ref, dockerDir);
  });
  after(async () => {
    await registry?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('an OCI image goes in, inspects with its digest and layers, and comes back out with the same manifest and blobs', async () => {
    await push([], app.ref, 'skopeo/app:v1');
    const seen = await inspect('skopeo/app:v1');
    expect(seen.Digest).to.equal(app.digest);
    expect(seen.Layers).to.deep.equal(app.manifest.layers.map((l) => l.digest));
    expect(sha256(await raw('skopeo/app:v1'))).to.equal(app.digest);
    // umoci leaves mediaType out of the manifest (it is optional in OCI), so the type is what the registry says.
    const head = await new Client(registry.url).request('HEAD', '/v2/skopeo/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(head.headers.get('content-type')).to.equal(OCI_MANIFEST);

    const out = join(tmp, 'out-app');
    await pull([], 'skopeo/app:v1', `oci:${out}:v1`);
    expect(await layoutTag(out, 'v1')).to.equal(app.digest);
    for (const blob of [app.manifest.config, ...app.manifest.layers]) {
      const copied = await layoutBlob(out, blob.digest);
      expect(sha256(copied), blob.digest).to.equal(blob.digest);
      expect(copied.equals(await layoutBlob(oci, blob.digest)), blob.digest).to.equal(true);
    }
  });

  it('a multi-arch OCI index goes in with --all and comes back with the same index and every platform image', async () => {
    await push(['--all'], multi.ref, 'skopeo/multi:v1');
    const index = await raw('skopeo/multi:v1');
    expect(sha256(index)).to.equal(multi.digest);
    expect((JSON.parse(index) as { mediaType: string }).mediaType).to.equal(OCI_INDEX);
    for (const child of multi.manifests) {
      const platform = await inspect(`skopeo/multi@${child.digest}`);
      expect(platform.Digest).to.equal(child.digest);
      expect(platform.Architecture).to.equal(child.platform.architecture);
    }

    const out = join(tmp, 'out-multi');
    await pull(['--all'], 'skopeo/multi:v1', `oci:${out}:v1`);
    expect(await layoutTag(out, 'v1')).to.equal(multi.digest);
    for (const child of multi.manifests) {
      const manifest = await layoutBlob(out, child.digest);
      expect(sha256(manifest)).to.equal(child.digest);
      const { config, layers } = JSON.parse(manifest.toString('utf8')) as BuiltImage['manifest'];
      for (const blob of [config, ...layers]) expect((await layoutBlob(out, blob.digest)).equals(await layoutBlob(oci, blob.digest)), blob.digest).to.equal(true);
    }
  });

  it('a Docker schema 2 image goes in and comes back out as the same Docker manifest and layers', async () => {
    await push([], docker.ref, 'skopeo/docker:v1');
    const manifest = await raw('skopeo/docker:v1');
    expect(sha256(manifest)).to.equal(docker.digest);
    expect((JSON.parse(manifest) as { mediaType: string }).mediaType).to.equal(DOCKER_MANIFEST);
    expect((await inspect('skopeo/docker:v1')).Digest).to.equal(docker.digest);

    const out = join(tmp, 'out-docker');
    await pull([], 'skopeo/docker:v1', `dir:${out}`);
    const copied = await readFile(join(out, 'manifest.json'));
    expect(copied.equals(await readFile(join(dockerDir, 'manifest.json')))).to.equal(true);
    const { config, layers } = JSON.parse(copied.toString('utf8')) as BuiltImage['manifest'];
    for (const blob of [config, ...layers]) {
      const file = blob.digest.split(':')[1] as string;
      expect((await readFile(join(out, file))).equals(await readFile(join(dockerDir, file))), blob.digest).to.equal(true);
    }
  });

  it('list-tags names every tag pushed to a repository, sorted', async () => {
    for (const tag of ['v2', 'latest', '1.0.0']) await push([], app.ref, `skopeo/tags:${tag}`);
    const listed = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', remote('skopeo/tags')])) as { Repository: string; Tags: string[] };
    expect(listed.Repository).to.equal(`${host()}/skopeo/tags`);
    expect(listed.Tags).to.deep.equal(['1.0.0', 'latest', 'v2']);
  });

  it('a copy between two repositories of the registry mounts every layer instead of uploading it again', async () => {
    await push([], app.ref, 'skopeo/source:v1');
    const logStart = registry.logs.length;
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', remote('skopeo/source:v1'), remote('skopeo/mounted:v1')]);
    expect((await inspect('skopeo/mounted:v1')).Digest).to.equal(app.digest);

    const requests = registry.logs
      .slice(logStart)
      .filter((line) => line.msg === 'request')
      .map((line) => line as { req: { method: string; url: string }; res: { status: number } });
    const uploadsPath = '/v2/skopeo/mounted/blobs/uploads/';
    const mounted = requests
      .filter((r) => r.req.method === 'POST' && r.req.url.startsWith(`${uploadsPath}?`) && r.res.status === 201)
      .map((r) => new URL(r.req.url, registry.url).searchParams)
      .filter((query) => query.get('from') === 'skopeo/source')
      .map((query) => query.get('mount'));
    expect(mounted).to.have.members(app.manifest.layers.map((l) => l.digest));
    // skopeo reads the config to copy it, and sends it rather than mounting it: its only upload.
    const finished = requests.filter((r) => r.req.method === 'PUT' && r.req.url.startsWith(uploadsPath));
    expect(finished.map((r) => new URL(r.req.url, registry.url).searchParams.get('digest'))).to.deep.equal([app.manifest.config.digest]);
    const client = new Client(registry.url);
    for (const blob of [app.manifest.config, ...app.manifest.layers]) {
      expect((await client.request('HEAD', `/v2/skopeo/mounted/blobs/${blob.digest}`)).status, blob.digest).to.equal(200);
    }
  });

  it('delete removes the manifest from one repository and leaves the same image in another intact', async () => {
    await push([], app.ref, 'skopeo/doomed:v1');
    await push([], app.ref, 'skopeo/kept:v1');
    await skopeo(['delete', '--tls-verify=false', remote('skopeo/doomed:v1')]);
    expect(await failure(inspect('skopeo/doomed:v1'))).to.match(/manifest unknown/i);
    expect(await failure(raw(`skopeo/doomed@${app.digest}`))).to.match(/manifest unknown/i);
    const out = join(tmp, 'out-kept');
    await pull([], 'skopeo/kept:v1', `oci:${out}:v1`);
    expect(await layoutTag(out, 'v1')).to.equal(app.digest);
  });
});
