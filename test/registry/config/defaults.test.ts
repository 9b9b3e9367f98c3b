import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../../registry/src/config/load.js';
import type { Config } from '../../../registry/src/config/types.js';
import { load, MINIMAL } from './parse.js';

const repoFile = (path: string): string => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));

const DAY = 24 * 3_600_000;

describe('config: defaults', () => {
  it('fills every key distribution defaults when the file names only a version and a driver', () => {
    const { config, warnings } = load(MINIMAL);
    const expected: Config = {
      version: '0.1',
      log: { level: 'info', formatter: 'text', fields: {}, accesslog: { disabled: false } },
      storage: {
        driver: { type: 'inmemory' },
        delete: { enabled: false },
        maintenance: {
          readonly: { enabled: false },
          uploadpurging: { enabled: true, age: 7 * DAY, interval: DAY, dryrun: false },
          gc: { enabled: false, interval: DAY, minage: 3_600_000, deleteuntagged: false },
          prune: { enabled: false, interval: 7 * DAY, keep: 50, repositories: [] },
        },
        cache: {},
        redirect: { disable: false },
      },
      http: { addr: ':5000', http2: { disabled: false }, prefix: '/', relativeurls: false, headers: {}, draintimeout: 0 },
      health: { storagedriver: { enabled: false, interval: 10_000, threshold: 1 } },
      validation: { disabled: false, manifests: { urls: { allow: [], deny: [] } } },
    };
    expect(config).to.deep.equal(expected);
    expect(warnings).to.deep.equal([]);
  });

  it('gives the filesystem driver /var/lib/registry and 100 threads', () => {
    const { config } = load('version: 0.1\nstorage:\n  filesystem:\n');
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 100 } });
  });

  it("gives S3 distribution's defaults: 10 MiB chunks, 32 MiB copy parts, https, v4 signatures", () => {
    const { config } = load('version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    bucket: images\n');
    expect(config.storage.driver).to.deep.equal({
      type: 's3',
      s3: {
        region: 'us-east-1',
        bucket: 'images',
        regionendpoint: undefined,
        forcepathstyle: undefined,
        encrypt: false,
        keyid: undefined,
        secure: true,
        skipverify: false,
        v4auth: true,
        chunksize: 10 * 1024 * 1024,
        multipartcopychunksize: 32 * 1024 * 1024,
        multipartcopymaxconcurrency: 100,
        multipartcopythresholdsize: 32 * 1024 * 1024,
        rootdirectory: '',
        storageclass: 'STANDARD',
        useragent: undefined,
      },
    });
  });

  it("gives OSS distribution's defaults: public endpoint, https, 10 MiB chunks", () => {
    const { config } = load(
      'version: 0.1\nstorage:\n  oss:\n    accesskeyid: id\n    accesskeysecret: secret\n    region: oss-cn-beijing\n    bucket: images\n',
    );
    expect(config.storage.driver).to.deep.equal({
      type: 'oss',
      oss: {
        accesskeyid: 'id',
        accesskeysecret: 'secret',
        region: 'oss-cn-beijing',
        bucket: 'images',
        endpoint: undefined,
        internal: false,
        encrypt: false,
        secure: true,
        chunksize: 10 * 1024 * 1024,
        rootdirectory: '',
      },
    });
  });

  it('reads etc/config.yml as the LAIN production template: info logs, /var/lib/registry, delete on, purging off, :5000, no auth', async () => {
    const { config, warnings } = await loadConfigFile(repoFile('etc/config.yml'), {});
    expect(warnings).to.deep.equal([]);
    expect(config.log.level).to.equal('info');
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 100 } });
    expect(config.storage.delete.enabled).to.equal(true);
    expect(config.storage.maintenance.uploadpurging.enabled).to.equal(false);
    expect(config.http.addr).to.equal(':5000');
    expect(config.auth).to.equal(undefined);
  });

  it('reads etc/config.dev.yml as a loopback registry on ./data with text logs', async () => {
    const { config, warnings } = await loadConfigFile(repoFile('etc/config.dev.yml'), {});
    expect(warnings).to.deep.equal([]);
    expect(config.http.addr).to.equal('127.0.0.1:5000');
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: './data', maxthreads: 100 } });
    expect(config.storage.delete.enabled).to.equal(true);
    expect(config.log.formatter).to.equal('text');
  });

  for (const [written, normalised] of [
    ['', '/'],
    ['/', '/'],
    ['registry', '/registry/'],
    ['/registry', '/registry/'],
    ['registry/v1/', '/registry/v1/'],
  ]) {
    it(`normalises http.prefix ${JSON.stringify(written)} to ${normalised}`, () => {
      expect(load(`${MINIMAL}http:\n  prefix: "${written}"\n`).config.http.prefix).to.equal(normalised);
    });
  }

  it('turns Go durations into milliseconds', () => {
    const { config } = load(
      [
        'version: 0.1',
        'storage:',
        '  inmemory: {acceptdataloss: true}',
        '  maintenance: {uploadpurging: {age: 1h30m, interval: 90s}}',
        'http: {draintimeout: 1.5s}',
        'health: {storagedriver: {interval: 250ms}}',
      ].join('\n'),
    );
    expect(config.storage.maintenance.uploadpurging.age).to.equal(5_400_000);
    expect(config.storage.maintenance.uploadpurging.interval).to.equal(90_000);
    expect(config.http.draintimeout).to.equal(1500);
    expect(config.health.storagedriver.interval).to.equal(250);
  });

  it('reads YAML as distribution does: yes/on are booleans, merge keys apply, a string key keeps its text ("0755" stays "0755")', () => {
    const { config } = load(
      [
        'version: 0.1',
        'storage:',
        '  inmemory: {acceptdataloss: true}',
        '  delete: {enabled: yes}',
        'base: &base {relativeurls: on}',
        'http:',
        '  <<: *base',
        '  secret: 0755',
        'log: {fields: {build: 0x1F}}',
      ].join('\n'),
    );
    expect(config.storage.delete.enabled).to.equal(true);
    expect(config.http.relativeurls).to.equal(true);
    expect(config.http.secret).to.equal('0755');
    expect(config.log.fields).to.deep.equal({ build: '0x1F' });
  });

  it('uses the deprecated top-level loglevel when log.level is absent, and says it is deprecated', () => {
    const { config, warnings } = load(`${MINIMAL}loglevel: DEBUG\n`);
    expect(config.log.level).to.equal('debug');
    expect(warnings).to.deep.equal(['loglevel: deprecated, use log.level [line 3]']);
  });

  it("keeps validation on unless disabled, and lets the deprecated enabled: true win, as distribution does", () => {
    expect(load(`${MINIMAL}validation: {disabled: true}\n`).config.validation.disabled).to.equal(true);
    expect(load(`${MINIMAL}validation: {disabled: true, enabled: true}\n`).config.validation.disabled).to.equal(false);
    const { config } = load(`${MINIMAL}validation:\n  manifests:\n    urls:\n      allow: ['^https?://([^/]+\\.)*example\\.com/']\n      deny: ['^https?://www\\.example\\.com/']\n`);
    expect(config.validation.manifests.urls).to.deep.equal({ allow: ['^https?://([^/]+\\.)*example\\.com/'], deny: ['^https?://www\\.example\\.com/'] });
  });

  it('accepts distribution sections it does not implement with one warning naming each, and compatibility silently', () => {
    const text = [
      MINIMAL.trim(),
      'middleware: {registry: [{name: foo}]}',
      'notifications: {endpoints: [{name: hook, url: "http://127.0.0.1/"}]}',
      'reporting: {newrelic: {name: registry}}',
      'compatibility: {schema1: {enabled: true}}',
    ].join('\n');
    const { warnings } = load(text);
    expect(warnings).to.have.length(3);
    for (const key of ['middleware', 'notifications', 'reporting']) {
      expect(warnings.some((w) => w.startsWith(`${key}: not supported by this registry`))).to.equal(true, `${key} in ${warnings.join('\n')}`);
    }
  });

  it('reads headers, TLS and the debug server with prometheus', () => {
    const { config } = load(
      [
        MINIMAL.trim(),
        'http:',
        '  addr: 0.0.0.0:5443',
        '  host: https://registry.example.com',
        '  headers:',
        '    X-Content-Type-Options: [nosniff]',
        '    Strict-Transport-Security: [max-age=31536000, includeSubDomains]',
        '  tls: {certificate: /etc/tls/cert.pem, key: /etc/tls/key.pem, clientcas: [/etc/tls/ca.pem]}',
        '  debug: {addr: "127.0.0.1:5001", prometheus: {enabled: true}}',
      ].join('\n'),
    );
    expect(config.http).to.deep.equal({
      addr: '0.0.0.0:5443',
      http2: { disabled: false },
      prefix: '/',
      host: 'https://registry.example.com',
      relativeurls: false,
      headers: { 'X-Content-Type-Options': ['nosniff'], 'Strict-Transport-Security': ['max-age=31536000', 'includeSubDomains'] },
      draintimeout: 0,
      tls: { certificate: '/etc/tls/cert.pem', key: '/etc/tls/key.pem', clientcas: ['/etc/tls/ca.pem'] },
      debug: { addr: '127.0.0.1:5001', prometheus: { enabled: true, path: '/metrics' } },
    });
  });

  it('reads each auth type', () => {
    expect(load(`${MINIMAL}auth: {silly: {realm: r, service: s}}\n`).config.auth).to.deep.equal({ type: 'silly', realm: 'r', service: 's' });
    expect(load(`${MINIMAL}auth: {htpasswd: {realm: r, path: /etc/htpasswd}}\n`).config.auth).to.deep.equal({
      type: 'htpasswd',
      realm: 'r',
      path: '/etc/htpasswd',
    });
    const token = load(
      `${MINIMAL}auth:\n  token:\n    realm: http://console.lain.local/api/v1/authorize/registry/\n    service: lain.local\n    issuer: auth server\n    rootcertbundle: /lain/app/auth/server.pem\n    signingalgorithms: [RS256]\n`,
    ).config.auth;
    expect(token).to.deep.equal({
      type: 'token',
      realm: 'http://console.lain.local/api/v1/authorize/registry/',
      service: 'lain.local',
      issuer: 'auth server',
      rootcertbundle: '/lain/app/auth/server.pem',
      autoredirect: false,
      signingalgorithms: ['RS256'],
    });
    expect(load(`${MINIMAL}auth:\n`).config.auth).to.equal(undefined);
  });
});
