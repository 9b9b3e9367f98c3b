// podman (root, vfs storage in a temp dir) against this registry on local disk: pull, push of a pulled image to
// another repository, and a build whose RUN step runs on an image podman pulled from the registry, pushed back.
// `podman run` cannot work on these machines (FIELD-NOTES), so the built file is checked by unpacking the pushed
// image with umoci.
import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciImage, podmanArgs, skopeo, type BuiltImage } from '../../helpers/images.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { runTool, toolPath } from '../../helpers/tools.js';

interface Inspect {
  Digest: string;
  Layers: string[];
}

// dash and the two libraries it links: the smallest shell an image can RUN without network or a base image.
const SHELL_FILES: [string, string][] = [
  ['/bin/dash', '/bin/sh'],
  ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6'],
  ['/lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2'],
];

describe('clients: podman pulls, pushes and builds against the registry', function () {
  this.timeout(120_000);
  let tmp: string;
  let registry: TestRegistry;
  let image: BuiltImage;
  let podmanFlags: string[];

  const host = () => new URL(registry.url).host;
  const podman = (args: string[]) => runTool(toolPath('podman'), [...podmanFlags, ...args]);
  const inspect = async (ref: string) => JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${host()}/${ref}`])) as Inspect;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'clients-podman-'));
    podmanFlags = podmanArgs(join(tmp, 'podman'));
    registry = await startTestRegistry({ storage: 'filesystem' });
    image = await buildOciImage(join(tmp, 'oci'), { tag: 'v1', layers: 2, layerSize: 256 * 1024 });
    await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${host()}/podman/base:v1`]);
  });
  after(async () => {
    await registry?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('pull stores the image under the digest the registry serves', async () => {
    await podman(['pull', '--tls-verify=false', `${host()}/podman/base:v1`]);
    const digest = await podman(['image', 'inspect', '--format', '{{.Digest}}', `${host()}/podman/base:v1`]);
    expect(digest.trim()).to.equal(image.digest);
  });

  it('push of the pulled image to another repository carries the same layers, mounted from the first', async () => {
    await podman(['pull', '--tls-verify=false', `${host()}/podman/base:v1`]);
    await podman(['tag', `${host()}/podman/base:v1`, `${host()}/podman/copy:v1`]);
    const logStart = registry.logs.length;
    const digestFile = join(tmp, 'copy.digest');
    await podman(['push', '--tls-verify=false', '--digestfile', digestFile, `${host()}/podman/copy:v1`]);
    const pushed = await inspect('podman/copy:v1');
    expect(pushed.Digest).to.equal((await readFile(digestFile, 'utf8')).trim());
    expect(pushed.Layers).to.deep.equal(image.manifest.layers.map((l) => l.digest));
    const mounts = registry.logs
      .slice(logStart)
      .filter((line) => line.msg === 'request')
      .map((line) => line as { req: { method: string; url: string }; res: { status: number } })
      .filter((r) => r.req.method === 'POST' && r.req.url.includes('mount=') && r.res.status === 201)
      .map((r) => new URL(r.req.url, registry.url).searchParams.get('mount'));
    expect(mounts).to.have.members(image.manifest.layers.map((l) => l.digest));
  });

  it('build --isolation chroot runs a RUN step on an image pulled from the registry, and the result pushes back intact', async () => {
    const context = join(tmp, 'context');
    await mkdir(context);
    for (const [from, to] of SHELL_FILES) await copyFile(from, join(context, to.split('/').pop() as string));
    const copies = SHELL_FILES.map(([, to]) => `COPY ${to.split('/').pop() as string} ${to}`).join('\n');
    await writeFile(join(context, 'Containerfile.shell'), `FROM scratch\n${copies}\n`);
    await podman(['build', '--isolation', 'chroot', '-f', join(context, 'Containerfile.shell'), '-t', `${host()}/podman/shell:v1`, context]);
    await podman(['push', '--tls-verify=false', `${host()}/podman/shell:v1`]);
    // Gone from local storage, so the next build has to pull its base from the registry.
    await podman(['rmi', `${host()}/podman/shell:v1`]);

    await writeFile(join(context, 'Containerfile'), `FROM ${host()}/podman/shell:v1\nRUN echo built by podman > /built\n`);
    await podman(['build', '--isolation', 'chroot', '--tls-verify=false', '-t', `${host()}/podman/built:v1`, context]);
    await podman(['push', '--tls-verify=false', `${host()}/podman/built:v1`]);
    const shell = await inspect('podman/shell:v1');
    const built = await inspect('podman/built:v1');
    expect(built.Layers.slice(0, shell.Layers.length)).to.deep.equal(shell.Layers);
    expect(built.Layers).to.have.length(shell.Layers.length + 1);

    const out = join(tmp, 'built-oci');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${host()}/podman/built:v1`, `oci:${out}:v1`]);
    const bundle = join(tmp, 'bundle');
    await runTool(toolPath('umoci'), ['unpack', '--image', `${out}:v1`, bundle]);
    expect(await readFile(join(bundle, 'rootfs', 'built'), 'utf8')).to.equal('built by podman\n');
    expect((await readFile(join(bundle, 'rootfs', 'bin', 'sh'))).equals(await readFile('/bin/dash'))).to.equal(true);
  });
});
