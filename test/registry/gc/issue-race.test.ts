// The race of issue 15 step by step, each step made to happen in order: the collector has marked, and stands just
// before its sweep; a client HEADs an old layer nothing references (200), skips its upload, and PUTs a manifest naming
// it (201); then the sweep goes on. The offline collector deletes the layer under the acknowledged image; the online
// one keeps it.
import { expect } from 'chai';
import { collectGarbage, type GcSummary } from '../../../registry/src/gc/collect.js';
import { collectLive } from '../../../registry/src/gc/online.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { paths } from '../../../registry/src/storage/paths.js';
import { Client, OCI_MANIFEST, sha256 } from '../../helpers/oci.js';
import { startTestRegistry, type TestRegistry } from '../../helpers/registry.js';
import { quietLogger } from '../coord/fleet.js';
import { pullVerified, unguarded } from './fixtures.js';

/** The registry's storage, with every write or delete under `prefix` held from the first until release(). */
function holding(driver: StorageDriver, operation: 'putContent' | 'delete', prefix: string) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const wrapped = new Proxy(driver, {
    get(target, property, receiver) {
      if (property === operation) {
        return async (path: string, ...rest: unknown[]) => {
          if (path.startsWith(prefix)) {
            reached();
            await gate;
          }
          return (Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<void>).call(target, path, ...rest);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { driver: wrapped, held, release };
}

describe('gc: the race of issue 15, step by step', function () {
  this.timeout(60_000);
  let registry: TestRegistry;
  let client: Client;
  let layer: string;
  beforeEach(async () => {
    registry = await startTestRegistry({ storage: 'filesystem' });
    client = new Client(registry.url);
    // L: a layer whose last image was deleted; nothing references it any more.
    const old = await client.pushImage('app', 'old', ['layer L']);
    layer = old.layers[0]?.digest as string;
    expect((await client.request('DELETE', `/v2/app/manifests/${old.digest}`)).status).to.equal(202);
  });
  afterEach(() => registry.stop());

  /** Steps 2 of the issue: HEAD says the layer is there, so the client pushes only its config and the manifest. */
  async function pushReusing(): Promise<string> {
    expect((await client.request('HEAD', `/v2/app/blobs/${layer}`)).status).to.equal(200);
    const config = Buffer.from('{"architecture":"amd64","os":"linux","reuses":"L"}');
    await client.pushBlob('app', config);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: Buffer.byteLength('layer L') }],
    });
    const res = await client.request('PUT', '/v2/app/manifests/new', { headers: { 'content-type': OCI_MANIFEST }, body });
    expect(res.status, await res.text()).to.equal(201);
    return sha256(body);
  }

  it('the offline collector (mark, then sweep, nothing registered) deletes the layer under the acknowledged image', async () => {
    const hold = holding(registry.driver, 'delete', paths.repositoriesRoot);
    const collecting = collectGarbage(hold.driver, { dryRun: false, deleteUntagged: false, minAgeMs: 0 }, () => undefined, unguarded);
    await hold.held;
    await pushReusing();
    hold.release();
    await collecting;
    const failure = await pullVerified(client, 'app', 'new').then(
      () => undefined,
      (err: unknown) => (err as Error).message,
    );
    expect(failure).to.match(new RegExp(`pull app blob ${layer}: 404`));
  });

  it('the online collector keeps the layer: the push announced it before the sweep reached it, and the image pulls intact', async () => {
    const hold = holding(registry.driver, 'putContent', paths.collectionsWorkRoot);
    let summary: GcSummary | undefined;
    const collecting = collectLive(hold.driver, { dryRun: false, deleteUntagged: false, minAgeMs: 0 }, () => undefined, {
      holder: 'collector-1-abcdef',
      logger: quietLogger([]),
      swept: [],
    }).then((s) => (summary = s));
    // The collection's first work files are the first batch's tombstones: the mark is done by then.
    await hold.held;
    await pushReusing();
    hold.release();
    await collecting;
    await pullVerified(client, 'app', 'new');
    expect(summary?.blobsSpared).to.be.at.least(1);
  });
});
