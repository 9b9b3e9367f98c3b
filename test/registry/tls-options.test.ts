// `registry serve` with http.tls files it cannot use: one line naming the setting and the file, exit 1, no stack
// trace, and no process left behind.
import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makePki } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/processes.js';
import { runRegistry, type CommandRun } from '../helpers/registry-cli.js';

describe('registry serve: http.tls files', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('tls-options');
    await makePki(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function serve(tls: Record<string, string | string[]>): Promise<CommandRun> {
    const file = join(dir, 'config.yml');
    await writeFile(file, `version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\nhttp:\n  addr: 127.0.0.1:0\n  tls: ${JSON.stringify(tls)}\n`);
    return runRegistry(['serve', file], {}, { timeoutMs: 20_000 });
  }

  function expectExplained(run: CommandRun, ...parts: string[]): void {
    expect(run.code, run.stderr).to.equal(1);
    for (const part of parts) expect(run.stderr).to.contain(part);
    expect(run.stderr).to.not.match(/\n\s+at /);
  }

  it('a certificate file that does not exist names http.tls.certificate and the path', async () => {
    const missing = join(dir, 'missing.pem');
    expectExplained(await serve({ certificate: missing, key: join(dir, 'server.key') }), 'http.tls.certificate', missing, 'ENOENT');
  });

  it('a key that does not belong to the certificate says so', async () => {
    expectExplained(await serve({ certificate: join(dir, 'server.pem'), key: join(dir, 'client.key') }), 'http.tls', 'the key does not belong to the certificate');
  });

  it('a clientcas file that does not exist names its index', async () => {
    const missing = join(dir, 'no-ca.pem');
    expectExplained(await serve({ certificate: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientcas: [join(dir, 'ca.pem'), missing] }), 'http.tls.clientcas[1]', missing);
  });
});
