// The API over TLS: HTTP/2 offered by ALPN beside HTTP/1.1 on one port (as distribution serves it), a push and a
// pull over h2 with node:http2 and curl, HTTP/1.1 clients on the same port, http.http2.disabled, client
// certificates from http.tls.clientcas, and a drain that ends HTTP/2 sessions.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectH2, constants, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { buildOciImage, skopeo } from '../helpers/images.js';
import { h2 } from '../helpers/h2.js';
import { makePki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/processes.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { runTool, toolPath } from '../helpers/tools.js';

const MiB = 1 << 20;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The protocol the server picks when a TLS client offers h2 and http/1.1. */
function negotiated(url: string, ca: Buffer): Promise<string | false> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: hostname, port: Number(port), ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve(socket.alpnProtocol ?? false);
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** A GET over HTTP/1.1 on the TLS port (no ALPN offered, as older clients do). */
function http1Get(url: string, ca: Buffer, extra: { cert?: Buffer; key?: Buffer } = {}): Promise<{ status: number; version: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, ...extra }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('api server over TLS', function () {
  let pki: string;
  let ca: Buffer;
  before(async () => {
    pki = await makeTempDir('api-server-pki');
    await makePki(pki);
    ca = await readFile(join(pki, 'ca.pem'));
  });
  after(() => rm(pki, { recursive: true, force: true }));

  const tls = () => ({ certificate: join(pki, 'server.pem'), key: join(pki, 'server.key') });

  describe('with HTTP/2 (the default)', () => {
    let registry: TestRegistry;
    let session: ClientHttp2Session;
    const layer = randomBytes(8 * MiB + 12345);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    let manifest: string;

    before(async () => {
      registry = await startTestRegistry({ config: { http: { tls: tls() } } });
      session = connectH2(registry.url, { ca });
    });
    after(async () => {
      session?.close();
      await registry?.stop();
    });

    it('offers h2 and http/1.1 by ALPN, preferring h2, with 1 MiB upload windows as distribution opens', async () => {
      expect(registry.url).to.match(/^https:/);
      expect(await negotiated(registry.url, ca)).to.equal('h2');
      expect((await h2(session, 'GET', '/v2/')).status).to.equal(200);
      expect(session.remoteSettings).to.include({ initialWindowSize: MiB, maxConcurrentStreams: 100 });
    });

    it('pushes a blob in streamed chunks and a manifest over h2', async () => {
      const start = await h2(session, 'POST', '/v2/h2/app/blobs/uploads/');
      expect(start.status).to.equal(202);
      let location = new URL(String(start.headers.location), registry.url);
      // Three PATCHes, each body sent as many small writes, then the closing PUT.
      const parts = [layer.subarray(0, 3 * MiB), layer.subarray(3 * MiB, 7 * MiB), layer.subarray(7 * MiB)];
      let offset = 0;
      for (const part of parts) {
        const chunks = Array.from({ length: Math.ceil(part.length / (256 * 1024)) }, (_, i) => part.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
        const patch = await h2(
          session,
          'PATCH',
          location.pathname + location.search,
          { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + part.length - 1}`, 'content-length': String(part.length) },
          chunks,
        );
        expect(patch.status, patch.body.toString()).to.equal(202);
        offset += part.length;
        expect(patch.headers.range).to.equal(`0-${offset - 1}`);
        location = new URL(String(patch.headers.location), registry.url);
      }
      location.searchParams.set('digest', sha256(layer));
      const done = await h2(session, 'PUT', location.pathname + location.search);
      expect(done.status, done.body.toString()).to.equal(201);
      expect(done.headers['docker-content-digest']).to.equal(sha256(layer));

      const configPush = await h2(session, 'POST', `/v2/h2/app/blobs/uploads/?digest=${sha256(config)}`, { 'content-type': 'application/octet-stream' }, [config]);
      expect(configPush.status).to.equal(201);
      manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      });
      const put = await h2(session, 'PUT', '/v2/h2/app/manifests/v1', { 'content-type': OCI_MANIFEST }, [Buffer.from(manifest)]);
      expect(put.status, put.body.toString()).to.equal(201);
      expect(put.headers['docker-content-digest']).to.equal(sha256(manifest));
    });

    it('pulls the manifest and the whole blob, and a range of it, over h2 with the right bytes', async () => {
      const got = await h2(session, 'GET', '/v2/h2/app/manifests/v1', { accept: OCI_MANIFEST });
      expect(got.status).to.equal(200);
      expect(got.body.toString()).to.equal(manifest);
      const head = await h2(session, 'HEAD', `/v2/h2/app/blobs/${sha256(layer)}`);
      expect(head.status).to.equal(200);
      expect(head.headers['content-length']).to.equal(String(layer.length));
      // Several at once on one session: each stream gets its own bytes, whatever the others do.
      const pulls = await Promise.all([0, 1, 2].map(() => h2(session, 'GET', `/v2/h2/app/blobs/${sha256(layer)}`)));
      for (const pull of pulls) {
        expect(pull.status).to.equal(200);
        expect(sha256(pull.body)).to.equal(sha256(layer));
      }
      const range = await h2(session, 'GET', `/v2/h2/app/blobs/${sha256(layer)}`, { range: `bytes=${MiB}-${3 * MiB - 1}` });
      expect(range.status).to.equal(206);
      expect(range.body.equals(layer.subarray(MiB, 3 * MiB))).to.equal(true);
    });

    it('a closing PUT that streams its body without Content-Length, as h2 clients may, stores that body', async () => {
      const blob = randomBytes(3 * MiB);
      const start = await h2(session, 'POST', '/v2/h2/streamed/blobs/uploads/');
      const location = new URL(String(start.headers.location), registry.url);
      location.searchParams.set('digest', sha256(blob));
      const put = await h2(session, 'PUT', location.pathname + location.search, { 'content-type': 'application/octet-stream' }, [blob.subarray(0, MiB), blob.subarray(MiB)]);
      expect(put.status, put.body.toString()).to.equal(201);
      const pull = await h2(session, 'GET', `/v2/h2/streamed/blobs/${sha256(blob)}`);
      expect(pull.body.equals(blob)).to.equal(true);
    });

    it('serves 100 blob pulls at once on one h2 session, each with its own bytes', async () => {
      // Over 512 KiB, so each response is written in more than one piece.
      const blob = randomBytes(600 * 1024);
      const push = await h2(session, 'POST', `/v2/h2/many/blobs/uploads/?digest=${sha256(blob)}`, { 'content-type': 'application/octet-stream' }, [blob]);
      expect(push.status).to.equal(201);
      const pulls = await Promise.all(Array.from({ length: 100 }, () => h2(session, 'GET', `/v2/h2/many/blobs/${sha256(blob)}`)));
      expect(pulls.filter((pull) => pull.status === 200 && pull.body.equals(blob))).to.have.length(100);
    });

    it('a pull cancelled mid-blob (RST_STREAM) ends only that stream: the next pull on the session is whole', async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => {
          const stream = session.request({ ':path': `/v2/h2/app/blobs/${sha256(layer)}` });
          stream.once('data', () => stream.close(constants.NGHTTP2_CANCEL));
          stream.on('error', () => undefined);
          stream.on('close', () => resolve());
        });
      }
      const pull = await h2(session, 'GET', `/v2/h2/app/blobs/${sha256(layer)}`);
      expect(sha256(pull.body)).to.equal(sha256(layer));
      expect(registry.logs.filter((line) => line.level === 'error')).to.deep.equal([]);
    });

    it('answers errors over h2 with the OCI body and logs each h2 request with its client address', async () => {
      const missing = await h2(session, 'GET', `/v2/h2/app/blobs/${sha256('absent')}`);
      expect(missing.status).to.equal(404);
      expect(JSON.parse(missing.body.toString()).errors[0].code).to.equal('BLOB_UNKNOWN');
      expect(missing.headers['docker-distribution-api-version']).to.equal('registry/2.0');
      const logged = () => registry.logs.find((l) => (l.req as { url?: string } | undefined)?.url === `/v2/h2/app/blobs/${sha256('absent')}`);
      // The access line is written when the stream closes, which may come just after the client read the end.
      while (!logged()) await new Promise((resolve) => setTimeout(resolve, 10));
      const line = logged();
      expect((line?.req as { remoteAddress?: string }).remoteAddress).to.equal('127.0.0.1');
    });

    it('serves HTTP/1.1 clients on the same port', async () => {
      const base = await http1Get(`${registry.url}/v2/`, ca);
      expect(base.status).to.equal(200);
      expect(base.version).to.equal('1.1');
      const blob = await http1Get(`${registry.url}/v2/h2/app/blobs/${sha256(layer)}`, ca);
      expect(sha256(blob.body)).to.equal(sha256(layer));
    });

    it('skopeo (HTTP/1.1 over TLS: containers/image does not ask for h2) pushes and pulls an image on the same port', async function () {
      this.timeout(120_000);
      const work = await makeTempDir('api-server-skopeo');
      try {
        const certs = join(work, 'certs');
        await mkdir(certs);
        await copyFile(join(pki, 'ca.pem'), join(certs, 'ca.crt'));
        const image = await buildOciImage(join(work, 'oci'), { tag: 'v1', layers: 2, layerSize: 600 * 1024 });
        const remote = `docker://${new URL(registry.url).host}/h2/skopeo:v1`;
        await skopeo(['copy', '--dest-cert-dir', certs, image.ref, remote]);
        await skopeo(['copy', '--src-cert-dir', certs, remote, `oci:${join(work, 'out')}:v1`]);
        const index = JSON.parse(await readFile(join(work, 'out', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        expect(index.manifests.map((m) => m.digest)).to.deep.equal([image.digest]);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    it('answers a malformed HTTP/1.1 request on the TLS port with the OCI error body', async () => {
      const { hostname, port } = new URL(registry.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connectTls({ host: hostname, port: Number(port), ca, ALPNProtocols: ['http/1.1'] }, () => {
          socket.write('GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
        });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('end', () => resolve(received));
        socket.on('error', reject);
      });
      expect(answer).to.match(/^HTTP\/1\.1 400 /);
      expect(answer).to.contain('Docker-Distribution-API-Version: registry/2.0').and.contain('"code":"UNSUPPORTED"');
    });

    it('curl --http2 pushes a blob and pulls it and the manifest over HTTP/2', async () => {
      const curl = (...args: string[]) => runTool(toolPath('curl'), ['-sS', '--http2', '--cacert', join(pki, 'ca.pem'), '-w', '%{http_version} %{http_code}', ...args]);
      const blob = randomBytes(2 * MiB);
      const file = join(pki, 'curl-blob');
      await writeFile(file, blob);
      const pushed = await curl('-o', '/dev/null', '-X', 'POST', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, `${registry.url}/v2/h2/curl/blobs/uploads/?digest=${sha256(blob)}`);
      expect(pushed).to.equal('2 201');
      const out = join(pki, 'pulled');
      expect(await curl('-o', out, `${registry.url}/v2/h2/curl/blobs/${sha256(blob)}`)).to.equal('2 200');
      expect((await readFile(out)).equals(blob)).to.equal(true);
      expect(await curl('-o', out, '-H', `Accept: ${OCI_MANIFEST}`, `${registry.url}/v2/h2/app/manifests/v1`)).to.equal('2 200');
      expect(await readFile(out, 'utf8')).to.equal(manifest);
    });
  });

  it('with http.http2.disabled: true, only HTTP/1.1 is offered', async () => {
    const registry = await startTestRegistry({ config: { http: { tls: tls(), http2: { disabled: true } } } });
    try {
      expect(await negotiated(registry.url, ca)).to.not.equal('h2');
      const version = await runTool(toolPath('curl'), ['-sS', '--http2', '--cacert', join(pki, 'ca.pem'), '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${registry.url}/v2/`]);
      expect(version).to.equal('1.1 200');
    } finally {
      await registry.stop();
    }
  });

  it('with http.tls.clientcas, a client without a certificate from those CAs is refused; one with is served', async () => {
    const registry = await startTestRegistry({ config: { http: { tls: { ...tls(), clientcas: [join(pki, 'ca.pem')] } } } });
    try {
      const refused = await http1Get(`${registry.url}/v2/`, ca).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      expect(refused, 'served without a client certificate').to.be.instanceOf(Error);
      const client = { cert: await readFile(join(pki, 'client.pem')), key: await readFile(join(pki, 'client.key')) };
      expect((await http1Get(`${registry.url}/v2/`, ca, client)).status).to.equal(200);
    } finally {
      await registry.stop();
    }
  });

  it('prometheus counts the bytes of each h2 stream (the socket is shared, so not socket deltas)', async () => {
    const registry = await startTestRegistry({ config: { http: { tls: tls(), debug: { addr: '127.0.0.1:0', prometheus: { enabled: true } } } } });
    const session = connectH2(registry.url, { ca });
    try {
      const blob = randomBytes(MiB);
      const push = await h2(session, 'POST', `/v2/metrics/app/blobs/uploads/?digest=${sha256(blob)}`, { 'content-type': 'application/octet-stream' }, [blob]);
      expect(push.status).to.equal(201);
      const pull = await h2(session, 'GET', `/v2/metrics/app/blobs/${sha256(blob)}`);
      expect(pull.body.equals(blob)).to.equal(true);
      const counter = async (name: string, route: string): Promise<number> => {
        const text = await (await fetch(`${registry.debug?.url}/metrics`)).text();
        return Number(new RegExp(`^${name}\\{route="${route}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      };
      // The counters are updated when each stream closes, which may follow the client's read of the end.
      while ((await counter('registry_http_out_bytes_total', 'blob')) !== MiB) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await counter('registry_http_in_bytes_total', 'uploads')).to.equal(MiB);
    } finally {
      session.close();
      await registry.stop();
    }
  });

  it('close() ends idle HTTP/2 sessions and lets an in-flight h2 upload finish', async () => {
    const registry = await startTestRegistry({ config: { http: { tls: tls() } } });
    const idle = connectH2(registry.url, { ca });
    const busy = connectH2(registry.url, { ca });
    try {
      expect((await h2(idle, 'GET', '/v2/')).status).to.equal(200);
      const start = await h2(busy, 'POST', '/v2/drain/app/blobs/uploads/');
      const location = new URL(String(start.headers.location), registry.url);
      const body = randomBytes(MiB);
      location.searchParams.set('digest', sha256(body));
      // The upload's body is half sent when the drain starts, and the rest follows.
      const arrived = once(registry.server, 'request');
      const stream = busy.request({ ':method': 'PUT', ':path': location.pathname + location.search, 'content-type': 'application/octet-stream' });
      const status = new Promise<number>((resolve, reject) => {
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', reject);
      });
      stream.write(body.subarray(0, MiB / 2));
      await arrived;
      const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
      const closed = registry.close();
      await idleClosed;
      stream.end(body.subarray(MiB / 2));
      expect(await status).to.equal(201);
      await closed;
    } finally {
      idle.destroy();
      busy.destroy();
      await registry.stop();
    }
  });

  it('close() with http.draintimeout cuts an h2 upload that does not finish in time', async () => {
    const registry = await startTestRegistry({ config: { http: { tls: tls(), draintimeout: '100ms' } } });
    const session = connectH2(registry.url, { ca });
    try {
      const start = await h2(session, 'POST', '/v2/stalled/app/blobs/uploads/');
      const location = new URL(String(start.headers.location), registry.url);
      const arrived = once(registry.server, 'request');
      const stream = session.request({ ':method': 'PATCH', ':path': location.pathname + location.search, 'content-type': 'application/octet-stream' });
      const ended = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.on('error', () => undefined);
      stream.write(randomBytes(64 * 1024));
      await arrived;
      await registry.close();
      await ended;
      // Ended by the server, not completed: a normal end has code NO_ERROR.
      expect(stream.rstCode).to.be.a('number').and.not.equal(constants.NGHTTP2_NO_ERROR);
    } finally {
      session.destroy();
      await registry.stop();
    }
  });
});
