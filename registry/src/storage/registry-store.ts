// All image semantics over one storage driver, wired once per process.
import { WriteBarrier } from '../gc/barrier.js';
import { BlobStore } from './blobs.js';
import { Catalog } from './catalog.js';
import type { DescriptorCache } from './descriptor-cache.js';
import type { StorageDriver } from './driver/driver.js';
import { LayerLinks } from './layers.js';
import { ManifestStore, type ManifestStoreOptions } from './manifests.js';
import { ReferrerStore } from './referrers.js';
import { TagStore } from './tags.js';
import { UploadStore } from './uploads.js';

export interface RegistryStoreOptions {
  /** Names this process's writes to a running garbage collection: the coordinator id. */
  writer: string;
  /** storage.cache.blobdescriptor, when configured */
  descriptors?: DescriptorCache;
  manifests: ManifestStoreOptions;
}

export class RegistryStore {
  readonly blobs: BlobStore;
  readonly layers: LayerLinks;
  readonly manifests: ManifestStore;
  readonly tags: TagStore;
  readonly uploads: UploadStore;
  readonly referrers: ReferrerStore;
  readonly catalog: Catalog;

  constructor(
    readonly driver: StorageDriver,
    options: RegistryStoreOptions,
  ) {
    const barrier = new WriteBarrier(driver, options.writer);
    this.blobs = new BlobStore(driver, options.descriptors);
    this.layers = new LayerLinks(driver, this.blobs, barrier);
    this.tags = new TagStore(driver);
    this.manifests = new ManifestStore(driver, this.blobs, this.layers, this.tags, barrier, options.manifests);
    this.uploads = new UploadStore(driver, this.blobs, this.layers);
    this.referrers = new ReferrerStore(driver, this.manifests);
    this.catalog = new Catalog(driver);
  }
}
