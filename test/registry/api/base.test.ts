import { expect } from 'chai';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf } from '../../helpers/oci.js';

describe('api: base and errors', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry();
    client = new Client(registry.url);
  });
  after(() => registry.stop());

  it('GET /v2/ answers 200 {} with the API version header', async () => {
    const res = await client.request('GET', '/v2/');
    expect(res.status).to.equal(200);
    expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0');
    expect(await res.json()).to.deep.equal({});
  });

  it('an unknown endpoint is a 404 with OCI error JSON and the version header', async () => {
    const res = await client.request('GET', '/v2/foo/unknown/thing');
    expect(res.status).to.equal(404);
    expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0');
    expect((await errorOf(res)).errors[0]?.code).to.equal('NOT_FOUND');
  });

  it('a method an endpoint does not support is 405 UNSUPPORTED', async () => {
    const res = await client.request('POST', '/v2/_catalog');
    expect(res.status).to.equal(405);
    expect((await errorOf(res)).errors[0]?.code).to.equal('UNSUPPORTED');
  });

  it('an invalid repository name is 400 NAME_INVALID with a message saying the grammar', async () => {
    for (const name of ['UPPER/case', 'a//b', '-lead', 'trail-', 'x'.repeat(256), 'a%2fb', 'a:b']) {
      const res = await client.request('GET', `/v2/${name}/tags/list`);
      expect(res.status, name).to.equal(400);
      const body = await errorOf(res);
      expect(body.errors[0]?.code, name).to.equal('NAME_INVALID');
      expect(body.errors[0]?.message).to.match(/lowercase/);
    }
  });

  it('logs every request with the request id and never the Authorization header', async () => {
    const res = await client.request('GET', '/v2/', { headers: { authorization: 'Basic c2VjcmV0OnNlY3JldA==' } });
    const id = res.headers.get('x-request-id');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = registry.logs.find((entry) => entry.reqId === id && entry.msg === 'request');
    expect(line, 'access log line').to.not.equal(undefined);
    expect(JSON.stringify(registry.logs)).to.not.contain('c2VjcmV0');
  });
});
