// What the mirror tests stand up: a real upstream (distribution 2.8 on loopback) behind a counting, throttleable
// proxy, and this registry mirroring it.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDistribution, type Distribution } from '../../helpers/distribution.js';
import { skopeo } from '../../helpers/images.js';
import { startTestRegistry, type TestRegistry, type TestRegistryOptions } from '../../helpers/registry.js';
import { makeTempDir } from '../../helpers/spawn.js';
import { startUpstreamProxy, type UpstreamProxy } from '../../helpers/upstream-proxy.js';

export interface Upstream {
  distribution: Distribution;
  /** What the mirror talks to: the proxy in front of distribution. */
  proxy: UpstreamProxy;
  /** distribution's storage root, to corrupt a blob where it lies. */
  rootDir: string;
  /** Pushes an image reference (oci:DIR:TAG) to the upstream as NAME:TAG, with skopeo (`--all` for an index). */
  push(ref: string, dest: string, all?: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const dir = await makeTempDir('mirror-upstream');
  const rootDir = join(dir, 'storage');
  const distribution = await startDistribution({ rootDir });
  const proxy = await startUpstreamProxy(distribution.url);
  return {
    distribution,
    proxy,
    rootDir,
    async push(ref, dest, all = false) {
      await skopeo(['copy', ...(all ? ['--all'] : []), '--dest-tls-verify=false', ref, `docker://${distribution.host}/${dest}`]);
    },
    async stop() {
      await proxy.stop();
      await distribution.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** This registry on local disk, mirroring `upstreams` ({namespace, remoteurl, ...} entries of proxy.upstreams). */
export function startMirror(proxy: Record<string, unknown>, options: TestRegistryOptions = {}): Promise<TestRegistry> {
  return startTestRegistry({ storage: 'filesystem', ...options, config: { ...options.config, proxy } });
}

/** The blob and manifest GETs that reached the upstream, by path. */
export function upstreamGets(proxy: UpstreamProxy, kind: 'blobs' | 'manifests', digestOrTag?: string): number {
  return proxy.count('GET', new RegExp(`/${kind}/${digestOrTag === undefined ? '' : digestOrTag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
}

/** Where a blob lies in a registry's filesystem storage (ours and distribution's alike). */
export function storedBlob(root: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
