// A collector killed with kill -9 at random moments (starting, in its grace, marking, sweeping) leaves a registry that
// is correct and collectable: run again, it converges to the state an uninterrupted run reaches on a copy.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { paths } from '../../../registry/src/storage/paths.js';
import { Client } from '../../helpers/oci.js';
import { makeTempDir, writeDistributionConfig } from '../../helpers/processes.js';
import { REGISTRY_CLI, runRegistry } from '../../helpers/registry-cli.js';
import { startTestRegistry } from '../../helpers/registry.js';
import { diskPut, writeLayout } from '../../helpers/registry-layout.js';
import { pullVerified, seedRegistry, snapshotTree } from './fixtures.js';

const execFileAsync = promisify(execFile);
const COLLECT = ['garbage-collect', '--delete-untagged', '--min-age', '0s'];

type Moment = 'starting' | 'grace' | 'marking' | 'sweeping';

interface Killed {
  moment: Moment;
  pid: number;
  /** The signal it ended with: SIGKILL unless it finished before its moment came. */
  signal: NodeJS.Signals | null;
}

/**
 * Starts a collector and kills it with SIGKILL at `moment`, a random time after what its output shows: the start, its
 * registration, the first progress line of the mark, the first deletion.
 */
async function killAt(config: string, moment: Moment): Promise<Killed> {
  const child = spawn(process.execPath, [REGISTRY_CLI, ...COLLECT, config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const sign = { starting: '', grace: 'registered;', marking: 'marking:', sweeping: 'deleting ' }[moment];
  // A sweep killed late leaves the next sweeps little to do; kill them early so that each is cut while deleting.
  const jitter = { starting: 600, grace: 4000, marking: 100, sweeping: 40 }[moment];
  const done = exited.then(() => true);
  while (!output.includes(sign) && !(await Promise.race([done, sleep(20, false)]))) continue;
  await Promise.race([done, sleep(Math.random() * jitter)]);
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return { moment, pid, signal: await exited };
}

/** Every file of the registry's content: blobs and repositories, not the collectors' and the coordination's own. */
async function content(root: string): Promise<Map<string, string>> {
  const own = [paths.collectionsRoot, paths.collectionsWorkRoot, paths.coordRoot].map((p) => p.slice(1));
  const files = await snapshotTree(root);
  for (const path of files.keys()) if (own.some((prefix) => path.startsWith(prefix))) files.delete(path);
  return files;
}

describe('gc online: a collector killed with kill -9', function () {
  this.timeout(240_000);

  it('10 times at random moments, then run again: the registry converges to what an uninterrupted run leaves, and every image kept pulls intact', async function () {
    const dir = await makeTempDir('gc-kill');
    try {
      const seed = join(dir, 'seed');
      const registry = await startTestRegistry({ rootDir: seed });
      const seeded = await seedRegistry(new Client(registry.url));
      expect((await new Client(registry.url).request('DELETE', `/v2/app/manifests/${seeded.v1.digest}`)).status).to.equal(202);
      await registry.stop();
      // Enough garbage that the sweep lasts a while: about 1000 blobs and 130 manifests to delete.
      await writeLayout(diskPut(seed), { repositories: 10, manifests: 20, layers: 4, tagEvery: 3, deleteEvery: 4, layerSize: 64, seed: 'kill' });
      const [whole, killed] = [join(dir, 'whole'), join(dir, 'killed')];
      for (const copy of [whole, killed]) await execFileAsync('cp', ['-a', seed, copy]);
      const wholeConfig = await writeDistributionConfig(join(dir), { rootDir: whole });
      const killedDir = await makeTempDir('gc-kill-config');
      const killedConfig = await writeDistributionConfig(killedDir, { rootDir: killed });

      // The uninterrupted run on one copy, while the other sees its collectors killed.
      const uninterrupted = runRegistry([...COLLECT, wholeConfig]);

      const moments: Moment[] = ['starting', 'grace', 'sweeping', 'marking', 'starting', 'grace', 'sweeping', 'starting', 'grace', 'sweeping'];
      const kills: Killed[] = [];
      for (const [i, moment] of moments.entries()) {
        const kill = await killAt(killedConfig, moment);
        kills.push(kill);
        if (i === 1) {
          // Its lease outlives it until the ttl: the next collector names it rather than run beside it.
          const refused = await runRegistry(['garbage-collect', '--no-wait', '--quiet', killedConfig]);
          expect(refused.code, refused.stderr).to.equal(75);
          expect(refused.stderr).to.contain(`-${kill.pid}-`);
        }
        // As its lease lapsing would, 2 minutes later: the next run may start at once.
        await rm(join(killed, paths.leaseDir('gc')), { recursive: true, force: true });
      }
      expect(kills.filter((k) => k.signal === 'SIGKILL').length, JSON.stringify(kills)).to.be.at.least(8);
      expect(kills.filter((k) => k.moment === 'sweeping' && k.signal === 'SIGKILL').length, JSON.stringify(kills)).to.be.at.least(2);

      const rerun = await runRegistry([...COLLECT, killedConfig]);
      expect(rerun.code, rerun.stderr).to.equal(0);
      const first = await uninterrupted;
      expect(first.code, first.stderr).to.equal(0);
      const [expected, actual] = [await content(whole), await content(killed)];
      const differ = [...new Set([...expected.keys(), ...actual.keys()])].filter((path) => expected.get(path) !== actual.get(path));
      expect(differ.slice(0, 20), `${differ.length} files differ`).to.deep.equal([]);

      const after = await startTestRegistry({ rootDir: killed });
      try {
        const client = new Client(after.url);
        for (const [name, tag] of [['app', 'v2'], ['app', 'latest'], ['other', 'v1'], ['multi', 'v1']] as const) await pullVerified(client, name, tag);
        await pullVerified(client, 'app', seeded.signature.digest);
        await pullVerified(client, 'layout/r0000', 'v0');
      } finally {
        await after.stop();
      }
      await rm(killedDir, { recursive: true, force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
