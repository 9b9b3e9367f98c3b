import { expect } from 'chai';
import { parseConfig } from '../../../registry/src/config/load.js';
import { issuesOf, load } from './parse.js';

// The LAIN production template, as etc/config.yml has it.
const TEMPLATE = [
  'version: 0.1',
  'log:',
  '  level: info',
  'storage:',
  '  filesystem:',
  '    rootdirectory: /var/lib/registry',
  '  delete:',
  '    enabled: true',
  '  maintenance:',
  '    uploadpurging:',
  '      enabled: false',
  'http:',
  '  addr: :5000',
  '',
].join('\n');

describe('config: REGISTRY_* environment overrides', () => {
  it('overrides a key at any depth, upper-cased, path joined by _', () => {
    const { config, warnings } = load(TEMPLATE, {
      REGISTRY_HTTP_ADDR: '127.0.0.1:5001',
      REGISTRY_LOG_LEVEL: 'debug',
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv/registry',
    });
    expect(warnings).to.deep.equal([]);
    expect(config.http.addr).to.equal('127.0.0.1:5001');
    expect(config.log.level).to.equal('debug');
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/srv/registry', maxthreads: 100 } });
  });

  it('reads values as YAML scalars: true is a boolean, 5242880 a number', () => {
    const { config } = load(TEMPLATE, {
      REGISTRY_STORAGE_DELETE_ENABLED: 'false',
      REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED: 'true',
      REGISTRY_STORAGE_FILESYSTEM_MAXTHREADS: '50',
    });
    expect(config.storage.delete.enabled).to.equal(false);
    expect(config.storage.maintenance.readonly.enabled).to.equal(true);
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 50 } });
  });

  it('keeps the text of a value for a string key (REGISTRY_HTTP_SECRET=0755 is "0755")', () => {
    expect(load(TEMPLATE, { REGISTRY_HTTP_SECRET: '0755' }).config.http.secret).to.equal('0755');
  });

  it('REGISTRY_AUTH=htpasswd with its PATH and REALM turns htpasswd auth on', () => {
    const { config, warnings } = load(TEMPLATE, {
      REGISTRY_AUTH_HTPASSWD_REALM: 'Registry Realm',
      REGISTRY_AUTH: 'htpasswd',
      REGISTRY_AUTH_HTPASSWD_PATH: '/auth/htpasswd',
    });
    expect(warnings).to.deep.equal([]);
    expect(config.auth).to.deep.equal({ type: 'htpasswd', realm: 'Registry Realm', path: '/auth/htpasswd' });
  });

  it("REGISTRY_AUTH=htpasswd replaces the file's token auth instead of adding a second type", () => {
    const text = `${TEMPLATE}auth:\n  token: {realm: r, service: s, issuer: i, rootcertbundle: /c}\n`;
    const { config } = load(text, { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: '/p', REGISTRY_AUTH_HTPASSWD_REALM: 'r' });
    expect(config.auth).to.deep.equal({ type: 'htpasswd', realm: 'r', path: '/p' });
  });

  it('REGISTRY_AUTH=htpasswd without its path fails naming the variable that chose it', () => {
    expect(issuesOf(TEMPLATE, { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_REALM: 'r' })).to.deep.equal([
      'auth.htpasswd.path: required [env REGISTRY_AUTH]',
    ]);
  });

  it('REGISTRY_STORAGE=inmemory replaces the filesystem driver and keeps delete and maintenance from the file', () => {
    const { config, warnings } = load(TEMPLATE, { REGISTRY_STORAGE: 'inmemory', REGISTRY_STORAGE_INMEMORY_ACCEPTDATALOSS: 'true' });
    expect(warnings).to.deep.equal([]);
    expect(config.storage.driver).to.deep.equal({ type: 'inmemory' });
    expect(config.storage.delete.enabled).to.equal(true);
    expect(config.storage.maintenance.uploadpurging.enabled).to.equal(false);
  });

  it('REGISTRY_STORAGE=s3 with its keys configures S3, numbers and booleans typed', () => {
    const { config } = load(TEMPLATE, {
      REGISTRY_STORAGE: 's3',
      REGISTRY_STORAGE_S3_REGION: 'us-east-1',
      REGISTRY_STORAGE_S3_BUCKET: 'images',
      REGISTRY_STORAGE_S3_REGIONENDPOINT: 'http://127.0.0.1:9000',
      REGISTRY_STORAGE_S3_CHUNKSIZE: '5242880',
      REGISTRY_STORAGE_S3_SECURE: 'false',
    });
    expect(config.storage.driver.type).to.equal('s3');
    if (config.storage.driver.type !== 's3') return;
    expect(config.storage.driver.s3).to.include({
      region: 'us-east-1',
      bucket: 'images',
      regionendpoint: 'http://127.0.0.1:9000',
      chunksize: 5242880,
      secure: false,
    });
  });

  it('a driver key for another driver than the file names is two drivers, and the error names the variable', () => {
    expect(issuesOf(TEMPLATE, { REGISTRY_STORAGE_S3_REGION: 'us-east-1' })).to.deep.equal([
      'storage: exactly one driver must be configured, found filesystem and s3 [filesystem: line 5; s3: env REGISTRY_STORAGE_S3_REGION]',
    ]);
  });

  it('fills a storage written as a plain driver name', () => {
    const { config } = load('version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\n', { REGISTRY_STORAGE_DELETE_ENABLED: 'true' });
    expect(config.storage.driver).to.deep.equal({ type: 'inmemory' });
    expect(config.storage.delete.enabled).to.equal(true);
  });

  it('an empty value unsets the key, as distribution does', () => {
    const { config } = load(`${TEMPLATE}  secret: abc\n`, { REGISTRY_HTTP_SECRET: '', REGISTRY_LOG_LEVEL: '' });
    expect(config.http.secret).to.equal(undefined);
    expect(config.log.level).to.equal('info');
  });

  it('a numeric segment indexes a list, appending at its end', () => {
    const text = `${TEMPLATE}  tls:\n    certificate: /c\n    key: /k\n    clientcas: [/ca1]\n`;
    const { config } = load(text, { REGISTRY_HTTP_TLS_CLIENTCAS_0: '/ca0', REGISTRY_HTTP_TLS_CLIENTCAS_1: '/ca2' });
    expect(config.http.tls?.clientcas).to.deep.equal(['/ca0', '/ca2']);
  });

  it('an index past the end of a list is an error naming the variable', () => {
    expect(issuesOf(`${TEMPLATE}  tls: {certificate: /c, key: /k, clientcas: [/ca1]}\n`, { REGISTRY_HTTP_TLS_CLIENTCAS_5: '/x' })).to.deep.equal([
      'REGISTRY_HTTP_TLS_CLIENTCAS_5: http.tls.clientcas has 1 items; index 5 would leave a gap',
    ]);
  });

  it('a path through a plain value is an error naming the variable and where the value was written', () => {
    expect(issuesOf(TEMPLATE, { REGISTRY_HTTP_ADDR_PORT: '5000' })).to.deep.equal([
      'REGISTRY_HTTP_ADDR_PORT: cannot set http.addr.port: http.addr is ":5000" [line 13], not a mapping',
    ]);
  });

  it('warns about a variable under an unknown section and ignores it (docker link variables such as REGISTRY_PORT_5000_TCP)', () => {
    const { config, warnings } = load(TEMPLATE, { REGISTRY_PORT_5000_TCP: 'tcp://10.0.0.2:5000' });
    expect(config.http.addr).to.equal(':5000');
    expect(warnings).to.deep.equal(['REGISTRY_PORT_5000_TCP: unknown key port.5000.tcp; ignored']);
  });

  it('warns about a variable that maps to no known key, with the key it probably meant', () => {
    const { config, warnings } = load(TEMPLATE, { REGISTRY_STORAGE_FILESYSTEM_ROOTDIR: '/srv' });
    expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 100 } });
    expect(warnings).to.deep.equal([
      'unknown key storage.filesystem.rootdir (did you mean rootdirectory?); ignored [env REGISTRY_STORAGE_FILESYSTEM_ROOTDIR]',
    ]);
  });

  it('ignores REGISTRY_VERSION with a warning: the version comes from the file', () => {
    const { warnings } = load(TEMPLATE, { REGISTRY_VERSION: '0.2' });
    expect(warnings).to.deep.equal(['REGISTRY_VERSION: the version comes from the file only; ignored']);
  });

  it('reports a wrong type from a variable against the variable', () => {
    expect(issuesOf(TEMPLATE, { REGISTRY_HTTP_DRAINTIMEOUT: 'soon' })).to.deep.equal([
      'http.draintimeout: "soon" is not a duration (use e.g. 30s, 5m) [env REGISTRY_HTTP_DRAINTIMEOUT]',
    ]);
  });

  it('applies variables in lexical order whatever order the environment lists them in', () => {
    const vars: Array<[string, string]> = [
      ['REGISTRY_STORAGE_S3_BUCKET', 'b'],
      ['REGISTRY_STORAGE_S3_REGION', 'r'],
      ['REGISTRY_STORAGE', 's3'],
    ];
    const forward = load(TEMPLATE, Object.fromEntries(vars)).config;
    const backward = load(TEMPLATE, Object.fromEntries([...vars].reverse())).config;
    expect(forward).to.deep.equal(backward);
    expect(forward.storage.driver.type).to.equal('s3');
  });

  it('reads process.env when no environment is passed', () => {
    const saved = process.env.REGISTRY_HTTP_RELATIVEURLS;
    process.env.REGISTRY_HTTP_RELATIVEURLS = 'true';
    try {
      expect(parseConfig(TEMPLATE).config.http.relativeurls).to.equal(true);
    } finally {
      if (saved === undefined) delete process.env.REGISTRY_HTTP_RELATIVEURLS;
      else process.env.REGISTRY_HTTP_RELATIVEURLS = saved;
    }
  });
});
