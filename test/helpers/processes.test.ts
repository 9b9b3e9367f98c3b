import { expect } from 'chai';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  s3Client,
  startDistribution,
  startEtcd,
  startNodeProcess,
  startS3rver,
  stopAll,
  type Distribution,
  type Etcd,
  type S3Server,
} from './processes.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('test helpers: processes', () => {
  after(stopAll);

  describe('startNodeProcess', () => {
    let scripts: string;
    before(async () => {
      scripts = await mkdtemp(join(tmpdir(), 'lain-scripts-'));
      await writeFile(join(scripts, 'crash.js'), "console.error('boom: no config'); process.exit(3);\n");
      await writeFile(join(scripts, 'stubborn.js'), "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);\n");
    });
    after(() => rm(scripts, { recursive: true, force: true }));

    it('rejects with the exit code and captured log when the program dies during startup', async () => {
      const err = await startNodeProcess(join(scripts, 'crash.js'), [], {}, async () => false).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(err)).to.include('code 3').and.include('boom: no config');
    });

    it('stops a program that ignores SIGTERM with SIGKILL after the grace period and removes its temp dir', async () => {
      const proc = await startNodeProcess(join(scripts, 'stubborn.js'), [], {}, async (p) => (await p.readLog()).includes('up'));
      expect(alive(proc.pid)).to.equal(true);
      await proc.stop(300);
      expect((await proc.exited).signal).to.equal('SIGKILL');
      expect(alive(proc.pid)).to.equal(false);
      expect(await exists(proc.dir)).to.equal(false);
    });
  });

  describe('startEtcd', () => {
    let etcd: Etcd;
    before(async () => {
      etcd = await startEtcd();
    });
    after(() => etcd?.stop());

    it('keeps the v2 (etcdctl set) and v3 (etcdctl put) keyspaces apart', async () => {
      await etcd.setV2('/lain/config/auth/registry', '{"realm":"v2"}');
      expect(await etcd.getV3('/lain/config/auth/registry')).to.equal(undefined);
      await etcd.putV3('/lain/config/auth/registry', '{"realm":"v3"}');
      expect(await etcd.getV2('/lain/config/auth/registry')).to.equal('{"realm":"v2"}');
      expect(await etcd.getV3('/lain/config/auth/registry')).to.equal('{"realm":"v3"}');
      await etcd.rmV2('/lain/config/auth/registry');
      expect(await etcd.getV2('/lain/config/auth/registry')).to.equal(undefined);
      expect(await etcd.getV3('/lain/config/auth/registry')).to.equal('{"realm":"v3"}');
      await etcd.delV3('/lain/config/auth/registry');
      expect(await etcd.getV3('/lain/config/auth/registry')).to.equal(undefined);
    });

    it('serves a value set with etcdctl v2 at GET /v2/keys/<key>', async () => {
      await etcd.setV2('/lain/config/node_network', '-10.0.0.0/8\nline two');
      const res = await fetch(`${etcd.endpoint}/v2/keys/lain/config/node_network`);
      const body = (await res.json()) as { node: { value: string } };
      expect(body.node.value).to.equal('-10.0.0.0/8\nline two');
    });

    it('is gone (by PID) after stop()', async () => {
      const other = await startEtcd();
      expect(other.endpoint).to.not.equal(etcd.endpoint);
      await other.stop();
      expect(alive(other.pid)).to.equal(false);
    });
  });

  describe('startDistribution', () => {
    let root: string;
    let registry: Distribution;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'lain-dist-root-'));
      registry = await startDistribution({ rootDir: root, configExtra: { http: { headers: { 'X-Helper-Merge': ['yes'] } } } });
    });
    after(async () => {
      await registry?.stop();
      await rm(root, { recursive: true, force: true });
    });

    it('answers GET /v2/ with 200 and Docker-Distribution-API-Version, with configExtra merged in', async () => {
      const res = await fetch(`${registry.url}/v2/`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0');
      expect(res.headers.get('x-helper-merge')).to.equal('yes');
    });

    it('is gone (by PID) after stop()', async () => {
      const other = await startDistribution({ rootDir: root });
      await other.stop();
      expect(alive(other.pid)).to.equal(false);
    });
  });

  describe('startS3rver', () => {
    let s3: S3Server;
    before(async () => {
      s3 = await startS3rver();
    });
    after(() => s3?.stop());

    it('serves the configured bucket and buckets created later to the minio client', async () => {
      await s3.createBucket('extra');
      const names = (await s3Client(s3).listBuckets()).map((b) => b.name);
      expect(names).to.include.members(['registry', 'extra']);
    });

    it('stores and lists objects in the bucket', async () => {
      const client = s3Client(s3);
      await client.putObject(s3.bucket, 'docker/registry/v2/x', Buffer.from('hello'));
      const keys: string[] = [];
      for await (const item of client.listObjectsV2(s3.bucket, 'docker/', true)) keys.push((item as { name: string }).name);
      expect(keys).to.deep.equal(['docker/registry/v2/x']);
    });
  });
});
