// What startRegistry runs beside the API: upload purging and the graceful drain.
import { expect } from 'chai';
import { startTestRegistry } from '../helpers/registry.js';
import { Client } from '../helpers/oci.js';

describe('server', () => {
  it('purges abandoned uploads in the background when storage.maintenance.uploadpurging is enabled', async () => {
    const registry = await startTestRegistry({
      storage: 'filesystem',
      config: { storage: { maintenance: { uploadpurging: { enabled: true, age: '1s', interval: '1s', dryrun: false } } } },
    });
    try {
      const client = new Client(registry.url);
      const res = await client.request('POST', '/v2/purge/me/blobs/uploads/');
      const path = new URL(res.headers.get('location') as string).pathname;
      let status = 204;
      for (let i = 0; i < 40 && status === 204; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = (await client.request('GET', path)).status;
      }
      expect(status).to.equal(404);
    } finally {
      await registry.stop();
    }
  });

  it('close() lets an in-flight upload finish before the server stops', async () => {
    const registry = await startTestRegistry();
    const client = new Client(registry.url);
    const start = await client.request('POST', '/v2/drain/blobs/uploads/');
    const location = start.headers.get('location') as string;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('first half '));
        await gate;
        controller.enqueue(new TextEncoder().encode('second half'));
        controller.close();
      },
    });
    const patch = fetch(location, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = registry.close();
    release();
    const res = await patch;
    expect(res.status).to.equal(202);
    expect(res.headers.get('range')).to.equal('0-21');
    await closed;
    await fetch(`${registry.url}/v2/`).then(
      () => expect.fail('the server still accepts connections'),
      (err: Error) => expect(err.message).to.match(/fetch failed/),
    );
  });
});
