// The last config that rendered and validated, kept beside the registry's data so that a restart while etcd is down
// still brings the registry up as it was.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LAST_GOOD_FILE = 'last-good.yml';

export interface LastGood {
  path: string;
  text: string;
  savedAt: Date;
}

/** Written to a temp file and renamed, so a crash mid-write leaves the previous last-good in place. */
export async function saveLastGood(stateDir: string, text: string): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LAST_GOOD_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  // The rendered config may hold storage secrets.
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, path);
  return path;
}

export async function loadLastGood(stateDir: string): Promise<LastGood | undefined> {
  const path = join(stateDir, LAST_GOOD_FILE);
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { path, text, savedAt: info.mtime };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
