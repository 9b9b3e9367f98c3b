// How many workers serve when http.workers is unset: the cores, or fewer when a cgroup CPU quota allows fewer.
import { expect } from 'chai';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cgroupCpuLimit, workerCount } from '../../../registry/src/cluster/worker-count.js';
import { makeTempDir } from '../../helpers/processes.js';

describe('cluster: worker count', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('cgroup');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads a cgroup v2 quota as whole CPUs, rounded up', async () => {
    await writeFile(join(root, 'cpu.max'), '150000 100000\n');
    expect(cgroupCpuLimit(root)).to.equal(2);
  });

  it('reads a cgroup v1 quota the same way', async () => {
    await mkdir(join(root, 'cpu'));
    await writeFile(join(root, 'cpu/cpu.cfs_quota_us'), '400000\n');
    await writeFile(join(root, 'cpu/cpu.cfs_period_us'), '100000\n');
    expect(cgroupCpuLimit(root)).to.equal(4);
  });

  it('finds no limit where there is no quota ("max", -1) or no cgroup file', async () => {
    expect(cgroupCpuLimit(root)).to.equal(undefined);
    await writeFile(join(root, 'cpu.max'), 'max 100000\n');
    expect(cgroupCpuLimit(root)).to.equal(undefined);
    await rm(join(root, 'cpu.max'));
    await mkdir(join(root, 'cpu'));
    await writeFile(join(root, 'cpu/cpu.cfs_quota_us'), '-1\n');
    await writeFile(join(root, 'cpu/cpu.cfs_period_us'), '100000\n');
    expect(cgroupCpuLimit(root)).to.equal(undefined);
  });

  it('takes http.workers as written, else at most one per core', () => {
    expect(workerCount(3)).to.equal(3);
    expect(workerCount(undefined)).to.be.within(1, availableParallelism());
  });
});
