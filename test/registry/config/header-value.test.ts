// Values the registry writes into response headers (realms, services, http.host, http.prefix, http.headers) are
// refused when Node could not send them or a client could not read them: such a config answered a bare 500 to every
// request, or a 10 MB WWW-Authenticate header.
import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfigFile } from '../../../registry/src/config/load.js';
import { MAX_HEADER_VALUE } from '../../../registry/src/config/header-value.js';
import { makeTempDir } from '../../helpers/spawn.js';
import { issuesOf, load, MINIMAL } from './parse.js';

const TOKEN = { realm: 'https://auth.example/token', service: 'registry.example', issuer: 'auth server', rootcertbundle: '/certs/auth.pem' };

function tokenConfig(fields: Record<string, string>): string {
  const token = Object.entries({ ...TOKEN, ...fields }).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}\n`);
  return `${MINIMAL}auth:\n  token:\n${token.join('')}`;
}

/** What no header can carry, each as JSON (YAML double quotes) would write it. */
const UNSENDABLE: Array<[string, string, RegExp]> = [
  ['a newline', 'https://auth.example/\ntoken', /a line feed \(U\+000A\) at character 22/],
  ['a carriage return', 'https://auth.example/\rtoken', /a carriage return \(U\+000D\)/],
  ['a NUL', 'https://auth.example/\0token', /a NUL \(U\+0000\)/],
  ['non-Latin-1 text', 'https://auth.example/令牌', /"令" \(U\+4EE4\)/],
  ['Latin-1 text a client reads as bad UTF-8', 'https://auth.exämple/token', /"ä" \(U\+00E4\)/],
];

describe('config: values sent in response headers', () => {
  for (const key of ['realm', 'service'] as const) {
    for (const [what, value, reason] of UNSENDABLE) {
      it(`refuses auth.token.${key} with ${what}, saying which character and where`, () => {
        const issues = issuesOf(tokenConfig({ [key]: value }));
        expect(issues).to.have.length(1);
        expect(issues[0]).to.match(new RegExp(`^auth\\.token\\.${key}: contains `));
        expect(issues[0]).to.match(key === 'realm' ? reason : /contains /);
        expect(issues[0]).to.contain('[line');
      });
    }
  }

  it('refuses a 10 MB realm in one short line, never echoing it', () => {
    // Plain, not quoted: the YAML library takes seconds over a 10 MB double-quoted scalar.
    const issues = issuesOf(tokenConfig({}).replace(JSON.stringify(TOKEN.realm), `https://auth.example/${'a'.repeat(10 * 1024 * 1024)}`));
    expect(issues).to.have.length(1);
    expect(issues[0]).to.match(new RegExp(`^auth\\.token\\.realm: is 10485781 characters long; a value sent in a response header may have at most ${MAX_HEADER_VALUE}`));
    expect(issues[0].length).to.be.below(300);
  });

  it('accepts a realm of exactly the maximum length', () => {
    const realm = `https://auth.example/${'a'.repeat(MAX_HEADER_VALUE - 'https://auth.example/'.length)}`;
    expect(load(tokenConfig({ realm })).config.auth).to.include({ realm });
  });

  it('refuses a double quote in a realm or service: it would end the quoted parameter of the challenge', () => {
    expect(issuesOf(tokenConfig({ service: 'registry"example' }))).to.deep.equal([
      'auth.token.service: contains "\\"" (U+0022) at character 9, which would end the quoted parameter of the WWW-Authenticate challenge [line 6]',
    ]);
  });

  it('refuses an issuer with a control character, but not one in another script (it is compared, never sent)', () => {
    expect(issuesOf(tokenConfig({ issuer: 'auth\nserver' }))[0]).to.match(/^auth\.token\.issuer: contains a line feed \(U\+000A\)/);
    expect(issuesOf(tokenConfig({ issuer: 'a'.repeat(MAX_HEADER_VALUE + 1) }))[0]).to.match(/^auth\.token\.issuer: is 2049 characters long/);
    expect(load(tokenConfig({ issuer: '认证服务器' })).config.auth).to.include({ issuer: '认证服务器' });
  });

  it('refuses the realm and service of silly and the realm of htpasswd the same way', () => {
    expect(issuesOf(`${MINIMAL}auth:\n  silly:\n    realm: "a\\nb"\n    service: "s\\u0000"\n`)).to.deep.equal([
      'auth.silly.realm: contains a line feed (U+000A) at character 2, which a response header cannot carry (use printable ASCII: percent-encode a URL, punycode a host name) [line 5]',
      'auth.silly.service: contains a NUL (U+0000) at character 2, which a response header cannot carry (use printable ASCII: percent-encode a URL, punycode a host name) [line 6]',
    ]);
    expect(issuesOf(`${MINIMAL}auth:\n  htpasswd:\n    realm: "Registry \\"realm\\""\n    path: /auth/htpasswd\n`)[0]).to.match(
      /^auth\.htpasswd\.realm: contains "\\"" \(U\+0022\) at character 10, which would end the quoted parameter/,
    );
  });

  it('names the environment variable that set a bad realm', () => {
    const issues = issuesOf(tokenConfig({}), { REGISTRY_AUTH_TOKEN_REALM: 'https://auth.example/🔑' });
    expect(issues).to.deep.equal([
      'auth.token.realm: contains "🔑" (U+1F511) at character 22, which a response header cannot carry (use printable ASCII: percent-encode a URL, punycode a host name) [env REGISTRY_AUTH_TOKEN_REALM]',
    ]);
  });

  it('refuses an http.headers value that cannot be sent, and a too long one', () => {
    const issues = issuesOf(`${MINIMAL}http:\n  headers:\n    X-Content-Type-Options: [nosniff]\n    X-Note: ["one\\ntwo", ok, "${'x'.repeat(3000)}"]\n`);
    expect(issues).to.have.length(2);
    expect(issues[0]).to.match(/^http\.headers\.X-Note\[0\]: contains a line feed \(U\+000A\) at character 4, .* \[line 6\]$/);
    expect(issues[1]).to.match(/^http\.headers\.X-Note\[2\]: is 3000 characters long; .* \[line 6\]$/);
  });

  it('refuses an http.host or http.prefix that would break every Location header', () => {
    // The URL parser drops the newline, so only the header check sees it.
    const issues = issuesOf(`${MINIMAL}http:\n  host: "https://registry.example\\n"\n  prefix: "/régistry"\n`);
    expect(issues).to.have.length(2);
    expect(issues[0]).to.match(/^http\.prefix: contains "é" \(U\+00E9\) at character 3/);
    expect(issues[1]).to.match(/^http\.host: contains a line feed \(U\+000A\) at character 25/);
  });

  it('refuses a config file that is not valid UTF-8, naming the line', async () => {
    const dir = await makeTempDir('config-utf8');
    const path = join(dir, 'config.yml');
    const bytes = Buffer.concat([Buffer.from(`${MINIMAL}auth:\n  silly:\n    realm: https://auth.example/`), Buffer.from([0xff, 0xfe]), Buffer.from('\n    service: s\n')]);
    await writeFile(path, bytes);
    const error = await loadConfigFile(path, {}).then(
      () => undefined,
      (err: unknown) => err,
    );
    await rm(dir, { recursive: true, force: true });
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).issues).to.deep.equal(['line 5: is not valid UTF-8 (byte 0xff); save the file as UTF-8']);
  });
});
