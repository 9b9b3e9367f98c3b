// checkFiles: every file a config names, read the way `registry serve` reads it. Each case is a config the validator
// accepts and the registry could not start with (or, for clientcas, could not use).
import { expect } from 'chai';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeygenResult } from '../../../console-auth/src/keys.js';
import { checkFiles } from '../../../registry/src/config/files.js';
import type { Config } from '../../../registry/src/config/types.js';
import { makeKeyPairDir } from './key-pairs.js';
import { load } from './parse.js';

describe('config: checkFiles', () => {
  let dir: string;
  let pair: KeygenResult;
  let other: KeygenResult;
  let root: string;

  before(async () => {
    ({ dir, pair, other, root } = await makeKeyPairDir('config-files'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const file = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  /** A config on a real storage root, with the sections given (distribution's YAML). */
  const config = (sections: string): Config => load(`version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n${sections}`).config;
  const token = (fields: string) => config(`auth:\n  token:\n    realm: https://auth.example/token\n    service: s\n    issuer: i\n${fields}`);
  const tls = (fields: string) => config(`http:\n  tls:\n${fields}`);
  const messages = async (c: Config) => (await checkFiles(c)).map((problem) => problem.message);

  it('finds nothing wrong when every file is what serve reads', async () => {
    const jwks = await file('ok.jwks', JSON.stringify({ keys: [] }));
    const htpasswd = await file('htpasswd', 'user:$2y$05$abcdefghijklmnopqrstuuO0cJ1wkGgGvJ1jA6nDRyqUKhR7.Gmi6\n');
    expect(await messages(token(`    rootcertbundle: ${pair.certPath}\n    jwks: ${jwks}\n`))).to.deep.equal([]);
    expect(await messages(config(`auth:\n  htpasswd: {realm: r, path: ${htpasswd}}\n`))).to.deep.equal([]);
    expect(await messages(tls(`    certificate: ${pair.certPath}\n    key: ${pair.keyPath}\n    clientcas: [${other.certPath}]\n`))).to.deep.equal([]);
  });

  it('a missing rootcertbundle', async () => {
    const missing = join(dir, 'missing.pem');
    expect(await messages(token(`    rootcertbundle: ${missing}\n`))).to.deep.equal([`auth.token.rootcertbundle: ${missing} cannot be read (ENOENT)`]);
  });

  it('a rootcertbundle that holds no certificate, or is a directory', async () => {
    const notPem = await file('not.pem', 'hello');
    expect(await messages(token(`    rootcertbundle: ${notPem}\n`))).to.deep.equal([
      `auth.token.rootcertbundle: ${notPem} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----" blocks)`,
    ]);
    expect(await messages(token(`    rootcertbundle: ${dir}\n`))).to.deep.equal([`auth.token.rootcertbundle: ${dir} is a directory, not a regular file`]);
  });

  it('jwks: /dev/null, which made the registry refuse to start, and /dev/zero, which would be read without end', async () => {
    for (const device of ['/dev/null', '/dev/zero']) {
      expect(await messages(token(`    rootcertbundle: ${pair.certPath}\n    jwks: ${device}\n`))).to.deep.equal([
        `auth.token.jwks: ${device} is a character device, not a regular file`,
      ]);
    }
  });

  it('a jwks that is empty, not JSON, or not a key set', async () => {
    const empty = await file('empty.jwks', '');
    const notSet = await file('not-set.jwks', '{"kty":"RSA"}');
    expect(await messages(token(`    rootcertbundle: ${pair.certPath}\n    jwks: ${empty}\n`))).to.deep.equal([
      `auth.token.jwks: ${empty} is not JSON: Unexpected end of JSON input`,
    ]);
    expect(await messages(token(`    rootcertbundle: ${pair.certPath}\n    jwks: ${notSet}\n`))).to.deep.equal([
      `auth.token.jwks: ${notSet} is not a JSON Web Key Set (no "keys" array)`,
    ]);
  });

  it('every problem at once: a missing bundle and a bad jwks', async () => {
    const missing = join(dir, 'gone.pem');
    expect(await messages(token(`    rootcertbundle: ${missing}\n    jwks: /dev/null\n`))).to.deep.equal([
      `auth.token.rootcertbundle: ${missing} cannot be read (ENOENT)`,
      'auth.token.jwks: /dev/null is a character device, not a regular file',
    ]);
  });

  it('a file larger than any certificate or key set, without reading it', async () => {
    const huge = join(dir, 'huge.pem');
    await writeFile(huge, '');
    await truncate(huge, 17 * 1024 * 1024);
    expect(await messages(token(`    rootcertbundle: ${huge}\n`))).to.deep.equal([`auth.token.rootcertbundle: ${huge} is 17825792 bytes long; at most 16777216 are read`]);
  });

  it('a missing or directory htpasswd file', async () => {
    const missing = join(dir, 'no-htpasswd');
    expect(await messages(config(`auth:\n  htpasswd: {realm: r, path: ${missing}}\n`))).to.deep.equal([`auth.htpasswd.path: ${missing} cannot be read (ENOENT)`]);
    expect(await messages(config(`auth:\n  htpasswd: {realm: r, path: ${dir}}\n`))).to.deep.equal([`auth.htpasswd.path: ${dir} is a directory, not a regular file`]);
  });

  it('a missing TLS certificate and key, both named', async () => {
    const [cert, key] = [join(dir, 'no-cert.pem'), join(dir, 'no-key.pem')];
    expect(await messages(tls(`    certificate: ${cert}\n    key: ${key}\n`))).to.deep.equal([
      `http.tls.certificate: ${cert} cannot be read (ENOENT)`,
      `http.tls.key: ${key} cannot be read (ENOENT)`,
    ]);
  });

  it('a TLS key that is not the key of the certificate', async () => {
    expect(await messages(tls(`    certificate: ${pair.certPath}\n    key: ${other.keyPath}\n`))).to.deep.equal([
      `http.tls.key: ${other.keyPath} is not the key of the certificate in ${pair.certPath} (CN=console-auth token signer): the https server would refuse the pair`,
    ]);
  });

  it('a TLS key file that holds no key, and a certificate file that holds a key', async () => {
    const garbage = await file('garbage.key', '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n');
    const problems = await messages(tls(`    certificate: ${pair.keyPath}\n    key: ${garbage}\n`));
    expect(problems).to.have.length(2);
    expect(problems[0]).to.equal(`http.tls.certificate: ${pair.keyPath} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----" blocks)`);
    expect(problems[1]).to.match(new RegExp(`^http\\.tls\\.key: ${garbage} holds no usable private key: `));
  });

  it('each missing client CA file, by its index', async () => {
    const missing = join(dir, 'no-ca.pem');
    expect(await messages(tls(`    certificate: ${pair.certPath}\n    key: ${pair.keyPath}\n    clientcas: [${other.certPath}, ${missing}]\n`))).to.deep.equal([
      `http.tls.clientcas[1]: ${missing} cannot be read (ENOENT)`,
    ]);
  });

  it('a filesystem rootdirectory that is a file', async () => {
    const notDir = await file('not-a-dir', '');
    const c = config('');
    c.storage.driver = { type: 'filesystem', filesystem: { rootdirectory: notDir, maxthreads: 100 } };
    expect(await messages(c)).to.deep.equal([`storage.filesystem.rootdirectory: ${notDir} is not a directory: point it at a directory`]);
  });
});
