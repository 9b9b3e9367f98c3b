// One repository as the collector and the inventory commands see it: its manifest revisions with what each one
// references, its tags and its layer links. Read-only; manifests are small and read whole, blobs never are.
import { formatDigest, sameDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { listDigestDirs, readLink } from '../storage/links.js';
import { paths } from '../storage/paths.js';
import { TagStore } from '../storage/tags.js';
import { forEachLimit, STORAGE_CONCURRENCY } from './parallel.js';
import { manifestReferences, UnreadableManifestError, type ManifestReferences } from './references.js';

export interface Revision {
  digest: Digest;
  /** Bytes of the manifest. */
  size: number;
  /** What the manifest references, or why its content could not be read as a manifest. */
  refs: ManifestReferences | UnreadableManifestError;
}

export interface RepositoryContents {
  name: string;
  /** By formatted digest. A revision whose link or content is missing is left out, as distribution's enumerator does. */
  revisions: Map<string, Revision>;
  /** Tag -> the digest its current link names. */
  tags: Map<string, Digest>;
  layerLinks: Digest[];
}

/** A revision of the repository with its references, or undefined when its link or content is missing. */
export async function readRevision(driver: StorageDriver, name: string, digest: Digest): Promise<Revision | undefined> {
  const target = await readLink(driver, paths.revisionLink(name, digest));
  if (!target || !sameDigest(target, digest)) return undefined;
  let content: Buffer;
  try {
    content = await driver.getContent(paths.blobData(digest));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  let refs: Revision['refs'];
  try {
    refs = manifestReferences(content);
  } catch (err) {
    if (!(err instanceof UnreadableManifestError)) throw err;
    refs = err;
  }
  return { digest, size: content.length, refs };
}

/** Reads the whole repository; onRevision is called after each revision read, so a caller can show progress. */
export async function loadRepository(driver: StorageDriver, name: string, onRevision: () => void = () => undefined): Promise<RepositoryContents> {
  const revisions = new Map<string, Revision>();
  await forEachLimit(await listDigestDirs(driver, paths.revisionsRoot(name)), STORAGE_CONCURRENCY, async (digest) => {
    const revision = await readRevision(driver, name, digest);
    if (revision) revisions.set(formatDigest(digest), revision);
    onRevision();
  });
  return {
    name,
    revisions,
    tags: await new TagStore(driver).all(name),
    layerLinks: await listDigestDirs(driver, paths.layersRoot(name)),
  };
}

/** The revision's references, or an error naming the repository, the digest and what the SA can do about it. */
export function referencesOf(name: string, revision: Revision): ManifestReferences {
  if (revision.refs instanceof UnreadableManifestError) {
    const digest = formatDigest(revision.digest);
    throw new UnreadableManifestError(
      `manifest ${name}@${digest} is in use but its content is unreadable (${revision.refs.message}): ` +
        `restore ${paths.blobData(revision.digest)} (under the storage root) from a backup, or delete the manifest (DELETE /v2/${name}/manifests/${digest})`,
    );
  }
  return revision.refs;
}
