// `registry serve` when its addresses cannot be taken: one line naming the address, the reason and the setting that
// chooses another (the config key and its REGISTRY_* variable), exit 1, no stack trace, and no process left behind.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRegistry, type CommandRun } from '../helpers/registry-cli.js';

async function occupy(): Promise<{ server: Server; addr: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, addr: `127.0.0.1:${port}` };
}

function expectExplained(run: CommandRun, addr: string, setting: string, variable: string): void {
  expect(run.code, run.stderr).to.equal(1);
  expect(run.stderr).to.contain(addr).and.contain(setting).and.contain(variable);
  expect(run.stderr).to.not.match(/\n\s+at /);
}

describe('registry serve: listen failures', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-listen-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function serve(http: string, env: NodeJS.ProcessEnv = {}, prefix?: string[]): Promise<CommandRun> {
    const file = join(dir, 'config.yml');
    await writeFile(file, `version: 0.1\nlog:\n  level: warn\nstorage:\n  inmemory: {acceptdataloss: true}\nhttp:\n${http}`);
    return runRegistry(['serve', file], env, { timeoutMs: 20_000, ...(prefix && { prefix }) });
  }

  it('http.addr already in use says so and names http.addr and REGISTRY_HTTP_ADDR', async () => {
    const taken = await occupy();
    const other = await occupy();
    try {
      const run = await serve(`  addr: ${taken.addr}\n`);
      expectExplained(run, taken.addr, 'http.addr', 'REGISTRY_HTTP_ADDR');
      expect(run.stderr).to.contain('already in use');
      // The variable the message names is the one that moves it: the failure is now about the address it gave.
      const moved = await serve(`  addr: ${taken.addr}\n`, { REGISTRY_HTTP_ADDR: other.addr });
      expectExplained(moved, other.addr, 'http.addr', 'REGISTRY_HTTP_ADDR');
    } finally {
      taken.server.close();
      other.server.close();
    }
  });

  it('http.debug.addr already in use names http.debug.addr and REGISTRY_HTTP_DEBUG_ADDR, and the process ends', async () => {
    const taken = await occupy();
    try {
      const run = await serve(`  addr: 127.0.0.1:0\n  debug:\n    addr: ${taken.addr}\n`);
      expectExplained(run, taken.addr, 'http.debug.addr', 'REGISTRY_HTTP_DEBUG_ADDR');
      expect(run.stderr).to.contain('already in use');
    } finally {
      taken.server.close();
    }
  });

  it('a port below 1024 without the privilege to bind it says what is needed', async () => {
    // As root, drop CAP_NET_BIND_SERVICE so the bind is refused as it is for an unprivileged SA.
    const prefix = process.getuid?.() === 0 ? ['/usr/bin/setpriv', '--bounding-set', '-net_bind_service'] : undefined;
    const run = await serve('  addr: 127.0.0.1:81\n', {}, prefix);
    expectExplained(run, '127.0.0.1:81', 'http.addr', 'REGISTRY_HTTP_ADDR');
    expect(run.stderr).to.contain('below 1024').and.contain('CAP_NET_BIND_SERVICE');
  });

  it('a host that is not an address of this machine says so', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host, so never local.
    const run = await serve('  addr: 192.0.2.1:5000\n');
    expectExplained(run, '192.0.2.1:5000', 'http.addr', 'REGISTRY_HTTP_ADDR');
    expect(run.stderr).to.contain('not an address of this machine');
  });
});
