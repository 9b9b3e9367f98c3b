// Slow and stalled clients are disconnected, with short limits so that nothing waits long; the registry's own time
// (storage, hashing) never counts against a client.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { pseudoRandomBytes } from '../helpers/content.js';
import { Client } from '../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { patchHead, stalledClient } from '../helpers/stalled-client.js';

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
