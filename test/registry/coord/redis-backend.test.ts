import { expect } from 'chai';
import { Redis } from 'ioredis';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLease, type Lease } from '../../../registry/src/coord/coordinator.js';
import { SingleFlight } from '../../../registry/src/coord/single-flight.js';
import { makeTempDir, stopAll } from '../../helpers/processes.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { runCoordinatorSuite } from './coordinator-suite.js';
import { fleetOf, type Fleet } from './fleet.js';

describe('redis coordination backend', function () {
  let redis: RedisServer;
  let dir: string;

  before(async function () {
    redis = await startRedis();
    dir = await makeTempDir('coord-redis');
  });

  after(async function () {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
    await stopAll();
  });

  const fleet = (): Fleet => fleetOf({ storage: { filesystem: { rootdirectory: dir } }, redis: { addr: redis.addr, dialtimeout: '500ms', readtimeout: '500ms' } });

  runCoordinatorSuite('redis', async () => fleet(), { polled: false, ttlMs: 600 });

  describe('when redis fails', function () {
    let members: Fleet;

    beforeEach(function () {
      members = fleet();
    });

    afterEach(async function () {
      await members.close();
    });

    it('aborts the signal of a lease that another process took over (its key replaced)', async function () {
      const { coord } = await members.join();
      const lease = (await coord.tryLease('takeover', 600)) as Lease;
      expect(isLease(lease)).to.equal(true);
      const admin = new Redis(redis.port, '127.0.0.1');
      await admin.set('registry:coord:lease:takeover', 'someone-else', 'PX', 5000);
      await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
      expect(String(lease.signal.reason)).to.match(/another process holds it/);
      await lease.release();
      // Its release must not delete the new holder's key.
      expect(await admin.get('registry:coord:lease:takeover')).to.equal('someone-else');
      admin.disconnect();
    });

    it('refuses leases while redis is down, gives a held lease up before it could lapse, and works again once redis is back', async function () {
      const { coord } = await members.join();
      await sleep(100);
      const lease = (await coord.tryLease('outage', 900)) as Lease;
      expect(isLease(lease)).to.equal(true);
      await redis.stop();
      try {
        await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
        let refused: unknown;
        await coord.tryLease('outage-2', 900).catch((err: unknown) => (refused = err));
        expect(refused, 'a lease taken with redis down').to.be.instanceOf(Error);
        // A single flight without the fleet still produces its result here, alone.
        const flight = new SingleFlight(coord, members.logger, { ttlMs: 900, pollMs: 50 });
        let leads = 0;
        expect(await flight.run('alone', { ready: async () => undefined, lead: async (l) => (leads++, l === undefined ? 'alone' : 'fleet') })).to.equal('alone');
        expect(leads).to.equal(1);
        flight.close();
      } finally {
        await redis.restart();
      }
      let again: Awaited<ReturnType<typeof coord.tryLease>> | undefined;
      for (let i = 0; i < 50 && !(again && isLease(again)); i++) {
        await sleep(100);
        again = await coord.tryLease('outage', 900).catch(() => undefined);
      }
      expect(again && isLease(again), 'lease once redis is back').to.equal(true);
      await (again as Lease).release();
    });

    it('resets every subscriber when its subscription comes back after an outage', async function () {
      const { coord } = await members.join();
      let resets = 0;
      const seen: string[] = [];
      coord.subscribe('outage-topic', { keys: (k) => seen.push(...k), reset: () => resets++ });
      await sleep(200);
      await redis.stop();
      await redis.restart();
      for (let i = 0; i < 60 && resets === 0; i++) await sleep(100);
      expect(resets).to.be.at.least(1);
      await coord.publish('outage-topic', ['after']);
      for (let i = 0; i < 50 && seen.length === 0; i++) await sleep(50);
      expect(seen).to.deep.equal(['after']);
    });
  });
});
