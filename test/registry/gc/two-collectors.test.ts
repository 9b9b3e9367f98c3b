// Two `registry garbage-collect` started at once on one storage: one collects, the other waits for it, naming it,
// and collects after it; with --no-wait the second exits 75 naming the one that runs.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../helpers/oci.js';
import { makeTempDir, writeDistributionConfig } from '../../helpers/processes.js';
import { REGISTRY_CLI } from '../../helpers/registry-cli.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { seedRegistry } from './fixtures.js';

interface Collector {
  pid: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() when its registration was printed, and when it exited. */
  registeredAt?: number;
  exitedAt: number;
}

/** Runs a collector to its exit, noting when it registered its collection (it holds the lease by then). */
function collector(args: string[]): { pid: number; registered: Promise<void>; done: Promise<Collector> } {
  const child = spawn(process.execPath, [REGISTRY_CLI, 'garbage-collect', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = { pid: child.pid as number, code: null as number | null, stdout: '', stderr: '', exitedAt: 0 } as Collector;
  let onRegistered: () => void = () => undefined;
  const registered = new Promise<void>((resolve) => (onRegistered = resolve));
  child.stdout.on('data', (chunk: Buffer) => (result.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    result.stderr += chunk.toString('utf8');
    if (result.registeredAt === undefined && result.stderr.includes('registered;')) {
      result.registeredAt = performance.now();
      onRegistered();
    }
  });
  const done = new Promise<Collector>((resolve) =>
    child.once('close', (code) => {
      result.code = code;
      result.exitedAt = performance.now();
      resolve(result);
    }),
  );
  return { pid: result.pid, registered, done };
}

describe('gc online: two collectors started at once', function () {
  this.timeout(120_000);
  let dir: string;
  let config: string;

  before(async () => {
    dir = await makeTempDir('two-collectors');
    const root = join(dir, 'storage');
    const registry = await startTestRegistry({ rootDir: root });
    try {
      await seedRegistry(new Client(registry.url));
    } finally {
      await registry.stop();
    }
    config = await writeDistributionConfig(dir, { rootDir: root });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('one collects while the other says it waits for it, naming it, then collects once the first is done', async () => {
    const [a, b] = [collector([config]), collector([config])];
    const runs = await Promise.all([a.done, b.done]);
    for (const run of runs) expect(run.code, run.stderr).to.equal(0);
    // Two claims made at the same instant may both back off once; then one of them takes the lease.
    const [first, second] = [...runs].sort((x, y) => (x.registeredAt as number) - (y.registeredAt as number)) as [Collector, Collector];
    expect(second.stderr).to.match(new RegExp(`waiting for another collection to finish: lease gc held by [A-Za-z0-9]+-${first.pid}-[0-9a-f]{6}, which lapses at \\d{4}-`));
    expect(second.registeredAt, 'the second registered only after the first ended').to.be.greaterThan(first.exitedAt);
    for (const run of runs) expect(run.stdout).to.contain('garbage-collect: took');
  });

  it('with --no-wait, the second exits 75 naming the collector that runs, and deletes nothing', async () => {
    const running = collector([config]);
    await running.registered;
    const second = await collector(['--no-wait', config]).done;
    expect(second.code, second.stderr).to.equal(75);
    expect(second.stderr).to.match(new RegExp(`another collection is running: lease gc held by [A-Za-z0-9]+-${running.pid}-[0-9a-f]{6}.*not waiting \\(--no-wait\\)`));
    expect(second.stdout).to.equal('');
    expect((await running.done).code).to.equal(0);
  });
});
