// A repository's view of blobs: a blob is served from a repository only if the repository links it (_layers).
// Writing a link makes the blob referenced, so every link is written inside the write barrier (gc/barrier.ts): a
// garbage collection running meanwhile either sees the link or makes the write wait until it is done with the blob.
import { RegistryError } from '../errcode.js';
import type { WriteBarrier } from '../gc/barrier.js';
import type { BlobStore } from './blobs.js';
import { formatDigest, type Digest } from './digest.js';
import type { StorageDriver } from './driver/driver.js';
import { deleteIfExists, linkPointsAt, writeLink } from './links.js';
import { paths } from './paths.js';

export class LayerLinks {
  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly barrier: WriteBarrier,
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

  /** Links a blob already in storage; BLOB_UNKNOWN when it is not there (any more). */
  async link(name: string, digest: Digest): Promise<void> {
    await this.guarded(name, digest, async () => {
      if ((await this.blobs.stored(digest)) === undefined) {
        throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in the registry`, { digest: formatDigest(digest) });
      }
      await writeLink(this.driver, paths.layerLink(name, digest), digest);
      return true;
    });
  }

  /**
   * Cross-repository mount: links the blob into `name` if `from` links it and storage still holds it. False when it
   * cannot be mounted (the client then uploads it).
   */
  async mount(name: string, from: string, digest: Digest): Promise<boolean> {
    return this.guarded(name, digest, async () => {
      if (!(await this.linked(from, digest)) || (await this.blobs.stored(digest)) === undefined) return false;
      await writeLink(this.driver, paths.layerLink(name, digest), digest);
      return true;
    });
  }

  /** Puts verified upload data in place with `commit` and links it, as one guarded write. */
  async commitAndLink(name: string, digest: Digest, commit: () => Promise<void>): Promise<void> {
    await this.guarded(name, digest, async () => {
      await commit();
      await writeLink(this.driver, paths.layerLink(name, digest), digest);
      return true;
    });
  }

  /** Removes the repository's link; the bytes stay until garbage collection. */
  async unlink(name: string, digest: Digest): Promise<void> {
    const removed = await deleteIfExists(this.driver, paths.layerDir(name, digest));
    if (!removed) throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in repository ${name}`);
  }

  /**
   * A write that links the blob (resolving true when it did). Should a collection have swept the blob while the
   * write was slow, the link, now pointing at nothing, is taken back and the client told to push again.
   */
  private guarded(name: string, digest: Digest, write: () => Promise<boolean>): Promise<boolean> {
    return this.barrier.guard([digest], write, {
      verify: async (linked) => (linked && (await this.blobs.stored(digest)) === undefined ? [formatDigest(digest)] : []),
      undo: async () => void (await deleteIfExists(this.driver, paths.layerDir(name, digest))),
    });
  }
}
