// Manifests of a repository: stored as blobs, listed by revision links, checked against the repository's blobs
// before they are accepted, and indexed by subject for the referrers API.
import { RegistryError } from '../errcode.js';
import type { BlobStore } from './blobs.js';
import { digestOf, formatDigest, sameDigest, type Digest } from './digest.js';
import type { StorageDriver } from './driver/driver.js';
import type { LayerLinks } from './layers.js';
import { deleteIfExists, linkPointsAt, writeLink } from './links.js';
import { isForeignLayer, parseManifest, readStoredManifest, storedMediaType, type Descriptor, type Manifest } from './manifest.js';
import { paths } from './paths.js';
import { BoundedMap } from './bounded-map.js';

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  content: Buffer;
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
   * Validates and stores a manifest. `expected` is the digest named in the URL, if the push was by digest.
   * Returns the stored digest and the parsed manifest. A mirror stores manifests without the blobs and children
   * they reference, which it fetches when they are asked for (`checkReferences: false`).
   */
  async put(
    name: string,
    content: Buffer,
    contentType: string | undefined,
    expected?: Digest,
    { checkReferences = true }: { checkReferences?: boolean } = {},
  ): Promise<{ digest: Digest; manifest: Manifest }> {
    const manifest = parseManifest(content, contentType);
    const digest = digestOf(content, expected?.algorithm ?? 'sha256');
    if (expected && !sameDigest(expected, digest)) {
      throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${formatDigest(digest)}, not ${formatDigest(expected)} as the URL says`, {
        expected: formatDigest(expected),
        actual: formatDigest(digest),
      });
    }
    if (checkReferences && !this.options.skipBlobChecks) await this.verifyReferences(name, manifest);
    await this.blobs.putSmall(digest, content);
    await writeLink(this.driver, paths.revisionLink(name, digest), digest);
    if (manifest.subject) await writeLink(this.driver, paths.referrerLink(name, manifest.subject.digest, digest), digest);
    return { digest, manifest };
  }

  /** Removes the revision (and its referrer entry); tags are the caller's business. */
  async delete(name: string, digest: Digest): Promise<void> {
    const stored = await this.get(name, digest);
    const subject = readStoredManifest(stored.content)?.subject;
    if (subject) await deleteIfExists(this.driver, paths.referrerDir(name, subject.digest, digest));
    await deleteIfExists(this.driver, paths.revisionDir(name, digest));
  }

  private async verifyReferences(name: string, manifest: Manifest): Promise<void> {
    const missing: string[] = [];
    const blobs = manifest.config ? [manifest.config, ...manifest.layers] : manifest.layers;
    await Promise.all(
      blobs.map(async (d) => {
        if (isForeignLayer(d)) return this.checkForeignUrls(d);
        const size = await this.layers.stat(name, d.digest, { stored: true }).catch((err: unknown) => {
          if (err instanceof RegistryError) return undefined;
          throw err;
        });
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
