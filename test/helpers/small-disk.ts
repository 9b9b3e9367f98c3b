// A real disk that fills up: a tmpfs of a few MiB mounted on a fresh temp dir, for tests of a full disk. Mounting
// needs root, as the suite runs here; without it the helper says so instead of faking the fault.
import { execFile } from 'node:child_process';
import { rm, statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { makeTempDir } from './spawn.js';

const run = promisify(execFile);

export interface SmallDisk {
  dir: string;
  /** Bytes in use on the disk, as df counts them. */
  used(): Promise<number>;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(bytes: number): Promise<SmallDisk> {
  const dir = await makeTempDir('small-disk');
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`mounting a ${bytes}-byte tmpfs for a full-disk test needs root: ${(err as Error).message}`);
  }
  return {
    dir,
    async used() {
      const stats = await statfs(dir);
      return (stats.blocks - stats.bfree) * stats.bsize;
    },
    async unmount() {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
