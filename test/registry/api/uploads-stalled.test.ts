// An upload whose chunk is stuck mid-stream still answers its status and its cancel: a hung client holds the
// upload's lock only for its own chunk.
import { expect } from 'chai';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { Client, errorOf } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { patchHead, stalledClient } from '../../helpers/stalled-client.js';
import { waitForUploadBytes } from '../crash/registry-process.js';

const MiB = 1024 * 1024;

describe('api: an upload with a chunk stuck mid-stream', function () {
  // Before the fix a status or cancel waited for the stuck chunk forever: this bounds that failure.
  this.timeout(30_000);
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    // Long enough that no answer below can come from the stalled client being cut for idleness.
    registry = await startTestRegistry({ storage: 'filesystem', clientTimeouts: { headersMs: 20_000, idleMs: 600_000, drainIdleMs: 5_000 } });
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  it('GET answers the size before the stuck chunk, and DELETE cancels the upload, cutting the stuck chunk', async () => {
    const start = await client.request('POST', '/v2/stuck/blobs/uploads/');
    const path = new URL(start.headers.get('location') as string).pathname;
    await client.request('PATCH', path, { headers: { 'content-type': 'application/octet-stream' }, body: 'first' });
    const stuck = await stalledClient(registry.url, patchHead(registry.url, path, 10 * 1024 * MiB), pseudoRandomBytes('stuck', MiB));
    await waitForUploadBytes(registry.rootDir as string, 'stuck', 5 + MiB);

    const status = await client.request('GET', path);
    expect(status.status).to.equal(204);
    expect(status.headers.get('range')).to.equal('0-4');

    expect((await client.request('DELETE', path)).status).to.equal(204);
    await stuck.closed;
    const gone = await client.request('GET', path);
    expect(gone.status).to.equal(404);
    expect((await errorOf(gone)).errors[0]?.code).to.equal('BLOB_UPLOAD_UNKNOWN');
  });
});
