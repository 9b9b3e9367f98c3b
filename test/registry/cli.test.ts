// The registry command as an SA runs it: --version, config-check, serve with a graceful SIGTERM, and arguments
// refused with the usage.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpReady, startNodeProcess } from '../helpers/processes.js';
import { REGISTRY_CLI, runRegistry as registry, type CommandRun } from '../helpers/registry-cli.js';

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

  describe('arguments', () => {
    let config: string;
    before(async () => {
      config = join(dir, 'args.yml');
      await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'args-data')}\nhttp:\n  addr: 127.0.0.1:0\n`);
    });

    /** Exit 2 with the command's usage, and nothing started or read. */
    function expectRefused(run: CommandRun, command: string, why: RegExp): void {
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(why);
      expect(run.stderr).to.contain(`usage: registry ${command} `);
      expect(run.stderr).to.not.match(/\n\s+at /);
    }

    it('serve --port 5001 cfg.yml is refused with the usage instead of reading "--port" as the config file', async () => {
      const run = await registry(['serve', '--port', '5001', config], {}, { timeoutMs: 20_000 });
      expectRefused(run, 'serve', /Unknown option '--port'/);
    });

    it('every subcommand refuses an unknown flag with its usage', async () => {
      const commands = ['serve', 'config-check', 'garbage-collect', 'list', 'du', 'prune', 'migrate'];
      const runs = await Promise.all(commands.map((command) => registry([command, '--bogus', config], {}, { timeoutMs: 20_000 })));
      commands.forEach((command, i) => expectRefused(runs[i] as CommandRun, command, /Unknown option '--bogus'/));
    });

    it('every subcommand refuses more arguments than it takes', async () => {
      const extra: [string, string[]][] = [
        ['serve', [config, config]],
        ['config-check', [config, 'extra']],
        ['garbage-collect', [config, 'extra']],
        ['du', [config, 'extra']],
        ['list', ['repo', config, 'extra']],
        ['prune', ['--keep', '5', config, 'extra']],
        ['migrate', [config, config, 'extra']],
      ];
      const runs = await Promise.all(extra.map(([command, args]) => registry([command, ...args], {}, { timeoutMs: 20_000 })));
      extra.forEach(([command], i) => expectRefused(runs[i] as CommandRun, command, /expected/));
    });

    it('serve and config-check without a config file say one is required', async () => {
      for (const command of ['serve', 'config-check']) expectRefused(await registry([command]), command, /a config file is required/);
    });

    it('--help after a subcommand prints its usage and exits 0; --version takes no arguments', async () => {
      const help = await registry(['serve', '--help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.contain('usage: registry serve <config.yml>');
      const version = await registry(['--version', 'extra']);
      expect(version.code).to.equal(2);
      expect(version.stderr).to.contain('takes no arguments');
    });
  });
});
