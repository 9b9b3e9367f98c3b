// distribution's proxy section as an SA already has it (one remoteurl): every repository mirrors it under its own
// name, every push is refused as distribution's proxy mode refuses it, and an ns naming another registry is local.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciImage, skopeo, type BuiltImage } from '../../helpers/images.js';
import type { TestRegistry } from '../../helpers/registry.js';
import { startMirror, startUpstream, type Upstream } from './fixtures.js';

const ACCEPT = { accept: 'application/vnd.oci.image.manifest.v1+json' };

describe("proxy: distribution's single remoteurl", function () {
  this.timeout(120_000);
  let tmp: string;
  let upstream: Upstream;
  let mirror: TestRegistry;
  let app: BuiltImage;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'proxy-remoteurl-'));
    upstream = await startUpstream();
    app = await buildOciImage(join(tmp, 'oci'), { tag: 'v1', layers: 1, seed: 'remoteurl-app' });
    await upstream.push(app.ref, 'library/app:v1');
    mirror = await startMirror({ remoteurl: upstream.proxy.url });
  });
  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('mirrors every repository under its own name, for skopeo and for an ns naming the remote host', async () => {
    const host = new URL(mirror.url).host;
    await skopeo(['copy', '--src-tls-verify=false', `docker://${host}/library/app:v1`, `oci:${join(tmp, 'pulled')}:v1`]);
    const res = await fetch(`${mirror.url}/v2/library/app/manifests/v1?ns=${new URL(upstream.proxy.url).host}`, { headers: ACCEPT });
    expect(res.headers.get('docker-content-digest')).to.equal(app.digest);
    expect(res.headers.get('x-registry-mirror')).to.equal('hit');
  });

  it('an ns naming another registry is served from local storage only', async () => {
    const res = await fetch(`${mirror.url}/v2/library/app/manifests/v1?ns=ghcr.io`, { headers: ACCEPT });
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-registry-mirror')).to.equal(null);
    expect((await fetch(`${mirror.url}/v2/library/other/manifests/v1?ns=ghcr.io`)).status).to.equal(404);
  });

  it('refuses every push, naming proxy.remoteurl', async () => {
    const res = await fetch(`${mirror.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(res.status).to.equal(405);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0].code).to.equal('UNSUPPORTED');
    expect(body.errors[0].message).to.include('(proxy.remoteurl)');
  });
});
