// The storage backend inside one machine's group of workers: group-mates pass keys through a relay (in `registry
// serve`, cluster IPC through the primary), one of them reads the storage events for the whole group, and other
// machines' processes get the group's keys from storage. The relay here joins coordinators of one test process.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Coordinator } from '../../../registry/src/coord/coordinator.js';
import type { Relay, RelayMessage } from '../../../registry/src/coord/relay.js';
import { StorageCoordinator } from '../../../registry/src/coord/storage-backend.js';
import { createDriver } from '../../../registry/src/storage/driver/factory.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import { makeTempDir } from '../../helpers/processes.js';
import { until } from '../../helpers/until.js';
import { quietLogger } from './fleet.js';

/** Relays that deliver each message to every other member of one group, as the primary does. */
function group(name: string, size: number): Relay[] {
  const handlers: ((message: RelayMessage) => void)[][] = Array.from({ length: size }, () => []);
  return handlers.map((_, i) => ({
    group: name,
    send: (message) => handlers.forEach((list, j) => j !== i && list.forEach((handler) => handler(message))),
    onMessage: (handler) => handlers[i]?.push(handler),
  }));
}

interface Seen {
  keys: string[];
  resets: number;
}

function watch(coord: Coordinator): Seen {
  const seen: Seen = { keys: [], resets: 0 };
  coord.subscribe('blobs', { keys: (k) => seen.keys.push(...k), reset: () => seen.resets++ });
  return seen;
}

describe('storage coordination backend: a machine group of workers', function () {
  let dir: string;
  let driver: StorageDriver;
  const coords: Coordinator[] = [];
  const logger = quietLogger([]);
  const join = (options: { poll: boolean; relay?: Relay }) => {
    const coord = new StorageCoordinator(driver, logger, { pollMs: 50, ...options });
    coords.push(coord);
    return coord;
  };

  beforeEach(async () => {
    dir = await makeTempDir('coord-group');
    driver = await createDriver({ type: 'filesystem', filesystem: { rootdirectory: dir } }, logger);
  });
  afterEach(async () => {
    for (const coord of coords.splice(0)) await coord.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("passes keys to group-mates through the relay, to other machines through storage, and never twice to the group", async () => {
    const [first, second] = group('machinea', 2) as [Relay, Relay];
    const poller = join({ poll: true, relay: first });
    const mate = join({ poll: false, relay: second });
    const elsewhere = join({ poll: true });
    const seen = { poller: watch(poller), mate: watch(mate), elsewhere: watch(elsewhere) };
    await sleep(200);
    await mate.publish('blobs', ['sha256:aa']);
    await until(() => seen.elsewhere.keys.length === 1);
    // Several polls later, the group's own event in storage has not come back to it.
    await sleep(300);
    expect(seen.poller.keys).to.deep.equal(['sha256:aa']);
    expect(seen.mate.keys).to.deep.equal(['sha256:aa']);
    expect(seen.elsewhere.keys).to.deep.equal(['sha256:aa']);

    await elsewhere.publish('blobs', ['sha256:bb']);
    await until(() => seen.mate.keys.length === 2);
    expect(seen.mate.keys).to.deep.equal(['sha256:aa', 'sha256:bb']);
  });

  it("resets the group when a new poller's first listing skipped what was published before it (its predecessor died)", async () => {
    const [first, second] = group('machinea', 2) as [Relay, Relay];
    const mate = join({ poll: false, relay: second });
    const seen = watch(mate);
    const elsewhere = join({ poll: true });
    // Published while the group has no poller: the one that starts next takes it as already seen.
    await elsewhere.publish('blobs', ['sha256:missed']);
    join({ poll: true, relay: first });
    await until(() => seen.resets === 1);
    expect(seen.keys).to.deep.equal([]);
  });
});
