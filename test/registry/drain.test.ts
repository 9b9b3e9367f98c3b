// The graceful stop is bounded: a stalled client never holds it, and a draintimeout is a deadline.
import { expect } from 'chai';
import { pseudoRandomBytes } from '../helpers/content.js';
import { Client } from '../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { patchHead, stalledClient } from '../helpers/stalled-client.js';
import { waitForUploadBytes } from './crash/registry-process.js';

const MiB = 1024 * 1024;

async function uploadPath(registry: TestRegistry, name: string): Promise<string> {
  const res = await new Client(registry.url).request('POST', `/v2/${name}/blobs/uploads/`);
  return new URL(res.headers.get('location') as string).pathname;
}

describe('drain: stopping the registry with requests in flight', function () {
  // A stop that waits on a stalled client would never end: this bounds the failure, not the expected time.
  this.timeout(30_000);

  it('with draintimeout 0 (wait for every request), a stalled upload is cut and the stop completes', async () => {
    const registry = await startTestRegistry({
      storage: 'filesystem',
      config: { http: { draintimeout: '0s' } },
      clientTimeouts: { headersMs: 20_000, idleMs: 600_000, drainIdleMs: 300 },
    });
    const path = await uploadPath(registry, 'drain/stalled');
    const stalled = await stalledClient(registry.url, patchHead(registry.url, path, 10 * 1024 * MiB), pseudoRandomBytes('drain', MiB));
    await waitForUploadBytes(registry.rootDir as string, 'drain/stalled', MiB);
    await registry.stop();
    await stalled.closed;
    expect(registry.logs.some((line) => line.msg === 'client stalled: connection closed' && line.waitingOn === 'body')).to.equal(true);
  });

  it('with a draintimeout, an upload still sending at the deadline is cut and the stop completes', async () => {
    const registry = await startTestRegistry({ storage: 'filesystem', config: { http: { draintimeout: '300ms' } } });
    const path = await uploadPath(registry, 'drain/busy');
    const busy = await stalledClient(registry.url, patchHead(registry.url, path, 10 * 1024 * MiB));
    const trickle = setInterval(() => busy.send(Buffer.alloc(1024)), 20);
    try {
      await waitForUploadBytes(registry.rootDir as string, 'drain/busy', 1);
      await registry.stop();
      await busy.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(registry.logs.some((line) => line.msg === 'drain timeout reached: cutting the requests still in flight')).to.equal(true);
  });
});
