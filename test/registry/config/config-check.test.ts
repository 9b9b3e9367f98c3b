// `registry config-check` as an SA runs it: a config the registry could not start with is never "valid", and the
// warnings sit right above the verdict, after the printed config, not above it.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeygenResult } from '../../../console-auth/src/keys.js';
import { REGISTRY_CLI, runRegistry } from '../../helpers/registry-cli.js';
import { makeKeyPairDir } from './key-pairs.js';

/** stdout and stderr through one pipe, in the order the command wrote them, as a terminal shows them. */
function interleaved(args: string[]): Promise<{ code: number; lines: string[] }> {
  const quoted = [process.execPath, REGISTRY_CLI, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve) =>
    execFile('sh', ['-c', `${quoted} 2>&1`], (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, lines: stdout.trimEnd().split('\n') })),
  );
}

describe('registry config-check', () => {
  let dir: string;
  let pair: KeygenResult;
  let other: KeygenResult;
  let storage: string;

  before(async () => {
    let root: string;
    ({ dir, pair, other, root } = await makeKeyPairDir('config-check'));
    storage = `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const configFile = async (name: string, sections: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, storage + sections);
    return path;
  };
  const token = (fields: string) => `auth:\n  token:\n    realm: https://auth.example/token\n    service: s\n    issuer: i\n${fields}`;

  it('a config the registry could not start with: NOT valid, exit 1, each file named with its key', async () => {
    const path = await configFile(
      'files.yml',
      token('    rootcertbundle: /nonexistent/server.pem\n    jwks: /dev/null\n') +
        `http:\n  tls:\n    certificate: ${pair.certPath}\n    key: ${other.keyPath}\n    clientcas: [/nonexistent/ca.pem]\n`,
    );
    const { code, stdout, stderr } = await runRegistry(['config-check', path]);
    expect(code, stderr).to.equal(1);
    expect(stdout).to.contain('version: "0.1"');
    expect(stderr.trimEnd().split('\n')).to.deep.equal([
      'error: auth.token.rootcertbundle: /nonexistent/server.pem cannot be read (ENOENT)',
      'error: auth.token.jwks: /dev/null is a character device, not a regular file',
      `error: http.tls.key: ${other.keyPath} is not the key of the certificate in ${pair.certPath} (CN=console-auth token signer): the https server would refuse the pair`,
      'error: http.tls.clientcas[0]: /nonexistent/ca.pem cannot be read (ENOENT)',
      `${path}: NOT valid (4 errors); the registry would refuse to start`,
    ]);
  });

  it('a missing htpasswd file: NOT valid, exit 1', async () => {
    const path = await configFile('htpasswd.yml', 'auth:\n  htpasswd: {realm: Registry, path: /nonexistent/htpasswd}\n');
    const { code, stderr } = await runRegistry(['config-check', path]);
    expect(code).to.equal(1);
    expect(stderr).to.equal(`error: auth.htpasswd.path: /nonexistent/htpasswd cannot be read (ENOENT)\n${path}: NOT valid (1 error); the registry would refuse to start\n`);
  });

  it('a config whose every file is good: valid, exit 0', async () => {
    const path = await configFile('good.yml', `${token(`    rootcertbundle: ${pair.certPath}\n`)}http:\n  tls:\n    certificate: ${pair.certPath}\n    key: ${pair.keyPath}\n`);
    const { code, stderr } = await runRegistry(['config-check', path]);
    expect(code, stderr).to.equal(0);
    expect(stderr).to.equal(`${path}: valid\n`);
  });

  it('prints the warnings after the config, right above the verdict, and exits 0 without --strict', async () => {
    const path = await configFile('warned.yml', 'http:\n  addres: :5001\nnotifications: {}\n');
    const { code, lines } = await interleaved(['config-check', path]);
    expect(code).to.equal(0);
    expect(lines.length).to.be.above(30);
    expect(lines.slice(-3)).to.deep.equal([
      'warning: unknown key http.addres (did you mean addr?); ignored [line 6]',
      'warning: notifications: not supported by this registry; no events are sent [line 7]',
      `${path}: valid, with 2 warnings (--strict refuses them)`,
    ]);
    expect(lines.slice(0, -3).some((line) => line.startsWith('warning:'))).to.equal(false);
  });

  it('--strict makes warnings fail with exit 1, and passes a config without any', async () => {
    const warned = await configFile('strict.yml', 'http:\n  addres: :5001\n');
    const strict = await runRegistry(['config-check', '--strict', warned]);
    expect(strict.code).to.equal(1);
    expect(strict.stderr).to.equal(`warning: unknown key http.addres (did you mean addr?); ignored [line 6]\n${warned}: NOT valid under --strict (1 warning)\n`);
    const clean = await configFile('clean.yml', '');
    expect((await runRegistry(['config-check', clean, '--strict'])).code).to.equal(0);
  });

  it('a config that does not validate: its errors and warnings together above the verdict, no config printed', async () => {
    const path = await configFile('invalid.yml', 'http:\n  draintimeout: soon\n  addres: :5001\n');
    const { code, stdout, stderr } = await runRegistry(['config-check', path]);
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.equal(
      'error: http.draintimeout: "soon" is not a duration (use e.g. 30s, 5m) [line 6]\n' +
        'warning: unknown key http.addres (did you mean addr?); ignored [line 7]\n' +
        `${path}: NOT valid (1 error, 1 warning); the registry would refuse to start\n`,
    );
  });

  it('refuses an unknown flag, a missing file argument and extra arguments with the usage (exit 2)', async () => {
    const path = await configFile('args.yml', '');
    for (const args of [['--stric', path], [], [path, 'extra']]) {
      const { code, stderr } = await runRegistry(['config-check', ...args]);
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr).to.contain('usage: registry config-check [--strict] <config.yml>');
    }
  });
});
