// Upload state lives in storage, not in the process: a chunked upload outlives a SIGTERM and a restart of the real
// `registry serve` process and moves between two processes sharing the directory; and a SIGTERM in the middle of a
// push lets that push finish before the process exits 0.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { stopAll, type ManagedProcess } from '../../helpers/processes.js';
import { treeChecksum } from '../../helpers/tree-checksum.js';
import { heldBody, streamed } from './held-body.js';
import { registrySite, uploadFiles, waitForLog, waitForUploadBytes, type RegistrySite } from './registry-process.js';

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function patch(url: URL, chunk: Buffer, start: number): Promise<Response> {
  return fetch(url, {
    method: 'PATCH',
    body: chunk,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
  });
}

/**
 * Whether connections are refused within a second: with workers (the default, a worker per core) the listening socket
 * is the primary's, and it closes once every worker has told it over IPC that it stopped listening.
 */
async function refusesConnectionsSoon(site: RegistrySite): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await refusesConnections(site)) return true;
    await sleep(20);
  }
  return false;
}

/** Whether a new TCP connection to the site is refused (the listener is closed). */
function refusesConnections(site: RegistrySite): Promise<boolean> {
  const { hostname, port } = new URL(site.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('crash: uploads across a restart of the registry process', function () {
  this.timeout(60_000);
  let tmp: string;
  const running: ManagedProcess[] = [];

  const start = async (site: RegistrySite) => {
    const proc = await site.start();
    running.push(proc);
    return proc;
  };

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'crash-restart-'));
  });
  afterEach(async () => {
    for (const proc of running.splice(0)) await proc.stop();
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a chunked upload interrupted by SIGTERM and a restart continues where it stood and completes with its digest', async () => {
    const site = await registrySite(tmp);
    const content = pseudoRandomBytes('restart', 3 * 1024 * 1024 + 123);
    const [one, two, three] = [content.subarray(0, 1024 * 1024), content.subarray(1024 * 1024, 2 * 1024 * 1024), content.subarray(2 * 1024 * 1024)];
    const first = await start(site);
    const started = await fetch(`${site.url}/v2/crash/restart/blobs/uploads/`, { method: 'POST' });
    expect(started.status).to.equal(202);
    const location = new URL(started.headers.get('location') as string, site.url);
    expect((await patch(location, one, 0)).status).to.equal(202);
    process.kill(first.pid, 'SIGTERM');
    expect(await first.exited).to.deep.equal({ code: 0, signal: null });

    await start(site);
    const status = await fetch(location);
    expect(status.status).to.equal(204);
    expect(status.headers.get('range')).to.equal(`0-${one.length - 1}`);
    // The chunk the first process already has is refused, not appended twice.
    expect((await patch(location, one, 0)).status).to.equal(416);
    expect((await patch(location, two, one.length)).status).to.equal(202);
    location.searchParams.set('digest', sha256(content));
    const done = await fetch(location, { method: 'PUT', body: three, headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).to.equal(201);
    expect(done.headers.get('docker-content-digest')).to.equal(sha256(content));
    const blob = Buffer.from(await (await fetch(`${site.url}/v2/crash/restart/blobs/${sha256(content)}`)).arrayBuffer());
    expect(blob.equals(content)).to.equal(true);
    expect(await uploadFiles(site.rootDir, 'crash/restart')).to.deep.equal([]);
  });

  it('two processes on one directory take turns on one upload, and the one that did not see every chunk still verifies the digest', async () => {
    const a = await registrySite(await mkdtemp(join(tmp, 'a-')));
    const b = await registrySite(await mkdtemp(join(tmp, 'b-')), a.rootDir);
    await start(a);
    await start(b);
    const content = pseudoRandomBytes('replicas', 2 * 1024 * 1024 + 7);
    const [one, two, three] = [content.subarray(0, 1024 * 1024), content.subarray(1024 * 1024, 2 * 1024 * 1024), content.subarray(2 * 1024 * 1024)];
    const started = await fetch(`${a.url}/v2/crash/replicas/blobs/uploads/`, { method: 'POST' });
    const path = new URL(started.headers.get('location') as string).pathname;
    expect((await patch(new URL(path, a.url), one, 0)).status).to.equal(202);
    expect((await patch(new URL(path, b.url), two, one.length)).status).to.equal(202);
    const finish = new URL(path, a.url);
    finish.searchParams.set('digest', sha256(content));
    const done = await fetch(finish, { method: 'PUT', body: three, headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).to.equal(201);
    for (const site of [a, b]) {
      const blob = Buffer.from(await (await fetch(`${site.url}/v2/crash/replicas/blobs/${sha256(content)}`)).arrayBuffer());
      expect(blob.equals(content), site.url).to.equal(true);
    }
  });

  it('SIGTERM during a monolithic blob push stops new connections, lets the push finish with 201, and exits 0', async () => {
    const site = await registrySite(tmp);
    const proc = await start(site);
    const body = heldBody('drain', 1024 * 1024, 3 * 1024 * 1024);
    const push = fetch(`${site.url}/v2/crash/drain/blobs/uploads/?digest=${body.digest}`, streamed('POST', body.body));
    await waitForUploadBytes(site.rootDir, 'crash/drain', 1);
    process.kill(proc.pid, 'SIGTERM');
    await waitForLog(proc, 'draining in-flight requests');
    expect(await refusesConnectionsSoon(site)).to.equal(true);
    body.release();
    const res = await push;
    expect(res.status).to.equal(201);
    expect(res.headers.get('docker-content-digest')).to.equal(body.digest);
    expect(await proc.exited).to.deep.equal({ code: 0, signal: null });

    const stored = await treeChecksum(site.rootDir);
    expect(stored.files).to.include(`docker/registry/v2/blobs/sha256/${body.digest.slice(7, 9)}/${body.digest.slice(7)}/data`);
    await start(site);
    const head = await fetch(`${site.url}/v2/crash/drain/blobs/${body.digest}`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers.get('content-length')).to.equal(String(body.size));
  });
});
