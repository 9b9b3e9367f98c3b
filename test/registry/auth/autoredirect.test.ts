import { expect } from 'chai';
import { startConsoleAuth, type ConsoleAuth } from '../../helpers/console-auth.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';

describe('auth.token.autoredirect', () => {
  let consoleAuth: ConsoleAuth;
  let registry: TestRegistry;
  before(async () => {
    consoleAuth = await startConsoleAuth();
    registry = await startTestRegistry({
      config: {
        auth: {
          token: { realm: consoleAuth.realm, service: 'svc', issuer: 'auth server', rootcertbundle: consoleAuth.certPath, autoredirect: true },
        },
      },
    });
  });
  after(async () => {
    await registry.stop();
    await consoleAuth.stop();
  });

  it('points the challenge realm at /auth/token/ on the host the client used', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.headers.get('www-authenticate')).to.equal(`Bearer realm="${registry.url}/auth/token/",service="svc"`);
  });

  it('uses the proxy-reported scheme and host when X-Forwarded-* are present', async () => {
    const res = await fetch(`${registry.url}/v2/app/tags/list`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'registry.example.com' } });
    expect(res.headers.get('www-authenticate')).to.equal(
      'Bearer realm="https://registry.example.com/auth/token/",service="svc",scope="repository:app:pull"',
    );
  });
});
