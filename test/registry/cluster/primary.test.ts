// `registry serve` with several workers, as an operator meets it: every log line names its worker, SIGTERM drains
// every worker's requests and exits 0, and a worker that cannot start stops the whole start with one line, instead of
// being forked again and again.
import { expect } from 'chai';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pseudoRandomBytes } from '../../helpers/content.js';
import { heldPull, type HeldPull } from '../../helpers/held-pull.js';
import { Client } from '../../helpers/oci.js';
import { makeTempDir, startNodeProcess, stopAll } from '../../helpers/processes.js';
import { REGISTRY_CLI, runRegistry } from '../../helpers/registry-cli.js';
import { registryTreeFor } from '../../helpers/registry-tree.js';
import { connectionOwner } from '../../helpers/socket-owner.js';
import { until } from '../../helpers/until.js';

const MiB = 1024 * 1024;

/** The child pids of a process (its workers), from /proc; rejects once the process is gone. */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.split(' ').filter(Boolean).map(Number);
}

describe('cluster: the primary of registry serve', function () {
  this.timeout(60_000);
  after(stopAll);

  describe('with two workers serving', () => {
    const registryTree = registryTreeFor({ workers: 2, drainTimeout: '30s' });

    it('SIGTERM lets a pull in flight on each worker finish, then every worker exits 0 and so does the primary', async () => {
      const tree = registryTree();
      const client = new Client(tree.url);
      const blob = pseudoRandomBytes('drained', 32 * MiB);
      const digest = await client.pushBlob('cluster/drain', blob);
      const workers = [...(await tree.workers()).values()];
      // node:cluster hands new connections to the workers in turn: open pulls until each worker holds one.
      const pulls = new Map<number, HeldPull>();
      for (let i = 0; i < 8 && pulls.size < workers.length; i++) {
        const pull = await heldPull(`${tree.url}/v2/cluster/drain/blobs/${digest}`);
        const owner = await connectionOwner(tree.port, pull.localPort, workers);
        if (owner !== undefined && !pulls.has(owner)) pulls.set(owner, pull);
        else await pull.finish();
      }
      expect(pulls.size, 'a pull in flight on every worker').to.equal(workers.length);

      process.kill(tree.proc.pid, 'SIGTERM');
      await until(async () => (await tree.logs()).filter((l) => l.msg === 'shutting down' && l.by === 'primary').length === workers.length);
      for (const pull of pulls.values()) expect(await pull.finish()).to.deep.equal({ status: 200, bytes: blob.length, digest });
      expect(await tree.proc.exited).to.deep.equal({ code: 0, signal: null });

      const logs = await tree.logs();
      expect(logs.filter((l) => l.msg === 'worker exited').map((l) => l.code)).to.deep.equal([0, 0]);
      expect(logs.at(-1)).to.deep.include({ worker: 0, msg: 'stopped', code: 0 });
      // Every line names its process: 0 the primary, 1 and 2 the workers.
      expect(logs.every((l) => [0, 1, 2].includes(l.worker as number)), 'worker id on every line').to.equal(true);
      expect(new Set(logs.filter((l) => l.msg === 'request').map((l) => l.worker))).to.deep.equal(new Set([1, 2]));
    });
  });

  it('SIGTERM while the workers are still loading stops them all and exits 0', async () => {
    const dir = await makeTempDir('cluster-early');
    const config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}\nhttp: {addr: "127.0.0.1:0", workers: 2}\n`);
    const proc = await startNodeProcess(REGISTRY_CLI, ['serve', config], {}, async (p) => (await childrenOf(p.pid)).length === 2, { cwd: dir });
    try {
      const workers = await childrenOf(proc.pid);
      process.kill(proc.pid, 'SIGTERM');
      const exit = await Promise.race([proc.exited, sleep(20_000, 'still running')]);
      expect(exit).to.deep.equal({ code: 0, signal: null });
      for (const pid of workers) expect(await childrenOf(pid).then(() => 'running', () => 'gone')).to.equal('gone');
    } finally {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops the start with one line naming http.addr when the workers cannot listen, forking no replacement', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const dir = await makeTempDir('cluster-taken');
    try {
      const { port } = taken.address() as AddressInfo;
      const config = join(dir, 'config.yml');
      await writeFile(config, `version: 0.1\nlog: {formatter: json}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}\nhttp: {addr: "127.0.0.1:${port}", workers: 2}\n`);
      const run = await runRegistry(['serve', config], {}, { timeoutMs: 30_000 });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(
        `registry: http.addr "127.0.0.1:${port}": cannot listen: the address is already in use (another process, or another registry, listens there); choose another address with http.addr in the config file or REGISTRY_HTTP_ADDR\n`,
      );
      expect(run.stdout).to.not.contain('starting another');
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
