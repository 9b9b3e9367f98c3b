// The registry-wide content store under blobs/: every layer, config and manifest, addressed by digest.
// Repositories see a blob only through their own links (see repository.ts).
import type { Writable } from 'node:stream';
import { RegistryError } from '../errcode.js';
import { formatDigest, type Digest } from './digest.js';
import { copyOut } from './driver/copy-out.js';
import { isNotFound, type StorageDriver } from './driver/driver.js';
import { paths } from './paths.js';
import type { DescriptorCache } from './descriptor-cache.js';

export class BlobStore {
  constructor(
    readonly driver: StorageDriver,
    /** storage.cache.blobdescriptor: digest -> size, so hot blobs and manifests are not stat'ed on every request. */
    private readonly cache?: DescriptorCache,
  ) {}

  /**
   * Size of the blob, or BLOB_UNKNOWN. May come from the descriptor cache, so only for serving the bytes (a read
   * of a blob gone since fails before its first byte) and behind a repository's link read from storage.
   */
  async stat(digest: Digest): Promise<number> {
    const cached = await this.cache?.get(formatDigest(digest));
    return cached ?? this.statStored(digest);
  }

  /**
   * Size of the blob as storage has it, or BLOB_UNKNOWN: for answers a client acts on by not sending the blob (HEAD
   * before a push, a mount, a manifest's references). A repository's link is no proof: distribution 2.8's collector
   * leaves links to the blobs it sweeps, and a cached size would then say "exists" (distribution #4702).
   */
  async statStored(digest: Digest): Promise<number> {
    const key = formatDigest(digest);
    try {
      const info = await this.driver.stat(paths.blobData(digest));
      if (info.isDir) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest: key });
      this.cache?.set(key, info.size);
      return info.size;
    } catch (err) {
      if (isNotFound(err)) {
        // Tell the fleet only when a cache remembered it: most blobs asked about here were never pushed.
        if ((await this.cache?.get(key)) !== undefined) await this.cache?.forget([key]);
        throw new RegistryError('BLOB_UNKNOWN', `blob ${key} is not in the registry`, { digest: key });
      }
      throw err;
    }
  }

  /**
   * Size of the blob as storage has it now, or undefined: what a write that makes something reference the blob
   * checks, never the cache, which may remember a blob collected since.
   */
  async stored(digest: Digest): Promise<number | undefined> {
    try {
      return await this.statStored(digest);
    } catch (err) {
      if (err instanceof RegistryError) return undefined;
      throw err;
    }
  }

  /**
   * Writes `length` bytes of the blob from `start` to `out`, which is left open. BLOB_UNKNOWN, before anything is
   * written, when the blob vanished since it was stat'ed (a garbage collection ran in between).
   */
  async send(digest: Digest, start: number, length: number, out: Writable): Promise<void> {
    const path = paths.blobData(digest);
    try {
      await copyOut(this.driver, path, start, length, out);
    } catch (err) {
      if (isNotFound(err)) {
        await this.cache?.forget([formatDigest(digest)]);
        throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in the registry`);
      }
      throw err;
    }
  }

  /** A URL the client can fetch the blob from directly, when the driver offers one (S3, OSS). */
  async redirectURL(digest: Digest, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return this.driver.redirectURL(paths.blobData(digest), method);
  }

  /** Whole content of a small blob (a manifest). */
  async read(digest: Digest): Promise<Buffer> {
    try {
      return await this.driver.getContent(paths.blobData(digest));
    } catch (err) {
      if (isNotFound(err)) throw new RegistryError('BLOB_UNKNOWN', `blob ${formatDigest(digest)} is not in the registry`);
      throw err;
    }
  }

  /**
   * Stores small content already hashed by the caller (a manifest). Content already in storage is left as it is;
   * what is there is asked of storage, never of the cache, which may remember a blob collected since (distribution
   * #4702: a re-pushed manifest was then never written again).
   */
  async putSmall(digest: Digest, content: Buffer): Promise<void> {
    const path = paths.blobData(digest);
    const present = await this.driver.stat(path).then(
      (info) => !info.isDir && info.size === content.length,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (!present) await this.driver.putContent(path, content);
    this.cache?.set(formatDigest(digest), content.length);
  }

  /** Moves verified upload data into place. Same content under the same digest, so a concurrent twin is harmless. */
  async commit(digest: Digest, uploadedPath: string, size: number): Promise<void> {
    await this.driver.move(uploadedPath, paths.blobData(digest));
    this.cache?.set(formatDigest(digest), size);
  }

  async delete(digest: Digest): Promise<void> {
    await this.driver.delete(paths.blobDir(digest));
    await this.cache?.forget([formatDigest(digest)]);
  }
}
