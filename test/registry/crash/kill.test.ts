// kill -9 of the real `registry serve` process while a large blob streams in: after a restart the blob is not
// served, no file for it exists under blobs/, nothing else stored changed, and pushing it again succeeds.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pseudoRandomChunks } from '../../helpers/content.js';
import { Client } from '../../helpers/oci.js';
import { stopAll, type ManagedProcess } from '../../helpers/processes.js';
import { treeChecksum } from '../../helpers/tree-checksum.js';
import { heldBody, streamed } from './held-body.js';
import { registrySite, uploadFiles, waitForUploadBytes, type RegistrySite } from './registry-process.js';

const MiB = 1024 * 1024;

function blobDir(rootDir: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(rootDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex);
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('crash: kill -9 during a blob upload', function () {
  this.timeout(60_000);
  let tmp: string;
  let site: RegistrySite;
  const running: ManagedProcess[] = [];

  const start = async () => {
    const proc = await site.start();
    running.push(proc);
    return proc;
  };

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'crash-kill-'));
    site = await registrySite(tmp);
  });
  afterEach(async () => {
    for (const proc of running.splice(0)) await proc.stop();
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  // The two ways a client sends a whole blob in one request: PUT on an upload it started, and POST ?digest=.
  const ways = [
    {
      how: 'PUT ?digest= on a started upload',
      async send(client: Client, name: string, body: ReadableStream<Uint8Array>, digest: string, signal: AbortSignal) {
        const started = await client.request('POST', `/v2/${name}/blobs/uploads/`);
        const url = new URL(started.headers.get('location') as string, site.url);
        url.searchParams.set('digest', digest);
        return fetch(url, streamed('PUT', body, signal));
      },
    },
    {
      how: 'monolithic POST ?digest=',
      send: (_client: Client, name: string, body: ReadableStream<Uint8Array>, digest: string, signal: AbortSignal) =>
        fetch(`${site.url}/v2/${name}/blobs/uploads/?digest=${digest}`, streamed('POST', body, signal)),
    },
  ];

  for (const { how, send } of ways) {
    it(`killed mid-${how}: the blob is never served, no blob file exists, the rest is untouched, and a new push succeeds`, async () => {
      const name = 'crash/killed';
      const first = await start();
      const client = new Client(site.url);
      const kept = await client.pushImage(name, 'kept', ['a layer stored before the crash']);
      const before = await treeChecksum(site.rootDir);

      const body = heldBody(how, 8 * MiB, 56 * MiB);
      const aborted = new AbortController();
      const upload = send(client, name, body.body, body.digest, aborted.signal).then(
        (res) => `answered ${res.status}`,
        () => 'connection lost',
      );
      await waitForUploadBytes(site.rootDir, name, 1);
      process.kill(first.pid, 'SIGKILL');
      expect(await first.exited).to.deep.equal({ code: null, signal: 'SIGKILL' });
      aborted.abort();
      expect(await upload).to.equal('connection lost');

      await start();
      const head = await client.request('HEAD', `/v2/${name}/blobs/${body.digest}`);
      expect(head.status).to.equal(404);
      expect(await exists(blobDir(site.rootDir, body.digest))).to.equal(false);
      // What arrived stays in _uploads (for a resume or the purger), never anywhere a reader looks.
      const leftovers = await uploadFiles(site.rootDir, name);
      expect(leftovers.every((f) => f.size < body.size)).to.equal(true);
      const after = await treeChecksum(site.rootDir);
      expect(after.files).to.deep.equal(before.files);
      expect(after.digest).to.equal(before.digest);
      expect((await client.request('GET', `/v2/${name}/manifests/kept`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest')).to.equal(kept.digest);

      const whole = Readable.toWeb(Readable.from(pseudoRandomChunks(how, body.size))) as ReadableStream<Uint8Array>;
      const again = await fetch(`${site.url}/v2/${name}/blobs/uploads/?digest=${body.digest}`, streamed('POST', whole));
      expect(again.status).to.equal(201);
      const served = await client.request('GET', `/v2/${name}/blobs/${body.digest}`);
      expect(served.status).to.equal(200);
      const hash = createHash('sha256');
      for await (const chunk of served.body as ReadableStream<Uint8Array>) hash.update(chunk);
      expect(`sha256:${hash.digest('hex')}`).to.equal(body.digest);
    });
  }
});
