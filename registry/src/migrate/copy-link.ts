// Writes one link file at the destination unless it already names the digest, so a rerun writes nothing twice.
import type { Digest } from '../storage/digest.js';
import type { StorageDriver } from '../storage/driver/driver.js';
import { linkPointsAt, writeLink } from '../storage/links.js';

export async function copyLink(dest: StorageDriver, path: string, digest: Digest, dryRun: boolean): Promise<'written' | 'unchanged'> {
  if (await linkPointsAt(dest, path, digest)) return 'unchanged';
  if (!dryRun) await writeLink(dest, path, digest);
  return 'written';
}
