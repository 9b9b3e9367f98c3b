import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../../registry/src/config/load.js';
import { issuesOf, load, MINIMAL } from './parse.js';

describe('config: errors', () => {
  describe('wrong types', () => {
    it('refuses a mapping where a string belongs, naming the key, what it got and the line', () => {
      expect(issuesOf(`${MINIMAL}http:\n  addr:\n    port: 5000\n`)).to.deep.equal(['http.addr: expected a string, got a mapping [line 4]']);
    });

    it('refuses a quoted "true" for a boolean and says to remove the quotes', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  delete:\n    enabled: "true"\n')).to.deep.equal([
        'storage.delete.enabled: expected true or false, got "true" (remove the quotes) [line 5]',
      ]);
    });

    it('refuses a header given as a plain string instead of a list', () => {
      expect(issuesOf(`${MINIMAL}http:\n  headers:\n    X-Content-Type-Options: nosniff\n`)).to.deep.equal([
        'http.headers.X-Content-Type-Options: expected a list of strings, got "nosniff" [line 5]',
      ]);
    });

    it('refuses a section written as a list', () => {
      expect(issuesOf(`${MINIMAL}log:\n  - level: debug\n`)).to.deep.equal(['log: expected a mapping, got a list [line 3]']);
    });

    it('refuses a log level that does not exist, listing those that do', () => {
      expect(issuesOf(`${MINIMAL}log: {level: verbose}\n`)).to.deep.equal([
        'log.level: "verbose" is not one of error, warn, info, debug, trace, fatal, panic [line 3]',
      ]);
    });

    it('refuses a top level that is not a mapping', () => {
      expect(issuesOf('- version: 0.1\n')).to.deep.equal(['(top level): expected a mapping of sections (version, storage, http, ...), got a list']);
    });
  });

  describe('missing required keys', () => {
    it('requires storage, with the drivers to choose from', () => {
      expect(issuesOf('version: 0.1\n')).to.deep.equal(['storage: required: configure exactly one driver (filesystem, inmemory, s3, oss) [line 1]']);
    });

    it('requires s3 region and bucket, pointing at the s3 section', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  s3:\n    accesskey: AK\n    secretkey: SK\n')).to.deep.equal([
        'storage.s3.region: required [line 3]',
        'storage.s3.bucket: required [line 3]',
      ]);
    });

    it('requires the s3 secret key when an access key is given', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  s3: {region: r, bucket: b, accesskey: AK}\n')).to.deep.equal([
        "storage.s3.secretkey: required when accesskey is set (omit both to use the instance's credentials) [line 3]",
      ]);
    });

    it('requires htpasswd realm and path', () => {
      expect(issuesOf(`${MINIMAL}auth:\n  htpasswd:\n`)).to.deep.equal(['auth.htpasswd.realm: required [line 4]', 'auth.htpasswd.path: required [line 4]']);
    });

    it('requires every token key, so auth can never silently fall open', () => {
      expect(issuesOf(`${MINIMAL}auth: token\n`)).to.deep.equal([
        'auth.token.realm: required [line 3]',
        'auth.token.service: required [line 3]',
        'auth.token.issuer: required [line 3]',
        'auth.token.rootcertbundle: required [line 3]',
      ]);
    });

    it('requires both TLS files once one is given', () => {
      expect(issuesOf(`${MINIMAL}http:\n  tls:\n    certificate: /etc/tls/cert.pem\n`)).to.deep.equal(['http.tls.key: required [line 4]']);
    });
  });

  describe('storage drivers and auth types', () => {
    it('refuses two drivers, naming both and where each was written', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n  s3:\n    region: r\n    bucket: b\n')).to.deep.equal([
        'storage: exactly one driver must be configured, found filesystem and s3 [filesystem: line 3; s3: line 5]',
      ]);
    });

    it('refuses a storage section with no driver', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  delete:\n    enabled: true\n')).to.deep.equal([
        'storage: exactly one driver must be configured, found none (use one of filesystem, inmemory, s3, oss) [line 2]',
      ]);
    });

    it('refuses a driver this registry does not have', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  azure:\n    accountname: a\n')).to.deep.equal([
        'storage.azure: driver not supported by this registry (use one of filesystem, inmemory, s3, oss) [line 3]',
      ]);
    });

    it('refuses an S3 chunk size below the 5 MiB S3 minimum', () => {
      expect(issuesOf('version: 0.1\nstorage:\n  s3: {region: r, bucket: b, chunksize: 1048576}\n')).to.deep.equal([
        'storage.s3.chunksize: 1048576 is too small (minimum 5242880) [line 3]',
      ]);
    });

    it('refuses two auth types', () => {
      expect(issuesOf(`${MINIMAL}auth:\n  htpasswd: {realm: r, path: /p}\n  token: {realm: r, service: s, issuer: i, rootcertbundle: /c}\n`)).to.deep.equal([
        'auth: at most one type may be configured, found htpasswd and token [htpasswd: line 4; token: line 5]',
      ]);
    });

    it('refuses an auth type this registry does not have rather than starting open', () => {
      expect(issuesOf(`${MINIMAL}auth:\n  ldap: {url: "ldap://127.0.0.1"}\n`)).to.deep.equal([
        'auth.ldap: not supported by this registry (use one of silly, htpasswd, token, or no auth section) [line 4]',
      ]);
    });

    it('refuses a token signing algorithm that is not JWS, an HMAC one (a public key used as a secret) and EdDSA, saying why', () => {
      const issues = issuesOf(`${MINIMAL}auth:\n  token: {realm: r, service: s, issuer: i, rootcertbundle: /c, signingalgorithms: [RS256, none, HS256, EdDSA]}\n`);
      expect(issues).to.deep.equal([
        'auth.token.signingalgorithms: none is not a JWS algorithm; HS256 is an HMAC (shared-secret) algorithm; the registry verifies public-key signatures only; ' +
          'EdDSA cannot be verified by this registry (use some of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512) [line 4]',
      ]);
    });
  });

  describe('token signing algorithms', () => {
    it('refuses an empty signingalgorithms list: no token could ever verify', () => {
      for (const list of ['[]', '[ ]']) {
        expect(issuesOf(`${MINIMAL}auth:\n  token: {realm: r, service: s, issuer: i, rootcertbundle: /c, signingalgorithms: ${list}}\n`)).to.deep.equal([
          'auth.token.signingalgorithms: lists no algorithm, so no token could ever be verified ' +
            '(list some of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, or remove the key to accept them all) [line 4]',
        ]);
      }
    });

    it('takes an absent or null signingalgorithms as all nine', () => {
      for (const written of ['', ', signingalgorithms: null', ', signingalgorithms: ']) {
        const { config } = load(`${MINIMAL}auth:\n  token: {realm: r, service: s, issuer: i, rootcertbundle: /c${written}}\n`);
        expect(config.auth, written).to.not.have.property('signingalgorithms');
      }
    });
  });

  describe('values', () => {
    it('refuses a duration that is not one', () => {
      expect(issuesOf(`${MINIMAL}http:\n  draintimeout: abc\n`)).to.deep.equal(['http.draintimeout: "abc" is not a duration (use e.g. 30s, 5m) [line 4]']);
    });

    it('echoes a 1 MiB value as its first 100 characters and its length, never whole', () => {
      const huge = 'x'.repeat(1024 * 1024);
      const issues = issuesOf(`${MINIMAL}http:\n  draintimeout: ${huge}\n  addr: ${huge}\n`);
      expect(issues).to.deep.equal([
        `http.addr: "${'x'.repeat(100)}"... (1048576 characters) is not host:port (use e.g. :5000 or 127.0.0.1:5000) [line 5]`,
        `http.draintimeout: "${'x'.repeat(100)}"... (1048576 characters) is not a duration (use e.g. 30s, 5m) [line 4]`,
      ]);
    });

    it('refuses a duration without a unit (distribution would take nanoseconds)', () => {
      expect(issuesOf(`${MINIMAL}http:\n  draintimeout: 30\n`)).to.deep.equal(['http.draintimeout: 30 is not a duration (use e.g. 30s, 5m) [line 4]']);
    });

    it('refuses a zero upload purging interval and a negative drain timeout', () => {
      expect(
        issuesOf('version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  maintenance:\n    uploadpurging: {interval: 0s}\nhttp: {draintimeout: -5s}\n'),
      ).to.deep.equal([
        'storage.maintenance.uploadpurging.interval: "0s" must be greater than 0 (use e.g. 30s, 5m) [line 5]',
        'http.draintimeout: "-5s" must be zero or more (use e.g. 30s, 5m) [line 6]',
      ]);
    });

    it('refuses a URL pattern that is not a regular expression, naming its index', () => {
      const issues = issuesOf(`${MINIMAL}validation:\n  manifests:\n    urls:\n      allow:\n        - '^https://'\n        - '(unclosed'\n`);
      expect(issues).to.have.length(1);
      expect(issues[0]).to.match(/^validation\.manifests\.urls\.allow\[1\]: "\(unclosed" is not a valid regular expression: .*Unterminated group \[line 8\]$/);
    });

    it('refuses an http.addr without a port and an http.host that is not a URL', () => {
      expect(issuesOf(`${MINIMAL}http:\n  addr: localhost\n  host: registry.example.com\n`)).to.deep.equal([
        'http.addr: "localhost" is not host:port (use e.g. :5000 or 127.0.0.1:5000) [line 4]',
        'http.host: "registry.example.com" is not an absolute http(s) URL (use e.g. https://registry.example.com) [line 5]',
      ]);
    });

    it('refuses a version other than 0.1, and a missing one', () => {
      expect(issuesOf('version: 0.2\nstorage: {inmemory: {acceptdataloss: true}}\n')).to.deep.equal(['version: "0.2" is not supported (use 0.1) [line 1]']);
      expect(issuesOf('storage: {inmemory: {acceptdataloss: true}}\n')).to.deep.equal(['version: required (use 0.1) [line 1]']);
    });
  });

  describe('YAML syntax', () => {
    it('reports a syntax error with its line and column', () => {
      const issues = issuesOf('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: [unclosed\nhttp:\n  addr: :5000\n');
      expect(issues.length).to.be.greaterThan(0);
      expect(issues[0]).to.match(/^YAML syntax error at line \d+, column \d+: /);
    });

    it('reports a key written twice, as distribution does', () => {
      expect(issuesOf('version: 0.1\nstorage: {inmemory: {acceptdataloss: true}}\nstorage: {inmemory: {acceptdataloss: true}}\n')).to.deep.equal([
        'YAML syntax error at line 3, column 1: Map keys must be unique',
      ]);
    });
  });

  describe('unknown keys', () => {
    it('warns (does not fail) with the full path and the key it probably meant', () => {
      const { config, warnings } = load('version: 0.1\nstorage:\n  filesystem:\n    rootdir: /srv/registry\n');
      expect(warnings).to.deep.equal(['unknown key storage.filesystem.rootdir (did you mean rootdirectory?); ignored [line 4]']);
      expect(config.storage.driver).to.deep.equal({ type: 'filesystem', filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 100 } });
    });

    it('suggests across a typo and a case slip', () => {
      const { warnings } = load(`${MINIMAL}htpp: {}\nLog: {}\n`);
      expect(warnings).to.deep.equal([
        'unknown key htpp (did you mean http?); ignored [line 3]',
        'unknown key Log (did you mean log?); ignored [line 4]',
      ]);
    });
  });

  describe('ConfigError', () => {
    it('lists every problem at once, one per line, each prefixed with the source file', () => {
      let error: unknown;
      try {
        parseConfig('version: 0.1\nstorage:\n  s3: {}\nhttp: {draintimeout: soon}\n', {}, '/etc/registry/config.yml');
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ConfigError);
      const configError = error as ConfigError;
      expect(configError.issues).to.have.length(3);
      expect(configError.message.split('\n')).to.deep.equal(configError.issues.map((i) => `/etc/registry/config.yml: ${i}`));
    });
  });
});
