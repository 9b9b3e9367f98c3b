// Issue 4 end to end: skopeo logs in through the registry's Bearer challenge, fetches tokens from a real
// console-auth and pushes and pulls; a pull-only user is refused the push.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsoleAuth, type ConsoleAuth } from '../../helpers/console-auth.js';
import { buildOciImage, skopeo, type BuiltImage } from '../../helpers/images.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

describe('token auth end to end: skopeo through console-auth and the registry', () => {
  let consoleAuth: ConsoleAuth;
  let registry: TestRegistry;
  let dir: string;
  let image: BuiltImage;
  let host: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-skopeo-'));
    consoleAuth = await startConsoleAuth({
      accounts: { alice: 'alice-secret', bob: 'bob-secret' },
      rules: [
        { account: 'alice', repository: '*', actions: ['*'] },
        { account: 'bob', repository: '*', actions: ['pull'] },
      ],
    });
    registry = await startTestRegistry({
      config: {
        auth: {
          token: { realm: consoleAuth.realm, service: consoleAuth.service, issuer: consoleAuth.issuer, rootcertbundle: consoleAuth.certPath },
        },
      },
    });
    host = new URL(registry.url).host;
    image = await buildOciImage(join(dir, 'oci'), { tag: 'v1', layers: 2, seed: 'token-e2e' });
  });
  after(async () => {
    await registry.stop();
    await consoleAuth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the registry challenges an anonymous client with the console realm', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.equal(`Bearer realm="${consoleAuth.realm}",service="${consoleAuth.service}"`);
  });

  it('skopeo login succeeds with good credentials and fails with a wrong password', async () => {
    const auth = join(dir, 'auth.json');
    await skopeo(['login', '--tls-verify=false', '--authfile', auth, '-u', 'alice', '-p', 'alice-secret', host]);
    let refused = '';
    await skopeo(['login', '--tls-verify=false', '--authfile', auth, '-u', 'alice', '-p', 'wrong', host]).catch((err: Error) => {
      refused = err.message;
    });
    expect(refused).to.match(/401|unauthorized|invalid/i);
  });

  it('a user with push rights pushes, and a pull-only user pulls the same digest', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-secret', image.ref, `docker://${host}/team/app:v1`]);
    const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', 'bob:bob-secret', `docker://${host}/team/app:v1`])) as { Digest: string };
    expect(inspected.Digest).to.equal(image.digest);
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', 'bob:bob-secret', `docker://${host}/team/app:v1`, `oci:${join(dir, 'pulled')}:v1`]);
  });

  it('a pull-only user is refused the push, and nothing is stored', async () => {
    let refused = '';
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'bob:bob-secret', image.ref, `docker://${host}/team/other:v1`]).catch((err: Error) => {
      refused = err.message;
    });
    expect(refused).to.match(/denied|unauthorized|401|403/i);
    const token = (await (await fetch(`${consoleAuth.realm}?service=${consoleAuth.service}&scope=repository:team/other:pull`, {
      headers: { authorization: `Basic ${Buffer.from('alice:alice-secret').toString('base64')}` },
    })).json()) as { token: string };
    const tags = await fetch(`${registry.url}/v2/team/other/tags/list`, { headers: { authorization: `Bearer ${token.token}` } });
    expect(tags.status).to.equal(404);
  });
});
