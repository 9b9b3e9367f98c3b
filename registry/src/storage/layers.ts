// A repository's view of blobs: a blob is served from a repository only if the repository links it (_layers).
import { RegistryError } from '../errcode.js';
import type { BlobStore } from './blobs.js';
import { formatDigest, type Digest } from './digest.js';
import type { StorageDriver } from './driver/driver.js';
import { deleteIfExists, linkPointsAt, writeLink } from './links.js';
import { paths } from './paths.js';

export class LayerLinks {
  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
  ) {}

  async linked(name: string, digest: Digest): Promise<boolean> {
    return linkPointsAt(this.driver, paths.layerLink(name, digest), digest);
  }

  /**
   * Size of a blob this repository may serve, or BLOB_UNKNOWN. `stored`: asked of storage, never of the descriptor
   * cache, for an answer a client acts on by not sending the blob (see BlobStore.statStored).
   */
  async stat(name: string, digest: Digest, { stored = false } = {}): Promise<number> {
    if (!(await this.linked(name, digest))) {
      throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in repository ${name}`, { digest: formatDigest(digest) });
    }
    return stored ? this.blobs.statStored(digest) : this.blobs.stat(digest);
  }

  async link(name: string, digest: Digest): Promise<void> {
    await writeLink(this.driver, paths.layerLink(name, digest), digest);
  }

  /** Removes the repository's link; the bytes stay until garbage collection. */
  async unlink(name: string, digest: Digest): Promise<void> {
    const removed = await deleteIfExists(this.driver, paths.layerDir(name, digest));
    if (!removed) throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in repository ${name}`);
  }
}
