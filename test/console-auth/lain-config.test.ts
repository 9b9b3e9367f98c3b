import { expect } from 'chai';
import { parseConsoleConfig } from '../../console-auth/src/config.js';
import { problems } from './config-problems.js';

const minimal = `
http: {addr: ":8080"}
token: {issuer: auth server, service: lain.local, key: /k, certificate: /c}
`;

describe('console-auth console.yml: the LAIN keys', function () {
  it('defaults to local accounts, no etcd, anonymous_pull off, GET and POST only, no trusted proxy', function () {
    const config = parseConsoleConfig(minimal, '/c.yml');
    expect(config.identity).to.deep.equal({ backend: 'accounts' });
    expect(config.etcd).to.equal(undefined);
    expect(config.anonymousPull).to.equal(false);
    expect(config.http.anyMethod).to.equal(false);
    expect(config.http.trustedProxies.size).to.equal(0);
  });

  it('reads a LAIN console: SSO from etcd, the default endpoint, numbers as client ids, durations', function () {
    const config = parseConsoleConfig(
      `
http: {addr: ":8080", anymethod: true, trustedproxies: [10.0.0.1, 172.16.0.0/12]}
token: {issuer: auth server, service: lain.local, key: /k, certificate: /c}
identity:
  backend: lain-sso
  sso: {clientid: 3, redirecturi: "http://console.lain.local/api/v1/authorize/", cachettl: 1m}
etcd: {poll: 5s}
anonymous_pull: true
`,
      '/c.yml',
    );
    expect(config.identity).to.deep.equal({
      backend: 'lain-sso',
      sso: { clientId: '3', redirectUri: 'http://console.lain.local/api/v1/authorize/', adminGroup: 'lain', cacheTtlMs: 60_000, timeoutMs: 5000 },
    });
    expect(config.etcd).to.deep.equal({ endpoints: ['http://etcd.lain:4001'], pollMs: 5000, timeoutMs: 3000 });
    expect(config.anonymousPull).to.equal(true);
    expect(config.http.anyMethod).to.equal(true);
    expect(config.http.trustedProxies.has('172.20.1.1')).to.equal(true);
  });

  it('reports every problem of the LAIN keys at once', function () {
    const found = problems(`
http: {addr: ":8080", anymethod: yes please, trustedproxies: [10.0.0.1, proxy.lain]}
token: {issuer: auth server, service: lain.local, key: /k, certificate: /c}
identity: {backend: lain-sso, sso: {clientid: 3, secret: x}}
accounts: {alice: {password: '$2b$04$PArmm7XORnX4pgPQvWXmjukG7KRMAUBcIUeOwr0m/5JtuTPY.W45.'}}
anonymous_pull: 1
`).join('\n');
    for (const expected of [
      'http.anymethod must be true or false',
      'http.trustedproxies: "proxy.lain" is not an IP address',
      'identity.sso.secret is not a known key',
      'identity.sso.redirecturi is required',
      'identity.sso.url is required unless etcd is configured',
      'identity.sso.appgroupprefix is required unless etcd is configured',
      'accounts are not used with identity.backend lain-sso',
      'anonymous_pull must be true or false',
    ]) {
      expect(found).to.include(expected);
    }
    expect(problems(`${minimal}identity: {backend: ldap}\netcd: {endpoints: [etcd.lain:4001]}\n`).join('\n'))
      .to.include('identity.backend must be "accounts" or "lain-sso"')
      .and.include('etcd.endpoints must be a list of http(s) URLs');
  });
});
