// Memory of a process from /proc/<pid>/status: VmHWM is the kernel's own peak of the resident set, so no sample
// between polls is missed; VmRSS is the current value, for polling during a transfer. For `registry serve` with
// workers, treeSum adds a figure up over the primary and its workers.
import { readFile, writeFile } from 'node:fs/promises';

async function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** Peak resident set size in bytes since the process started. */
export function peakRss(pid: number): Promise<number> {
  return statusField(pid, 'VmHWM');
}

/** Sets VmHWM back to the current RSS (Linux: "5" to /proc/<pid>/clear_refs), so the next peak is one phase's own. */
export function resetPeakRss(pid: number): Promise<void> {
  return writeFile(`/proc/${pid}/clear_refs`, '5');
}

export function currentRss(pid: number): Promise<number> {
  return statusField(pid, 'VmRSS');
}

export const MiB = 1024 * 1024;

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) the process has used so far, in ms: unlike wall time, other load on the machine barely moves it. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces; utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU time every core of the machine has spent at work so far (user, nice, system, irq, softirq; not idle, iowait or
 * steal), in ms: the registry, its clients and the kernel's work for both.
 */
export async function machineBusyMs(): Promise<number> {
  const [user, nice, system, , , irq, softirq] = ((await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 1000) / TICKS_PER_SECOND;
}

/** The process and its children (a registry's workers), from /proc; a child that just exited is left out. */
export async function treePids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return [pid, ...children.split(' ').filter(Boolean).map(Number)];
}

/** Sums `measure` over the process tree (workers that exit between the listing and the read count as 0). */
export async function treeSum(pid: number, measure: (pid: number) => Promise<number>): Promise<number> {
  const values = await Promise.all((await treePids(pid)).map((p) => measure(p).catch(() => 0)));
  return values.reduce((a, b) => a + b, 0);
}
