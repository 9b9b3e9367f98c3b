// What every coordination backend guarantees (docs/coordination.md), run against each: leases, the bus, single
// flight and once-per-fleet jobs, with several coordinators over one backend standing for several processes.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLease, type Coordinator, type Lease } from '../../../registry/src/coord/coordinator.js';
import { readJobRecord, scheduleExclusive } from '../../../registry/src/coord/exclusive.js';
import { SingleFlight } from '../../../registry/src/coord/single-flight.js';
import type { StorageDriver } from '../../../registry/src/storage/driver/driver.js';
import type { Logger } from '../../../registry/src/log.js';
import { until } from '../../helpers/until.js';
import type { Fleet } from './fleet.js';


export interface SuiteOptions {
  /** Whether events cross processes by polling (the storage backend): subscribers need a first poll. */
  polled: boolean;
  /** A lease ttl the backend can keep: object stores count modification times in whole seconds. */
  ttlMs: number;
}

export function runCoordinatorSuite(name: string, makeFleet: () => Promise<Fleet>, options: SuiteOptions): void {
  describe(`coordination contract: ${name}`, function () {
    let fleet: Fleet;
    let lease = 0;
    /** A lease name of this test's own. */
    const fresh = (): string => `test-${process.pid}-${++lease}`;

    beforeEach(async function () {
      fleet = await makeFleet();
    });

    afterEach(async function () {
      await fleet.close();
    });

    it('grants a free lease, names its holder to every other process, and grants it again once released', async function () {
      const [a, b] = [(await fleet.join()).coord, (await fleet.join()).coord];
      const name = fresh();
      const held = await a.tryLease(name, options.ttlMs);
      expect(isLease(held)).to.equal(true);
      const refused = await b.tryLease(name, options.ttlMs);
      expect(isLease(refused)).to.equal(false);
      expect(refused.holder).to.equal(a.id);
      await (held as Lease).release();
      expect((held as Lease).signal.aborted).to.equal(true);
      const second = await b.tryLease(name, options.ttlMs);
      expect(isLease(second)).to.equal(true);
      await (second as Lease).release();
    });

    it('keeps a lease past its ttl while the holder renews it', async function () {
      const [a, b] = [(await fleet.join()).coord, (await fleet.join()).coord];
      const name = fresh();
      const held = (await a.tryLease(name, options.ttlMs)) as Lease;
      expect(isLease(held)).to.equal(true);
      const until = Date.now() + 3 * options.ttlMs;
      while (Date.now() < until) {
        expect(isLease(await b.tryLease(name, options.ttlMs)), 'taken from a live holder').to.equal(false);
        await sleep(100);
      }
      expect(held.signal.aborted).to.equal(false);
      await held.release();
    });

    it('lets at most one of many processes claiming at once hold the lease, and one gets it when they retry', async function () {
      const coords: Coordinator[] = [];
      for (let i = 0; i < 6; i++) coords.push((await fleet.join()).coord);
      for (let round = 0; round < 5; round++) {
        const name = fresh();
        let holders: Lease[] = [];
        // Claimants that meet can all back off; retried at random moments, spread wider each time (a claim on a busy
        // object store takes longer than the first spread), one wins.
        for (let attempt = 0; holders.length === 0 && attempt < 20; attempt++) {
          const spreadMs = 30 * 2 ** Math.min(attempt, 5);
          const results = await Promise.all(coords.map(async (c) => (await sleep(Math.random() * spreadMs), c.tryLease(name, options.ttlMs))));
          holders = results.filter(isLease);
          expect(holders.length, `round ${round}`).to.be.at.most(1);
        }
        expect(holders.length, `round ${round}: nobody got the lease in 20 attempts`).to.equal(1);
        await Promise.all(holders.map((h) => h.release()));
      }
    });

    it('delivers published keys to the subscribers of every process, the publisher included', async function () {
      const [a, b] = [(await fleet.join()).coord, (await fleet.join()).coord];
      const seen = { a: [] as string[], b: [] as string[] };
      a.subscribe('test-topic', { keys: (k) => seen.a.push(...k), reset: () => undefined });
      b.subscribe('test-topic', { keys: (k) => seen.b.push(...k), reset: () => undefined });
      b.subscribe('other-topic', { keys: (k) => seen.b.push(...k.map((x) => `other:${x}`)), reset: () => undefined });
      // The storage backend reads events from the first poll on; give the subscribers' processes that first poll.
      await sleep(options.polled ? 300 : 0);
      await a.publish('test-topic', ['sha256:aa', 'sha256:bb']);
      await until(() => seen.a.length === 2 && seen.b.length === 2);
      expect(seen.a).to.deep.equal(['sha256:aa', 'sha256:bb']);
      expect(seen.b).to.deep.equal(['sha256:aa', 'sha256:bb']);
    });

    it('runs a single flight once for many waiters in many processes, and every waiter gets the result', async function () {
      const members = await Promise.all([0, 1, 2, 3].map(() => fleet.join()));
      const flights = members.map(({ coord }) => new SingleFlight(coord, quiet(), { ttlMs: options.ttlMs, pollMs: 50 }));
      let result: string | undefined;
      let leads = 0;
      const key = fresh();
      const flight = {
        ready: async () => result,
        lead: async () => {
          leads++;
          await sleep(300);
          result = 'fetched';
          return result;
        },
      };
      const answers = await Promise.all(flights.flatMap((f) => [f.run(key, flight), f.run(key, flight)]));
      expect(answers).to.deep.equal(Array(8).fill('fetched'));
      expect(leads).to.equal(1);
      flights.forEach((f) => f.close());
    });

    it('hands a single flight to a waiter when the leader fails, and that waiter leads it again', async function () {
      const [a, b] = [(await fleet.join()).coord, (await fleet.join()).coord];
      const [fa, fb] = [new SingleFlight(a, quiet(), { ttlMs: options.ttlMs, pollMs: 50 }), new SingleFlight(b, quiet(), { ttlMs: options.ttlMs, pollMs: 50 })];
      let result: string | undefined;
      const leaders: string[] = [];
      const key = fresh();
      let leading: () => void = () => undefined;
      const aLeads = new Promise<void>((resolve) => (leading = resolve));
      const failing = fa.run(key, {
        ready: async () => result,
        lead: async () => {
          leaders.push('a');
          leading();
          await sleep(200);
          throw new Error('upstream broke');
        },
      });
      // b asks once a leads, so it waits on a's lease.
      await aLeads;
      const waiting = fb.run(key, {
        ready: async () => result,
        lead: async () => {
          leaders.push('b');
          return (result = 'second try');
        },
      });
      expect(await failing.catch((err: Error) => err.message)).to.equal('upstream broke');
      expect(await waiting).to.equal('second try');
      expect(leaders).to.deep.equal(['a', 'b']);
      fa.close();
      fb.close();
    });

    it('runs a periodic job once per interval across the fleet, never twice at once, and records it in storage', async function () {
      const members = await Promise.all([0, 1, 2].map(() => fleet.join()));
      const name = fresh();
      let running = 0;
      let overlapped = false;
      const runs: number[] = [];
      const jobs = members.map(({ coord, driver }) =>
        scheduleExclusive(
          coord,
          driver,
          {
            name,
            intervalMs: 700,
            checkEveryMs: 50,
            ttlMs: options.ttlMs,
            run: async () => {
              running++;
              if (running > 1) overlapped = true;
              runs.push(Date.now());
              await sleep(100);
              running--;
              return { ok: true };
            },
          },
          quiet(),
        ),
      );
      const started = Date.now();
      await until(() => runs.length >= 3, 20_000);
      const elapsed = Date.now() - started;
      await Promise.all(jobs.map((j) => j.stop()));
      expect(overlapped).to.equal(false);
      // Three processes looking every 50 ms would run it dozens of times; once per 700 ms is the most allowed.
      expect(runs.length).to.be.at.most(Math.floor(elapsed / 700) + 1);
      // The interval counts from each run's record, written a storage call before run() is entered: allow for that.
      for (let i = 1; i < runs.length; i++) expect((runs[i] as number) - (runs[i - 1] as number)).to.be.at.least(500);
      const record = await readJobRecord((members[0] as { driver: StorageDriver }).driver, name);
      expect(record.lastSuccess).to.be.a('number');
      expect(record.result).to.deep.equal({ ok: true });
    });

    const quiet = (): Logger => fleet.logger;
  });
}

