// A real containerd pulls docker.io and quay.io images through one mirror, configured the way docs/mirror.md says
// (a hosts.toml per registry): containerd sends ?ns=<registry>, and the mirror takes each from its own upstream.
// The machine has no internet, so the registries' own servers in hosts.toml cannot have answered.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd, writeHostsDir, type Containerd } from '../../helpers/containerd.js';
import { buildOciImage, skopeo, type BuiltImage } from '../../helpers/images.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { startMirror, startUpstream, upstreamGets, type Upstream } from './fixtures.js';

describe('proxy: containerd pulls through the mirror with hosts.toml for two registries', function () {
  this.timeout(180_000);
  let tmp: string;
  let hub: Upstream;
  let quay: TestRegistry;
  let mirror: TestRegistry;
  let containerd: Containerd;
  let app: BuiltImage;
  let tool: BuiltImage;

  const pull = (ref: string) => containerd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', join(tmp, 'hosts'), ref]);
  const digestOf = async (ref: string) => {
    const line = (await containerd.ctr(['image', 'ls'])).split('\n').find((l) => l.startsWith(`${ref} `));
    return line?.split(/\s+/)[2];
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'proxy-containerd-'));
    app = await buildOciImage(join(tmp, 'oci'), { tag: 'app', layers: 2, seed: 'containerd-app' });
    tool = await buildOciImage(join(tmp, 'oci'), { tag: 'tool', layers: 1, seed: 'containerd-tool' });
    hub = await startUpstream();
    await hub.push(app.ref, 'library/app:v1');
    quay = await startTestRegistry();
    await skopeo(['copy', '--dest-tls-verify=false', tool.ref, `docker://${new URL(quay.url).host}/team/tool:v1`]);
    mirror = await startMirror({
      upstreams: [
        { namespace: 'docker.io', remoteurl: hub.proxy.url },
        { namespace: 'quay.io', remoteurl: quay.url },
      ],
    });
    await writeHostsDir(join(tmp, 'hosts'), mirror.url, { 'docker.io': 'https://registry-1.docker.io', 'quay.io': 'https://quay.io' });
    containerd = await startContainerd();
  });
  after(async () => {
    await containerd?.stop();
    await mirror?.stop();
    await quay?.stop();
    await hub?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('ctr pulls docker.io/library/app:v1 through the mirror, which sends ns=docker.io to the Docker Hub upstream', async () => {
    await pull('docker.io/library/app:v1');
    expect(await digestOf('docker.io/library/app:v1')).to.equal(app.digest);
    const urls = mirror.logs.filter((line) => line.msg === 'request').map((line) => (line.req as { url: string }).url);
    expect(urls.some((url) => url.includes('/manifests/v1?ns=docker.io'))).to.equal(true, urls.join('\n'));
    for (const layer of app.manifest.layers) expect(upstreamGets(hub.proxy, 'blobs', layer.digest)).to.equal(1);
  });

  it('ctr pulls quay.io/team/tool:v1 through the same mirror from the quay.io upstream, stored under quay.io/', async () => {
    await pull('quay.io/team/tool:v1');
    expect(await digestOf('quay.io/team/tool:v1')).to.equal(tool.digest);
    const stored = await fetch(`${mirror.url}/v2/quay.io/team/tool/manifests/${tool.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(stored.status).to.equal(200);
    expect(stored.headers.get('x-registry-mirror')).to.equal('hit');
  });
});
