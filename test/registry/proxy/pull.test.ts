// Issue 16 with distribution 2.8 as the upstream: skopeo and podman pull through the mirror, each blob and manifest
// is fetched once and then served from storage, a moved tag is seen, only the platform asked for is fetched, pushes
// go to local repositories only, and cached images still pull once the upstream is gone.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiArchIndex, buildOciImage, podmanArgs, skopeo, type BuiltImage, type BuiltIndex } from '../../helpers/images.js';
import { Client } from '../../helpers/oci.js';
import type { TestRegistry } from '../../helpers/registry.js';
import { runTool, toolPath } from '../../helpers/tools.js';
import { startMirror, startUpstream, upstreamGets, type Upstream } from './fixtures.js';

interface Inspect {
  Digest: string;
  Layers: string[];
}

describe('proxy: pulls through the mirror of a distribution 2.8 upstream', function () {
  this.timeout(180_000);
  let tmp: string;
  let upstream: Upstream;
  let mirror: TestRegistry;
  let app: BuiltImage;
  let multi: BuiltIndex;

  const host = () => new URL(mirror.url).host;
  const pull = (ref: string, dest: string, extra: string[] = []) => skopeo(['copy', ...extra, '--src-tls-verify=false', `docker://${host()}/${ref}`, dest]);
  const inspect = async (ref: string) => JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${host()}/${ref}`])) as Inspect;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'proxy-pull-'));
    upstream = await startUpstream();
    app = await buildOciImage(join(tmp, 'oci'), { tag: 'v1', layers: 2, layerSize: 64 * 1024, seed: 'proxy-app' });
    multi = await buildMultiArchIndex(join(tmp, 'multi'), 'v1', ['amd64', 'arm64'], { layers: 1, seed: 'proxy-multi' });
    await upstream.push(app.ref, 'library/app:v1');
    await upstream.push(multi.ref, 'library/multi:v1', true);
    mirror = await startMirror({ upstreams: [{ namespace: 'docker.io', remoteurl: upstream.proxy.url }] });
  });
  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('skopeo pulls an image under the namespace prefix; every blob is fetched once, then served from storage', async () => {
    await pull('docker.io/library/app:v1', `oci:${join(tmp, 'pulled')}:v1`);
    const first = await inspect('docker.io/library/app:v1');
    expect(first.Digest).to.equal(app.digest);
    for (const layer of app.manifest.layers) expect(upstreamGets(upstream.proxy, 'blobs', layer.digest), layer.digest).to.equal(1);
    expect(upstreamGets(upstream.proxy, 'blobs', app.manifest.config.digest)).to.equal(1);
    expect(upstreamGets(upstream.proxy, 'manifests', app.digest)).to.equal(1);

    await pull('docker.io/library/app:v1', `oci:${join(tmp, 'pulled-again')}:v1`);
    for (const layer of app.manifest.layers) expect(upstreamGets(upstream.proxy, 'blobs', layer.digest), layer.digest).to.equal(1);
    expect(upstreamGets(upstream.proxy, 'manifests', app.digest)).to.equal(1);
    const blob = await fetch(`${mirror.url}/v2/docker.io/library/app/blobs/${app.manifest.layers[0].digest}`);
    expect(blob.headers.get('x-registry-mirror')).to.equal('hit');
    await blob.arrayBuffer();
  });

  it('a tag is asked of the upstream on every request: the answer says hit when it has not moved', async () => {
    const heads = () => upstream.proxy.count('HEAD', /\/manifests\/v1$/);
    const before = heads();
    const res = await fetch(`${mirror.url}/v2/docker.io/library/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('docker-content-digest')).to.equal(app.digest);
    expect(res.headers.get('x-registry-mirror')).to.equal('hit');
    expect(heads()).to.equal(before + 1);
    const reqId = res.headers.get('x-request-id');
    expect(mirror.logs.some((line) => line.msg === 'mirror: tag confirmed by the upstream' && line.reqId === reqId)).to.equal(true);
  });

  it('a tag moved upstream is seen on the next pull', async () => {
    const moved = await buildOciImage(join(tmp, 'oci'), { tag: 'v2', layers: 1, layerSize: 4096, seed: 'proxy-moved' });
    await upstream.push(moved.ref, 'library/app:v1');
    const res = await fetch(`${mirror.url}/v2/docker.io/library/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).to.equal(moved.digest);
    expect(res.headers.get('x-registry-mirror')).to.equal('miss');
    expect((await inspect('docker.io/library/app:v1')).Digest).to.equal(moved.digest);
    expect(mirror.logs.some((line) => line.msg === 'mirror: tag moved upstream' && line.was === app.digest)).to.equal(true);
    await upstream.push(app.ref, 'library/app:v1');
  });

  it('a pull of one platform of an index fetches the index, that platform and its blobs only', async () => {
    const [amd64, arm64] = multi.manifests;
    await pull('docker.io/library/multi:v1', `oci:${join(tmp, 'arm64')}:v1`, ['--override-arch', 'arm64']);
    expect(upstreamGets(upstream.proxy, 'manifests', arm64.digest)).to.equal(1);
    expect(upstreamGets(upstream.proxy, 'manifests', amd64.digest)).to.equal(0);
    const arm64Manifest = JSON.parse(await skopeo(['inspect', '--raw', `oci:${join(tmp, 'arm64')}:v1`])) as { layers: { digest: string }[] };
    expect(upstreamGets(upstream.proxy, 'blobs', arm64Manifest.layers[0].digest)).to.equal(1);
    // Only the arm64 image's blobs (its config and one layer) crossed from the upstream for this repository.
    expect(upstream.proxy.count('GET', /\/library\/multi\/blobs\//)).to.equal(2);
  });

  it("podman pulls docker.io/library/app:v1 through the mirror named in registries.conf, as docs/mirror.md configures it", async () => {
    const flags = podmanArgs(join(tmp, 'podman'));
    const conf = join(tmp, 'registries.conf');
    await writeFile(conf, `[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n\n[[registry.mirror]]\nlocation = "${host()}/docker.io"\ninsecure = true\n`);
    const env = { CONTAINERS_REGISTRIES_CONF: conf };
    await runTool(toolPath('podman'), [...flags, 'pull', 'docker.io/library/app:v1'], env);
    const digest = await runTool(toolPath('podman'), [...flags, 'image', 'inspect', '--format', '{{.Digest}}', 'docker.io/library/app:v1'], env);
    expect(digest.trim()).to.equal(app.digest);
  });

  it('a push to a mirrored namespace is refused with a reason, and a push to a local repository works', async () => {
    let refused = '';
    await skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host()}/docker.io/library/mine:v1`]).catch((err: Error) => {
      refused = err.message;
    });
    expect(refused).to.match(/mirrored repository and takes no pushes/);
    const res = await fetch(`${mirror.url}/v2/docker.io/library/mine/blobs/uploads/`, { method: 'POST' });
    expect(res.status).to.equal(405);
    expect(((await res.json()) as { errors: { code: string; message: string }[] }).errors[0].message).to.match(/docker\.io\/ mirror .*proxy\.upstreams namespace docker\.io/);

    await skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host()}/team/app:v1`]);
    expect((await inspect('team/app:v1')).Digest).to.equal(app.digest);
    const local = await fetch(`${mirror.url}/v2/team/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(local.headers.get('x-registry-mirror')).to.equal(null);
  });

  it("a blob stored for a local repository is not served through a mirrored one unless the upstream has it there", async () => {
    const secret = Buffer.from('a layer of a private local image');
    const digest = await new Client(mirror.url).pushBlob('team/secret', secret);
    const res = await fetch(`${mirror.url}/v2/docker.io/library/app/blobs/${digest}`);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0].code).to.equal('BLOB_UNKNOWN');
    expect(upstream.proxy.count('HEAD', new RegExp(`/library/app/blobs/${digest}$`))).to.equal(1);
    expect((await fetch(`${mirror.url}/v2/docker.io/library/app/blobs/${digest}`, { method: 'HEAD' })).status).to.equal(404);
  });

  it('once the upstream is gone, cached images still pull (served stale, and the log says so); others fail with 502', async () => {
    await upstream.proxy.stop();
    await pull('docker.io/library/app:v1', `oci:${join(tmp, 'offline')}:v1`);
    const res = await fetch(`${mirror.url}/v2/docker.io/library/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-registry-mirror')).to.equal('stale');
    const stale = mirror.logs.filter((line) => line.msg === 'mirror: the upstream did not confirm the tag; served from the cache' && line.tag === 'v1');
    expect(stale.length).to.be.at.least(2);
    // After the first refused connection, the next requests do not wait on the upstream again for a while.
    expect((stale[stale.length - 1].err as { message: string }).message).to.match(/could not be reached a moment ago .*asked again from/);
    const missing = await fetch(`${mirror.url}/v2/docker.io/library/never/manifests/v1`);
    expect(missing.status).to.equal(502);
    expect(((await missing.json()) as { errors: { message: string }[] }).errors[0].message).to.match(/not in the mirror, and .*could not be reached/);
  });
});
