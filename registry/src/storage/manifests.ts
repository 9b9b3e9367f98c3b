// Manifests of a repository: stored as blobs, listed by revision links, checked against the repository's blobs
// before they are accepted, and indexed by subject for the referrers API. Storing a manifest or moving a tag makes
// things referenced, so each is one write inside the write barrier (gc/barrier.ts), safe against a garbage
// collection running meanwhile.
import { RegistryError } from '../errcode.js';
import type { WriteBarrier } from '../gc/barrier.js';
import type { BlobStore } from './blobs.js';
import { digestOf, formatDigest, sameDigest, type Digest } from './digest.js';
import type { StorageDriver } from './driver/driver.js';
import type { LayerLinks } from './layers.js';
import { deleteIfExists, linkPointsAt, writeLink } from './links.js';
import { isForeignLayer, parseManifest, readStoredManifest, storedMediaType, type Descriptor, type Manifest } from './manifest.js';
import { paths } from './paths.js';
import { BoundedMap } from './bounded-map.js';
import type { TagStore } from './tags.js';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  content: Buffer;
}

export interface PutOptions {
  /** Also point this tag at the manifest, in the same guarded write. */
  tag?: string;
  /**
   * false stores the manifest without the blobs and children it references: a mirror fetches those when they are
   * asked for.
   */
  checkReferences?: boolean;
}

/** What a guarded manifest write made, for its check on the slow path. */
interface Written {
  digest: Digest;
  manifest: Manifest;
  /** The tag moved, and where it pointed before (undefined: it did not exist). */
  tag?: { name: string; previous: Digest | undefined };
}

export interface ManifestStoreOptions {
  /** validation.manifests.urls: which foreign-layer URLs are allowed. */
  urls: { allow: RegExp[]; deny: RegExp[] };
  /** validation.disabled: skip checks that referenced blobs exist. */
  skipBlobChecks: boolean;
}

/** Manifests are immutable by digest, so cached bytes never go stale; the cap keeps memory bounded. */
const CACHE_ENTRIES = 4096;
const CACHEABLE_BYTES = 64 * 1024;

export class ManifestStore {
  private readonly cache = new BoundedMap<string, StoredManifest>(CACHE_ENTRIES);

  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly layers: LayerLinks,
    private readonly tags: TagStore,
    private readonly barrier: WriteBarrier,
    private readonly options: ManifestStoreOptions,
  ) {}

  async exists(name: string, digest: Digest): Promise<boolean> {
    return linkPointsAt(this.driver, paths.revisionLink(name, digest), digest);
  }

  /** A manifest of this repository by digest, or MANIFEST_UNKNOWN. */
  async get(name: string, digest: Digest): Promise<StoredManifest> {
    if (!(await this.exists(name, digest))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${formatDigest(digest)} is not in repository ${name}`, { digest: formatDigest(digest) });
    }
    const key = formatDigest(digest);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let content: Buffer;
    try {
      content = await this.blobs.read(digest);
    } catch (err) {
      if (err instanceof RegistryError) {
        throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${key} is linked in ${name} but its content is gone (collected?)`);
      }
      throw err;
    }
    const stored = { digest, mediaType: storedMediaType(content), content };
    if (content.length <= CACHEABLE_BYTES) this.cache.set(key, stored);
    return stored;
  }

  /**
   * Validates and stores a manifest, and points `options.tag` at it. `expected` is the digest named in the URL, if
   * the push was by digest. Returns the stored digest and the parsed manifest.
   */
  async put(name: string, content: Buffer, contentType: string | undefined, expected?: Digest, options: PutOptions = {}): Promise<{ digest: Digest; manifest: Manifest }> {
    const manifest = parseManifest(content, contentType);
    const digest = digestOf(content, expected?.algorithm ?? 'sha256');
    if (expected && !sameDigest(expected, digest)) {
      throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${formatDigest(digest)}, not ${formatDigest(expected)} as the URL says`, {
        expected: formatDigest(expected),
        actual: formatDigest(digest),
      });
    }
    const written = await this.barrier.guard(
      [digest, ...referencedBlobs(manifest).map((d) => d.digest), ...manifest.manifests.map((d) => d.digest)],
      async (): Promise<Written> => {
        if (options.checkReferences !== false && !this.options.skipBlobChecks) await this.verifyReferences(name, manifest);
        await this.blobs.putSmall(digest, content);
        await writeLink(this.driver, paths.revisionLink(name, digest), digest);
        if (manifest.subject) await writeLink(this.driver, paths.referrerLink(name, manifest.subject.digest, digest), digest);
        if (options.tag === undefined) return { digest, manifest };
        const previous = await this.tags.current(name, options.tag);
        await this.tags.point(name, options.tag, digest);
        return { digest, manifest, tag: { name: options.tag, previous } };
      },
      { verify: (w) => this.missing(name, w), undo: (w) => this.restoreTag(name, w) },
    );
    return { digest: written.digest, manifest: written.manifest };
  }

  /** Points a tag at a manifest the repository holds (MANIFEST_UNKNOWN otherwise), checked as a push of it would be. */
  async tag(name: string, tag: string, digest: Digest, options: Omit<PutOptions, 'tag'> = {}): Promise<void> {
    const stored = await this.get(name, digest);
    await this.put(name, stored.content, stored.mediaType, digest, { ...options, tag });
  }

  /** Removes the revision (and its referrer entry); tags are the caller's business. */
  async delete(name: string, digest: Digest): Promise<void> {
    const stored = await this.get(name, digest);
    const subject = readStoredManifest(stored.content)?.subject;
    if (subject) await deleteIfExists(this.driver, paths.referrerDir(name, subject.digest, digest));
    await deleteIfExists(this.driver, paths.revisionDir(name, digest));
  }

  /** What of a guarded write is gone now: its content, its revision link, or what it references. */
  private async missing(name: string, written: Written): Promise<string[]> {
    const { digest, manifest } = written;
    const gone: string[] = [];
    if ((await this.blobs.stored(digest)) === undefined || !(await this.exists(name, digest))) gone.push(`manifest ${formatDigest(digest)}`);
    if (this.options.skipBlobChecks) return gone;
    await Promise.all([
      ...referencedBlobs(manifest).map(async (d) => {
        if ((await this.blobs.stored(d.digest)) === undefined) gone.push(`blob ${formatDigest(d.digest)}`);
      }),
      ...manifest.manifests.map(async (d) => {
        if (!(await this.exists(name, d.digest)) || (await this.blobs.stored(d.digest)) === undefined) gone.push(`manifest ${formatDigest(d.digest)}`);
      }),
    ]);
    return gone.sort();
  }

  /** Puts a tag the failed write moved back where it was, unless another push has moved it since. */
  private async restoreTag(name: string, written: Written): Promise<void> {
    if (!written.tag) return;
    const { name: tag, previous } = written.tag;
    const now = await this.tags.current(name, tag);
    if (!now || !sameDigest(now, written.digest)) return;
    if (previous) await this.tags.point(name, tag, previous);
    else await deleteIfExists(this.driver, paths.tagDir(name, tag));
  }

  /** Blobs must be linked in the repository and in storage now: a cached size may be of a blob collected since. */
  private async verifyReferences(name: string, manifest: Manifest): Promise<void> {
    const missing: string[] = [];
    const blobs = manifest.config ? [manifest.config, ...manifest.layers] : manifest.layers;
    await Promise.all(
      blobs.map(async (d) => {
        if (isForeignLayer(d)) return this.checkForeignUrls(d);
        const size = (await this.layers.linked(name, d.digest)) ? await this.blobs.stored(d.digest) : undefined;
        if (size === undefined) missing.push(formatDigest(d.digest));
        else if (size !== d.size) {
          throw new RegistryError('MANIFEST_INVALID', `manifest invalid: blob ${formatDigest(d.digest)} has ${size} bytes, the manifest says ${d.size}`);
        }
      }),
    );
    await Promise.all(
      manifest.manifests.map(async (d) => {
        if (!(await this.exists(name, d.digest))) missing.push(formatDigest(d.digest));
      }),
    );
    if (missing.length > 0) {
      missing.sort();
      throw new RegistryError(
        'MANIFEST_BLOB_UNKNOWN',
        `manifest references ${missing.length === 1 ? 'a blob' : `${missing.length} blobs`} not in repository ${name}: ${missing.join(', ')}; push ${missing.length === 1 ? 'it' : 'them'} first`,
        { missing },
      );
    }
  }

  /** distribution's rule: a foreign layer names http(s) URLs without fragment, allowed and not denied by config. */
  private checkForeignUrls(d: Descriptor): void {
    const urls = d.urls ?? [];
    if (urls.length === 0) {
      throw new RegistryError('MANIFEST_INVALID', `manifest invalid: foreign layer ${formatDigest(d.digest)} has no urls`);
    }
    const { allow, deny } = this.options.urls;
    for (const url of urls) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      const wellFormed = parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hash === '';
      const allowed = wellFormed && (allow.length === 0 || allow.some((re) => re.test(url))) && !deny.some((re) => re.test(url));
      if (!allowed) {
        throw new RegistryError('MANIFEST_INVALID', `manifest invalid: foreign layer URL ${url} is not an http(s) URL allowed by validation.manifests.urls`, { url });
      }
    }
  }
}

/** The config and layers whose bytes the registry holds (foreign layers live elsewhere). */
function referencedBlobs(manifest: Manifest): Descriptor[] {
  return [...(manifest.config ? [manifest.config] : []), ...manifest.layers].filter((d) => !isForeignLayer(d));
}
