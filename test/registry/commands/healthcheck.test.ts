// `registry healthcheck <config.yml>` (the image's HEALTHCHECK) against real registries started in process: it asks
// where the config says the registry listens (port, TLS, prefix), and says in one line why when it is not healthy.
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keygen } from '../../../console-auth/src/keys.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { runRegistry } from '../../helpers/registry-cli.js';

describe('registry healthcheck', () => {
  let dir: string;
  let plain: TestRegistry;
  let tls: TestRegistry;
  let tlsFiles: { certificate: string; key: string };
  let htpasswd: string;

  const portOf = (registry: TestRegistry) => Number(new URL(registry.url).port);
  /** A config file as bootstrap renders it for the registry listening on `port`. */
  const configFile = async (name: string, http: string) => {
    const path = join(dir, `${name}.yml`);
    await writeFile(path, `version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\nhttp:\n${http}`);
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'healthcheck-'));
    const { certPath, keyPath } = await keygen(join(dir, 'tls'), { bits: 2048, commonName: 'registry' });
    tlsFiles = { certificate: certPath, key: keyPath };
    htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `alice:${await bcrypt.hash('wonderland', 4)}\n`);
    plain = await startTestRegistry({ config: { http: { prefix: '/mirror/' } } });
    tls = await startTestRegistry({ config: { http: { tls: tlsFiles }, auth: { htpasswd: { realm: 'r', path: htpasswd } } } });
  });
  after(async () => {
    await plain?.stop();
    await tls?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a plain registry on a wildcard address, port not 5000, under a prefix: exit 0 on its 200', async () => {
    const port = portOf(plain);
    expect(port).to.not.equal(5000);
    const { code, stdout, stderr } = await runRegistry(['healthcheck', await configFile('plain', `  addr: :${port}\n  prefix: /mirror/\n`)]);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.equal(`healthy: GET http://127.0.0.1:${port}/mirror/v2/ answered 200\n`);
  });

  it('a TLS registry with its own self-signed certificate and auth on: exit 0 on its 401', async () => {
    const port = portOf(tls);
    const http = `  addr: 127.0.0.1:${port}\n  tls:\n    certificate: ${tlsFiles.certificate}\n    key: ${tlsFiles.key}\n`;
    const { code, stdout, stderr } = await runRegistry(['healthcheck', await configFile('tls', http)]);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.equal(`healthy: GET https://127.0.0.1:${port}/v2/ answered 401\n`);
  });

  it('a prefix the registry does not serve: exit 1, one line with the status', async () => {
    const port = portOf(plain);
    const { code, stderr } = await runRegistry(['healthcheck', await configFile('wrong-prefix', `  addr: 127.0.0.1:${port}\n  prefix: /other/\n`)]);
    expect(code).to.equal(1);
    expect(stderr).to.equal(`registry: unhealthy: GET http://127.0.0.1:${port}/other/v2/ answered 404, expected 200 or 401\n`);
  });

  it('a stopped registry: exit 1, one line naming the refused connection', async () => {
    const stopped = await startTestRegistry();
    const port = portOf(stopped);
    await stopped.stop();
    const { code, stderr } = await runRegistry(['healthcheck', await configFile('stopped', `  addr: 127.0.0.1:${port}\n`)]);
    expect(code).to.equal(1);
    expect(stderr).to.equal(`registry: unhealthy: GET http://127.0.0.1:${port}/v2/: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it('a config that cannot be read or is not valid: exit 1, one line', async () => {
    const missing = await runRegistry(['healthcheck', join(dir, 'absent.yml')]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.contain('unhealthy:').and.to.contain('absent.yml');
    const invalid = await runRegistry(['healthcheck', await configFile('invalid', '  addr: nowhere\n  draintimeout: soon\n')]);
    expect(invalid.code).to.equal(1);
    expect(invalid.stderr.trim().split('\n')).to.have.length(1);
    expect(invalid.stderr).to.match(/unhealthy: .*http\.addr.*\(and \d+ more problems?\)/);
    const usage = await runRegistry(['healthcheck']);
    expect(usage.code).to.equal(1);
    expect(usage.stderr).to.contain('usage: registry healthcheck <config.yml>');
  });
});
