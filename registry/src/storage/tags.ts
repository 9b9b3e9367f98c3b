// Tags: _manifests/tags/<tag>/current/link points at a manifest; index/ keeps every digest the tag has had.
import { RegistryError } from '../errcode.js';
import { sameDigest, type Digest } from './digest.js';
import { isNotFound, type StorageDriver } from './driver/driver.js';
import { deleteIfExists, readLink, writeLink } from './links.js';
import { lastPathElement, paths } from './paths.js';

export class TagStore {
  constructor(private readonly driver: StorageDriver) {}

  /** The digest a tag points at, or MANIFEST_UNKNOWN. */
  async resolve(name: string, tag: string): Promise<Digest> {
    const digest = await readLink(this.driver, paths.tagCurrentLink(name, tag));
    if (!digest) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${tag} is not in repository ${name}`, { tag });
    return digest;
  }

  /** The digest a tag points at now, or undefined. */
  async current(name: string, tag: string): Promise<Digest | undefined> {
    return readLink(this.driver, paths.tagCurrentLink(name, tag));
  }

  /**
   * Writes the tag's links, and nothing else: a tag is moved through ManifestStore.put or ManifestStore.tag, whose
   * write barrier makes it safe against a garbage collection running meanwhile.
   * Both links point at a revision already stored, so they are written at once: a crash between them leaves a tag
   * that resolves or an index entry the collector keeps, never a dangling link, and a PUT waits for one fsync less.
   */
  async point(name: string, tag: string, digest: Digest): Promise<void> {
    await Promise.all([
      writeLink(this.driver, paths.tagIndexLink(name, tag, digest), digest),
      writeLink(this.driver, paths.tagCurrentLink(name, tag), digest),
    ]);
  }

  async untag(name: string, tag: string): Promise<void> {
    if (!(await deleteIfExists(this.driver, paths.tagDir(name, tag)))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `tag ${tag} is not in repository ${name}`, { tag });
    }
  }

  /** Tags sorted, after `last`, at most `limit`; NAME_UNKNOWN when the repository does not exist. */
  async list(name: string, last: string, limit: number): Promise<string[]> {
    try {
      return await this.driver.listPage(paths.tagsRoot(name), last, limit);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // Object stores have no empty directories: a repository whose last tag was deleted has no tags/ any more.
    const exists = await this.driver.listPage(paths.repository(name), '', 1).then(
      (children) => children.length > 0,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (!exists) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`, { name });
    return [];
  }

  /** Every tag of the repository with the digest it points at. */
  async all(name: string): Promise<Map<string, Digest>> {
    const tags = new Map<string, Digest>();
    let dirs: string[];
    try {
      dirs = await this.driver.list(paths.tagsRoot(name));
    } catch (err) {
      if (isNotFound(err)) return tags;
      throw err;
    }
    for (const dir of dirs) {
      const tag = lastPathElement(dir);
      const digest = await readLink(this.driver, paths.tagCurrentLink(name, tag));
      if (digest) tags.set(tag, digest);
    }
    return tags;
  }

  /** Removes every tag pointing at digest, as distribution does when a manifest is deleted. */
  async untagDigest(name: string, digest: Digest): Promise<string[]> {
    const removed: string[] = [];
    for (const [tag, target] of await this.all(name)) {
      if (sameDigest(target, digest)) {
        await deleteIfExists(this.driver, paths.tagDir(name, tag));
        removed.push(tag);
      }
    }
    return removed;
  }
}

