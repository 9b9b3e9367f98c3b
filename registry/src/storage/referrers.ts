// The OCI 1.1 referrers API: manifests whose subject is a given digest, answered from the index manifests.ts
// keeps under _manifests/referrers.
import { RegistryError } from '../errcode.js';
import { formatDigest, type Digest } from './digest.js';
import type { StorageDriver } from './driver/driver.js';
import { listDigestDirs } from './links.js';
import { MEDIA_TYPES, readStoredManifest } from './manifest.js';
import type { ManifestStore } from './manifests.js';
import { paths } from './paths.js';

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class ReferrerStore {
  constructor(
    private readonly driver: StorageDriver,
    private readonly manifests: ManifestStore,
  ) {}

  /** Referrers of subject, sorted by digest; an unknown subject has none. */
  async list(name: string, subject: Digest, artifactType?: string): Promise<ReferrerDescriptor[]> {
    const found: ReferrerDescriptor[] = [];
    for (const digest of await listDigestDirs(this.driver, paths.referrersDir(name, subject))) {
      let stored;
      try {
        stored = await this.manifests.get(name, digest);
      } catch (err) {
        // Deleted after the index entry was read: not a referrer any more.
        if (err instanceof RegistryError) continue;
        throw err;
      }
      const manifest = readStoredManifest(stored.content);
      if (!manifest) continue;
      const type = manifest.artifactType ?? (manifest.config && manifest.config.mediaType !== MEDIA_TYPES.ociEmpty ? manifest.config.mediaType : undefined);
      if (artifactType !== undefined && type !== artifactType) continue;
      found.push({
        mediaType: manifest.mediaType,
        digest: formatDigest(digest),
        size: stored.content.length,
        ...(type !== undefined && { artifactType: type }),
        ...(manifest.annotations && { annotations: manifest.annotations }),
      });
    }
    return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }
}
