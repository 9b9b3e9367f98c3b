// Slow and stalled clients are disconnected, over HTTP/1.1 and HTTP/2, with short limits so that nothing waits long;
// the registry's own time (storage, hashing) never counts against a client.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { connect as connectH2, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../helpers/content.js';
import { h2 } from '../helpers/h2.js';
import { Client } from '../helpers/oci.js';
import { makePki } from '../helpers/pki.js';
import { makeTempDir, s3Client, startS3rver, type S3Server } from '../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { patchHead, stalledClient } from '../helpers/stalled-client.js';
import { startRecordingProxy, type RecordingProxy } from './storage/s3-recording-proxy.js';

const MiB = 1024 * 1024;

describe('client timeouts: slow heads and stalled clients are disconnected', () => {
  const timeouts = { headersMs: 300, idleMs: 300, drainIdleMs: 300 };
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry({ clientTimeouts: timeouts });
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  const stalls = (waitingOn: string) => registry.logs.filter((line) => line.msg === 'client stalled: connection closed' && line.waitingOn === waitingOn);

  it('a head trickled in a header at a time (slowloris) is answered 408 and closed', async () => {
    const slow = await stalledClient(registry.url, `GET /v2/ HTTP/1.1\r\nHost: ${new URL(registry.url).host}\r\n`);
    const trickle = setInterval(() => slow.send('X-Slow: still coming\r\n'), 50);
    try {
      expect(await slow.closed).to.match(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('a PATCH that sends 1 MiB of an announced 10 GB and then nothing is cut; the upload keeps the 1 MiB and takes the next chunk', async () => {
    const start = await client.request('POST', '/v2/stalled/blobs/uploads/');
    const path = new URL(start.headers.get('location') as string).pathname;
    const stalled = await stalledClient(registry.url, patchHead(registry.url, path, 10 * 1024 * MiB), pseudoRandomBytes('stalled', MiB));
    await stalled.closed;
    expect(stalls('body').some((line) => String(line.url).startsWith(path))).to.equal(true);

    expect((await client.request('GET', path)).headers.get('range')).to.equal(`0-${MiB - 1}`);
    const next = await client.request('PATCH', path, { headers: { 'content-type': 'application/octet-stream' }, body: 'the rest' });
    expect(next.status).to.equal(202);
    expect(next.headers.get('range')).to.equal(`0-${MiB + 'the rest'.length - 1}`);
  });

  it('a client that stops reading the blob it pulls is cut', async () => {
    const digest = await client.pushBlob('pulled', pseudoRandomBytes('pulled', 16 * MiB));
    const puller = await stalledClient(registry.url, `GET /v2/pulled/blobs/${digest} HTTP/1.1\r\nHost: ${new URL(registry.url).host}\r\n\r\n`);
    puller.socket.pause();
    while (stalls('response').length === 0) await sleep(20);
    puller.socket.destroy();
  });

  it('a keep-alive connection idle between requests is left to the keep-alive timeout, not cut as a slow head', async () => {
    const host = new URL(registry.url).host;
    const keptAlive = await stalledClient(registry.url, `GET /v2/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    await sleep(timeouts.headersMs * 3);
    keptAlive.send(`GET /v2/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const answers = (await keptAlive.closed).match(/HTTP\/1\.1 \d{3}/g);
    expect(answers).to.deep.equal(['HTTP/1.1 200', 'HTTP/1.1 200']);
  });
});

describe('client timeouts over HTTP/2: a stalled stream is reset alone, and the session goes on', () => {
  const timeouts = { headersMs: 300, idleMs: 300, drainIdleMs: 300 };
  let pki: string;
  let s3: S3Server;
  let proxy: RecordingProxy;
  /** In memory; the second, on S3 behind the recording proxy, has storage that a test makes slow. */
  let registry: TestRegistry;
  let slow: TestRegistry;
  let session: ClientHttp2Session;
  let slowSession: ClientHttp2Session;
  before(async () => {
    pki = await makeTempDir('h2-timeouts-pki');
    await makePki(pki);
    const ca = await readFile(join(pki, 'ca.pem'));
    const tls = { certificate: join(pki, 'server.pem'), key: join(pki, 'server.key') };
    s3 = await startS3rver();
    proxy = await startRecordingProxy(s3.endpoint, s3Client(s3));
    registry = await startTestRegistry({ storage: 'inmemory', config: { http: { tls } }, clientTimeouts: timeouts });
    slow = await startTestRegistry({ storage: 's3', objectStore: { ...s3, endpoint: proxy.endpoint }, config: { http: { tls } }, clientTimeouts: timeouts });
    session = connectH2(registry.url, { ca });
    slowSession = connectH2(slow.url, { ca });
  });
  after(async () => {
    session?.close();
    slowSession?.close();
    await registry?.stop();
    await slow?.stop();
    await proxy?.stop();
    await s3?.stop();
    await rm(pki, { recursive: true, force: true });
  });

  const stalls = (from: TestRegistry, waitingOn: string) =>
    from.logs.filter((line) => line.msg === 'client stalled: connection closed' && line.protocol === 'h2' && line.waitingOn === waitingOn);
  const closed = (stream: ClientHttp2Stream) => new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1)));
  const uploadPath = async (on: ClientHttp2Session, repo: string) => new URL(String((await h2(on, 'POST', `/v2/${repo}/blobs/uploads/`)).headers.location), 'https://x').pathname;
  /** A monolithic push (POST, then PUT with the body); resolves with the digest. */
  async function pushOverH2(on: ClientHttp2Session, repo: string, blob: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const put = await h2(on, 'PUT', `${await uploadPath(on, repo)}?digest=${digest}`, { 'content-type': 'application/octet-stream' }, [blob]);
    expect(put.status, String(put.body)).to.equal(201);
    return digest;
  }

  it('a PATCH that sends 256 KiB and then nothing is reset; the upload keeps what came and the session takes the next chunk', async () => {
    const path = await uploadPath(session, 'h2/stalled');
    const stream = session.request({ ':method': 'PATCH', ':path': path, 'content-type': 'application/octet-stream' });
    stream.on('error', () => undefined);
    stream.write(pseudoRandomBytes('h2-stalled', 256 << 10));
    expect(await closed(stream)).to.equal(constants.NGHTTP2_CANCEL);
    expect(stalls(registry, 'body').map((line) => line.url)).to.deep.equal([path]);

    expect((await h2(session, 'GET', path)).headers.range).to.equal(`0-${(256 << 10) - 1}`);
    const next = await h2(session, 'PATCH', path, { 'content-type': 'application/octet-stream' }, [Buffer.from('the rest')]);
    expect(next.status).to.equal(202);
    expect(next.headers.range).to.equal(`0-${(256 << 10) + 'the rest'.length - 1}`);
  });

  it('a pull whose reader stops taking the blob is reset, and the next pull on the session is whole', async () => {
    const blob = pseudoRandomBytes('h2-pulled', 16 * MiB);
    const digest = await pushOverH2(session, 'h2/pulled', blob);
    const stream = session.request({ ':path': `/v2/h2/pulled/blobs/${digest}` }, { endStream: true });
    stream.on('error', () => undefined);
    stream.once('data', () => stream.pause());
    expect(await closed(stream)).to.equal(constants.NGHTTP2_CANCEL);
    expect(stalls(registry, 'response')).to.have.length(1);
    expect((await h2(session, 'GET', `/v2/h2/pulled/blobs/${digest}`)).body.equals(blob)).to.equal(true);
  });

  it('a body that trickles a kilobyte every 100 ms for 1.5 s, five idle limits, is not cut', async () => {
    const path = await uploadPath(session, 'h2/trickled');
    const pieces = Array.from({ length: 15 }, (_, i) => pseudoRandomBytes(`trickle-${i}`, 1024));
    const stream = session.request({ ':method': 'PATCH', ':path': path, 'content-type': 'application/octet-stream' });
    const status = new Promise<number>((resolve, reject) => {
      stream.on('response', (headers) => resolve(Number(headers[':status'])));
      stream.on('error', reject);
    });
    for (const piece of pieces) {
      stream.write(piece);
      await sleep(100);
    }
    stream.end();
    expect(await status).to.equal(202);
    expect(stalls(registry, 'body').filter((line) => line.url === path)).to.deep.equal([]);
  });

  it("the registry's own time does not count: a push whose storage answers 1.2 s late, four idle limits, is stored", async () => {
    const blob = pseudoRandomBytes('h2-slow-storage', 64 << 10);
    proxy.fault = (request) => (request.method === 'PUT' ? { delayMs: 1200 } : undefined);
    let digest: string;
    try {
      const started = Date.now();
      digest = await pushOverH2(slowSession, 'h2/slow', blob);
      expect(Date.now() - started).to.be.at.least(1200);
    } finally {
      proxy.fault = undefined;
    }
    expect(slow.logs.filter((line) => line.msg === 'client stalled: connection closed')).to.deep.equal([]);
    expect((await h2(slowSession, 'GET', `/v2/h2/slow/blobs/${digest}`)).body.equals(blob)).to.equal(true);
  });
});
