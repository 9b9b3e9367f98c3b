// The inventory behind `registry list`: each repository's tags with the digest, media type, platforms and total
// size of what they point at, so an SA can choose digests to DELETE before collecting. Reads only tagged
// manifests and their children; sizes come from the manifests' descriptors, so no blob is read.
import { Catalog } from '../storage/catalog.js';
import { isMirrored } from '../proxy/usage.js';
import { formatDigest, type Digest } from '../storage/digest.js';
import { isNotFound, type StorageDriver } from '../storage/driver/driver.js';
import { paths } from '../storage/paths.js';
import { isValidName } from '../storage/reference.js';
import { TagStore } from '../storage/tags.js';
import { UnreadableManifestError } from './references.js';
import { readRevision, referencesOf, type Revision } from './repository.js';

export interface TagListing {
  tag: string;
  digest: string;
  /** Undefined when the manifest cannot be read (see problem). */
  mediaType?: string;
  /** os/architecture[/variant] of an index's children. */
  platforms?: string[];
  /** The manifest, its config and layers (for an index, each child's too), every blob counted once. */
  size?: number;
  problem?: string;
}

export interface RepositoryListing {
  repository: string;
  /** Filled by the pull-through cache (proxy), with content its ttl may expire. */
  mirrored?: true;
  tags: TagListing[];
}

export class UnknownRepositoryError extends Error {
  constructor(readonly repository: string) {
    super(`repository ${repository} is not in this registry's storage`);
    this.name = 'UnknownRepositoryError';
  }
}

async function storedSize(driver: StorageDriver, digest: Digest): Promise<number> {
  try {
    return (await driver.stat(paths.blobData(digest))).size;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
}

/** Bytes of the manifest and everything it reaches, each digest once. */
async function totalSize(driver: StorageDriver, name: string, root: Revision): Promise<number> {
  const counted = new Map<string, number>();
  const visit = async (revision: Revision): Promise<void> => {
    counted.set(formatDigest(revision.digest), revision.size);
    const refs = referencesOf(name, revision);
    for (const blob of refs.blobs) {
      const key = formatDigest(blob.digest);
      // schema1 layers declare no size: ask storage.
      if (!counted.has(key)) counted.set(key, blob.size ?? (await storedSize(driver, blob.digest)));
    }
    for (const child of refs.manifests) {
      if (counted.has(formatDigest(child.digest))) continue;
      const revisionOfChild = await readRevision(driver, name, child.digest);
      if (revisionOfChild) await visit(revisionOfChild);
      else counted.set(formatDigest(child.digest), child.size ?? 0);
    }
  };
  await visit(root);
  return [...counted.values()].reduce((sum, size) => sum + size, 0);
}

async function describeTag(driver: StorageDriver, name: string, tag: string, digest: Digest): Promise<TagListing> {
  const listing: TagListing = { tag, digest: formatDigest(digest) };
  const revision = await readRevision(driver, name, digest);
  if (!revision) return { ...listing, problem: 'the manifest this tag points at is missing (deleted or collected)' };
  if (revision.refs instanceof Error) return { ...listing, problem: `unreadable manifest: ${revision.refs.message}` };
  const platforms = revision.refs.manifests.flatMap((child) => child.platform ?? []);
  const described = { ...listing, mediaType: revision.refs.mediaType, ...(platforms.length > 0 && { platforms }) };
  try {
    return { ...described, size: await totalSize(driver, name, revision) };
  } catch (err) {
    if (err instanceof UnreadableManifestError) return { ...described, problem: err.message };
    throw err;
  }
}

async function listRepository(driver: StorageDriver, name: string): Promise<RepositoryListing> {
  const tags: TagListing[] = [];
  for (const [tag, digest] of await new TagStore(driver).all(name)) tags.push(await describeTag(driver, name, tag, digest));
  return { repository: name, ...((await isMirrored(driver, name)) && { mirrored: true }), tags };
}

/** Every repository, or only `only` (UnknownRepositoryError when storage has no such repository). */
export async function listRegistry(driver: StorageDriver, only?: string): Promise<RepositoryListing[]> {
  if (only !== undefined) {
    if (!isValidName(only)) throw new UnknownRepositoryError(only);
    try {
      await driver.list(paths.repository(only));
    } catch (err) {
      if (isNotFound(err)) throw new UnknownRepositoryError(only);
      throw err;
    }
    return [await listRepository(driver, only)];
  }
  const listings: RepositoryListing[] = [];
  for (const name of await new Catalog(driver).all()) listings.push(await listRepository(driver, name));
  return listings;
}
