// registry migrate into storage a registry already serves and collects: each repository's links are one guarded
// write, so a collection at the destination hears of the blobs they make referenced, and a blob it swept after the
// copy stops the repository, which the next run copies anew.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WriteBarrier } from '../../registry/src/gc/barrier.js';
import { Collection } from '../../registry/src/gc/collection.js';
import { migrate } from '../../registry/src/migrate/migrate.js';
import { parseDigest } from '../../registry/src/storage/digest.js';
import { openFilesystemDriver } from '../../registry/src/storage/driver/filesystem.js';
import { paths } from '../../registry/src/storage/paths.js';
import { Client } from '../helpers/oci.js';
import { makeTempDir } from '../helpers/processes.js';
import { startTestRegistry } from '../helpers/registry.js';
import { pullVerified } from './gc/fixtures.js';
import { quietLogger } from './coord/fleet.js';

describe('registry migrate into a registry that collects garbage', function () {
  this.timeout(60_000);

  it('announces each repository to a collection at the destination, and stops, to be run again, when a blob it relied on is swept', async () => {
    const dir = await makeTempDir('migrate-online');
    try {
      const [from, to] = [join(dir, 'from'), join(dir, 'to')];
      const source = await startTestRegistry({ rootDir: from });
      const image = await new Client(source.url).pushImage('app', 'v1', ['shared layer', 'own layer']);
      await source.stop();
      // The destination holds the shared layer already, referenced by nothing (its image was deleted there).
      const target = await startTestRegistry({ rootDir: to });
      const gone = await new Client(target.url).pushImage('old', 'v1', ['shared layer']);
      expect((await new Client(target.url).request('DELETE', `/v2/old/manifests/${gone.digest}`)).status).to.equal(202);
      await target.stop();

      const [src, dest] = [await openFilesystemDriver({ rootdirectory: from }), await openFilesystemDriver({ rootdirectory: to })];
      const collection = await Collection.start(dest, 'collector-1-aaaaaa', quietLogger([]));
      await collection.grace();
      const shared = parseDigest(image.layers[0]?.digest as string);
      await collection.protect([shared]);
      const barrier = new WriteBarrier(dest, 'migrate-1-bbbbbb');
      const run = migrate(src, dest, { dryRun: false, barrier }, () => undefined).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      // Its intent names every blob of the repository; then it waits on the shared layer's tombstone.
      const intents = async () => dest.list(paths.intentsRoot(collection.id)).catch(() => []);
      while ((await intents()).length === 0) await sleep(20);
      const [intent] = await intents();
      const named = (await dest.getContent(intent as string)).toString('utf8').split('\n');
      expect(named).to.include.members([image.digest, ...image.layers.map((l) => l.digest)]);
      await dest.delete(paths.blobDir(shared));
      await collection.release([shared]);
      const failure = await run;
      expect(failure?.message).to.match(/app: sha256:[0-9a-f]+ left the destination since copied .*run migrate again/);
      await collection.finish();

      await migrate(src, dest, { dryRun: false, barrier }, () => undefined);
      const after = await startTestRegistry({ rootDir: to });
      try {
        await pullVerified(new Client(after.url), 'app', 'v1');
      } finally {
        await after.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
