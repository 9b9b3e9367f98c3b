import { expect } from 'chai';
import { maskSecrets, toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import { issuesOf, load, MINIMAL } from './parse.js';

const WEEK = 168 * 3_600_000;

describe('config: proxy', () => {
  it("reads distribution's proxy section as it is: remoteurl, username, password, ttl", () => {
    const { config, warnings } = load(
      `${MINIMAL}proxy:\n  remoteurl: https://registry-1.docker.io/\n  username: sa\n  password: hub-secret\n  ttl: 72h\n`,
    );
    expect(config.proxy).to.deep.equal({
      remote: { remoteurl: 'https://registry-1.docker.io', username: 'sa', password: 'hub-secret', ttl: 72 * 3_600_000 },
      upstreams: [],
    });
    expect(warnings).to.deep.equal([]);
  });

  it('reads upstreams by namespace; an entry without ttl takes the section ttl, and a port is stored under "_"', () => {
    const { config } = load(
      [
        MINIMAL.trim(),
        'proxy:',
        '  ttl: 24h',
        '  upstreams:',
        '    - {namespace: docker.io, remoteurl: "https://registry-1.docker.io", username: u, password: p}',
        '    - {namespace: Quay.io, remoteurl: "https://quay.io", ttl: 0}',
        '    - {namespace: "registry.lain.local:5000", remoteurl: "https://10.0.0.5:5000", cabundle: /etc/ssl/lain-ca.pem}',
      ].join('\n'),
    );
    expect(config.proxy?.remote).to.equal(undefined);
    expect(config.proxy?.upstreams).to.deep.equal([
      { namespace: 'docker.io', prefix: 'docker.io', remoteurl: 'https://registry-1.docker.io', username: 'u', password: 'p', ttl: 24 * 3_600_000 },
      { namespace: 'quay.io', prefix: 'quay.io', remoteurl: 'https://quay.io', ttl: 0 },
      { namespace: 'registry.lain.local:5000', prefix: 'registry.lain.local_5000', remoteurl: 'https://10.0.0.5:5000', cabundle: '/etc/ssl/lain-ca.pem', ttl: 24 * 3_600_000 },
    ]);
  });

  it('takes REGISTRY_PROXY_* overrides, an upstream by its index included', () => {
    const { config } = load(`${MINIMAL}proxy:\n  upstreams:\n    - {namespace: docker.io, remoteurl: "https://registry-1.docker.io"}\n`, {
      REGISTRY_PROXY_REMOTEURL: 'https://mirror.example.com',
      REGISTRY_PROXY_USERNAME: 'sa',
      REGISTRY_PROXY_PASSWORD: 'from-env',
      REGISTRY_PROXY_UPSTREAMS_0_PASSWORD: 'hub-env',
      REGISTRY_PROXY_UPSTREAMS_0_USERNAME: 'hub',
    });
    expect(config.proxy?.remote).to.deep.equal({ remoteurl: 'https://mirror.example.com', username: 'sa', password: 'from-env', ttl: WEEK });
    expect(config.proxy?.upstreams[0]).to.include({ username: 'hub', password: 'hub-env' });
  });

  it('masks every password when printing, and writes a section distribution reads back to the same settings', () => {
    const text = `${MINIMAL}proxy:\n  remoteurl: https://registry-1.docker.io\n  username: sa\n  password: s3cret-one\n  upstreams:\n    - {namespace: quay.io, remoteurl: "https://quay.io", username: q, password: s3cret-two}\n`;
    const { config } = load(text);
    const printed = JSON.stringify(maskSecrets(config));
    expect(printed).not.to.contain('s3cret');
    expect(printed).to.contain('"username":"sa"');
    expect(load(toYaml(toDistributionShape(config))).config.proxy).to.deep.equal(config.proxy);
  });

  it('refuses what cannot work, saying what to write', () => {
    const issues = issuesOf(
      [
        MINIMAL.trim(),
        'proxy:',
        '  username: lonely',
        '  upstreams:',
        '    - {remoteurl: "https://quay.io"}',
        '    - {namespace: "Not A Host", remoteurl: "ftp://x"}',
        '    - {namespace: docker.io, remoteurl: "https://a", password: p}',
        '    - {namespace: docker.io, remoteurl: "https://b"}',
        '    - just-a-string',
      ].join('\n'),
    ).join('\n');
    expect(issues).to.match(/proxy\.username: has no remoteurl to apply to/);
    expect(issues).to.match(/proxy\.upstreams\[0\]\.namespace: required/);
    expect(issues).to.match(/proxy\.upstreams\[1\]\.remoteurl: "ftp:\/\/x" is not an http\(s\) URL of a registry/);
    expect(issues).to.match(/proxy\.upstreams\[1\]\.namespace: "not a host" is not a registry host name/);
    expect(issues).to.match(/proxy\.upstreams\[2\]\.username: required when password is set/);
    expect(issues).to.match(/proxy\.upstreams\[3\]\.namespace: docker\.io is configured twice \(also at proxy\.upstreams\[2\]\)/);
    expect(issues).to.match(/proxy\.upstreams\[4\]: expected a mapping, got "just-a-string"/);
  });

  it('warns about a section that mirrors nothing, a password over plain http, and unknown keys', () => {
    expect(load(`${MINIMAL}proxy: {}\n`).warnings).to.deep.equal(['proxy: neither remoteurl nor upstreams is set: the registry mirrors nothing [line 3]']);
    expect(load(`${MINIMAL}proxy: {}\n`).config.proxy).to.equal(undefined);
    const { warnings } = load(`${MINIMAL}proxy:\n  remoteurl: http://10.0.0.5:5000\n  username: u\n  password: p\n  upstreams:\n    - {namespace: quay.io, remoteurl: "https://quay.io", tll: 1h}\n`);
    expect(warnings.join('\n')).to.match(/proxy\.password: is sent to http:\/\/10\.0\.0\.5:5000 over plain http/);
    expect(warnings.join('\n')).to.match(/unknown key proxy\.upstreams\[0\]\.tll \(did you mean ttl\?\)/);
  });
});
