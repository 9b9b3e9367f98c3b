// How many workers `registry serve` runs when http.workers is unset: one per core it may use. Node's count of cores
// follows the CPU set (taskset, docker --cpuset-cpus) but not a CPU quota (docker --cpus, Kubernetes limits), which
// would start a worker per core of the host in a container allowed two, each holding its own memory.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Whole CPUs a cgroup quota allows (v2 cpu.max "200000 100000", v1 cfs_quota_us/cfs_period_us), rounded up; none: undefined. */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(`${root}/${path}`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('cpu.max')?.split(/\s+/);
  const [quota, period] = v2 ?? [read('cpu/cpu.cfs_quota_us'), read('cpu/cpu.cfs_period_us')];
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? Math.ceil(cpus) : undefined;
}

/** http.workers, or one per usable core. */
export function workerCount(configured: number | undefined): number {
  return configured ?? Math.max(1, Math.min(availableParallelism(), cgroupCpuLimit() ?? Infinity));
}
