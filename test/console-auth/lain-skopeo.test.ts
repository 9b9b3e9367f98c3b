// skopeo pushing through a real registry (auth.token) whose tokens come from console-auth with the lain-sso backend,
// against a LAIN SSO stand-in (helpers/sso-standin.ts, not the real SSO): an outsider is refused, the app's
// maintainer pushes, and the push costs one SSO group lookup of each kind however many layers it has.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciImage, skopeo, type BuiltImage } from '../helpers/images.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.js';
import { startSsoStandin, type SsoStandin } from '../helpers/sso-standin.js';
import { startLainConsole, type LainConsole } from './lain-console.js';
import { call, tokenUrl } from '../helpers/http-call.js';

describe('console-auth lain-sso end to end: skopeo push through the registry', function () {
  let standin: SsoStandin;
  let ca: LainConsole;
  let registry: TestRegistry;
  let dir: string;
  let image: BuiltImage;
  let host: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'lain-skopeo-'));
    standin = await startSsoStandin({
      clientId: '7',
      users: {
        mia: { password: 'mia-pw', groups: ['lainapp-example-com-hello'] },
        max: { password: 'max-pw', groups: ['lainapp-example-com-hello'] },
        olga: { password: 'olga-pw', groups: ['lainapp-example-com-other'] },
      },
    });
    ca = await startLainConsole({
      identity: { backend: 'lain-sso', sso: { url: standin.url, clientid: 7, redirecturi: 'http://console.example.com/api/v1/authorize/', appgroupprefix: 'lainapp-example.com' } },
    });
    registry = await startTestRegistry({
      config: { auth: { token: { realm: ca.realm, service: ca.service, issuer: ca.issuer, rootcertbundle: ca.certPath } } },
    });
    host = new URL(registry.url).host;
    image = await buildOciImage(join(dir, 'oci'), { tag: 'v1', layers: 5, seed: 'lain-skopeo' });
  });

  after(async function () {
    await registry.stop();
    await ca.stop();
    await standin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the push of a user outside the app\'s group, and stores nothing', async function () {
    let refused = '';
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'olga:olga-pw', image.ref, `docker://${host}/hello:v1`]).catch((err: Error) => {
      refused = err.message;
    });
    expect(refused).to.match(/denied|unauthorized|insufficient_scope|401|403/i);
    const token = await call(tokenUrl(ca.realm, { service: ca.service, scope: 'repository:hello:pull' }), { basic: ['mia', 'mia-pw'] });
    const tags = await fetch(`${registry.url}/v2/hello/tags/list`, { headers: { authorization: `Bearer ${String(token.body.token)}` } });
    expect(tags.status).to.equal(404);
  });

  it('lets the app\'s maintainer push and pull, with one lookup of the user and one of a group for the whole push', async function () {
    standin.resetCounts();
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'max:max-pw', image.ref, `docker://${host}/hello/web:v1`]);
    const counts = standin.counts();
    // max's groups, and the admin group's member check; the app group is among max's own groups.
    expect({ user: counts.user, member: counts.member }).to.deep.equal({ user: 1, member: 1 });
    expect(counts.auth).to.be.greaterThan(0);
    const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', 'max:max-pw', `docker://${host}/hello/web:v1`])) as { Digest: string };
    expect(inspected.Digest).to.equal(image.digest);
  });
});
