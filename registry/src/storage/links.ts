// Link files: a digest written as text, the way distribution marks what a repository holds.
import { DigestError, formatDigest, parseDigest, sameDigest, type Digest } from './digest.js';
import { isNotFound, type StorageDriver } from './driver/driver.js';
import { lastPathElement } from './paths.js';

export async function readLink(driver: StorageDriver, path: string): Promise<Digest | undefined> {
  let content: Buffer;
  try {
    content = await driver.getContent(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    return parseDigest(content.toString('utf8').trim());
  } catch (err) {
    if (err instanceof DigestError) throw new Error(`corrupt link file ${path}: ${err.message}`);
    throw err;
  }
}

/** Whether the link at path exists and names digest: how a repository says it holds a blob or manifest. */
export async function linkPointsAt(driver: StorageDriver, path: string, digest: Digest): Promise<boolean> {
  const target = await readLink(driver, path);
  return target !== undefined && sameDigest(target, digest);
}

export async function writeLink(driver: StorageDriver, path: string, digest: Digest): Promise<void> {
  await driver.putContent(path, Buffer.from(formatDigest(digest)));
}

export async function deleteIfExists(driver: StorageDriver, path: string): Promise<boolean> {
  try {
    await driver.delete(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Lists the digests of a directory laid out as <algorithm>/<hex>/..., as _layers and revisions are. */
export async function listDigestDirs(driver: StorageDriver, root: string): Promise<Digest[]> {
  const found: Digest[] = [];
  let algorithms: string[];
  try {
    algorithms = await driver.list(root);
  } catch (err) {
    if (isNotFound(err)) return found;
    throw err;
  }
  for (const algorithmDir of algorithms) {
    const algorithm = lastPathElement(algorithmDir);
    let hexes: string[];
    try {
      hexes = await driver.list(algorithmDir);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    for (const hexDir of hexes) {
      const hex = lastPathElement(hexDir);
      try {
        found.push(parseDigest(`${algorithm}:${hex}`));
      } catch (err) {
        // A stray directory is not ours to interpret; skipping it keeps listing robust.
        if (!(err instanceof DigestError)) throw err;
      }
    }
  }
  return found;
}
