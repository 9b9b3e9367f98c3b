// registry migrate as an SA runs it: a `node registry migrate from.yml to.yml` process between two filesystem roots
// holding images pushed through the API (shared layers, a multi-arch index, a referrer, untagged and tagless
// manifests), checked by pulling every tag from a registry started on the destination.
import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pseudoRandomBytes } from '../helpers/content.js';
import { Client, sha256 } from '../helpers/oci.js';
import { startNodeProcess, startS3rver, writeDistributionConfig, type ManagedProcess } from '../helpers/processes.js';
import { s3Storage, startS3RegistryProcess, type RegistryProcess } from '../helpers/s3-registry.js';
import { toYaml } from '../../registry/src/config/load.js';
import { startTestRegistry } from '../helpers/registry.js';
import { layout, pullVerified, seedRegistry, snapshotTree, type Seeded } from './gc/fixtures.js';
import { REGISTRY_CLI, runRegistry as registryCommand } from '../helpers/registry-cli.js';

const BIG_LAYERS = 32;
const BIG_LAYER_SIZE = 4 * 1024 * 1024;



/** The storage tree without upload state, which migrate does not copy. */
async function content(root: string): Promise<Map<string, string>> {
  const files = await snapshotTree(root);
  for (const path of files.keys()) if (path.split('/').includes('_uploads')) files.delete(path);
  return files;
}

/** Every tag of every repository that has one, pulled from a registry on root with every digest checked. */
async function pullAll(root: string, repositories: string[]): Promise<Map<string, string[]>> {
  const registry = await startTestRegistry({ rootDir: root });
  try {
    const client = new Client(registry.url);
    const pulled = new Map<string, string[]>();
    for (const name of repositories) {
      const res = await client.request('GET', `/v2/${name}/tags/list`);
      if (res.status === 404) continue;
      const { tags } = (await res.json()) as { tags: string[] };
      for (const tag of tags) pulled.set(`${name}:${tag}`, await pullVerified(client, name, tag));
    }
    return pulled;
  } finally {
    await registry.stop();
  }
}

describe('registry migrate', function () {
  this.timeout(180_000);
  let tmp: string;
  let source: string;
  let fromConfig: string;
  let seeded: Seeded;
  let bigLayers: string[];
  let repositories: string[];
  let sourcePulls: Map<string, string[]>;
  const running: ManagedProcess[] = [];

  /** A fresh destination root and its config file. */
  async function destination(name: string): Promise<{ root: string; config: string }> {
    const dir = join(tmp, name);
    await mkdir(dir);
    const root = join(dir, 'storage');
    return { root, config: await writeDistributionConfig(dir, { rootDir: root }) };
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'migrate-'));
    source = join(tmp, 'source');
    const registry = await startTestRegistry({ rootDir: source });
    try {
      const client = new Client(registry.url);
      seeded = await seedRegistry(client);
      const big = await client.pushImage('big', 'v1', Array.from({ length: BIG_LAYERS }, (_, i) => pseudoRandomBytes(`big layer ${i}`, BIG_LAYER_SIZE)));
      bigLayers = big.layers.map((layer) => layer.digest);
    } finally {
      await registry.stop();
    }
    await mkdir(join(tmp, 'from'));
    fromConfig = await writeDistributionConfig(join(tmp, 'from'), { rootDir: source });
    repositories = ['app', 'big', 'bydigest', 'multi', 'other'];
    sourcePulls = await pullAll(source, repositories);
  });
  after(async () => {
    for (const proc of running) await proc.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('copies from local disk to S3 (s3rver), and every tag pulls intact from a registry on the bucket', async () => {
    const s3 = await startS3rver();
    const dir = join(tmp, 'to-s3');
    await mkdir(dir);
    const toConfig = join(dir, 'to.yml');
    await writeFile(toConfig, toYaml({ version: '0.1', log: { level: 'warn' }, storage: s3Storage(s3, false), http: { addr: '127.0.0.1:0' } }));
    let registry: RegistryProcess | undefined;
    try {
      // One blob at a time: s3rver keeps objects as files and answers 500 when concurrent deletes empty sibling
      // directories (the staging area), a fault of the test server that real S3 does not have.
      const run = await registryCommand(['migrate', '--concurrency', '1', fromConfig, toConfig]);
      expect(run.code, run.stderr + run.stdout).to.equal(0);
      registry = await startS3RegistryProcess(dir, 'registry-on-s3', s3Storage(s3, false), 'migrate-secret');
      const client = new Client(registry.url);
      const pulled = new Map<string, string[]>();
      for (const key of sourcePulls.keys()) {
        const [name, tag] = key.split(':') as [string, string];
        pulled.set(key, await pullVerified(client, name, tag));
      }
      expect(pulled).to.deep.equal(sourcePulls);
    } finally {
      await registry?.proc.stop();
      await s3.stop();
    }
  });

  it('copies every file of every repository, and every tag pulls intact from a registry on the destination', async () => {
    const dest = await destination('full');
    const run = await registryCommand(['migrate', fromConfig, dest.config]);
    expect(run.code, run.stderr + run.stdout).to.equal(0);
    expect(await content(dest.root)).to.deep.equal(await content(source));
    expect(sourcePulls.size).to.equal(6);
    expect(await pullAll(dest.root, repositories)).to.deep.equal(sourcePulls);

    const registry = await startTestRegistry({ rootDir: dest.root });
    try {
      const client = new Client(registry.url);
      const referrers = (await (await client.request('GET', `/v2/app/referrers/${seeded.v2.digest}`)).json()) as { manifests: { digest: string }[] };
      expect(referrers.manifests.map((m) => m.digest)).to.deep.equal([seeded.signature.digest]);
      expect(await pullVerified(client, 'bydigest', seeded.byDigest.digest)).to.include(seeded.byDigest.layers[1]);
      expect(await pullVerified(client, 'app', seeded.oldLatest.digest)).to.include(seeded.oldLatest.config);
    } finally {
      await registry.stop();
    }

    const blobs = [...(await content(source)).keys()].filter((path) => path.startsWith('docker/registry/v2/blobs/')).length;
    expect(run.stdout).to.contain('migrate: 5 repositories');
    expect(run.stdout).to.contain(`migrate: blobs: ${blobs} copied (`);
    expect(run.stdout).to.contain(`copied blob ${bigLayers[0]} (4.0 MiB)`);
    expect(run.stdout).to.contain(`wrote tag multi:v1 -> ${seeded.multi.digest}`);
    expect(run.stderr).to.match(/repository \d\/5 \w+: \d+ blobs handled/);

    const again = await registryCommand(['migrate', fromConfig, dest.config]);
    expect(again.code, again.stderr + again.stdout).to.equal(0);
    expect(again.stdout).to.contain(`migrate: blobs: 0 copied (0 B), ${blobs} already at the destination, 0 not copied`);
    expect(again.stdout).to.match(/migrate: links: 0 written, \d+ already in place, 0 left out/);
  });

  it('--dry-run lists what it would copy and writes nothing', async () => {
    const dest = await destination('dry');
    const run = await registryCommand(['migrate', '--dry-run', fromConfig, dest.config]);
    expect(run.code, run.stderr + run.stdout).to.equal(0);
    expect(run.stdout).to.contain(`would copy blob ${seeded.base}`);
    expect(run.stdout).to.contain(`would write tag app:v2 -> ${seeded.v2.digest}`);
    expect(run.stdout).to.contain(`would write referrer app@${seeded.signature.digest} -> ${seeded.v2.digest}`);
    expect(run.stdout).to.contain('migrate: dry run, nothing written: 5 repositories');
    expect(await content(dest.root).catch(() => new Map())).to.deep.equal(new Map());
  });

  it('an interrupted run leaves no tag naming missing content, and the next run completes it', async () => {
    const dest = await destination('interrupted');
    // Ready (and then killed) once the first large layer has landed: the other 31 are still to come.
    const proc = await startNodeProcess(REGISTRY_CLI, ['migrate', fromConfig, dest.config], {}, async (p) => (await p.readLog()).includes(`copied blob ${bigLayers[0]}`), { name: 'migrate' });
    running.push(proc);
    process.kill(proc.pid, 'SIGKILL');
    expect((await proc.exited).signal).to.equal('SIGKILL');
    const landed = await Promise.all(bigLayers.map((digest) => stat(join(dest.root, layout.blob(digest))).then(() => true, () => false)));
    expect(landed.filter(Boolean).length, 'large layers copied before the kill').to.be.lessThan(BIG_LAYERS);
    expect(landed.filter(Boolean).length).to.be.greaterThan(0);

    // Whatever tags exist already pull whole; big:v1 is not among them.
    const partial = await pullAll(dest.root, repositories);
    expect(partial.has('big:v1')).to.equal(false);
    for (const [ref, fetched] of partial) expect(fetched, ref).to.deep.equal(sourcePulls.get(ref));

    const resumed = await registryCommand(['migrate', fromConfig, dest.config]);
    expect(resumed.code, resumed.stderr + resumed.stdout).to.equal(0);
    expect(resumed.stdout).to.match(/migrate: blobs: \d+ copied \([^)]*\), [1-9]\d* already at the destination, 0 not copied/);
    expect(await content(dest.root)).to.deep.equal(await content(source));
    expect(await pullAll(dest.root, repositories)).to.deep.equal(sourcePulls);
  });

  it('recopies a truncated destination blob and replaces a partial staging file', async () => {
    const dest = await destination('truncated');
    expect((await registryCommand(['migrate', fromConfig, dest.config])).code).to.equal(0);
    const victim = seeded.v2.layers[1] as string;
    await truncate(join(dest.root, layout.blob(victim)), 3);
    const staging = join(dest.root, 'docker/registry/v2/_migrate/sha256', bigLayers[1]?.split(':')[1] as string);
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'data'), 'half a blob');

    const run = await registryCommand(['migrate', fromConfig, dest.config]);
    expect(run.code, run.stderr + run.stdout).to.equal(0);
    expect(run.stdout).to.contain(`copied blob ${victim}`);
    expect(run.stdout).to.contain('migrate: blobs: 1 copied (');
    expect(await content(dest.root)).to.deep.equal(await content(source));
  });

  it('reports a corrupt source blob, does not copy it, and leaves out the tag that needs it', async () => {
    const corruptSource = join(tmp, 'corrupt-source');
    await cp(source, corruptSource, { recursive: true });
    const victim = seeded.v2.layers[1] as string;
    const victimPath = join(corruptSource, layout.blob(victim));
    const original = (await stat(victimPath)).size;
    await writeFile(victimPath, 'x'.repeat(original));
    await mkdir(join(tmp, 'corrupt-from'));
    const from = await writeDistributionConfig(join(tmp, 'corrupt-from'), { rootDir: corruptSource });
    const dest = await destination('from-corrupt');

    const run = await registryCommand(['migrate', from, dest.config]);
    expect(run.code, run.stderr + run.stdout).to.equal(1);
    expect(run.stdout).to.contain(`NOT COPIED blob ${victim} (app): its content at the source hashes to ${sha256('x'.repeat(original))}`);
    expect(run.stdout).to.contain(`NOT COPIED tag app:v2 -> ${seeded.v2.digest}: blob ${victim} is corrupt at the source`);
    expect(run.stdout).to.contain('migrate: INCOMPLETE');
    await stat(join(dest.root, layout.blob(victim))).then(
      () => expect.fail('the corrupt blob reached the destination'),
      (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
    );
    expect(await readdir(join(dest.root, 'docker/registry/v2'))).to.deep.equal(['blobs', 'repositories']);
    const pulled = await pullAll(dest.root, repositories);
    expect([...pulled.keys()].sort()).to.deep.equal([...sourcePulls.keys()].filter((ref) => ref !== 'app:v2').sort());
    for (const [ref, fetched] of pulled) expect(fetched, ref).to.deep.equal(sourcePulls.get(ref));
  });

  it('a storage error at the destination stops the run with a message saying to run it again, not a trace', async () => {
    const dest = await destination('broken');
    await mkdir(join(dest.root, 'docker/registry/v2'), { recursive: true });
    await writeFile(join(dest.root, 'docker/registry/v2/blobs'), 'a file where a directory belongs');
    const run = await registryCommand(['migrate', fromConfig, dest.config]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('registry: migration stopped: ').and.contain('run the same command again to resume');
    expect(run.stderr).to.not.match(/\n\s+at /);
  });

  it('usage errors exit 2 with the usage, and the same storage on both sides is refused', async () => {
    for (const args of [[], [fromConfig], ['--bogus', fromConfig, fromConfig]]) {
      const run = await registryCommand(['migrate', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.contain('usage: registry migrate [--dry-run]');
    }
    const same = await registryCommand(['migrate', fromConfig, fromConfig]);
    expect(same.code).to.equal(2);
    expect(same.stderr).to.contain('configure the same storage');
  });
});
