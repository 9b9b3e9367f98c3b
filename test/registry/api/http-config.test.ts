// http.prefix, http.relativeurls, http.host and http.headers change what the API writes.
import { expect } from 'chai';
import { startTestRegistry } from '../../helpers/registry.js';
import { Client } from '../../helpers/oci.js';

describe('api: http settings', () => {
  it('http.prefix serves the API under the prefix and writes it into Location', async () => {
    const registry = await startTestRegistry({ config: { http: { prefix: '/mirror/' } } });
    try {
      expect((await fetch(`${registry.url}/mirror/v2/`)).status).to.equal(200);
      expect((await fetch(`${registry.url}/v2/`)).status).to.equal(404);
      const res = await fetch(`${registry.url}/mirror/v2/app/blobs/uploads/`, { method: 'POST' });
      expect(res.status).to.equal(202);
      expect(new URL(res.headers.get('location') as string).pathname).to.match(/^\/mirror\/v2\/app\/blobs\/uploads\//);
    } finally {
      await registry.stop();
    }
  });

  it('http.relativeurls writes Location as a path; http.host as the configured base', async () => {
    const relative = await startTestRegistry({ config: { http: { relativeurls: true } } });
    const hosted = await startTestRegistry({ config: { http: { host: 'https://registry.example.com' } } });
    try {
      const a = await fetch(`${relative.url}/v2/app/blobs/uploads/`, { method: 'POST' });
      expect(a.headers.get('location')).to.match(/^\/v2\/app\/blobs\/uploads\/[0-9a-f-]+$/);
      const b = await fetch(`${hosted.url}/v2/app/blobs/uploads/`, { method: 'POST' });
      expect(b.headers.get('location')).to.match(/^https:\/\/registry\.example\.com\/v2\/app\/blobs\/uploads\//);
    } finally {
      await relative.stop();
      await hosted.stop();
    }
  });

  it('http.headers are added to every response, errors included', async () => {
    const registry = await startTestRegistry({ config: { http: { headers: { 'X-Content-Type-Options': ['nosniff'] } } } });
    try {
      const client = new Client(registry.url);
      expect((await client.request('GET', '/v2/')).headers.get('x-content-type-options')).to.equal('nosniff');
      expect((await client.request('GET', '/v2/none/tags/list')).headers.get('x-content-type-options')).to.equal('nosniff');
    } finally {
      await registry.stop();
    }
  });
});
