import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { Client } from '../helpers/oci.js';

describe('debug server: health and Prometheus metrics', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({
      config: {
        http: { debug: { addr: '127.0.0.1:0', prometheus: { enabled: true, path: '/metrics' } } },
        health: { storagedriver: { enabled: true, interval: '1s', threshold: 3 } },
      },
    });
  });
  after(() => registry.stop());

  it('/debug/health answers 200 {} while storage is reachable', async () => {
    const res = await fetch(`${registry.debug?.url}/debug/health`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({});
  });

  it('metrics count requests by route and status, bytes in and out, storage operations and uploads', async () => {
    const client = new Client(registry.url);
    const image = await client.pushImage('metrics/app', 'v1', ['a'.repeat(1000)]);
    await client.request('GET', `/v2/metrics/app/blobs/${image.layers[0]?.digest}`);
    await client.request('GET', '/v2/metrics/app/manifests/missing');
    const text = await (await fetch(`${registry.debug?.url}/metrics`)).text();
    expect(text).to.match(/registry_http_requests_total\{route="manifest",method="PUT",code="201"\} 1/);
    expect(text).to.match(/registry_http_requests_total\{route="manifest",method="GET",code="404"\} 1/);
    expect(text).to.match(/registry_http_requests_total\{route="blob",method="GET",code="200"\} 1/);
    const bytesOut = /registry_http_out_bytes_total\{route="blob"\} (\d+)/.exec(text);
    expect(Number(bytesOut?.[1])).to.be.greaterThan(1000);
    expect(text).to.match(/registry_storage_operation_duration_seconds_count\{driver="inmemory",operation="putContent",outcome="ok"\} \d+/);
    expect(text).to.match(/registry_uploads_in_progress 0/);
    expect(text).to.contain('registry_http_request_duration_seconds_bucket');
    expect(text, 'repository names never become labels').to.not.contain('metrics/app');
  });

  it('an unknown debug path is 404', async () => {
    expect((await fetch(`${registry.debug?.url}/nope`)).status).to.equal(404);
  });
});
