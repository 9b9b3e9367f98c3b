// bootstrap's etcd reader (bootstrap/src/etcd.ts) in process, against a real etcd 3.4: a key is "absent" only when
// the v3 API positively said so; every other v3 failure is a failure that names its cause.
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { Etcd3 } from 'etcd3';
import { EtcdReadFailed, readSnapshot, readWithRetry, type EtcdSettings } from '../../bootstrap/src/etcd.js';
import { AUTH_KEY, KEYS, MAX_VALUE_BYTES, STORAGE_KEY } from '../../bootstrap/src/keys.js';
import { createLogger } from '../../registry/src/log.js';
import { startEtcd, stopAll, type Etcd } from '../helpers/processes.js';
import { freePort } from '../helpers/ports.js';
import { startEtcdProxy } from './etcd-proxy.js';
import { ETCD_ROOT, withEtcdAuthentication } from '../helpers/etcd.js';

const AUTH_VALUE = JSON.stringify({ realm: 'http://console.lain.local/api/v1/authorize/registry/', issuer: 'auth server', service: 'lain.local' });
/** Over gRPC's default 4 MiB receive limit, under the --max-request-bytes this etcd is started with. */
const FIVE_MB = 5 * 1000 * 1000;

async function failure(read: Promise<unknown>): Promise<EtcdReadFailed> {
  const outcome = await read.then(
    (snapshot) => new Error(`expected the read to fail, got ${JSON.stringify([...(snapshot as Map<string, unknown>).entries()])}`),
    (err: unknown) => err,
  );
  if (!(outcome instanceof EtcdReadFailed)) throw outcome;
  return outcome;
}

describe('bootstrap etcd reader', function () {
  let etcd: Etcd;
  let v3: Etcd3;
  const settings = (extra: Partial<EtcdSettings> = {}): EtcdSettings => ({ endpoints: [etcd.endpoint], ...extra });

  before(async () => {
    etcd = await startEtcd(['--max-request-bytes', String(16 * 1024 * 1024)]);
    // etcdctl cannot send a value over 2 MiB; the etcd3 client (what bootstrap reads with) can.
    v3 = new Etcd3({ hosts: [etcd.endpoint] });
  });
  afterEach(async () => {
    for (const key of KEYS) {
      if ((await etcd.getV2(key)) !== undefined) await etcd.rmV2(key);
      await etcd.delV3(key);
    }
  });
  after(async () => {
    v3?.close();
    await etcd?.stop();
    await stopAll();
  });

  it('takes a key as absent when v3 says it is absent and v2 does not hold it', async () => {
    await etcd.putV3(STORAGE_KEY, '{}');
    const snapshot = await readSnapshot(settings(), KEYS, 5000);
    expect(snapshot.has(AUTH_KEY)).to.equal(false);
    expect(snapshot.get(STORAGE_KEY)).to.include({ api: 'v3', value: '{}' });
  });

  it('etcd authentication on: the v3 read fails naming authentication (never "absent" from v2); ETCD_USERNAME/ETCD_PASSWORD read it', async () => {
    await etcd.putV3(AUTH_KEY, AUTH_VALUE);
    await withEtcdAuthentication(etcd.endpoint, async () => {
      const err = await failure(readSnapshot(settings(), KEYS, 5000));
      expect(err.causes.join('; ')).to.match(/v3 \(gRPC\) http:\/\/127\.0\.0\.1:\d+: etcd authentication: .*user name is empty.*ETCD_USERNAME and ETCD_PASSWORD/);
      const wrong = await failure(readSnapshot(settings({ auth: { ...ETCD_ROOT, password: 'wrong' } }), KEYS, 5000));
      expect(wrong.causes.join('; ')).to.match(/etcd authentication: .*authentication failed/);
      const snapshot = await readSnapshot(settings({ auth: ETCD_ROOT }), KEYS, 5000);
      expect(snapshot.get(AUTH_KEY)).to.include({ api: 'v3', value: AUTH_VALUE });
    });
  });

  it('a v3 value over gRPC\'s 4 MiB receive limit is read as too large, never as absent', async () => {
    await v3.put(AUTH_KEY).value(JSON.stringify({ realm: 'x'.repeat(FIVE_MB) }));
    const entry = (await readSnapshot(settings(), KEYS, 5000)).get(AUTH_KEY);
    expect(entry?.api).to.equal('v3');
    expect(entry?.value).to.equal('');
    expect(entry?.tooLarge).to.be.greaterThan(MAX_VALUE_BYTES);
  });

  it('a v3 value just over the limit is too large; one at the limit is read', async () => {
    await v3.put(AUTH_KEY).value('x'.repeat(MAX_VALUE_BYTES));
    await v3.put(STORAGE_KEY).value('x'.repeat(MAX_VALUE_BYTES + 1));
    const snapshot = await readSnapshot(settings(), KEYS, 5000);
    expect(snapshot.get(AUTH_KEY)?.value).to.have.length(MAX_VALUE_BYTES);
    expect(snapshot.get(STORAGE_KEY)).to.include({ value: '', tooLarge: MAX_VALUE_BYTES + 1 });
  });

  it('a v2 value of 10 MB is read as too large', async () => {
    const res = await fetch(`${etcd.endpoint}/v2/keys${AUTH_KEY}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `value=${'y'.repeat(10 * 1000 * 1000)}`,
    });
    expect(res.status).to.equal(201);
    await res.body?.cancel();
    const entry = (await readSnapshot(settings(), KEYS, 5000)).get(AUTH_KEY);
    expect(entry).to.include({ api: 'v2', value: '' });
    expect(entry?.tooLarge).to.be.greaterThan(MAX_VALUE_BYTES);
  });

  it('a path that refuses gRPC but passes HTTP/1.1 fails naming gRPC; v2\'s "absent" is not taken for the truth', async () => {
    await etcd.putV3(AUTH_KEY, AUTH_VALUE);
    const proxy = await startEtcdProxy(etcd.endpoint, { refuseGrpc: true });
    try {
      const err = await failure(readSnapshot({ endpoints: [proxy.endpoint] }, KEYS, 5000));
      expect(err.causes.join('; ')).to.match(/v3 \(gRPC\) http:\/\/127\.0\.0\.1:\d+: gRPC refused: .*etcd 3\.4\.23/);
    } finally {
      await proxy.close();
    }
  });

  it('a server that says it is etcd 2 (no v3 API) is read through v2 alone', async () => {
    await etcd.setV2(AUTH_KEY, AUTH_VALUE);
    const proxy = await startEtcdProxy(etcd.endpoint, { refuseGrpc: true, serverVersion: '2.3.8' });
    try {
      const snapshot = await readSnapshot({ endpoints: [proxy.endpoint] }, KEYS, 5000);
      expect(snapshot.get(AUTH_KEY)).to.include({ api: 'v2', value: AUTH_VALUE });
      expect(snapshot.has(STORAGE_KEY)).to.equal(false);
    } finally {
      await proxy.close();
    }
  });

  describe('names why etcd could not be read, after retrying for 1 s', () => {
    let silent: Server;
    let silentPort: number;
    const log = createLogger({ level: 'error', formatter: 'json', fields: {} }, new Writable({ write: (_chunk, _encoding, done) => done() }));
    before(async () => {
      silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });
    after(() => silent.close());

    const cases: { name: string; endpoint: () => Promise<string>; cause: RegExp }[] = [
      { name: 'a host that does not resolve: DNS', endpoint: async () => 'http://etcd.invalid:4001', cause: /^v3 \(gRPC\) http:\/\/etcd\.invalid:4001: DNS: etcd\.invalid does not resolve.*v2 http:\/\/etcd\.invalid:4001: DNS: etcd\.invalid does not resolve/ },
      { name: 'nothing listening: refused', endpoint: async () => `http://127.0.0.1:${await freePort()}`, cause: /^v3 \(gRPC\) http:\/\/127\.0\.0\.1:\d+: connection refused.*v2 http:\/\/127\.0\.0\.1:\d+: connection refused/ },
      { name: 'a server that never answers: timeout', endpoint: async () => `http://127.0.0.1:${silentPort}`, cause: /^v3 \(gRPC\) http:\/\/127\.0\.0\.1:\d+: no answer within 1 s/ },
      { name: 'https to a plain-HTTP etcd: TLS', endpoint: async () => etcd.endpoint.replace('http:', 'https:'), cause: /^v3 \(gRPC\) https:\/\/127\.0\.0\.1:\d+: TLS: .*v2 https:\/\/127\.0\.0\.1:\d+: TLS: / },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const err = await failure(readWithRetry({ endpoints: [await c.endpoint()] }, KEYS, 1000, log));
        const causes = err.causes.join('; ');
        expect(causes).to.match(c.cause);
        expect(causes).to.not.match(/within 0|within 1 ms|within \d+ ms/);
      });
    }
  });
});
