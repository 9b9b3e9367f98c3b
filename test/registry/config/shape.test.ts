import { expect } from 'chai';
import fc from 'fast-check';
import { maskSecrets, toDistributionShape, toYaml } from '../../../registry/src/config/load.js';
import type { Config } from '../../../registry/src/config/types.js';
import { load } from './parse.js';

const S3_CONFIG = [
  'version: 0.1',
  'log: {level: debug, formatter: json, fields: {service: registry, zone: "07"}, accesslog: {disabled: true}}',
  'storage:',
  '  s3:',
  '    accesskey: AKIA-ACCESS-KEY',
  '    secretkey: S3-SECRET-KEY',
  '    region: us-east-1',
  '    regionendpoint: http://127.0.0.1:9000',
  '    forcepathstyle: true',
  '    bucket: images',
  '    chunksize: 5242880',
  '    rootdirectory: /registry',
  '  delete: {enabled: true}',
  '  maintenance: {readonly: {enabled: true}, uploadpurging: {enabled: true, age: 1h30m, interval: 90s, dryrun: true}}',
  '  cache: {blobdescriptor: inmemory}',
  '  redirect: {disable: true}',
  'auth:',
  '  token:',
  '    realm: http://console.lain.local/api/v1/authorize/registry/',
  '    service: lain.local',
  '    issuer: auth server',
  '    rootcertbundle: /lain/app/auth/server.pem',
  '    jwks: /lain/app/auth/jwks.json',
  '    signingalgorithms: [RS256, ES256]',
  'http:',
  '  addr: 127.0.0.1:5000',
  '  prefix: /mirror/',
  '  host: https://registry.lain.local',
  '  secret: HTTP-SECRET',
  '  relativeurls: true',
  '  draintimeout: 2m30s',
  '  headers: {X-Content-Type-Options: [nosniff]}',
  '  tls: {certificate: /c.pem, key: /k.pem, clientcas: [/ca.pem]}',
  '  debug: {addr: "127.0.0.1:5001", prometheus: {enabled: true, path: /prom}}',
  'health: {storagedriver: {enabled: true, interval: 15s, threshold: 3}}',
  'validation: {disabled: true, manifests: {urls: {allow: ["^https://"], deny: ["^http://"]}}}',
].join('\n');

const OSS_CONFIG = [
  'version: 0.1',
  'storage:',
  '  oss: {accesskeyid: OSS-KEY-ID, accesskeysecret: OSS-KEY-SECRET, region: oss-cn-beijing, bucket: images, internal: true}',
  'auth: {htpasswd: {realm: Registry, path: /auth/htpasswd}}',
].join('\n');

const SECRETS = ['AKIA-ACCESS-KEY', 'S3-SECRET-KEY', 'HTTP-SECRET', 'OSS-KEY-ID', 'OSS-KEY-SECRET'];

describe('config: maskSecrets, toYaml', () => {
  it('replaces every credential by ***** and keeps the rest', () => {
    const masked = maskSecrets(load(S3_CONFIG).config) as { http: Record<string, unknown>; storage: { s3: Record<string, unknown> } };
    expect(masked.http.secret).to.equal('*****');
    expect(masked.storage.s3.accesskey).to.equal('*****');
    expect(masked.storage.s3.secretkey).to.equal('*****');
    expect(masked.storage.s3.bucket).to.equal('images');
    const oss = maskSecrets(load(OSS_CONFIG).config) as { storage: { oss: Record<string, unknown> } };
    expect(oss.storage.oss.accesskeyid).to.equal('*****');
    expect(oss.storage.oss.accesskeysecret).to.equal('*****');
  });

  it('never lets a secret through, whatever the secret is', () => {
    const secret = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `SECRET-${s}`);
    fc.assert(
      fc.property(fc.record({ http: secret, access: secret, key: secret }), ({ http, access, key }) => {
        const env = { REGISTRY_HTTP_SECRET: JSON.stringify(http), REGISTRY_STORAGE_S3_ACCESSKEY: JSON.stringify(access), REGISTRY_STORAGE_S3_SECRETKEY: JSON.stringify(key) };
        const { config } = load('version: 0.1\nstorage:\n  s3: {region: r, bucket: b}\n', env);
        expect(config.http.secret).to.equal(http);
        const printed = `${toYaml(maskSecrets(config))}\n${JSON.stringify(maskSecrets(config))}`;
        expect(printed).not.to.include('SECRET-');
      }),
      { numRuns: 200 },
    );
  });

  it('shows an absent secret as absent, not as *****', () => {
    const masked = maskSecrets(load('version: 0.1\nstorage: {s3: {region: r, bucket: b}}\n').config) as {
      http: Record<string, unknown>;
      storage: { s3: Record<string, unknown> };
    };
    expect(masked.http).not.to.have.property('secret');
    expect(masked.storage.s3).not.to.have.property('secretkey');
  });

  it('leaves the config it masks untouched', () => {
    const { config } = load(S3_CONFIG);
    const before = structuredClone(config);
    maskSecrets(config);
    expect(config).to.deep.equal(before);
  });

  it('prints distribution\'s shape: driver under storage, auth type as key, durations as Go text', () => {
    const yaml = toYaml(maskSecrets(load(S3_CONFIG).config));
    for (const secret of SECRETS) expect(yaml).not.to.include(secret);
    expect(yaml).to.include('  s3:\n');
    expect(yaml).to.include('auth:\n  token:\n');
    expect(yaml).to.include('age: 1h30m\n');
    expect(yaml).to.include('draintimeout: 2m30s\n');
  });

  it('quotes strings YAML 1.1 would read as something else ("yes", "0755", "on")', () => {
    expect(toYaml({ a: 'yes', b: '0755', c: 'on', d: 'plain' })).to.equal('a: "yes"\nb: "0755"\nc: "on"\nd: plain\n');
  });

  for (const [name, text] of [
    ['an S3 config with every section', S3_CONFIG],
    ['an OSS config with htpasswd', OSS_CONFIG],
    ['the minimal config', 'version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\n'],
  ]) {
    it(`writes ${name} as YAML that reads back to the same Config`, () => {
      const { config } = load(text);
      const again = load(toYaml(toDistributionShape(config)));
      expect(again.config).to.deep.equal(config);
      expect(again.warnings).to.deep.equal([]);
    });
  }

  it('reads back any written config to the same Config (generated log, http, storage and health values)', () => {
    const duration = fc.integer({ min: 1, max: 10_000_000 });
    const text = fc.string({ maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0);
    fc.assert(
      fc.property(
        fc.record({
          level: fc.constantFrom('error', 'warn', 'info', 'debug', 'trace', 'fatal', 'panic' as const),
          field: text,
          secret: text,
          prefix: fc.stringMatching(/^\/([a-z0-9]+\/)*$/),
          draintimeout: fc.integer({ min: 0, max: 10_000_000 }),
          age: duration,
          interval: duration,
          readonly: fc.boolean(),
          threshold: fc.integer({ min: 1, max: 100 }),
          // Any directory of the registry's own (storage.test.ts covers the refused ones).
          rootdirectory: text.filter((t) => !/\0|\.\./.test(t)).map((t) => `/srv/${t}`),
        }),
        (v) => {
          const config: Config = load('version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\n').config;
          config.log.level = v.level;
          config.log.fields = { field: v.field };
          config.http.secret = v.secret;
          config.http.prefix = v.prefix;
          config.http.draintimeout = v.draintimeout;
          config.storage.driver = { type: 'filesystem', filesystem: { rootdirectory: v.rootdirectory, maxthreads: 100 } };
          config.storage.maintenance.uploadpurging.age = v.age;
          config.storage.maintenance.uploadpurging.interval = v.interval;
          config.storage.maintenance.readonly.enabled = v.readonly;
          config.health.storagedriver.threshold = v.threshold;
          expect(load(toYaml(toDistributionShape(config))).config).to.deep.equal(config);
        },
      ),
      { numRuns: 200 },
    );
  });
});
