// The maintenance runbook end to end with a real client: skopeo pushes images sharing a layer and a multi-arch
// index, one image is DELETEd by digest, the registry is restarted read-only, `registry garbage-collect` runs as
// a process on the config, the registry is restarted writable, and skopeo copies every survivor back.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildMultiArchIndex, buildOciImage, skopeo, type BuiltImage, type BuiltIndex } from '../../helpers/images.js';
import { Client } from '../../helpers/oci.js';
import { writeDistributionConfig } from '../../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { layout, snapshotTree } from './fixtures.js';
import { REGISTRY_CLI } from '../../helpers/registry-cli.js';


describe('gc: skopeo push, DELETE, read-only restart, garbage-collect, skopeo copy back', function () {
  this.timeout(180_000);
  let tmp: string;
  let root: string;
  let configPath: string;
  let registry: TestRegistry | undefined;
  let doomed: BuiltImage;
  let survivor: BuiltImage;
  let multi: BuiltIndex;
  let base: string;

  const host = () => new URL((registry as TestRegistry).url).host;
  const start = async (readonly: boolean) => {
    registry = await startTestRegistry({ rootDir: root, config: { storage: { maintenance: { readonly: { enabled: readonly } } } } });
  };
  const stop = async () => {
    await registry?.stop();
    registry = undefined;
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'gc-skopeo-'));
    root = join(tmp, 'storage');
    configPath = await writeDistributionConfig(await mkdtemp(join(tmp, 'config-')), { rootDir: root });
    const oci = join(tmp, 'oci');
    const shared = Buffer.from('a base layer both images are built on');
    doomed = await buildOciImage(oci, { tag: 'doomed', layers: [shared, Buffer.from('only in the doomed image')] });
    survivor = await buildOciImage(oci, { tag: 'survivor', layers: [shared, Buffer.from('only in the surviving image')] });
    multi = await buildMultiArchIndex(oci, 'multi', ['amd64', 'arm64'], { layers: 1 });
    base = doomed.manifest.layers[0]?.digest as string;
    expect(survivor.manifest.layers[0]?.digest).to.equal(base);
  });
  after(async () => {
    await stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('pushes with skopeo, deletes by digest, refuses pushes read-only, collects, and every survivor copies back with its digest', async () => {
    await start(false);
    const dest = (ref: string) => `docker://${host()}/e2e/${ref}`;
    await skopeo(['copy', '--dest-tls-verify=false', doomed.ref, dest('app:doomed')]);
    await skopeo(['copy', '--dest-tls-verify=false', survivor.ref, dest('app:survivor')]);
    await skopeo(['copy', '--all', '--dest-tls-verify=false', multi.ref, dest('multi:v1')]);
    const deleted = await new Client((registry as TestRegistry).url).request('DELETE', `/v2/e2e/app/manifests/${doomed.digest}`);
    expect(deleted.status).to.equal(202);

    await stop();
    await start(true);
    const refused = await skopeo(['copy', '--dest-tls-verify=false', survivor.ref, dest('app:again')]).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(refused).to.contain('read-only');
    const { stdout } = await promisify(execFile)(process.execPath, [REGISTRY_CLI, 'garbage-collect', '--delete-untagged', '--min-age', '0s', configPath]);
    expect(stdout).to.contain('deleted 0 manifests, 3 blobs');
    const afterGc = await snapshotTree(root);
    const own = doomed.manifest.layers[1]?.digest as string;
    for (const gone of [doomed.digest, doomed.manifest.config.digest, own]) expect(afterGc.has(layout.blob(gone)), gone).to.equal(false);
    for (const kept of [base, survivor.digest, multi.digest, ...multi.manifests.map((m) => m.digest)]) expect(afterGc.has(layout.blob(kept)), kept).to.equal(true);

    await stop();
    await start(false);
    const out = join(tmp, 'copied-back');
    await skopeo(['copy', '--src-tls-verify=false', dest('app:survivor'), `oci:${out}:survivor`]);
    await skopeo(['copy', '--all', '--src-tls-verify=false', dest('multi:v1'), `oci:${out}:multi`]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const copied = new Map(index.manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest]));
    expect(copied.get('survivor')).to.equal(survivor.digest);
    expect(copied.get('multi')).to.equal(multi.digest);
    const gone = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host()}/e2e/app@${doomed.digest}`]).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(gone).to.match(/manifest unknown/i);
  });
});
