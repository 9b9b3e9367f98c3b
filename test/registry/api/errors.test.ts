// The error renderer when the error itself cannot be sent: a header value Node refuses (a realm with a newline from a
// config built without the validator) must still give the client OCI error JSON and the operator a logged cause.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../registry/src/api/app.js';
import type { SillyAuth } from '../../../registry/src/config/types.js';
import { InMemoryDriver } from '../../../registry/src/storage/driver/inmemory.js';
import { captureLogs, startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { Client, errorOf } from '../../helpers/oci.js';

describe('api: errors that cannot be rendered as they are', () => {
  let registry: TestRegistry;
  let client: Client;
  before(async () => {
    registry = await startTestRegistry({ config: { auth: { silly: { realm: 'http://auth.example/token', service: 'registry' } } } });
    client = new Client(registry.url);
    // The controller reads its config at each challenge: this is a realm the validator would have refused.
    (registry.config.auth as SillyAuth).realm = 'http://auth.example/\ntoken';
  });
  after(() => registry.stop());

  it('a challenge whose header cannot be sent is a 500 UNKNOWN with the request id, logged with the cause', async () => {
    const res = await client.request('GET', '/v2/');
    expect(res.status).to.equal(500);
    expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0');
    expect(res.headers.get('www-authenticate')).to.equal(null);
    const id = res.headers.get('x-request-id');
    const body = await errorOf(res);
    expect(body.errors[0]?.code).to.equal('UNKNOWN');
    expect(body.errors[0]?.message).to.contain(String(id));
    const logged = registry.logs.find((line) => line.reqId === id && line.level === 'error');
    expect(logged, JSON.stringify(registry.logs.slice(-3))).to.not.equal(undefined);
    expect(JSON.stringify(logged)).to.contain('WWW-Authenticate');
  });
});

describe('api: an error thrown before the error renderer', () => {
  let server: Server;
  let logs: Record<string, unknown>[];
  before(async () => {
    const registry = await startTestRegistry();
    const { config } = registry;
    await registry.stop();
    // A response header the validator would have refused, set by the request context before renderErrors runs.
    config.http.headers = { 'X-Note': ['line one\nline two'] };
    const captured = captureLogs(config.log);
    logs = captured.logs;
    server = createServer(createApp(config, { driver: new InMemoryDriver(), logger: captured.logger }).koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is logged with the cause instead of vanishing', async () => {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
    expect(res.status).to.equal(500);
    const logged = logs.find((line) => line.level === 'error' && typeof line.reqId === 'string');
    expect(logged, JSON.stringify(logs)).to.not.equal(undefined);
    expect(JSON.stringify(logged)).to.contain('X-Note');
  });
});
