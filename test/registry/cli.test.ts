// The registry command as an SA runs it: --version, config-check, serve with a graceful SIGTERM.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { httpReady, startNodeProcess } from '../helpers/processes.js';
import { REGISTRY_CLI } from '../helpers/registry-cli.js';

const run = promisify(execFile);

async function registry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [REGISTRY_CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('registry REGISTRY_CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('--version prints the package version', async () => {
    const { code, stdout } = await registry(['--version']);
    expect(code).to.equal(0);
    expect(stdout).to.match(/^registry \d+\.\d+\.\d+\n$/);
  });

  it('config-check prints the effective config with secrets masked and exits 0', async () => {
    const file = join(dir, 'ok.yml');
    await writeFile(file, 'version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\nhttp:\n  secret: do-not-print-me\n');
    const { code, stdout, stderr } = await registry(['config-check', file], { REGISTRY_LOG_LEVEL: 'debug' });
    expect(code).to.equal(0);
    expect(stdout).to.contain('level: debug');
    expect(stdout).to.not.contain('do-not-print-me');
    expect(stderr).to.contain('valid');
  });

  it('config-check names the key that is wrong and exits 1 without a stack trace', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'version: 0.1\nstorage:\n  inmemory: {acceptdataloss: true}\n  filesystem:\n    rootdirectory: /tmp/x\nhttp:\n  draintimeout: soon\n');
    const { code, stderr } = await registry(['config-check', file]);
    expect(code).to.equal(1);
    expect(stderr).to.contain('storage');
    expect(stderr).to.contain('http.draintimeout');
    expect(stderr).to.not.match(/\n\s+at /);
  });

  it('an unknown command exits 2 with the usage', async () => {
    const { code, stderr } = await registry(['frobnicate']);
    expect(code).to.equal(2);
    expect(stderr).to.contain('usage');
  });

  it('serve answers /v2/ and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'serve.yml');
    await writeFile(file, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:0\n`);
    const { freePort } = await import('../helpers/ports.js');
    const port = await freePort();
    const proc = await startNodeProcess(REGISTRY_CLI, ['serve', file], { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` }, httpReady(`http://127.0.0.1:${port}/v2/`));
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      expect(res.status).to.equal(200);
      process.kill(proc.pid, 'SIGTERM');
      const exit = await proc.exited;
      expect(exit.code).to.equal(0);
    } finally {
      await proc.stop();
    }
  });
});
