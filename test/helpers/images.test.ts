import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiArchIndex, buildOciImage, OCI_INDEX, podmanArgs, skopeo, toDockerV2s2 } from './images.js';
import { distributionGarbageCollect, startDistribution, stopAll, type Distribution } from './processes.js';
import { runTool, toolPath } from './tools.js';

interface Inspect {
  Digest: string;
  Architecture: string;
}

describe('test helpers: images', () => {
  let tmp: string;
  let registry: Distribution;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lain-images-'));
    registry = await startDistribution({ rootDir: join(tmp, 'registry') });
  });
  after(async () => {
    await registry?.stop();
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  const inspect = async (ref: string) => JSON.parse(await skopeo(['inspect', '--tls-verify=false', ref])) as Inspect;

  it('builds the same layers from the same seed and unrelated layers from another seed', async () => {
    const layout = join(tmp, 'seeds');
    const a = await buildOciImage(layout, { tag: 'a', layers: 2, seed: 's1' });
    const b = await buildOciImage(layout, { tag: 'b', layers: 2, seed: 's1', arch: 'arm64' });
    const c = await buildOciImage(layout, { tag: 'c', layers: 2, seed: 's2' });
    const digests = (img: typeof a) => img.manifest.layers.map((l) => l.digest);
    expect(digests(a)).to.have.length(2);
    expect(digests(b)).to.deep.equal(digests(a));
    expect(b.digest).to.not.equal(a.digest);
    expect(digests(c)).to.not.include.members([digests(a)[0]]);
    expect(a.ref).to.equal(`oci:${layout}:a`);
  });

  it('pushes a built image to distribution with skopeo, which reports the same manifest digest', async () => {
    const img = await buildOciImage(join(tmp, 'single'), { tag: 'v1', layers: [Buffer.from('one'), Buffer.from('two')] });
    await skopeo(['copy', '--dest-tls-verify=false', img.ref, `docker://${registry.host}/helpers/single:v1`]);
    const seen = await inspect(`docker://${registry.host}/helpers/single:v1`);
    expect(seen.Digest).to.equal(img.digest);
    expect(seen.Architecture).to.equal('amd64');
    const gc = await distributionGarbageCollect(registry.configPath, ['--dry-run']);
    expect(gc).to.include('helpers/single').and.include(img.manifest.layers[0].digest);
  });

  it('pushes a multi-arch index with skopeo copy --all, keeping the index and every platform manifest', async () => {
    const index = await buildMultiArchIndex(join(tmp, 'multi'), 'v1', ['amd64', 'arm64']);
    await skopeo(['copy', '--all', '--dest-tls-verify=false', index.ref, `docker://${registry.host}/helpers/multi:v1`]);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/helpers/multi:v1`]);
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).to.equal(index.digest);
    expect((JSON.parse(raw) as { mediaType: string }).mediaType).to.equal(OCI_INDEX);
    for (const m of index.manifests) {
      const arch = await inspect(`docker://${registry.host}/helpers/multi@${m.digest}`);
      expect(arch.Architecture).to.equal(m.platform.architecture);
    }
  });

  it('converts an OCI image to Docker schema 2 in a dir: layout that skopeo pushes unchanged', async () => {
    const img = await buildOciImage(join(tmp, 'docker'), { tag: 'v1', layers: 1 });
    const v2s2 = await toDockerV2s2(img.ref, join(tmp, 'docker-v2s2'));
    const manifest = JSON.parse(await readFile(join(tmp, 'docker-v2s2', 'manifest.json'), 'utf8')) as { mediaType: string };
    expect(manifest.mediaType).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    await skopeo(['copy', '--dest-tls-verify=false', v2s2.ref, `docker://${registry.host}/helpers/docker:v1`]);
    expect((await inspect(`docker://${registry.host}/helpers/docker:v1`)).Digest).to.equal(v2s2.digest);
  });

  it('lets podman (root, vfs storage in a temp dir) pull from distribution with podmanArgs', async () => {
    const img = await buildOciImage(join(tmp, 'podman'), { tag: 'v1', layers: 1 });
    await skopeo(['copy', '--dest-tls-verify=false', img.ref, `docker://${registry.host}/helpers/podman:v1`]);
    const podman = podmanArgs(join(tmp, 'podman-store'));
    await runTool(toolPath('podman'), [...podman, 'pull', '--tls-verify=false', `${registry.host}/helpers/podman:v1`]);
    const digest = await runTool(toolPath('podman'), [...podman, 'image', 'inspect', '--format', '{{.Digest}}', `${registry.host}/helpers/podman:v1`]);
    expect(digest.trim()).to.equal(img.digest);
  });
});
