// Issue 16's upstream auth against real upstreams of ours: token auth through a real console-auth (Docker Hub's Bearer
// flow: realm discovery from WWW-Authenticate, tokens cached per scope), Basic auth (htpasswd), and https checked
// against the CA bundle from the config.
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsoleAuth, type ConsoleAuth } from '../../helpers/console-auth.js';
import { buildOciImage, skopeo, type BuiltImage } from '../../helpers/images.js';
import { Client } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { selfSignedCertificate } from '../../helpers/tls.js';
import { startMirror } from './fixtures.js';

interface ErrorBody {
  errors: { code: string; message: string }[];
}

describe('proxy: upstream auth', function () {
  this.timeout(120_000);
  let tmp: string;
  let image: BuiltImage;
  const started: TestRegistry[] = [];
  const mirrorOf = async (upstream: Record<string, unknown>) => {
    const mirror = await startMirror({ upstreams: [{ namespace: 'upstream.test', ...upstream }] });
    started.push(mirror);
    return mirror;
  };
  const pullThrough = (mirror: TestRegistry, ref: string) =>
    skopeo(['copy', '--src-tls-verify=false', `docker://${new URL(mirror.url).host}/upstream.test/${ref}`, `oci:${join(tmp, 'pulled')}:${ref.replace(/[/:]/g, '-')}`]);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'proxy-auth-'));
    image = await buildOciImage(join(tmp, 'oci'), { tag: 'v1', layers: 2, seed: 'proxy-auth' });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  describe('token auth through console-auth', () => {
    let consoleAuth: ConsoleAuth;
    let upstream: TestRegistry;
    before(async () => {
      consoleAuth = await startConsoleAuth({
        accounts: { alice: 'alice-secret', mirror: 'mirror-secret' },
        rules: [
          { account: 'alice', repository: '*', actions: ['*'] },
          { account: 'mirror', repository: '*', actions: ['pull'] },
          { account: 'anonymous', repository: 'public/*', actions: ['pull'] },
        ],
      });
      upstream = await startTestRegistry({
        config: { auth: { token: { realm: consoleAuth.realm, service: consoleAuth.service, issuer: consoleAuth.issuer, rootcertbundle: consoleAuth.certPath } } },
      });
      for (const repository of ['team/app', 'public/app']) {
        await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-secret', image.ref, `docker://${new URL(upstream.url).host}/${repository}:v1`]);
      }
    });
    after(async () => {
      await upstream?.stop();
      await consoleAuth?.stop();
    });

    const grants = (scope: string) =>
      consoleAuth.logLines().filter((line) => line.audit === 'grant' && line.account === 'mirror' && (line.asked as string[]).includes(scope)).length;

    it('pulls with a token the upstream challenge points to, asking the token service once for the repository while the token lives', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url, username: 'mirror', password: 'mirror-secret' });
      await pullThrough(mirror, 'team/app:v1');
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.headers.get('docker-content-digest')).to.equal(image.digest);
      // A tag HEAD, the manifest, the config and two layers: five upstream requests, one token.
      expect(grants('repository:team/app:pull')).to.equal(1);
    });

    it('without credentials, pulls what the token service grants anonymous callers, as from Docker Hub', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url });
      await pullThrough(mirror, 'public/app:v1');
      const anonymous = consoleAuth.logLines().filter((line) => line.audit === 'grant' && line.grantType === 'anonymous');
      expect(anonymous.map((line) => line.granted)).to.deep.equal([['repository:public/app:pull']]);
    });

    it('a wrong password is a 502 that names the upstream and the account, not a 401 for the client', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url, username: 'mirror', password: 'wrong' });
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/app/manifests/v1`);
      expect(res.status).to.equal(502);
      const body = (await res.json()) as ErrorBody;
      expect(body.errors[0].message).to.include('token service').and.to.include('as mirror');
    });
  });

  describe('Basic auth (htpasswd)', () => {
    let upstream: TestRegistry;
    before(async () => {
      const file = join(tmp, 'htpasswd');
      await writeFile(file, `mirror:${await bcrypt.hash('mirror-secret', 4)}\n`);
      upstream = await startTestRegistry({ config: { auth: { htpasswd: { realm: 'upstream', path: file } } } });
      const client = new Client(upstream.url, { authorization: `Basic ${Buffer.from('mirror:mirror-secret').toString('base64')}` });
      await client.pushImage('team/basic', 'v1');
    });
    after(() => upstream?.stop());

    it('pulls with the configured username and password', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url, username: 'mirror', password: 'mirror-secret' });
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/basic/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-registry-mirror')).to.equal('miss');
    });

    it('without credentials the upstream refuses, and the client is told so', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url });
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/basic/manifests/v1`);
      expect(res.status).to.equal(502);
      expect(((await res.json()) as ErrorBody).errors[0].message).to.include('refused anonymous access to team/basic');
    });
  });

  describe('https', () => {
    let upstream: TestRegistry;
    let bundle: string;
    before(async () => {
      const cert = await selfSignedCertificate(tmp);
      bundle = cert.certPath;
      upstream = await startTestRegistry({ config: { http: { tls: { certificate: cert.certPath, key: cert.keyPath } } } });
      await skopeo(['copy', '--dest-tls-verify=false', image.ref, `docker://${new URL(upstream.url).host}/team/tls:v1`]);
    });
    after(() => upstream?.stop());

    it('trusts the upstream certificate through the CA bundle of its proxy.upstreams entry', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url, cabundle: bundle });
      await pullThrough(mirror, 'team/tls:v1');
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/tls/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.headers.get('docker-content-digest')).to.equal(image.digest);
    });

    it('without the bundle the system CAs refuse the certificate, and the client gets a 502 saying why', async () => {
      const mirror = await mirrorOf({ remoteurl: upstream.url });
      const res = await fetch(`${mirror.url}/v2/upstream.test/team/tls/manifests/v1`);
      expect(res.status).to.equal(502);
      expect(((await res.json()) as ErrorBody).errors[0].message).to.match(/could not be reached: .*self.signed certificate/);
    });
  });
});
