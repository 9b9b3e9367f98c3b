import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConsoleConfig, parseConsoleConfig } from '../../console-auth/src/config.js';
import { problems } from './config-problems.js';

const HASH = '$2b$04$PArmm7XORnX4pgPQvWXmjukG7KRMAUBcIUeOwr0m/5JtuTPY.W45.';

const minimal = `
http: {addr: ":8080"}
token: {issuer: auth server, service: lain.local, key: keys/server.key, certificate: /etc/console/server.pem}
`;

describe('console-auth console.yml', function () {
  it('reads the issue\'s keys with defaults: ttl 5m, acl mode, relative key paths beside the file', function () {
    const config = parseConsoleConfig(
      `${minimal}
accounts:
  alice: {password: '${HASH}'}
  bob: {password: '${HASH}', groups: [hello-maintainers]}
rules: [{account: alice, repository: '*', actions: ['*']}, {account: bob, repository: '*', actions: [pull]}]
`,
      '/etc/console/console.yml',
    );
    expect(config.token).to.deep.equal({
      issuer: 'auth server',
      service: 'lain.local',
      key: '/etc/console/keys/server.key',
      certificate: '/etc/console/server.pem',
      ttl: 300,
      refreshttl: 720 * 3600,
    });
    expect(config.mode).to.equal('acl');
    expect(config.accounts.get('bob')).to.deep.equal({ password: HASH, groups: ['hello-maintainers'] });
    expect(config.rules).to.have.length(2);
    expect(config.ratelimit).to.deep.equal({ failures: 5, addressFailures: 20, window: 60_000 });
  });

  it('reads token.ttl as a Go duration and open mode without accounts or rules', function () {
    const config = parseConsoleConfig(`${minimal.replace('server.pem}', 'server.pem, ttl: 1h30m}')}mode: open\n`, '/c.yml');
    expect(config.token.ttl).to.equal(5400);
    expect(config.mode).to.equal('open');
    expect(config.accounts.size).to.equal(0);
  });

  it('reports every problem at once, each with its key path', function () {
    const found = problems(`
http: {addr: ":8080", port: 80}
token: {issuer: auth server, key: k, certificate: c, ttl: soon}
accounts:
  alice: {password: plaintext}
  anonymous: {password: '${HASH}'}
rules:
  - {account: alice, repository: '*', actions: [pull, write]}
  - {account: bob, actions: [pull]}
  - {account: bob, registry: everything, actions: [pull]}
mode: closed
extra: 1
`);
    const text = found.join('\n');
    for (const expected of ['http.port is not a known key', 'token.service is required', 'token.ttl must be a positive duration', 'accounts.alice.password must be a bcrypt hash', 'console-auth hash-password', 'accounts.anonymous', 'rules[0].actions', 'rules[1] needs exactly one of repository', 'rules[2].registry can only be "catalog"', 'mode must be', 'extra is not a known key']) {
      expect(text).to.include(expected);
    }
  });

  it('accepts the example etc/console.yml', async function () {
    const config = await loadConsoleConfig(fileURLToPath(new URL('../../../etc/console.yml', import.meta.url)));
    expect(config.token.service).to.equal('lain.local');
    expect(config.rules.length).to.be.greaterThan(3);
  });

  it('accepts the LAIN example etc/console.lain.yml', async function () {
    const config = await loadConsoleConfig(fileURLToPath(new URL('../../../etc/console.lain.yml', import.meta.url)));
    expect(config.token.issuer).to.equal('auth server');
  });

  it('refuses YAML that does not parse, naming the file', function () {
    expect(() => parseConsoleConfig('http: [', '/etc/console/console.yml')).to.throw(ConfigError, /\/etc\/console\/console.yml: not valid YAML/);
  });
});
