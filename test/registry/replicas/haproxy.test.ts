// haproxy in front of two `registry serve` processes that share one directory, http.secret and Redis, round robin
// per request, as docs/deployment.md sets it up: real clients push and pull through it, and an upload whose chunks
// land on both replicas completes.
import { expect } from 'chai';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { startHAProxy, type HAProxy } from '../../helpers/haproxy.js';
import { buildOciImage, podmanArgs, skopeo, type BuiltImage } from '../../helpers/images.js';
import { sha256 } from '../../helpers/oci.js';
import { makeTempDir, stopAll } from '../../helpers/processes.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { accessLog, type RegistryProcess } from '../../helpers/registry-serve.js';
import { runTool, toolPath } from '../../helpers/tools.js';
import { startReplicas } from './replicas.js';

describe('replicas: haproxy in front of two registry processes sharing a directory, a secret and Redis', function () {
  this.timeout(120_000);
  let tmp: string;
  let redis: RedisServer;
  let replicas: RegistryProcess[];
  let lb: HAProxy;
  let image: BuiltImage;

  /** Requests each replica answered whose URL contains `needle`. */
  const served = (needle: string) => Promise.all(replicas.map(async (r) => (await accessLog(r.proc)).filter((e) => e.url.includes(needle))));

  before(async () => {
    tmp = await makeTempDir('replicas-haproxy');
    redis = await startRedis();
    replicas = await startReplicas(tmp, { storage: 'filesystem', blobdescriptor: 'redis', redis: redis.addr, debug: true });
    lb = await startHAProxy(replicas.map((r) => ({ url: r.url, debugUrl: r.debugUrl as string })));
    image = await buildOciImage(join(tmp, 'oci'), { tag: 'v1', layers: 2, layerSize: 512 * 1024 });
  });
  after(async () => {
    await lb?.stop();
    await Promise.all((replicas ?? []).map((r) => r.proc.stop()));
    await redis?.stop();
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  it('health-checks both replicas on /debug/health and sends consecutive requests to each in turn', async () => {
    expect(await lb.states()).to.deep.equal({ r0: 'UP', r1: 'UP' });
    for (let i = 0; i < 4; i++) expect((await fetch(`${lb.url}/v2/haproxy/turns/tags/list`)).status).to.equal(404);
    expect((await served('/haproxy/turns/')).map((entries) => entries.length)).to.deep.equal([2, 2]);
  });

  it('a chunked upload (POST, three PATCHes, PUT) lands on both replicas and completes with the right digest', async () => {
    const content = pseudoRandomBytes('haproxy-chunks', 3 * 1024 * 1024 + 11);
    const digest = sha256(content);
    const started = await fetch(`${lb.url}/v2/haproxy/chunked/blobs/uploads/`, { method: 'POST' });
    expect(started.status).to.equal(202);
    let location = new URL(started.headers.get('location') as string, lb.url);
    const uuid = started.headers.get('docker-upload-uuid') as string;
    const size = 1024 * 1024;
    for (let offset = 0; offset < 3 * size; offset += size) {
      const chunk = content.subarray(offset, offset + size);
      const res = await fetch(location, {
        method: 'PATCH',
        body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
      });
      expect(res.status, `PATCH at ${offset}`).to.equal(202);
      expect(res.headers.get('range')).to.equal(`0-${offset + chunk.length - 1}`);
      location = new URL(res.headers.get('location') as string, lb.url);
    }
    location.searchParams.set('digest', digest);
    const done = await fetch(location, { method: 'PUT', body: content.subarray(3 * size), headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).to.equal(201);
    expect(done.headers.get('docker-content-digest')).to.equal(digest);

    // A replica writes its access-log line once the response has closed, which can be a moment after the client read it.
    let perReplica = await served(uuid);
    for (let i = 0; i < 50 && perReplica.flat().length < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      perReplica = await served(uuid);
    }
    for (const [i, entries] of perReplica.entries()) {
      expect(entries.filter((e) => e.method === 'PATCH' || e.method === 'PUT'), `replica ${i} took no chunk`).to.not.be.empty;
    }
    expect(perReplica.flat().map((e) => `${e.method} ${e.status}`).sort()).to.deep.equal(['PATCH 202', 'PATCH 202', 'PATCH 202', 'PUT 201']);
    for (const r of [lb, ...replicas]) {
      const pulled = Buffer.from(await (await fetch(`${r.url}/v2/haproxy/chunked/blobs/${digest}`)).arrayBuffer());
      expect(sha256(pulled), r.url).to.equal(digest);
    }
  });

  it('skopeo pushes an image through haproxy and pulls it back intact, both replicas taking part', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${lb.host}/haproxy/app:v1`]);
    const out = join(tmp, 'pulled');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${lb.host}/haproxy/app:v1`, `oci:${out}:v1`]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).to.deep.equal([image.digest]);
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      expect(sha256(await readFile(join(out, 'blobs', ...blob.digest.split(':')))), blob.digest).to.equal(blob.digest);
    }
    for (const [i, entries] of (await served('/haproxy/app/')).entries()) expect(entries, `replica ${i}`).to.not.be.empty;
  });

  it('podman pulls through haproxy and pushes the image to another repository, which both replicas then serve', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${lb.host}/haproxy/base:v1`]);
    const podman = (args: string[]) => runTool(toolPath('podman'), [...podmanArgs(join(tmp, 'podman')), ...args]);
    await podman(['pull', '--tls-verify=false', `${lb.host}/haproxy/base:v1`]);
    expect((await podman(['image', 'inspect', '--format', '{{.Digest}}', `${lb.host}/haproxy/base:v1`])).trim()).to.equal(image.digest);
    await podman(['tag', `${lb.host}/haproxy/base:v1`, `${lb.host}/haproxy/copy:v1`]);
    await podman(['push', '--tls-verify=false', `${lb.host}/haproxy/copy:v1`]);
    for (const r of replicas) {
      const seen = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${new URL(r.url).host}/haproxy/copy:v1`])) as { Layers: string[] };
      expect(seen.Layers, r.url).to.deep.equal(image.manifest.layers.map((l) => l.digest));
    }
    for (const [i, entries] of (await served('/haproxy/copy/')).entries()) expect(entries, `replica ${i}`).to.not.be.empty;
  });

  it('a replica killed in the middle of the traffic is taken out of rotation; every request still gets its answer through the other', async () => {
    const manifest = `${lb.url}/v2/haproxy/app/manifests/v1`;
    const pull = async () => {
      const res = await fetch(manifest, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.status).to.equal(200);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).to.equal(image.digest);
    };
    await pull();
    const [, victim] = replicas;
    process.kill(victim.proc.pid, 'SIGKILL');
    await victim.proc.exited;
    for (let i = 0; i < 10; i++) await pull();
    for (let i = 0; (await lb.states()).r1 !== 'DOWN'; i++) {
      if (i === 100) throw new Error(`haproxy never marked the dead replica DOWN: ${JSON.stringify(await lb.states())}`);
      await sleep(50);
    }
    for (let i = 0; i < 10; i++) await pull();
  });
});
