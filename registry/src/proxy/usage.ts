// When mirrored tags and manifests were last pulled, kept in storage (_mirror/, see storage/paths.ts) so proxy.ttl
// counts across restarts and replicas: one small file per tag and per revision whose modification time, written by
// the storage itself, is the last use. Rewritten at most once per interval per process, so a hot tag costs a pull
// no write.
import type { UpstreamConfig } from '../config/types.js';
import { BoundedMap } from '../storage/bounded-map.js';
import { DigestError, parseDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';

/** Also the longest a use can go unrecorded, so a record is at most this much older than the last pull. */
const MAX_REWRITE_INTERVAL_MS = 3_600_000;

export type UseRecord = { name: string; lastUsed: number; path: string } & ({ tag: string; digest?: undefined } | { digest: Digest; tag?: undefined });

function rewriteInterval(upstream: UpstreamConfig): number {
  return upstream.ttl === 0 ? Number.POSITIVE_INFINITY : Math.min(upstream.ttl / 10, MAX_REWRITE_INTERVAL_MS);
}

export class UsageRecords {
  private readonly written = new BoundedMap<string, number>(50_000);

  constructor(private readonly driver: StorageDriver) {}

  touchTag(name: string, tag: string, upstream: UpstreamConfig): Promise<void> {
    return this.touch(paths.mirrorTagUse(name, tag), upstream);
  }

  touchRevision(name: string, digest: Digest, upstream: UpstreamConfig): Promise<void> {
    return this.touch(paths.mirrorRevisionUse(name, digest), upstream);
  }

  private async touch(path: string, upstream: UpstreamConfig): Promise<void> {
    const last = this.written.get(path);
    if (last !== undefined && Date.now() - last < rewriteInterval(upstream)) return;
    this.written.set(path, Date.now());
    await this.driver.putContent(path, Buffer.from(`${upstream.remoteurl}\n`));
  }
}

/** The record a _mirror/ path holds, or undefined for anything else there. */
function parseRecord(path: string, lastUsed: number): UseRecord | undefined {
  const relative = path.slice(paths.mirrorRoot.length + 1);
  const tagAt = relative.lastIndexOf('/_tags/');
  if (tagAt > 0) return { name: relative.slice(0, tagAt), tag: relative.slice(tagAt + '/_tags/'.length), lastUsed, path };
  const match = /^(.+)\/_revisions\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(relative);
  if (match === null) return undefined;
  try {
    return { name: match[1], digest: parseDigest(`${match[2]}:${match[3]}`), lastUsed, path };
  } catch (err) {
    if (err instanceof DigestError) return undefined;
    throw err;
  }
}

/** Every use record in storage. */
export async function listUses(driver: StorageDriver): Promise<UseRecord[]> {
  const records: UseRecord[] = [];
  try {
    await driver.walk(paths.mirrorRoot, (info) => {
      if (info.isDir) return;
      const record = parseRecord(info.path, info.modTime.getTime());
      if (record) records.push(record);
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return records;
}

/** Whether the pull-through cache filled the repository, and eviction has not emptied it since. */
export async function isMirrored(driver: StorageDriver, name: string): Promise<boolean> {
  let found = false;
  const visit = (info: { isDir: boolean }) => {
    if (!info.isDir) found = true;
    return found ? 'skip' : undefined;
  };
  for (const root of [paths.mirrorTagsRoot(name), paths.mirrorRevisionsRoot(name)]) {
    try {
      await driver.walk(root, visit);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (found) return true;
  }
  return false;
}
