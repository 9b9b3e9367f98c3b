// proxy.ttl, the mirror's metrics and `registry list`: uses are recorded in storage, survive a restart, and the
// once-per-fleet job deletes what nobody pulled for longer than the ttl, after which the collector frees its blobs.
import { expect } from 'chai';
import { access, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { newCoordinatorId } from '../../../registry/src/coord/coordinator.js';
import { LocalCoordinator } from '../../../registry/src/coord/local.js';
import type { RepositoryListing } from '../../../registry/src/gc/list.js';
import { createLogger } from '../../../registry/src/log.js';
import { scheduleEviction } from '../../../registry/src/proxy/evict.js';
import { Routes } from '../../../registry/src/proxy/routing.js';
import { listUses } from '../../../registry/src/proxy/usage.js';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import { RegistryStore } from '../../../registry/src/storage/registry-store.js';
import { buildOciImage, skopeo, type BuiltImage } from '../../helpers/images.js';
import { writeDistributionConfig } from '../../helpers/processes.js';
import { runRegistry } from '../../helpers/registry-cli.js';
import type { TestRegistry } from '../../helpers/registry.js';
import { getBlob } from './blob-client.js';
import { startMirror, startUpstream, storedBlob, type Upstream } from './fixtures.js';

const HOUR = 3_600_000;

/** The value of one sample of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('proxy: ttl eviction, metrics and the list command', function () {
  this.timeout(180_000);
  let tmp: string;
  let root: string;
  let upstream: Upstream;
  let mirror: TestRegistry;
  let app: BuiltImage;
  let old: BuiltImage;

  const proxyConfig = () => ({ upstreams: [{ namespace: 'docker.io', remoteurl: upstream.proxy.url, ttl: '1h' }] });
  const host = () => new URL(mirror.url).host;
  const metrics = async () => (await fetch(`${mirror.debug?.url}/metrics`)).text();

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'proxy-evict-'));
    root = join(tmp, 'storage');
    upstream = await startUpstream();
    app = await buildOciImage(join(tmp, 'oci'), { tag: 'app', layers: 1, seed: 'evict-app' });
    old = await buildOciImage(join(tmp, 'oci'), { tag: 'old', layers: 1, seed: 'evict-old' });
    await upstream.push(app.ref, 'library/app:v1');
    await upstream.push(old.ref, 'library/old:v1');
    mirror = await startMirror(proxyConfig(), { rootDir: root, config: { http: { debug: { addr: '127.0.0.1:0', prometheus: { enabled: true } } } } });
    for (const name of ['app', 'old']) {
      await skopeo(['copy', '--src-tls-verify=false', `docker://${host()}/docker.io/library/${name}:v1`, `oci:${join(tmp, 'pulled')}:${name}`]);
    }
  });
  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('metrics count misses, hits, upstream bytes and errors, and the fetch in flight', async () => {
    const before = await metrics();
    expect(sample(before, 'registry_mirror_misses_total', 'kind="blob"')).to.equal(4);
    expect(sample(before, 'registry_mirror_misses_total', 'kind="manifest"')).to.equal(2);
    const blobBytes = [app, old].flatMap((i) => [i.manifest.config, ...i.manifest.layers]).reduce((sum, d) => sum + d.size, 0);
    expect(sample(before, 'registry_mirror_upstream_bytes_total', 'upstream="docker.io"')).to.equal(blobBytes + app.size + old.size);
    await skopeo(['copy', '--src-tls-verify=false', `docker://${host()}/docker.io/library/app:v1`, `oci:${join(tmp, 'again')}:app`]);
    const after = await metrics();
    expect(sample(after, 'registry_mirror_hits_total', 'kind="blob"') - sample(before, 'registry_mirror_hits_total', 'kind="blob"')).to.be.at.least(2);
    expect(sample(after, 'registry_mirror_misses_total', 'kind="blob"')).to.equal(4);

    const missing = await fetch(`${mirror.url}/v2/docker.io/library/app/blobs/sha256:${'0'.repeat(64)}`);
    expect(missing.status).to.equal(404);
    expect(sample(await metrics(), 'registry_mirror_upstream_errors_total', 'upstream="docker.io",reason="status"')).to.equal(1);

    const big = await buildOciImage(join(tmp, 'oci'), { tag: 'big', layers: 1, layerSize: 4 * 1024 * 1024, seed: 'evict-big' });
    await upstream.push(big.ref, 'library/big:v1');
    upstream.proxy.throttle(1024 * 1024);
    let inFlight = -1;
    let scraped: Promise<void> | undefined;
    const layer = big.manifest.layers[0].digest;
    await getBlob(`${mirror.url}/v2/docker.io/library/big/blobs/${layer}`, () => {
      scraped = metrics().then((text) => {
        inFlight = sample(text, 'registry_mirror_fetches_in_flight', 'kind="blob"');
      });
    });
    upstream.proxy.throttle(undefined);
    await scraped;
    expect(inFlight).to.equal(1);
    expect(sample(await metrics(), 'registry_mirror_fetches_in_flight', 'kind="blob"')).to.equal(0);
  });

  it('registry list marks the repositories the mirror filled', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', app.ref, `docker://${host()}/team/app:v1`]);
    const config = await writeDistributionConfig(tmp, { rootDir: root });
    const table = await runRegistry(['list', config]);
    expect(table.code).to.equal(0);
    expect(table.stdout).to.match(/^docker\.io\/library\/app \(mirror\)\s+v1\s/m);
    expect(table.stdout).to.match(/^team\/app\s+v1\s/m);
    const listings = JSON.parse((await runRegistry(['list', '--json', config])).stdout) as RepositoryListing[];
    // library/big had one blob fetched, no manifest: nothing for the ttl to expire, and nothing marks it.
    expect(listings.filter((l) => l.mirrored).map((l) => l.repository)).to.deep.equal(['docker.io/library/app', 'docker.io/library/old']);
  });

  it('after a restart, the job deletes what was not pulled within the ttl, and the collector then frees its blobs', async () => {
    await mirror.stop();
    // Two hours without a pull of library/old: its records' modification times are its last uses.
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    const records = join(root, 'docker/registry/v2/_mirror/docker.io/library/old');
    for (const dir of ['_tags', '_revisions/sha256']) {
      for (const file of await readdir(join(records, dir), { withFileTypes: true })) {
        if (file.isFile()) await utimes(join(records, dir, file.name), twoHoursAgo, twoHoursAgo);
      }
    }
    mirror = await startMirror(proxyConfig(), { rootDir: root });
    const logger = createLogger({ level: 'error', formatter: 'json', fields: {} }, new Writable({ write: (_c, _e, done) => done() }));
    const driver = await createDriver(mirror.config.storage.driver, logger);
    const store = new RegistryStore(driver, { writer: newCoordinatorId(), manifests: { urls: { allow: [], deny: [] }, skipBlobChecks: false } });
    const job = scheduleEviction(new LocalCoordinator(logger), store, new Routes(mirror.config.proxy ?? { upstreams: [] }), logger);
    const record = await job?.runNow();
    await job?.stop();
    expect(record?.result).to.deep.equal({ tags: 1, manifests: 1, kept: 0 });
    expect((await listUses(driver)).filter((u) => u.name === 'docker.io/library/old')).to.deep.equal([]);
    expect((await fetch(`${mirror.url}/v2/docker.io/library/app/manifests/v1`, { method: 'HEAD' })).status).to.equal(200);

    const config = await writeDistributionConfig(tmp, { rootDir: root });
    await mirror.stop();
    const gc = await runRegistry(['garbage-collect', '--min-age', '0s', config]);
    expect(gc.code, gc.stderr).to.equal(0);
    const exists = (digest: string) => access(storedBlob(root, digest)).then(() => true, () => false);
    expect(await exists(old.manifest.layers[0].digest)).to.equal(false);
    expect(await exists(old.digest)).to.equal(false);
    expect(await exists(app.manifest.layers[0].digest)).to.equal(true);
    expect(await exists(app.digest)).to.equal(true);
  });
});
